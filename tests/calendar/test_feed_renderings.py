"""Stored renderings (calendar.models.EventRendering) and every cache in front of them
never change a feed's bytes: after random edits, renames, cancellations and restarts,
each feed variant, identity and gunzipped, is byte for byte a fresh full render."""

from __future__ import annotations

import gzip
import json
import random
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from campaign import create_app
from campaign.calendar import feeds, ical, planned_media
from campaign.db import get_session
from campaign.events import operations as event_ops
from campaign.events.filters import event_list_loading
from campaign.events.lists import request_filter
from campaign.i18n import campaign_name
from campaign.models import Event, EventRendering, Partner, Series, SeriesKind, Theme
from campaign.series import operations as series_ops
from tests.calendar.test_feeds import cancel, edit, fetch, save_partner, save_theme, save_venue
from tests.conftest import Client


@pytest.fixture(autouse=True)
def _cold_caches():
    feeds.clear_caches()
    yield
    feeds.clear_caches()


def fresh_render(app, url: str, fixed: dict | None = None, private: bool = False) -> bytes:
    """The feed at ``url`` rendered from scratch, the plain way: every event of the filter
    loaded and rendered, no cache, no stored rendering, no blocks."""
    with app.test_request_context(url):
        app.preprocess_request()
        session = get_session()
        flt = request_filter(fixed=fixed, drafts=private)
        ctx = ical.RenderContext.from_config(app.config)
        # A private feed carries the planned media items after its events.
        media = planned_media.for_filter(flt) if private else None
        presentation = feeds.feed_presentation(flt, ctx, campaign_name(), media=media is not None)
        head = ical.calendar_head(
            presentation.name, presentation.description, subscription=presentation.subscription
        )
        events = (
            session.scalars(flt.select().options(*event_list_loading(), joinedload(Event.series)))
            .unique()
            .all()
        )
        rendered = [ical.render_vevent(e, ctx) for e in events]
        if media is not None:
            rendered += media.render(session, ctx)[0]
        body = b"".join(
            [head, ical.timezones_for(rendered), *(r.vevent for r in rendered), ical.CALENDAR_TAIL]
        )
        session.rollback()
        return body


def variants(token: str) -> list[tuple[str, dict | None, bool]]:
    return [
        ("/calendar.ics", None, False),
        ("/calendar.ics?lang=en", None, False),
        ("/calendar.ics?lang=sr-Latn&format=panel", None, False),
        ("/themes/eadrcc/calendar.ics", {"theme": ["eadrcc"]}, False),
        ("/themes/cyber-security/calendar.ics?lang=en", {"theme": ["cyber-security"]}, False),
        (f"/calendar.ics?token={token}", None, True),
        (f"/calendar.ics?token={token}&lang=en", None, True),
    ]


@contextmanager
def another_worker():
    """A worker that knows nothing yet (the feed caches empty), beside this one: the
    caches are set aside and given back afterwards, so this worker goes on from what
    it knew (its snapshots of the feeds included)."""
    names = [name for name, value in vars(feeds).items() if isinstance(value, feeds._LRU)]
    kept = {name: getattr(feeds, name) for name in names}
    try:
        for name, cache in kept.items():
            setattr(feeds, name, feeds._LRU(cache.max_items, cache.max_bytes))
        yield
    finally:
        for name, cache in kept.items():
            setattr(feeds, name, cache)


def check_all(app, client, token: str) -> None:
    for url, fixed, private in variants(token):
        want = fresh_render(app, url, fixed, private)
        plain = fetch(client, url)
        assert "Content-Encoding" not in plain.headers
        assert plain.get_data() == want, url
        packed = fetch(client, url, headers={"Accept-Encoding": "gzip"})
        assert packed.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(packed.get_data()) == want, url
        assert packed.headers["ETag"] != plain.headers["ETag"]
        # Strong ETags: a worker that read the feed whole gives the same tags and the
        # same compressed bytes as this one, which followed the changes one by one.
        with another_worker():
            cold = fetch(client, url, headers={"Accept-Encoding": "gzip"})
            assert cold.headers["ETag"] == packed.headers["ETag"], url
            assert cold.get_data() == packed.get_data(), url
            assert fetch(client, url).headers["ETag"] == plain.headers["ETag"], url
        for response in (plain, packed):
            again = client.get(
                url,
                headers={
                    "If-None-Match": response.headers["ETag"],
                    "Accept-Encoding": response.headers.get("Content-Encoding", "identity"),
                },
            )
            assert again.status_code == 304, url


