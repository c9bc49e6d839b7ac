"""Media items: the public list of published coverage, item pages, the organizers' forms
and the exports. Routes stay thin: parse, check access, call an operation, render."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..auth.access import sees_drafts
from ..catalog.models import Partner, PartnerKind, Theme
from ..core import validation as rules
from ..core.errors import ConflictError, NotAllowed, ValidationError
from ..db import get_session
from ..events.filters import FilterError
from ..events.models import Event
from ..exports.rows import CHUNK_SIZE, keyset_batches
from ..exports.views import file_response
from ..exports.writers import export_rows
from ..i18n import campaign_name
from ..web import campaign_zone
from . import importer
from . import operations as ops
from .filters import MediaFilter, media_list_loading
from .forms import MediaForm, MediaImportForm
from .models import (
    MediaItem,
    MediaItemChange,
    MediaKind,
    MediaStatus,
    media_item_events,
    media_item_themes,
)
from .rows import MEDIA

bp = Blueprint("media", __name__)
COVERAGE_LIMIT = 20  # items shown on an event, theme or partner page


def request_media_filter(args=None) -> MediaFilter:
    return MediaFilter.parse(
        request.args if args is None else args,
        get_session(),
        include_planned=sees_drafts(),
        campaign_zone=campaign_zone(),
    )


def media_page() -> dict:
    try:
        flt = request_media_filter()
    except FilterError as exc:
        return {"error": exc, "flt": None, "items": [], "count": 0, "page": 1, "pages": 0}
    items, count, pages = flt.page_of(get_session(), current_app.config["EVENTS_PER_PAGE"])
    return {"error": None, "flt": flt, "items": items, "count": count, "page": flt.page,
            "pages": pages}  # fmt: skip


def filter_choices() -> dict:
    session = get_session()
    return {
        "all_themes": session.scalars(select(Theme).order_by(Theme.name)).all(),
        "all_outlets": _outlets(session),
        "kinds": [(k.value, k.label) for k in MediaKind],
        "statuses": [
            (s.value, s.label)
            for s in MediaStatus
            if sees_drafts() or s.value == MediaStatus.published.value
        ],
    }


def _outlets(session) -> list[Partner]:
    return session.scalars(
        select(Partner).where(Partner.kind == PartnerKind.media.value).order_by(Partner.name)
    ).all()


@bp.get("/media")
def list_media():
    page = media_page()
    return render_template("media/list.html", **page, **filter_choices()), (
        400 if page["error"] else 200
    )


def load_item(item_id: int, *, history: bool = False) -> MediaItem:
    options = [*media_list_loading(), selectinload(MediaItem.events), joinedload(MediaItem.owner)]
    if history:
        options.append(selectinload(MediaItem.changes).joinedload(MediaItemChange.user))
    item = get_session().scalar(select(MediaItem).where(MediaItem.id == item_id).options(*options))
    if item is None or (item.is_planned and not sees_drafts()):
        abort(404)
    return item


@bp.get("/media/<id:item_id>")
def show(item_id: int):
    item = load_item(item_id, history=sees_drafts())
    events = [e for e in item.events if sees_drafts() or not e.is_draft]
    return render_template("media/show.html", item=item, events=events)


# -- exports -----------------------------------------------------------------------------


@bp.get("/media.<any(csv, xlsx, json):fmt>")
def export_media(fmt: str):
    flt = request_media_filter()
    described = flt.describe()
    title = f"{campaign_name()} — {described}" if described else campaign_name()
    day = datetime.now(campaign_zone()).date().isoformat()
    filename = f"ipap2-media-{day}.{fmt}"

    def chunks_of(session):
        stmt = flt.select().options(
            *media_list_loading(), selectinload(MediaItem.events)
        )  # newest first, as the list
        batches = keyset_batches(
            session,
            stmt,
            (MediaItem.published_at, MediaItem.id),
            current_app.config.get("EXPORT_CHUNK_SIZE", CHUNK_SIZE),
            descending=True,
        )
        return export_rows(fmt, MEDIA, batches, current_app.config, title)

    return file_response(fmt, filename, chunks_of, private=flt.include_planned)


# -- organizers --------------------------------------------------------------------------


def _prepare_form(form: MediaForm) -> dict:
    session = get_session()
    themes = session.scalars(select(Theme).order_by(Theme.name)).all()
    outlets = _outlets(session)
    form.set_choices(themes, outlets)
    return {"themes": {t.id: t for t in themes}, "outlets": {str(p.id): p for p in outlets}}


def _form_to_data(form: MediaForm, lookup: dict) -> ops.MediaData:
    """What the form says, as far as it can be read: a field that could not be read is
    empty here, so the operations' rules still judge every other one."""
    published_at = form.instant()
    if form.zone() is None and not form.timezone.errors:
        form.timezone.errors = list(form.timezone.errors) + [rules.zone(form.timezone.data)]
    event_ids = form.event_ids() or []
    events = []
    if event_ids:
        found = {
            e.id: e for e in get_session().scalars(select(Event).where(Event.id.in_(event_ids)))
        }
        missing = [str(i) for i in event_ids if i not in found]
        if missing:
            form.events.errors = list(form.events.errors) + [
                gettext("There is no event number %(ids)s.", ids=", ".join(missing))
            ]
        events = [found[i] for i in event_ids if i in found]
    return ops.MediaData(
        headline=form.headline.data or "",
        outlet=lookup["outlets"].get(form.outlet.data or ""),
        new_outlet=(form.new_outlet.data or "").strip() if not form.outlet.data else "",
        kind=form.kind.data or "",
        status=form.status.data or "",
        published_at=published_at,
        timezone=(form.timezone.data or "").strip(),
        link=(form.link.data or "").strip(),
        spokesperson=(form.spokesperson.data or "").strip(),
        themes=[lookup["themes"][tid] for tid in form.themes.data or [] if tid in lookup["themes"]],
        events=events,
        estimated_reach=form.estimated_reach.data,
        tone=form.tone.data or None,
        notes=form.notes.data or "",
    )


