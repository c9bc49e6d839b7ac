"""Who is asking: ``Authorization: Bearer <token>`` with an organizer's token.

Until personal API tokens exist, the token is the organizer's private feed token (the one
on /account, revocable there): it already opens the private feed with drafts, and opens
nothing more here. No header means an anonymous, public read; a header that is not a
valid token is 401, never a silent public answer.
"""

from __future__ import annotations

import hmac

from flask import request
from flask_babel import gettext
from sqlalchemy import select

from ..auth.models import User
from ..db import get_session
from .problems import ApiProblem


def bearer_user() -> User | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token and len(token) <= 64 and token.isascii():
        user = get_session().scalar(select(User).where(User.feed_token == token))
        if user is not None and user.active and hmac.compare_digest(user.feed_token, token):
            return user
    raise ApiProblem(
        401,
        gettext("this token is not valid; copy the current one from your account page"),
        parameter="Authorization",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
