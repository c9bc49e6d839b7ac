"""Series: planning a run of events and making it, in one transaction.

A series is planned as a list of stops (local date, start and end time, venue): typed row
by row for a tour, or expanded from a recurrence rule with python-dateutil's ``rrule``.
Expansion happens in wall-clock time of the event's zone, and each stop is then read in
that zone, so a round table at 18:00 stays at 18:00 across the changes to and from
summer time. :func:`plan` checks the stops and finds their clashes and holidays without
keeping anything; :func:`create_series` writes the series and every occurrence, each a
full event made by the events' own operations, and commits once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, WEEKLY, rrule, rruleset, weekday
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.models import User
from ..catalog.models import Partner, Theme, Venue
from ..core import validation as rules
from ..core.audit import log, who
from ..core.errors import ConflictError, ValidationError
from ..events import operations as event_ops
from ..events.clashes import find_clashes
from ..events.filters import event_list_loading
from ..events.holidays import Holiday, holidays_during
from ..events.models import Event
from ..i18n import format_when, localized, long_date
from .models import Series, SeriesKind

FREQUENCIES = {"weekly": WEEKLY, "monthly": MONTHLY}


@dataclass
class SharedData:
    """What every occurrence of a series shares."""

    title: str
    format: str
    status: str
    timezone: str = "Europe/Belgrade"
    description: str = ""
    title_en: str = ""
    description_en: str = ""
    online_url: str = ""
    themes: list[Theme] = field(default_factory=list)
    partners: list[tuple[Partner, str]] = field(default_factory=list)
    expected_audience: int | None = None


@dataclass
class Stop:
    """One planned occurrence in wall-clock time of the series' zone."""

    day: date
    start: time
    end: time
    venue: Venue | None = None


@dataclass
class Recurrence:
    """A rule as the organizer gives it. ``weekdays`` are 0 (Monday) to 6; with ``nth``
    (1 to 5, or -1 for the last) a monthly rule means "the n-th <weekday> of the month"."""

    first_day: date
    start: time
    end: time
    frequency: str = "weekly"
    interval: int = 1
    weekdays: list[int] = field(default_factory=list)
    nth: int | None = None
    until: date | None = None
    count: int | None = None
    skipped: list[date] = field(default_factory=list)
    venue: Venue | None = None

    def _rule(self) -> rrule:
        options: dict = {"interval": self.interval}
        if self.frequency == "weekly" and self.weekdays:
            options["byweekday"] = sorted(set(self.weekdays))
        if self.frequency == "monthly" and self.nth is not None:
            day = self.weekdays[0] if self.weekdays else self.first_day.weekday()
            options["byweekday"] = [weekday(day, self.nth)]
        if self.count is not None:
            options["count"] = self.count
        else:
            # Until is a date in the series' zone: its whole day counts.
            options["until"] = datetime.combine(self.until, time(23, 59, 59))
        return rrule(
            FREQUENCIES[self.frequency],
            dtstart=datetime.combine(self.first_day, self.start),
            **options,
        )

    def rule_text(self) -> str:
        """The rule in RFC 5545 form (RRULE and EXDATE lines), shown on the series page."""
        text = str(self._rule()).splitlines()[-1]
        if self.skipped:
            text += "\nEXDATE:" + ",".join(d.strftime("%Y%m%d") for d in sorted(self.skipped))
        return text

    def stops(self) -> list[Stop]:
        """The dates the rule gives, less the skipped ones (RFC 5545: COUNT counts before
        EXDATE takes dates out). At most MAX_OCCURRENCES + 1 are expanded, so a rule for
        every day of eighty years costs nothing to refuse."""
        errors: dict[str, str] = {}
        rules.add(errors, "interval", rules.repeat_interval(self.interval))
        rules.add(errors, "skipped", rules.skipped_count(len(set(self.skipped))))
        if self.count is not None:
            rules.add(errors, "count", rules.repeat_count(self.count))
        if (self.count is None) == (self.until is None):
            errors["until"] = gettext("Give either an end date or a number of dates, not both.")
        elif self.until is not None and self.until < self.first_day:
            errors["until"] = gettext("The end date is before the first date.")
        if self.frequency not in FREQUENCIES:
            errors["frequency"] = gettext("Choose weekly or monthly.")
        if self.nth is not None and self.nth not in (1, 2, 3, 4, 5, -1):
            errors["nth"] = gettext("Choose the first to fifth, or the last, weekday of the month.")
        if any(not 0 <= d <= 6 for d in self.weekdays):
            errors["weekdays"] = gettext("Choose days of the week from Monday to Sunday.")
        elif self.frequency == "monthly" and self.nth is None and self.weekdays:
            errors["weekdays"] = gettext(
                "A monthly series on a day of the week needs which one in the month (first "
                "to fifth, or last); or choose no day for the same date each month."
            )
        rules.add(errors, "end", rules.end_after_start(self.start, self.end))
        if errors:
            raise ValidationError(errors)
        ruleset = rruleset()
        ruleset.rrule(self._rule())
        days = []
        cut = False
        for moment in ruleset:
            days.append(moment.date())
            if len(days) > rules.MAX_OCCURRENCES + len(self.skipped):
                cut = True  # too many whatever is skipped: the count rule says so
                break
        given = set(days)  # sets: both lists can be hundreds long
        unknown = [] if cut else sorted(d for d in set(self.skipped) if d not in given)
        if unknown:
            raise ValidationError(
                {
                    "skipped": gettext(
                        "%(day)s is not one of the series' dates; check the skipped dates.",
                        day=long_date(unknown[0]),
                    )
                }
            )
        skipped = set(self.skipped)
        return [Stop(d, self.start, self.end, self.venue) for d in days if d not in skipped]


