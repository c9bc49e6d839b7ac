"""RFC 9457 problem details (``application/problem+json``) for every API error."""

from __future__ import annotations

import json
import re

from flask import current_app, request
from werkzeug.http import HTTP_STATUS_CODES

MEDIA_TYPE = "application/problem+json"
# A message may quote what was sent, and JSON can send a lone surrogate ("\\ud800"), which
# UTF-8 cannot carry: it goes back as the same JSON escape.
_SURROGATE = re.compile("[\ud800-\udfff]")


def problem_response(
    status: int,
    detail: str,
    *,
    parameter: str | None = None,
    headers=None,
    errors: dict[str, str] | None = None,
):
    """``type`` is ``about:blank``, so ``title`` is the status's own phrase (RFC 9457 4.2.1);
    ``detail`` says what was wrong in the request's language, ``parameter`` names it."""
    body = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": str(detail),
    }
    if parameter is not None:
        body["parameter"] = parameter
    if errors:
        body["errors"] = {name: str(message) for name, message in errors.items()}
    response = current_app.response_class(
        _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(body, ensure_ascii=False)),
        status=status,
        content_type=MEDIA_TYPE,
    )
    # Errors for a public read are readable from other sites too (never with credentials);
    # an answer to a request that sent a token is private like its successes.
    if "Authorization" not in request.headers:
        response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


class ApiProblem(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        *,
        parameter: str | None = None,
        headers=None,
        errors: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.errors = errors
        self.status = status
        self.detail = detail
        self.parameter = parameter
        self.headers = headers or {}

    def response(self):
        return problem_response(
            self.status,
            self.detail,
            parameter=self.parameter,
            headers=self.headers,
            errors=self.errors,
        )
