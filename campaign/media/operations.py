"""Every write to media items happens here, with its history and log line.

As for events (see events.operations): one transaction per function, validated by the
rules of core.validation, optimistic locking by row version, errors that speak of the
data. A new outlet typed in the form is created in the same transaction as its item.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from ..auth.models import User
from ..catalog.models import Partner, PartnerKind, Theme
from ..core import validation as rules
from ..core.audit import log, who
from ..core.errors import NotAllowed, ValidationError
from ..core.models import utcnow
from ..core.text import fold
from ..core.transactions import check_version
from ..core.transactions import commit as commit_or_conflict
from ..core.transactions import refuse as _refuse
from ..events.models import Event
from ..translit import to_latin
from .models import (
    MediaItem,
    MediaItemChange,
    MediaKind,
    MediaStatus,
    MediaTone,
    media_item_events,
    media_item_themes,
)

MAX_HEADLINE = 300
MAX_SPOKESPERSON = 200
MAX_NOTES = 100_000


@dataclass
class MediaData:
    headline: str
    kind: str
    status: str
    published_at: datetime | None
    outlet: Partner | None = None
    # A new outlet (a partner of kind media) to create with the item, instead of ``outlet``.
    new_outlet: str = ""
    timezone: str = "Europe/Belgrade"
    link: str = ""
    spokesperson: str = ""
    themes: list[Theme] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    estimated_reach: int | None = None
    tone: str | None = None
    notes: str = ""


def validate_media(data: MediaData) -> None:
    errors: dict[str, str] = {}
    headline = data.headline.strip()
    if not headline:
        errors["headline"] = gettext("Give the headline.")
    rules.add(errors, "headline", rules.line_of_text(headline, limit=MAX_HEADLINE))
    if data.outlet is None and not data.new_outlet.strip():
        errors["outlet"] = gettext("Choose the outlet, or name a new one.")
    elif data.outlet is not None and data.outlet.kind != PartnerKind.media.value:
        errors["outlet"] = gettext(
            "“%(name)s” is not a media partner; choose an outlet.", name=data.outlet.name
        )
    elif data.outlet is None:
        new = data.new_outlet.strip()
        rules.add(errors, "new_outlet", rules.name(new))
        rules.add(errors, "new_outlet", rules.text(new))
    if data.kind not in MediaKind.__members__:
        errors["kind"] = gettext("Choose TV, radio, print, online, agency or social media.")
    if data.status not in MediaStatus.__members__:
        errors["status"] = gettext("Choose planned or published.")
    if data.tone is not None and data.tone not in MediaTone.__members__:
        errors["tone"] = gettext("Choose positive, neutral or negative, or leave the tone empty.")
    rules.add(errors, "timezone", rules.zone(data.timezone))
    if data.published_at is None:
        errors["published_at"] = gettext("Give the date and time of publication.")
    else:
        rules.add(errors, "published_at", rules.date_in_window(data.published_at))
    if data.link:
        rules.add(errors, "link", rules.web_url(data.link, gettext("The link")))
        rules.add(errors, "link", rules.text(data.link))
    rules.add(errors, "spokesperson", rules.line_of_text(data.spokesperson, limit=MAX_SPOKESPERSON))
    if not data.themes:
        errors["themes"] = gettext("Choose at least one theme.")
    rules.add(errors, "estimated_reach", rules.reach(data.estimated_reach))
    if len(data.notes) > MAX_NOTES:
        errors["notes"] = gettext("The notes are too long (at most 100,000 characters).")
    rules.add(errors, "notes", rules.text(data.notes, multiline=True))
    if errors:
        raise ValidationError(errors)


def media_data(item: MediaItem) -> MediaData:
    """The current values of a loaded item (outlet, themes and events loaded)."""
    return MediaData(
        headline=item.headline,
        kind=item.kind,
        status=item.status,
        published_at=item.published_at,
        outlet=item.outlet,
        timezone=item.timezone,
        link=item.link,
        spokesperson=item.spokesperson,
        themes=list(item.themes),
        events=list(item.events),
        estimated_reach=item.estimated_reach,
        tone=item.tone,
        notes=item.notes,
    )


def _snapshot(data: MediaData) -> dict[str, str]:
    return {
        "headline": data.headline.strip(),
        "outlet": data.outlet.name if data.outlet else data.new_outlet.strip(),
        "kind": data.kind,
        "status": data.status,
        "published": data.published_at.astimezone(UTC).isoformat() if data.published_at else "",
        "timezone": data.timezone,
        "link": data.link.strip(),
        "spokesperson": data.spokesperson.strip(),
        "themes": ", ".join(sorted({t.slug for t in data.themes})),
        "events": ", ".join(str(i) for i in sorted({e.id for e in data.events})),
        "estimated_reach": "" if data.estimated_reach is None else str(data.estimated_reach),
        "tone": data.tone or "",
        "notes": data.notes,
    }


def search_text(headline: str, spokesperson: str, outlet: str, outlet_en: str = "") -> str:
    """What ``q`` searches: headline, spokesperson and the outlet's names."""
    return fold("\n".join([headline, spokesperson, outlet, outlet_en]))


