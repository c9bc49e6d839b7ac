"""One writer per format: batches of events in, bytes out. :func:`export` is the one
pipeline (rows → writer) that the web and the command line both call."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..calendar import planned_media
from ..calendar.feeds import feed_of
from ..events.filters import EventFilter
from ..i18n import campaign_name
from .rows import (
    CHUNK_SIZE,
    COLUMN_WIDTHS,
    COLUMNS,
    PUBLIC_COLUMNS,
    Table,
    counted,
    event_batches,
    event_json,
    event_row,
    is_formula_like,
    neutralise,
)

# The XLSX header row: the msgids are the column names, so English reads exactly those.
COLUMN_LABELS = {
    "uid": _l("uid"),
    "title": _l("title"),
    "format": _l("format"),
    "status": _l("status"),
    "start": _l("start"),
    "end": _l("end"),
    "timezone": _l("timezone"),
    "venue": _l("venue"),
    "city": _l("city"),
    "themes": _l("themes"),
    "partners": _l("partners"),
    "url": _l("url"),
    "online_url": _l("online_url"),
    "address": _l("address"),
    "expected_audience": _l("expected_audience"),
    "attendance": _l("attendance"),
    "sequence": _l("sequence"),
    "updated": _l("updated"),
    "description": _l("description"),
}

DATETIME_COLUMNS = ("start", "end", "updated")

EVENTS = Table(
    name="events",
    columns=COLUMNS,
    widths=COLUMN_WIDTHS,
    labels=COLUMN_LABELS,
    datetime_columns=DATETIME_COLUMNS,
    row=event_row,
    json=event_json,
)

# What anyone may download: the same rows without the planning numbers (issue 16).
PUBLIC_EVENTS = dataclasses.replace(EVENTS, columns=PUBLIC_COLUMNS)

FORMATS = ("csv", "xlsx", "json", "ics")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "ics": "text/calendar; charset=utf-8",
}


# -- CSV ---------------------------------------------------------------------------------


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def write_csv(batches: Iterable[list], *, site_url: str, table: Table = EVENTS) -> Iterator[bytes]:
    """UTF-8 with a BOM (so Excel reads č ć š ž đ), CRLF rows, one chunk per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def drain() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow(table.columns)
    yield "\ufeff".encode() + drain()
    for batch in batches:
        for record in batch:
            row = table.row(record, site_url)
            writer.writerow([_csv_text(row[c]) for c in table.columns])
        yield drain()


# -- JSON --------------------------------------------------------------------------------


def write_json(batches: Iterable[list], *, site_url: str, table: Table = EVENTS) -> Iterator[bytes]:
    """``{"events": [...], "count": N}``, one record per line; the count comes last so the
    records can stream before they are all read."""
    yield f'{{"{table.name}": ['.encode()
    count = 0
    for batch in batches:
        parts = []
        for record in batch:
            parts.append(("\n" if count == 0 else ",\n") + _dumps(table.json(record, site_url)))
            count += 1
        yield "".join(parts).encode("utf-8")
    yield (("\n" if count else "") + f'], "count": {count}}}\n').encode()


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


# -- XLSX --------------------------------------------------------------------------------

