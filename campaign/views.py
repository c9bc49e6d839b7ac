"""What every page shares: time formatting in the right zone, the filter from the URL,
links that keep the filter, and error pages."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, render_template, request, url_for
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


# Pages use only files from static/: no inline scripts or styles, nothing from elsewhere.
# Set CAMPAIGN_CONTENT_SECURITY_POLICY="" to send none (e.g. when a proxy sets its own).
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    app.config.setdefault("CONTENT_SECURITY_POLICY", DEFAULT_CSP)

    @app.after_request
    def _security_headers(response):
        policy = app.config["CONTENT_SECURITY_POLICY"]
        if policy and response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

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


def add_to_calendar_links(event) -> dict[str, str]:
    """One-click "add this event" links for Google Calendar and Outlook (web and work).

    These services take the event in the URL. Times go in UTC with a Z, the only form
    both accept unambiguously; Google also gets ``ctz`` so it shows the event's own zone.
    Exchange and Google ignore a separate URL field, so the page address goes in the text.
    """
    page = url_for("events.show", event_id=event.id, _external=True)
    if event.venue:
        location = ", ".join(
            part for part in (event.venue.name, event.venue.address, event.venue.city) if part
        )
    else:
        location = event.online_url
    details = [event.description.strip()[:1500]] if event.description.strip() else []
    if event.themes:
        details.append("Themes: " + ", ".join(t.name for t in event.themes))
    if event.partner_links:
        details.append(
            "Partners: "
            + ", ".join(f"{lk.partner.name} ({lk.role_label})" for lk in event.partner_links)
        )
    if event.online_url:
        details.append(f"Online: {event.online_url}")
    details.append(page)
    body = "\n\n".join(details)
    start, end = event.starts_at.astimezone(UTC), event.ends_at.astimezone(UTC)
    google = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}",
        "details": body,
        "location": location,
        "ctz": event.timezone,
    }
    outlook = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": event.title,
        "startdt": f"{start:%Y-%m-%dT%H:%M:%SZ}",
        "enddt": f"{end:%Y-%m-%dT%H:%M:%SZ}",
        "body": body,
        "location": location,
    }
    return {
        "google": "https://calendar.google.com/calendar/render?" + urlencode(google),
        "outlook": "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(outlook),
        "office365": "https://outlook.office.com/calendar/0/deeplink/compose?" + urlencode(outlook),
        # Served by the feeds blueprint; the same VEVENT as in the feeds.
        "ics": url_for("events.show", event_id=event.id) + ".ics",
    }
