"""Events: the home page, the list, the month view, event pages and the organizers' forms."""

from __future__ import annotations

import calendar
import dataclasses
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ..auth.access import sees_drafts
from ..catalog.models import Partner, Theme, Venue
from ..core import validation as rules
from ..core.errors import ClashesFound, ConflictError, NotAllowed, ValidationError
from ..db import get_session
from ..i18n import localized
from ..web import campaign_zone
from . import operations as ops
from .clashes import clashes_of, find_clashes
from .filters import FilterError, event_list_loading, window_check
from .forms import EventForm, partner_filter_request
from .holidays import holiday_warning, holidays_between, holidays_during
from .lists import (
    MonthDays,
    events_page,
    filter_choices,
    month_days,
    request_filter,
    visible_filter,
)
from .models import MAX_EVENT_DURATION, Event, EventChange, EventStatus, PartnerRole

bp = Blueprint("events", __name__)
EVENTS_PER_DAY = 4  # in the month grid; the rest are one click away in the list


def _visible(event: Event | None) -> Event:
    if event is None or (event.is_draft and not sees_drafts()):
        abort(404)
    return event


def load_event(event_id: int, *, history: bool = False) -> Event:
    options = list(event_list_loading()) + [joinedload(Event.owner), joinedload(Event.series)]
    if history:
        options.append(selectinload(Event.changes).joinedload(EventChange.user))
    event = get_session().scalar(select(Event).where(Event.id == event_id).options(*options))
    return _visible(event)


@bp.get("/")
def home():
    session = get_session()
    now = datetime.now(UTC)
    visible = visible_filter().select_loaded()
    upcoming = session.scalars(
        visible.where(Event.ends_at >= now, Event.starts_at > now - MAX_EVENT_DURATION).limit(10)
    ).all()
    recent = []
    if not upcoming:
        recent = session.scalars(
            visible.where(Event.ends_at < now)
            .order_by(None)
            .order_by(Event.starts_at.desc(), Event.id.desc())
            .limit(10)
        ).all()
    themes = session.scalars(select(Theme).order_by(Theme.name)).all()
    awaiting, awaiting_count = awaiting_attendance(session, now) if sees_drafts() else ([], 0)
    return render_template(
        "events/home.html",
        upcoming=upcoming,
        recent=recent,
        themes=themes,
        awaiting=awaiting,
        awaiting_count=awaiting_count,
    )


AWAITING_SHOWN = 20


def awaiting_attendance(session, now: datetime) -> tuple[list[Event], int]:
    """Past confirmed events whose attendance is not recorded yet, most recent first (the
    first AWAITING_SHOWN of them), and how many there are."""
    where = (
        Event.status == EventStatus.confirmed.value,
        Event.ends_at <= now,
        Event.attendance.is_(None),
    )
    count = session.scalar(select(func.count()).select_from(Event).where(*where))
    events = session.scalars(
        select(Event)
        .where(*where)
        .order_by(Event.starts_at.desc(), Event.id.desc())
        .limit(AWAITING_SHOWN)
        .options(joinedload(Event.venue))
    ).all()
    return list(events), count


@bp.post("/events/<id:event_id>/attendance")
@login_required
def record_attendance(event_id: int):
    """The in-place attendance form of the "Awaiting attendance" panel."""
    event = load_event(event_id)
    version = _version(request.form.get("version"))
    raw = request.form.get("attendance", "")
    try:
        number = rules.whole_number(raw) if raw.strip() else None
        problem = rules.people(number)
        if problem:
            raise ValidationError({"attendance": problem})
        ops.record_attendance(get_session(), current_user, event, number, version)
    except ValueError as exc:  # ValidationError is one too
        message = " ".join(exc.errors.values()) if isinstance(exc, ValidationError) else str(exc)
        flash(
            gettext(
                "Attendance of “%(title)s” was not saved: %(problem)s",
                title=localized(event, "title"),
                problem=message,
            ),
            "error",
        )
    except ConflictError as exc:
        flash(str(exc), "error")
    else:
        flash(
            gettext(
                "Attendance of “%(title)s” saved: %(n)s.",
                title=localized(event, "title"),
                n=number,
            ),
            "success",
        )
    return redirect(url_for("events.home") + "#awaiting-attendance")


