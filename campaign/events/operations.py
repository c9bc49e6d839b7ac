"""Every write to events happens here, together with its history and log line.

Routes and CLI commands parse and check access, then call one of these functions. Each
function is one transaction: it validates, writes, records who changed what, and commits
(or, on a conflict, rolls back and raises). Errors are UI-neutral: see core.errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from ..auth.models import User
from ..catalog.models import Partner, Theme, Venue
from ..core import validation as rules
from ..core.audit import log, who
from ..core.errors import ClashesFound, NotAllowed, ValidationError
from ..core.models import utcnow
from ..core.text import fold
from ..core.transactions import check_version
from ..core.transactions import commit as commit_or_conflict
from ..core.transactions import refuse as _refuse
from .models import (
    MAX_EVENT_DURATION,
    Event,
    EventChange,
    EventFormat,
    EventPartner,
    EventStatus,
    PartnerRole,
    event_themes,
)

# Changes to these make calendar clients replace their copy (RFC 5545 3.8.7.4).
SEQUENCE_FIELDS = ("start", "end", "timezone", "venue", "online_link", "status")


@dataclass
class EventData:
    title: str
    format: str
    status: str
    starts_at: datetime
    ends_at: datetime
    timezone: str = "Europe/Belgrade"
    venue: Venue | None = None
    online_url: str = ""
    description: str = ""
    themes: list[Theme] = field(default_factory=list)
    partners: list[tuple[Partner, str]] = field(default_factory=list)
    expected_audience: int | None = None
    attendance: int | None = None
    # Optional English texts for the English interface.
    title_en: str = ""
    description_en: str = ""
    # Why it was cancelled; kept only while the status is cancelled.
    cancel_reason: str = ""


def validate_event(
    data: EventData, current: Event | None = None, *, now: datetime | None = None
) -> None:
    """Refuse ``data`` (ValidationError naming each field) when it breaks a rule; with
    ``current``, the stored event it would replace, also when its status change does
    (:func:`status_change`)."""
    errors: dict[str, str] = {}
    title = data.title.strip()
    if not title:
        errors["title"] = gettext("Give the event a title.")
    elif len(title) > 200:
        errors["title"] = gettext(
            "The title is %(n)s characters long; at most 200 are allowed.", n=len(title)
        )
    if data.format not in EventFormat.__members__:
        errors["format"] = gettext("Choose panel, round table or seminar.")
    if data.status not in EventStatus.__members__:
        errors["status"] = gettext("Choose draft, confirmed or cancelled.")
    rules.add(errors, "timezone", rules.zone(data.timezone))
    if data.starts_at is None:
        errors["starts_at"] = gettext("Give the start date and time.")
    if data.ends_at is None:
        errors["ends_at"] = gettext("Give the end date and time.")
    for name in ("starts_at", "ends_at"):
        if name not in errors:
            rules.add(errors, name, rules.date_in_window(getattr(data, name)))
    # Compared as instants: two datetimes sharing one ZoneInfo compare by wall clock, and
    # 02:30-03:30 on the spring changeover day is no time at all.
    if "starts_at" not in errors and "ends_at" not in errors:
        order = rules.end_after_start(_instant(data.starts_at), _instant(data.ends_at))
        if order:
            errors["ends_at"] = order
        elif data.ends_at - data.starts_at > MAX_EVENT_DURATION:
            errors["ends_at"] = gettext(
                "An event can last at most %(n)s days.", n=MAX_EVENT_DURATION.days
            )
    if not data.themes:
        errors["themes"] = gettext("Choose at least one theme.")
    if data.online_url:
        rules.add(errors, "online_url", rules.web_url(data.online_url, gettext("The online link")))
    for name in ("expected_audience", "attendance"):
        rules.add(errors, name, rules.people(getattr(data, name)))
    for _partner, role in data.partners:
        if role not in PartnerRole.__members__:
            errors["partners"] = gettext("Unknown partner role '%(role)s'.", role=role)
    if len(data.description) > 100_000:
        errors["description"] = gettext("The description is too long (at most 100,000 characters).")
    if len(data.title_en.strip()) > 200:
        errors["title_en"] = gettext("The title can have at most 200 characters.")
    if len(data.description_en) > 100_000:
        errors["description_en"] = gettext(
            "The description is too long (at most 100,000 characters)."
        )
    rules.add(errors, "title_en", rules.text(data.title_en))
    rules.add(errors, "description_en", rules.text(data.description_en, multiline=True))
    rules.add(errors, "title", rules.text(data.title))
    rules.add(errors, "description", rules.text(data.description, multiline=True))
    rules.add(errors, "online_url", rules.text(data.online_url))
    rules.add(errors, "cancel_reason", rules.cancel_reason(data.cancel_reason))
    if current is not None:
        rules.add(errors, "status", status_change(current, data, now=now))
    if errors:
        raise ValidationError(errors)


def is_over(ends_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether an event ending at ``ends_at`` has ended (by ``now``, the current time)."""
    return ends_at is not None and _instant(ends_at) <= (now or datetime.now(UTC))


