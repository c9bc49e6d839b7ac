"""Keyset cursors: the key of the last item of a page, opaque to clients.

Events are ordered by ``(starts_at, id)`` (as exports read them), themes, partners and
venues by ``id``. A cursor is that key in URL-safe base64; one that does not decode to a
key is a 400 naming ``cursor``, never a 500 or an empty page.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from flask_babel import gettext

from ..core import validation as rules
from .problems import ApiProblem


def encode(key) -> str:
    if isinstance(key, tuple):
        instant, row_id = key
        text = f"{instant.astimezone(UTC).isoformat()}|{row_id}"
    else:
        text = str(key)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        if len(cursor) > 200 or not cursor.isascii():
            raise ValueError
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _bad(cursor) from None


def _bad(cursor: str) -> ApiProblem:
    return ApiProblem(
        400,
        gettext(
            "'%(value)s' is not a cursor of this list; follow the next link", value=cursor[:40]
        ),
        parameter="cursor",
    )


def _row_id(text: str, cursor: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= rules.MAX_ID:
        raise _bad(cursor)
    return int(text)


def event_key(cursor: str | None) -> tuple[datetime, int] | None:
    if cursor is None:
        return None
    instant, _, row_id = _decode(cursor).partition("|")
    try:
        when = datetime.fromisoformat(instant)
    except ValueError:
        raise _bad(cursor) from None
    if when.tzinfo is None:
        raise _bad(cursor)
    return when.astimezone(UTC), _row_id(row_id, cursor)


def id_key(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    return _row_id(_decode(cursor), cursor)