def change(app, event_id: int, themes=None, partners=None) -> None:
    """Give an event other themes (slugs) or partners ((slug, role) pairs); the change
    may be no change at all."""
    with app.app_context():
        session = get_session()
        event = session.get(Event, event_id, options=event_list_loading())
        data = event_ops.event_data(event)
        if themes is not None:
            data.themes = session.scalars(select(Theme).where(Theme.slug.in_(themes))).all()
        for slug, role in partners or ():
            partner = session.scalar(select(Partner).where(Partner.slug == slug))
            data.partners = [(partner, role)]
        event_ops.update_event(session, None, event, data, event.version)


def make_app(database_url: str):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "SITE_URL": "http://campaign.test",
            "SERVER_NAME": None,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )


def stored_count(app) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(EventRendering))


@pytest.fixture
def campaign(app, create_event, create_partner, create_venue):
    venues = [
        create_venue(name="Dom omladine", city="Beograd"),
        create_venue(name="Kulturni centar", city="Novi Sad", address="Katolička porta 5"),
    ]
    partners = [
        create_partner(slug="bcbp", name="Beogradski centar za bezbednosnu politiku"),
        create_partner(slug="rts", name="Radio-televizija Srbije", kind="media"),
    ]
    theme_sets = [["eadrcc"], ["cyber-security"], ["eadrcc", "cyber-security"], ["kfor"]]
    ids = []
    for n in range(14):
        event = create_event(
            title=f"Panel {n}: čšž",
            format=("panel", "seminar", "round_table")[n % 3],
            status="draft" if n % 5 == 4 else "confirmed",
            themes=theme_sets[n % 4],
            venue=venues[n % 2] if n % 3 else None,
            online_url="" if n % 3 else "https://meet.example.org/x",
            partners=[(partners[n % 2], "host")],
            timezone="Europe/Brussels" if n % 4 == 3 else "Europe/Belgrade",
            starts_at=datetime(2020, 3, 1, 9, tzinfo=UTC) + timedelta(days=11 * n),
        )
        ids.append(event.id)
    return {"venues": [v.id for v in venues], "events": ids}


@pytest.fixture
def budget():
    """``budget(n)`` gives the feed caches n bytes for one test."""
    yield feeds.configure
    feeds.configure(feeds.DEFAULT_BUDGET)


