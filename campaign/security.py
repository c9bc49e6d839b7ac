"""Security headers on every response; no caching of what a logged-in user sees; no
"Vary: Cookie" on responses that never read the cookie."""

from __future__ import annotations

from functools import wraps

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

# Pages use only files from static/: no inline scripts or styles, nothing from elsewhere.
# Set CAMPAIGN_CONTENT_SECURITY_POLICY="" to send none (e.g. when a proxy sets its own).
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    # For browsers that predate CSP frame-ancestors.
    "X-Frame-Options": "DENY",
}
# What partners' websites frame (/embed/...): only this policy allows any ancestor, and
# such a page has no scripts, forms or cookies.
FRAMEABLE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors *"
)
# Pages for a logged-in user show drafts, names and the private feed token: no cache, not
# even the browser's, may keep them.
LOGGED_IN_CACHE = "private, no-store"


_SESSION_KEY = "campaign.session"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, plus two things. The session can be looked at
    without counting as read (any use of ``flask.session`` marks it read, and Flask then
    adds "Vary: Cookie"). And a view marked :func:`ignores_cookie` that did not read it
    gets no "Vary: Cookie", which would split shared caches for identical bytes
    (Flask-Login's after-request hook touches the session on every response)."""

    def open_session(self, app, request):
        cookie_session = super().open_session(app, request)
        if cookie_session is not None:
            request.environ[_SESSION_KEY] = cookie_session
        return cookie_session

    def save_session(self, app, session, response) -> None:
        if g.get("ignores_cookie") and not session.modified:
            session.accessed = False
        super().save_session(app, session, response)


def unread_session() -> SessionMixin | dict:
    """This request's session, without marking it as read. Only for looking: read it with
    dict's own methods (dict.get), which no Flask version counts as a read."""
    return request.environ.get(_SESSION_KEY, {})


def ignores_cookie(view):
    """For views whose response is the same whoever asks (public feeds, token feeds): no
    "Vary: Cookie". Should the view read the session after all, the header stays."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        cookie_session = request.environ.get(_SESSION_KEY)
        unread = cookie_session is not None and not cookie_session.accessed
        response = view(*args, **kwargs)
        g.ignores_cookie = unread and not cookie_session.accessed
        return response

    return wrapped


def public_cors(response):
    """Any site's scripts may read this public response (calendar widgets, partners' pages).
    Only for answers that are the same for everyone: never with credentials, never on
    what a cookie or a token opened."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified, Link"
    return response


def frameable(view):
    """Any site may frame this view's response: ``frame-ancestors *`` and no
    X-Frame-Options (everything else stays DENY)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        g.frameable = True
        return view(*args, **kwargs)

    return wrapped


def _logged_in_response() -> bool:
    """The response was made for a logged-in user: the request read its session (so the
    body may depend on it) and the session names a user."""
    cookie_session = unread_session()
    return bool(getattr(cookie_session, "accessed", False) and dict.get(cookie_session, "_user_id"))


def init_app(app: Flask) -> None:
    app.config.setdefault("CONTENT_SECURITY_POLICY", DEFAULT_CSP)
    app.session_interface = SessionInterface()

    @app.after_request
    def _security_headers(response):
        policy = app.config["CONTENT_SECURITY_POLICY"]
        framed = g.get("frameable", False)
        if framed:
            response.headers["Content-Security-Policy"] = FRAMEABLE_CSP
        elif policy:
            response.headers.setdefault("Content-Security-Policy", policy)
        for name, value in SECURITY_HEADERS.items():
            if not (framed and name == "X-Frame-Options"):
                response.headers.setdefault(name, value)
        # Feeds, downloads and exports choose their own caching (a feed's body does not
        # depend on the cookie); everything else made for a logged-in user is private.
        if "Cache-Control" not in response.headers and _logged_in_response():
            response.headers["Cache-Control"] = LOGGED_IN_CACHE
        return response
