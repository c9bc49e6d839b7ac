"""Security headers on every response."""

from __future__ import annotations

from flask import Flask

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


def init_app(app: Flask) -> None:
    app.config.setdefault("CONTENT_SECURITY_POLICY", DEFAULT_CSP)

    @app.after_request
    def _security_headers(response):
        policy = app.config["CONTENT_SECURITY_POLICY"]
        if policy:
            response.headers.setdefault("Content-Security-Policy", policy)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
