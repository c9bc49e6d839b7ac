"""Campaign coverage: which theme had events in which month, where, with whom, for how many.

The numbers behind the organizers' dashboard. Every figure is aggregated in SQL with
GROUP BY over the events the list's filter selects, so the dashboard runs the same
fixed number of queries for ten events or a hundred thousand.

Months are the campaign's months: an event belongs to the month in which it starts in
the campaign time zone (an event at 00:30 on 1 March in Belgrade is a March event even
though it is still February in UTC). SQLite has no time-zone database, so instead of
converting in SQL we compute each month's first instant in Python and bucket events with
a CASE over those UTC boundaries; the same expression runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..catalog.models import Partner, Theme, Venue
from ..core import validation as rules
from ..events.filters import EventFilter, FilterError
from ..events.holidays import Holiday, holidays_between
from ..events.models import Event, EventPartner, EventStatus, event_themes

# IPAP 2 was adopted on 7 November 2019 and runs to the end of 2021: the period of the
# reach report, and of the dashboard when neither the configuration nor the data give one.
CAMPAIGN_START = date(2019, 11, 1)
CAMPAIGN_END = date(2021, 12, 31)
MAX_MONTHS = 120


@dataclass
class ThemeAttendance:
    theme: Theme
    events: int = 0
    expected: int = 0
    # Only events whose attendance was recorded can be compared with what was expected.
    reported_events: int = 0
    reported_expected: int = 0
    attendance: int = 0

    @property
    def ratio(self) -> float | None:
        if not self.reported_expected:
            return None
        return self.attendance / self.reported_expected


@dataclass
class PartnerEngagement:
    partner: Partner
    events: int = 0
    # The partner's most recent event that has started, and its next one (of those counted).
    last_start: datetime | None = None
    last_event_id: int | None = None
    next_start: datetime | None = None
    next_event_id: int | None = None


@dataclass
class Coverage:
    months: list[date]
    themes: list[Theme]
    # theme id → event count per month, in the order of ``months``
    grid: dict[int, list[int]]
    month_totals: list[int]
    total: int
    # (city, events); None is "online only"
    cities: list[tuple[str | None, int]]
    partners: list[PartnerEngagement]
    attendance: list[ThemeAttendance]
    includes_cancelled: bool = False
    years: list[tuple[int, int]] = field(default_factory=list)  # (year, months shown)
    # the public holidays in Serbia in each month, in the order of ``months``
    month_holidays: list[list[Holiday]] = field(default_factory=list)

    @property
    def gaps(self) -> int:
        return sum(1 for counts in self.grid.values() for n in counts if n == 0)

    @property
    def max_count(self) -> int:
        return max((n for counts in self.grid.values() for n in counts), default=0)


def campaign_period(session: Session, config) -> tuple[date, date]:
    """The dashboard's default range: ``CAMPAIGN_START`` and ``CAMPAIGN_END`` from the
    configuration; either one left unset is the first (last) day with an event, planned
    ones included, so every event counts; with no events, IPAP 2's period. At most
    MAX_MONTHS months: a longer span keeps its last MAX_MONTHS (the newest events)."""
    zone = config["CAMPAIGN_ZONE"]
    start, end = config.get("CAMPAIGN_START"), config.get("CAMPAIGN_END")
    if start is None or end is None:
        # Only events in the years events may have (a hand-written row in year 9999 must
        # not stretch the range beyond what a date can hold).
        window = [
            datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
            for year in (rules.FIRST_YEAR, rules.LAST_YEAR + 1)
        ]
        first, last = session.execute(
            select(func.min(Event.starts_at), func.max(Event.starts_at)).where(
                Event.starts_at >= window[0], Event.starts_at < window[1]
            )
        ).one()
        if first is not None:
            if first.tzinfo is None:  # an aggregate loses the column type
                first, last = first.replace(tzinfo=UTC), last.replace(tzinfo=UTC)
            start = start or first.astimezone(zone).date()
            end = end or max(last.astimezone(zone).date(), start)
    start, end = start or CAMPAIGN_START, end or CAMPAIGN_END
    if end < start:
        end = start
    if (end.year - start.year) * 12 + end.month - start.month + 1 > MAX_MONTHS:
        start = _add_months(end.replace(day=1), 1 - MAX_MONTHS)
    return start, end


def month_range(
    flt: EventFilter, period: tuple[date, date] = (CAMPAIGN_START, CAMPAIGN_END)
) -> list[date]:
    """The first day of each month shown: the filter's from/to, else the campaign period."""
    period_start, period_end = period
    first = (flt.date_from or period_start).replace(day=1)
    if flt.date_to:
        last = flt.date_to.replace(day=1)
    elif flt.date_from and flt.date_from > period_end:
        last = _add_months(first, 11)
    else:
        last = period_end.replace(day=1)
    if not flt.date_from and flt.date_to and flt.date_to < period_start:
        first = _add_months(last, -11)
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    if count > MAX_MONTHS:
        raise FilterError(
            "to",
            gettext(
                "the dashboard shows at most %(n)s months; choose a shorter %(range)s range",
                n=MAX_MONTHS,
                range="from–to",
            ),
        )
    return [_add_months(first, i) for i in range(count)]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # an aggregate loses the column type
        return value.replace(tzinfo=UTC)
    return value


