"""The iCalendar feeds: /calendar.ics (public or private), theme and partner feeds, and
one event's .ics download. Every one is built by :func:`serve_calendar`.

Speed without shared state in memory, in three layers:

1. ``feed_state.generation`` (one row in the database) rises in the same transaction as
   every write to what a feed shows (see the listeners at the end), and its
   ``changed_at`` is the feeds' Last-Modified. A request reads that row first: if this worker already answered the same calendar at the same
   generation, the ETag and body are known and an unchanged feed costs one small query.
2. Otherwise the request reads ``(id, uid, version)`` of the matching events and hashes
   them with everything else the bytes depend on into a strong ETag. The ETag depends on
   content only, so it is the same in every worker and after a restart, a change to
   another theme's event leaves it alone, and a conditional request gets its 304 without
   any rendering.
3. The body joins VEVENT bytes kept per worker under ``(render key, id, uid, version)``.
   The row version rises on every write to an event (SQLAlchemy's optimistic-locking
   column) and the render key covers the rest a VEVENT shows (site URL, organizer, names
   of themes, partners and venues), so an entry can never be stale: after an edit only
   that event is rendered again. A new worker starts cold and renders everything once.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from importlib import metadata
from urllib.parse import quote, urlencode

from flask import Blueprint, abort, current_app, request
from flask_login import current_user
from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, subqueryload

from . import ical
from .db import get_session
from .filters import EventFilter
from .models import Event, EventPartner, FeedState, Partner, Theme, User, Venue
from .views import campaign_zone

bp = Blueprint("feeds", __name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, max-age=300"
# Loading by id is cheaper for a few edited events; a cold cache loads the whole filter.
LOAD_BY_ID_LIMIT = 500

try:
    _TZDATA = metadata.version("tzdata")
except metadata.PackageNotFoundError:  # pragma: no cover - the system zoneinfo is used
    _TZDATA = "system"


class _LRU:
    """A small thread-safe LRU of immutable values, bounded by count and by bytes."""

    def __init__(self, max_items: int, max_bytes: int):
        self.max_items, self.max_bytes = max_items, max_bytes
        self._data: OrderedDict = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value, size: int) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._data:
                return
            self._data[key] = (value, size)
            self._bytes += size
            while len(self._data) > self.max_items or self._bytes > self.max_bytes:
                _, (_, old) = self._data.popitem(last=False)
                self._bytes -= old

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0


# (render key, event id, uid, version) -> RenderedEvent. Immutable by construction.
_vevents = _LRU(max_items=200_000, max_bytes=256 * 2**20)
# ETag -> body: feeds whose events did not change are not joined again.
_bodies = _LRU(max_items=64, max_bytes=96 * 2**20)
# (calendar, head, render context, feed generation) -> ETag.
_current = _LRU(max_items=4096, max_bytes=4096 * 200)


def clear_caches() -> None:
    """Forget every cached VEVENT and feed body (tests and benchmarks)."""
    _vevents.clear()
    _bodies.clear()
    _current.clear()


def _cached(cache: _LRU, key):
    hit = cache.get(key)
    return hit[0] if hit is not None else None


def render_context() -> ical.RenderContext:
    cfg = current_app.config
    return ical.RenderContext(
        site_url=cfg["SITE_URL"].rstrip("/"),
        organizer_name=cfg["CAMPAIGN_NAME"],
        organizer_email=cfg["ORGANIZER_EMAIL"],
    )


def _render_key(session, ctx: ical.RenderContext) -> str:
    """Everything besides the event row that its VEVENT shows, hashed.

    Renaming a theme, partner or venue does not touch the events' rows, so the names
    are part of the key (three small tables, read in three fixed queries).
    """
    h = hashlib.sha256()
    h.update(repr((ical.RENDERER_VERSION, _TZDATA, ctx)).encode())
    for rows in (
        session.execute(select(Theme.id, Theme.name).order_by(Theme.id)),
        session.execute(select(Partner.id, Partner.name).order_by(Partner.id)),
        session.execute(
            select(
                Venue.id, Venue.name, Venue.address, Venue.city, Venue.latitude, Venue.longitude
            ).order_by(Venue.id)
        ),
    ):
        h.update(repr(rows.all()).encode())
    return h.hexdigest()[:32]


def _etag(render_key: str, head: bytes, rows: list[tuple[int, str, int]]) -> str:
    h = hashlib.sha256()
    h.update(render_key.encode())
    h.update(head)
    h.update("".join(f"{eid}:{uid}:{version}," for eid, uid, version in rows).encode())
    return h.hexdigest()[:40]


def _load(session, ids: list[int], conditions: list) -> dict[int, Event]:
    """Events to render, venue, themes and partners loaded in four queries whatever their number."""
    query = select(Event).options(
        joinedload(Event.venue),
        subqueryload(Event.themes),
        subqueryload(Event.partner_links).joinedload(EventPartner.partner),
    )
    if len(ids) <= LOAD_BY_ID_LIMIT:
        query = query.where(Event.id.in_(ids))
    else:
        query = query.where(*conditions)
    wanted = set(ids)
    return {e.id: e for e in session.scalars(query) if e.id in wanted}


def _assemble(session, rows, conditions, ctx, render_key, head):
    """Cached VEVENTs for ``rows``; renders (and caches) only the ones missing."""
    rendered: list[ical.RenderedEvent | None] = [
        _cached(_vevents, (render_key, *row)) for row in rows
    ]
    missing = [row[0] for row, r in zip(rows, rendered, strict=True) if r is None]
    used = list(rows)
    if missing:
        loaded = _load(session, missing, conditions)
        for i, (eid, _uid, _version) in enumerate(rows):
            if rendered[i] is not None:
                continue
            event = loaded.get(eid)
            if event is None:  # a draft deleted between the two queries
                continue
            r = ical.render_vevent(event, ctx)
            row = (event.id, event.uid, event.version)
            _vevents.put((render_key, *row), r, len(r.vevent) + 200)
            rendered[i] = r
            used[i] = row
    present = [r for r in rendered if r is not None]
    used = [pair for pair, r in zip(used, rendered, strict=True) if r is not None]
    body = b"".join(
        [head, ical.timezones_for(present), *(r.vevent for r in present), ical.CALENDAR_TAIL]
    )
    return body, _etag(render_key, head, used)


def serve_calendar(
    conditions: list,
    *,
    key: tuple,
    name: str,
    description: str,
    subscription: bool,
    cache_control: str,
    filename: str | None = None,
):
    """The response for one calendar: a 304 when the client's copy is current, else the
    bytes, with a strong ETag, Last-Modified and caching headers. A fixed number of SQL
    queries whatever the number of events.

    ``key`` names the calendar (its filter); with the database's feed generation it finds
    this worker's last answer, so an unchanged feed costs one small query.
    """
    session = get_session()
    ctx = render_context()
    head = ical.calendar_head(name, description, subscription=subscription)
    state = session.execute(
        select(FeedState.generation, FeedState.changed_at, FeedState.epoch).where(FeedState.id == 1)
    ).one_or_none()
    # Without the row (a schema made by hand, not by init-db) feeds still work, slower.
    generation, changed_at, epoch = state or (None, None, None)
    # Last-Modified is the last change to anything a feed shows, not max(updated) of the
    # events in it: an event that leaves the feed (a theme removed, a draft deleted) or a
    # renamed venue changes the feed without raising any remaining event's `updated`, and
    # a client asking If-Modified-Since would be told 304 for good.
    last_modified = min(changed_at, datetime.now(UTC)) if changed_at else None
    # The database's URL and epoch: generation numbers of two databases (tests, a
    # restored backup) say nothing about each other.
    database = (str(session.get_bind().url), epoch)
    current_key = (key, head, ctx, database, generation)
    rows = render_key = None
    etag = _cached(_current, current_key) if generation is not None else None
    if etag is None:
        render_key, rows = _versions(session, ctx, conditions)
        etag = _etag(render_key, head, rows)
        if generation is not None:
            _current.put(current_key, etag, 200)
    headers = {"ETag": f'"{etag}"', "Cache-Control": cache_control}

    if request.if_none_match:
        # RFC 9110 13.1.2: If-None-Match wins over If-Modified-Since.
        if request.if_none_match.contains_weak(etag):
            return "", 304, headers
    elif changed_at and request.if_modified_since and changed_at <= request.if_modified_since:
        return "", 304, headers

    body = _cached(_bodies, etag)
    if body is None:
        if rows is None:  # the body was evicted: look at the events again
            render_key, rows = _versions(session, ctx, conditions)
        body, etag = _assemble(session, rows, conditions, ctx, render_key, head)
        # If an event changed between the two queries, the ETag names what was sent.
        headers["ETag"] = f'"{etag}"'
        _bodies.put(etag, body, len(body))
    response = current_app.response_class(body, status=200, content_type=CONTENT_TYPE)
    response.headers.update(headers)
    if last_modified is not None:
        response.last_modified = last_modified
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _versions(session, ctx: ical.RenderContext, conditions: list):
    """The render key, and (id, uid, version) of every event of the calendar in order.

    The uid is there because SQLite may give a deleted draft's id to a new event.
    """
    rows = [
        tuple(row)
        for row in session.execute(
            select(Event.id, Event.uid, Event.version)
            .where(*conditions)
            .order_by(Event.starts_at, Event.id)
        )
    ]
    return _render_key(session, ctx), rows


def render_feed(session, flt: EventFilter) -> bytes:
    """The bytes of the feed of ``flt`` (the ICS export): what ``/calendar.ics`` with the
    same filter sends — privately, with drafts as TENTATIVE, when the filter includes them."""
    private = flt.include_drafts
    ctx = render_context()
    head = ical.calendar_head(
        _feed_name(flt, private), _feed_description(private), subscription=True
    )
    conditions = flt.conditions()
    render_key, rows = _versions(session, ctx, conditions)
    body, _etag = _assemble(session, rows, conditions, ctx, render_key, head)
    return body


# -- routes ------------------------------------------------------------------------------


def _feed_name(flt: EventFilter, private: bool) -> str:
    name = current_app.config["CAMPAIGN_NAME"]
    described = flt.describe()
    if described:
        name += f" — {described}"
    if private:
        name += " (private feed with drafts)"
    return calendar_text(name)


def calendar_text(value: str) -> str:
    """X-WR-CALNAME and X-WR-CALDESC are read unescaped by many clients (and by icalendar
    and vobject), so a calendar's name and description hold no comma or semicolon."""
    return value.replace(", ", " · ").replace(",", " ·").replace(";", " ·")


