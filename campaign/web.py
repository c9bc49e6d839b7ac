"""What every page shares: the filter from the URL (with who may see drafts), one page of
a list, the filter form's choices, links that keep the filter, and times in the right zone."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from .auth.access import sees_drafts
from .catalog.models import Partner, Theme, Venue
from .core import validation as rules
from .db import get_session
from .events.filters import PUBLIC_STATUSES, EventFilter, FilterError
from .events.models import EventFormat, EventStatus


class IdConverter(IntegerConverter):
    """``<id:event_id>``: a row id, 1 to the largest value an id column holds, in ASCII digits.

    Anything else is no page (404) before the database is asked: werkzeug's ``int`` takes
    any Unicode digit and any length, and a number past the column's range fails in the
    driver (SQLite) or the server (PostgreSQL) instead of finding nothing."""

    regex = f"[0-9]{{1,{len(str(rules.MAX_ID))}}}"

    def __init__(self, map):
        super().__init__(map, min=1, max=rules.MAX_ID)


def campaign_zone() -> ZoneInfo:
    return current_app.config["CAMPAIGN_ZONE"]


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
        return {"error": exc, "flt": None, "events": [], "count": 0, "page": 1, "pages": 0}
    events, count, pages = flt.page_of(get_session(), current_app.config["EVENTS_PER_PAGE"])
    return {
        "error": None,
        "flt": flt,
        "events": events,
        "count": count,
        "page": flt.page,
        "pages": pages,
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


def format_when(event) -> str:
    """'Tue 3 Mar 2020, 18:00–20:00 CET' in the event's own zone."""
    start, end = event.local_start, event.local_end
    day = f"{start:%a} {start.day} {start:%b %Y}"
    if start.date() == end.date():
        tz = start.strftime("%Z")
        return f"{day}, {start:%H:%M}–{end:%H:%M} {tz}"
    return f"{day}, {start:%H:%M} {start:%Z} – {end:%a} {end.day} {end:%b %Y}, {end:%H:%M} {end:%Z}"


def format_datetime(value: datetime | None, zone: ZoneInfo | str | None = None) -> str:
    """A stored UTC instant shown in the campaign's zone (or the one given)."""
    if value is None:
        return ""
    if isinstance(zone, str):
        zone = ZoneInfo(zone)
    local = value.astimezone(zone or campaign_zone())
    return f"{local.day} {local:%b %Y}, {local:%H:%M} {local:%Z}"


def url_keeping_filter(endpoint_url: str, flt: EventFilter | None, **extra) -> str:
    pairs = flt.query_args(**extra) if flt else [(k, v) for k, v in extra.items() if v is not None]
    return endpoint_url + ("?" + urlencode(pairs) if pairs else "")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["when"] = format_when
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.globals["url_keeping_filter"] = url_keeping_filter

    @app.context_processor
    def _globals():
        return {
            "campaign_name": app.config["CAMPAIGN_NAME"],
            "campaign_zone": campaign_zone(),
            "now_utc": datetime.now(UTC),
        }