def _add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def coverage(
    session: Session,
    flt: EventFilter,
    period: tuple[date, date] = (CAMPAIGN_START, CAMPAIGN_END),
    now: datetime | None = None,
) -> Coverage:
    """The dashboard's numbers for the events ``flt`` selects, in the months of its from/to
    or else of ``period``. Events count by the day they start (from/to included: the
    filter is read with ``dates=start``), so each number equals the count of the list it
    links to (:func:`list_args`)."""
    flt = dataclasses.replace(flt, dates="start")
    months = month_range(flt, period)
    zone = flt.campaign_zone
    bounds = [
        datetime.combine(m, time(0), tzinfo=zone).astimezone(UTC)
        for m in [*months, _add_months(months[-1], 1)]
    ]
    month_index = case(
        *[(Event.starts_at < bounds[i + 1], i) for i in range(len(months))],
        else_=None,
    )
    conditions = list(flt.conditions())
    # Cancelled events cover nothing, unless the organizer asks for them by status.
    includes_cancelled = EventStatus.cancelled.value in flt.statuses
    if not flt.statuses:
        conditions.append(Event.status != EventStatus.cancelled.value)
    matching = (
        select(
            Event.id.label("event_id"),
            month_index.label("month"),
            Event.starts_at,
            Event.venue_id,
            Event.expected_audience,
            Event.attendance,
        )
        .where(*conditions, Event.starts_at >= bounds[0], Event.starts_at < bounds[-1])
        .subquery()
    )

    themes = list(flt.themes) or session.scalars(select(Theme).order_by(Theme.name)).all()
    grid = {t.id: [0] * len(months) for t in themes}
    for theme_id, month, n in session.execute(
        select(event_themes.c.theme_id, matching.c.month, func.count())
        .join(event_themes, event_themes.c.event_id == matching.c.event_id)
        .group_by(event_themes.c.theme_id, matching.c.month)
    ):
        if theme_id in grid:
            grid[theme_id][month] = n

    month_totals = [0] * len(months)
    for month, n in session.execute(
        select(matching.c.month, func.count()).group_by(matching.c.month)
    ):
        month_totals[month] = n

    # Cities as the list's city filter reads them: case-insensitive.
    cities = session.execute(
        select(func.min(Venue.city), func.count())
        .select_from(matching)
        .outerjoin(Venue, Venue.id == matching.c.venue_id)
        .group_by(func.lower(Venue.city))
    ).all()
    # Cities with venues but no events are gaps too.
    counted = {(city or "").casefold() for city, _n in cities if city}
    for city in session.scalars(select(Venue.city).distinct()):
        if city.casefold() not in counted:
            counted.add(city.casefold())
            cities.append((city, 0))
    cities = sorted(
        ((city, n) for city, n in cities),
        key=lambda row: (-row[1], row[0] is None, (row[0] or "").casefold()),
    )

    now = now or datetime.now(UTC)
    engaged = {
        partner_id: (n, _aware(last), _aware(upcoming))
        for partner_id, n, last, upcoming in session.execute(
            select(
                EventPartner.partner_id,
                func.count(func.distinct(matching.c.event_id)),
                func.max(case((matching.c.starts_at <= now, matching.c.starts_at))),
                func.min(case((matching.c.starts_at > now, matching.c.starts_at))),
            )
            .join(EventPartner, EventPartner.event_id == matching.c.event_id)
            .group_by(EventPartner.partner_id)
        )
    }
    # Which event each of those instants is: one statement for all partners.
    wanted = {
        (pid, at) for pid, (_n, last, upcoming) in engaged.items() for at in (last, upcoming) if at
    }
    event_at: dict[tuple[int, datetime], int] = {}
    if wanted:
        for pid, starts_at, event_id in session.execute(
            select(EventPartner.partner_id, matching.c.starts_at, matching.c.event_id)
            .join(EventPartner, EventPartner.event_id == matching.c.event_id)
            .where(EventPartner.partner_id.in_(sorted({pid for pid, _at in wanted})))
            .order_by(matching.c.event_id)
        ):
            key = (pid, _aware(starts_at))
            if key in wanted:
                event_at.setdefault(key, event_id)
    partners = []
    for partner in session.scalars(select(Partner).order_by(Partner.name)):
        n, last, upcoming = engaged.get(partner.id, (0, None, None))
        partners.append(
            PartnerEngagement(
                partner,
                n,
                last,
                event_at.get((partner.id, last)),
                upcoming,
                event_at.get((partner.id, upcoming)),
            )
        )
    partners.sort(key=lambda p: (-p.events, p.partner.name.casefold()))

    reported = matching.c.attendance.is_not(None)
    attendance = {t.id: ThemeAttendance(t) for t in themes}
    for theme_id, n, expected, n_reported, reported_expected, came in session.execute(
        select(
            event_themes.c.theme_id,
            func.count(),
            func.coalesce(func.sum(matching.c.expected_audience), 0),
            func.count(matching.c.attendance),
            func.coalesce(func.sum(case((reported, matching.c.expected_audience))), 0),
            func.coalesce(func.sum(matching.c.attendance), 0),
        )
        .join(event_themes, event_themes.c.event_id == matching.c.event_id)
        .group_by(event_themes.c.theme_id)
    ):
        if theme_id in attendance:
            attendance[theme_id] = dataclasses.replace(
                attendance[theme_id],
                events=n,
                expected=int(expected),
                reported_events=n_reported,
                reported_expected=int(reported_expected),
                attendance=int(came),
            )

    years: list[tuple[int, int]] = []
    for m in months:
        if years and years[-1][0] == m.year:
            years[-1] = (m.year, years[-1][1] + 1)
        else:
            years.append((m.year, 1))

    return Coverage(
        months=months,
        themes=list(themes),
        grid=grid,
        month_totals=month_totals,
        total=sum(n for _city, n in cities),
        cities=cities,
        partners=partners,
        attendance=list(attendance.values()),
        includes_cancelled=includes_cancelled,
        years=years,
        month_holidays=[
            list(holidays_between(m, _add_months(m, 1) - timedelta(days=1)).values())
            for m in months
        ],
    )


