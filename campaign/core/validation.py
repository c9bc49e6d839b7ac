"""The campaign's rules for input, each with its message, in one place.

The operations layer, the forms, the command line and any future API call these; none
keeps a copy of a rule. Each rule takes a value and returns the message that explains
what is wrong with it, or None when it is fine. Messages speak of the data, not of the
interface that shows them.
"""

from __future__ import annotations

import functools
import math
import re
import zoneinfo
from collections.abc import Iterable
from datetime import date, time
from urllib.parse import urlsplit

from flask_babel import gettext
from zxcvbn import zxcvbn

# Control characters (C0 but tab and line feed, DEL, C1) and the non-characters U+FFFE/FFFF.
# XML 1.0 (XLSX) cannot carry C0 controls, iCalendar TEXT forbids them (RFC 5545 3.3.11)
# and on a page they are invisible: refused rather than silently dropped.
# Lone surrogates (U+D800-U+DFFF, which JSON's "\\ud800" can carry) are no characters at
# all: no database, page or file can store them.
CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
LINE_BREAK_RE = re.compile("[\t\n]")
# Bidirectional embeddings, overrides and isolates: U+202E shows "gpj.exe" as "exe.jpg"
# and reorders whatever follows it on a page, in a calendar or a spreadsheet.
BIDI_CONTROL_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Characters that take no room: a text of only these (and spaces) looks empty.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
INVISIBLE_RE = re.compile(f"[{ZERO_WIDTH}]")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# No spaces and no control characters (they would reach log lines and mail headers raw).
EMAIL_RE = re.compile(
    r"[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\.[^@\s\x00-\x1f\x7f-\x9f]+"
)
COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")
# Numbers as people type them: ASCII digits only (Python's int() and float() also take
# Arabic-Indic or Devanagari digits, underscores, exponents, "nan" and "inf").
WHOLE_NUMBER_RE = re.compile(r"[+-]?[0-9]+")
DECIMAL_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# A typed number with more digits than this is past every limit below; it is read as
# 10**MAX_DIGITS so the range rule that follows explains the limit (int() would also
# refuse numbers of more than 4,300 digits with an unrelated error).
MAX_DIGITS = 15

MAX_PEOPLE = 10_000_000
# Row ids are INTEGER columns: 32 bits on PostgreSQL, so no larger id can name a row.
MAX_ID = 2**31 - 1
MIN_PASSWORD_LENGTH = 10
# zxcvbn's score from 0 (too guessable) to 4 (very unguessable); 3 resists offline guessing
# of a slow hash.
MIN_PASSWORD_SCORE = 3
ZXCVBN_MAX_LENGTH = 72
MAX_EMAIL_LENGTH = 254
MAX_SLUG_LENGTH = 80
MAX_URL_LENGTH = 500
# Events happen between these years, and dates in a query (from, to, month) lie between
# them too. Outside, a date is a typing mistake, and near year 1 or 9999 a change of
# zone or a day's margin leaves the range of Python's dates.
FIRST_YEAR = 1990
LAST_YEAR = 2100


def add(errors: dict[str, str], name: str, message: str | None) -> None:
    """Record ``message`` for field ``name`` unless it already has one."""
    if message and name not in errors:
        errors[name] = message


def text(value: str, *, multiline: bool = False) -> str | None:
    """Refuse characters that no page, feed or export can carry faithfully, characters
    that make text read differently from what it says (bidirectional controls), and text
    that is only invisible characters."""
    bad = CONTROL_RE.search(value) or (None if multiline else LINE_BREAK_RE.search(value))
    if bad is not None:
        what, position = f"U+{ord(bad.group()):04X}", bad.start() + 1
        if multiline:
            return gettext(
                "Remove the invisible control character %(what)s at position %(pos)s "
                "(line breaks and tabs are fine).",
                what=what,
                pos=position,
            )
        return gettext(
            "Remove the invisible control character %(what)s at position %(pos)s.",
            what=what,
            pos=position,
        )
    bad = BIDI_CONTROL_RE.search(value)
    if bad is not None:
        return gettext(
            "Remove the text-direction control character %(what)s at position %(pos)s: it "
            "makes the text show in a different order from how it is written.",
            what=f"U+{ord(bad.group()):04X}",
            pos=bad.start() + 1,
        )
    if value and any(c in ZERO_WIDTH for c in value) and not _visible(value):
        return gettext(
            "This text is only invisible characters (zero-width spaces or joiners); "
            "write visible text."
        )
    return None