@bp.get("/events")
def list_events():
    page = events_page()
    # Clashes are planning information: organizers see them marked, the public does not.
    show_clashes = page["events"] and sees_drafts()
    clashes = find_clashes(get_session(), page["events"]) if show_clashes else {}
    return render_template(
        "events/list.html", clashes=clashes, **page, **filter_choices()
    ), 400 if page["error"] else 200


def parse_month(value: str) -> date:
    """'2020-03' → 1 March 2020; FilterError naming ``month`` otherwise."""
    try:
        if len(value) != 7 or value[4] != "-":
            raise ValueError
        first = date.fromisoformat(value + "-01")
    except ValueError:
        raise FilterError(
            "month",
            gettext(
                "'%(value)s' is not a month in the form %(format)s", value=value, format="YYYY-MM"
            ),
        ) from None
    window_check("month", first, value)
    return first


def _in_window(day: date) -> date | None:
    return None if rules.date_in_window(day) else day


@bp.get("/events/calendar")
def month():
    zone = campaign_zone()
    today = datetime.now(zone).date()
    months = request.args.getlist("month")
    try:
        if len(months) > 1:
            raise FilterError("month", gettext("give one month"))
        args = request.args.copy()
        args.pop("month", None)
        flt = request_filter(args=args)
        month_arg = months[0].strip() if months else ""
        if month_arg:
            first = parse_month(month_arg)
        else:
            # A list URL with from/to opens on its first month rather than today's.
            first = (flt.date_from or flt.date_to or today).replace(day=1)
    except FilterError as exc:
        return (
            render_template("events/month.html", error=exc, flt=None, **filter_choices()),
            400,
        )
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    # from/to, when given, narrow the month further; the grid always shows the whole month.
    in_month = dataclasses.replace(
        flt,
        date_from=max(first, flt.date_from or first),
        date_to=min(last, flt.date_to or last),
    )
    # Per day in SQL: how many events, and the ids of the few each day shows; then those
    # events, fully loaded. A busy day links to the rest in the list.
    session = get_session()
    days = MonthDays(counts={}, shown={}, total=0)
    if in_month.date_from <= in_month.date_to:
        days = month_days(session, in_month, first, last, EVENTS_PER_DAY)
    list_args = [(k, v) for k, v in flt.args if k not in ("from", "to")]
    list_args += [("from", in_month.date_from.isoformat()), ("to", in_month.date_to.isoformat())]
    shown = {i for ids in days.shown.values() for i in ids}
    loaded = {
        e.id: e
        for e in session.scalars(
            select(Event).where(Event.id.in_(shown)).options(*event_list_loading())
        )
    }
    by_day = {day: [loaded[i] for i in ids] for day, ids in days.shown.items()}
    day_counts = days.counts
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    return render_template(
        "events/month.html",
        error=None,
        flt=flt,
        first=first,
        last=last,
        weeks=weeks,
        by_day=by_day,
        day_counts=day_counts,
        holidays=holidays_between(weeks[0][0], weeks[-1][-1]),
        today=today,
        # No link to a month outside the window of years (it would be a 400).
        prev_month=_in_window((first - timedelta(days=1)).replace(day=1)),
        next_month=_in_window(last + timedelta(days=1)),
        count=days.total,
        list_url=url_for("events.list_events") + "?" + urlencode(list_args),
        day_args=lambda day: (
            [(k, v) for k, v in list_args if k not in ("from", "to")]
            + [("from", day.isoformat()), ("to", day.isoformat())]
        ),
        **filter_choices(),
    )


@bp.get("/events/<id:event_id>")
def show(event_id: int):
    event = load_event(event_id, history=sees_drafts())
    planner = sees_drafts()
    clashes = clashes_of(get_session(), event) if planner else []
    return render_template(
        "events/show.html",
        event=event,
        clashes=clashes,
        holidays=event_holidays(event) if planner else [],
    )


def event_holidays(event: Event) -> list:
    """The public holidays on the local dates of a saved event."""
    return holidays_during(event.local_start, event.local_end)


