"""Event-list exports: one writer per format, shared by the web and the command line.

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

import csv
import io
import json
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from urllib.parse import quote

from flask import Blueprint, Response, current_app, send_file, stream_with_context
from sqlalchemy import bindparam, tuple_
from sqlalchemy.orm import Session

from .db import get_session, new_session
from .filters import EventFilter
from .models import Event, EventFormat
from .views import campaign_zone, request_filter

CHUNK_SIZE = 500  # = selectinload's own IN-list size, so each batch is 3 statements
FORMATS = ("csv", "xlsx", "json", "ics")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "ics": "text/calendar; charset=utf-8",
}
FILE_PREFIX = "ipap2-events"

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
    starts_at_type = Event.__table__.c.starts_at.type

    def fetch(after: tuple[datetime, int] | None) -> list[Event]:
        stmt = flt.select_loaded().limit(chunk_size)
        if after is not None:
            # Typed binds: the row-value comparison must store instants as the column does.
            stmt = stmt.where(
                tuple_(Event.starts_at, Event.id)
                > tuple_(bindparam(None, after[0], type_=starts_at_type), bindparam(None, after[1]))
            )
        return session.scalars(stmt).unique().all()

    def rest(batch: list[Event]) -> Iterator[list[Event]]:
        while batch:
            yield batch
            if len(batch) < chunk_size:
                return
            batch = fetch((batch[-1].starts_at, batch[-1].id))

    return rest(fetch(None))


def counted(batches: Iterable[list[Event]], progress: Callable[[int], None]):
    for batch in batches:
        yield batch
        progress(len(batch))


# -- what a row says ---------------------------------------------------------------------


def event_url(site_url: str, event: Event) -> str:
    return f"{site_url.rstrip('/')}/events/{event.id}"


def _local(event: Event, instant: datetime) -> datetime:
    # Whole seconds: what Excel and people read; the offset makes the instant unambiguous.
    return instant.astimezone(event.zone).replace(microsecond=0)


def event_row(event: Event, site_url: str) -> dict:
    """One event as the spreadsheet columns, times as aware datetimes in the event's zone."""
    venue = event.venue
    return {
        "uid": event.uid,
        "title": event.title,
        "format": event.format,
        "status": event.status,
        "start": _local(event, event.starts_at),
        "end": _local(event, event.ends_at),
        "timezone": event.timezone,
        "venue": venue.name if venue else "",
        "city": venue.city if venue else "",
        "themes": "; ".join(t.name for t in event.themes_in_order),
        "partners": "; ".join(
            f"{lk.partner.name} ({lk.role_label})" for lk in event.partners_in_order
        ),
        "url": event_url(site_url, event),
        "online_url": event.online_url or "",
        "address": venue.address if venue else "",
        "expected_audience": event.expected_audience,
        "attendance": event.attendance,
        "sequence": event.sequence,
        "updated": _local(event, event.updated),
        "description": event.description or "",
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


# -- CSV ---------------------------------------------------------------------------------


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def write_csv(batches: Iterable[list[Event]], *, site_url: str) -> Iterator[bytes]:
    """UTF-8 with a BOM (so Excel reads č ć š ž đ), CRLF rows, one chunk per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def drain() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow(COLUMNS)
    yield "\ufeff".encode() + drain()
    for batch in batches:
        for event in batch:
            row = event_row(event, site_url)
            writer.writerow([_csv_text(row[c]) for c in COLUMNS])
        yield drain()


# -- JSON --------------------------------------------------------------------------------


def write_json(batches: Iterable[list[Event]], *, site_url: str) -> Iterator[bytes]:
    """``{"events": [...], "count": N}``, one event per line; the count comes last so the
    events can stream before they are all read."""
    yield b'{"events": ['
    count = 0
    for batch in batches:
        parts = []
        for event in batch:
            parts.append(("\n" if count == 0 else ",\n") + _dumps(event_json(event, site_url)))
            count += 1
        yield "".join(parts).encode("utf-8")
    yield (("\n" if count else "") + f'], "count": {count}}}\n').encode()


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


# -- XLSX --------------------------------------------------------------------------------

# Excel's limit per cell; a longer text makes Excel "repair" (and empty) the cell.
XLSX_MAX_TEXT = 32_767
XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_BLOCK = 64 * 1024
DATETIME_COLUMNS = ("start", "end", "updated")


def build_xlsx(batches: Iterable[list[Event]], *, site_url: str, title: str = "Events"):
    """The workbook in a temporary file (rewound), built with openpyxl's write-only mode:
    rows go straight to disk and strings are written inline, so memory stays flat."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Events")
    workbook.properties.title = title[:255]
    # Write-only sheets take views and column widths only before the first row.
    sheet.freeze_panes = "A2"
    for n, name in enumerate(COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(n)].width = COLUMN_WIDTHS[name]

    bold = Font(bold=True)
    header = []
    for name in COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)

    def text(value: str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if len(value) > XLSX_MAX_TEXT:
            value = value[: XLSX_MAX_TEXT - 1] + "…"
        if not is_formula_like(value) and value not in ERROR_CODES:
            return value
        # openpyxl reads "=…" as a formula and "#N/A" as an error: force plain text, and
        # mark formula-like text with Excel's own quote prefix so editing keeps it text.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        cell.quotePrefix = is_formula_like(value)
        return cell

    # The writer streams each cell as it comes, so one styled cell per date-time column
    # can carry every row's value: styles are looked up once, not once per cell.
    datetime_cells = {}
    for name in DATETIME_COLUMNS:
        datetime_cells[name] = WriteOnlyCell(sheet)
        datetime_cells[name].number_format = XLSX_DATETIME_FORMAT

    rows = 0
    for batch in batches:
        for event in batch:
            row = event_row(event, site_url)
            cells = []
            for name in COLUMNS:
                value = row[name]
                if name in datetime_cells:
                    # Excel has no zones: the local wall time, with the zone in its own column.
                    cell = datetime_cells[name]
                    cell.value = value.replace(tzinfo=None)
                    cells.append(cell)
                elif isinstance(value, str):
                    cells.append(text(value) if value else None)
                else:
                    cells.append(value)
            sheet.append(cells)
            rows += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{rows + 1}"

    out = tempfile.TemporaryFile()  # noqa: SIM115 - the caller sends and closes it
    workbook.save(out)
    out.seek(0)
    return out


def write_xlsx(batches: Iterable[list[Event]], *, site_url: str, title: str = "Events"):
    with build_xlsx(batches, site_url=site_url, title=title) as built:
        while block := built.read(XLSX_BLOCK):
            yield block


# -- ICS ---------------------------------------------------------------------------------


def write_ics(session: Session, flt: EventFilter):
    # The feeds' own renderer, so an ICS export and the feed of one filter are one thing.
    from .feeds import render_feed

    yield render_feed(session, flt)


# -- one entry point ---------------------------------------------------------------------


def export(
    fmt: str,
    session: Session,
    flt: EventFilter,
    *,
    site_url: str,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
    title: str = "Events",
) -> Iterator[bytes]:
    """The bytes of the ``fmt`` export of ``flt``; web and CLI both call this."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if fmt == "ics":
        return write_ics(session, flt)
    batches = event_batches(session, flt, chunk_size)
    if progress is not None:
        batches = counted(batches, progress)
    if fmt == "csv":
        return write_csv(batches, site_url=site_url)
    if fmt == "json":
        return write_json(batches, site_url=site_url)
    return write_xlsx(batches, site_url=site_url, title=title)


# -- file names --------------------------------------------------------------------------

# Serbian Cyrillic to Latin (gajica), then to ASCII for the plain `filename` parameter.
_CYRILLIC = dict(
    zip(
        "абвгдђежзијклљмнњопрстћуфхцчџш",
        ["a", "b", "v", "g", "d", "đ", "e", "ž", "z", "i", "j", "k", "l", "lj", "m"]
        + ["n", "nj", "o", "p", "r", "s", "t", "ć", "u", "f", "h", "c", "č", "dž", "š"],
        strict=True,
    )
)
_ASCII = {"đ": "dj", "ž": "z", "ć": "c", "č": "c", "š": "s"}


def _latin(text: str) -> str:
    return "".join(_CYRILLIC.get(ch, ch) for ch in text)


def _to_ascii(text: str) -> str:
    text = "".join(_ASCII.get(ch, ch) for ch in _latin(text))
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if ch.isascii() and not unicodedata.combining(ch))


def _slug(text: str) -> str:
    return re.sub(r"[\W_]+", "-", text.casefold()).strip("-")


def filename_words(flt: EventFilter) -> list[str]:
    words = [t.slug for t in flt.themes] + [p.slug for p in flt.partners]
    words += [EventFormat(f).value.replace("_", "-") for f in flt.formats]
    words += list(flt.cities) + list(flt.statuses)
    if flt.date_from:
        words.append(f"from-{flt.date_from.isoformat()}")
    if flt.date_to:
        words.append(f"to-{flt.date_to.isoformat()}")
    words += list(flt.words)
    return [s for s in (_slug(w) for w in words) if s]


def export_filename(flt: EventFilter, fmt: str, day: date) -> str:
    """``ipap2-events-cyber-security-2026-11-27.csv``: the filter's words, then the date."""
    middle = "-".join(filename_words(flt))[:80].strip("-")
    return "-".join(p for p in (FILE_PREFIX, middle, day.isoformat()) if p) + f".{fmt}"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` for old clients and RFC 5987 ``filename*``
    in UTF-8 for the rest (RFC 6266 section 4.3: clients prefer ``filename*``)."""
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "-", _to_ascii(filename)).strip("-") or "export"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# -- the web -----------------------------------------------------------------------------

bp = Blueprint("exports", __name__)


@bp.get("/events.<any(csv, xlsx, json):fmt>")
def export_events(fmt: str):
    """The list's events as a file; the filter is validated before a byte is sent."""
    flt = request_filter()
    filename = export_filename(flt, fmt, datetime.now(campaign_zone()).date())
    if fmt == "xlsx":
        # A zip cannot stream row by row: build it on disk, then send it with its length.
        built = build_xlsx(
            event_batches(get_session(), flt, chunk_size()),
            site_url=current_app.config["SITE_URL"],
            title=workbook_title(flt),
        )
        response = send_file(built, mimetype=MEDIA_TYPES[fmt], conditional=False)
    else:
        # The stream outlives the view's session (closed at teardown), so it reads through
        # a session of its own. The first batch is read here, inside the view (see
        # event_batches): if the database is down the client gets the 503 page.
        session = new_session()
        try:
            chunks = export_for_app(fmt, session, flt)
        except Exception:
            session.close()
            raise

        def body():
            try:
                yield from chunks
            finally:
                session.close()

        response = Response(stream_with_context(body()), content_type=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Organizers' exports hold drafts: never keep them in a shared cache.
    response.headers["Cache-Control"] = (
        "private, no-store" if flt.include_drafts else "public, max-age=0, must-revalidate"
    )
    response.vary.add("Cookie")
    return response


def chunk_size() -> int:
    return current_app.config.get("EXPORT_CHUNK_SIZE", CHUNK_SIZE)


def workbook_title(flt: EventFilter) -> str:
    described = flt.describe()
    name = current_app.config["CAMPAIGN_NAME"]
    return f"{name} — {described}" if described else name


def export_for_app(fmt: str, session: Session, flt: EventFilter, progress=None):
    """``export`` with this app's settings: what /events.csv and /events.json stream and
    what the command line writes, byte for byte."""
    return export(
        fmt,
        session,
        flt,
        site_url=current_app.config["SITE_URL"],
        chunk_size=chunk_size(),
        progress=progress,
        title=workbook_title(flt),
    )
