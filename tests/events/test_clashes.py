"""The clash rule: same venue or same partner, overlapping in time, neither cancelled."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from campaign.events import operations as event_ops
from campaign.events.clashes import clashes_of, find_clashes
from campaign.models import Event, Venue

T0 = datetime(2020, 3, 10, 17, 0, tzinfo=UTC)


@pytest.fixture
def hall(create_venue):
    return create_venue(name="Dom omladine", city="Beograd")


def _clashes(db, event):
    clashes = clashes_of(db, db.get(Event, event.id))
    db.commit()  # end the read, so the factories' own sessions can write (SQLite)
    return clashes


def test_same_venue_overlapping_clashes_both_ways(db, create_event, hall):
    a = create_event(title="A", venue=hall, starts_at=T0)
    b = create_event(title="B", venue=hall, starts_at=T0 + timedelta(hours=1))
    [clash] = _clashes(db, a)
    assert clash.other.id == b.id
    assert clash.venue.id == hall.id and clash.partners == []
    assert clash.reasons() == "same venue (Dom omladine, Beograd)"
    assert [c.other.id for c in _clashes(db, b)] == [a.id]


def test_touching_intervals_do_not_clash(db, create_event, hall):
    a = create_event(venue=hall, starts_at=T0)  # 17:00-19:00
    create_event(venue=hall, starts_at=T0 + timedelta(hours=2))  # 19:00-21:00
    create_event(venue=hall, starts_at=T0 - timedelta(hours=2))  # 15:00-17:00
    assert _clashes(db, a) == []


def test_cancelled_events_do_not_clash(db, create_event, hall):
    a = create_event(venue=hall, starts_at=T0)
    create_event(venue=hall, starts_at=T0, status="cancelled")
    assert _clashes(db, a) == []
    cancelled = create_event(venue=hall, starts_at=T0, status="cancelled")
    assert _clashes(db, cancelled) == []


def test_drafts_clash_because_they_are_planned(db, create_event, hall):
    a = create_event(venue=hall, starts_at=T0)
    draft = create_event(venue=hall, starts_at=T0, status="draft")
    assert [c.other.id for c in _clashes(db, a)] == [draft.id]


def test_an_event_never_clashes_with_itself(db, create_event, hall, create_partner):
    partner = create_partner()
    a = create_event(venue=hall, starts_at=T0, partners=[(partner, "host"), (partner, "speakers")])
    assert _clashes(db, a) == []


def test_different_venue_and_no_venue_do_not_clash(db, create_event, hall, create_venue):
    other_hall = create_venue(name="Kulturni centar", city="Novi Sad")
    a = create_event(venue=hall, starts_at=T0)
    create_event(venue=other_hall, starts_at=T0)
    create_event(venue=None, online_url="https://meet.example.org/x", starts_at=T0)
    assert _clashes(db, a) == []
    online = create_event(venue=None, online_url="https://meet.example.org/y", starts_at=T0)
    assert _clashes(db, online) == []


def test_same_partner_in_overlapping_event_clashes_anywhere(
    db, create_event, create_venue, create_partner
):
    ngo, media, other = create_partner(name="Beogradski centar"), create_partner(), create_partner()
    a = create_event(
        title="A",
        venue=create_venue(city="Beograd"),
        starts_at=T0,
        partners=[(ngo, "host"), (media, "media_partner")],
    )
    b = create_event(
        title="B",
        venue=create_venue(city="Niš"),
        starts_at=T0 + timedelta(minutes=30),
        partners=[(ngo, "speakers"), (ngo, "co_organizer"), (media, "media_partner")],
    )
    create_event(title="C", starts_at=T0, partners=[(other, "host")])
    [clash] = _clashes(db, a)
    assert clash.other.id == b.id and clash.venue is None
    assert sorted(p.id for p in clash.partners) == sorted([ngo.id, media.id])
    assert "same partner: Beogradski centar" in clash.reasons()


def test_venue_and_partner_clash_reported_once(db, create_event, hall, create_partner):
    partner = create_partner(name="Mreža")
    a = create_event(venue=hall, starts_at=T0, partners=[(partner, "host")])
    b = create_event(venue=hall, starts_at=T0, partners=[(partner, "host")])
    [clash] = _clashes(db, a)
    assert clash.other.id == b.id
    assert clash.reasons() == "same venue (Dom omladine, Beograd); same partner: Mreža"


def test_long_event_spanning_another_clashes(db, create_event, hall):
    seminar = create_event(
        venue=hall, starts_at=T0, ends_at=T0 + timedelta(days=2), format="seminar"
    )
    evening = create_event(venue=hall, starts_at=T0 + timedelta(days=1))
    assert [c.other.id for c in _clashes(db, seminar)] == [evening.id]
    assert [c.other.id for c in _clashes(db, evening)] == [seminar.id]


def test_page_of_events_in_a_fixed_number_of_queries(db, create_event, hall, count_queries):
    for i in range(12):
        create_event(venue=hall, starts_at=T0 + timedelta(hours=i))  # each overlaps neighbours
    events = db.scalars(select(Event)).all()
    with count_queries() as few:
        result = find_clashes(db, events[:3])
    with count_queries() as many:
        result = find_clashes(db, events)
    assert many.count == few.count <= 3
    assert set(result) == {e.id for e in events}
    assert all(len(clashes) in (1, 2) for clashes in result.values())


def test_moving_away_resolves_the_clash(db, create_event, hall):
    a = create_event(venue=hall, starts_at=T0)
    b = create_event(venue=hall, starts_at=T0)
    assert _clashes(db, a)
    b = db.scalars(select(Event).where(Event.id == b.id).options(*_loading())).one()
    data = event_ops.event_data(b)
    data.starts_at, data.ends_at = T0 + timedelta(days=1), T0 + timedelta(days=1, hours=2)
    event_ops.update_event(db, None, b, data, b.version)
    assert _clashes(db, a) == []
    assert db.get(Venue, hall.id) is not None


def _loading():
    from campaign.events.filters import event_list_loading

    return event_list_loading()


def test_agrees_with_a_brute_force_oracle(db, create_event, create_venue, create_partner):
    """Thirty random events: the SQL finds exactly the pairs a plain loop finds."""
    import random

    rng = random.Random(5)
    venues = [create_venue(name=f"Sala {i}") for i in range(3)] + [None]
    partners = [create_partner() for _ in range(3)]
    made = []
    for i in range(30):
        start = T0 + timedelta(minutes=30 * rng.randrange(0, 96))
        venue = rng.choice(venues)
        chosen = rng.sample(partners, k=rng.randrange(0, 3))
        event = create_event(
            title=f"E{i}",
            starts_at=start,
            ends_at=start + timedelta(minutes=30 * rng.randrange(1, 8)),
            venue=venue,
            online_url="" if venue else "https://meet.example.org/e",
            status=rng.choice(["confirmed", "confirmed", "draft", "cancelled"]),
            partners=[(p, rng.choice(["host", "speakers"])) for p in chosen],
        )
        made.append((event, venue.id if venue else None, {p.id for p in chosen}))

    expected: dict[int, set[int]] = {}
    for a, venue_a, partners_a in made:
        for b, venue_b, partners_b in made:
            if a.id == b.id or "cancelled" in (a.status, b.status):
                continue
            if not (b.starts_at < a.ends_at and b.ends_at > a.starts_at):
                continue
            if (venue_a is not None and venue_a == venue_b) or partners_a & partners_b:
                expected.setdefault(a.id, set()).add(b.id)

    found = find_clashes(db, db.scalars(select(Event)).all())
    db.commit()
    assert {k: {c.other.id for c in v} for k, v in found.items()} == expected
    assert expected  # the data really has clashes to find