def form_holidays(form: EventForm) -> list:
    """The public holidays on the dates typed in the form (its wall-clock dates)."""
    start, end = form.starts_at.data, form.ends_at.data
    if not isinstance(start, datetime) or rules.date_in_window(start):
        return []
    if not isinstance(end, datetime) or end < start or rules.date_in_window(end):
        end = start
    return holidays_during(start, end)


# -- organizers ------------------------------------------------------------------------


@bp.get("/clashes")
@login_required
def clash_list():
    """Every open clash in the campaign: events not yet over and not cancelled that overlap
    another at the same venue or with the same partner (the rule of events.clashes), each
    pair once, soonest first."""
    session = get_session()
    now = datetime.now(UTC)
    open_events = session.scalars(
        select(Event)
        .where(
            Event.ends_at > now,
            Event.starts_at > now - MAX_EVENT_DURATION,
            Event.status != EventStatus.cancelled.value,
        )
        .options(joinedload(Event.venue))
    ).all()
    by_id = {e.id: e for e in open_events}
    pairs = []
    for event_id, clashes in find_clashes(session, open_events).items():
        for clash in clashes:
            if clash.other.id in by_id and clash.other.id < event_id:
                continue  # listed from the other side
            pairs.append((by_id[event_id], clash))
    pairs.sort(key=lambda p: (min(p[0].starts_at, p[1].other.starts_at), p[0].id, p[1].other.id))
    return render_template("events/clashes.html", pairs=pairs)


def _prepare_form(form: EventForm) -> dict:
    session = get_session()
    themes = session.scalars(select(Theme).order_by(Theme.name)).all()
    partners = session.scalars(select(Partner).order_by(Partner.name)).all()
    venues = session.scalars(select(Venue).order_by(Venue.city, Venue.name)).all()
    form.set_choices(themes, partners, venues)
    return {
        "themes": {t.id: t for t in themes},
        "partners": {p.id: p for p in partners},
        "venues": {str(v.id): v for v in venues},
    }


def _form_to_data(form: EventForm, lookup: dict) -> ops.EventData:
    """What the form says, as far as it can be read: a field that could not be read is
    empty here, so the operations' rules still judge every other one."""
    starts_at, ends_at = form.instant(form.starts_at), form.instant(form.ends_at)
    if form.zone() is None and not form.timezone.errors:
        form.timezone.errors = list(form.timezone.errors) + [rules.zone(form.timezone.data)]
    partners = []
    for role in PartnerRole:
        for pid in getattr(form, f"partners_{role.value}").data or []:
            if pid in lookup["partners"]:
                partners.append((lookup["partners"][pid], role.value))
    return ops.EventData(
        title=form.title.data or "",
        format=form.format.data or "",
        status=form.status.data or "",
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=(form.timezone.data or "").strip(),
        venue=lookup["venues"].get(form.venue.data or ""),
        online_url=(form.online_url.data or "").strip(),
        description=form.description.data or "",
        title_en=(form.title_en.data or "").strip(),
        description_en=form.description_en.data or "",
        themes=[lookup["themes"][tid] for tid in form.themes.data or [] if tid in lookup["themes"]],
        partners=partners,
        expected_audience=form.expected_audience.data,
        attendance=form.attendance.data,
    )


def read_form(form: EventForm, lookup: dict, event: Event | None = None) -> ops.EventData | None:
    """The submitted form checked in one round: the form's own checks and the operations'
    rules (end after start, at least one theme, for an edited ``event`` the change of its
    status, ...) together, so every mistake is shown at once; the data only when there is
    none."""
    valid = form.validate_on_submit()
    if form.csrf_token.errors:
        abort(400, form.csrf_token.errors[0])
    data = _form_to_data(form, lookup)
    try:
        ops.validate_event(data, event)
    except ValidationError as exc:
        for name in ("starts_at", "ends_at"):
            if getattr(data, name) is None and form[name].data is not None:
                # Typed, but not readable in the zone given: the zone's message says why.
                exc.errors.pop(name, None)
        _attach(form, exc)
    if not valid or any(f.errors for f in form):
        return None
    return data


ERROR_FIELDS = {"partners": "partners_host"}