def _feed_description(private: bool) -> str:
    cfg = current_app.config
    text = (
        f"{cfg['CAMPAIGN_NAME']}: panels and round tables and seminars of Serbia's IPAP 2 "
        "public information campaign. Cancelled events stay in the calendar marked as cancelled. "
        f"{cfg['SITE_URL'].rstrip('/')}/events"
    )
    if private:
        text += " Private feed for organizers: drafts are shown as tentative. Do not share it."
    return calendar_text(text)


def _token_user() -> User | None:
    """The organizer whose feed token is in the URL; 403 for any token that is not one."""
    tokens = request.args.getlist("token")
    if not tokens:
        return None
    token = tokens[0]
    if len(tokens) == 1 and token and len(token) <= 64 and token.isascii():
        user = get_session().scalar(select(User).where(User.feed_token == token))
        if user is not None and user.active:
            return user
    # Plain text, as for bad filters, so that a calendar client can show the reason.
    abort(
        current_app.response_class(
            "token: this private feed address is no longer valid; "
            "copy the current one from your account page.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    )


def _feed(fixed: dict | None = None):
    user = _token_user()
    private = user is not None
    # Without a valid token a feed is public even for a logged-in organizer: it is sent
    # with "Cache-Control: public" and must never carry drafts.
    flt = EventFilter.parse(
        request.args,
        get_session(),
        include_drafts=private,
        campaign_zone=campaign_zone(),
        fixed=fixed,
    )
    fixed_key = tuple(sorted((k, tuple(v)) for k, v in (fixed or {}).items()))
    return serve_calendar(
        flt.conditions(),
        key=("feed", private, fixed_key, flt.args),
        name=_feed_name(flt, private),
        description=_feed_description(private),
        subscription=True,
        cache_control=PRIVATE_CACHE if private else PUBLIC_CACHE,
    )


@bp.get("/calendar.ics")
def calendar_feed():
    return _feed()


@bp.get("/themes/<slug>/calendar.ics")
def theme_feed(slug: str):
    return _feed({"theme": [slug]})


@bp.get("/partners/<slug>/calendar.ics")
def partner_feed(slug: str):
    return _feed({"partner": [slug]})


@bp.get("/events/<int:event_id>.ics")
def event_download(event_id: int):
    session = get_session()
    row = session.execute(
        select(Event.status, Event.title).where(Event.id == event_id)
    ).one_or_none()
    if row is None:
        abort(404)
    draft = row.status == "draft"
    if draft and not current_user.is_authenticated:
        abort(404)
    return serve_calendar(
        [Event.id == event_id],
        key=("event", event_id),
        name=calendar_text(f"{current_app.config['CAMPAIGN_NAME']} — {row.title}"),
        description=_feed_description(False),
        subscription=False,
        cache_control="private, no-cache" if draft else PUBLIC_CACHE,
        filename=f"ipap2-event-{event_id}.ics",
    )


# -- subscribe links ---------------------------------------------------------------------


def feed_url(path: str, args=None) -> str:
    """An absolute feed address on SITE_URL (a calendar server fetches it, not a browser)."""
    url = current_app.config["SITE_URL"].rstrip("/") + path
    pairs = [(k, v) for k, v in (args or []) if k != "page"]
    return url + ("?" + urlencode(pairs) if pairs else "")


def subscribe_links(url: str, name: str) -> dict[str, str]:
    """webcal, https, Google and Outlook links for one feed address."""
    webcal = "webcal://" + url.split("://", 1)[1]
    return {
        "https": url,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe=""),
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?"
        + urlencode({"url": url, "name": name}),
        "office": "https://outlook.office.com/calendar/0/addfromweb?"
        + urlencode({"url": url, "name": name}),
    }


def private_feed_url(user: User) -> str | None:
    return feed_url("/calendar.ics", [("token", user.feed_token)]) if user.feed_token else None


# -- the feed generation -----------------------------------------------------------------

FEED_TABLES = frozenset(
    {"events", "event_themes", "event_partners", "themes", "partners", "venues"}
)
FEED_CLASSES = (Event, EventPartner, Theme, Partner, Venue)


def _bump_generation(session) -> None:
    # Once per transaction: readers cannot see the change before it commits anyway.
    if session.info.get("feed_generation_bumped"):
        return
    session.info["feed_generation_bumped"] = True
    connection = session.connection()
    previous = connection.scalar(
        select(FeedState.changed_at).where(FeedState.id == 1).with_for_update()
    )
    # Whole seconds (HTTP dates have no more) that rise with every change, so that a
    # client's If-Modified-Since never matches a later change made in the same second.
    now = datetime.now(UTC).replace(microsecond=0)
    changed_at = max(now, previous + timedelta(seconds=1)) if previous else now
    connection.execute(
        update(FeedState)
        .where(FeedState.id == 1)
        .values(generation=FeedState.generation + 1, changed_at=changed_at)
    )


def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop("feed_generation_bumped", None)


def _before_flush(session, _context, _instances) -> None:
    # Any write of what a feed shows, in the same transaction as the write itself.
    if any(
        isinstance(obj, FEED_CLASSES)
        for obj in itertools.chain(session.new, session.dirty, session.deleted)
    ):
        _bump_generation(session)


def _on_execute(state) -> None:
    # Bulk statements (import_events) bypass the flush.
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in FEED_TABLES:
            _bump_generation(state.session)


def init_app(app) -> None:
    sessions = app.extensions["campaign.sessionmaker"]
    sa_event.listen(sessions, "before_flush", _before_flush)
    sa_event.listen(sessions, "do_orm_execute", _on_execute)
    sa_event.listen(sessions, "after_transaction_end", _transaction_ended)
    app.jinja_env.globals.update(
        feed_url=feed_url,
        subscribe_links=subscribe_links,
        private_feed_url=private_feed_url,
    )
