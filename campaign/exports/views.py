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
    # The stream outlives the view's session (closed at teardown), so it reads through a
    # session of its own. The first batch is read here, inside the view: if the database
    # is down the client gets the 503 page.
    session = new_session()
    try:
        chunks = export(fmt, session, flt, current_app.config)
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
    # Organizers' exports hold drafts: never keep them in a shared cache.
    response.headers["Cache-Control"] = (
        "private, no-store" if flt.include_drafts else "public, max-age=0, must-revalidate"
    )
    response.vary.add("Cookie")
    if not flt.include_drafts:
        # The same public bytes for any visitor without a login: other sites may read them.
        public_cors(response)
    return response