def status_change(current: Event, data: EventData, *, now: datetime | None = None) -> str | None:
    """What is wrong with giving the stored event ``current`` the status of ``data``
    (rules.status_change), or None. The event is over when it has ended, or would have
    ended with the new times: neither may be cancelled."""
    over = is_over(current.ends_at, now) or is_over(data.ends_at, now)
    return rules.status_change(current.status, data.status, over=over)


def allowed_statuses(event: Event, *, now: datetime | None = None) -> list[str]:
    """The statuses the edit form offers for the stored ``event``."""
    return rules.allowed_statuses(event.status, over=is_over(event.ends_at, now))


def _snapshot(data: EventData) -> dict[str, str]:
    """The event's fields as people read them, for the change history."""
    return {
        "title": data.title.strip(),
        "format": data.format,
        "status": data.status,
        "start": _iso(data.starts_at),
        "end": _iso(data.ends_at),
        "timezone": data.timezone,
        "venue": data.venue.label if data.venue else "",
        "online_link": data.online_url.strip(),
        "description": data.description,
        "themes": ", ".join(sorted({t.slug for t in data.themes})),
        "partners": ", ".join(sorted({f"{p.slug} ({role})" for p, role in data.partners})),
        "expected_audience": _text(data.expected_audience),
        "attendance": _text(data.attendance),
        "cancel_reason": _reason(data),
    }


def _reason(data: EventData) -> str:
    return data.cancel_reason.strip() if data.status == EventStatus.cancelled.value else ""


def event_data(event: Event) -> EventData:
    """The current values of a loaded event (venue, themes and partners loaded)."""
    return EventData(
        title=event.title,
        format=event.format,
        status=event.status,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        timezone=event.timezone,
        venue=event.venue,
        online_url=event.online_url,
        description=event.description,
        title_en=event.title_en,
        description_en=event.description_en,
        themes=list(event.themes),
        partners=[(lk.partner, lk.role) for lk in event.partner_links],
        expected_audience=event.expected_audience,
        attendance=event.attendance,
        cancel_reason=event.cancel_reason,
    )


