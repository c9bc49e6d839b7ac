"""iCalendar (RFC 5545 / RFC 7986) rendering: one VEVENT renderer, VTIMEZONEs, VCALENDARs.

Every feed and download goes through :func:`render_vevent`. The output is written by hand
rather than through icalendar's object model because it must be byte-for-byte
deterministic, fast enough to build a 10,000-event feed, and correct where icalendar's
plain setters are not (``REFRESH-INTERVAL;VALUE=DURATION``). The tests read every feed
back with icalendar, vobject, ics and recurring-ical-events.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext

from ..core.validation import FIRST_YEAR, LAST_YEAR
from ..events.models import Event, EventFormat, EventStatus
from ..i18n import campaign_name, current_tag, localized, texts_fingerprint
from ..media.models import MediaItem

# Bump whenever the bytes of a VEVENT or VCALENDAR change shape: it is part of every
# cache key and ETag, so cached bytes and clients' copies are replaced.
RENDERER_VERSION = "2"
PRODID = "-//IPAP 2 campaign//Campaign planner//EN"
REFRESH = "PT1H"
CRLF = "\r\n"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# Local times (TZID) and VTIMEZONEs cover the years events may have (core.validation's
# window) and one on each side. A stored event outside them (a row written by hand, an old
# database) is written in UTC: the same instant, and no VTIMEZONE to compute around year
# 1 or 9999, where a zone's offset or a year of margin leaves the range of datetime.
TZID_YEARS = (FIRST_YEAR - 1, LAST_YEAR + 1)


# -- text and lines ----------------------------------------------------------------------


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newline escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    # TEXT may hold no control characters other than HTAB; newlines are escaped below.
    value = "\n".join(_CONTROL.sub("", part) for part in value.split("\n"))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def param_value(value: str) -> str:
    """A parameter value (RFC 5545 3.1): quoted when it holds , ; or :, never a DQUOTE."""
    value = _CONTROL.sub("", value.replace("\r", " ").replace("\n", " ")).replace('"', "'")
    return f'"{value}"' if any(c in value for c in ",;:") else value


def fold(line: str) -> str:
    """One content line, folded at 75 octets (RFC 5545 3.1) and ended with CRLF.

    Folds fall between characters, never inside a multi-octet UTF-8 sequence.
    """
    raw = line.encode()
    if len(raw) <= 75:
        return line + CRLF
    parts = []
    start, limit = 0, 75  # continuation lines begin with a space, so they carry 74 octets
    while len(raw) - start > limit:
        end = start + limit
        while raw[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: step back to a boundary
            end -= 1
        parts.append(raw[start:end])
        start, limit = end, 74
    parts.append(raw[start:])
    return (CRLF + " ").join(p.decode() for p in parts) + CRLF


def _utc(value: datetime) -> str:
    try:
        value = value.astimezone(UTC)
    except (OverflowError, ValueError):  # a naive time at the very edge of datetime's range
        value = value.replace(tzinfo=UTC)
    return _local(value) + "Z"


def _local(value: datetime) -> str:
    # Not strftime: its %Y drops the leading zeros of years before 1000 on glibc.
    return (
        f"{value.year:04d}{value.month:02d}{value.day:02d}"
        f"T{value.hour:02d}{value.minute:02d}{value.second:02d}"
    )


def _offset(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    seconds = abs(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h:02d}{m:02d}" + (f"{s:02d}" if s else "")


# -- VEVENT ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderContext:
    """What a VEVENT depends on besides the event row itself."""

    site_url: str
    organizer_name: str
    organizer_email: str
    # The language and script of the texts (sr-Cyrl, sr-Latn, en): part of every cache key.
    language: str = "en"
    # The catalogues and transliteration settings the texts were made with.
    texts: str = ""

    @classmethod
    def from_config(cls, config) -> RenderContext:
        """For the language being spoken (the request's, or the CLI's default)."""
        return cls(
            site_url=config["SITE_URL"].rstrip("/"),
            organizer_name=campaign_name(),
            organizer_email=config["ORGANIZER_EMAIL"],
            language=current_tag(),
            texts=texts_fingerprint(),
        )

    def event_url(self, event_id: int) -> str:
        return f"{self.site_url.rstrip('/')}/events/{event_id}"

    def media_url(self, item_id: int) -> str:
        return f"{self.site_url.rstrip('/')}/media/{item_id}"


@dataclass(frozen=True)
class RenderedEvent:
    """One event's VEVENT bytes and what a calendar around it needs to know."""

    vevent: bytes
    tzid: str | None  # the zone its DTSTART/DTEND name, if any
    years: tuple[int, int]  # first and last local year it touches


