"""The read API: /api/v1/events, /api/v1/events/<id>, /api/v1/themes, /api/v1/partners,
/api/v1/venues and /api/openapi.json.

Thin routes: the filter is the one EventFilter (same parameters, same 400s, as RFC 9457
problems here), an event is the JSON export's ``event_json``, a page is one keyset page
(``exports.rows.events_after``). Every answer has a strong ETag of its bytes and answers
``If-None-Match`` with 304. Anonymous answers are public (``Access-Control-Allow-Origin: *``,
never with credentials); drafts need ``Authorization: Bearer <token>`` with an organizer's
token, and such answers are private and carry no CORS header.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, g, render_template, request
from flask_babel import gettext
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from ..calendar import links
from ..catalog.models import Partner, Theme, Venue
from ..db import get_session
from ..events.filters import MAX_VALUES, EventFilter, FilterError
from ..events.lists import request_filter
from ..exports.rows import event_json, events_after
from ..i18n import campaign_name
from ..security import frameable, ignores_cookie, public_cors
from ..web import campaign_zone
from . import atom, openapi, pagination, schemas
from .problems import ApiProblem, problem_response
from .tokens import bearer_user

bp = Blueprint("api", __name__, url_prefix="/api")

PUBLIC_CACHE = "public, max-age=0, must-revalidate"
PRIVATE_CACHE = "private, no-store"
JSON = "application/json"


# -- answering ---------------------------------------------------------------------------


def _site(path: str, args: list[tuple[str, str]] | None = None) -> str:
    url = current_app.config["SITE_URL"].rstrip("/") + path
    return url + ("?" + urlencode(args) if args else "")


def encode(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def etag_of(data: bytes) -> str:
    """The strong validator of a body's bytes (without its quotes)."""
    return hashlib.sha256(data).hexdigest()[:32]


def answer(body: dict, *, private: bool, next_url: str | None = None, status: int = 200):
    """JSON with a strong ETag of its bytes; 304 when the client's copy is current."""
    data = encode(body)
    response = current_app.response_class(data, status=status, content_type=JSON)
    response.set_etag(etag_of(data))
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    response.headers["Cache-Control"] = PRIVATE_CACHE if private else PUBLIC_CACHE
    response.vary.add("Authorization")
    if not private:
        public_cors(response)
    return response.make_conditional(request)


def _only(schema) -> None:
    """The parameters the document lists, each value given once where it is one value, and
    no empty value or value with surrounding spaces (which HTML forms send and pages
    ignore; a program means something by them, so it is told). Then the filter decides."""
    allowed = schemas.parameter_names(schema) if schema else set()
    repeatable = schemas.repeatable_names(schema) if schema else set()
    for name in request.args:
        if name not in allowed:
            raise ApiProblem(
                400,
                gettext("unknown parameter '%(name)s'", name=name[:40]),
                parameter=name[:40],
            )
        values = request.args.getlist(name)
        if len(values) > (MAX_VALUES if name in repeatable else 1):
            raise ApiProblem(
                400,
                gettext("%(param)s is given too many times", param=name),
                parameter=name,
            )
        if any(not v or v != v.strip() for v in values):
            raise ApiProblem(
                400,
                gettext("%(param)s is empty or has spaces around it", param=name),
                parameter=name,
            )


def _limit() -> int:
    values = request.args.getlist("limit")
    if not values:
        return schemas.DEFAULT_LIMIT
    value = values[0]
    if (
        len(values) > 1
        or not (value.isascii() and value.isdigit())
        or not 1 <= int(value) <= schemas.MAX_LIMIT
    ):
        raise ApiProblem(
            400,
            gettext(
                "%(param)s must be one whole number from 1 to %(max)s",
                param="limit",
                max=schemas.MAX_LIMIT,
            ),
            parameter="limit",
        )
    return int(value)


def _next_url(key) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
    args.append(("cursor", pagination.encode(key)))
    return _site(request.path, args)


# -- events ------------------------------------------------------------------------------