def _visible(value: str) -> bool:
    return bool(value.translate({ord(c): None for c in ZERO_WIDTH}).strip())


def end_after_start(start, end) -> str | None:
    """An end (a time of day, or an instant) strictly after the start."""
    if end <= start:
        return gettext("The end must be after the start.")
    return None


def date_in_window(day: date) -> str | None:
    """A date (or a datetime, read as written) inside the campaign's window of years."""
    if FIRST_YEAR <= day.year <= LAST_YEAR:
        return None
    return gettext(
        "Give a date between 1 January %(first)s and 31 December %(last)s.",
        first=FIRST_YEAR,
        last=LAST_YEAR,
    )


def normalise_newlines(value: str) -> str:
    """Browsers send CRLF from a textarea; stored text has plain line feeds (a lone CR is
    still refused by :func:`text`, as a control character)."""
    return value.replace("\r\n", "\n")


# Files of the zone database that name no place's clocks: the machine's own setting,
# the "unknown local time" placeholder and the POSIX-TZ template, and the trees that
# repeat every zone under other rules. Some Pythons list a few of them as zones.
NOT_A_PLACE = frozenset({"localtime", "Factory", "posixrules", "Etc/Unknown"})
NOT_A_PLACE_PREFIXES = ("posix/", "right/")


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if name not in NOT_A_PLACE and not name.startswith(NOT_A_PLACE_PREFIXES)
    )


def is_iana_zone(name: str) -> bool:
    return name in _zone_names()


def zone(name: str) -> str | None:
    if is_iana_zone(name):
        return None
    if name in NOT_A_PLACE or name.startswith(NOT_A_PLACE_PREFIXES):
        return gettext(
            "'%(zone)s' names no place's clocks (it is a file of the time-zone database, "
            "not a time zone); use a name such as Europe/Belgrade.",
            zone=name,
        )
    return gettext(
        "'%(zone)s' is not an IANA time zone; use a name such as Europe/Belgrade.", zone=name
    )


def email(value: str) -> str | None:
    # An invisible character cannot be typed at the log-in page, and a text-direction
    # control shows the address in another order than the one it is stored in.
    bad = BIDI_CONTROL_RE.search(value) or INVISIBLE_RE.search(value)
    if bad is not None:
        return gettext(
            "Remove the invisible control character %(what)s at position %(pos)s.",
            what=f"U+{ord(bad.group()):04X}",
            pos=bad.start() + 1,
        )
    if EMAIL_RE.fullmatch(value) and len(value) <= MAX_EMAIL_LENGTH:
        return None
    return gettext(
        "'%(email)s' is not an e-mail address; give a valid e-mail address such as %(example)s.",
        email=value,
        example="name@example.org",
    )


def password(value: str, user_inputs: Iterable[str] = ()) -> str | None:
    """At least MIN_PASSWORD_LENGTH characters and hard to guess by zxcvbn's estimate
    (score MIN_PASSWORD_SCORE of 4), counting the account's own e-mail and name (given
    in ``user_inputs``) as known words. The message includes zxcvbn's advice."""
    if len(value) < MIN_PASSWORD_LENGTH:
        return gettext("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    inputs = [word for item in user_inputs if item for word in re.split(r"[\s@.]+", item) if word]
    # zxcvbn looks at the first 72 characters; more can only make a password stronger.
    result = zxcvbn(value[:ZXCVBN_MAX_LENGTH], user_inputs=list(user_inputs) + inputs)
    if result["score"] >= MIN_PASSWORD_SCORE:
        return None
    feedback = result["feedback"]
    advice = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])]))
    # zxcvbn's own advice is English only; it follows the translated sentence.
    return gettext(
        "This password is too easy to guess; choose a longer one, e.g. several unrelated words."
    ) + (f" {advice}" if advice else "")


def password_repeated(new: str, repeated: str) -> str | None:
    """A new password is typed twice: the second must be the same."""
    if new != repeated:
        return gettext("The two new passwords differ; type the same one twice.")
    return None


