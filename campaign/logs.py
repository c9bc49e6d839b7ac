"""Logs: one structured line per request, with secret parameters redacted."""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import quote, urlencode

from flask import Flask, g, request

from .security import unread_session

# Query parameters whose values never reach a log line (the private feed's token).
SECRET_PARAMETERS = frozenset({"token", "password", "csrf_token"})
# An API token's secret starts with this (auth.models.API_TOKEN_PREFIX): under any
# parameter name (a client that puts its token in the address by mistake) it is redacted.
API_TOKEN_PREFIX = "cpt_"
request_log = logging.getLogger("campaign.requests")


def redacted_query(args) -> str:
    pairs = [
        (k, "redacted" if k in SECRET_PARAMETERS or v.startswith(API_TOKEN_PREFIX) else v)
        for k, v in args.items(multi=True)
    ]
    return urlencode(pairs)


class _RedactTokens(logging.Filter):
    """Werkzeug's development server logs the raw request line; hide secret values."""

    pattern = re.compile(r"\b(" + "|".join(SECRET_PARAMETERS) + r")=[^&\s\"]*")
    api_token = re.compile(r"=" + API_TOKEN_PREFIX + r"[^&\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.msg % record.args
            record.args = ()
        record.msg = self.pattern.sub(r"\1=redacted", str(record.msg))
        record.msg = self.api_token.sub("=redacted", record.msg)
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


def init_app(app: Flask) -> None:
    _configure_logging(app)

    def _start_clock():
        g.request_started = time.perf_counter()

    # First of all before-request functions, so the CSRF check is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_clock)

    @app.after_request
    def _log_request(response):
        started = g.get("request_started")
        duration = (time.perf_counter() - started) * 1000 if started else 0.0
        query = redacted_query(request.args)
        # The user id the session claims; reading it needs no database (which may be
        # down), and looking does not count as reading the session ("Vary: Cookie").
        user = (dict.get(unread_session(), "_user_id") or "-").partition(":")[0]
        request_log.info(
            "method=%s path=%s status=%s duration_ms=%.1f user=%s",
            request.method,
            quote(request.path) + ("?" + query if query else ""),
            response.status_code,
            duration,
            user,
        )
        return response
