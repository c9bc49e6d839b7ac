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
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.attributes import flag_modified

from ..catalog.models import Partner, Theme, Venue
from ..events.models import Event, EventPartner, event_themes
from ..media.models import MediaItem
from ..series.models import Series
from . import feeds
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
_RESET = "feed_generation_reset"
# The events this transaction stamped (objects, and ids of those stamped by a link).
_STAMPED = "feed_stamped_events"


def _stamp(previous: datetime | None) -> datetime:
    """The clock, to the microsecond; strictly after ``previous`` even if the clock (or
    another host's) is behind it. No drift beyond that: the time is the time."""
    now = datetime.now(UTC)
    if previous is not None and now <= previous:
        return previous + timedelta(microseconds=1)
    return now


def _bump_generation(session) -> int | None:
    """Raise the generation, once per transaction (readers cannot see the change before
    it commits anyway), and give the transaction's generation (None without the row)."""
    if _BUMPED in session.info:
        return session.info[_BUMPED]
    connection = session.connection()
    # The row lock (PostgreSQL) or the write lock (SQLite) is held until the commit, so
    # writers to what feeds show take turns here: ``previous`` cannot change under us,
    # and no two transactions get the same generation.
    row = connection.execute(
        select(FeedState.generation, FeedState.changed_at)
        .where(FeedState.id == 1)
        .with_for_update()
    ).one_or_none()
    generation, previous = (row[0] + 1, row[1]) if row is not None else (None, None)
    session.info[_BUMPED] = generation
    session.info[_PREVIOUS] = previous
    connection.execute(
        update(FeedState)
        .where(FeedState.id == 1)
        .values(generation=FeedState.generation + 1, changed_at=_stamp(previous))
    )
    return generation


def _reset(session) -> None:
    """Record that this transaction made a change the events' stamps do not describe
    (see FeedState.reset_generation): feeds read whole again after it."""
    _bump_generation(session)
    if not session.info.get(_RESET):
        session.info[_RESET] = True
        session.connection().execute(
            update(FeedState).where(FeedState.id == 1).values(reset_generation=FeedState.generation)
        )


def _render_written(session) -> None:
    """Render what this transaction wrote, in it (calendar.feeds.keep_written)."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # the commit's own flush comes after this hook
    if _STAMPED in session.info:
        stamped = session.info.pop(_STAMPED)
        feeds.keep_written(session, [event for event in stamped if event not in session.deleted])


def _before_commit(session) -> None:
    # A transaction that wrote early (an autoflush, a bulk statement) is stamped again
    # just before it commits: the change becomes visible at the commit, and Last-Modified
    # must not name a second that had already ended for readers (calendar.feeds).
    _render_written(session)
    if _BUMPED in session.info:
        session.connection().execute(
            update(FeedState)
            .where(FeedState.id == 1)
            .values(changed_at=_stamp(session.info.get(_PREVIOUS)))
        )


def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_BUMPED, None)
        session.info.pop(_PREVIOUS, None)
        session.info.pop(_RESET, None)
        session.info.pop(_STAMPED, None)


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


def _shown_changed(session, event: Event) -> bool:
    """Whether a flush writes what feeds show of ``event``: its row, its themes or its
    partner links (not merely its change history, which leaves the row alone)."""
    if session.is_modified(event, include_collections=False):
        return True
    attrs = sa_inspect(event).attrs
    return attrs.themes.history.has_changes() or attrs.partner_links.history.has_changes()


def _before_flush(session, _context, _instances) -> None:
    # Any write of what a feed shows, in the same transaction as the write itself.
    if not any(
        isinstance(obj, FEED_CLASSES)
        for obj in itertools.chain(session.new, session.dirty, session.deleted)
    ):
        return
    generation = _bump_generation(session)
    changed: dict[type, list[int]] = {}
    stamped: set[int] = set()
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        kind = type(obj)
        new, deleted = obj in session.new, obj in session.deleted
        if not (new or deleted or session.is_modified(obj)):
            continue
        if kind is Event:
            if deleted:
                _reset(session)
            elif generation is not None and (new or _shown_changed(session, obj)):
                # Stamped on the row the flush writes (a new event, or an update that
                # raises its version).
                obj.feed_generation = generation
                session.info.setdefault(_STAMPED, set()).add(obj)
        elif kind is EventPartner:
            if obj.event_id is not None:
                stamped.add(obj.event_id)
            # Without an id its event is new or gains it through partner_links: that
            # event is in this flush and stamped above.
        elif kind in _SHOWN_IN:
            _reset(session)
        if kind in _SHOWN_IN and obj.id is not None and not new:
            changed.setdefault(kind, []).append(obj.id)
    if stamped and generation is not None:
        # A link written on its own changes its event's VEVENT (the partners are in it):
        # the event's row version must rise as for any other change of its text, or
        # workers keep serving the VEVENT they cached for that version, under the same
        # ETag. An event this session holds is updated by this flush (the ORM raises
        # its version and checks the old one); any other one here.
        # An event deleted by this flush takes its links along (and resets the feeds).
        stamped -= {obj.id for obj in session.deleted if isinstance(obj, Event)}
        held = {
            obj.id: obj
            for obj in session.identity_map.values()
            if isinstance(obj, Event) and obj.id in stamped
        }
        for obj in held.values():
            obj.feed_generation = generation
            flag_modified(obj, "feed_generation")
            session.info.setdefault(_STAMPED, set()).add(obj)
        others = stamped - set(held)
        if others:  # (stamped may be empty now)
            session.connection().execute(
                update(Event)
                .where(Event.id.in_(others))
                .values(feed_generation=generation, version=Event.version + 1)
            )
    for kind, ids in changed.items():
        _forget_renderings(session, EventRendering.event_id.in_(_SHOWN_IN[kind](ids)))


def _on_execute(state) -> None:
    # Bulk statements (import_events, catalog changes) bypass the flush.
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        name = getattr(table, "name", None)
        if name in FEED_TABLES:
            _bump_generation(state.session)
            if name not in MEDIA_TABLES:
                # Which events such a statement touched is not known here.
                _reset(state.session)
            if name in RENDERED_TABLES and not state.is_insert:
                _forget_renderings(state.session, true())


def track(sessions) -> None:
    """Listen to every session ``sessions`` (a sessionmaker) makes."""
    sa_event.listen(sessions, "before_flush", _before_flush)
    sa_event.listen(sessions, "do_orm_execute", _on_execute)
    sa_event.listen(sessions, "before_commit", _before_commit)
    sa_event.listen(sessions, "after_transaction_end", _transaction_ended)