# The third run gives the feed caches 1 kB: every feed there is streamed.
@pytest.mark.parametrize(
    ("seed", "cache_bytes"), [(1, None), (2, None), (3, 1_000), (4, None), (5, None)]
)
def test_every_variant_is_a_fresh_full_render_after_random_changes_and_restarts(
    app, database_url, organizer, campaign, create_event, budget, seed, cache_bytes
):
    if cache_bytes:
        budget(cache_bytes)
    rng = random.Random(seed)
    token = organizer.feed_token
    apps = [app]
    client = Client(app)
    check_all(app, client, token)

    def one_event(statuses=("confirmed", "draft", "cancelled")):
        with apps[-1].app_context():
            ids = (
                get_session()
                .scalars(select(Event.id).where(Event.status.in_(statuses)).order_by(Event.id))
                .all()
            )
        return rng.choice(ids) if ids else None

    for step in range(30):
        current = apps[-1]
        action = rng.choice(
            ["edit", "move", "cancel", "venue", "theme", "partner", "new", "delete", "restart"]
            + ["retheme", "relink", "publish", "edit", "move"]
        )
        if action == "edit" and (eid := one_event()):
            edit(current, eid, description=f"Izmena {step}: đ, ž; line\nbreak")
        elif action == "retheme" and (eid := one_event()):
            # In or out of the theme feeds.
            slugs = rng.sample(["eadrcc", "cyber-security", "kfor"], rng.randint(1, 2))
            change(current, eid, themes=slugs)
        elif action == "relink" and (eid := one_event()):
            slug, role = rng.choice(["bcbp", "rts"]), rng.choice(["host", "speakers"])
            change(current, eid, partners=[(slug, role)])
        elif action == "publish" and (eid := one_event(("draft",))):
            # Into the public feeds.
            edit(current, eid, status="confirmed")
        elif action == "move" and (eid := one_event()):
            with current.app_context():
                event = get_session().get(Event, eid)
                starts, ends = event.starts_at, event.ends_at
            shift = timedelta(days=rng.randint(-30, 30), hours=rng.randint(0, 5))
            edit(current, eid, starts_at=starts + shift, ends_at=ends + shift)
        elif action == "cancel" and (eid := one_event(("confirmed",))):
            cancel(current, eid)
        elif action == "venue":
            save_venue(current, rng.choice(campaign["venues"]), name=f"Dvorana {step}")
        elif action == "theme":
            slug = rng.choice(["eadrcc", "cyber-security", "kfor"])
            save_theme(current, slug, name=f"Tema {step}", name_en=f"Theme {step}")
        elif action == "partner":
            save_partner(current, rng.choice(["bcbp", "rts"]), name=f"Partner {step}")
        elif action == "new":
            create_event(
                title=f"Novo {step}",
                themes=[rng.choice(["eadrcc", "cyber-security"])],
                status=rng.choice(["confirmed", "draft"]),
                starts_at=datetime(2020, 4, 1, 10, tzinfo=UTC) + timedelta(days=step),
            )
        elif action == "delete" and (eid := one_event(("draft",))):
            with current.app_context():
                session = get_session()
                event = session.get(Event, eid)
                event_ops.delete_event(session, None, event, event.version)
        elif action == "restart":
            # A new worker on the same database: nothing in memory, the rows stay.
            feeds.clear_caches()
            apps.append(make_app(database_url))
            client = Client(apps[-1])
        check_all(apps[-1], client, token)
    for extra in apps[1:]:
        extra.extensions["campaign.engine"].dispose()


def count_renders(monkeypatch) -> list:
    rendered = []
    real = ical.render_vevent

    def spy(event, ctx):
        rendered.append(event.id)
        return real(event, ctx)

    monkeypatch.setattr(ical, "render_vevent", spy)
    return rendered


def test_a_restarted_worker_renders_no_unchanged_event(app, database_url, campaign, monkeypatch):
    first = fetch(Client(app), "/calendar.ics?lang=en").get_data()
    assert stored_count(app) > 0
    rendered = count_renders(monkeypatch)
    feeds.clear_caches()
    restarted = make_app(database_url)
    try:
        client = Client(restarted)
        assert fetch(client, "/calendar.ics?lang=en").get_data() == first
        assert rendered == []
        # Another language is another rendering, stored beside the first.
        fetch(client, "/calendar.ics?lang=sr-Latn")
        assert rendered
        # One edit, then a restart: the edited event alone is rendered again, by the
        # write path, for both contexts in use; the restarted worker renders nothing.
        rendered.clear()
        edit(restarted, campaign["events"][1], description="Nova reč.")
        assert rendered == [campaign["events"][1]] * 2
        feeds.clear_caches()
        rendered.clear()
        assert b"Nova re" in fetch(client, "/calendar.ics?lang=en").get_data()
        assert rendered == []
    finally:
        restarted.extensions["campaign.engine"].dispose()


