"""Security headers on every response, and no caching of what a logged-in user sees."""

from __future__ import annotations

from flask import Flask, session

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
# Pages for a logged-in user show drafts, names and the private feed token: no cache, not
# even the browser's, may keep them.
LOGGED_IN_CACHE = "private, no-store"


def _logged_in_response() -> bool:
    """The response was made for a logged-in user: the request read its session (so the
    body may depend on it) and the session names a user. dict's own methods do not mark
    the session as read (Flask adds "Vary: Cookie" to a response whose session was read)."""
    cookie_session = session._get_current_object()
    return cookie_session.accessed and dict.get(cookie_session, "_user_id") is not None


def init_app(app: Flask) -> None:
    app.config.setdefault("CONTENT_SECURITY_POLICY", DEFAULT_CSP)

    @app.after_request
    def _security_headers(response):
        policy = app.config["CONTENT_SECURITY_POLICY"]
        if policy:
            response.headers.setdefault("Content-Security-Policy", policy)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        # Feeds, downloads and exports choose their own caching (a feed's body does not
        # depend on the cookie); everything else made for a logged-in user is private.
        if "Cache-Control" not in response.headers and _logged_in_response():
            response.headers["Cache-Control"] = LOGGED_IN_CACHE
        return response