@bp.get("/v1/events")
@ignores_cookie
def events():
    _only(schemas.EventQuerySchema)
    user = bearer_user()
    limit = _limit()
    after = pagination.event_key(request.args.get("cursor"))
    try:
        flt = request_filter(drafts=user is not None)
    except FilterError as exc:
        raise ApiProblem(400, str(exc).split(": ", 1)[-1], parameter=exc.param) from None
    rows = events_after(get_session(), flt, after, limit + 1)
    site = current_app.config["SITE_URL"]
    page = rows[:limit]
    next_url = _next_url((page[-1].starts_at, page[-1].id)) if len(rows) > limit else None
    return answer(
        {"events": [event_json(e, site) for e in page], "next": next_url},
        private=user is not None,
        next_url=next_url,
    )


@bp.get("/v1/events/<id:event_id>")
@ignores_cookie
def event(event_id: int):
    _only(None)
    user = bearer_user()
    flt = EventFilter(
        include_drafts=user is not None, campaign_zone=campaign_zone(), event_ids=(event_id,)
    )
    found = events_after(get_session(), flt, None, 1)
    if not found:
        raise ApiProblem(404, gettext("There is no event %(id)s.", id=event_id))
    return answer(event_json(found[0], current_app.config["SITE_URL"]), private=user is not None)


# -- themes, partners, venues ------------------------------------------------------------


def _catalog_page(model, key: str, shape):
    _only(schemas.PageQuerySchema)
    limit = _limit()
    after = pagination.id_key(request.args.get("cursor"))
    stmt = select(model).order_by(model.id).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(model.id > after)
    rows = get_session().scalars(stmt).all()
    page = rows[:limit]
    next_url = _next_url(page[-1].id) if len(rows) > limit else None
    return answer(
        {key: [shape(row) for row in page], "next": next_url}, private=False, next_url=next_url
    )


@bp.get("/v1/themes")
@ignores_cookie
def themes():
    return _catalog_page(
        Theme,
        "themes",
        lambda t: {
            "id": t.id,
            "slug": t.slug,
            "name": t.name,
            "name_en": t.name_en,
            "description": t.description,
            "key_messages": t.key_messages,
            "colour": t.colour,
            "url": _site(f"/themes/{t.slug}"),
            "events": _site("/api/v1/events", [("theme", t.slug)]),
        },
    )


@bp.get("/v1/partners")
@ignores_cookie
def partners():
    # Public fields only: contact details and notes stay inside the planner.
    return _catalog_page(
        Partner,
        "partners",
        lambda p: {
            "id": p.id,
            "slug": p.slug,
            "name": p.name,
            "name_en": p.name_en,
            "kind": p.kind,
            "city": p.city,
            "website": p.website,
            "url": _site(f"/partners/{p.slug}"),
            "events": _site("/api/v1/events", [("partner", p.slug)]),
        },
    )


@bp.get("/v1/venues")
@ignores_cookie
def venues():
    return _catalog_page(
        Venue,
        "venues",
        lambda v: {
            "id": v.id,
            "name": v.name,
            "city": v.city,
            "address": v.address,
            "latitude": v.latitude,
            "longitude": v.longitude,
            "capacity": v.capacity,
        },
    )


# -- the contract ------------------------------------------------------------------------


@bp.get("/openapi.json")
@ignores_cookie
def openapi_document():
    _only(None)
    return answer(openapi.document(current_app), private=False)


@bp.errorhandler(HTTPException)
def _http_problem(exc: HTTPException):
    return problem_response(exc.code or 500, exc.description)


@bp.errorhandler(ApiProblem)
def _api_problem(exc: ApiProblem):
    return exc.response()


# -- for other websites and news readers -------------------------------------------------

outside = Blueprint("outside", __name__)
ATOM_TYPE = "application/atom+xml; charset=utf-8"
FEED_CACHE = "public, max-age=300"


def _named(model, slug: str):
    """The theme or partner a feed's address names; 404 (plain text) when there is none."""
    row = get_session().scalar(select(model).where(model.slug == slug))
    if row is None:
        if model is Theme:
            message = gettext("There is no theme '%(slug)s'.", slug=slug[:80])
        else:
            message = gettext("There is no partner '%(slug)s'.", slug=slug[:80])
        abort(
            current_app.response_class(
                message + "\n",
                status=404,
                content_type="text/plain; charset=utf-8",
            )
        )
    return row