def test_a_theme_rename_renders_again_only_the_events_that_show_it(
    app, database_url, campaign, monkeypatch
):
    client = Client(app)
    fetch(client, "/calendar.ics?lang=en")
    rendered = count_renders(monkeypatch)
    save_theme(app, "kfor", name="Saradnja sa Kforom", name_en="KFOR cooperation")
    feeds.clear_caches()  # and as a restarted worker: nothing in memory
    body = fetch(client, "/calendar.ics?lang=en").get_data()
    assert b"KFOR cooperation" in body
    with app.app_context():
        kfor = (
            get_session()
            .scalars(
                select(Event.id)
                .join(Event.themes)
                .where(Theme.slug == "kfor", Event.status != "draft")
            )
            .all()
        )
    assert kfor and sorted(rendered) == sorted(kfor)


def test_a_series_title_shown_by_unchanged_occurrences_is_never_served_stale(app, campaign):
    """A series' title is in its occurrences' CATEGORIES; changing it alone touches no
    occurrence, so the write path deletes their stored renderings."""
    with app.app_context():
        session = get_session()
        theme = session.scalar(select(Theme).where(Theme.slug == "eadrcc"))
        shared = series_ops.SharedData(
            title="Turneja", format="seminar", status="confirmed", themes=[theme]
        )
        stops = [series_ops.Stop(date(2021, 3, 2), time(18), time(20))]
        series_id = series_ops.create_series(session, None, shared, stops, SeriesKind.tour).id
    client = Client(app)
    fetch(client, "/calendar.ics?lang=en")
    with app.app_context():
        session = get_session()
        session.get(Series, series_id).title_en = "Summer tour"
        session.commit()
    feeds.clear_caches()
    body = fetch(client, "/calendar.ics?lang=en").get_data()
    assert b"Summer tour" in body
    assert body == fresh_render(app, "/calendar.ics?lang=en")


def test_a_rendering_made_before_a_concurrent_rename_is_not_kept(app, campaign):
    """The request read what it renders before a rename committed: its VEVENTs are
    served, never stored (the rename may have deleted the rows they would replace)."""
    with app.app_context():
        session = get_session()
        session.execute(delete(EventRendering))
        session.commit()
    with app.test_request_context("/calendar.ics"):
        app.preprocess_request()
        session = get_session()
        flt = request_filter()
        calendar = feeds.feed_of(session, flt, app.config)
        calendar.current()
        other = make_app(app.config["DATABASE_URL"])
        try:
            save_venue(other, campaign["venues"][0], name="Nova dvorana")
        finally:
            other.extensions["campaign.engine"].dispose()
        calendar.body()
        session.rollback()
    assert stored_count(app) == 0


def test_renderings_are_left_out_of_backups(app, runner, campaign, tmp_path):
    fetch(Client(app), "/calendar.ics")
    assert stored_count(app) > 0
    out = tmp_path / "backup.jsonl"
    result = runner.invoke(args=["backup", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert "event_renderings" not in lines[0]["tables"]
    assert all(line.get("table") != "event_renderings" for line in lines[1:])


def test_a_feed_larger_than_the_budget_is_streamed_not_built_whole(
    app, organizer, campaign, budget, monkeypatch
):
    # Blocks of at most 3 events, read 3 at a time: a small feed has many chunks.
    monkeypatch.setattr(feeds, "BLOCK_MAX", 3)
    monkeypatch.setattr(feeds, "STREAM_CHUNK", 3)
    client = Client(app)
    url = f"/calendar.ics?token={organizer.feed_token}"
    whole = fetch(client, url).get_data()
    packed = fetch(client, url, headers={"Accept-Encoding": "gzip"}).get_data()
    feeds.clear_caches()
    limit = len(whole) // 2
    budget(limit)
    for headers, expected in (({}, whole), ({"Accept-Encoding": "gzip"}, packed)):
        response = client.get(url, headers=headers, buffered=False)
        assert response.status_code == 200
        assert response.is_streamed
        chunks = list(response.response)
        response.close()
        # The same bytes, identity or gzip, as when the feed is cached whole...
        assert b"".join(chunks) == expected
        # ...sent piece by piece, none of them the whole feed, and nothing kept.
        assert len(chunks) > 3 and max(len(c) for c in chunks) < limit
        assert feeds.cache_bytes() < limit
    head = client.head(url)
    assert head.status_code == 200 and head.get_data() == b""
