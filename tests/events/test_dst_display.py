"""An event across a change of clock shows each end with its own zone abbreviation: the
autumn night (2026-10-25, 01:30 CEST to 03:30 CET in Belgrade) and the spring one
(2027-03-28, 01:30 CET to 03:30 CEST). Shared by every page that says when an event is
(one formatter, ``campaign.i18n.format_when``), the Atom feed and the series preview."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import feedparser
import pytest

from tests.series.test_series import _tour, venues  # noqa: F401  (fixture)

AUTUMN = (datetime(2026, 10, 24, 23, 30, tzinfo=UTC), datetime(2026, 10, 25, 2, 30, tzinfo=UTC))
SPRING = (datetime(2027, 3, 28, 0, 30, tzinfo=UTC), datetime(2027, 3, 28, 1, 30, tzinfo=UTC))


@pytest.fixture
def nights(create_event):
    autumn = create_event(title="Noćna tribina u jesen", starts_at=AUTUMN[0], ends_at=AUTUMN[1])
    spring = create_event(title="Noćna tribina u proleće", starts_at=SPRING[0], ends_at=SPRING[1])
    return autumn, spring


def _text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    return html.unescape(response.get_data(as_text=True))


def test_the_formatter_names_each_ends_zone(app, nights):
    from campaign.db import get_session
    from campaign.i18n import format_when
    from campaign.models import Event

    with app.test_request_context("/"):
        autumn, spring = (get_session().get(Event, e.id) for e in nights)
        assert format_when(autumn).endswith("01:30 CEST – 03:30 CET")
        assert format_when(spring).endswith("01:30 CET – 03:30 CEST")
    with app.test_request_context("/?lang=sr-Latn"):
        autumn = get_session().get(Event, nights[0].id)
        assert format_when(autumn) == "nedelja, 25. oktobar 2026. 01:30 CEST – 03:30 CET"


def test_an_ordinary_evening_keeps_one_zone(app, create_event):
    from campaign.db import get_session
    from campaign.i18n import format_when
    from campaign.models import Event

    event = create_event()  # 2020-03-10 18:00–20:00 CET
    with app.test_request_context("/"):
        assert format_when(get_session().get(Event, event.id)) == "Tue 10 Mar 2020, 18:00–20:00 CET"


@pytest.mark.parametrize("lang", ["en", "sr-Latn", "sr-Cyrl"])
def test_event_pages_and_lists(client, nights, lang):
    autumn, spring = nights
    for event, start, end in (
        (autumn, "01:30 CEST", "03:30 CET"),
        (spring, "01:30 CET", "03:30 CEST"),
    ):
        page = _text(client.get(f"/events/{event.id}?lang={lang}"))
        assert f"{start} – {end}" in page
    listing = _text(client.get(f"/events?when=all&lang={lang}"))
    assert "01:30 CEST – 03:30 CET" in listing and "01:30 CET – 03:30 CEST" in listing
    assert "03:30 CEST" not in listing.replace("01:30 CET – 03:30 CEST", "")
    embed = _text(client.get(f"/embed/events?lang={lang}"))
    assert "01:30 CET – 03:30 CEST" in embed


def test_atom_feed(client, nights):
    feed = feedparser.parse(client.get("/events.atom").data)
    summaries = " ".join(entry.summary for entry in feed.entries)
    assert "01:30 CEST – 03:30 CET" in summaries and "01:30 CET – 03:30 CEST" in summaries


def test_series_preview(client, auth, db, venues):  # noqa: F811
    auth.login()
    rows = [
        ("2026-10-25", "01:30", "03:30", str(venues[0].id)),
        ("2027-03-28", "01:30", "03:30", ""),
    ]
    page = _text(client.post("/series/new/tour", data=_tour(db, rows, action="preview")))
    assert "Preview: 2 dates" in page
    assert "01:30 CEST – 03:30 CET" in page and "01:30 CET – 03:30 CEST" in page


def test_exports_give_each_end_its_own_offset(client, nights):
    """The CSV and JSON write each time with its own UTC offset (the XLSX writes wall
    times with the zone's name in its own column: Excel has no zones)."""
    csv_text = client.get("/events.csv").get_data(as_text=True)
    assert "2026-10-25T01:30:00+02:00,2026-10-25T03:30:00+01:00" in csv_text
    assert "2027-03-28T01:30:00+01:00,2027-03-28T03:30:00+02:00" in csv_text
    records = {e["title"]: e for e in client.get("/events.json").get_json()["events"]}
    assert records["Noćna tribina u jesen"]["end"] == "2026-10-25T03:30:00+01:00"
