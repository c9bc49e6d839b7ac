"""The reach report: events and media items per theme × month, per city, per partner and
per outlet kind, for the list's filters.

Every figure is aggregated in SQL with GROUP BY (a fixed number of statements whatever
the data size), months are the campaign's months as on the dashboard (see
dashboard.coverage), events are those the EventFilter selects and media items those the
MediaFilter selects from the same parameters. Events held are confirmed events unless a
status is asked for; media items are the published ones unless organizers ask for
planned ones. Attendance (recorded) and expected audience are summed apart, never mixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..catalog.models import Partner, Theme, Venue
from ..dashboard.coverage import _add_months, month_range
from ..events.filters import EventFilter
from ..events.models import Event, EventPartner, EventStatus, event_themes
from ..media.filters import MediaFilter
from ..media.models import MediaItem, MediaKind, media_item_themes


@dataclass
class Cell:
    events: int = 0
    attendance: int = 0
    expected: int = 0
    media: int = 0
    reach: int = 0

    @property
    def empty(self) -> bool:
        return not self.events and not self.media


@dataclass
class Row:
    """One line of a table: a theme, a city, a partner or an outlet kind."""

    label: str
    cell: Cell = field(default_factory=Cell)
    key: str = ""


@dataclass
class Reach:
    months: list[date]
    themes: list[Theme]
    grid: dict[int, list[Cell]]  # theme id → a Cell per month
    month_totals: list[Cell]
    theme_totals: dict[int, Cell]
    cities: list[Row]
    partners: list[Row]
    kinds: list[Row]
    totals: Cell

    @property
    def gaps(self) -> list[tuple[Theme, date]]:
        return [
            (theme, month)
            for theme in self.themes
            for month, cell in zip(self.months, self.grid[theme.id], strict=True)
            if cell.empty
        ]


def _month_bounds(months: list[date], zone) -> list[datetime]:
    return [
        datetime.combine(m, time(0), tzinfo=zone).astimezone(UTC)
        for m in [*months, _add_months(months[-1], 1)]
    ]


def _month_index(column, bounds):
    return case(*[(column < bounds[i + 1], i) for i in range(len(bounds) - 1)], else_=None)


def event_conditions(flt: EventFilter) -> list:
    conditions = list(flt.conditions())
    if not flt.statuses:
        conditions.append(Event.status == EventStatus.confirmed.value)
    return conditions


def reach(session: Session, flt: EventFilter, media_flt: MediaFilter) -> Reach:
    months = month_range(flt)
    bounds = _month_bounds(months, flt.campaign_zone)
    events = (
        select(
            Event.id.label("event_id"),
            _month_index(Event.starts_at, bounds).label("month"),
            Event.venue_id,
            Event.expected_audience,
            Event.attendance,
        )
        .where(*event_conditions(flt), Event.starts_at >= bounds[0], Event.starts_at < bounds[-1])
        .subquery()
    )
    media = (
        select(
            MediaItem.id.label("item_id"),
            _month_index(MediaItem.published_at, bounds).label("month"),
            MediaItem.outlet_id,
            MediaItem.kind,
            MediaItem.estimated_reach,
        )
        .where(
            *media_flt.conditions(),
            MediaItem.published_at >= bounds[0],
            MediaItem.published_at < bounds[-1],
        )
        .subquery()
    )
    event_sums = (
        func.count(),
        func.coalesce(func.sum(events.c.attendance), 0),
        func.coalesce(func.sum(events.c.expected_audience), 0),
    )
    media_sums = (func.count(), func.coalesce(func.sum(media.c.estimated_reach), 0))

    themes = (
        list(flt.themes or media_flt.themes)
        or session.scalars(select(Theme).order_by(Theme.name)).all()
    )
    grid = {t.id: [Cell() for _ in months] for t in themes}
    for theme_id, month, n, came, expected in session.execute(
        select(event_themes.c.theme_id, events.c.month, *event_sums)
        .join(event_themes, event_themes.c.event_id == events.c.event_id)
        .group_by(event_themes.c.theme_id, events.c.month)
    ):
        if theme_id in grid:
            cell = grid[theme_id][month]
            cell.events, cell.attendance, cell.expected = n, int(came), int(expected)
    for theme_id, month, n, people in session.execute(
        select(media_item_themes.c.theme_id, media.c.month, *media_sums)
        .join(media_item_themes, media_item_themes.c.media_item_id == media.c.item_id)
        .group_by(media_item_themes.c.theme_id, media.c.month)
    ):
        if theme_id in grid:
            grid[theme_id][month].media, grid[theme_id][month].reach = n, int(people)

    # One scan of the events by month × venue gives the month totals and the cities; one
    # of the media items by month × outlet × kind gives their month totals, cities,
    # outlets and kinds. Totals count each event and item once, whatever its themes.
    month_totals = [Cell() for _ in months]
    by_venue: dict[int | None, Cell] = {}
    for month, venue_id, n, came, expected in session.execute(
        select(events.c.month, events.c.venue_id, *event_sums).group_by(
            events.c.month, events.c.venue_id
        )
    ):
        for cell in (month_totals[month], by_venue.setdefault(venue_id, Cell())):
            cell.events += n
            cell.attendance += int(came)
            cell.expected += int(expected)
    by_outlet: dict[int, Cell] = {}
    kind_cells = {k.value: Cell() for k in MediaKind}
    for month, outlet_id, kind, n, people in session.execute(
        select(media.c.month, media.c.outlet_id, media.c.kind, *media_sums).group_by(
            media.c.month, media.c.outlet_id, media.c.kind
        )
    ):
        for cell in (month_totals[month], by_outlet.setdefault(outlet_id, Cell()),
                     kind_cells[kind]):  # fmt: skip
            cell.media += n
            cell.reach += int(people)
    totals = Cell(
        events=sum(c.events for c in month_totals),
        attendance=sum(c.attendance for c in month_totals),
        expected=sum(c.expected for c in month_totals),
        media=sum(c.media for c in month_totals),
        reach=sum(c.reach for c in month_totals),
    )
    theme_totals = {
        tid: Cell(
            events=sum(c.events for c in cells),
            attendance=sum(c.attendance for c in cells),
            expected=sum(c.expected for c in cells),
            media=sum(c.media for c in cells),
            reach=sum(c.reach for c in cells),
        )
        for tid, cells in grid.items()
    }

    # Partners: events they took part in, items they published (as outlets).
    by_partner: dict[int, Cell] = {}
    for partner_id, n, came, expected in session.execute(
        select(
            EventPartner.partner_id,
            func.count(func.distinct(events.c.event_id)),
            func.coalesce(func.sum(events.c.attendance), 0),
            func.coalesce(func.sum(events.c.expected_audience), 0),
        )
        .join(EventPartner, EventPartner.event_id == events.c.event_id)
        .group_by(EventPartner.partner_id)
    ):
        by_partner[partner_id] = Cell(events=n, attendance=int(came), expected=int(expected))
    for partner_id, cell in by_outlet.items():
        mine = by_partner.setdefault(partner_id, Cell())
        mine.media, mine.reach = cell.media, cell.reach
    names, partner_city = {}, {}
    for pid, name, city in session.execute(
        select(Partner.id, Partner.name, Partner.city).where(Partner.id.in_(list(by_partner)))
    ):
        names[pid], partner_city[pid] = name, city
    partners = sorted(
        (Row(label=names[pid], cell=cell, key=str(pid)) for pid, cell in by_partner.items()),
        key=lambda r: (-(r.cell.events + r.cell.media), r.label.casefold()),
    )

    # Cities: events by their venue's city, media items by their outlet's city.
    by_city: dict[str, Row] = {}

    def city_row(city: str | None) -> Row:
        key = (city or "").strip()
        return by_city.setdefault(key.casefold(), Row(label=key, key=key))

    venue_city = dict(
        session.execute(
            select(Venue.id, Venue.city).where(Venue.id.in_([v for v in by_venue if v]))
        ).all()
    )
    for venue_id, cell in by_venue.items():
        mine = city_row(venue_city.get(venue_id)).cell
        mine.events += cell.events
        mine.attendance += cell.attendance
        mine.expected += cell.expected
    for outlet_id, cell in by_outlet.items():
        mine = city_row(partner_city.get(outlet_id)).cell
        mine.media += cell.media
        mine.reach += cell.reach
    cities = sorted(
        by_city.values(), key=lambda r: (-(r.cell.events + r.cell.media), r.label.casefold())
    )

    kinds = [Row(label=MediaKind(k).label, cell=c, key=k) for k, c in kind_cells.items()]

    return Reach(
        months=months,
        themes=themes,
        grid=grid,
        month_totals=month_totals,
        theme_totals=theme_totals,
        cities=cities,
        partners=partners,
        kinds=kinds,
        totals=totals,
    )