def _instant(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value


def _text(value) -> str:
    return "" if value is None else str(value)


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def search_text(
    title: str,
    description: str,
    venue: str | None,
    partners: Iterable[str],
    themes: Iterable[str] = (),
) -> str:
    """What ``q`` searches: title, description, venue name and city, and the names of the partners
    and themes in every language (give both the Serbian and the English names)."""
    names = sorted({n for n in (*partners, *themes) if n})
    return fold("\n".join([title, description, venue or "", *names]))


def venue_search_name(name: str, city: str) -> str:
    """A venue as ``q`` finds it: by its name and its city."""
    return f"{name}\n{city}"


def _next_updated(previous: datetime, now: datetime) -> datetime:
    """The new ``updated`` of a changed event. Feeds publish it as DTSTAMP/LAST-MODIFIED,
    whole seconds only, and clients take a change with the same SEQUENCE only when
    DTSTAMP moved: it moves a full second past the last one."""
    return max(now, previous.replace(microsecond=0) + timedelta(seconds=1))


def catalog_entry_changed(
    session: Session,
    actor: User | None,
    condition,
    action: str,
    changes: dict[str, list[str]],
    *,
    significant: bool,
) -> int:
    """A theme, partner or venue that the events matching ``condition`` show was changed
    (``changes``, {field: [old, new]} as people read them, goes to each event's history
    under ``action``). What their VEVENTs say changed, so each of them gets a new
    ``updated`` (DTSTAMP/LAST-MODIFIED: clients compare them), a new search text and, for
    a ``significant`` change (RFC 5546 2.1.4; here the place, as SEQUENCE_FIELDS for an
    edit), a higher SEQUENCE; and a new row version, so that cached VEVENTs are replaced
    and an edit form opened before is refused rather than saved over it.

    Part of the caller's transaction (the caller commits); returns the number of events.
    """
    session.flush()  # the new names and addresses are what the search text is made of
    events = session.execute(
        select(Event.id, Event.title, Event.description, Event.venue_id, Event.updated)
        .where(condition)
        .order_by(Event.id)
        .with_for_update()
    ).all()
    if not events:
        return 0
    matching = select(Event.id).where(condition)
    venues = {
        vid: venue_search_name(name, city)
        for vid, name, city in session.execute(
            select(Venue.id, Venue.name, Venue.city).where(
                Venue.id.in_(select(Event.venue_id).where(condition))
            )
        )
    }
    partners: dict[int, list[str]] = {}
    for event_id, name, name_en in session.execute(
        select(EventPartner.event_id, Partner.name, Partner.name_en)
        .join(Partner, Partner.id == EventPartner.partner_id)
        .where(EventPartner.event_id.in_(matching))
    ):
        partners.setdefault(event_id, []).extend((name, name_en))
    themes: dict[int, list[str]] = {}
    for event_id, name, name_en in session.execute(
        select(event_themes.c.event_id, Theme.name, Theme.name_en)
        .join(Theme, Theme.id == event_themes.c.theme_id)
        .where(event_themes.c.event_id.in_(matching))
    ):
        themes.setdefault(event_id, []).extend((name, name_en))
    now = utcnow()
    table = Event.__table__
    # One statement for all of them; the version rises as the ORM's own UPDATE would.
    session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            search_text=bindparam("b_search_text"),
            updated=bindparam("b_updated", type_=table.c.updated.type),
            sequence=table.c.sequence + (1 if significant else 0),
            version=table.c.version + 1,
        ),
        [
            {
                "b_id": row.id,
                "b_search_text": search_text(
                    row.title,
                    row.description,
                    venues.get(row.venue_id),
                    partners.get(row.id, ()),
                    themes.get(row.id, ()),
                ),
                "b_updated": _next_updated(row.updated, now),
            }
            for row in events
        ],
    )
    user_id = actor.id if actor else None
    session.execute(
        insert(EventChange.__table__),
        [
            {
                "event_id": row.id,
                "user_id": user_id,
                "at": now,
                "action": action,
                "changes": changes,
            }
            for row in events
        ],
    )
    # Loaded copies of these events (this session keeps objects across commits) are old.
    ids = {row.id for row in events}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Event) and obj.id in ids:
            session.expire(obj)
    log.info(
        "events.%s actor=%s count=%s significant=%s",
        action.replace(" ", "_"),
        who(actor),
        len(events),
        significant,
    )
    return len(events)


