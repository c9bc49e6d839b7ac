"""Who is asking: ``Authorization: Bearer <token>`` with a personal API token (made on
/account, scoped ``read`` or ``write``, revocable there and by admins).

No header means an anonymous, public read. A header that is not a usable token (unknown,
revoked, expired, or its account deactivated) is 401 with ``WWW-Authenticate``, never a
silent public answer; a read token where writing is asked is 403. The secret is looked up
by its SHA-256 and appears in no log line and no error.
"""

from __future__ import annotations

import hashlib

from flask import g, request
from flask_babel import gettext

from ..auth import operations as auth_ops
from ..auth.models import ApiToken, User
from ..db import get_session
from .problems import ApiProblem

REALM = 'Bearer realm="campaign"'


def _parsed(header: str) -> str | None:
    """The secret of ``Bearer <secret>`` (the scheme in any case, any spaces around the
    secret), or None when the header says something else."""
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def _secret() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    secret = _parsed(header)
    if secret is None:
        raise ApiProblem(
            401,
            gettext("send the token as %(header)s", header="Authorization: Bearer <token>"),
            parameter="Authorization",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_request"'},
        )
    return secret


def bearer_token() -> ApiToken | None:
    """This request's token, or None when it sends none; 401 when it is not usable."""
    if "api_token" in g:
        return g.api_token
    secret = _secret()
    token = None
    if secret is not None:
        token = auth_ops.api_token_for(get_session(), secret)
        if token is None:
            raise ApiProblem(
                401,
                gettext(
                    "this token is unknown, revoked or expired; make a new one on your account page"
                ),
                parameter="Authorization",
                headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
            )
    g.api_token = token
    return token


def bearer_user() -> User | None:
    token = bearer_token()
    return token.user if token is not None else None


def writer() -> ApiToken:
    """The token of a write request: 401 without one, 403 when it may only read."""
    token = bearer_token()
    if token is None:
        raise ApiProblem(
            401,
            gettext("writing needs a token: %(header)s", header="Authorization: Bearer <token>"),
            parameter="Authorization",
            headers={"WWW-Authenticate": REALM},
        )
    if not token.can_write:
        raise ApiProblem(
            403,
            gettext("this token may only read; make a token with the write scope"),
            parameter="Authorization",
            headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="write"'},
        )
    return token


def rate_key() -> str:
    """What the write limit counts by: the token (by a digest of its secret, never the
    secret itself), or the address when there is none. The secret is taken as the
    token's lookup takes it, so another spelling of the header ("bearer", more spaces)
    is the same count."""
    header = request.headers.get("Authorization", "")
    if header:
        secret = _parsed(header) or header
        return (
            "api-token:" + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        )
    return "api-address:" + (request.remote_addr or "unknown")
