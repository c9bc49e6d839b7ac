"""Compressed feeds over real HTTP: the app served by werkzeug's HTTP server on 127.0.0.1,
read with http.client (the bytes as sent) and with requests (a client that decodes gzip
itself), the body parsed back by icalendar."""

from __future__ import annotations

import gzip
import http.client
import threading

import icalendar
import pytest
import requests
from werkzeug.serving import make_server

from campaign.calendar import feeds
from tests.calendar.test_feeds import (
    cancel,
    check_against_database,
    db_events,
    edit,
    settle,
)
from tests.calendar.test_feeds import world as _world

world = _world  # the same fixture: a panel, a cancelled event, a draft, an online seminar


@pytest.fixture(autouse=True)
def _cold_caches():
    feeds.clear_caches()
    yield
    feeds.clear_caches()


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    thread.join(10)


def raw(port: int, path: str = "/calendar.ics", method: str = "GET", **headers):
    """Status, headers (lower-case names) and the bytes exactly as they came."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


GZIP = {"Accept-Encoding": "gzip"}


def test_gzip_when_asked_identity_otherwise(app, server, world):
    status, identity_headers, identity = raw(server)
    assert status == 200
    assert "content-encoding" not in identity_headers
    assert identity_headers["vary"] == "Accept-Encoding"

    status, headers, body = raw(server, **{"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    assert headers["content-type"] == "text/calendar; charset=utf-8"
    assert int(headers["content-length"]) == len(body)
    # The same bytes, once decompressed, and they parse as the feed.
    assert gzip.decompress(body) == identity
    check_against_database(gzip.decompress(body).decode(), db_events(app))
    # Different bytes, different strong ETags; the same Last-Modified.
    assert headers["etag"] != identity_headers["etag"]
    assert not headers["etag"].startswith("W/")
    assert headers["last-modified"] == identity_headers["last-modified"]

    # A client that decodes by itself (requests sends Accept-Encoding: gzip).
    response = requests.get(f"http://127.0.0.1:{server}/calendar.ics", timeout=30)
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.content == identity
    assert icalendar.Calendar.from_ical(response.content).walk("VEVENT")


@pytest.mark.parametrize(
    "accept",
    ["gzip;q=0", "identity", "deflate, br", "*;q=0.5, gzip;q=0", "gzip;q=0, *", ""],
)
def test_no_gzip_unless_the_client_takes_it(server, world, accept):
    status, headers, body = raw(server, **{"Accept-Encoding": accept})
    assert status == 200
    assert "content-encoding" not in headers
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")


@pytest.mark.parametrize("accept", ["GZIP", "*", "br;q=1, gzip;q=0.5"])
def test_gzip_by_any_spelling_or_wildcard(server, world, accept):
    _status, headers, body = raw(server, **{"Accept-Encoding": accept})
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body).startswith(b"BEGIN:VCALENDAR\r\n")


def test_gzip_is_at_most_a_sixth_on_a_feed_of_some_size(app, server, create_event):
    for n in range(120):
        create_event(title=f"Panel {n}: sajber bezbednost i civilna zaštita", format="panel")
    _s, _h, identity = raw(server)
    _s, _h, compressed = raw(server, **GZIP)
    assert len(compressed) * 6 <= len(identity), (len(compressed), len(identity))


def test_304_for_either_etag_and_each_coding(app, server, world):
    settle(app)
    _s, plain, _b = raw(server)
    _s, zipped, _b = raw(server, **GZIP)
    for etag in (plain["etag"], zipped["etag"]):
        for accept in ("gzip", "identity"):
            status, headers, body = raw(
                server, **{"Accept-Encoding": accept, "If-None-Match": etag}
            )
            assert status == 304 and body == b""
            # The 304 names the copy the client holds, which is current.
            assert headers["etag"] == etag
            assert headers["vary"] == "Accept-Encoding"
    for accept in ("gzip", "identity"):
        status, headers, _b = raw(
            server,
            **{"Accept-Encoding": accept, "If-Modified-Since": plain["last-modified"]},
        )
        assert status == 304
        assert headers["etag"] == (zipped if accept == "gzip" else plain)["etag"]

    # After a change neither old ETag earns a 304, in either coding.
    edit(app, world["panel"].id, title="Panel: sajber bezbednost (novi naziv)")
    for etag in (plain["etag"], zipped["etag"]):
        status, headers, body = raw(server, **{**GZIP, "If-None-Match": etag})
        assert status == 200
        assert headers["etag"] not in (plain["etag"], zipped["etag"])
        assert b"novi naziv" in gzip.decompress(body).replace(b"\r\n ", b"")


def test_head_has_the_headers_of_get_in_each_coding(app, server, world):
    settle(app)
    for extra in ({}, GZIP):
        _s, get, body = raw(server, **extra)
        status, head, nothing = raw(server, method="HEAD", **extra)
        assert status == 200 and nothing == b""
        for name in ("etag", "content-length", "content-type", "last-modified", "vary"):
            assert head[name] == get[name], name
        assert head.get("content-encoding") == get.get("content-encoding")
        assert int(head["content-length"]) == len(body)


@pytest.mark.parametrize("extra", [{}, GZIP])
def test_range_gets_the_whole_representation_never_a_mismatched_slice(server, world, extra):
    _s, full_headers, full = raw(server, **extra)
    for wanted in ("bytes=0-9", "bytes=-20", "bytes=5-"):
        status, headers, body = raw(server, Range=wanted, **extra)
        assert status == 200
        assert "content-range" not in headers
        assert headers.get("accept-ranges", "none") == "none"
        assert body == full
        assert headers["etag"] == full_headers["etag"]


def test_compressed_once_per_version_and_after_an_edit_only_its_block(
    app, server, create_event, monkeypatch
):
    events = [create_event(title=f"Panel {n}: civilna zaštita") for n in range(300)]
    # A piece's stream refers back into the last WINDOW bytes before it, here less than
    # one event.
    monkeypatch.setattr(feeds, "WINDOW", 300)
    compressed = []
    real = feeds.deflate

    def spy(raw, before=b""):
        compressed.append(raw)
        return real(raw, before)

    monkeypatch.setattr(feeds, "deflate", spy)
    _s, _h, identity = raw(server)
    _s, _h, first = raw(server, **GZIP)
    assert gzip.decompress(first) == identity
    assert b"".join(compressed) == identity  # every byte compressed exactly once
    for _ in range(2):
        raw(server, **GZIP)
        raw(server, method="HEAD", **GZIP)
    assert len(b"".join(compressed)) == len(identity)  # nothing compressed again

    # The events start together, so they are in id order, and a block ends after an
    # event whose id hashes so (feeds._ends_block).
    inside = next(e for e in events[100:] if not feeds._ends_block(e.id))
    last = next(e for e in events[200:] if feeds._ends_block(e.id))
    for victim, pieces in ((inside, 1), (last, 2)):
        compressed.clear()
        cancel(app, victim.id)
        _s, _h, identity = raw(server)
        _s, _h, body = raw(server, **GZIP)
        assert gzip.decompress(body) == identity
        # Only the cancelled event's block was compressed again, and the piece after it
        # only when the change is in the bytes its stream refers back to: a small part
        # of the feed.
        assert len(compressed) == pieces, victim
        assert victim.uid.encode() in compressed[0]
        assert b"STATUS:CANCELLED" in compressed[0]
        end = identity.index(compressed[0]) + len(compressed[0])
        assert pieces == 1 or end == identity.index(compressed[1])
        assert len(b"".join(compressed)) * 2 < len(identity)


def test_gzip_bytes_are_the_same_in_every_worker(app, server, world):
    """A strong ETag promises the same bytes: a worker that starts cold compresses to the
    very bytes another one sent."""
    _s, first_headers, first = raw(server, **GZIP)
    feeds.clear_caches()
    _s, headers, again = raw(server, **GZIP)
    assert again == first and headers["etag"] == first_headers["etag"]


def test_event_download_and_theme_feeds_compress_too(app, server, world):
    for path in (f"/events/{world['panel'].id}.ics", "/themes/eadrcc/calendar.ics"):
        _s, plain_headers, plain = raw(server, path)
        status, headers, body = raw(server, path, **GZIP)
        assert status == 200 and headers["content-encoding"] == "gzip"
        assert gzip.decompress(body) == plain
        assert headers.get("content-disposition") == plain_headers.get("content-disposition")


# -- served bytes = a fresh full render, after any sequence of changes --------------------


def fresh_render(client, url: str) -> bytes:
    """The feed rendered from nothing: every cache of calendar.feeds empty, then put back."""
    names = ("_vevents", "_bodies", "_current", "_pieces", "_plans")
    saved = {name: getattr(feeds, name) for name in names}
    try:
        for name, cache in saved.items():
            setattr(feeds, name, feeds._LRU(cache.max_items, cache.max_bytes))
        response = client.get(url, headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200
        return response.get_data()
    finally:
        for name, cache in saved.items():
            setattr(feeds, name, cache)


def test_served_bytes_equal_a_fresh_render_after_random_changes(
    app, client, world, create_event, monkeypatch
):
    import random

    from tests.calendar.test_feeds import save_theme, save_venue

    # Small blocks, so that a few dozen events make many of them.
    monkeypatch.setattr(feeds, "BLOCK_EVENTS", 4)
    monkeypatch.setattr(feeds, "BLOCK_MAX", 8)
    # Streams refer back less than a block: a piece after a changed one is often kept.
    monkeypatch.setattr(feeds, "WINDOW", 300)
    rng = random.Random(2019)
    events = [world["panel"].id, world["online"].id]
    for n in range(40):
        events.append(create_event(title=f"Seminar {n}", themes=["eadrcc"]).id)
    urls = ["/calendar.ics", "/themes/eadrcc/calendar.ics", "/calendar.ics?lang=en"]
    actions = ["edit", "cancel", "venue", "theme", "new", "restart", "none"] * 2
    rng.shuffle(actions)
    cancelled = set()
    for step, action in enumerate(actions):
        if action == "edit":
            edit(app, rng.choice(events), title=f"Edited {step}: zaštita")
        elif action == "cancel":
            victim = rng.choice([e for e in events if e not in cancelled])
            cancel(app, victim)
            cancelled.add(victim)
        elif action == "venue":
            save_venue(app, world["venue"].id, name=f"Dom omladine {step}")
        elif action == "theme":
            save_theme(app, "eadrcc", name=f"EADRCC {step}")
        elif action == "new":
            events.append(create_event(title=f"New {step}", themes=["eadrcc"]).id)
        elif action == "restart":
            feeds.clear_caches()
        for url in urls:
            served = client.get(url).get_data()
            zipped = client.get(url, headers=GZIP)
            assert zipped.headers["Content-Encoding"] == "gzip"
            expected = fresh_render(client, url)
            assert served == expected, (step, action, url)
            assert gzip.decompress(zipped.get_data()) == expected, (step, action, url)