@dataclass
class PlannedOccurrence:
    """A stop as the preview shows it: its times, warnings and problems, as plain values
    (nothing in it refers to the database once the plan is made)."""

    number: int
    start: datetime  # aware, in the series' zone
    end: datetime
    venue: str
    holidays: list[Holiday]
    clashes: list[dict]


def _instant(day: date, clock: time, zone: ZoneInfo) -> datetime | None:
    """Wall-clock ``day clock`` in ``zone``; None when the clocks skip that time."""
    local = datetime.combine(day, clock, tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return local


def _event_data(shared: SharedData, stop: Stop, zone: ZoneInfo) -> event_ops.EventData:
    """The event of one stop; a ValidationError naming the stop when its time is wrong."""
    start = _instant(stop.day, stop.start, zone)
    end_day = stop.day if stop.end > stop.start else stop.day + timedelta(days=1)
    end = _instant(end_day, stop.end, zone)
    for clock, instant in ((stop.start, start), (stop.end, end)):
        if instant is None:
            raise ValidationError(
                {
                    "stops": gettext(
                        "%(time)s does not exist on %(day)s in %(zone)s: the clocks skip that hour.",
                        time=f"{clock:%H:%M}",
                        day=long_date(stop.day),
                        zone=zone.key,
                    )
                }
            )
    return event_ops.EventData(
        title=shared.title,
        format=shared.format,
        status=shared.status,
        starts_at=start.astimezone(UTC),
        ends_at=end.astimezone(UTC),
        timezone=shared.timezone,
        venue=stop.venue,
        online_url=shared.online_url,
        description=shared.description,
        title_en=shared.title_en,
        description_en=shared.description_en,
        themes=list(shared.themes),
        partners=list(shared.partners),
        expected_audience=shared.expected_audience,
    )


def check_shared(shared: SharedData) -> None:
    """The events' rules for the fields every occurrence shares, without a date, so a
    builder shows their messages together with those of the dates (one round)."""
    start = datetime(2000, 1, 3, 10, tzinfo=UTC)
    data = event_ops.EventData(
        title=shared.title,
        format=shared.format,
        status=shared.status,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        timezone=shared.timezone,
        online_url=shared.online_url,
        description=shared.description,
        title_en=shared.title_en,
        description_en=shared.description_en,
        themes=list(shared.themes),
        partners=list(shared.partners),
        expected_audience=shared.expected_audience,
    )
    try:
        event_ops.validate_event(data)
    except ValidationError as exc:
        errors = {k: v for k, v in exc.errors.items() if k not in ("starts_at", "ends_at")}
        if errors:
            raise ValidationError(errors) from None


def _check(shared: SharedData, stops: list[Stop]) -> ZoneInfo:
    errors: dict[str, str] = {}
    rules.add(errors, "timezone", rules.zone(shared.timezone))
    rules.add(errors, "stops", rules.occurrence_count(len(stops)))
    for stop in stops:
        message = rules.date_in_window(stop.day)
        if message:
            errors["stops"] = message
            break
    if errors:
        raise ValidationError(errors)
    return ZoneInfo(shared.timezone.strip())


def _build(
    session: Session, actor: User | None, shared: SharedData, stops: list[Stop], kind, rule: str
) -> tuple[Series, list[Event]]:
    """The series and its events added to the session (not committed)."""
    zone = _check(shared, stops)
    data = [_event_data(shared, stop, zone) for stop in stops]
    series = Series(
        uid=f"series-{uuid.uuid4()}@ipap2-campaign",
        title=shared.title.strip(),
        title_en=shared.title_en.strip(),
        description=rules.normalise_newlines(shared.description),
        format=shared.format,
        kind=kind.value,
        rule=rule,
        owner_id=actor.id if actor else None,
    )
    session.add(series)
    events = []
    for number, item in enumerate(data, start=1):
        try:
            events.append(event_ops.add_event(session, actor, item, series=series))
        except ValidationError as exc:
            if number == 1:
                raise
            # The shared fields were right for the first stop: the problem is this one's.
            raise ValidationError(
                {"stops": gettext("Date %(n)s: %(problems)s", n=number, problems=exc)}
            ) from None
    return series, events


def plan(
    session: Session,
    actor: User | None,
    shared: SharedData,
    stops: list[Stop],
    kind: SeriesKind,
    rule: str = "",
) -> list[PlannedOccurrence]:
    """The preview: each stop with its time, holidays and clashes (with saved events and
    with the other stops), found by the same rules as for saved events. Nothing is kept:
    the transaction is rolled back whatever happens."""
    try:
        _series, events = _build(session, actor, shared, stops, kind, rule)
        session.flush()
        clashes = find_clashes(session, events)
        planned = []
        for number, event in enumerate(events, start=1):
            start, end = event.local_start, event.local_end
            planned.append(
                PlannedOccurrence(
                    number=number,
                    start=start,
                    end=end,
                    venue=(
                        f"{localized(event.venue, 'name')}, {localized(event.venue, 'city')}"
                        if event.venue
                        else ""
                    ),
                    holidays=holidays_during(start, end),
                    clashes=[
                        {
                            "id": c.other.id if c.other.series_id is None else None,
                            "title": localized(c.other, "title"),
                            "when": format_when(c.other),
                            "reasons": c.reasons(),
                            "in_series": c.other in events,
                        }
                        for c in clashes.get(event.id, [])
                    ],
                )
            )
        return planned
    finally:
        session.rollback()


def create_series(
    session: Session,
    actor: User | None,
    shared: SharedData,
    stops: list[Stop],
    kind: SeriesKind,
    rule: str = "",
) -> Series:
    """Make the series and all its occurrences in one transaction: all or nothing."""
    try:
        series, events = _build(session, actor, shared, stops, kind, rule)
        session.commit()
    except Exception:
        session.rollback()
        raise
    log.info(
        "series.created actor=%s series=%s uid=%s kind=%s events=%s title=%r",
        who(actor),
        series.id,
        series.uid,
        series.kind,
        len(events),
        series.title,
    )
    for event in events:
        event_ops.log_created(actor, event, series=series.id)
    return series


SCOPES = ("this", "following", "all")


def update_shared(
    session: Session,
    actor: User | None,
    series: Series,
    anchor: Event,
    scope: str,
    shared: SharedData,
    versions: dict[int, int],
) -> list[Event]:
    """Apply the shared fields to ``anchor`` only, to it and the later occurrences, or to
    all, in one transaction. Each event is checked against the row version the form was
    opened at (``versions``); only events whose fields change get a history entry and a
    new DTSTAMP (and SEQUENCE, when a field calendars replace their copy for changes).
    Status, time and venue stay each occurrence's own. Returns the changed events."""
    if scope not in SCOPES:
        session.rollback()
        raise ValidationError({"scope": gettext("Choose this date, this and following, or all.")})
    events = session.scalars(
        select(Event)
        .where(Event.series_id == series.id)
        .options(*event_list_loading())
        .order_by(Event.starts_at, Event.id)
    ).all()
    if scope == "this":
        chosen = [e for e in events if e.id == anchor.id]
    elif scope == "following":
        chosen = [e for e in events if (e.starts_at, e.id) >= (anchor.starts_at, anchor.id)]
    else:
        chosen = list(events)
    changed: list[tuple[Event, dict]] = []
    try:
        for event in chosen:
            if event.id not in versions:
                raise ConflictError(
                    gettext(
                        "The series changed after you opened the form (a date was added or "
                        "moved). Nothing of yours was saved."
                    )
                )
            data = event_ops.event_data(event)
            data.title = shared.title
            data.format = shared.format
            data.description = shared.description
            data.title_en = shared.title_en
            data.description_en = shared.description_en
            data.online_url = shared.online_url
            data.themes = list(shared.themes)
            data.partners = list(shared.partners)
            data.expected_audience = shared.expected_audience
            diff = event_ops.change_event(session, actor, event, data, versions[event.id])
            if diff:
                changed.append((event, diff))
        if len(chosen) == len(events):
            # Every date (whatever the scope was called): the series' own fields follow.
            series.title = shared.title.strip()
            series.title_en = shared.title_en.strip()
            series.description = rules.normalise_newlines(shared.description)
            series.format = shared.format
        event_ops.commit(session)
    except Exception:
        session.rollback()
        raise
    for event, diff in changed:
        event_ops.log_changed(actor, event, "updated", diff)
    return [event for event, _diff in changed]
