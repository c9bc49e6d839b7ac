"""What the calendar feeds keep in the database."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.models import Base, UTCDateTime, utcnow
from ..events.models import Event


class FeedState(Base):
    """One row whose ``generation`` rises with every write to what calendar feeds show
    (events, their themes and partners, themes, partners, venues).

    A feed request reads this one number to know whether its cached answer is still
    current, instead of reading every event's version (see campaign/calendar/feeds.py). It lives
    in the database, not in a worker's memory, so every gunicorn worker sees each change.
    """

    __tablename__ = "feed_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(default=0)
    # When the generation last rose (stamped at the commit, to the microsecond, strictly
    # rising): what the feeds' Last-Modified is made of (calendar.feeds.last_modified).
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Random per database: a worker's cached answers for generation N of one database are
    # never taken for generation N of another (a recreated or restored database).
    epoch: Mapped[str] = mapped_column(String(36), default=lambda: str(uuid.uuid4()))
    # The generation of the last change that the events' own stamps (events.feed_generation)
    # do not describe: a deleted event, a bulk statement, a theme, partner, venue or series
    # written. A worker that knows a feed at an older generation reads it whole again;
    # otherwise it reads only the events stamped after that generation.
    reset_generation: Mapped[int] = mapped_column(default=0, server_default="0")


class EventRendering(Base):
    """One event's VEVENT as a render context writes it (language, site address,
    catalogues, renderer version: ``context``, see calendar.feeds.context_key), kept so
    that no worker renders an unchanged event again, not even after a restart.

    Derived data: never in a backup (campaign.backup), and filled lazily by the feeds. A
    row is used only for the event row version (and uid) it was rendered from; every
    write that changes an event's text raises that version (events.operations, also for
    renames of its themes, partners and venue: catalog_entry_changed), and calendar.tracking
    deletes the rows of events whose theme, partner, venue or series changes in the same
    transaction, so a rename that does not touch the events cannot leave a stale row.
    """

    __tablename__ = "event_renderings"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    context: Mapped[str] = mapped_column(String(32), primary_key=True)
    uid: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column()
    vevent: Mapped[bytes] = mapped_column(LargeBinary)
    # The zone its DTSTART/DTEND name and the local years it touches (the VTIMEZONEs).
    tzid: Mapped[str | None] = mapped_column(String(64))
    first_year: Mapped[int] = mapped_column()
    last_year: Mapped[int] = mapped_column()


class RenderContextRow(Base):
    """A render context (calendar.ical.RenderContext) that feed workers store renderings
    for, under its key (calendar.feeds.context_key), so that the write path can render
    an edited event for it in the writing transaction (calendar.feeds.keep_written): the
    first feed request after an edit then renders nothing. Derived data, like the
    renderings: never in a backup; a worker records its contexts again."""

    __tablename__ = "render_contexts"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    site_url: Mapped[str] = mapped_column(String(500))
    organizer_name: Mapped[str] = mapped_column(String(500))
    organizer_email: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(16))
    texts: Mapped[str] = mapped_column(String(64))


# What a feed reads of every event it holds, in its order, from the index alone (a
# covering index): after an edit, a feed of 10,000 events reads no event row.
Index("ix_events_feed", Event.starts_at, Event.id, Event.status, Event.uid, Event.version)
