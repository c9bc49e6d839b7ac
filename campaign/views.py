"""What every page shares: time formatting in the right zone, the filter from the URL,
links that keep the filter, and error pages."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, render_template, request
from flask_login import current_user

from .db import get_session
from .filters import EventFilter, FilterError


def campaign_zone() -> ZoneInfo:
    return current_app.config["CAMPAIGN_ZONE"]


def request_filter(fixed: dict | None = None, args=None) -> EventFilter:
    """The EventFilter of this request's query string; raises FilterError on bad values."""
    return EventFilter.parse(
        request.args if args is None else args,
        get_session(),
        include_drafts=current_user.is_authenticated,
        campaign_zone=campaign_zone(),
        fixed=fixed,
    )


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

    @app.errorhandler(FilterError)
    def _bad_filter(exc: FilterError):
        # Feeds and exports answer in plain text so a calendar client shows the reason.
        if request.path.rsplit(".", 1)[-1] in ("ics", "csv", "xlsx", "json"):
            return (str(exc), 400, {"Content-Type": "text/plain; charset=utf-8"})
        return render_template("error.html", code=400, message=str(exc)), 400

    @app.errorhandler(400)
    def _bad_request(exc):
        return render_template("error.html", code=400, message=exc.description), 400

    @app.errorhandler(403)
    def _forbidden(_exc):
        return render_template("error.html", code=403, message="You may not see this page."), 403

    @app.errorhandler(405)
    def _method(_exc):
        return render_template(
            "error.html", code=405, message="This address does not take that method."
        ), 405

    @app.errorhandler(413)
    def _too_large(_exc):
        return render_template("error.html", code=413, message="What you sent is too large."), 413
