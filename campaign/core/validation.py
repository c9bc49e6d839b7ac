"""The campaign's rules for input, each with its message, in one place.

The operations layer, the forms, the command line and any future API call these; none
keeps a copy of a rule. Each rule takes a value and returns the message that explains
what is wrong with it, or None when it is fine. Messages speak of the data, not of the
interface that shows them.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from urllib.parse import urlsplit

# Control characters (C0 but tab and line feed, DEL, C1) and the non-characters U+FFFE/FFFF.
# XML 1.0 (XLSX) cannot carry C0 controls, iCalendar TEXT forbids them (RFC 5545 3.3.11)
# and on a page they are invisible: refused rather than silently dropped.
CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
LINE_BREAK_RE = re.compile("[\t\n]")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")

MAX_PEOPLE = 10_000_000
MIN_PASSWORD_LENGTH = 10
MAX_EMAIL_LENGTH = 254
MAX_SLUG_LENGTH = 80
MAX_URL_LENGTH = 500


def add(errors: dict[str, str], name: str, message: str | None) -> None:
    """Record ``message`` for field ``name`` unless it already has one."""
    if message and name not in errors:
        errors[name] = message


def text(value: str, *, multiline: bool = False) -> str | None:
    """Refuse characters that no page, feed or export can carry faithfully."""
    bad = CONTROL_RE.search(value) or (None if multiline else LINE_BREAK_RE.search(value))
    if bad is None:
        return None
    what = f"U+{ord(bad.group()):04X}"
    allowed = " (line breaks and tabs are fine)" if multiline else ""
    return f"Remove the invisible control character {what} at position {bad.start() + 1}{allowed}."


def normalise_newlines(value: str) -> str:
    """Browsers send CRLF from a textarea; stored text has plain line feeds (a lone CR is
    still refused by :func:`text`, as a control character)."""
    return value.replace("\r\n", "\n")


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_iana_zone(name: str) -> bool:
    return name in _zone_names()


def zone(name: str) -> str | None:
    if is_iana_zone(name):
        return None
    return f"'{name}' is not an IANA time zone; use a name such as Europe/Belgrade."


def email(value: str) -> str | None:
    if EMAIL_RE.fullmatch(value) and len(value) <= MAX_EMAIL_LENGTH:
        return None
    return (
        f"'{value}' is not an e-mail address; give a valid e-mail address such as name@example.org."
    )


def password(value: str) -> str | None:
    if len(value) >= MIN_PASSWORD_LENGTH:
        return None
    return f"The password must have at least {MIN_PASSWORD_LENGTH} characters."


def slug(value: str) -> str | None:
    if not value:
        return "Give a slug (lowercase letters, digits and hyphens)."
    if len(value) > MAX_SLUG_LENGTH or not SLUG_RE.match(value):
        return "Use lowercase letters, digits and single hyphens only, e.g. cyber-security."
    return None


def web_url(value: str, label: str) -> str | None:
    """An http(s) address a browser can open; ``label`` names it in the message."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        return f"{label} must be a web address starting with https:// (it must start with http:// or https://)."
    if len(value) > MAX_URL_LENGTH:
        return f"{label} is too long (at most {MAX_URL_LENGTH} characters)."
    return None


def people(value: int | None) -> str | None:
    """A number of people (audience, attendance, capacity)."""
    if value is None or 0 <= value <= MAX_PEOPLE:
        return None
    return f"Give a number, zero or more. The largest allowed is {MAX_PEOPLE:,}."


def name(value: str, *, limit: int = 200) -> str | None:
    if value and len(value) <= limit:
        return None
    return f"Give a name of 1 to {limit} characters."


def colour(value: str) -> str | None:
    return None if COLOUR_RE.fullmatch(value) else "Give a colour as #rrggbb."