def _attach(form: EventForm, exc: ValidationError) -> None:
    """The operations' messages on their fields; a field that already says what is wrong
    with it (the form's own check ran first) keeps its message alone."""
    for name, message in exc.errors.items():
        field = getattr(form, ERROR_FIELDS.get(name, name), None)
        if field is None:
            field = form.title
        if not field.errors:
            field.errors = list(field.errors) + [message]


def _fill_form(form: EventForm, event: Event) -> None:
    start, end = event.local_start, event.local_end
    form.title.data = event.title
    form.format.data = event.format
    form.status.data = event.status
    form.starts_at.data = start.replace(tzinfo=None)
    form.ends_at.data = end.replace(tzinfo=None)
    form.timezone.data = event.timezone
    form.venue.data = str(event.venue_id) if event.venue_id else ""
    form.online_url.data = event.online_url
    form.title_en.data = event.title_en
    form.description_en.data = event.description_en
    form.description.data = event.description
    form.themes.data = [t.id for t in event.themes]
    for role in PartnerRole:
        getattr(form, f"partners_{role.value}").data = [
            lk.partner_id for lk in event.partner_links if lk.role == role.value
        ]
    form.expected_audience.data = event.expected_audience
    form.attendance.data = event.attendance
    form.version.data = str(event.version)


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new():
    form = EventForm()
    lookup = _prepare_form(form)
    copied = None
    if request.method == "GET":
        copied = _copy_into(form)
        form.status.data = EventStatus.draft.value
        if copied is None:
            form.timezone.data = current_app.config["TIMEZONE"]
    pending = []
    if request.method == "POST" and partner_filter_request(request.form):
        return _refiltered(form, event=None)
    data = read_form(form, lookup) if request.method == "POST" else None
    if data is not None:
        accept = _clash_choice(form, data)
        try:
            event = ops.create_event(get_session(), current_user, data, accept_clashes=accept)
        except ValidationError as exc:
            _attach(form, exc)
        except ClashesFound as exc:
            pending = exc.clashes
        else:
            flash(gettext("“%(title)s” was created.", title=localized(event, "title")), "success")
            _warn_about_clashes(event)
            return redirect(url_for("events.show", event_id=event.id))
    status = (409 if pending else 400) if request.method == "POST" else 200
    return render_template(
        "events/form.html",
        form=form,
        event=None,
        pending_clashes=pending,
        holidays=form_holidays(form),
        copied=copied,
    ), status


def _refiltered(form: EventForm, event: Event | None):
    """The form again, as typed, with the partner picker filtered; nothing saved."""
    form.validate_on_submit()
    if form.csrf_token.errors:
        abort(400, form.csrf_token.errors[0])
    for f in form:
        f.errors = []
    if event is not None:
        _offer_statuses(form, event)
    return render_template("events/form.html", form=form, event=event, holidays=form_holidays(form))


def _copy_into(form: EventForm) -> Event | None:
    """``/events/new?copy=<id>``: the form pre-filled from that event, as a new draft with
    the date, venue and attendance left for the organizer to choose."""
    raw = request.args.get("copy")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 12):
        abort(400, gettext("copy: give the number of the event to copy."))
    original = load_event(int(raw))
    _fill_form(form, original)
    form.starts_at.data = form.ends_at.data = None
    form.venue.data = ""
    form.attendance.data = None
    form.version.data = ""
    return original