def _apply(event: Event, data: EventData) -> None:
    event.title = data.title.strip()
    event.format = data.format
    event.status = data.status
    event.starts_at = data.starts_at
    event.ends_at = data.ends_at
    event.timezone = data.timezone
    event.venue = data.venue
    event.venue_id = data.venue.id if data.venue else None
    event.online_url = data.online_url.strip()
    event.description = data.description
    event.title_en = data.title_en.strip()
    event.description_en = data.description_en
    event.expected_audience = data.expected_audience
    event.attendance = data.attendance
    event.cancel_reason = _reason(data)
    # Keep the theme list stable and unique; order by name happens on load.
    seen: dict[int, Theme] = {}
    for theme in data.themes:
        seen.setdefault(theme.id, theme)
    event.themes = list(seen.values())
    wanted = {(p.id, role): p for p, role in data.partners}
    existing = {(lk.partner_id, lk.role): lk for lk in event.partner_links}
    links = [existing[key] for key in existing if key in wanted]
    for (pid, role), partner in wanted.items():
        if (pid, role) not in existing:
            link = EventPartner(partner_id=pid, role=role)
            link.partner = partner
            links.append(link)
    event.partner_links = links
    event.search_text = search_text(
        event.title,
        event.description,
        venue_search_name(data.venue.name, data.venue.city) if data.venue else None,
        [n for p, _role in data.partners for n in (p.name, p.name_en)],
        [n for t in data.themes for n in (t.name, t.name_en)],
    )


def _normalise_newlines(data: EventData) -> None:
    data.description = rules.normalise_newlines(data.description)


def _check_clashes(session: Session, event: Event, before: set[int], published: bool) -> None:
    """Before the commit: refuse (roll back, raise ClashesFound) when the written event
    clashes with an event it did not clash with before, or clashes at all and is being
    published now. The rule is events.clashes, run on the flushed row."""
    from .clashes import clashes_of

    session.flush()
    found = clashes_of(session, event)
    if any(c.other.id not in before for c in found) or (published and found):
        _refuse(session, ClashesFound(found))


def create_event(
    session: Session, actor: User | None, data: EventData, *, accept_clashes: bool = True
) -> Event:
    """Create the event; with ``accept_clashes=False`` a clash refuses it (ClashesFound)."""
    event = add_event(session, actor, data)
    if not accept_clashes:
        _check_clashes(session, event, set(), published=not event.is_draft)
    session.commit()
    _log("event.created", actor, event)
    return event


def add_event(session: Session, actor: User | None, data: EventData, series=None) -> Event:
    """A new event validated and added to the caller's transaction (not committed): the
    one way events are made, alone (:func:`create_event`) or as a series' occurrences."""
    _normalise_newlines(data)
    validate_event(data)
    now = utcnow()
    event = Event(
        series=series,
        uid=Event.new_uid(),
        sequence=0,
        created=now,
        updated=now,
        owner_id=actor.id if actor else None,
        themes=[],
        partner_links=[],
        changes=[],
    )
    _apply(event, data)
    event.changes.append(
        EventChange(user_id=actor.id if actor else None, at=now, action="created", changes={})
    )
    session.add(event)
    return event


def log_created(actor: User | None, event: Event, **extra) -> None:
    _log("event.created", actor, event, **extra)


def detach_from_series(
    session: Session, actor: User | None, event: Event, expected_version: int
) -> int:
    """Take one occurrence out of its series (it lives on as a single event); returns the
    series id. The row version (and so any cached VEVENT) and DTSTAMP move, SEQUENCE does
    not: time, place and status are unchanged."""
    if event.series_id is None:
        _refuse(session, NotAllowed(gettext("This event is not part of a series.")))
    _check_version(session, event, expected_version)
    series_id = event.series_id
    now = utcnow()
    event.series_id = None
    event.updated = _next_updated(event.updated, now)
    session.add(
        EventChange(
            event_id=event.id,
            user_id=actor.id if actor else None,
            at=now,
            action="detached",
            changes={"series": [str(series_id), ""]},
        )
    )
    _commit(session)
    _log("event.detached", actor, event, series=series_id)
    return series_id