def outlet_renamed(session: Session, outlet: Partner) -> int:
    """The outlet's items find it by its new name: their search text is made again, in
    one statement. Part of the caller's transaction (catalog.operations.save_partner);
    returns the number of items."""
    session.flush()
    rows = session.execute(
        select(MediaItem.id, MediaItem.headline, MediaItem.spokesperson).where(
            MediaItem.outlet_id == outlet.id
        )
    ).all()
    if not rows:
        return 0
    table = MediaItem.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("b_id")).values(search_text=bindparam("b_q")),
        [
            {"b_id": i, "b_q": search_text(h, s, outlet.name, outlet.name_en or "")}
            for i, h, s in rows
        ],
    )
    # Loaded copies (this session keeps objects across commits) are old.
    ids = {row.id for row in rows}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, MediaItem) and obj.id in ids:
            session.expire(obj, ["search_text"])
    return len(rows)


def _outlet_slug(session: Session, name: str) -> str:
    base = unicodedata.normalize("NFKD", to_latin(name).replace("đ", "dj").replace("Đ", "Dj"))
    base = "".join(c for c in base if not unicodedata.combining(c)).lower()
    base = re.sub(r"[^a-z0-9]+", "-", base).strip("-")[:60].strip("-") or "outlet"
    taken = set(session.scalars(select(Partner.slug).where(Partner.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _resolve_outlet(session: Session, data: MediaData) -> None:
    """A new outlet's name becomes a media partner (or the existing one of that name)."""
    if data.outlet is not None:
        return
    name = data.new_outlet.strip()
    existing = session.scalar(
        select(Partner)
        .where(func.lower(Partner.name) == name.lower(), Partner.kind == PartnerKind.media.value)
        .limit(1)
    )
    if existing is None:
        existing = Partner(
            name=name, slug=_outlet_slug(session, name), kind=PartnerKind.media.value
        )
        session.add(existing)
        session.flush()
        log.info("partner.created_as_outlet id=%s name=%r", existing.id, name)
    data.outlet, data.new_outlet = existing, ""


def _apply(item: MediaItem, data: MediaData) -> None:
    item.headline = data.headline.strip()
    item.outlet = data.outlet
    item.outlet_id = data.outlet.id
    item.kind = data.kind
    item.status = data.status
    item.published_at = data.published_at
    item.timezone = data.timezone
    item.link = data.link.strip()
    item.spokesperson = data.spokesperson.strip()
    item.estimated_reach = data.estimated_reach
    item.tone = data.tone or None
    item.notes = data.notes
    item.themes = list({t.id: t for t in data.themes}.values())
    item.events = list({e.id: e for e in data.events}.values())
    item.search_text = search_text(
        item.headline, item.spokesperson, data.outlet.name, data.outlet.name_en or ""
    )


def _normalise(data: MediaData) -> None:
    data.notes = rules.normalise_newlines(data.notes)
    data.tone = data.tone or None


def create_media(session: Session, actor: User | None, data: MediaData) -> MediaItem:
    _normalise(data)
    validate_media(data)
    _resolve_outlet(session, data)
    now = utcnow()
    item = MediaItem(
        created=now,
        updated=now,
        owner_id=actor.id if actor else None,
        themes=[],
        events=[],
        changes=[],
    )
    _apply(item, data)
    item.changes.append(
        MediaItemChange(user_id=actor.id if actor else None, at=now, action="created", changes={})
    )
    session.add(item)
    session.commit()
    _log("media.created", actor, item)
    return item


def update_media(
    session: Session,
    actor: User | None,
    item: MediaItem,
    data: MediaData,
    expected_version: int,
    action: str = "updated",
) -> bool:
    """Apply ``data``; False when nothing changed. ConflictError when the edit is stale."""
    _normalise(data)
    validate_media(data)
    _check_version(session, item, expected_version)
    before, after = _snapshot(media_data(item)), _snapshot(data)
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not diff:
        return False
    _resolve_outlet(session, data)
    _apply(item, data)
    now = utcnow()
    item.updated = max(now, item.updated + timedelta(microseconds=1))
    session.add(
        MediaItemChange(
            media_item_id=item.id,
            user_id=actor.id if actor else None,
            at=now,
            action=action,
            changes=diff,
        )
    )
    _commit(session)
    _log(f"media.{action}", actor, item, fields=",".join(sorted(diff)))
    return True


def withdraw_media(
    session: Session, actor: User | None, item: MediaItem, expected_version: int
) -> None:
    """A published item back to planned (e.g. it was announced but never ran)."""
    _check_version(session, item, expected_version)
    if item.is_planned:
        _refuse(session, NotAllowed(gettext("This item is not published.")))
    data = media_data(item)
    data.status = MediaStatus.planned.value
    update_media(session, actor, item, data, expected_version, action="withdrawn")


def delete_media(
    session: Session, actor: User | None, item: MediaItem, expected_version: int
) -> None:
    _check_version(session, item, expected_version)
    if not item.is_planned:
        _refuse(
            session,
            NotAllowed(
                gettext("Only planned items can be deleted; withdraw a published item instead.")
            ),
        )
    item_id, headline = item.id, item.headline
    session.delete(item)
    _commit(session)
    log.info(
        "media.deleted actor=%s actor_id=%s media=%s headline=%r",
        who(actor),
        actor.id if actor else "-",
        item_id,
        headline,
    )


def import_media_items(session: Session, rows, batch_size: int = 2000) -> int:
    """Insert many prepared items at once (demo data, benchmarks); each row a dict with
    the MediaItem columns plus ``theme_ids`` and ``event_ids``. Rows must carry distinct
    links (the new ids are looked up by link), ``created`` and ``updated``; each item gets
    its "created" history entry and its search text. One transaction per batch."""
    outlets = {
        pid: (name, name_en or "")
        for pid, name, name_en in session.execute(select(Partner.id, Partner.name, Partner.name_en))
    }
    items, themes_, events_, changes = (
        MediaItem.__table__,
        media_item_themes,
        media_item_events,
        MediaItemChange.__table__,
    )
    total = 0
    batch: list[dict] = []

    def flush() -> None:
        nonlocal total
        if not batch:
            return
        session.execute(
            insert(items),
            [
                {k: v for k, v in row.items() if k not in ("theme_ids", "event_ids")}
                for row in batch
            ],
        )
        id_of = dict(
            session.execute(
                select(MediaItem.link, MediaItem.id).where(
                    MediaItem.link.in_([row["link"] for row in batch])
                )
            ).all()
        )
        ids = [id_of[row["link"]] for row in batch]
        pairs = list(zip(ids, batch, strict=True))
        theme_rows = [{"media_item_id": i, "theme_id": t} for i, r in pairs for t in r["theme_ids"]]
        event_rows = [{"media_item_id": i, "event_id": e} for i, r in pairs for e in r["event_ids"]]
        if theme_rows:
            session.execute(insert(themes_), theme_rows)
        if event_rows:
            session.execute(insert(events_), event_rows)
        session.execute(
            insert(changes),
            [
                {"media_item_id": i, "user_id": r.get("owner_id"), "at": r["created"],
                 "action": "created", "changes": {}}
                for i, r in pairs
            ],
        )  # fmt: skip
        session.commit()
        total += len(batch)
        batch.clear()

    for row in rows:
        row.setdefault("version", 1)
        row.setdefault("notes", "")
        row.setdefault("spokesperson", "")
        row["search_text"] = search_text(
            row["headline"], row["spokesperson"], *outlets[row["outlet_id"]]
        )
        batch.append(row)
        if len(batch) >= batch_size:
            flush()
    flush()
    # Fresh statistics, so the planner uses the reach report's covering index.
    session.execute(text("ANALYZE"))
    session.commit()
    log.info("media.imported count=%s", total)
    return total


def _check_version(session: Session, row, expected_version: int) -> None:
    check_version(
        session,
        row,
        expected_version,
        gettext("Someone else saved this item after you opened it. Nothing of yours was saved."),
    )


def _commit(session: Session) -> None:
    commit_or_conflict(
        session,
        gettext("Someone else saved this item at the same moment. Nothing of yours was saved."),
    )


def _log(what: str, actor: User | None, item: MediaItem, **extra) -> None:
    details = "".join(f" {k}={v}" for k, v in extra.items())
    log.info(
        "%s actor=%s actor_id=%s media=%s version=%s headline=%r%s",
        what,
        who(actor),
        actor.id if actor else "-",
        item.id,
        item.version,
        item.headline,
        details,
    )
