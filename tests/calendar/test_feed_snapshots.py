"""A worker follows a feed from generation to generation (calendar.feeds._Snapshot):
whatever the changes, what it then knows is exactly what reading the feed whole gives,
segment by segment, so the ETags and the compressed pieces of both are the same."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from campaign.calendar import feeds, ical
from campaign.db import get_session
from campaign.events import operations as event_ops
from campaign.models import Event, EventPartner, EventRendering, RenderContextRow
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


def test_an_edit_is_rendered_by_the_write_path_for_the_workers_contexts(
    app, client, create_event, monkeypatch
):
    feeds.clear_caches()
    events = [create_event(title=f"Panel {n}") for n in range(5)]
    for url in ("/calendar.ics?lang=sr-Cyrl", "/calendar.ics?lang=en"):
        fetch(client, url)  # the workers' two contexts, recorded as they store renderings
    with app.app_context():
        session = get_session()
        session.add(
            RenderContextRow(
                key="0" * 32,
                site_url="http://old.example.org",
                organizer_name="Kampanja",
                organizer_email="x@example.org",
                language="en",
                texts="an older deploy's catalogues",
            )
        )
        session.commit()
    rendered = []
    real = ical.render_vevent

    def spy(event, ctx):
        rendered.append((event.id, ctx.language))
        return real(event, ctx)

    monkeypatch.setattr(ical, "render_vevent", spy)
    edit(app, events[2].id, description="Sala 2, Čačak")
    # In the writing transaction, for each context this code renders as the workers do
    # (not the older deploy's).
    assert sorted(rendered) == sorted([(events[2].id, "sr-Cyrl"), (events[2].id, "en")])
    with app.app_context():
        stored = get_session().execute(
            select(EventRendering.context, EventRendering.version).where(
                EventRendering.event_id == events[2].id
            )
        )
        version = get_session().get(Event, events[2].id).version
        assert {v for _c, v in stored} == {version}
    rendered.clear()
    for url, text in (("/calendar.ics?lang=sr-Cyrl", "Чачак"), ("/calendar.ics?lang=en", "Čačak")):
        assert text in fetch(client, url).get_data(as_text=True).replace("\r\n ", "")
    assert rendered == []  # the feeds read what the write path stored


def test_a_large_write_leaves_the_rendering_to_the_feeds(app, client, create_event, monkeypatch):
    feeds.clear_caches()
    fetch(client, "/calendar.ics")
    monkeypatch.setattr(feeds, "RENDER_ON_WRITE", 2)
    rendered = []
    real = ical.render_vevent
    monkeypatch.setattr(
        ical, "render_vevent", lambda event, ctx: rendered.append(event.id) or real(event, ctx)
    )
    with app.app_context():
        session = get_session()
        for n in range(3):
            session.add(
                Event(
                    uid=f"bulk-{n}@test",
                    title=f"Seminar {n}",
                    format="seminar",
                    status="confirmed",
                    starts_at=datetime(2026, 5, 1, 9, tzinfo=UTC) + timedelta(days=n),
                    ends_at=datetime(2026, 5, 1, 11, tzinfo=UTC) + timedelta(days=n),
                )
            )
        session.commit()
    assert rendered == []
    assert fetch(client, "/calendar.ics").get_data().count(b"Seminar ") == 3
    assert len(rendered) == 3
