"""Every write to the campaign's data happens here, together with its history and log line.

Routes and CLI commands parse and check access, then call one of these functions. Each
function is one transaction: it validates, writes, records who changed what, and commits.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.security import generate_password_hash

from .models import (
    MAX_EVENT_DURATION,
    Event,
    EventChange,
    EventFormat,
    EventPartner,
    EventStatus,
    Partner,
    PartnerKind,
    PartnerRole,
    Theme,
    User,
    UserRole,
    Venue,
    event_themes,
    fold,
    utcnow,
)

log = logging.getLogger("campaign.operations")

# Changes to these make calendar clients replace their copy (RFC 5545 3.8.7.4).
SEQUENCE_FIELDS = ("start", "end", "timezone", "venue", "online_link", "status")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Control characters (C0 but tab and line feed, DEL, C1) and the non-characters U+FFFE/FFFF.
# XML 1.0 (XLSX) cannot carry C0 controls, iCalendar TEXT forbids them (RFC 5545 3.3.11)
# and on a page they are invisible: refused rather than silently dropped.
CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
LINE_BREAK_RE = re.compile("[\t\n]")


def check_text(value: str, name: str, errors: dict[str, str], *, multiline: bool = False) -> None:
    """Refuse characters that no page, feed or export can carry faithfully."""
    bad = CONTROL_RE.search(value) or (None if multiline else LINE_BREAK_RE.search(value))
    if bad and name not in errors:
        what = f"U+{ord(bad.group()):04X}"
        allowed = " (line breaks and tabs are fine)" if multiline else ""
        errors[name] = (
            f"Remove the invisible control character {what} at position {bad.start() + 1}{allowed}."
        )


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_iana_zone(name: str) -> bool:
    return name in _zone_names()


def hash_password(password: str) -> str:
    # scrypt by default; tests may choose a cheaper method through the config.
    method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
    return generate_password_hash(password, method=method)


class ValidationError(ValueError):
    """Input that breaks a rule; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class ConflictError(Exception):
    """Someone else saved the record after this edit began; nothing was written."""


class NotAllowed(Exception):
    """The operation is not possible for this record (e.g. deleting a published event)."""


# -- events ------------------------------------------------------------------------------


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


def validate_event(data: EventData) -> None:
    errors: dict[str, str] = {}
    title = data.title.strip()
    if not title:
        errors["title"] = "Give the event a title."
    elif len(title) > 200:
        errors["title"] = f"The title is {len(title)} characters long; at most 200 are allowed."
    if data.format not in EventFormat.__members__:
        errors["format"] = "Choose panel, round table or seminar."
    if data.status not in EventStatus.__members__:
        errors["status"] = "Choose draft, confirmed or cancelled."
    if not is_iana_zone(data.timezone):
        errors["timezone"] = (
            f"'{data.timezone}' is not an IANA time zone; use a name such as Europe/Belgrade."
        )
    if data.starts_at is None:
        errors["starts_at"] = "Give the start date and time."
    if data.ends_at is None:
        errors["ends_at"] = "Give the end date and time."
    # Compared as instants: two datetimes sharing one ZoneInfo compare by wall clock, and
    # 02:30-03:30 on the spring changeover day is no time at all.
    if data.starts_at and data.ends_at and _instant(data.ends_at) <= _instant(data.starts_at):
        errors["ends_at"] = "The end must be after the start."
    elif data.starts_at and data.ends_at and data.ends_at - data.starts_at > MAX_EVENT_DURATION:
        errors["ends_at"] = f"An event can last at most {MAX_EVENT_DURATION.days} days."
    if not data.themes:
        errors["themes"] = "Choose at least one theme."
    if data.online_url:
        parts = urlsplit(data.online_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in data.online_url:
            errors["online_url"] = "The online link must be a web address starting with https://."
        elif len(data.online_url) > 500:
            errors["online_url"] = "The online link is too long (at most 500 characters)."
    for name in ("expected_audience", "attendance"):
        value = getattr(data, name)
        if value is not None and not 0 <= value <= 10_000_000:
            errors[name] = "Give a number of people, zero or more."
    for _partner, role in data.partners:
        if role not in PartnerRole.__members__:
            errors["partners"] = f"Unknown partner role '{role}'."
    if len(data.description) > 100_000:
        errors["description"] = "The description is too long (at most 100,000 characters)."
    check_text(data.title, "title", errors)
    check_text(data.description, "description", errors, multiline=True)
    check_text(data.online_url, "online_url", errors)
    if errors:
        raise ValidationError(errors)


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
    }


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
        themes=list(event.themes),
        partners=[(lk.partner, lk.role) for lk in event.partner_links],
        expected_audience=event.expected_audience,
        attendance=event.attendance,
    )


