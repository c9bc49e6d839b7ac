"""Series pages: the two builders (tour, recurrence) with their preview, the series page,
its feed and exports, and detaching one occurrence."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from ..auth.access import sees_drafts
from ..calendar import feeds
from ..calendar.views import PRIVATE_CACHE, PUBLIC_CACHE, serve
from ..core import validation as rules
from ..core.errors import ConflictError, NotAllowed, ValidationError
from ..db import get_session
from ..events import operations as event_ops
from ..events import views as event_views
from ..events.filters import FilterError, series_is_public
from ..events.forms import partner_filter_request
from ..events.lists import request_filter
from ..events.models import Event, EventStatus, PartnerRole
from ..exports.views import export_response
from ..i18n import localized
from ..security import ignores_cookie
from . import operations as ops
from .forms import RecurrenceForm, SeriesEditForm, TourForm
from .models import Series, SeriesKind

bp = Blueprint("series", __name__)


def _shared(form, lookup, *, status: str = "", timezone: str = "") -> ops.SharedData:
    partners = []
    for role in PartnerRole:
        for pid in getattr(form, f"partners_{role.value}").data or []:
            if pid in lookup["partners"]:
                partners.append((lookup["partners"][pid], role.value))
    return ops.SharedData(
        title=form.title.data or "",
        format=form.format.data or "",
        status=status or form.status.data or "",
        timezone=timezone or (form.timezone.data or "").strip(),
        description=form.description.data or "",
        title_en=(form.title_en.data or "").strip(),
        description_en=form.description_en.data or "",
        online_url=(form.online_url.data or "").strip(),
        themes=[lookup["themes"][tid] for tid in form.themes.data or [] if tid in lookup["themes"]],
        partners=partners,
        expected_audience=form.expected_audience.data,
    )


# A rule's times are start_time and end_time on the recurrence builder.
RULE_FIELDS = {"start": "start_time", "end": "end_time"}


def _attach(form, exc: ValidationError, stops_field) -> None:
    """The operations' messages on their fields, unless the form's own check already
    said what is wrong with that field."""
    for name, message in exc.errors.items():
        if name == "stops":
            name = stops_field
        name = RULE_FIELDS.get(name, event_views.ERROR_FIELDS.get(name, name))
        field = getattr(form, name, None) or getattr(form, stops_field)
        if not field.errors or field is getattr(form, stops_field):
            field.errors = list(field.errors) + [message]


def _check_shared(form, lookup, **fixed) -> None:
    """The shared fields judged by the events' rules in the same round as the form's."""
    try:
        ops.check_shared(_shared(form, lookup, **fixed))
    except ValidationError as exc:
        _attach(form, exc, "title")


def _refiltered(form, template: str, **context):
    """The form again, as typed, with the partner picker filtered; nothing saved."""
    form.validate_on_submit()
    if form.csrf_token.errors:
        abort(400, form.csrf_token.errors[0])
    for field in form:
        field.errors = []
    return render_template(template, form=form, **context)


def _build(form, kind: SeriesKind, stops_of, stops_field: str, template: str):
    """The builders' shared flow: "more rows" or "preview" re-show the form (nothing is
    saved); "create" makes the series in one transaction."""
    lookup = event_views._prepare_form(form)
    session = get_session()
    preview = None
    if request.method == "GET":
        form.status.data = EventStatus.draft.value
        form.timezone.data = current_app.config["TIMEZONE"]
        return render_template(template, form=form, preview=None)
    if partner_filter_request(request.form):
        return _refiltered(form, template, preview=None)
    action = request.form.get("action", "preview")
    if action == "more" and isinstance(form, TourForm):
        form.validate_on_submit()
        if form.csrf_token.errors:
            abort(400, form.csrf_token.errors[0])
        # Only the layout changed: the fields' messages wait for the preview.
        for field in form:
            field.errors = []
        form.add_rows()
        return render_template(template, form=form, preview=None)
    if isinstance(form, TourForm):
        form.drop_removed()
        form.set_choices(
            lookup["themes"].values(), lookup["partners"].values(), lookup["venues"].values()
        )
    valid = form.validate_on_submit()
    try:
        stops, rule = stops_of(form, lookup)
    except ValidationError as exc:
        _attach(form, exc, stops_field)
        stops, rule = None, ""
    _check_shared(form, lookup)
    if not valid or stops is None or any(field.errors for field in form):
        return render_template(template, form=form, preview=None), 400
    shared = _shared(form, lookup)
    try:
        if action == "create":
            series = ops.create_series(session, current_user, shared, stops, kind, rule)
            flash(
                gettext(
                    "The series “%(title)s” was created with %(n)s events.",
                    title=localized(series, "title"),
                    n=len(stops),
                ),
                "success",
            )
            return redirect(url_for("series.show", series_id=series.id))
        preview = ops.plan(session, current_user, shared, stops, kind, rule)
    except ValidationError as exc:
        _attach(form, exc, stops_field)
        return render_template(template, form=form, preview=None), 400
    return render_template(template, form=form, preview=preview)


def _tour_stops(form: TourForm, lookup):
    # The form reads no more rows than a series may have dates; more were sent.
    if form.rows.sent > rules.MAX_OCCURRENCES:
        raise ValidationError({"stops": rules.occurrence_count(form.rows.sent)})
    rows = form.read_rows()
    if any(entry.form.errors for entry in form.rows):
        return None, ""
    stops = [
        ops.Stop(day, start, end, lookup["venues"].get(venue)) for day, start, end, venue in rows
    ]
    if not stops:
        raise ValidationError({"stops": gettext("Fill in at least one row: date, start and end.")})
    return stops, ""


def _recurrence_stops(form: RecurrenceForm, lookup):
    values = form.read_rule()
    if values is None:
        return None, ""
    rule = ops.Recurrence(venue=lookup["venues"].get(form.place.data or ""), **values)
    return rule.stops(), rule.rule_text()


@bp.route("/series/new/tour", methods=["GET", "POST"])
@login_required
def new_tour():
    return _build(TourForm(), SeriesKind.tour, _tour_stops, "rows", "series/tour.html")


@bp.route("/series/new/recurrence", methods=["GET", "POST"])
@login_required
def new_recurrence():
    return _build(
        RecurrenceForm(),
        SeriesKind.recurrence,
        _recurrence_stops,
        "first_day",
        "series/recurrence.html",
    )


def _series(series_id: int, *, drafts: bool = True) -> Series:
    """The series, or 404; without ``drafts`` also 404 while none of its dates is public
    (a series of drafts is not public yet: not its page, name, feed or exports, whatever
    the filter asks for)."""
    session = get_session()
    series = session.get(Series, series_id)
    if series is None:
        abort(404)
    if not drafts and not series_is_public(session, series_id):
        abort(404)
    return series


@bp.get("/series/<id:series_id>")
def show(series_id: int):
    session = get_session()
    series = _series(series_id, drafts=sees_drafts())
    try:
        flt = request_filter(fixed={"series": [str(series_id)]})
    except FilterError as exc:
        return render_template("series/show.html", series=series, error=exc, events=[]), 400
    events = session.scalars(flt.select_loaded(unbounded=True)).all()
    totals = {
        "events": len(events),
        "expected": sum(e.expected_audience or 0 for e in events if not e.is_cancelled),
        "attendance": sum(e.attendance or 0 for e in events),
        "reported": sum(1 for e in events if e.attendance is not None),
        "by_status": {s.value: sum(1 for e in events if e.status == s.value) for s in EventStatus},
    }
    # What the dates share (the shared-fields editor keeps them alike; a date edited on
    # its own adds its own), in first-seen order.
    themes = list({t.id: t for e in events for t in e.themes}.values())
    partners = list({lk.partner.id: lk.partner for e in events for lk in e.partner_links}.values())
    return render_template(
        "series/show.html",
        series=series,
        error=None,
        events=events,
        totals=totals,
        flt=flt,
        themes=themes,
        partners=partners,
    )


@bp.get("/series/<id:series_id>/calendar.ics")
@ignores_cookie
def feed(series_id: int):
    from ..calendar.views import _token_user

    private = _token_user() is not None
    _series(series_id, drafts=private)
    flt = request_filter(fixed={"series": [str(series_id)]}, drafts=private)
    return serve(
        feeds.feed_of(get_session(), flt, current_app.config),
        cache_control=PRIVATE_CACHE if private else PUBLIC_CACHE,
    )


@bp.get("/series/<id:series_id>.<any(csv, xlsx, json):fmt>")
def export(series_id: int, fmt: str):
    """The series' events as a file: the same exports as /events.<fmt>, every filter
    parameter, limited to this series."""
    _series(series_id, drafts=sees_drafts())
    return export_response(fmt, request_filter(fixed={"series": [str(series_id)]}))


@bp.post("/events/<id:event_id>/detach")
@login_required
def detach(event_id: int):
    event = event_views.load_event(event_id)
    version = event_views._version(request.form.get("version"))
    try:
        series_id = event_ops.detach_from_series(get_session(), current_user, event, version)
    except (ConflictError, NotAllowed) as exc:
        flash(str(exc), "error")
        return redirect(url_for("events.show", event_id=event_id))
    flash(
        gettext(
            "“%(title)s” is no longer part of the series; it stays as a single event.",
            title=localized(event, "title"),
        ),
        "success",
    )
    return redirect(url_for("series.show", series_id=series_id))


def _fill_shared(form: SeriesEditForm, event: Event) -> None:
    form.title.data = event.title
    form.format.data = event.format
    form.online_url.data = event.online_url
    form.description.data = event.description
    form.title_en.data = event.title_en
    form.description_en.data = event.description_en
    form.themes.data = [t.id for t in event.themes]
    for role in PartnerRole:
        getattr(form, f"partners_{role.value}").data = [
            lk.partner_id for lk in event.partner_links if lk.role == role.value
        ]
    form.expected_audience.data = event.expected_audience


@bp.route("/series/<id:series_id>/events/<id:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit_shared(series_id: int, event_id: int):
    """The shared fields from one occurrence, applied to it, to it and the following
    dates, or to all (one transaction; row versions checked on each)."""
    series = _series(series_id)
    session = get_session()
    anchor = event_views.load_event(event_id)
    if anchor.series_id != series.id:
        abort(404)
    form = SeriesEditForm()
    lookup = event_views._prepare_form(form)
    events = session.scalars(
        select(Event).where(Event.series_id == series.id).order_by(Event.starts_at, Event.id)
    ).all()
    if request.method == "GET":
        _fill_shared(form, anchor)
        form.versions.data = ",".join(f"{e.id}:{e.version}" for e in events)
        return render_template("series/edit.html", form=form, series=series, event=anchor)
    if partner_filter_request(request.form):
        return _refiltered(form, "series/edit.html", series=series, event=anchor)
    status = 400
    valid = form.validate_on_submit()
    _check_shared(form, lookup, status=anchor.status, timezone=anchor.timezone)
    if valid and not any(field.errors for field in form):
        versions = form.read_versions()
        if versions is None:
            abort(400, gettext("The form is missing the events' versions; reload the page."))
        shared = _shared(form, lookup, status=anchor.status, timezone=anchor.timezone)
        try:
            changed = ops.update_shared(
                session, current_user, series, anchor, form.scope.data, shared, versions
            )
        except ValidationError as exc:
            _attach(form, exc, "scope")
        except ConflictError as exc:
            flash(
                gettext("%(problem)s Open the form again to see their version.", problem=exc),
                "error",
            )
            status = 409
        else:
            flash(
                ngettext(
                    "%(num)s date of the series was changed.",
                    "%(num)s dates of the series were changed.",
                    len(changed),
                )
                if changed
                else gettext("Nothing was changed."),
                "success" if changed else "info",
            )
            return redirect(url_for("series.show", series_id=series.id))
    return render_template("series/edit.html", form=form, series=series, event=anchor), status
