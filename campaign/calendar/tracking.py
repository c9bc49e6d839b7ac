"""Change tracking for the feeds: ``feed_state.generation`` rises in the same transaction
as every write to what a feed shows, so every worker and host sees each change, and
``feed_state.changed_at`` records when (see calendar.feeds for how it becomes the feeds'
Last-Modified)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import select, update

from ..catalog.models import Partner, Theme, Venue
from ..events.models import Event, EventPartner
from ..media.models import MediaItem
from .models import FeedState

# Media items are in organizers' private feeds (calendar.planned_media).
FEED_TABLES = frozenset(
    {
        "events",
        "event_themes",
        "event_partners",
        "themes",
        "partners",
        "venues",
        "media_items",
        "media_item_themes",
    }
)
FEED_CLASSES = (Event, EventPartner, Theme, Partner, Venue, MediaItem)

_BUMPED = "feed_generation_bumped"
_PREVIOUS = "feed_changed_at_before"


def _stamp(previous: datetime | None) -> datetime:
    """The clock, to the microsecond; strictly after ``previous`` even if the clock (or
    another host's) is behind it. No drift beyond that: the time is the time."""
    now = datetime.now(UTC)
    if previous is not None and now <= previous:
        return previous + timedelta(microseconds=1)
    return now


def _bump_generation(session) -> None:
    # Once per transaction: readers cannot see the change before it commits anyway.
    if session.info.get(_BUMPED):
        return
    session.info[_BUMPED] = True
    connection = session.connection()
    # The row lock (PostgreSQL) or the write lock (SQLite) is held until the commit, so
    # writers to what feeds show take turns here and ``previous`` cannot change under us.
    previous = connection.scalar(
        select(FeedState.changed_at).where(FeedState.id == 1).with_for_update()
    )
    session.info[_PREVIOUS] = previous
    connection.execute(
        update(FeedState)
        .where(FeedState.id == 1)
        .values(generation=FeedState.generation + 1, changed_at=_stamp(previous))
    )


def _before_commit(session) -> None:
    # A transaction that wrote early (an autoflush, a bulk statement) is stamped again
    # just before it commits: the change becomes visible at the commit, and Last-Modified
    # must not name a second that had already ended for readers (calendar.feeds).
    if session.info.get(_BUMPED):
        session.connection().execute(
            update(FeedState)
            .where(FeedState.id == 1)
            .values(changed_at=_stamp(session.info.get(_PREVIOUS)))
        )


def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_BUMPED, None)
        session.info.pop(_PREVIOUS, None)


def _before_flush(session, _context, _instances) -> None:
    # Any write of what a feed shows, in the same transaction as the write itself.
    if any(
        isinstance(obj, FEED_CLASSES)
        for obj in itertools.chain(session.new, session.dirty, session.deleted)
    ):
        _bump_generation(session)


def _on_execute(state) -> None:
    # Bulk statements (import_events, catalog changes) bypass the flush.
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in FEED_TABLES:
            _bump_generation(state.session)


def track(sessions) -> None:
    """Listen to every session ``sessions`` (a sessionmaker) makes."""
    sa_event.listen(sessions, "before_flush", _before_flush)
    sa_event.listen(sessions, "do_orm_execute", _on_execute)
    sa_event.listen(sessions, "before_commit", _before_commit)
    sa_event.listen(sessions, "after_transaction_end", _transaction_ended)