def _when(name: str, instant: datetime, zone: ZoneInfo | None) -> tuple[str, str | None, int]:
    try:
        local = None if zone is None else instant.astimezone(zone)
    except (OverflowError, ValueError):  # the local time is past year 1 or 9999
        local = None
    if local is None or not TZID_YEARS[0] <= local.year <= TZID_YEARS[1]:
        return f"{name}:{_utc(instant)}", None, instant.year
    # An ambiguous wall time (the repeated hour when clocks go back) means its first
    # occurrence (RFC 5545 3.3.5); the second one can only be written in UTC.
    if local.fold or local.replace(fold=1).utcoffset() != local.utcoffset():
        return f"{name}:{_utc(instant)}", None, local.year
    return f"{name};TZID={zone.key}:{_local(local)}", zone.key, local.year


def description_text(event: Event, url: str, limit: int | None = None) -> str:
    """The event's text followed by its facts and page address: the feeds' DESCRIPTION,
    and the details of the add-to-calendar links (``limit`` shortens the event's text
    for those URLs)."""
    parts = []
    description = localized(event, "description")
    if description:
        # Exactly as written (no strip): the text must come back unchanged from a client.
        parts.append(description if limit is None else description[:limit])
    facts = []
    if event.is_cancelled:
        facts.append(gettext("This event is cancelled."))
        if event.cancel_reason:
            facts.append(gettext("Reason: %(reason)s", reason=event.cancel_reason))
    facts.append(gettext("Format: %(format)s", format=event.format_label))
    if event.themes:
        themes = ", ".join(localized(t, "name") for t in event.themes_in_order)
        facts.append(gettext("Themes: %(themes)s", themes=themes))
    if event.partner_links:
        partners = "; ".join(
            f"{localized(lk.partner, 'name')} ({lk.role_label})" for lk in event.partners_in_order
        )
        facts.append(gettext("Partners: %(partners)s", partners=partners))
    if event.venue:
        facts.append(gettext("Venue: %(venue)s", venue=location_text(event)))
    if event.online_url:
        facts.append(gettext("Online: %(url)s", url=event.online_url))
    # Exchange and Outlook drop the URL property; the page address must be in the text.
    facts.append(gettext("Details: %(url)s", url=url))
    parts.append("\n".join(facts))
    return "\n\n".join(parts)


def location_text(event: Event) -> str:
    """Where the event is, as one line: venue, address and city, or its online link."""
    venue = event.venue
    if venue is None:
        return event.online_url or gettext("Online")
    parts = (localized(venue, "name"), localized(venue, "address"), localized(venue, "city"))
    return ", ".join(p for p in parts if p)


def _status(event: Event) -> str:
    return {
        EventStatus.confirmed.value: "CONFIRMED",
        EventStatus.cancelled.value: "CANCELLED",
        EventStatus.draft.value: "TENTATIVE",
    }[event.status]


def _zone_of(event: Event) -> ZoneInfo | None:
    """The event's zone, or None for a stored name this machine's zone database lacks
    (its times are then written in UTC: the same instants)."""
    try:
        return event.zone
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def render_vevent(item: Event | MediaItem, ctx: RenderContext) -> RenderedEvent:
    """The one VEVENT renderer, for an event or a planned media appearance (which only
    organizers' private feeds carry, see calendar.planned_media). ``item`` must have what
    it shows loaded: an event its venue, themes, partners and series; a media item its
    outlet and themes."""
    if isinstance(item, MediaItem):
        return _write(_media_facts(item, ctx), ctx)
    return _write(_event_facts(item, ctx), ctx)