@bp.route("/events/<id:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id: int):
    event = load_event(event_id)
    form = EventForm()
    lookup = _prepare_form(form)
    pending = []
    if request.method == "GET":
        _fill_form(form, event)
    elif partner_filter_request(request.form):
        return _refiltered(form, event=event)
    else:
        data = read_form(form, lookup, event)
        if data is not None:
            session = get_session()
            data.cancel_reason = event.cancel_reason  # the form does not edit it
            accept = _clash_choice(form, data, event)
            try:
                changed = ops.update_event(
                    session,
                    current_user,
                    event,
                    data,
                    _version(form.version.data),
                    accept_clashes=accept,
                )
            except ValidationError as exc:
                _attach(form, exc)
            except ClashesFound as exc:
                pending = exc.clashes
            except ConflictError as exc:
                flash(
                    gettext("%(problem)s The form now shows their version.", problem=exc), "error"
                )
                event = load_event(event_id)
                form = EventForm(formdata=None)
                _prepare_form(form)
                _fill_form(form, event)
                _offer_statuses(form, event)
                return render_template("events/form.html", form=form, event=event), 409
            else:
                flash(
                    gettext("“%(title)s” was saved.", title=localized(event, "title"))
                    if changed
                    else gettext("Nothing was changed."),
                    "success" if changed else "info",
                )
                _warn_about_clashes(event)
                return redirect(url_for("events.show", event_id=event.id))
    status = (409 if pending else 400) if request.method == "POST" else 200
    clashes = clashes_of(get_session(), event) if request.method == "GET" else []
    _offer_statuses(form, event)
    return render_template(
        "events/form.html",
        form=form,
        event=event,
        clashes=clashes,
        pending_clashes=pending,
        holidays=form_holidays(form),
    ), status


def _offer_statuses(form: EventForm, event: Event) -> None:
    """The status list offers only the statuses the event may be given (a published event
    is never a draft again; an event that is over is not cancelled). Set after the form
    was read, so a value sent anyway gets the rule's own message."""
    allowed = ops.allowed_statuses(event)
    form.status.choices = [(s.value, s.lazy_label) for s in EventStatus if s.value in allowed]


def _clash_choice(form: EventForm, data: ops.EventData, event: Event | None = None) -> bool:
    """Whether this save accepts clashes: the organizer saw them and chose "Save anyway",
    or chose to keep the event a draft (drafts are not public; offered for new events and
    drafts only, since a published event is cancelled, never withdrawn)."""
    choice = request.form.get("clashes", "")
    if choice == "draft" and (event is None or event.is_draft):
        data.status = EventStatus.draft.value
        form.status.data = data.status
        return True
    return choice == "accept"


def _warn_about_clashes(event: Event) -> None:
    """After a save: say so when the event clashes or falls on a public holiday; the
    event page lists each."""
    holiday = holiday_warning(event_holidays(event))
    if holiday:
        flash(holiday, "warning")
    clashes = clashes_of(get_session(), event)
    if clashes:
        listed = "; ".join(
            gettext(
                "“%(title)s” (%(reasons)s)", title=localized(c.other, "title"), reasons=c.reasons()
            )
            for c in clashes
        )
        flash(
            gettext(
                "Clash warning: “%(title)s” overlaps %(listed)s. It was saved anyway; "
                "the clashes are listed below with links.",
                title=localized(event, "title"),
                listed=listed,
            ),
            "warning",
        )


def _version(raw) -> int:
    """The row version the form was opened at (optimistic locking); 400 if missing."""
    raw = str(raw or "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 12):
        abort(
            400,
            gettext("The form is missing the event's version; reload the page and try again."),
        )
    return int(raw)


def _state_change(event_id: int, action) -> object:
    event = load_event(event_id)
    version = _version(request.form.get("version"))
    session = get_session()
    try:
        action(session, current_user, event, version)
    except (ConflictError, NotAllowed) as exc:
        flash(str(exc), "error")
        return redirect(url_for("events.show", event_id=event_id)), None
    return None, event


@bp.post("/events/<id:event_id>/cancel")
@login_required
def cancel(event_id: int):
    reason = request.form.get("reason", "")

    def cancel_with_reason(session, actor, event, version):
        try:
            ops.cancel_event(session, actor, event, version, reason)
        except ValidationError as exc:
            raise NotAllowed(" ".join(exc.errors.values())) from None

    failed, event = _state_change(event_id, cancel_with_reason)
    if failed:
        return failed
    flash(
        gettext(
            "“%(title)s” is cancelled. Subscribed calendars will show it as cancelled.",
            title=localized(event, "title"),
        ),
        "success",
    )
    return redirect(url_for("events.show", event_id=event_id))


@bp.post("/events/<id:event_id>/delete")
@login_required
def delete(event_id: int):
    failed, event = _state_change(event_id, ops.delete_event)
    if failed:
        return failed
    flash(gettext("The draft “%(title)s” was deleted.", title=localized(event, "title")), "success")
    return redirect(url_for("events.list_events"))
