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
from ..events.filters import EventFilter, FilterError
from ..events.holidays import Holiday, holidays_between
from ..events.models import Event, EventPartner, EventStatus, event_themes

# IPAP 2 was adopted on 7 November 2019 and runs to the end of 2021.
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
    last_start: datetime | None = None


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


def month_range(flt: EventFilter) -> list[date]:
    """The first day of each month shown: the filter's from/to, else the campaign period."""
    first = (flt.date_from or CAMPAIGN_START).replace(day=1)
    if flt.date_to:
        last = flt.date_to.replace(day=1)
    elif flt.date_from and flt.date_from > CAMPAIGN_END:
        last = _add_months(first, 11)
    else:
        last = CAMPAIGN_END.replace(day=1)
    if not flt.date_from and flt.date_to and flt.date_to < CAMPAIGN_START:
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


def _add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def coverage(session: Session, flt: EventFilter) -> Coverage:
    months = month_range(flt)
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

    cities = session.execute(
        select(Venue.city, func.count())
        .select_from(matching)
        .outerjoin(Venue, Venue.id == matching.c.venue_id)
        .group_by(Venue.city)
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

    engaged = {
        partner_id: (n, last)
        for partner_id, n, last in session.execute(
            select(
                EventPartner.partner_id,
                func.count(func.distinct(matching.c.event_id)),
                func.max(matching.c.starts_at),
            )
            .join(EventPartner, EventPartner.event_id == matching.c.event_id)
            .group_by(EventPartner.partner_id)
        )
    }
    partners = []
    for partner in session.scalars(select(Partner).order_by(Partner.name)):
        n, last = engaged.get(partner.id, (0, None))
        if last is not None and last.tzinfo is None:  # an aggregate loses the column type
            last = last.replace(tzinfo=UTC)
        partners.append(PartnerEngagement(partner, n, last))
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
