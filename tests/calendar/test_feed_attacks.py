"""Feeds that follow the changes (calendar.feeds._Snapshot) attacked from outside: after
each kind of write a worker that already knew the feed serves what a fresh full render
serves, with the same ETag."""

from __future__ import annotations

import gzip
import random
import shutil
import subprocess
import threading
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert

from campaign.calendar import feeds, ical
from campaign.catalog import operations as catalog_ops
from campaign.catalog.models import Theme, Venue
from campaign.db import get_session
from campaign.events.lists import request_filter
from campaign.models import Event, EventPartner, EventRendering
from tests.calendar.test_feeds import cancel, edit, fetch
from tests.conftest import wait_for


@pytest.fixture(autouse=True)
def _cold_caches():
    feeds.clear_caches()
    yield
    feeds.clear_caches()


def fresh(client, url: str):
    """What a worker that never saw the feed serves (nothing in its memory nor stored)."""
    feeds.clear_caches()
    with client.application.app_context():
        session = get_session()
        session.execute(feeds.EventRendering.__table__.delete())
        session.commit()
    return fetch(client, url)


@pytest.mark.parametrize("loaded", [False, True])
def test_a_partner_link_written_on_its_own_changes_the_event_in_every_feed(
    app, client, create_event, create_partner, loaded
):
    partner = create_partner(slug="bcbp", name="Beogradski centar za bezbednosnu politiku")
    event = create_event(title="Okrugli sto")
    create_event(title="Drugi događaj")
    before = fetch(client, "/calendar.ics")
    assert b"Beogradski centar" not in before.get_data()
    with app.app_context():
        session = get_session()
        if loaded:  # the session holds the event: the flush updates its row itself
            session.get(Event, event.id)
        session.add(EventPartner(event_id=event.id, partner_id=partner.id, role="host"))
        session.commit()
    after = fetch(client, "/calendar.ics", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200, "a 304 hid the new partner"
    want = fresh(client, "/calendar.ics")
    assert b"Beogradski centar" in want.get_data()
    assert after.get_data() == want.get_data()
    assert after.headers["ETag"] == want.headers["ETag"]


def test_workers_keeping_the_same_renderings_do_not_deadlock(
    app, client, create_event, backend, caplog
):
    """Two workers store renderings of the same events at once, one in the feed's order
    (start), the other in another (a streamed feed's, by id): each must lock the rows in
    the same order, or PostgreSQL finds a deadlock and kills one of them."""
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer at a time: nothing to deadlock")
    later = create_event(title="Kasnije", starts_at=datetime(2026, 5, 1, 9, tzinfo=UTC))
    earlier = create_event(title="Ranije", starts_at=datetime(2026, 4, 1, 9, tzinfo=UTC))
    assert later.id < earlier.id
    with app.app_context():
        engine = get_session().get_bind()
        context = feeds.context_key(ical.RenderContext.from_config(app.config))

    def row(event):
        return {
            "event_id": event.id,
            "context": context,
            "uid": event.uid,
            "version": event.version,
            "vevent": b"BEGIN:VEVENT\r\nEND:VEVENT\r\n",
            "tzid": None,
            "first_year": 2026,
            "last_year": 2026,
        }

    stmt = postgresql_insert(EventRendering).on_conflict_do_nothing()
    worker = threading.Thread(target=lambda: fetch(client, "/calendar.ics"))
    with engine.connect() as other, engine.connect() as watch:
        other.begin()
        # Another worker stores its renderings by id: the later event first.
        other.execute(stmt, [row(later)])
        worker.start()

        def waiting() -> bool:
            watch.rollback()
            return bool(
                watch.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                )
            )

        assert wait_for(waiting)
        other.execute(stmt, [row(earlier)])  # a deadlock is found here, or in the worker
        other.commit()
    worker.join()
    assert "renderings_not_kept" not in caplog.text
    with app.app_context():
        kept = get_session().scalars(select(EventRendering.event_id)).all()
    assert sorted(kept) == sorted([later.id, earlier.id])