def read_form(form: MediaForm, lookup: dict) -> ops.MediaData | None:
    """The submitted form checked in one round (the form's checks and the operations'
    rules together), so every mistake is shown at once; the data only when there is none."""
    valid = form.validate_on_submit()
    data = _form_to_data(form, lookup)
    try:
        ops.validate_media(data)
    except ValidationError as exc:
        if data.published_at is None and form.published_at.data is not None:
            # Typed, but not readable in the zone given: the zone's message says why.
            exc.errors.pop("published_at", None)
        _attach(form, exc)
    if not valid or any(f.errors for f in form):
        return None
    return data


def _attach(form: MediaForm, exc: ValidationError) -> None:
    """The operations' messages on their fields, unless the form's own check already said
    what is wrong with that field."""
    for name, message in exc.errors.items():
        field = getattr(form, name, None) or form.headline
        if not field.errors:
            field.errors = list(field.errors) + [message]


def _fill_form(form: MediaForm, item: MediaItem) -> None:
    form.headline.data = item.headline
    form.outlet.data = str(item.outlet_id)
    form.kind.data = item.kind
    form.status.data = item.status
    form.published_at.data = item.local_published.replace(tzinfo=None)
    form.timezone.data = item.timezone
    form.link.data = item.link
    form.spokesperson.data = item.spokesperson
    form.themes.data = [t.id for t in item.themes]
    form.events.data = ", ".join(str(e.id) for e in item.events)
    form.estimated_reach.data = item.estimated_reach
    form.tone.data = item.tone or ""
    form.notes.data = item.notes
    form.version.data = str(item.version)


@bp.route("/media/new", methods=["GET", "POST"])
@login_required
def new():
    form = MediaForm()
    lookup = _prepare_form(form)
    if request.method == "GET":
        form.status.data = MediaStatus.planned.value
        form.timezone.data = current_app.config["TIMEZONE"]
    data = read_form(form, lookup) if request.method == "POST" else None
    if data is not None:
        try:
            item = ops.create_media(get_session(), current_user, data)
        except ValidationError as exc:
            _attach(form, exc)
        else:
            flash(gettext("“%(headline)s” was saved.", headline=item.headline), "success")
            return redirect(url_for("media.show", item_id=item.id))
    status = 400 if request.method == "POST" else 200
    return render_template("media/form.html", form=form, item=None), status


