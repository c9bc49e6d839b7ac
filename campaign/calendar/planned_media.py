"""Planned media appearances in organizers' private feeds.

An organizer's private feed (``/calendar.ics?token=…``, and a theme's or partner's feed
with a token) carries, after its events, the planned media items that match its filter,
rendered by the one VEVENT renderer (``ical.render_vevent``) and marked "Media" in
CATEGORIES and SUMMARY. A public feed never does: :func:`for_filter` gives nothing for a
filter without drafts.

Which items: a private feed's ``theme``, ``partner`` (the outlet), ``from``, ``to`` and
``q`` apply to them as on ``/media``; a feed narrowed by what only events have (``format``,
``city``, ``status``, a series, one event) shows none: ``MediaFilter.planned_with``, the
rule the organizers' month view follows too.

The feed's ETag covers them: ``versions`` (id, version and creation of each item, one
statement) is part of it, feed_state's generation rises with every write to media items
(calendar.tracking), and outlet and theme names are in the feed's render key.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..events.filters import EventFilter
from ..media.filters import MediaFilter, media_list_loading
from ..media.models import MediaItem
from . import ical


class PlannedMedia:
    """The planned media items of a private feed: what feeds.Calendar adds to its ETag
    and, before the calendar's end, to its bytes."""

    # Part of the feed's cache key: a calendar with these items is not the same as one
    # of the same filter without them (the ICS export of drafts).
    key = "planned-media"

    def __init__(self, flt: MediaFilter):
        self.flt = flt

    def _select(self):
        # Oldest first, as the events.
        return (
            select(MediaItem)
            .where(*self.flt.conditions())
            .order_by(MediaItem.published_at, MediaItem.id)
        )

    def versions(self, session: Session) -> bytes:
        """What the items' VEVENTs depend on besides names (the render key), one
        statement: bytes for the feed's ETag."""
        rows = session.execute(
            self._select().with_only_columns(MediaItem.id, MediaItem.version, MediaItem.created)
        ).all()
        return fingerprint([(i, v, c) for i, v, c in rows])

    def render(self, session: Session, ctx: ical.RenderContext):
        """(the rendered items, their fingerprint): outlet and themes loaded with them, two
        statements whatever their number."""
        items = session.scalars(self._select().options(*media_list_loading())).all()
        rendered = [ical.render_vevent(item, ctx) for item in items]
        return rendered, fingerprint([(m.id, m.version, m.created) for m in items])


def fingerprint(rows) -> bytes:
    h = hashlib.sha256()
    for item_id, version, created in rows:
        h.update(f"{item_id}:{version}:{created.isoformat()},".encode())
    return b"media:" + h.hexdigest()[:32].encode()


def for_filter(flt: EventFilter) -> PlannedMedia | None:
    """The planned items a feed of ``flt`` carries, or None (every public feed)."""
    media = MediaFilter.planned_with(flt)
    return PlannedMedia(media) if media is not None else None
