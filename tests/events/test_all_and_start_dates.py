"""`when=all` (both sides of now, in start order) and `dates=start` (from/to match the day
an event starts), which the dashboard's numbers link to (issue 16)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta


def _titles(page: str) -> list[str]:
    return re.findall(r'<a href="/events/\d+">([^<]+)</a>', page)


def test_when_all_lists_past_and_upcoming_in_start_order(client, create_event):
    now = datetime.now(UTC)
    create_event(title="Next", starts_at=now + timedelta(days=3))
    create_event(title="Old", starts_at=now - timedelta(days=300))
    create_event(title="Recent", starts_at=now - timedelta(days=3))
    page = client.get("/events?when=all").get_data(as_text=True)
    assert _titles(page)[:3] == ["Old", "Recent", "Next"]
    assert "3 events" in page
    assert re.search(r'aria-current="page">All events <span class="n">\(3\)', page)
    assert _titles(client.get("/events").get_data(as_text=True))[:1] == ["Next"]


def test_dates_start_counts_an_event_on_the_day_it_starts(client, create_event):
    # 23:30 on 31 March in Belgrade (CEST), two hours long: it ends on 1 April.
    create_event(title="Late", starts_at=datetime(2020, 3, 31, 21, 30, tzinfo=UTC))
    april = "from=2020-04-01&to=2020-04-30&when=all"
    assert "Late" in _titles(client.get(f"/events?{april}").get_data(as_text=True))
    assert "Late" not in _titles(client.get(f"/events?{april}&dates=start").get_data(as_text=True))
    march = "from=2020-03-01&to=2020-03-31&when=all&dates=start"
    assert "Late" in _titles(client.get(f"/events?{march}").get_data(as_text=True))
    feed = client.get("/calendar.ics?from=2020-04-01&dates=start").get_data(as_text=True)
    assert "Late" not in feed


def test_bad_values_name_the_parameter(client):
    for query, name in [
        ("dates=end", "dates"),
        ("dates=start&dates=start2", "dates"),
        ("when=sometimes", "when"),
    ]:
        response = client.get(f"/events?{query}")
        assert response.status_code == 400, query
        assert f"{name}:" in response.get_data(as_text=True), query
    assert client.get("/events.json?dates=nope").status_code == 400
    assert client.get("/api/v1/events?dates=start").status_code == 200