# Excel's limit per cell; a longer text makes Excel "repair" (and empty) the cell.
XLSX_MAX_TEXT = 32_767
XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def repeated_offset(value: datetime) -> str | None:
    """``+02:00`` when the wall time ``value`` shows happens twice in its zone (the hour
    the clocks go back: 02:00-03:00 on the last Sunday of October in Belgrade), else
    None. Excel keeps no zone, so such a cell shows its offset as the CSV writes it."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        return None
    other = value.replace(fold=1 - value.fold)
    if other.utcoffset() == value.utcoffset():
        return None
    minutes = round(value.utcoffset().total_seconds() / 60)
    hours, minutes = divmod(abs(minutes), 60)
    return f"{'-' if value.utcoffset().total_seconds() < 0 else '+'}{hours:02d}:{minutes:02d}"


XLSX_BLOCK = 64 * 1024


def build_xlsx(
    batches: Iterable[list], *, site_url: str, title: str = "Events", table: Table = EVENTS
):
    """The workbook in a temporary file (rewound), built with openpyxl's write-only mode:
    rows go straight to disk and strings are written inline, so memory stays flat."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table.name.capitalize())
    workbook.properties.title = title[:255]
    # Write-only sheets take views and column widths only before the first row.
    sheet.freeze_panes = "A2"
    for n, name in enumerate(table.columns, 1):
        sheet.column_dimensions[get_column_letter(n)].width = table.widths[name]

    bold = Font(bold=True)
    header = []
    for name in table.columns:
        # English keeps the column names the contract lists; Serbian translates them.
        cell = WriteOnlyCell(sheet, value=str(table.labels.get(name, name)))
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
    for name in table.datetime_columns:
        datetime_cells[name] = WriteOnlyCell(sheet)
        datetime_cells[name].number_format = XLSX_DATETIME_FORMAT
    # The same for each (column, offset) a repeated wall time needs: a handful at most.
    repeated_cells = {}

    def datetime_cell(name: str, value: datetime):
        offset = repeated_offset(value)
        if offset is None:
            cell = datetime_cells[name]
        else:
            cell = repeated_cells.get((name, offset))
            if cell is None:
                cell = repeated_cells[(name, offset)] = WriteOnlyCell(sheet)
                cell.number_format = f'{XLSX_DATETIME_FORMAT} "{offset}"'
        cell.value = value.replace(tzinfo=None)
        return cell

    rows = 0
    for batch in batches:
        for record in batch:
            row = table.row(record, site_url, for_people=True)
            cells = []
            for name in table.columns:
                value = row[name]
                if name in datetime_cells and value is not None:
                    # Excel has no zones: the local wall time, with the zone in its own
                    # column (and the offset shown where the wall time happens twice).
                    cells.append(datetime_cell(name, value))
                elif isinstance(value, str):
                    cells.append(text(value) if value else None)
                else:
                    cells.append(value)
            sheet.append(cells)
            rows += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{rows + 1}"

    out = tempfile.TemporaryFile()  # noqa: SIM115 - the caller sends and closes it
    workbook.save(out)
    out.seek(0)
    return out


def write_xlsx(
    batches: Iterable[list], *, site_url: str, title: str = "Events", table: Table = EVENTS
):
    with build_xlsx(batches, site_url=site_url, title=title, table=table) as built:
        while block := built.read(XLSX_BLOCK):
            yield block


# -- ICS ---------------------------------------------------------------------------------


def write_ics(session: Session, flt: EventFilter, config) -> Iterator[bytes]:
    # The feed itself, so an ICS export and the feed of one filter are one thing: with
    # drafts it is an organizer's private feed, planned media appearances included.
    body, _etag = feed_of(session, flt, config, planned_media.for_filter(flt)).body()
    yield body


# -- one pipeline ------------------------------------------------------------------------


def workbook_title(flt: EventFilter, campaign_name: str) -> str:
    described = flt.describe()
    return f"{campaign_name} — {described}" if described else campaign_name


def export(
    fmt: str,
    session: Session,
    flt: EventFilter,
    config,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """The bytes of the ``fmt`` export of ``flt`` with an app's settings (``config``):
    what /events.csv etc. send and what the command line writes, byte for byte.

    The first batch of events is read before this returns (see event_batches)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if fmt == "ics":
        return write_ics(session, flt, config)
    batches = event_batches(session, flt, config.get("EXPORT_CHUNK_SIZE", CHUNK_SIZE))
    # Organizers' exports (the ones that may hold drafts) carry the planning numbers.
    table = EVENTS if flt.include_drafts else PUBLIC_EVENTS
    return export_rows(fmt, table, batches, config, workbook_title(flt, campaign_name()), progress)


def export_rows(
    fmt: str,
    table: Table,
    batches: Iterable[list],
    config,
    title: str,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """Batches of any kind of record (``table`` says how to read them) as CSV, JSON or
    XLSX: the part of the pipeline that events and media items share."""
    site_url = config["SITE_URL"]
    if progress is not None:
        batches = counted(batches, progress)
    if fmt == "csv":
        return write_csv(batches, site_url=site_url, table=table)
    if fmt == "json":
        return write_json(batches, site_url=site_url, table=table)
    if fmt == "xlsx":
        return write_xlsx(batches, site_url=site_url, title=title, table=table)
    raise ValueError(f"unknown export format {fmt!r}")
