"""A worker follows a feed from generation to generation (calendar.feeds._Snapshot):
whatever the changes, what it then knows is exactly what reading the feed whole gives,
segment by segment, so the ETags and the compressed pieces of both are the same."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign.calendar import feeds
from campaign.db import get_session
from campaign.events import operations as event_ops
from campaign.models import Event, EventPartner
from tests.calendar.test_feeds import edit, fetch, save_theme


@contextmanager
def small_blocks(events: int):
    """Blocks of about ``events`` events, so that a few dozen events make many."""
    kept = feeds.BLOCK_EVENTS
    feeds.BLOCK_EVENTS = events
    try:
        yield
    finally:
        feeds.BLOCK_EVENTS = kept


def feed_order(events: dict) -> list[tuple]:
    """(start, id, uid, version) of the events, as the feed's query orders them."""
    return sorted((start, eid, uid, version) for eid, (start, uid, version) in events.items())


def layout(snapshot: feeds._Snapshot) -> list:
    return [(s.keys, s.rows, s.digest) for s in snapshot.segments]


ids = st.integers(min_value=1, max_value=400)
starts = st.integers(min_value=0, max_value=60)
# (id, start, in the feed after the change)
changes = st.lists(st.tuples(ids, starts, st.booleans()), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    first=st.dictionaries(ids, starts, max_size=120),
    rounds=st.lists(changes, min_size=1, max_size=5),
    block=st.sampled_from([1, 2, 3, 7, 48]),
)
def test_following_the_changes_gives_what_reading_the_feed_whole_gives(first, rounds, block):
    with small_blocks(block):
        events = {eid: (start, f"uid-{eid}", 1) for eid, start in first.items()}
        known = feeds._Snapshot.read(1, feed_order(events))
        for generation, round_ in enumerate(rounds, start=2):
            written = []
            for eid, start, member in round_:
                version = events.get(eid, (0, "", 0))[2] + 1
                # A new uid for a new event: SQLite gives a deleted draft's id again.
                uid = f"uid-{eid}" if eid in events else f"uid-{eid}-{generation}"
                if member:
                    events[eid] = (start, uid, version)
                else:
                    events.pop(eid, None)
                written.append((start, eid, uid, version, member))
            known = known.advance(generation, written)
            whole = feeds._Snapshot.read(generation, feed_order(events))
            assert layout(known) == layout(whole)
            assert known.where == whole.where
            assert known.firsts == whole.firsts
            assert known.rows == [row[1:] for row in feed_order(events)]


def test_an_unchanged_segment_is_shared_not_copied():
    with small_blocks(3):
        events = {eid: (eid % 50, f"uid-{eid}", 1) for eid in range(1, 200)}
        known = feeds._Snapshot.read(1, feed_order(events))
        after = known.advance(2, [(17, 17, "uid-17", 2, True)])
        shared = sum(a is b for a, b in zip(known.segments, after.segments, strict=True))
        assert shared == len(known.segments) - 1


@pytest.fixture
def fetched(monkeypatch):
    """How many event rows each feed read of the database returned."""
    counts: list[int] = []
    real = feeds.Calendar._fetch

    def spy(self, query, *columns):
        found = real(self, query, *columns)
        counts.append(len(found))
        return found

    monkeypatch.setattr(feeds.Calendar, "_fetch", spy)
    return counts


def test_after_an_edit_a_worker_reads_the_event_written_not_every_event(
    app, client, create_event, fetched
):
    feeds.clear_caches()
    ids = [
        create_event(
            title=f"Događaj {n}",
            format="panel",
            starts_at=datetime(2026, 3, 1, 9, tzinfo=UTC) + timedelta(days=n),
        ).id
        for n in range(30)
    ]
    fetch(client, "/calendar.ics?format=panel")
    assert fetched == [30]
    edit(app, ids[7], description="Nova sala: Čačak")
    body = fetch(client, "/calendar.ics?format=panel").get_data()
    assert fetched == [30, 1]
    assert "Nova sala: Čačak".encode() in body
    # Events written by someone else, one of them out of the feed now (a seminar).
    edit(app, ids[3], format="seminar")
    edit(app, ids[9], title="Tribina u Nišu")
    body = fetch(client, "/calendar.ics?format=panel").get_data()
    assert fetched == [30, 1, 2]
    assert b"Tribina u Ni" in body and body.count(b"BEGIN:VEVENT") == 29


def test_a_deleted_event_or_a_rename_makes_workers_read_the_feed_whole(
    app, client, create_event, organizer, fetched
):
    feeds.clear_caches()
    draft = create_event(title="Nacrt", status="draft")
    for n in range(5):
        create_event(title=f"Događaj {n}")
    private = f"/calendar.ics?token={organizer.feed_token}"
    fetch(client, private)
    with app.app_context():
        session = get_session()
        event = session.get(Event, draft.id)
        event_ops.delete_event(session, None, event, event.version)
    assert fetch(client, private).get_data().count(b"BEGIN:VEVENT") == 5
    assert fetched == [6, 5]
    save_theme(app, "eadrcc", name="EADRCC — novi naziv")
    fetch(client, private)
    assert fetched == [6, 5, 5]


def test_a_partner_link_written_on_its_own_moves_the_event_into_the_partner_feed(
    app, client, create_event, create_partner, fetched
):
    feeds.clear_caches()
    partner = create_partner(slug="bcbp", name="Beogradski centar za bezbednosnu politiku")
    event = create_event(title="Okrugli sto")
    create_event(title="Drugi događaj")
    url = "/partners/bcbp/calendar.ics"
    assert fetch(client, url).get_data().count(b"BEGIN:VEVENT") == 0
    with app.app_context():
        session = get_session()
        session.add(EventPartner(event_id=event.id, partner_id=partner.id, role="host"))
        session.commit()
    assert fetch(client, url).get_data().count(b"BEGIN:VEVENT") == 1
    assert fetched == [0, 1]