def retained_bytes() -> int:
    """The bytes the feed caches keep alive: every body, every piece's text and compressed
    streams, every VEVENT, reached from any of the caches (each counted once)."""
    seen: set[int] = set()
    total = 0

    def count(value) -> None:
        nonlocal total
        if id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, bytes | str):
            total += len(value)
        elif isinstance(value, feeds._Piece):
            count(value.raw)
            for _ref, tail, stream in value._streams:
                count(tail)
                count(stream)
        elif isinstance(value, ical.RenderedEvent):
            count(value.vevent)
        elif isinstance(value, list | tuple):
            for item in value:
                count(item)

    for cache in (feeds._vevents, feeds._pieces, feeds._bodies, feeds._plans):
        for value, _size in list(cache._data.values()):
            count(value)
    return total


def test_the_feed_caches_keep_no_more_than_their_budget(app, client, create_event):
    """FEED_CACHE_BYTES bounds what the caches hold, also when many small feeds are asked
    for (each below the streaming threshold, so each is built and cached)."""
    for group in range(30):
        for n in range(4):
            create_event(
                title=f"Skup grupa{group:02d} broj {n}",
                starts_at=datetime(2026, 3, 1, 9, tzinfo=UTC) + timedelta(days=group * 4 + n),
            )
    budget = 100_000
    feeds.configure(budget)
    try:
        for group in range(30):
            for coding in ("gzip", "identity"):
                fetch(
                    client, f"/calendar.ics?q=grupa{group:02d}", headers={"Accept-Encoding": coding}
                )
        assert retained_bytes() <= budget
    finally:
        feeds.configure(int(app.config["FEED_CACHE_BYTES"]))


def test_a_streamed_feed_names_the_zones_of_its_events_not_of_stale_renderings(
    app, client, create_event, monkeypatch
):
    """A streamed feed's VTIMEZONEs come from the stored renderings; one kept for an
    older version of an event (storing the new one is best effort and may not happen:
    another write committed meanwhile, a busy database) must not add the years it
    covered, or the bytes differ from every other worker's under the same ETag."""
    event = create_event(title="Seoba", starts_at=datetime(2019, 3, 1, 9, tzinfo=UTC))
    create_event(title="Ostaje", starts_at=datetime(2026, 3, 1, 9, tzinfo=UTC))
    feeds.configure(1_000)  # every feed streamed
    try:
        fetch(client, "/calendar.ics")  # renders and stores both
        monkeypatch.setattr(feeds.Calendar, "_keep", lambda self, fresh: None)
        edit(
            app,
            event.id,
            starts_at=datetime(2026, 6, 1, 9, tzinfo=UTC),
            ends_at=datetime(2026, 6, 1, 11, tzinfo=UTC),
        )
        served = fetch(client, "/calendar.ics", headers={"Accept-Encoding": "identity"})
        body = served.get_data()
    finally:
        feeds.configure(int(app.config["FEED_CACHE_BYTES"]))
    want = fresh(client, "/calendar.ics")
    assert served.headers["ETag"] == want.headers["ETag"]
    assert body == want.get_data()


@pytest.fixture
def connections_held(app):
    """The most pooled connections the app held at once since the last reset(): a
    request that waits for a second connection while holding one deadlocks the pool
    when as many requests run at once as the pool has connections (each waits for the
    others until the pool's timeout)."""
    engine = app.extensions["campaign.engine"]
    state = {"now": 0, "most": 0}
    lock = threading.Lock()

    def checkout(*_args):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])

    def checkin(*_args):
        with lock:
            state["now"] -= 1

    event.listen(engine.pool, "checkout", checkout)
    event.listen(engine.pool, "checkin", checkin)

    class Held:
        def reset(self) -> None:
            with lock:
                state["most"] = state["now"]

        @property
        def most(self) -> int:
            return state["most"]

    yield Held()
    event.remove(engine.pool, "checkout", checkout)
    event.remove(engine.pool, "checkin", checkin)


