"""The calendar feeds over HTTP: /calendar.ics (public or private), theme and partner
feeds, and one event's .ics download. Conditional GET and the private feed token live
here; what a feed contains is calendar.feeds."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, make_response, request, stream_with_context
from flask_babel import gettext
from sqlalchemy import select

from ..auth.access import sees_drafts
from ..auth.models import User
from ..catalog.models import Partner, Theme
from ..db import get_session
from ..events.filters import EventFilter, FilterError
from ..events.lists import request_filter
from ..events.models import Event
from ..i18n import campaign_name, localized, with_lang
from ..security import ignores_cookie, public_cors
from ..web import campaign_zone
from . import feeds, ical, links, planned_media, tracking

bp = Blueprint("feeds", __name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, max-age=300"


def render_context() -> ical.RenderContext:
    return ical.RenderContext.from_config(current_app.config)


def content_coding() -> str | None:
    """The coding the client takes that the feed is sent in (RFC 9110 12.5.3), None for
    identity: ``gzip`` unless Accept-Encoding leaves it out or gives it ``q=0``."""
    accepted = request.accept_encodings
    for encoding in feeds.ENCODINGS:
        if accepted.quality(encoding) > 0:
            return encoding
    return None


def serve(calendar: feeds.Calendar, *, cache_control: str, filename: str | None = None):
    """A 304 when the client's copy is current, else the bytes, with a strong ETag,
    Last-Modified and caching headers. A fixed number of SQL queries whatever the number
    of events.

    Compressed when the client takes gzip (made once per version of the feed, see
    calendar.feeds), with its own ETag and ``Vary: Accept-Encoding``. ``Range`` is
    ignored: the whole representation with 200, which RFC 9110 14.2 allows, never a
    slice of the wrong coding."""
    version = calendar.current()
    encoding = content_coding()
    selected = feeds.variant_etag(version.etag, encoding)
    headers = {
        "ETag": f'"{selected}"',
        "Cache-Control": cache_control,
        "Vary": "Accept-Encoding",
    }
    if request.if_none_match:
        # RFC 9110 13.1.2: If-None-Match wins over If-Modified-Since. A copy of the
        # current version in any coding is current: the 304 names the one the client has.
        for candidate in (encoding, None, *feeds.ENCODINGS):
            tag = feeds.variant_etag(version.etag, candidate)
            if request.if_none_match.contains_weak(tag):
                headers["ETag"] = f'"{tag}"'
                return "", 304, headers
    elif version.not_modified_since(request.if_modified_since):
        return "", 304, headers
    body, etag = calendar.content(encoding)
    # If an event changed between the two queries, the ETag names what was sent.
    headers["ETag"] = f'"{feeds.variant_etag(etag, encoding)}"'
    if not isinstance(body, bytes | list):
        # Larger than the feed cache's budget: streamed, never whole in memory.
        body = stream_with_context(body)
    response = current_app.response_class(body, status=200, content_type=CONTENT_TYPE)
    response.headers.update(headers)
    if encoding is not None:
        response.headers["Content-Encoding"] = encoding
    if version.last_modified is not None:
        # The value If-Modified-Since is compared with, never later than Date.
        response.last_modified = version.last_modified
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


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
            gettext(
                "%(param)s: this private feed address is no longer valid; "
                "copy the current one from your account page.",
                param="token",
            )
            + "\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    )


def _feed(fixed: dict | None = None, named_by_path: tuple | None = None):
    # Never reads the session cookie (nor current_user): the same URL gives the same bytes
    # to everyone, so shared caches need no "Vary: Cookie" (see security.ignores_cookie).
    private = _token_user() is not None
    # Without a valid token a feed is public even for a logged-in organizer: it is sent
    # with "Cache-Control: public" and must never carry drafts.
    try:
        flt = request_filter(fixed=fixed, drafts=private)
    except FilterError:
        # Looked up only on failure: a feed that works costs no extra query.
        missing = named_by_path and _missing_from_path(*named_by_path)
        if missing:
            return missing
        raise
    # Planned media appearances join organizers' private feeds only (for_filter gives
    # None for a filter without drafts).
    extra = planned_media.for_filter(flt) if private else None
    response = serve(
        feeds.feed_of(get_session(), flt, current_app.config, extra),
        cache_control=PRIVATE_CACHE if private else PUBLIC_CACHE,
    )
    return response if private else public_cors(make_response(response))


@bp.get("/calendar.ics")
@ignores_cookie
def calendar_feed():
    return _feed()


@bp.get("/themes/<slug>/calendar.ics")
@ignores_cookie
def theme_feed(slug: str):
    return _feed({"theme": [slug]}, named_by_path=(Theme, slug))


@bp.get("/partners/<slug>/calendar.ics")
@ignores_cookie
def partner_feed(slug: str):
    return _feed({"partner": [slug]}, named_by_path=(Partner, slug))


def _missing_from_path(model, slug: str):
    """404 when a theme or partner feed's address names none that exists (removed, or
    mistyped): the address is wrong, not a parameter (400 stays for those). Plain text,
    as for bad filters, so a calendar client can show the reason."""
    if get_session().scalar(select(model.id).where(model.slug == slug)) is not None:
        return None
    # In the feed's language (the URL's, see i18n), one whole sentence per kind so each
    # language can inflect it; the parameter name before the colon stays as in the URL.
    site = current_app.config["SITE_URL"].rstrip("/")
    slug = slug[:80]
    if model is Theme:
        param = "theme"
        message = gettext(
            "there is no theme '%(slug)s'; it was removed or the address is mistyped "
            "(every theme's feed is listed on %(index)s).",
            slug=slug,
            index=with_lang(f"{site}/themes"),
        )
    else:
        param = "partner"
        message = gettext(
            "there is no partner '%(slug)s'; it was removed or the address is mistyped "
            "(every partner's feed is listed on %(index)s).",
            slug=slug,
            index=with_lang(f"{site}/partners"),
        )
    return current_app.response_class(
        f"{param}: {message}\n",
        status=404,
        content_type="text/plain; charset=utf-8",
    )


@bp.get("/events/<id:event_id>.ics")
@ignores_cookie
def event_download(event_id: int):
    session = get_session()
    row = session.execute(
        select(Event.status, Event.title, Event.title_en).where(Event.id == event_id)
    ).one_or_none()
    draft = row is not None and row.status == "draft"
    if row is None or (draft and not sees_drafts()):
        abort(404)
    ctx = render_context()
    name = campaign_name()
    flt = EventFilter(include_drafts=draft, campaign_zone=campaign_zone(), event_ids=(event_id,))
    presentation = feeds.Presentation(
        feeds.calendar_text(f"{name} — {localized(row, 'title')}"),
        feeds.feed_description(ctx, name),
        subscription=False,
    )
    response = serve(
        feeds.Calendar(session, flt, ctx, presentation),
        cache_control="private, no-cache" if draft else PUBLIC_CACHE,
        filename=f"ipap2-event-{event_id}.ics",
    )
    return response if draft else public_cors(make_response(response))


def init_app(app) -> None:
    tracking.track(app.extensions["campaign.sessionmaker"])
    feeds.configure(int(app.config["FEED_CACHE_BYTES"]))
    app.jinja_env.globals.update(
        feed_url=links.feed_url,
        subscribe_links=links.subscribe_links,
        private_feed_url=links.private_feed_url,
        add_to_calendar_links=links.add_to_calendar_links,
    )
    app.register_blueprint(bp)