@bp.route("/media/<id:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit(item_id: int):
    item = load_item(item_id)
    form = MediaForm()
    lookup = _prepare_form(form)
    if request.method == "GET":
        _fill_form(form, item)
    elif (data := read_form(form, lookup)) is not None:
        try:
            changed = ops.update_media(
                get_session(), current_user, item, data, _version(form.version.data)
            )
        except ValidationError as exc:
            _attach(form, exc)
        except ConflictError as exc:
            flash(gettext("%(problem)s The form now shows their version.", problem=exc), "error")
            item = load_item(item_id)
            form = MediaForm(formdata=None)
            _prepare_form(form)
            _fill_form(form, item)
            return render_template("media/form.html", form=form, item=item), 409
        else:
            flash(
                gettext("“%(headline)s” was saved.", headline=item.headline)
                if changed
                else gettext("Nothing was changed."),
                "success" if changed else "info",
            )
            return redirect(url_for("media.show", item_id=item.id))
    status = 400 if request.method == "POST" else 200
    return render_template("media/form.html", form=form, item=item), status


def _version(raw) -> int:
    raw = str(raw or "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 12):
        abort(
            400, gettext("The form is missing the item's version; reload the page and try again.")
        )
    return int(raw)


def _state_change(item_id: int, action):
    item = load_item(item_id)
    try:
        action(get_session(), current_user, item, _version(request.form.get("version")))
    except (ConflictError, NotAllowed) as exc:
        flash(str(exc), "error")
        return redirect(url_for("media.show", item_id=item_id)), item
    return None, item


@bp.post("/media/<id:item_id>/delete")
@login_required
def delete(item_id: int):
    failed, item = _state_change(item_id, ops.delete_media)
    if failed:
        return failed
    flash(gettext("The planned item “%(headline)s” was deleted.", headline=item.headline),
          "success")  # fmt: skip
    return redirect(url_for("media.list_media"))


@bp.post("/media/<id:item_id>/withdraw")
@login_required
def withdraw(item_id: int):
    failed, item = _state_change(item_id, ops.withdraw_media)
    if failed:
        return failed
    flash(
        gettext("“%(headline)s” is withdrawn: it is planned again and off the public list.",
                headline=item.headline),
        "success",
    )  # fmt: skip
    return redirect(url_for("media.show", item_id=item_id))


# -- import from a press-clipping service ------------------------------------------------

OUTCOMES = ("created", "updated", "unchanged", "refused")


@bp.route("/media/import", methods=["GET", "POST"])
@login_required
def import_clippings():
    """Upload a press-clipping CSV or XLSX: every row through media.importer (the same as
    ``flask import-media``), then the report of each row. A malformed file writes nothing."""
    # A clipping file may be larger than a form (MAX_CONTENT_LENGTH); read before the form.
    request.max_content_length = importer.MAX_BYTES + 2**16
    form = MediaImportForm()
    results = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows = importer.read_file(upload.read(), upload.filename)
        except importer.MalformedFile as exc:
            form.file.errors = [
                *form.file.errors,
                gettext("%(problem)s Nothing was imported.", problem=exc),
            ]
        else:
            results = importer.import_rows(get_session(), current_user, rows, campaign_zone())
    counts = {k: sum(1 for r in results or () if r.outcome == k) for k in OUTCOMES}
    status = 400 if request.method == "POST" and results is None else 200
    return render_template(
        "media/import.html", form=form, results=results, counts=counts, columns=importer.COLUMNS
    ), status


# -- coverage on event, theme and partner pages ------------------------------------------


def coverage(*, event=None, theme=None, partner=None) -> list[MediaItem]:
    """The newest media items about an event, on a theme or in an outlet (published ones;
    planned ones too for organizers), at most COVERAGE_LIMIT: two statements."""
    stmt = MediaFilter(include_planned=sees_drafts()).select_loaded()
    if event is not None:
        stmt = stmt.where(
            MediaItem.id.in_(
                select(media_item_events.c.media_item_id).where(
                    media_item_events.c.event_id == event.id
                )
            )
        )
    if theme is not None:
        stmt = stmt.where(
            MediaItem.id.in_(
                select(media_item_themes.c.media_item_id).where(
                    media_item_themes.c.theme_id == theme.id
                )
            )
        )
    if partner is not None:
        stmt = stmt.where(MediaItem.outlet_id == partner.id)
    return get_session().scalars(stmt.limit(COVERAGE_LIMIT)).all()


PLANNED_PER_DAY = 4


def planned_by_day(first, last, flt=None) -> dict:
    """Organizers' month view: the planned appearances of the days ``first`` to ``last``
    (campaign zone) that go with the month's filter ``flt`` (MediaFilter.planned_with, as
    in the private feed), a few per day, in one statement. Nobody else sees planned items."""
    media = MediaFilter.planned_with(flt) if sees_drafts() else None
    if media is None:
        return {}
    zone = campaign_zone()
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    items = (
        get_session()
        .scalars(
            select(MediaItem)
            .where(
                *media.conditions(),
                MediaItem.published_at >= start,
                MediaItem.published_at < end,
            )
            .order_by(MediaItem.published_at, MediaItem.id)
            .limit(PLANNED_PER_DAY * 31)
        )
        .all()
    )
    by_day: dict = {}
    for item in items:
        day = item.published_at.astimezone(zone).date()
        if len(by_day.setdefault(day, [])) < PLANNED_PER_DAY:
            by_day[day].append(item)
    return by_day


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["media_coverage"] = coverage
    app.jinja_env.globals["media_planned_by_day"] = planned_by_day