def update_event(
    session: Session,
    actor: User | None,
    event: Event,
    data: EventData,
    expected_version: int,
    action: str = "updated",
    *,
    accept_clashes: bool = True,
    now: datetime | None = None,
) -> bool:
    """Apply ``data``; returns False when nothing changed. Raises ConflictError when stale;
    with ``accept_clashes=False``, ClashesFound when the change brings a new clash or
    publishes a clashing draft."""
    before_clashes: set[int] = set()
    publishing = False
    if not accept_clashes:
        from .clashes import clashes_of

        before_clashes = {c.other.id for c in clashes_of(session, event)}
        publishing = event.is_draft and data.status == EventStatus.confirmed.value
    diff = change_event(session, actor, event, data, expected_version, action, now=now)
    if not diff:
        return False
    if not accept_clashes and data.status != EventStatus.cancelled.value:
        _check_clashes(session, event, before_clashes, publishing)
    _commit(session)
    _log(f"event.{action}", actor, event, fields=",".join(sorted(diff)))
    return True


def change_event(
    session: Session,
    actor: User | None,
    event: Event,
    data: EventData,
    expected_version: int,
    action: str = "updated",
    *,
    now: datetime | None = None,
) -> dict:
    """Apply ``data`` in the caller's transaction (not committed); the changed fields, or
    an empty dict when nothing changed (then nothing moves: no SEQUENCE, no DTSTAMP).
    The status may change only as rules.status_change allows (``now``: the current time):
    a published event never goes back to draft, an event that is over is not cancelled."""
    _normalise_newlines(data)
    validate_event(data, event, now=now)
    _check_version(session, event, expected_version)
    before, after = _snapshot(event_data(event)), _snapshot(data)
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not diff:
        return {}
    _apply(event, data)
    now = utcnow()
    event.updated = _next_updated(event.updated, now)
    if any(k in diff for k in SEQUENCE_FIELDS):
        event.sequence += 1
    session.add(
        EventChange(
            event_id=event.id,
            user_id=actor.id if actor else None,
            at=now,
            action=action,
            changes=diff,
        )
    )
    return diff


def commit(session: Session) -> None:
    """Commit a transaction of event writes; a concurrent save is a ConflictError."""
    _commit(session)


def log_changed(actor: User | None, event: Event, action: str, diff: dict) -> None:
    _log(f"event.{action}", actor, event, fields=",".join(sorted(diff)))


def cancel_event(
    session: Session,
    actor: User | None,
    event: Event,
    expected_version: int,
    reason: str = "",
    *,
    now: datetime | None = None,
) -> None:
    """Cancel a published event that has not ended yet, with an optional ``reason``
    (shown on its page and in the feeds)."""
    _check_version(session, event, expected_version)
    if is_over(event.ends_at, now):
        _refuse(session, NotAllowed(rules.event_over()))
    if event.is_draft:
        _refuse(
            session,
            NotAllowed(gettext("A draft is not published; delete it instead of cancelling it.")),
        )
    if event.is_cancelled:
        _refuse(session, NotAllowed(gettext("This event is already cancelled.")))
    data = event_data(event)
    data.status = EventStatus.cancelled.value
    data.cancel_reason = rules.normalise_newlines(reason or "")
    update_event(session, actor, event, data, expected_version, action="cancelled", now=now)


def record_attendance(
    session: Session,
    actor: User | None,
    event: Event,
    attendance: int | None,
    expected_version: int,
) -> bool:
    """Set how many people came to a past event (the "Awaiting attendance" panel)."""
    if attendance is None:
        _refuse(
            session, ValidationError({"attendance": gettext("Give the number of people who came.")})
        )
    data = event_data(event)
    data.attendance = attendance
    return update_event(session, actor, event, data, expected_version, action="attendance")


def delete_event(session: Session, actor: User | None, event: Event, expected_version: int) -> None:
    _check_version(session, event, expected_version)
    if not event.is_draft:
        # Subscribed calendars only learn of a removal through STATUS:CANCELLED.
        _refuse(
            session,
            NotAllowed(gettext("Only drafts can be deleted; cancel a published event instead.")),
        )
    event_id, uid, title = event.id, event.uid, event.title
    session.delete(event)
    _commit(session)
    log.info(
        "event.deleted actor=%s actor_id=%s event=%s uid=%s title=%r",
        who(actor),
        actor.id if actor else "-",
        event_id,
        uid,
        title,
    )


