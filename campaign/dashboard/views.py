"""The organizers' coverage dashboard: the gaps in the campaign, filtered like the list."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext
from flask_login import login_required

from ..db import get_session
from ..events.filters import FilterError
from ..events.lists import filter_choices, request_filter
from .coverage import coverage

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@login_required
def index():
    try:
        flt = request_filter()
        if flt.page != 1:
            raise FilterError("page", gettext("the dashboard has one page"))
        data = coverage(get_session(), flt)
    except FilterError as exc:
        return (
            render_template(
                "dashboard/index.html", error=exc, flt=None, data=None, **filter_choices()
            ),
            400,
        )
    return render_template(
        "dashboard/index.html", error=None, flt=flt, data=data, **filter_choices()
    )
