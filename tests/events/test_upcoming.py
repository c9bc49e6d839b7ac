"""Every HTML list opens on what is coming up; the past is one click away (issue 16)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

NOW = datetime.now(UTC)


def titles(page: str) -> list[str]:
    return re.findall(r'<a href="/events/\d+">([^<]+)</a>', page)


@pytest.fixture
def mixed(create_event):
    """Two past and three upcoming events, created out of order."""
    for title, days in [
        ("Later", 60),
        ("Long ago", -800),
        ("Soon", 3),
        ("Last month", -30),
        ("Next month", 30),
    ]:
        create_event(title=title, starts_at=NOW + timedelta(days=days), themes=["kfor"])


def test_list_opens_on_upcoming_events_in_start_order(client, mixed):
    page = client.get("/events").get_data(as_text=True)
    assert titles(page) == ["Soon", "Next month", "Later"]
    assert "Upcoming events" in page and "(3)" in page
    assert 'href="/events?when=past"' in page and "(2)" in page
    assert "Nothing is coming up" not in page


def test_past_events_are_one_click_away_newest_first(client, mixed):
    page = client.get("/events?when=past").get_data(as_text=True)
    assert titles(page) == ["Last month", "Long ago"]


def test_an_event_under_way_counts_as_upcoming(client, create_event):
    create_event(
        title="Under way", starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1)
    )
    assert titles(client.get("/events").get_data(as_text=True)) == ["Under way"]
    assert titles(client.get("/events?when=past").get_data(as_text=True)) == []


def test_nothing_upcoming_says_so_and_shows_the_most_recent(client, create_event):
    create_event(title="Older", starts_at=datetime(2020, 3, 1, 17, tzinfo=UTC))
    create_event(title="Newer", starts_at=datetime(2021, 3, 1, 17, tzinfo=UTC))
    page = client.get("/events").get_data(as_text=True)
    assert "Nothing is coming up; the most recent events are shown" in page
    assert titles(page) == ["Newer", "Older"]
    # Asking for upcoming explicitly says there are none and links to the past.
    page = client.get("/events?when=upcoming").get_data(as_text=True)
    assert titles(page) == []
    assert "Nothing is coming up." in page and 'href="/events?when=past"' in page


def test_past_link_and_pages_keep_the_filter(app, client, create_event, create_venue):
    app.config["EVENTS_PER_PAGE"] = 2
    hall = create_venue(name="Hala", city="Niš")
    for n in range(5):
        create_event(title=f"Past {n}", venue=hall, starts_at=NOW - timedelta(days=10 + n))
    create_event(title="Coming", venue=hall, starts_at=NOW + timedelta(days=5))
    create_event(title="Elsewhere", starts_at=NOW - timedelta(days=1))
    page = client.get("/events?city=Niš").get_data(as_text=True)
    assert titles(page) == ["Coming"]
    assert 'href="/events?city=Ni%C5%A1&amp;when=past"' in page
    page = client.get("/events?city=Niš&when=past").get_data(as_text=True)
    assert titles(page) == ["Past 0", "Past 1"]
    assert 'href="/events?city=Ni%C5%A1&amp;page=2&amp;when=past"' in page
    page = client.get("/events?city=Niš&when=past&page=3").get_data(as_text=True)
    assert titles(page) == ["Past 4"]
    # The filter form keeps the side the visitor is on.
    assert '<input type="hidden" name="when" value="past">' in page


def test_theme_and_partner_pages_open_on_upcoming(client, create_event, create_partner):
    rts = create_partner(slug="rts", name="RTS")
    create_event(
        title="Old", themes=["kfor"], partners=[(rts, "host")], starts_at=NOW - timedelta(days=9)
    )
    create_event(
        title="New", themes=["kfor"], partners=[(rts, "host")], starts_at=NOW + timedelta(days=9)
    )
    for url in ("/themes/kfor", "/partners/rts"):
        page = client.get(url).get_data(as_text=True)
        assert titles(page) == ["New"], url
        assert f'href="{url}?when=past"' in page
        assert titles(client.get(url + "?when=past").get_data(as_text=True)) == ["Old"], url


@pytest.mark.parametrize("url", ["/events", "/themes/kfor", "/events/calendar", "/calendar.ics"])
@pytest.mark.parametrize("value", ["soon", "PAST", ""])
def test_bad_when_is_a_400_naming_it(client, url, value):
    if not value:
        response = client.get(url + "?when=past&when=upcoming")
    else:
        response = client.get(url + f"?when={value}")
    assert response.status_code == 400
    assert "when" in response.get_data(as_text=True)


def test_feeds_and_exports_keep_every_event(client, mixed):
    feed = client.get("/calendar.ics?when=upcoming").get_data(as_text=True)
    assert feed.count("BEGIN:VEVENT") == 5
    rows = client.get("/events.json").get_json()
    assert rows["count"] == 5
    page = client.get("/events?when=past").get_data(as_text=True)
    # Export links from the past view do not carry the switch: exports take every event.
    links = re.findall(r'href="(/events\.(?:csv|xlsx|json)[^"]*|/calendar\.ics[^"]*)"', page)
    assert links and not [link for link in links if "when" in link]