def _atom(fixed: dict | None, page_path: str):
    flt = request_filter(fixed=fixed, drafts=False)
    events = atom.recent_events(get_session(), flt)
    config = current_app.config
    title = campaign_name()
    if described := flt.describe():
        title += f" — {described}"
    query = flt.query_args()
    body = atom.atom_feed(
        events,
        title=title,
        site_url=config["SITE_URL"],
        self_url=_site(request.path, query),
        page_url=_site(page_path, query),
        author=campaign_name(),
        email=config["ORGANIZER_EMAIL"],
    )
    response = current_app.response_class(body, status=200, content_type=ATOM_TYPE)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = FEED_CACHE
    public_cors(response)
    return response.make_conditional(request)


@outside.get("/events.atom")
@ignores_cookie
def events_atom():
    return _atom(None, "/events")


@outside.get("/themes/<slug>/events.atom")
@ignores_cookie
def theme_atom(slug: str):
    _named(Theme, slug)
    return _atom({"theme": [slug]}, f"/themes/{slug}")


@outside.get("/partners/<slug>/events.atom")
@ignores_cookie
def partner_atom(slug: str):
    _named(Partner, slug)
    return _atom({"partner": [slug]}, f"/partners/{slug}")


EMBED_LAYOUTS = ("compact", "expanded")
EMBED_MAX = 50
EMBED_DEFAULT = 10


@outside.get("/embed/events")
@ignores_cookie
@frameable
def embed_events():
    """The agenda for partners' websites: public events of the filter (from today on
    unless ``from`` or ``to`` is given), script-free, frameable by any site, the same for
    everyone (no cookie read or set)."""
    config = current_app.config
    # The page shows no account: Flask-Login's template variable must not read the cookie.
    g._login_user = current_app.login_manager.anonymous_user()
    context = {
        "site_url": config["SITE_URL"].rstrip("/"),
        "layout": "compact",
        "events": [],
        "error": None,
        "title": campaign_name(),
        "page_url": _site("/events"),
    }
    status = 200
    try:
        layout = request.args.get("layout", "compact")
        if layout not in EMBED_LAYOUTS:
            raise FilterError(
                "layout",
                gettext("use one of %(choices)s", choices=", ".join(EMBED_LAYOUTS)),
            )
        context["layout"] = layout
        limit = request.args.get("limit", str(EMBED_DEFAULT))
        if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= EMBED_MAX):
            raise FilterError(
                "limit",
                gettext(
                    "%(param)s must be one whole number from 1 to %(max)s",
                    param="limit",
                    max=EMBED_MAX,
                ),
            )
        flt = request_filter(drafts=False)
        if flt.date_from is None and flt.date_to is None:
            # An agenda: from today on, unless the address names days.
            today = datetime.now(campaign_zone()).date()
            shown = dataclasses.replace(flt, date_from=today)
        else:
            shown = flt
        context["events"] = events_after(get_session(), shown, None, int(limit))
        query = flt.query_args()
        if described := flt.describe():
            context["title"] += f" — {described}"
        context["page_url"] = _site("/events", query)
        context["atom_url"] = _site("/events.atom", query)
        context["subscribe"] = links.subscribe_links(
            links.feed_url("/calendar.ics", query), context["title"]
        )
    except FilterError as exc:
        context["error"] = str(exc)
        status = 400
    response = current_app.response_class(
        render_template("api/embed.html", **context), status=status
    )
    response.headers["Cache-Control"] = FEED_CACHE if status == 200 else "no-store"
    return response


def init_app(app) -> None:
    from .. import csrf
    from . import docs, writes  # noqa: F401  (their routes join the blueprints)

    # Writes carry a bearer token, never the session cookie: no CSRF token to ask for.
    csrf.exempt(bp)

    app.register_blueprint(bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(outside)
    # What the document describes is fixed when the routes are: build it once.
    openapi.register(app, bp)
