"""/reports/reach (organizers): events and media per theme × month, city, partner and
outlet kind, with charts and their tables; /reports/reach.xlsx the same as a workbook."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext
from flask_login import login_required

from ..db import get_session
from ..events.filters import FilterError
from ..events.lists import filter_choices, request_filter
from ..exports.filenames import content_disposition
from ..exports.writers import MEDIA_TYPES
from ..i18n import campaign_name, format_number, localized, month_abbr, script_text
from ..media.filters import MediaFilter
from ..media.models import MediaStatus
from ..web import campaign_zone
from . import charts
from .reach import Reach, reach
from .workbook import reach_workbook

bp = Blueprint("reports", __name__)


def _report() -> tuple[Reach, str]:
    flt = request_filter()
    if flt.page != 1:
        raise FilterError("page", gettext("the report has one page"))
    media_flt = MediaFilter.parse(
        request.args, get_session(), include_planned=True, campaign_zone=campaign_zone()
    )
    if not media_flt.statuses:  # reach is what was published, unless planned is asked for
        media_flt = dataclasses.replace(media_flt, statuses=(MediaStatus.published.value,))
    return reach(get_session(), flt, media_flt), _describe(flt, media_flt)


def _describe(flt, media_flt) -> str:
    parts = [flt.describe(), ", ".join(script_text(k) for k in media_flt.describe().split(", ")
             if k and k not in flt.describe())]  # fmt: skip
    return ", ".join(p for p in parts if p)


def build_charts(data: Reach) -> dict:
    months = [month_abbr(m) + f" {m:%y}" for m in data.months]
    themes = [localized(t, "name") for t in data.themes]
    colours = [t.colour or "#1f5f99" for t in data.themes]
    return {
        "reach_by_month": charts.stacked_columns(
            "chart-reach",
            gettext("Estimated media reach by month, stacked by theme"),
            gettext("The table below the chart gives every number."),
            months,
            [
                (name, colour, [c.reach for c in data.grid[t.id]])
                for name, colour, t in zip(themes, colours, data.themes, strict=True)
            ],
            format_number,
        ),
        "events_vs_media": charts.grouped_bars(
            "chart-themes",
            gettext("Events and media items per theme"),
            gettext("The table below the chart gives every number."),
            themes,
            [
                (
                    gettext("Events"),
                    "#1f5f99",
                    [data.theme_totals[t.id].events for t in data.themes],
                ),
                (
                    gettext("Media items"),
                    "#b3541e",
                    [data.theme_totals[t.id].media for t in data.themes],
                ),
            ],
            format_number,
        ),  # fmt: skip
        "cities": charts.grouped_bars(
            "chart-cities",
            gettext("Events and media items per city"),
            gettext("The table below the chart gives every number."),
            [
                script_text(r.label) if r.label else gettext("Online or unknown")
                for r in data.cities
            ],
            [
                (gettext("Events"), "#1f5f99", [r.cell.events for r in data.cities]),
                (gettext("Media items"), "#b3541e", [r.cell.media for r in data.cities]),
            ],
            format_number,
        ),
    }


@bp.get("/reports/reach")
@login_required
def reach_page():
    try:
        data, described = _report()
    except FilterError as exc:
        return render_template(
            "reports/reach.html", error=exc, data=None, described="", **filter_choices()
        ), 400
    return render_template(
        "reports/reach.html",
        error=None,
        data=data,
        described=described,
        charts=build_charts(data),
        **filter_choices(),
    )


@bp.get("/reports/reach.xlsx")
@login_required
def reach_xlsx():
    data, described = _report()
    title = f"{campaign_name()} — {described}" if described else campaign_name()
    body = reach_workbook(data, title)
    response = Response(body, content_type=MEDIA_TYPES["xlsx"])
    day = datetime.now(campaign_zone()).date().isoformat()
    response.headers["Content-Disposition"] = content_disposition(f"ipap2-reach-{day}.xlsx")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _no_fetching(url: str, *args, **kwargs):
    """The printable page is self-contained: WeasyPrint fetches nothing (no network, no
    files named by data)."""
    raise ValueError(f"not fetched: {url[:80]}")


@bp.get("/reports/reach.pdf")
@login_required
def reach_pdf():
    """The printable report (A4, page numbers, period and filter on the first page)."""
    from weasyprint import CSS, HTML

    data, described = _report()
    page = render_template(
        "reports/reach_print.html",
        data=data,
        described=described,
        charts=build_charts(data),
        made=datetime.now(UTC),
    )
    stylesheet = Path(current_app.static_folder, "reach_print.css").read_text("utf-8")
    body = HTML(string=page, url_fetcher=_no_fetching).write_pdf(
        stylesheets=[CSS(string=stylesheet, url_fetcher=_no_fetching)]
    )
    response = Response(body, content_type="application/pdf")
    day = datetime.now(campaign_zone()).date().isoformat()
    response.headers["Content-Disposition"] = content_disposition(f"ipap2-reach-{day}.pdf")
    response.headers["Cache-Control"] = "private, no-store"
    return response