@dataclass
class _Facts:
    """What one VEVENT says, whatever it was made from."""

    uid: str
    created: datetime
    updated: datetime
    sequence: int
    starts_at: datetime
    ends_at: datetime
    zone: ZoneInfo | None
    summary: str
    description: str
    url: str
    location: str
    categories: list[str]
    status: str
    transparent: bool = False
    geo: str | None = None
    related: list[str] = field(default_factory=list)


def _event_facts(event: Event, ctx: RenderContext) -> _Facts:
    url = ctx.event_url(event.id)
    categories = [
        EventFormat(event.format).label,
        *(localized(t, "name") for t in event.themes_in_order),
    ]
    related = []
    if event.series_id is not None:
        # The series by name for every client, and by uid for those that group events
        # (RFC 9253 RELATED-TO with a relation type; the series is the parent).
        series = event.series
        categories.append(localized(series, "title"))
        related.append(f"RELATED-TO;RELTYPE=PARENT:{escape_text(series.uid)}")
    venue = event.venue
    geo = None
    if venue is not None and venue.latitude is not None and venue.longitude is not None:
        geo = f"GEO:{venue.latitude:.6f};{venue.longitude:.6f}"
    return _Facts(
        uid=event.uid,
        created=event.created,
        updated=event.updated,
        sequence=event.sequence,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        zone=_zone_of(event),
        summary=localized(event, "title"),
        description=description_text(event, url),
        url=url,
        location=location_text(event),
        categories=categories,
        status=_status(event),
        # Cancelled events stop blocking time in clients that ignore STATUS.
        transparent=event.is_cancelled,
        geo=geo,
        related=related,
    )


# How long a planned media appearance blocks in a calendar (items have one time only).
MEDIA_DURATION = timedelta(minutes=30)


def media_uid(item: MediaItem) -> str:
    """A planned appearance's UID: its number and the instant it was created (SQLite may
    give a deleted item's number to a new one), never its headline or time."""
    created = item.created.astimezone(UTC)
    return f"media-{item.id}-{_local(created)}{created.microsecond:06d}Z@ipap2-campaign"


def _media_facts(item: MediaItem, ctx: RenderContext) -> _Facts:
    """A planned media appearance: "Media" first in CATEGORIES and in SUMMARY, so every
    client shows it apart from the events."""
    url = ctx.media_url(item.id)
    outlet = localized(item.outlet, "name")
    facts = [
        gettext("Planned media appearance (%(kind)s).", kind=item.kind_label),
        gettext("Outlet: %(outlet)s", outlet=outlet),
    ]
    if item.spokesperson:
        facts.append(gettext("Spokesperson: %(name)s", name=item.spokesperson))
    themes = [localized(t, "name") for t in item.themes_in_order]
    if themes:
        facts.append(gettext("Themes: %(themes)s", themes=", ".join(themes)))
    if item.link:
        facts.append(gettext("Link: %(url)s", url=item.link))
    facts.append(gettext("Details: %(url)s", url=url))
    try:
        zone = ZoneInfo(item.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        zone = None
    return _Facts(
        uid=media_uid(item),
        created=item.created,
        updated=item.updated,
        # The row version rises on every change; SEQUENCE only has to rise too.
        sequence=item.version - 1,
        starts_at=item.published_at,
        ends_at=item.published_at + MEDIA_DURATION,
        zone=zone,
        summary=gettext("Media: %(headline)s", headline=item.headline),
        description="\n".join(facts),
        url=url,
        location=outlet,
        categories=[gettext("Media"), item.kind_label, *themes],
        status="CONFIRMED",
    )


def _write(facts: _Facts, ctx: RenderContext) -> RenderedEvent:
    start, start_tz, first_year = _when("DTSTART", facts.starts_at, facts.zone)
    end, end_tz, last_year = _when("DTEND", facts.ends_at, facts.zone)
    # DTSTAMP is the last change, not the request time: the same data gives the same bytes.
    stamp = _utc(facts.updated)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(facts.uid)}",
        f"DTSTAMP:{stamp}",
        f"CREATED:{_utc(facts.created)}",
        f"LAST-MODIFIED:{stamp}",
        f"SEQUENCE:{facts.sequence}",
        start,
        end,
        f"SUMMARY:{escape_text(facts.summary)}",
        f"DESCRIPTION:{escape_text(facts.description)}",
        f"URL;VALUE=URI:{facts.url}",
        f"LOCATION:{escape_text(facts.location)}",
    ]
    if facts.geo:
        lines.append(facts.geo)
    lines += [
        "CATEGORIES:" + ",".join(escape_text(c) for c in facts.categories),
        f"STATUS:{facts.status}",
        "TRANSP:TRANSPARENT" if facts.transparent else "TRANSP:OPAQUE",
        f"ORGANIZER;CN={param_value(ctx.organizer_name)}:mailto:{ctx.organizer_email}",
        *facts.related,
        "END:VEVENT",
    ]
    return RenderedEvent(
        vevent="".join(fold(line) for line in lines).encode(),
        tzid=start_tz or end_tz,
        years=(first_year, last_year),
    )


