"""Change tracking for the feeds: ``feed_state.generation`` rises in the same transaction
as every write to what a feed shows, so every worker and host sees each change, and
``feed_state.changed_at`` records when (see calendar.feeds for how it becomes the feeds'
Last-Modified).

The events' stored renderings (calendar.models.EventRendering) are invalidated here too,
in the same transaction: a row is used only for the event version it was rendered from,
and the write path raises an event's version for every change of its text, also for a
rename of its themes, partners or venue; the rows of events whose theme, partner, venue
or series is changed or deleted are deleted as well (a series' title shows in its
occurrences' CATEGORIES without touching them), and a bulk statement on those tables
deletes them all."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, true, update
from sqlalchemy import event as sa_event

from ..catalog.models import Partner, Theme, Venue
from ..events.models import Event, EventPartner, event_themes
from ..media.models import MediaItem
from ..series.models import Series
from .models import EventRendering, FeedState

# A series' name is in the CATEGORIES (and a series feed's name) of its occurrences; media
# items are in organizers' private feeds (calendar.planned_media).
MEDIA_TABLES = frozenset({"media_items", "media_item_themes"})
FEED_TABLES = (
    frozenset(
        {"events", "event_themes", "event_partners", "themes", "partners", "venues", "series"}
    )
    | MEDIA_TABLES
)
FEED_CLASSES = (Event, EventPartner, Theme, Partner, Venue, Series, MediaItem)
# What a VEVENT shows besides its own event row: a bulk statement on one of these tables
# deletes every stored rendering (bulk statements on events raise the versions they touch;
# media items are rendered afresh, never stored).
RENDERED_TABLES = FEED_TABLES - {"events"} - MEDIA_TABLES

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


# The events a changed catalogue entry shows in, by kind.
_SHOWN_IN = {
    Theme: lambda ids: select(event_themes.c.event_id).where(event_themes.c.theme_id.in_(ids)),
    Partner: lambda ids: select(EventPartner.event_id).where(EventPartner.partner_id.in_(ids)),
    Venue: lambda ids: select(Event.id).where(Event.venue_id.in_(ids)),
    Series: lambda ids: select(Event.id).where(Event.series_id.in_(ids)),
}


def _forget_renderings(session, condition) -> None:
    # The session's connection, not session.execute: no autoflush, no ORM events.
    session.connection().execute(delete(EventRendering).where(condition))


def _before_flush(session, _context, _instances) -> None:
    # Any write of what a feed shows, in the same transaction as the write itself.
    if any(
        isinstance(obj, FEED_CLASSES)
        for obj in itertools.chain(session.new, session.dirty, session.deleted)
    ):
        _bump_generation(session)
        changed: dict[type, list[int]] = {}
        for obj in itertools.chain(session.dirty, session.deleted):
            kind = type(obj)
            if (
                kind in _SHOWN_IN
                and obj.id is not None
                and (obj in session.deleted or session.is_modified(obj))
            ):
                changed.setdefault(kind, []).append(obj.id)
        for kind, ids in changed.items():
            _forget_renderings(session, EventRendering.event_id.in_(_SHOWN_IN[kind](ids)))


def _on_execute(state) -> None:
    # Bulk statements (import_events, catalog changes) bypass the flush.
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        name = getattr(table, "name", None)
        if name in FEED_TABLES:
            _bump_generation(state.session)
            if name in RENDERED_TABLES and not state.is_insert:
                _forget_renderings(state.session, true())


def track(sessions) -> None:
    """Listen to every session ``sessions`` (a sessionmaker) makes."""
    sa_event.listen(sessions, "before_flush", _before_flush)
    sa_event.listen(sessions, "do_orm_execute", _on_execute)
    sa_event.listen(sessions, "before_commit", _before_commit)
    sa_event.listen(sessions, "after_transaction_end", _transaction_ended)
