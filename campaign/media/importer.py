"""Import from a press-clipping service: a CSV file or an XLSX workbook (its first sheet)
with the columns date, outlet, kind, headline, link, reach, themes. ``read_file`` takes
a name ending in .csv or .xlsx (any other is refused, naming its type) whose content is
what the name says (an XLSX is a ZIP archive; a CSV is text); a name without an extension
lets the content decide.

The whole file is read and checked for shape first (encoding, header, CSV syntax, a
workbook that opens): a malformed file writes nothing. Then each row goes through the operations layer on its
own (one transaction each) and is reported as created, updated (an item with the same
link exists: the link identifies an item), unchanged, or refused with the reason; a
refused row leaves the data as it was. Importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import filetype
from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..auth.models import User
from ..catalog.models import Partner, PartnerKind, Theme
from ..core import validation as rules
from ..core.errors import ConflictError, ValidationError
from . import operations as ops
from .models import MediaItem, MediaStatus

COLUMNS = ("date", "outlet", "kind", "headline", "link", "reach", "themes")
MAX_ROWS = 100_000
MAX_BYTES = 20 * 1024 * 1024
# What an XLSX may unpack to (its parts' sizes, as its ZIP directory declares them; the
# zipfile module reads no further than that): a workbook of MAX_ROWS rows takes far less,
# while a ZIP "bomb" of a few hundred kilobytes would unpack to gigabytes in memory.
MAX_UNPACKED_BYTES = 8 * MAX_BYTES
# How much of a workbook's first sheet is read: openpyxl fills the gaps up to a far cell
# with empty cells, so one cell at XFD1048576 of a 5 KB file would cost 17 billion empty
# cells. Blank lines are allowed between rows, up to this line number.
MAX_COLUMNS = 32
MAX_LINES = 2 * MAX_ROWS


class MalformedFile(ValueError):
    """The file as a whole cannot be read; nothing was written."""


@dataclass
class RowResult:
    line: int
    outcome: str  # created, updated, unchanged, refused
    message: str = ""
    item_id: int | None = None


EXTENSIONS = ("csv", "xlsx")
ZIP_MAGIC = b"PK\x03\x04"  # an XLSX workbook is a ZIP archive
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def read_file(data: bytes, name: str | None = None) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV or XLSX file; MalformedFile when it is neither, or not
    of the expected columns. ``name`` (the uploaded or given file's name) must end in
    .csv or .xlsx, and the content must be what the name says; without an extension the
    content decides."""
    extension = _extension(name)
    if extension is not None and extension not in EXTENSIONS:
        raise MalformedFile(_only_csv_and_xlsx(extension))
    if extension == "xlsx":
        kind = filetype.guess(data)
        if not data.startswith(ZIP_MAGIC) or (kind and kind.extension not in ("xlsx", "zip")):
            raise MalformedFile(
                gettext(
                    "The name says .xlsx, but the file is not an XLSX workbook: it is %(what)s.",
                    what=_what_it_is(data, kind),
                )
            )
        return read_xlsx(data)
    if extension == "csv":
        kind = filetype.guess(data)
        # NUL bytes in text: UTF-16 (which read_csv names: not UTF-8), else not text at all.
        binary = b"\x00" in data[:MAX_BYTES] and not data.startswith(UTF16_BOMS)
        if kind is not None or data.startswith(ZIP_MAGIC) or binary:
            raise MalformedFile(
                gettext(
                    "The name says .csv, but the file is not CSV text: it is %(what)s.",
                    what=_what_it_is(data, kind),
                )
            )
        return read_csv(data)
    if data.startswith(ZIP_MAGIC):
        return read_xlsx(data)
    kind = filetype.guess(data)
    if kind is not None:
        raise MalformedFile(_only_csv_and_xlsx(kind.extension))
    return read_csv(data)


