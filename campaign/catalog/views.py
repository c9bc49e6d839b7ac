"""Themes, partners and venues: public pages for the first two, management for organizers."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..core.errors import NotAllowed, ValidationError
from ..db import get_session
from ..events.lists import events_page, visible_filter
from ..events.models import Event, EventPartner, event_themes
from . import operations as ops
from .forms import PartnerForm, ThemeForm, VenueForm
from .models import Partner, PartnerKind, Theme, Venue

bp = Blueprint("catalog", __name__)


def _by_slug(model, slug: str):
    obj = get_session().scalar(select(model).where(model.slug == slug))
    if obj is None:
        abort(404)
    return obj


def _attach(form, errors: dict[str, str]) -> None:
    """The operations' messages on their fields, unless the form's own check already said
    what is wrong with that field."""
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None and not field.errors:
            field.errors = list(field.errors) + [message]


# Each save's check of every rule, without saving.
CHECKS = {
    ops.save_theme: ops.check_theme,
    ops.save_partner: ops.check_partner,
    ops.save_venue: ops.check_venue,
}


def _edit_page(form, obj, save, done_url, **context):
    valid = form.validate_on_submit()
    values = {name: field.data for name, field in form._fields.items() if name != "csrf_token"}
    if request.method == "POST" and not valid:
        # The operations' rules too, in the same round: every mistake at once.
        _attach(form, CHECKS[save](get_session(), obj, **values))
    if valid:
        try:
            obj = save(get_session(), current_user, obj, **values)
        except ValidationError as exc:
            _attach(form, exc.errors)
        else:
            flash(gettext("Saved."), "success")
            return redirect(done_url(obj))
    status = 400 if request.method == "POST" else 200
    kind = save.__name__.removeprefix("save_")
    return render_template("catalog/form.html", form=form, obj=obj, kind=kind, **context), status


def _delete(obj, done_url: str, back_url: str):
    try:
        ops.delete_catalog_entry(get_session(), current_user, obj)
    except NotAllowed as exc:
        get_session().rollback()
        flash(str(exc), "error")
        return redirect(back_url)
    flash(gettext("Deleted."), "success")
    return redirect(done_url)


# -- themes ------------------------------------------------------------------------------


@bp.get("/themes")
def themes():
    session = get_session()
    counts = (
        select(event_themes.c.theme_id, func.count())
        .join(Event, Event.id == event_themes.c.event_id)
        .where(*visible_filter().conditions())
        .group_by(event_themes.c.theme_id)
    )
    counts = dict(session.execute(counts).all())
    rows = session.scalars(select(Theme).order_by(Theme.name)).all()
    return render_template("catalog/themes.html", themes=rows, counts=counts)


@bp.get("/themes/<slug>")
def theme(slug: str):
    obj = _by_slug(Theme, slug)
    page = events_page({"theme": [slug]})
    return render_template("catalog/theme.html", theme=obj, **page), 400 if page["error"] else 200


@bp.route("/themes/new", methods=["GET", "POST"])
@login_required
def new_theme():
    return _edit_page(
        ThemeForm(),
        None,
        ops.save_theme,
        lambda t: url_for("catalog.theme", slug=t.slug),
    )


@bp.route("/themes/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_theme(slug: str):
    obj = _by_slug(Theme, slug)
    return _edit_page(
        ThemeForm(obj=obj),
        obj,
        ops.save_theme,
        lambda t: url_for("catalog.theme", slug=t.slug),
    )


@bp.post("/themes/<slug>/delete")
@login_required
def delete_theme(slug: str):
    obj = _by_slug(Theme, slug)
    return _delete(obj, url_for("catalog.themes"), url_for("catalog.theme", slug=slug))


# -- partners ----------------------------------------------------------------------------


@bp.get("/partners")
def partners():
    session = get_session()
    counts = (
        select(EventPartner.partner_id, func.count(func.distinct(EventPartner.event_id)))
        .join(Event, Event.id == EventPartner.event_id)
        .where(*visible_filter().conditions())
        .group_by(EventPartner.partner_id)
    )
    counts = dict(session.execute(counts).all())
    rows = session.scalars(select(Partner).order_by(Partner.kind, Partner.name)).all()
    return render_template("catalog/partners.html", partners=rows, counts=counts, kinds=PartnerKind)


@bp.get("/partners/<slug>")
def partner(slug: str):
    obj = _by_slug(Partner, slug)
    page = events_page({"partner": [slug]})
    return render_template("catalog/partner.html", partner=obj, **page), 400 if page[
        "error"
    ] else 200


@bp.route("/partners/new", methods=["GET", "POST"])
@login_required
def new_partner():
    return _edit_page(
        PartnerForm(),
        None,
        ops.save_partner,
        lambda p: url_for("catalog.partner", slug=p.slug),
    )


@bp.route("/partners/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_partner(slug: str):
    obj = _by_slug(Partner, slug)
    return _edit_page(
        PartnerForm(obj=obj),
        obj,
        ops.save_partner,
        lambda p: url_for("catalog.partner", slug=p.slug),
    )


@bp.post("/partners/<slug>/delete")
@login_required
def delete_partner(slug: str):
    obj = _by_slug(Partner, slug)
    return _delete(obj, url_for("catalog.partners"), url_for("catalog.partner", slug=slug))


# -- venues ------------------------------------------------------------------------------


@bp.get("/venues")
@login_required
def venues():
    session = get_session()
    counts = dict(
        session.execute(
            select(Event.venue_id, func.count())
            .where(Event.venue_id.is_not(None))
            .group_by(Event.venue_id)
        ).all()
    )
    rows = session.scalars(select(Venue).order_by(Venue.city, Venue.name)).all()
    return render_template("catalog/venues.html", venues=rows, counts=counts)


@bp.route("/venues/new", methods=["GET", "POST"])
@login_required
def new_venue():
    return _edit_page(
        VenueForm(),
        None,
        ops.save_venue,
        lambda v: url_for("catalog.venues"),
    )


@bp.route("/venues/<id:venue_id>/edit", methods=["GET", "POST"])
@login_required
def edit_venue(venue_id: int):
    obj = get_session().get(Venue, venue_id) or abort(404)
    return _edit_page(
        VenueForm(obj=obj),
        obj,
        ops.save_venue,
        lambda v: url_for("catalog.venues"),
    )


@bp.post("/venues/<id:venue_id>/delete")
@login_required
def delete_venue(venue_id: int):
    obj = get_session().get(Venue, venue_id) or abort(404)
    return _delete(obj, url_for("catalog.venues"), url_for("catalog.venues"))
