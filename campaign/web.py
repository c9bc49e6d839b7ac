"""What every page shares: row ids in URLs, the campaign's zone, links that keep a filter."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from werkzeug.routing import IntegerConverter

from .core import validation as rules
from .core.forms import error_list


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


def url_keeping_filter(endpoint_url: str, flt, **extra) -> str:
    """``endpoint_url`` with the query of ``flt`` (an EventFilter, or None) and ``extra``."""
    pairs = flt.query_args(**extra) if flt else [(k, v) for k, v in extra.items() if v is not None]
    return endpoint_url + ("?" + urlencode(pairs) if pairs else "")


def init_app(app: Flask) -> None:
    # Dates, times and numbers in the request's language: campaign.i18n's filters.
    app.jinja_env.globals["url_keeping_filter"] = url_keeping_filter
    app.jinja_env.globals["form_errors"] = error_list

    @app.context_processor
    def _globals():
        return {"campaign_zone": campaign_zone(), "now_utc": datetime.now(UTC)}
