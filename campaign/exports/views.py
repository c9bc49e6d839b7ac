"""/events.csv, /events.xlsx and /events.json: the list's events as a file."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, current_app, stream_with_context

from ..db import new_session
from ..events.lists import request_filter
from ..security import public_cors
from ..web import campaign_zone
from .filenames import content_disposition, export_filename
from .writers import MEDIA_TYPES, export

bp = Blueprint("exports", __name__)


@bp.get("/events.<any(csv, xlsx, json):fmt>")
def export_events(fmt: str):
    return export_response(fmt, request_filter())


def export_response(fmt: str, flt) -> Response:
    """The filter is validated, and the first batch read, before a byte is sent."""
    filename = export_filename(flt, fmt, datetime.now(campaign_zone()).date())
    return file_response(
        fmt,
        filename,
        lambda session: export(fmt, session, flt, current_app.config),
        private=flt.include_drafts,
    )


def file_response(fmt: str, filename: str, chunks_of, *, private: bool) -> Response:
    """A streamed export file (events, media items): ``chunks_of(session)`` gives its bytes.

    The stream outlives the view's session (closed at teardown), so it reads through a
    session of its own. The first batch is read here, inside the view: if the database
    is down the client gets the 503 page."""
    session = new_session()
    try:
        chunks = chunks_of(session)
    except Exception:
        session.close()
        raise

    def body():
        try:
            yield from chunks
        finally:
            session.close()

    response = Response(stream_with_context(body()), content_type=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Organizers' exports hold drafts and planned items: never keep them in a shared cache.
    response.headers["Cache-Control"] = (
        "private, no-store" if private else "public, max-age=0, must-revalidate"
    )
    response.vary.add("Cookie")
    if not private:
        # The same public bytes for any visitor without a login: other sites may read them.
        public_cors(response)
    return response