def _instant(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value


def _text(value) -> str:
    return "" if value is None else str(value)


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def search_text(title: str, description: str, venue: str | None, partners: Iterable[str]) -> str:
    return fold("\n".join([title, description, venue or "", *sorted(partners)]))


def _refresh_search_text(session: Session, condition) -> None:
    """Recompute search_text of the events matching ``condition`` (after a rename)."""
    events = session.scalars(
        select(Event)
        .where(condition)
        .options(
            joinedload(Event.venue),
            selectinload(Event.partner_links).joinedload(EventPartner.partner),
        )
    ).all()
    for event in events:
        event.search_text = search_text(
            event.title,
            event.description,
            event.venue.name if event.venue else None,
            [lk.partner.name for lk in event.partner_links],
        )


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
    event.expected_audience = data.expected_audience
    event.attendance = data.attendance
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
        data.venue.name if data.venue else None,
        [p.name for p, _role in data.partners],
    )


def _normalise_newlines(data: EventData) -> None:
    # Browsers send CRLF from a textarea; the stored text has plain line feeds (a lone CR
    # is still refused by validate_event, as a control character).
    data.description = data.description.replace("\r\n", "\n")


def create_event(session: Session, actor: User | None, data: EventData) -> Event:
    _normalise_newlines(data)
    validate_event(data)
    now = utcnow()
    event = Event(
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
    session.commit()
    _log("event.created", actor, event)
    return event


def update_event(
    session: Session,
    actor: User | None,
    event: Event,
    data: EventData,
    expected_version: int,
    action: str = "updated",
) -> bool:
    """Apply ``data``; returns False when nothing changed. Raises ConflictError when stale."""
    _normalise_newlines(data)
    validate_event(data)
    _check_version(event, expected_version)
    before, after = _snapshot(event_data(event)), _snapshot(data)
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not diff:
        return False
    _apply(event, data)
    now = utcnow()
    # Feeds publish `updated` as DTSTAMP/LAST-MODIFIED, whole seconds only, and clients
    # take a change with the same SEQUENCE only when DTSTAMP moved: move it a full second.
    event.updated = max(now, event.updated.replace(microsecond=0) + timedelta(seconds=1))
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
    _commit(session)
    _log(f"event.{action}", actor, event, fields=",".join(sorted(diff)))
    return True


def cancel_event(session: Session, actor: User | None, event: Event, expected_version: int) -> None:
    _check_version(event, expected_version)
    if event.is_draft:
        raise NotAllowed("A draft is not published; delete it instead of cancelling it.")
    if event.is_cancelled:
        raise NotAllowed("This event is already cancelled.")
    data = event_data(event)
    data.status = EventStatus.cancelled.value
    update_event(session, actor, event, data, expected_version, action="cancelled")


def delete_event(session: Session, actor: User | None, event: Event, expected_version: int) -> None:
    _check_version(event, expected_version)
    if not event.is_draft:
        # Subscribed calendars only learn of a removal through STATUS:CANCELLED.
        raise NotAllowed("Only drafts can be deleted; cancel a published event instead.")
    event_id, uid, title = event.id, event.uid, event.title
    session.delete(event)
    _commit(session)
    log.info(
        "event.deleted actor=%s actor_id=%s event=%s uid=%s title=%r",
        _who(actor),
        actor.id if actor else "-",
        event_id,
        uid,
        title,
    )


def _check_version(event: Event, expected_version: int) -> None:
    if expected_version != event.version:
        raise ConflictError(
            "Someone else saved this event after you opened it. Nothing of yours was saved; "
            "the form now shows their version."
        )


def _commit(session: Session) -> None:
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise ConflictError(
            "Someone else saved this event at the same moment. Nothing of yours was saved."
        ) from None


def _who(actor: User | None) -> str:
    return actor.email if actor else "system"


def _log(what: str, actor: User | None, event: Event, **extra) -> None:
    details = "".join(f" {k}={v}" for k, v in extra.items())
    log.info(
        "%s actor=%s actor_id=%s event=%s uid=%s sequence=%s version=%s title=%r%s",
        what,
        _who(actor),
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
    venue_names = dict(session.execute(select(Venue.id, Venue.name)).all())
    partner_names = dict(session.execute(select(Partner.id, Partner.name)).all())

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
            {partner_names[pid] for pid, _role in row["partners"]},
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


# -- themes, partners, venues ------------------------------------------------------------


def _check_slug(slug: str, errors: dict[str, str]) -> None:
    if not slug:
        errors["slug"] = "Give a slug (lowercase letters, digits and hyphens)."
    elif len(slug) > 80 or not SLUG_RE.match(slug):
        errors["slug"] = (
            "Use lowercase letters, digits and single hyphens only, e.g. cyber-security."
        )


def _check_unique(session: Session, model, column, value, current_id, errors, name) -> None:
    q = select(func.count()).select_from(model).where(column == value)
    if current_id is not None:
        q = q.where(model.id != current_id)
    if session.scalar(q):
        errors[name] = f"'{value}' is already used by another {model.__name__.lower()}."


def _check_texts(values: dict, lines: tuple, texts: tuple, errors: dict[str, str]) -> None:
    for name in lines + texts:
        if isinstance(values.get(name), str):
            check_text(values[name], name, errors, multiline=name in texts)


def _save(session: Session, actor: User | None, obj, what: str) -> None:
    session.add(obj)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ValidationError(
            {"slug": "That slug was taken a moment ago; choose another."}
        ) from None
    log.info("%s.saved actor=%s id=%s", what, _who(actor), obj.id)


def save_theme(session: Session, actor: User | None, theme: Theme | None, **values) -> Theme:
    errors: dict[str, str] = {}
    values["slug"] = values.get("slug", "").strip()
    values["name"] = values.get("name", "").strip()
    _check_slug(values["slug"], errors)
    if not values["name"] or len(values["name"]) > 200:
        errors["name"] = "Give a name of 1 to 200 characters."
    colour = values.get("colour") or "#1f5f99"
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
        errors["colour"] = "Give a colour as #rrggbb."
    values["colour"] = colour.lower()
    _check_texts(values, ("name",), ("description", "key_messages"), errors)
    if "slug" not in errors:
        _check_unique(
            session, Theme, Theme.slug, values["slug"], theme and theme.id, errors, "slug"
        )
    if errors:
        raise ValidationError(errors)
    theme = theme or Theme()
    for k, v in values.items():
        setattr(theme, k, v)
    _save(session, actor, theme, "theme")
    return theme


def save_partner(
    session: Session, actor: User | None, partner: Partner | None, **values
) -> Partner:
    errors: dict[str, str] = {}
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    _check_slug(values.get("slug", ""), errors)
    if not values.get("name") or len(values["name"]) > 200:
        errors["name"] = "Give a name of 1 to 200 characters."
    if values.get("kind") not in PartnerKind.__members__:
        errors["kind"] = "Choose what kind of partner this is."
    website = values.get("website") or ""
    if website and (
        urlsplit(website).scheme not in ("http", "https") or not urlsplit(website).netloc
    ):
        errors["website"] = "The website must start with http:// or https://."
    _check_texts(
        values, ("name", "city", "contact_name", "contact_phone", "website"), ("notes",), errors
    )
    email = values.get("contact_email") or ""
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        errors["contact_email"] = "Give a valid e-mail address."
    if "slug" not in errors:
        _check_unique(
            session, Partner, Partner.slug, values["slug"], partner and partner.id, errors, "slug"
        )
    if errors:
        raise ValidationError(errors)
    renamed = partner is not None and partner.name != values.get("name")
    partner = partner or Partner()
    for k, v in values.items():
        setattr(partner, k, v)
    if renamed:
        session.flush()
        _refresh_search_text(
            session,
            Event.id.in_(
                select(EventPartner.event_id).where(EventPartner.partner_id == partner.id)
            ),
        )
    _save(session, actor, partner, "partner")
    return partner


def save_venue(session: Session, actor: User | None, venue: Venue | None, **values) -> Venue:
    errors: dict[str, str] = {}
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    if not values.get("name") or len(values["name"]) > 200:
        errors["name"] = "Give a name of 1 to 200 characters."
    if not values.get("city") or len(values["city"]) > 100:
        errors["city"] = "Give the city (1 to 100 characters)."
    lat, lon = values.get("latitude"), values.get("longitude")
    if lat is not None and not -90 <= lat <= 90:
        errors["latitude"] = "Latitude lies between -90 and 90."
    if lon is not None and not -180 <= lon <= 180:
        errors["longitude"] = "Longitude lies between -180 and 180."
    if (lat is None) != (lon is None):
        errors["longitude" if lon is None else "latitude"] = (
            "Give both latitude and longitude, or neither."
        )
    _check_texts(values, ("name", "city", "address"), (), errors)
    cap = values.get("capacity")
    if cap is not None and not 0 <= cap <= 10_000_000:
        errors["capacity"] = "Give a capacity of zero or more people (at most 10,000,000)."
    if errors:
        raise ValidationError(errors)
    renamed = venue is not None and venue.name != values.get("name")
    venue = venue or Venue()
    for k, v in values.items():
        setattr(venue, k, v)
    if renamed:
        session.flush()
        _refresh_search_text(session, Event.venue_id == venue.id)
    _save(session, actor, venue, "venue")
    return venue


def delete_catalog_entry(session: Session, actor: User | None, obj) -> None:
    """Delete a theme, partner or venue that no event uses."""
    if isinstance(obj, Theme):
        used = (
            select(func.count()).select_from(event_themes).where(event_themes.c.theme_id == obj.id)
        )
    elif isinstance(obj, Partner):
        used = (
            select(func.count()).select_from(EventPartner).where(EventPartner.partner_id == obj.id)
        )
    else:
        used = select(func.count()).select_from(Event).where(Event.venue_id == obj.id)
    n = session.scalar(used)
    if n:
        raise NotAllowed(
            f"{n} event(s) use this {type(obj).__name__.lower()}; it cannot be deleted."
        )
    session.delete(obj)
    session.commit()
    log.info("%s.deleted actor=%s id=%s", type(obj).__name__.lower(), _who(actor), obj.id)


# -- users -------------------------------------------------------------------------------


def create_user(
    session: Session, actor: User | None, email: str, password: str, role: str, name: str = ""
) -> User:
    errors: dict[str, str] = {}
    email = email.strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) or len(email) > 254:
        errors["email"] = f"'{email}' is not an e-mail address."
    elif session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        errors["email"] = f"An account for {email} already exists."
    if role not in UserRole.__members__:
        errors["role"] = "The role must be admin or organizer."
    if len(password) < 10:
        errors["password"] = "The password must have at least 10 characters."
    check_text(name, "name", errors)
    if errors:
        raise ValidationError(errors)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password),
        feed_token=secrets.token_urlsafe(24),
        active=True,
    )
    session.add(user)
    session.commit()
    log.info("user.created actor=%s user=%s role=%s", _who(actor), email, role)
    return user


def update_user(
    session: Session, actor: User, user: User, *, role: str, active: bool, name: str
) -> None:
    errors: dict[str, str] = {}
    if role not in UserRole.__members__:
        errors["role"] = "The role must be admin or organizer."
    check_text(name, "name", errors)
    if errors:
        raise ValidationError(errors)
    if user.id == actor.id and (role != UserRole.admin.value or not active):
        raise NotAllowed("You cannot remove your own admin rights or deactivate yourself.")
    user.role, user.active, user.name = role, active, name.strip()[:200]
    session.commit()
    log.info(
        "user.updated actor=%s user=%s role=%s active=%s", _who(actor), user.email, role, active
    )


def set_password(session: Session, actor: User | None, user: User, password: str) -> None:
    if len(password) < 10:
        raise ValidationError({"password": "The password must have at least 10 characters."})
    user.password_hash = hash_password(password)
    session.commit()
    log.info("user.password_changed actor=%s user=%s", _who(actor), user.email)


def regenerate_feed_token(session: Session, actor: User, user: User) -> str:
    user.feed_token = secrets.token_urlsafe(24)
    session.commit()
    log.info("user.feed_token_regenerated actor=%s user=%s", _who(actor), user.email)
    return user.feed_token
