"""Lists of events from the request: the filter (with who may see drafts), one page of
it, and the choices the filter form offers. Every HTML list, feed and export starts here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, request
from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import Session

from ..auth.access import sees_drafts
from ..catalog.models import Partner, Theme, Venue
from ..db import get_session
from ..web import campaign_zone
from .filters import PUBLIC_STATUSES, EventFilter, FilterError
from .models import Event, EventFormat, EventStatus


def request_filter(
    fixed: dict | None = None, args=None, *, drafts: bool | None = None
) -> EventFilter:
    """The EventFilter of this request's query string; raises FilterError on bad values.

    Drafts are included when the visitor may see them (:func:`sees_drafts`) unless the
    caller decides otherwise (a feed decides by its token, never by the cookie)."""
    return EventFilter.parse(
        request.args if args is None else args,
        get_session(),
        include_drafts=sees_drafts() if drafts is None else drafts,
        campaign_zone=campaign_zone(),
        fixed=fixed,
    )


def visible_filter() -> EventFilter:
    """No parameters: just what the current user may see (drafts for organizers only)."""
    return EventFilter(include_drafts=sees_drafts(), campaign_zone=campaign_zone())


def events_page(fixed: dict | None = None) -> dict:
    """One page of the request's filtered events, for every paginated HTML list; on a bad
    parameter, the error instead (the page shows it with status 400)."""
    try:
        flt = request_filter(fixed=fixed)
    except FilterError as exc:
        return {
            "error": exc,
            "flt": None,
            "events": [],
            "count": 0,
            "page": 1,
            "pages": 0,
            "listing": None,
        }
    listing = flt.page_of(
        get_session(),
        current_app.config["EVENTS_PER_PAGE"],
        count_limit=current_app.config["EVENTS_COUNT_LIMIT"],
    )
    return {
        "error": None,
        "flt": flt,
        "events": listing.events,
        "count": listing.upcoming + listing.past,
        "page": flt.page,
        "pages": listing.pages,
        "listing": listing,
    }


def filter_choices() -> dict:
    """The values the filter form offers."""
    session = get_session()
    drafts = sees_drafts()
    return {
        "all_themes": session.scalars(select(Theme).order_by(Theme.name)).all(),
        "all_partners": session.scalars(select(Partner).order_by(Partner.name)).all(),
        "all_cities": sorted(set(session.scalars(select(Venue.city).distinct())), key=str.casefold),
        "formats": [(f.value, f.label) for f in EventFormat],
        "statuses": [
            (s.value, s.label) for s in EventStatus if drafts or s.value in PUBLIC_STATUSES
        ],
    }


@dataclass
class MonthDays:
    """The month grid's contents: per day the number of events on it and the ids of the
    first few (in start order), and the number of events in the month."""

    counts: dict[date, int]
    shown: dict[date, list[int]]
    total: int


def month_days(
    session: Session, flt: EventFilter, first: date, last: date, per_day: int
) -> MonthDays:
    """Which events fall on each day of ``first``..``last`` (days in the filter's zone),
    aggregated in SQL in one statement whatever the number of events: each matching event
    gets the index of its first and last day (a CASE tree over the days' midnights, so
    summer time is right on both databases); a window function counts the events
    starting on each day and ranks them; only the first ``per_day`` of each day come
    back, and the few events that last past midnight (they are shown on every day they
    cover)."""
    zone = flt.campaign_zone
    days = (last - first).days + 1
    # The UTC instants of the midnights between the days (day k starts at bounds[k - 1]).
    bounds = [
        datetime.combine(first + timedelta(days=k), time(0), tzinfo=zone).astimezone(UTC)
        for k in range(1, days)
    ]
    starts = Event.starts_at.label("starts_at")
    inner = (
        select(
            Event.id.label("id"),
            starts,
            _day_index(Event.starts_at, bounds, strict=False).label("s"),
            _day_index(Event.ends_at, bounds, strict=True).label("e"),
        )
        .where(*flt.conditions())
        .subquery()
    )
    ranked = select(
        inner.c.id,
        inner.c.s,
        inner.c.e,
        func.row_number()
        .over(partition_by=inner.c.s, order_by=(inner.c.starts_at, inner.c.id))
        .label("rn"),
        func.count().over(partition_by=inner.c.s).label("n"),
    ).subquery()
    rows = session.execute(
        select(ranked.c.id, ranked.c.s, ranked.c.e, ranked.c.rn, ranked.c.n)
        .where(or_(ranked.c.rn <= per_day, ranked.c.s != ranked.c.e))
        .order_by(ranked.c.s, ranked.c.rn)
    ).all()
    starting = {row.s: row.n for row in rows if row.rn == 1}
    spanning = [row for row in rows if row.s != row.e]
    counts: dict[date, int] = {}
    shown: dict[date, list[int]] = {}
    for k in range(days):
        # Events from earlier days still going on (they started first), then the day's own.
        ids = [row.id for row in spanning if row.s < k <= row.e]
        n = len(ids) + starting.get(k, 0)
        if n:
            ids += [row.id for row in rows if row.s == k and row.rn <= per_day]
            day = first + timedelta(days=k)
            counts[day] = n
            shown[day] = ids[:per_day]
    return MonthDays(counts=counts, shown=shown, total=sum(starting.values()))


def _day_index(column, bounds: list[datetime], *, strict: bool, offset: int = 0):
    """How many of ``bounds`` (sorted) lie before ``column`` (``strict``: strictly before,
    for an end, which is exclusive), as a balanced tree of CASEs: about five
    comparisons per row for a month."""
    if not bounds:
        return literal(offset)
    mid = len(bounds) // 2
    after = column > bounds[mid] if strict else column >= bounds[mid]
    return case(
        (after, _day_index(column, bounds[mid + 1 :], strict=strict, offset=offset + mid + 1)),
        else_=_day_index(column, bounds[:mid], strict=strict, offset=offset),
    )