def _extension(name: str | None) -> str | None:
    """The lower-case extension of a file name (``clips.CSV`` → ``csv``), None without one."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = base.rpartition(".")
    return extension.lower() if dot and stem and extension else None


def _only_csv_and_xlsx(extension: str) -> str:
    return gettext(
        "Only .csv and .xlsx files can be imported; this is a .%(extension)s file.",
        extension=extension,
    )


def _what_it_is(data: bytes, kind) -> str:
    """What a file holds, for a refusal: a known type, text, or other bytes."""
    if kind is not None:
        return gettext("a .%(extension)s file (%(mime)s)", extension=kind.extension, mime=kind.mime)
    if b"\x00" not in data:
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        else:
            return gettext("text (if it is CSV, give it a .csv name)")
    return gettext("binary data of an unknown kind")


def _check_header(header: list[str]) -> list[str]:
    header = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise MalformedFile(
            gettext(
                "The header lacks the columns %(missing)s; it needs %(columns)s.",
                missing=", ".join(missing),
                columns=", ".join(COLUMNS),
            )
        )
    return header


def _cell_text(value, number_format: str) -> str:
    """A workbook cell as the CSV would have it: a date cell as YYYY-MM-DD (or with
    HH:MM when its format shows the time), a whole number without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if any(c in (number_format or "").lower() for c in "hs"):
            return value.strftime("%Y-%m-%d %H:%M")
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(row number, row) of every data row of the workbook's first sheet."""
    from openpyxl import load_workbook

    if len(data) > MAX_BYTES:
        raise MalformedFile(gettext("The file is larger than %(n)s MB.", n=MAX_BYTES // 2**20))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked <= MAX_UNPACKED_BYTES:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise MalformedFile(
            gettext("The file is not an XLSX workbook that can be read (%(error)s).",
                    error=type(exc).__name__)
        ) from None  # fmt: skip
    if unpacked > MAX_UNPACKED_BYTES:
        raise MalformedFile(
            gettext("The workbook unpacks to more than %(n)s MB.", n=MAX_UNPACKED_BYTES // 2**20)
        )
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise MalformedFile(gettext("The file is empty."))
        lines = _sheet_lines(sheet)
        header = None
        for _line, cells in lines:
            values = [_cell_text(c.value, getattr(c, "number_format", "")) for c in cells]
            if any(v.strip() for v in values):
                header = values
                break
        if header is None:
            raise MalformedFile(gettext("The file is empty."))
        header = _check_header(header)
        while header and not header[-1]:
            header.pop()  # empty columns after the last title
        rows = []
        for line, cells in lines:
            values = [_cell_text(c.value, getattr(c, "number_format", "")) for c in cells]
            if not any(v.strip() for v in values):
                continue
            if any(v.strip() for v in values[len(header) :]):
                raise MalformedFile(
                    gettext(
                        "Line %(line)s has %(n)s fields; the header has %(m)s.",
                        line=line,
                        n=len(values),
                        m=len(header),
                    )
                )
            values = (values + [""] * len(header))[: len(header)]
            rows.append((line, dict(zip(header, values, strict=True))))
            if len(rows) > MAX_ROWS:
                raise MalformedFile(gettext("The file has more than %(n)s rows.", n=MAX_ROWS))
    finally:
        book.close()
    return rows


def _sheet_lines(sheet):
    """(line number, cells) of the sheet's first MAX_COLUMNS columns; MalformedFile at
    the first line after MAX_LINES (before any more empty cells are made)."""
    for line, cells in enumerate(sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS), start=1):
        if line > MAX_LINES:
            raise MalformedFile(
                gettext("The sheet goes on beyond line %(n)s; a file may have at most %(max)s rows.",
                        n=MAX_LINES, max=MAX_ROWS)
            )  # fmt: skip
        yield line, cells


def read_csv(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for every data row; MalformedFile when the file is not a CSV of
    the expected columns."""
    if len(data) > MAX_BYTES:
        raise MalformedFile(gettext("The file is larger than %(n)s MB.", n=MAX_BYTES // 2**20))
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedFile(
            gettext("The file is not UTF-8 text (byte %(pos)s).", pos=exc.start + 1)
        ) from None
    if "\x00" in content:
        raise MalformedFile(
            gettext("The file is not UTF-8 text (byte %(pos)s).", pos=content.index("\x00") + 1)
        )
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise MalformedFile(gettext("The file is empty."))
        header = _check_header(header)
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise MalformedFile(
                    gettext(
                        "Line %(line)s has %(n)s fields; the header has %(m)s.",
                        line=reader.line_num,
                        n=len(values),
                        m=len(header),
                    )
                )
            rows.append((reader.line_num, dict(zip(header, values, strict=True))))
            if len(rows) > MAX_ROWS:
                raise MalformedFile(gettext("The file has more than %(n)s rows.", n=MAX_ROWS))
    except csv.Error as exc:
        raise MalformedFile(
            gettext("Line %(line)s is not valid CSV: %(error)s", line=reader.line_num, error=exc)
        ) from None
    return rows


def _published_at(raw: str, zone: ZoneInfo) -> datetime:
    raw = raw.strip().replace(" ", "T")
    try:
        if len(raw) == 10:
            local = datetime.combine(date.fromisoformat(raw), time(12, 0))
        else:
            local = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError(
            {"date": gettext("'%(value)s' is not a date in the form %(format)s", value=raw[:40],
                             format="YYYY-MM-DD [HH:MM]")}
        ) from None  # fmt: skip
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone)
    message = rules.date_in_window(local)
    if message:
        raise ValidationError({"date": message})
    return local


def _data_for(session: Session, row: dict[str, str], zone: ZoneInfo, existing) -> ops.MediaData:
    errors: dict[str, str] = {}
    link = row["link"].strip()
    if not link:
        errors["link"] = gettext("Give the link: it identifies the item in later imports.")
    reach = None
    if row["reach"].strip():
        try:
            reach = rules.whole_number(row["reach"])
        except ValueError:
            errors["reach"] = gettext("Give the reach as a whole number in digits, such as 120.")
    slugs = [s.strip() for s in row["themes"].replace(",", ";").split(";") if s.strip()]
    themes = session.scalars(select(Theme).where(Theme.slug.in_(slugs))).all() if slugs else []
    unknown = sorted(set(slugs) - {t.slug for t in themes})
    if unknown:
        errors["themes"] = gettext("Unknown themes: %(slugs)s.", slugs=", ".join(unknown))
    outlet_name = row["outlet"].strip()
    outlet = session.scalar(
        select(Partner)
        .where(
            Partner.kind == PartnerKind.media.value,
            (Partner.slug == outlet_name) | (func.lower(Partner.name) == outlet_name.lower()),
        )
        .limit(1)
    )
    try:
        published_at = _published_at(row["date"], zone)
    except ValidationError as exc:
        errors.update(exc.errors)
        published_at = None
    if errors:
        raise ValidationError(errors)
    data = ops.media_data(existing) if existing is not None else ops.MediaData(
        headline="", kind="", status=MediaStatus.published.value, published_at=None
    )  # fmt: skip
    data.headline = row["headline"]
    data.kind = row["kind"].strip().lower()
    data.link = link
    data.estimated_reach = reach
    data.themes = list(themes)
    data.published_at = published_at
    data.timezone = zone.key
    data.outlet, data.new_outlet = outlet, "" if outlet else outlet_name
    if existing is None:
        data.status = MediaStatus.published.value
    return data


def import_rows(
    session: Session,
    actor: User | None,
    rows: list[tuple[int, dict[str, str]]],
    zone: ZoneInfo,
    progress: Callable[[RowResult], None] | None = None,
) -> list[RowResult]:
    results = []
    for line, row in rows:
        link = row["link"].strip()
        existing = None
        if link:
            existing = session.scalar(
                select(MediaItem)
                .where(MediaItem.link == link)
                .order_by(MediaItem.id)
                .limit(1)
                .options(
                    joinedload(MediaItem.outlet),
                    selectinload(MediaItem.themes),
                    selectinload(MediaItem.events),
                )
            )
        try:
            data = _data_for(session, row, zone, existing)
            if existing is None:
                item = ops.create_media(session, actor, data)
                result = RowResult(line, "created", item_id=item.id)
            else:
                changed = ops.update_media(
                    session, actor, existing, data, existing.version, action="imported"
                )
                result = RowResult(line, "updated" if changed else "unchanged", item_id=existing.id)
        except (ValidationError, ConflictError) as exc:
            session.rollback()
            message = (
                "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
                if isinstance(exc, ValidationError)
                else str(exc)
            )
            result = RowResult(line, "refused", message)
        results.append(result)
        if progress:
            progress(result)
    return results
