"""What an export row says: the events of a filter read in batches, shaped as rows.

Every export reads the events of one :class:`~campaign.filters.EventFilter` in batches
(keyset pagination over ``(starts_at, id)``) and hands them to a writer that yields bytes,
so memory stays flat however many events match and the response starts with the first
batch. The same filter and the same data give the same bytes from ``/events.csv`` and
from ``flask --app campaign export --format csv``; every ``url`` is built from
``SITE_URL`` for that reason, never from the request's host.

SQL statements per export: the filter's own look-ups (one per kind of slug or city given),
then for N events in batches of C (``EXPORT_CHUNK_SIZE``, default 500)
``3·⌈N/C⌉ + (1 if N mod C == 0 else 0)``: each batch is one SELECT of events joined to
their venues plus one ``selectinload`` each for themes and partners, and a last empty
SELECT when N fills its last batch exactly (including N = 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, tuple_
from sqlalchemy.orm import Session

from ..events.filters import EventFilter
from ..events.models import Event
from ..i18n import localized

CHUNK_SIZE = 500  # = selectinload's own IN-list size, so each batch is 3 statements
# The DESIGN.md columns first, in its order; then what reports also ask for.
COLUMNS = (
    "uid",
    "title",
    "format",
    "status",
    "start",
    "end",
    "timezone",
    "venue",
    "city",
    "themes",
    "partners",
    "url",
    "online_url",
    "address",
    "expected_audience",
    "attendance",
    "sequence",
    "updated",
    "description",
)
# Planning numbers: organizers' exports only (a public list shows public information).
INTERNAL_COLUMNS = ("expected_audience", "attendance")
PUBLIC_COLUMNS = tuple(c for c in COLUMNS if c not in INTERNAL_COLUMNS)
COLUMN_WIDTHS = {
    "uid": 40,
    "title": 50,
    "format": 12,
    "status": 11,
    "start": 17,
    "end": 17,
    "timezone": 17,
    "venue": 32,
    "city": 14,
    "themes": 40,
    "partners": 50,
    "url": 34,
    "online_url": 34,
    "address": 26,
    "expected_audience": 10,
    "attendance": 10,
    "sequence": 9,
    "updated": 17,
    "description": 60,
}


# -- reading -----------------------------------------------------------------------------


def keyset_page(
    session: Session, stmt, keys, after: tuple | None, limit: int, *, descending: bool = False
) -> list:
    """Up to ``limit`` rows of ``stmt`` (ordered by ``keys``) that come after the key
    ``after`` (None: from the start): one keyset page, for exports and the API alike."""
    page = stmt.limit(limit)
    if after is not None:
        # Typed binds: the row-value comparison must store instants as the column does.
        left = tuple_(*keys)
        right = tuple_(
            *(bindparam(None, v, type_=k.type) for k, v in zip(keys, after, strict=True))
        )
        page = page.where(left < right if descending else left > right)
    return session.scalars(page).unique().all()


def keyset_batches(
    session: Session, stmt, keys, chunk_size: int = CHUNK_SIZE, *, descending: bool = False
) -> Iterator[list]:
    """The rows of ``stmt`` (ordered by ``keys``, ORM columns ending in the id), read
    ``chunk_size`` at a time by keyset pagination; see :func:`event_batches`.

    The first batch is read at once, not on first iteration."""

    def fetch(after: tuple | None) -> list:
        return keyset_page(session, stmt, keys, after, chunk_size, descending=descending)

    def rest(batch: list) -> Iterator[list]:
        while batch:
            yield batch
            if len(batch) < chunk_size:
                return
            batch = fetch(tuple(getattr(batch[-1], k.key) for k in keys))

    return rest(fetch(None))


def event_batches(
    session: Session, flt: EventFilter, chunk_size: int = CHUNK_SIZE
) -> Iterator[list[Event]]:
    """The filter's events in start order, ``chunk_size`` at a time, fully loaded.

    Keyset pagination rather than OFFSET keeps every batch as cheap as the first. The
    session's identity map holds unmodified objects weakly, so a batch is freed once the
    writer has moved on and memory holds one batch whatever the total (bench/export.py
    measures it; expunging each event instead cost a fifth of the export's time).

    The first batch is read at once, not on first iteration: a database that is down
    fails the request while it can still answer 503, before a streamed 200 has begun.
    """
    return keyset_batches(session, flt.select_loaded(), (Event.starts_at, Event.id), chunk_size)


def events_after(
    session: Session, flt: EventFilter, after: tuple[datetime, int] | None, limit: int
) -> list[Event]:
    """One keyset page of the filter's events (fully loaded) after ``(starts_at, id)``."""
    return keyset_page(session, flt.select_loaded(), (Event.starts_at, Event.id), after, limit)


def counted(batches: Iterable[list[Event]], progress: Callable[[int], None]):
    for batch in batches:
        yield batch
        progress(len(batch))


# -- what a row says ---------------------------------------------------------------------


def event_url(site_url: str, event: Event) -> str:
    return f"{site_url.rstrip('/')}/events/{event.id}"


def _local(event: Event, instant: datetime) -> datetime:
    # Whole seconds: what Excel and people read; the offset makes the instant unambiguous.
    return event.local(instant).replace(microsecond=0)


def event_row(event: Event, site_url: str, *, for_people: bool = False) -> dict:
    """One event as the spreadsheet columns, times as aware datetimes in the event's zone.

    ``for_people`` (the XLSX) gives titles and names in the language and script being
    spoken; the CSV keeps them as entered."""
    venue = event.venue
    text = localized if for_people else getattr
    return {
        "uid": event.uid,
        "title": text(event, "title"),
        "format": event.format,
        "status": event.status,
        "start": _local(event, event.starts_at),
        "end": _local(event, event.ends_at),
        "timezone": event.timezone,
        "venue": text(venue, "name") if venue else "",
        "city": text(venue, "city") if venue else "",
        "themes": "; ".join(text(t, "name") for t in event.themes_in_order),
        "partners": "; ".join(
            f"{text(lk.partner, 'name')} ({lk.role_label})" for lk in event.partners_in_order
        ),
        "url": event_url(site_url, event),
        "online_url": event.online_url or "",
        "address": text(venue, "address") if venue else "",
        "expected_audience": event.expected_audience,
        "attendance": event.attendance,
        "sequence": event.sequence,
        "updated": _local(event, event.updated),
        "description": text(event, "description") or "",
    }


def event_json(event: Event, site_url: str) -> dict:
    """One event exactly as DESIGN.md's JSON export promises."""
    venue = event.venue
    return {
        "id": event.id,
        "uid": event.uid,
        "url": event_url(site_url, event),
        "title": event.title,
        "format": event.format,
        "status": event.status,
        "start": _local(event, event.starts_at).isoformat(),
        "end": _local(event, event.ends_at).isoformat(),
        "timezone": event.timezone,
        "venue": (
            {"name": venue.name, "city": venue.city, "address": venue.address} if venue else None
        ),
        "online_url": event.online_url or None,
        "themes": [t.slug for t in event.themes_in_order],
        "partners": [
            {"slug": lk.partner.slug, "name": lk.partner.name, "role": lk.role}
            for lk in event.partners_in_order
        ],
        "sequence": event.sequence,
        "updated": _local(event, event.updated).isoformat(),
        "description": event.description,
    }


# -- formula injection -------------------------------------------------------------------

# OWASP "CSV injection": a spreadsheet treats a cell starting with one of these as a formula
# (tab and CR because Excel strips them and then reads what follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: str) -> bool:
    return value.startswith(FORMULA_STARTS)


def neutralise(value: str) -> str:
    """Prefix a formula-like cell with a single quote, so a spreadsheet shows it as text."""
    return "'" + value if is_formula_like(value) else value


# -- what a table of rows is ----------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """What the writers need to know of one kind of row: its columns (in order), their
    widths and translated headers, which hold date-times, and how a record becomes a row
    (``row``: for CSV and XLSX) or a JSON object (``json``). ``name`` is the JSON key of
    the list and the sheet's name."""

    name: str
    columns: tuple[str, ...]
    widths: dict[str, int]
    labels: dict
    datetime_columns: tuple[str, ...]
    row: Callable[..., dict]
    json: Callable[[object, str], dict]
