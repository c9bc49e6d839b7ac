"""Feeds that follow the changes (calendar.feeds._Snapshot) attacked from outside: after
each kind of write a worker that already knew the feed serves what a fresh full render
serves, with the same ETag."""

from __future__ import annotations

import pytest

from campaign.calendar import feeds
from campaign.db import get_session
from campaign.models import Event, EventPartner
from tests.calendar.test_feeds import fetch


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