def _check_version(session: Session, row, expected_version: int) -> None:
    check_version(
        session,
        row,
        expected_version,
        gettext("Someone else saved this event after you opened it. Nothing of yours was saved."),
    )


def _commit(session: Session) -> None:
    commit_or_conflict(
        session,
        gettext("Someone else saved this event at the same moment. Nothing of yours was saved."),
    )


def _log(what: str, actor: User | None, event: Event, **extra) -> None:
    details = "".join(f" {k}={v}" for k, v in extra.items())
    log.info(
        "%s actor=%s actor_id=%s event=%s uid=%s sequence=%s version=%s title=%r%s",
        what,
        who(actor),
        actor.id if actor else "-",
        event.id,
        event.uid,
        event.sequence,
        event.version,
        event.title,
        details,
    )


def import_events(
    session: Session, rows: Iterable[dict], batch_size: int = 2000, progress=None
) -> int:
    """Insert many prepared events at once (demo data, restores); each row a dict with
    the Event columns plus ``theme_ids`` and ``partners`` [(partner_id, role)].

    Rows must carry ``uid``, ``created`` and ``updated``; sequence starts at 0.
    """
    total = 0
    batch: list[dict] = []
    venue_names = {
        vid: venue_search_name(name, city)
        for vid, name, city in session.execute(select(Venue.id, Venue.name, Venue.city))
    }
    partner_names = {
        pid: (name, name_en)
        for pid, name, name_en in session.execute(select(Partner.id, Partner.name, Partner.name_en))
    }
    theme_names = {
        tid: (name, name_en)
        for tid, name, name_en in session.execute(select(Theme.id, Theme.name, Theme.name_en))
    }

    def flush():
        nonlocal total
        if not batch:
            return
        columns = [
            {k: v for k, v in row.items() if k not in ("theme_ids", "partners")} for row in batch
        ]
        # Plain executemany, then one look-up of the new ids by uid: the ORM's bulk
        # INSERT .. RETURNING in parameter order is an order of magnitude slower here.
        session.execute(insert(Event.__table__), columns)
        id_of = dict(
            session.execute(
                select(Event.uid, Event.id).where(Event.uid.in_([row["uid"] for row in batch]))
            ).all()
        )
        ids = [id_of[row["uid"]] for row in batch]
        theme_rows = [
            {"event_id": eid, "theme_id": tid}
            for eid, row in zip(ids, batch, strict=True)
            for tid in row["theme_ids"]
        ]
        partner_rows = [
            {"event_id": eid, "partner_id": pid, "role": role}
            for eid, row in zip(ids, batch, strict=True)
            for pid, role in row["partners"]
        ]
        change_rows = [
            {
                "event_id": eid,
                "user_id": row.get("owner_id"),
                "at": row["created"],
                "action": "created",
                "changes": {},
            }
            for eid, row in zip(ids, batch, strict=True)
        ]
        if theme_rows:
            session.execute(insert(event_themes), theme_rows)
        if partner_rows:
            session.execute(insert(EventPartner.__table__), partner_rows)
        session.execute(insert(EventChange.__table__), change_rows)
        session.commit()
        total += len(batch)
        if progress:
            progress(len(batch))
        batch.clear()

    for row in rows:
        row.setdefault("sequence", 0)
        row.setdefault("version", 1)
        row["search_text"] = search_text(
            row["title"],
            row.get("description", ""),
            venue_names.get(row.get("venue_id")),
            [n for pid, _role in row["partners"] for n in partner_names[pid]],
            [n for tid in row["theme_ids"] for n in theme_names[tid]],
        )
        batch.append(row)
        if len(batch) >= batch_size:
            flush()
    flush()
    # Fresh statistics, so the planner walks the start-time index for lists (SQLite
    # otherwise guesses that status is selective and sorts the whole table).
    session.execute(text("ANALYZE"))
    session.commit()
    log.info("events.imported count=%s", total)
    return total
