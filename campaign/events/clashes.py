"""Clashes between planned events: the one place that decides what clashes with what.

Two events clash when both are not cancelled, their times overlap, and they share the
venue, a partner or their organizer (the owner: one person cannot run both). Intervals are half-open, so an event ending at 18:00 does not clash
with one starting at 18:00 in the same hall. Clashes warn, they never block: organizers
sometimes mean to hold two sessions in one building, and only they know.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext
from sqlalchemy import and_, literal, null, select, union_all
from sqlalchemy.orm import Session, aliased, joinedload

from ..auth.models import User
from ..catalog.models import Partner, Venue
from ..i18n import localized
from .models import Event, EventPartner, EventStatus


@dataclass
class Clash:
    """Another event overlapping in time with one of ours, and what they share."""

    other: Event
    venue: Venue | None = None
    partners: list[Partner] = field(default_factory=list)
    owner: User | None = None

    def reasons(self) -> str:
        """'same venue (Dom omladine, Beograd); same partner: Partner 1' for messages."""
        parts = []
        if self.venue is not None:
            venue = f"{localized(self.venue, 'name')}, {localized(self.venue, 'city')}"
            parts.append(gettext("same venue (%(venue)s)", venue=venue))
        if self.partners:
            names = ", ".join(localized(p, "name") for p in self.partners)
            parts.append(gettext("same partner: %(names)s", names=names))
        if self.owner is not None:
            parts.append(gettext("same organizer: %(name)s", name=self.owner.display_name))
        return "; ".join(parts)


def find_clashes(session: Session, events: Iterable[Event]) -> dict[int, list[Clash]]:
    """Clashes of each of ``events`` with any other event, keyed by event id.

    Runs a fixed number of queries whatever the number of events (three), so a
    list page can mark its rows and an event page can list its clashes with the same rule.
    Events without clashes are absent from the result. The other events come with their
    venue loaded.
    """
    ids = [e.id for e in events if e.id is not None]
    if not ids:
        return {}
    this, other = aliased(Event), aliased(Event)
    mine, theirs = aliased(EventPartner), aliased(EventPartner)
    cancelled = EventStatus.cancelled.value
    overlapping = and_(
        this.id.in_(ids),
        other.id != this.id,
        this.status != cancelled,
        other.status != cancelled,
        # Half-open intervals: touching is not overlapping.
        other.starts_at < this.ends_at,
        other.ends_at > this.starts_at,
    )
    venue, partner, owner = 0, 1, 2
    same_venue = (
        select(this.id, other.id, literal(venue), null())
        .select_from(this)
        .join(other, and_(other.venue_id == this.venue_id, overlapping))
        .where(this.venue_id.is_not(None))
    )
    same_partner = (
        select(this.id, other.id, literal(partner), mine.partner_id)
        .select_from(this)
        .join(other, overlapping)
        .join(mine, mine.event_id == this.id)
        .join(theirs, and_(theirs.event_id == other.id, theirs.partner_id == mine.partner_id))
        .distinct()
    )
    same_owner = (
        select(this.id, other.id, literal(owner), null())
        .select_from(this)
        .join(other, and_(other.owner_id == this.owner_id, overlapping))
        .where(this.owner_id.is_not(None))
    )
    rows = session.execute(union_all(same_venue, same_partner, same_owner)).all()
    # The next two queries run even when empty, so a page costs the same statements
    # whether or not its events clash.

    others = {
        e.id: e
        for e in session.scalars(
            select(Event)
            .where(Event.id.in_({row[1] for row in rows}))
            .options(joinedload(Event.venue), joinedload(Event.owner))
        ).unique()
    }
    partner_ids = {row[3] for row in rows if row[3] is not None}
    partners = {
        p.id: p for p in session.scalars(select(Partner).where(Partner.id.in_(partner_ids)))
    }

    found: dict[int, dict[int, Clash]] = {}
    for event_id, other_id, kind, partner_id in rows:
        clash = found.setdefault(event_id, {}).setdefault(other_id, Clash(others[other_id]))
        if kind == venue:
            clash.venue = others[other_id].venue
        elif kind == owner:
            clash.owner = others[other_id].owner
        elif partners[partner_id] not in clash.partners:
            clash.partners.append(partners[partner_id])
    result = {}
    for event_id, by_other in found.items():
        clashes = sorted(by_other.values(), key=lambda c: (c.other.starts_at, c.other.id))
        for clash in clashes:
            clash.partners.sort(key=lambda p: p.name.casefold())
        result[event_id] = clashes
    return result


def clashes_of(session: Session, event: Event) -> list[Clash]:
    """The clashes of one saved event, in the order of the other events' start."""
    return find_clashes(session, [event]).get(event.id, [])