@pytest.mark.parametrize("url", ["/themes/eadrcc/calendar.ics", "/calendar.ics?theme=eadrcc"])
def test_an_unchanged_feed_holds_one_connection_at_a_time(
    client, create_event, connections_held, url
):
    """A theme feed looks its theme up in the request's session before it reads the
    feed's state: the state must then be read on that connection, not on a second one
    from the pool (under flask run --with-threads, 20 clients on a theme feed held all
    ten connections in their sessions, each waiting for an eleventh: 30 s, then 500s)."""
    create_event(title="Okrugli sto")
    first = fetch(client, url)
    for headers in ({}, {"If-None-Match": first.headers["ETag"]}, {"Accept-Encoding": "gzip"}):
        connections_held.reset()
        client.get(url, headers=headers)
        assert connections_held.most == 1, headers


@pytest.mark.parametrize("streamed", [False, True])
def test_a_feed_that_stores_its_renderings_holds_one_connection_at_a_time(
    app, client, create_event, connections_held, streamed
):
    """The first request after a restart renders and stores what it rendered in a
    transaction of its own: the request's read transaction must have let its connection
    go by then (under flask run --with-threads, 20 clients on a cold feed each held a
    connection and waited for another to store: 30 s, renderings not kept)."""
    for n in range(3):
        create_event(title=f"Skup {n}", starts_at=datetime(2026, 3, 1 + n, 9, tzinfo=UTC))
    with app.app_context():
        session = get_session()
        session.execute(EventRendering.__table__.delete())
        session.commit()
    if streamed:
        feeds.configure(1_000)
    try:
        connections_held.reset()
        fetch(client, "/themes/eadrcc/calendar.ics")
        with app.app_context():
            kept = get_session().scalar(select(func.count()).select_from(EventRendering))
    finally:
        feeds.configure(int(app.config["FEED_CACHE_BYTES"]))
    assert kept == 3
    assert connections_held.most == 1


def test_a_theme_renamed_while_its_feed_is_read_is_not_rendered_by_its_old_name(
    app, client, create_event, backend
):
    """A theme feed loads its theme in the request's session (the slug looked up), and
    the session keeps that object: on PostgreSQL, where each statement sees what was
    committed before it, a rename committed after the look-up gives the events' new
    versions but, without reloading the theme, its old name. The VEVENTs must say what
    their version says, in the request, in the worker's caches and in the stored
    renderings that every other worker reads (under flask run --with-threads, subscribers
    of the theme feed and of /calendar.ics got two bodies under one ETag)."""
    create_event(title="Okrugli sto", starts_at=datetime(2026, 3, 1, 9, tzinfo=UTC))
    create_event(title="Seminar", starts_at=datetime(2026, 3, 2, 9, tzinfo=UTC))
    url = "/themes/eadrcc/calendar.ics"
    with app.test_request_context(url):
        session = get_session()
        flt = request_filter(fixed={"theme": ["eadrcc"]}, drafts=False)  # loads the theme
        with app.app_context():  # the rename, committed by another request meanwhile
            other = get_session()
            theme = other.scalar(select(Theme).where(Theme.slug == "eadrcc"))
            catalog_ops.save_theme(other, None, theme, name="Preimenovana tema", slug="eadrcc")
        calendar = feeds.feed_of(session, flt, app.config)
        calendar.current()
        body, etag = calendar.body()
    if backend == "postgresql":  # the rows were read after the rename: its name
        assert b"Preimenovana tema" in body
    feeds.clear_caches()  # another worker: the stored renderings
    stored = fetch(client, url, headers={"Accept-Encoding": "identity"})
    want = fresh(client, url)
    assert stored.get_data() == want.get_data()
    if want.headers["ETag"] == f'"{etag}"':
        assert body == want.get_data()


def gunzip_everywhere(body: bytes) -> bytes:
    """``body`` decoded by Python's gzip module, by zlib on its own (one member, nothing
    after it) and by the gzip program when there is one; all must agree."""
    plain = gzip.decompress(body)
    decoder = zlib.decompressobj(47)
    assert decoder.decompress(body) + decoder.flush() == plain
    assert decoder.eof and not decoder.unused_data
    program = shutil.which("gzip")
    if program:
        out = subprocess.run([program, "-dc"], input=body, capture_output=True, check=True)
        assert out.stdout == plain
    return plain


