"""Lists of events from the request: the filter (with who may see drafts), one page of
it, and the choices the filter form offers. Every HTML list, feed and export starts here."""

from __future__ import annotations

from flask import current_app, request
from sqlalchemy import select

from ..auth.access import sees_drafts
from ..catalog.models import Partner, Theme, Venue
from ..db import get_session
from ..web import campaign_zone
from .filters import PUBLIC_STATUSES, EventFilter, FilterError
from .models import EventFormat, EventStatus


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