def slug(value: str) -> str | None:
    if not value:
        return gettext("Give a slug (lowercase letters, digits and hyphens).")
    if len(value) > MAX_SLUG_LENGTH or not SLUG_RE.match(value):
        return gettext(
            "Use lowercase letters, digits and single hyphens only, e.g. %(example)s.",
            example="cyber-security",
        )
    return None


def web_url(value: str, label: str) -> str | None:
    """An http(s) address a browser can open; ``label`` names it in the message."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        return gettext(
            "%(label)s must be a web address starting with https:// "
            "(it must start with http:// or https://).",
            label=label,
        )
    if len(value) > MAX_URL_LENGTH:
        return gettext(
            "%(label)s is too long (at most %(n)s characters).", label=label, n=MAX_URL_LENGTH
        )
    return None


def people(value: int | None) -> str | None:
    """A number of people (audience, attendance, capacity)."""
    if value is None or 0 <= value <= MAX_PEOPLE:
        return None
    return gettext(
        "Give a number, zero or more. The largest allowed is %(n)s.", n=f"{MAX_PEOPLE:,}"
    )


def whole_number(raw: str) -> int:
    """A typed whole number of any length as an int; ValueError with the message otherwise.

    Follow it with the field's range rule (e.g. :func:`people`)."""
    raw = raw.strip()
    if not WHOLE_NUMBER_RE.fullmatch(raw):
        raise ValueError(
            gettext("Not a valid integer value: give a whole number in digits, such as 120.")
        )
    if len(raw.lstrip("+-").lstrip("0")) > MAX_DIGITS:
        return -(10**MAX_DIGITS) if raw.startswith("-") else 10**MAX_DIGITS
    return int(raw)


def decimal_number(raw: str) -> float:
    """A typed decimal number (a point, no exponent) as a float; ValueError with the
    message otherwise. A number too large for a float is infinite, which every range rule
    refuses."""
    raw = raw.strip()
    if not DECIMAL_NUMBER_RE.fullmatch(raw):
        raise ValueError(
            gettext(
                "Not a valid float value: give a number in digits with a decimal point, such "
                "as 44.8167."
            )
        )
    return float(raw)


def latitude(value: float | None) -> str | None:
    if value is None or (math.isfinite(value) and -90 <= value <= 90):
        return None
    return gettext("Latitude lies between -90 and 90.")


def longitude(value: float | None) -> str | None:
    if value is None or (math.isfinite(value) and -180 <= value <= 180):
        return None
    return gettext("Longitude lies between -180 and 180.")


def name(value: str, *, limit: int = 200) -> str | None:
    if value and len(value) <= limit:
        return None
    return gettext("Give a name of 1 to %(n)s characters.", n=limit)


def colour(value: str) -> str | None:
    return None if COLOUR_RE.fullmatch(value) else gettext("Give a colour as #rrggbb.")


# Estimated reach of one media item: a national broadcast or a viral post reaches millions,
# more people than any event; past this it is a typing mistake.
MAX_REACH = 1_000_000_000


def reach(value: int | None) -> str | None:
    """An estimated number of people a media item reached."""
    if value is None or 0 <= value <= MAX_REACH:
        return None
    return gettext("Give a number, zero or more. The largest allowed is %(n)s.", n=f"{MAX_REACH:,}")


def line_of_text(value: str, *, limit: int) -> str | None:
    """One line of text of at most ``limit`` characters (headline, spokesperson)."""
    if len(value) > limit:
        return gettext(
            "This text is %(n)s characters long; at most %(limit)s are allowed.",
            n=len(value),
            limit=limit,
        )
    return text(value)


MAX_CANCEL_REASON_LENGTH = 500


def cancel_reason(value: str) -> str | None:
    """The optional reason given when an event is cancelled: plain text, a few lines."""
    if len(value) > MAX_CANCEL_REASON_LENGTH:
        return gettext("The reason can have at most %(n)s characters.", n=MAX_CANCEL_REASON_LENGTH)
    return text(value, multiline=True)


# -- an event's status ----------------------------------------------------------------

PUBLISHED_STATUSES = ("confirmed", "cancelled")