# -- VTIMEZONE ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Transition:
    at: datetime  # UTC instant of the change
    before: timedelta
    after: timedelta
    dst: bool
    name: str

    @property
    def local(self) -> datetime:
        # An observance's DTSTART is the wall time just before the change (RFC 5545 3.6.5).
        return (self.at + self.before).replace(tzinfo=None)


def _state(zone: ZoneInfo, at: datetime):
    local = at.astimezone(zone)
    return local.utcoffset(), bool(local.dst()), local.tzname()


def _transitions(zone: ZoneInfo, first_year: int, last_year: int) -> list[_Transition]:
    found = []
    at = datetime(first_year, 1, 1, tzinfo=UTC)
    stop = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    state = _state(zone, at)
    step = timedelta(hours=12)  # no zone changes its clocks twice within half a day
    while at < stop:
        nxt = at + step
        new = _state(zone, nxt)
        if new != state:
            lo, hi = at, nxt
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if _state(zone, mid) == state:
                    lo = mid
                else:
                    hi = mid
            found.append(_Transition(hi, state[0], new[0], new[1], new[2]))
            state = new
        at = nxt
    return found


def _rules(t: _Transition) -> set[str]:
    """Every yearly RRULE fragment that matches this transition's day."""
    day = t.local
    weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[day.weekday()]
    rules = {f"BYMONTHDAY={day.day}", f"BYDAY={(day.day - 1) // 7 + 1}{weekday}"}
    if day.day + 7 > calendar.monthrange(day.year, day.month)[1]:
        rules.add(f"BYDAY=-1{weekday}")
    return rules


def _preferred(rules: set[str]) -> str:
    for rule in sorted(rules):
        if rule.startswith("BYDAY=-1"):
            return rule
    for rule in sorted(rules):
        if rule.startswith("BYDAY="):
            return rule
    return min(rules)


