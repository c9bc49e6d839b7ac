"""Export file names: the filter's words and the date, readable in every browser."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from urllib.parse import quote

from ..events.filters import EventFilter
from ..events.models import EventFormat

FILE_PREFIX = "ipap2-events"

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