@pytest.mark.parametrize("seed", [1, 2])
def test_gzip_feeds_after_random_edits_decode_to_a_fresh_render(
    app, client, create_event, create_venue, monkeypatch, seed
):
    """Blocks of three events and a 700-byte window (so each piece's stream refers back
    into the one before it, and edits land at the start, middle and end of blocks and in
    their last WINDOW bytes): after each write (edits, moves across blocks, cancellations,
    new events, a venue or theme renamed, a restarted worker) every gzip body decodes to
    the identity body, that is what a fresh worker renders, and one ETag is one body."""
    monkeypatch.setattr(feeds, "BLOCK_EVENTS", 3)
    monkeypatch.setattr(feeds, "BLOCK_MAX", 6)
    monkeypatch.setattr(feeds, "WINDOW", 700)
    monkeypatch.setattr(feeds, "CRC_RUN", 2)
    rnd = random.Random(seed)
    venue = create_venue(name="Dom omladine")
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    ids = [
        create_event(
            title=f"Skup {n}",
            starts_at=start + timedelta(hours=7 * n),
            description=" ".join(["opis"] * rnd.randint(0, 200)),
            venue=venue if n % 3 == 0 else None,
        ).id
        for n in range(40)
    ]
    seen: dict[str, bytes] = {}
    cancelled: set[int] = set()
    for step in range(30):
        what = rnd.choice(["title", "text", "move", "cancel", "new", "venue", "theme", "restart"])
        if what == "title":
            edit(app, rnd.choice(ids), title=f"Novi naslov {step} " + "x" * rnd.randint(0, 50))
        elif what == "text":
            edit(app, rnd.choice(ids), description=" ".join(["izmena"] * rnd.randint(0, 300)))
        elif what == "move":
            moved = start + timedelta(hours=rnd.randint(0, 300))
            edit(app, rnd.choice(ids), starts_at=moved, ends_at=moved + timedelta(hours=1))
        elif what == "cancel":
            chosen = rnd.choice(ids)
            if chosen not in cancelled:
                cancel(app, chosen)
                cancelled.add(chosen)
        elif what == "new":
            ids.append(
                create_event(
                    title=f"Novi skup {step}",
                    starts_at=start + timedelta(hours=rnd.randint(0, 300)),
                    description="d" * rnd.randint(0, 2000),
                ).id
            )
        elif what in ("venue", "theme"):
            with app.app_context():
                session = get_session()
                if what == "venue":
                    v = session.get(Venue, venue.id)
                    catalog_ops.save_venue(
                        session, None, v, name=f"Dom {step}", city=v.city, address=v.address,
                        latitude=v.latitude, longitude=v.longitude, capacity=v.capacity,
                    )  # fmt: skip
                else:
                    theme = session.scalar(select(Theme).where(Theme.slug == "eadrcc"))
                    catalog_ops.save_theme(session, None, theme, name=f"Tema {step}", slug="eadrcc")
        else:
            feeds.clear_caches()
        for _ in range(rnd.randint(1, 3)):
            coding = rnd.choice(["gzip", "identity"])
            served = fetch(client, "/calendar.ics", headers={"Accept-Encoding": coding})
            identity = fetch(client, "/calendar.ics", headers={"Accept-Encoding": "identity"})
            body = served.get_data()
            if coding == "gzip":
                assert served.headers["Content-Encoding"] == "gzip"
                assert gunzip_everywhere(body) == identity.get_data()
            assert seen.setdefault(served.headers["ETag"], body) == body
        want = fresh(client, "/calendar.ics")
        assert want.get_data() == identity.get_data(), step
        assert want.headers["ETag"] == identity.headers["ETag"], step
        feeds.clear_caches()
        zipped = fetch(client, "/calendar.ics", headers={"Accept-Encoding": "gzip"})
        assert gunzip_everywhere(zipped.get_data()) == want.get_data(), step
        assert seen.setdefault(zipped.headers["ETag"], zipped.get_data()) == zipped.get_data()
