"""Change tracking for the feeds: ``feed_state.generation`` rises in the same transaction
as every write to what a feed shows, so every worker and host sees each change."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import select, update

from ..catalog.models import Partner, Theme, Venue
from ..events.models import Event, EventPartner
from .models import FeedState

FEED_TABLES = frozenset(
    {"events", "event_themes", "event_partners", "themes", "partners", "venues"}
)
FEED_CLASSES = (Event, EventPartner, Theme, Partner, Venue)


def _bump_generation(session) -> None:
    # Once per transaction: readers cannot see the change before it commits anyway.
    if session.info.get("feed_generation_bumped"):
        return
    session.info["feed_generation_bumped"] = True
    connection = session.connection()
    previous = connection.scalar(
        select(FeedState.changed_at).where(FeedState.id == 1).with_for_update()
    )
    # Whole seconds (HTTP dates have no more) that rise with every change, so that a
    # client's If-Modified-Since never matches a later change made in the same second.
    now = datetime.now(UTC).replace(microsecond=0)
    changed_at = max(now, previous + timedelta(seconds=1)) if previous else now
    connection.execute(
        update(FeedState)
        .where(FeedState.id == 1)
        .values(generation=FeedState.generation + 1, changed_at=changed_at)
    )


def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop("feed_generation_bumped", None)


def _before_flush(session, _context, _instances) -> None:
    # Any write of what a feed shows, in the same transaction as the write itself.
    if any(
        isinstance(obj, FEED_CLASSES)
        for obj in itertools.chain(session.new, session.dirty, session.deleted)
    ):
        _bump_generation(session)


def _on_execute(state) -> None:
    # Bulk statements (import_events) bypass the flush.
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in FEED_TABLES:
            _bump_generation(state.session)


def track(sessions) -> None:
    """Listen to every session ``sessions`` (a sessionmaker) makes."""
    sa_event.listen(sessions, "before_flush", _before_flush)
    sa_event.listen(sessions, "do_orm_execute", _on_execute)
    sa_event.listen(sessions, "after_transaction_end", _transaction_ended)
