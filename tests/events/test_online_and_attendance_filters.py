"""`online=only` (events without a venue) and `attendance=recorded` (events whose attendance
was recorded; organizers only), which the dashboard's "Online only" and "Events with
attendance" numbers link to. One EventFilter: lists, feeds, exports and the API alike."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest


def _titles(page: str) -> list[str]:
    return sorted(re.findall(r'<a href="/events/\d+">([^<]+)</a>', page))


@pytest.fixture
def mixed(create_event, create_venue):
    hall = create_venue(name="Dom omladine", city="Beograd")
    start = datetime(2020, 3, 10, 17, tzinfo=UTC)
    online = "https://meet.example.org/x"
    create_event(title="Online, counted", starts_at=start, online_url=online, attendance=40)
    create_event(
        title="Online, not counted", starts_at=start + timedelta(days=1), online_url=online
    )
    create_event(
        title="In the hall, counted", starts_at=start + timedelta(days=2), venue=hall, attendance=0
    )
    create_event(title="In the hall", starts_at=start + timedelta(days=3), venue=hall)
    create_event(
        title="Online draft", starts_at=start + timedelta(days=4), online_url=online, status="draft"
    )


def test_online_only_everywhere(client, mixed):
    expected = ["Online, counted", "Online, not counted"]
    assert _titles(client.get("/events?when=all&online=only").get_data(as_text=True)) == expected
    feed = client.get("/calendar.ics?online=only").get_data(as_text=True)
    assert sorted(re.findall(r"^SUMMARY:(.*)\r$", feed, re.M)) == [
        "Online\\, counted",
        "Online\\, not counted",
    ]
    rows = client.get("/events.json?online=only").get_json()
    assert sorted(e["title"] for e in rows["events"]) == expected
    csv = client.get("/events.csv?online=only").get_data(as_text=True)
    assert "Online, counted" in csv and "In the hall" not in csv
    api = client.get("/api/v1/events?online=only").get_json()
    assert sorted(e["title"] for e in api["events"]) == expected
    # With a city, nothing is both.
    assert "0 events" in client.get("/events?when=all&online=only&city=Beograd").get_data(
        as_text=True
    )


def test_attendance_recorded_for_organizers(client, auth, organizer, mixed):
    auth.login()
    page = client.get("/events?when=all&attendance=recorded").get_data(as_text=True)
    # Zero people is a recorded number too.
    assert _titles(page) == ["In the hall, counted", "Online, counted"]
    assert "Attendance recorded" in page
    # The filter form keeps them when another filter is chosen.
    assert '<input type="hidden" name="attendance" value="recorded">' in page
    assert '<input type="hidden" name="online" value="only">' in client.get(
        "/events?online=only"
    ).get_data(as_text=True)
    both = client.get("/events?when=all&attendance=recorded&online=only")
    assert _titles(both.get_data(as_text=True)) == ["Online, counted"]
    csv = client.get("/events.csv?attendance=recorded").get_data(as_text=True)
    assert "In the hall, counted" in csv and "Online, not counted" not in csv
    client.logout()
    feed = client.get(f"/calendar.ics?attendance=recorded&token={organizer.feed_token}")
    assert feed.status_code == 200
    assert "In the hall\\, counted" in feed.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/events?attendance=recorded",
        "/calendar.ics?attendance=recorded",
        "/events.csv?attendance=recorded",
        "/api/v1/events?attendance=recorded",
    ],
)
def test_attendance_is_not_a_public_filter(client, mixed, url):
    """The public never sees attendance, so neither which events have it."""
    response = client.get(url)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "only organizers may filter events by attendance" in text
    assert "In the hall" not in text


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("online=yes", "online"),
        ("online=only&online=yes", "online"),
        ("attendance=missing", "attendance"),
        ("attendance=recorded&attendance=all", "attendance"),
    ],
)
def test_bad_values_name_the_parameter(client, auth, query, name):
    auth.login()
    for path in ("/events", "/events.csv", "/calendar.ics"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert f"{name}:" in response.get_data(as_text=True), (path, query)


def test_serbian_words_for_the_new_filters(client, auth, mixed):
    auth.login()
    page = client.get("/events?when=all&online=only&attendance=recorded&lang=sr-Latn")
    text = page.get_data(as_text=True)
    assert "Samo onlajn" in text
    assert "Upisana posećenost" in text
    public = client.get("/calendar.ics?attendance=recorded&lang=sr-Latn")
    assert public.status_code == 400
    assert "samo organizatori mogu da biraju događaje po broju prisutnih" in public.get_data(
        as_text=True
    )