@functools.lru_cache(maxsize=256)
def render_vtimezone(tzid: str, first_year: int, last_year: int) -> str:
    """A VTIMEZONE for ``tzid`` valid from ``first_year`` to ``last_year``.

    Written with one STANDARD and one DAYLIGHT observance per run of years that follow
    the same yearly rule (RRULE:FREQ=YEARLY;BYMONTH=..;BYDAY=..), derived from the zone's
    real transitions. icalendar's own VTIMEZONEs list every change as RDATEs, which
    classic Outlook ignores, shifting events by an hour. A zone without clock changes
    gets a single STANDARD observance.
    """
    zone = ZoneInfo(tzid)
    # One year of margin on each side so every event lies after the first onset; never
    # past the years local times are written for (see TZID_YEARS).
    lo, hi = TZID_YEARS
    first = min(max(first_year, lo), hi) - 1
    last = max(min(last_year, hi), lo) + 1
    transitions = _transitions(zone, first, last)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tzid}"]
    if not transitions:
        offset, dst, name = _state(zone, datetime(first, 7, 1, tzinfo=UTC))
        lines += [
            "BEGIN:STANDARD",
            "DTSTART:19700101T000000",
            f"TZOFFSETFROM:{_offset(offset)}",
            f"TZOFFSETTO:{_offset(offset)}",
            f"TZNAME:{escape_text(name or tzid)}",
            "END:STANDARD",
        ]
        lines.append("END:VTIMEZONE")
        return "".join(fold(line) for line in lines)

    # Group each kind of change (same offsets, name, month and wall time) into runs of
    # consecutive years whose days all fit one yearly rule.
    runs: list[list] = []  # [key, rules, [transitions]]
    open_runs: dict[tuple, list] = {}
    for t in transitions:
        key = (t.dst, t.before, t.after, t.name, t.local.month, t.local.time())
        run = open_runs.get(key)
        if run is not None and run[2][-1].local.year == t.local.year - 1 and run[1] & _rules(t):
            run[1] &= _rules(t)
            run[2].append(t)
            continue
        run = [key, _rules(t), [t]]
        open_runs[key] = run
        runs.append(run)
    for key, rules, members in sorted(runs, key=lambda r: r[2][0].at):
        head = members[0]
        kind = "DAYLIGHT" if key[0] else "STANDARD"
        lines += [
            f"BEGIN:{kind}",
            f"DTSTART:{_local(head.local)}",
        ]
        if len(members) > 1:
            rrule = f"RRULE:FREQ=YEARLY;BYMONTH={head.local.month};{_preferred(rules)}"
            # A rule whose last year is not the last year looked at has ended.
            if members[-1].local.year < last:
                rrule += f";UNTIL={_utc(members[-1].at)}"
            lines.append(rrule)
        lines += [
            f"TZOFFSETFROM:{_offset(head.before)}",
            f"TZOFFSETTO:{_offset(head.after)}",
            f"TZNAME:{escape_text(head.name)}",
            f"END:{kind}",
        ]
    lines.append("END:VTIMEZONE")
    return "".join(fold(line) for line in lines)


# -- VCALENDAR ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def calendar_head(name: str, description: str, *, subscription: bool) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{escape_text(name)}",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"X-WR-CALDESC:{escape_text(description)}",
    ]
    if subscription:
        # RFC 7986 5.7 needs VALUE=DURATION; icalendar's plain setter leaves it out.
        lines += [f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}", f"X-PUBLISHED-TTL:{REFRESH}"]
    return "".join(fold(line) for line in lines).encode()


CALENDAR_TAIL = b"END:VCALENDAR\r\n"


def timezone_spans(events: Iterable[RenderedEvent]) -> dict[str, tuple[int, int]]:
    """The zones ``events`` name, each with the first and last local year they touch."""
    spans: dict[str, tuple[int, int]] = {}
    for r in events:
        if r.tzid is None:
            continue
        lo, hi = spans.get(r.tzid, r.years)
        spans[r.tzid] = (min(lo, r.years[0]), max(hi, r.years[1]))
    return spans


def merge_spans(parts: Iterable[dict[str, tuple[int, int]]]) -> dict[str, tuple[int, int]]:
    spans: dict[str, tuple[int, int]] = {}
    for part in parts:
        for tzid, (first, last) in part.items():
            lo, hi = spans.get(tzid, (first, last))
            spans[tzid] = (min(lo, first), max(hi, last))
    return spans


def timezones_from_spans(spans: dict[str, tuple[int, int]]) -> bytes:
    return "".join(render_vtimezone(tz, *spans[tz]) for tz in sorted(spans)).encode()


def timezones_for(events: Iterable[RenderedEvent]) -> bytes:
    return timezones_from_spans(timezone_spans(events))
