"""What every page shares: time formatting in the right zone, the filter from the URL,
links that keep the filter, and error pages."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from flask import (
    Flask,
    current_app,
    g,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy.exc import DBAPIError, OperationalError

from .db import get_session
from .filters import EventFilter, FilterError
from .ical import description_text, location_text


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


def visible_filter() -> EventFilter:
    """No parameters: just what the current user may see (drafts for organizers only)."""
    return EventFilter(include_drafts=current_user.is_authenticated, campaign_zone=campaign_zone())


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
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    # For browsers that predate CSP frame-ancestors.
    "X-Frame-Options": "DENY",
}
# Query parameters whose values never reach a log line (the private feed's token).
SECRET_PARAMETERS = frozenset({"token", "password", "csrf_token"})
request_log = logging.getLogger("campaign.requests")


def redacted_query(args) -> str:
    pairs = [(k, "redacted" if k in SECRET_PARAMETERS else v) for k, v in args.items(multi=True)]
    return urlencode(pairs)


class _RedactTokens(logging.Filter):
    """Werkzeug's development server logs the raw request line; hide secret values."""

    pattern = re.compile(r"\b(" + "|".join(SECRET_PARAMETERS) + r")=[^&\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.msg % record.args
            record.args = ()
        record.msg = self.pattern.sub(r"\1=redacted", str(record.msg))
        return True


def _configure_logging(app: Flask) -> None:
    logger = logging.getLogger("campaign")
    logger.setLevel(app.config["LOG_LEVEL"])
    if not logger.handlers:
        # Under gunicorn nothing else prints INFO lines of our loggers.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, _RedactTokens) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(_RedactTokens())


def _database_unavailable(exc: Exception):
    """A lost or refused database connection: 503 and a page, never a stack trace."""
    db_session = g.pop("db_session", None)
    if db_session is not None:
        try:
            db_session.rollback()
        except Exception:  # the connection is gone; pre-ping replaces it on next checkout
            db_session.invalidate()
        db_session.close()
    # Loading the account again would need the database: render the page as anonymous.
    g._login_user = current_app.login_manager.anonymous_user()
    current_app.logger.warning("database unavailable: %s", str(exc).splitlines()[0][:300])
    response = make_response(
        render_template(
            "error.html",
            code=503,
            message="The database is unavailable; try again in a minute.",
        ),
        503,
    )
    response.headers["Retry-After"] = str(current_app.config["DATABASE_RETRY_AFTER"])
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("CONTENT_SECURITY_POLICY", DEFAULT_CSP)
    _configure_logging(app)

    def _start_clock():
        g.request_started = time.perf_counter()

    # First of all before-request functions, so the CSRF check is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_clock)

    @app.after_request
    def _security_headers(response):
        policy = app.config["CONTENT_SECURITY_POLICY"]
        if policy:
            response.headers.setdefault("Content-Security-Policy", policy)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.after_request
    def _log_request(response):
        started = g.get("request_started")
        duration = (time.perf_counter() - started) * 1000 if started else 0.0
        query = redacted_query(request.args)
        # The id the session claims; reading it needs no database (which may be down).
        user = session.get("_user_id") or "-"
        request_log.info(
            "method=%s path=%s status=%s duration_ms=%.1f user=%s",
            request.method,
            quote(request.path) + ("?" + query if query else ""),
            response.status_code,
            duration,
            user,
        )
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
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return render_template(
            "error.html", code=413, message=f"What you sent is too large (at most {limit} MB)."
        ), 413

    @app.errorhandler(429)
    def _too_many(exc):
        response = make_response(
            render_template(
                "error.html",
                code=429,
                message="Too many failed log-in attempts. Wait a minute, then try again.",
            ),
            429,
        )
        retry = getattr(exc, "retry_after", None)
        response.headers.setdefault("Retry-After", str(retry or 60))
        return response

    app.register_error_handler(OperationalError, _database_unavailable)

    @app.errorhandler(DBAPIError)
    def _dbapi_error(exc: DBAPIError):
        if exc.connection_invalidated or isinstance(exc.orig, _disconnect_errors()):
            return _database_unavailable(exc)
        raise exc


def _disconnect_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = []
    try:
        import psycopg

        errors += [psycopg.OperationalError, psycopg.InterfaceError]
    except ImportError:  # SQLite only
        pass
    return tuple(errors)


def add_to_calendar_links(event) -> dict[str, str]:
    """One-click "add this event" links for Google Calendar and Outlook (web and work).

    These services take the event in the URL. Times go in UTC with a Z, the only form
    both accept unambiguously; Google also gets ``ctz`` so it shows the event's own zone.
    Exchange and Google ignore a separate URL field, so the page address goes in the text.
    """
    page = url_for("events.show", event_id=event.id, _external=True)
    location = location_text(event)
    body = description_text(event, page, limit=1500)
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