def status_change(before: str | None, after: str, *, over: bool) -> str | None:
    """An event's status going from ``before`` (None for a new event) to ``after``; ``over``
    says the event has ended. A published event (confirmed or cancelled) never becomes a
    draft again: drafts can be deleted, and a published event leaves subscribed calendars
    only through STATUS:CANCELLED. An event that is over cannot become cancelled: it took
    place. Keeping a status is always fine (a cancelled past event keeps being edited),
    and so is reinstating a cancelled event (cancelled to confirmed)."""
    if before is None or before == after:
        return None
    if after == "draft" and before in PUBLISHED_STATUSES:
        return gettext(
            "A published event cannot become a draft again; cancel it so that subscribed "
            "calendars learn of it."
        )
    if after == "cancelled" and over:
        return event_over()
    return None


def event_over() -> str:
    return gettext("This event is over; an event that took place cannot be cancelled.")


def allowed_statuses(before: str | None, *, over: bool) -> list[str]:
    """The statuses an event with status ``before`` may be given (the edit form offers
    only these)."""
    return [
        s
        for s in ("draft", "confirmed", "cancelled")
        if status_change(before, s, over=over) is None
    ]


# -- series ------------------------------------------------------------------------------

# A run of a campaign's events: a tour of a few dozen cities, or two years of monthly
# round tables. More is a mistyped rule (every day for ten years), refused before anything
# is made.
MAX_OCCURRENCES = 60
MAX_INTERVAL = 12


def occurrence_count(n: int) -> str | None:
    """How many events a series makes."""
    if n < 1:
        return gettext("The series has no dates: add a date, or widen the rule.")
    if n > MAX_OCCURRENCES:
        return gettext(
            "A series can have at most %(max)s dates; this one has more. Give an earlier end "
            "date, a smaller number of dates or a longer interval.",
            max=MAX_OCCURRENCES,
        )
    return None


def repeat_interval(n: int) -> str | None:
    if not 1 <= n <= MAX_INTERVAL:
        return gettext("Repeat every 1 to %(max)s periods.", max=MAX_INTERVAL)
    return None


MAX_SKIPPED = 366  # a year of days: more is no plan, only work for the server


def skipped_count(n: int) -> str | None:
    """How many dates a rule may skip."""
    if n > MAX_SKIPPED:
        return gettext("Skip at most %(max)s dates.", max=MAX_SKIPPED)
    return None


def repeat_count(n: int) -> str | None:
    if not 1 <= n <= MAX_OCCURRENCES:
        return gettext("Give a number of dates from 1 to %(max)s.", max=MAX_OCCURRENCES)
    return None


def day_list(raw: str) -> tuple[list[date], str | None]:
    """Dates typed as YYYY-MM-DD, separated by commas, spaces or lines."""
    days = []
    for word in re.split(r"[\s,;]+", raw.strip()):
        if not word:
            continue
        try:
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", word):
                raise ValueError
            day = date.fromisoformat(word)
        except ValueError:
            return [], gettext(
                "'%(value)s' is not a date in the form %(format)s.", value=word, format="YYYY-MM-DD"
            )
        message = date_in_window(day)
        if message:
            return [], message
        days.append(day)
    return days, None


def parse_day(raw: str) -> tuple[date | None, str | None]:
    """A date typed as YYYY-MM-DD (what a date input sends), inside the window of years."""
    days, message = day_list(raw)
    if message:
        return None, message
    if len(days) != 1:
        return None, gettext("Give one date in the form %(format)s.", format="YYYY-MM-DD")
    return days[0], None


def parse_clock(raw: str) -> tuple[time | None, str | None]:
    """A time of day typed as HH:MM (what a time input sends)."""
    value = raw.strip()
    if re.fullmatch(r"[0-9]{1,2}:[0-9]{2}", value):
        hours, minutes = (int(part) for part in value.split(":"))
        if hours < 24 and minutes < 60:
            return time(hours, minutes), None
    return None, gettext(
        "'%(value)s' is not a time in the form %(format)s.", value=value, format="HH:MM"
    )


# -- personal API tokens -----------------------------------------------------------------

MAX_TOKEN_DAYS = 3650


def token_days(value: int | None) -> str | None:
    """How long a new API token lives: unlimited (None) or 1 day to ten years."""
    if value is None or 1 <= value <= MAX_TOKEN_DAYS:
        return None
    return gettext("A token lives from 1 to %(n)s days, or without an end.", n=MAX_TOKEN_DAYS)
