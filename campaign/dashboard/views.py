"""The organizers' coverage dashboard: the gaps in the campaign, filtered like the list."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import gettext
from flask_login import login_required

from ..db import get_session
from ..events.filters import FilterError
from ..events.lists import filter_choices, request_filter
from .coverage import campaign_period, coverage, list_args, month_end

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@login_required
def index():
    try:
        flt = request_filter()
        if flt.page != 1:
            raise FilterError("page", gettext("the dashboard has one page"))
        session = get_session()
        data = coverage(session, flt, campaign_period(session, current_app.config))
    except FilterError as exc:
        return (
            render_template(
                "dashboard/index.html", error=exc, flt=None, data=None, **filter_choices()
            ),
            400,
        )
    first, last = data.months[0], month_end(data.months[-1])

    def events_url(month=None, **replace) -> str:
        """The event list of exactly the events a number counts (one month, or all)."""
        pairs = list_args(flt, month or first, month_end(month) if month else last, **replace)
        return url_for("events.list_events") + "?" + urlencode(pairs)

    return render_template(
        "dashboard/index.html",
        error=None,
        flt=flt,
        data=data,
        events_url=events_url,
        **filter_choices(),
    )
