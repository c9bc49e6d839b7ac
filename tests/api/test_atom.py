"""Atom feeds of new and changed public events: parsed by feedparser (an independent
parser, which flags malformed feeds), the filter applies, drafts never appear, a change
moves an event to the top, strong ETag and 304, CORS for other sites' readers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from sqlalchemy import select

from campaign.events import operations as event_ops
from campaign.events.filters import event_list_loading
from campaign.models import Event, User


def parse(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    return feed


@pytest.fixture
def events(create_event, create_partner, organizer):
    partner = create_partner(slug="ngo-one", name="NGO One")
    start = datetime(2020, 6, 1, 16, tzinfo=UTC)
    made = [
        create_event(title="Panel on floods", themes=["eadrcc"], starts_at=start, owner=organizer),
        create_event(
            title="KFOR round table",
            themes=["kfor"],
            starts_at=start + timedelta(days=3),
            partners=[(partner, "host")],
            owner=organizer,
        ),
        create_event(
            title="Cancelled seminar", themes=["kfor"], status="cancelled", owner=organizer
        ),
        create_event(title="Hidden draft", themes=["kfor"], status="draft", owner=organizer),
    ]
    return made


def test_the_whole_campaign(client, events):
    feed = parse(client.get("/events.atom"))
    titles = [e.title for e in feed.entries]
    assert sorted(titles) == [
        "Cancelled seminar (cancelled)",
        "KFOR round table",
        "Panel on floods",
    ]
    assert "Hidden draft" not in client.get("/events.atom").get_data(as_text=True)
    entry = next(e for e in feed.entries if e.title == "Panel on floods")
    assert entry.id == entry.link == f"http://campaign.test/events/{events[0].id}"
    assert feed.feed.links[0].href.startswith("http://campaign.test/events.atom")
    assert any(t.term == "eadrcc" for t in entry.tags)


def test_a_change_moves_the_event_to_the_top(db, client, events):
    first = client.get("/events.atom")
    event = db.scalars(
        select(Event).where(Event.id == events[0].id).options(*event_list_loading())
    ).one()
    data = event_ops.event_data(event)
    data.title = "Panel on floods, moved"
    event_ops.update_event(db, db.scalar(select(User)), event, data, event.version)
    second = client.get("/events.atom", headers={"If-None-Match": first.headers["ETag"]})
    feed = parse(second)
    assert feed.entries[0].title == "Panel on floods, moved"


def test_theme_and_partner_feeds_and_filters(client, events):
    kfor = parse(client.get("/themes/kfor/events.atom"))
    assert sorted(e.title for e in kfor.entries) == [
        "Cancelled seminar (cancelled)",
        "KFOR round table",
    ]
    partner = parse(client.get("/partners/ngo-one/events.atom"))
    assert [e.title for e in partner.entries] == ["KFOR round table"]
    confirmed = parse(client.get("/themes/kfor/events.atom?status=confirmed"))
    assert [e.title for e in confirmed.entries] == ["KFOR round table"]
    assert client.get("/themes/nothing/events.atom").status_code == 404
    bad = client.get("/events.atom?status=draft")
    assert bad.status_code == 400 and b"status" in bad.data
    assert client.get("/events.atom?theme=nope").status_code == 400


def test_empty_feed_is_valid_and_etag_304_and_cors(client):
    response = client.get("/events.atom")
    feed = parse(response)
    assert feed.entries == []
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    again = client.get("/events.atom", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/events.atom").data == response.data  # same data, same bytes


def test_an_organizer_cookie_never_adds_drafts(client, auth, events):
    auth.login()
    assert "Hidden draft" not in client.get("/events.atom").get_data(as_text=True)