def list_args(
    flt: EventFilter,
    first: date,
    last: date,
    *,
    theme: str | None = None,
    city: str | None = None,
    partner: str | None = None,
    online: str | None = None,
    attendance: str | None = None,
) -> list[tuple[str, str]]:
    """The query of the event list that shows exactly the events a dashboard number counts:
    the dashboard's filter (``theme``, ``city``, ``partner``, ``online`` or ``attendance``
    replacing its own; ``online`` its cities too), events starting from ``first`` to
    ``last`` (within the filter's own from/to; ``dates=start``), the statuses the dashboard
    counts (not cancelled unless asked for), on both sides of now (``when=all``)."""
    given = {
        "theme": theme,
        "city": city,
        "partner": partner,
        "online": online,
        "attendance": attendance,
    }
    replaced = {"from", "to", "dates", "when"} | {name for name, value in given.items() if value}
    if online:
        replaced.add("city")
    pairs = [(k, v) for k, v in flt.args if k not in replaced]
    if not flt.statuses:
        counted = (
            [EventStatus.draft, EventStatus.confirmed]
            if flt.include_drafts
            else [EventStatus.confirmed]
        )
        pairs += [("status", s.value) for s in counted]
    pairs += [(name, value) for name, value in given.items() if value]
    start = max(first, flt.date_from) if flt.date_from else first
    end = min(last, flt.date_to) if flt.date_to else last
    pairs += [
        ("from", start.isoformat()),
        ("to", end.isoformat()),
        ("dates", "start"),
        ("when", "all"),
    ]
    return pairs


def month_end(month: date) -> date:
    return _add_months(month, 1) - timedelta(days=1)
