"""The dashboard's range and links (issue 16): the default range is the campaign period
(configured, else the span of the data, planned events included); the partner table
tells the last event from the next; every number links to a list of exactly the events
it counts."""

from __future__ import annotations

import html
import random
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaign import create_app

BELGRADE = ZoneInfo("Europe/Belgrade")
THEMES = ["eadrcc", "kfor", "cyber-security", "civil-emergencies"]


def _count(page: str) -> int:
    return int(re.search(r'<p class="count">(\d+) event', page).group(1))


def _numbers_linked_to_lists(page: str) -> list[tuple[str, int]]:
    """Every link to /events whose text is a number, with that number."""
    found = re.findall(r'<a href="(/events\?[^"]*)"[^>]*>\s*(\d+)\s*</a>', page)
    return [(html.unescape(url), int(n)) for url, n in found]


def test_the_default_range_spans_the_data_with_planned_events(client, auth, create_event):
    now = datetime.now(UTC)
    create_event(title="Early", starts_at=datetime(2019, 3, 5, 10, tzinfo=UTC))
    create_event(title="Planned", starts_at=now + timedelta(days=400))
    auth.login()
    page = client.get("/dashboard").get_data(as_text=True)
    assert "2 events from March 2019 to " in page
    last = (now + timedelta(days=400)).astimezone(BELGRADE)
    assert f"to {last:%B %Y}" in page


def test_the_configured_campaign_period_wins(app, client, auth, create_event):
    create_event(starts_at=datetime(2020, 3, 5, 10, tzinfo=UTC))
    create_event(starts_at=datetime(2023, 3, 5, 10, tzinfo=UTC))
    app.config["CAMPAIGN_START"] = date(2020, 1, 1)
    app.config["CAMPAIGN_END"] = date(2020, 6, 30)
    auth.login()
    page = client.get("/dashboard").get_data(as_text=True)
    assert "1 event from January 2020 to June 2020" in page
    app.config["CAMPAIGN_END"] = None  # the end from the data
    page = client.get("/dashboard").get_data(as_text=True)
    assert "2 events from January 2020 to March 2023" in page


def test_without_events_or_configuration_the_range_is_ipap2(client, auth):
    auth.login()
    page = client.get("/dashboard").get_data(as_text=True)
    assert "0 events from November 2019 to December 2021" in page


def test_a_span_longer_than_the_limit_keeps_the_newest_months(client, auth, create_event):
    create_event(starts_at=datetime(1995, 3, 5, 10, tzinfo=UTC))
    create_event(starts_at=datetime(2021, 3, 5, 10, tzinfo=UTC))
    auth.login()
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert "from April 2011 to March 2021" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("value", "expected"), [("2020-02-01", date(2020, 2, 1)), ("", None), (None, None)]
)
def test_the_period_is_read_from_the_configuration(database_url, value, expected):
    app = create_app({"DATABASE_URL": database_url, "CAMPAIGN_START": value})
    assert app.config["CAMPAIGN_START"] == expected
    app.extensions["campaign.engine"].dispose()


@pytest.mark.parametrize(
    "config",
    [
        {"CAMPAIGN_START": "1 March 2020"},
        {"CAMPAIGN_END": 2020},
        {"CAMPAIGN_START": "2021-01-01", "CAMPAIGN_END": "2020-01-01"},
    ],
)
def test_a_bad_period_refuses_to_start(database_url, config):
    with pytest.raises(RuntimeError, match="CAMPAIGN_CAMPAIGN_"):
        create_app({"DATABASE_URL": database_url, **config})


def test_partners_last_and_next_event_are_told_apart(client, auth, create_event, create_partner):
    host = create_partner(name="Beogradski centar")
    now = datetime.now(UTC)
    past = create_event(title="Held", starts_at=now - timedelta(days=30), partners=[host])
    soon = create_event(title="Soon", starts_at=now + timedelta(days=20), partners=[host])
    create_event(title="Later", starts_at=now + timedelta(days=60), partners=[host])
    auth.login()
    page = client.get("/dashboard").get_data(as_text=True)
    row = re.search(r"<tr>\s*<td><a href=\"/partners/partner-1\">.*?</tr>", page, re.S).group(0)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert ">3</a>" in cells[1]
    assert f'href="/events/{past.id}"' in cells[2]
    assert f'href="/events/{soon.id}"' in cells[3]
    assert ">Next event</th>" in page and ">Last event</th>" in page


@pytest.fixture
def random_campaign(create_event, create_partner, create_venue):
    """Events of every status in many months, some crossing midnight at a month's end (they
    count in the month they start), some planned for next year; venues in cities written in
    different cases."""
    rng = random.Random(16)
    partners = [create_partner(name=f"Partner {i}") for i in range(4)]
    venues = [
        create_venue(name="Dom omladine", city="Beograd"),
        create_venue(name="Kulturni centar", city="beograd"),
        create_venue(name="Spens", city="Novi Sad"),
        create_venue(name="Dom kulture", city="Čačak"),
    ]
    now = datetime.now(UTC)
    for i in range(40):
        if i % 5 == 0:  # 23:30 on the last day of a month, in Belgrade
            month = date(2020 + rng.randrange(3), rng.randrange(1, 13), 1)
            last_day = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(1)
            start = datetime(last_day.year, last_day.month, last_day.day, 23, 30, tzinfo=BELGRADE)
        elif i % 7 == 0:
            start = now + timedelta(days=rng.randrange(5, 400), hours=rng.randrange(24))
        else:
            start = datetime(2020, 1, 1, 9, tzinfo=UTC) + timedelta(
                days=rng.randrange(0, 1000), hours=rng.randrange(12)
            )
        create_event(
            title=f"Event {i}",
            starts_at=start,
            status=rng.choice(["confirmed", "confirmed", "draft", "cancelled"]),
            themes=rng.sample(THEMES, rng.randint(1, 2)),
            venue=rng.choice([*venues, None]),
            online_url="https://meet.example.org/x",
            partners=[(p, "host") for p in rng.sample(partners, rng.randint(0, 2))],
            attendance=10 * i if i % 3 == 0 else None,
        )
    return partners


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?theme=kfor&theme=eadrcc",
        "?city=Beograd",
        "?partner=partner-1",
        "?from=2020-03-15&to=2021-02-10",
        "?status=cancelled&status=draft",
        "?format=round_table&q=Event",
        "?online=only",
        "?attendance=recorded&city=Beograd",
    ],
)
def test_every_number_links_to_a_list_of_exactly_those_events(client, auth, random_campaign, query):
    auth.login()
    page = client.get("/dashboard" + query).get_data(as_text=True)
    total = _count(page)
    see_all = html.unescape(
        re.search(r'<a href="(/events\?[^"]*)">See these events as a list</a>', page).group(1)
    )
    links = _numbers_linked_to_lists(page) + [(see_all, total)]
    assert len(links) > 5
    checked = {}
    for url, number in links:
        if url not in checked:
            listing = client.get(url)
            assert listing.status_code == 200, url
            checked[url] = _count(listing.get_data(as_text=True))
        assert checked[url] == number, (url, number, checked[url])
    # The whole list shows all of them, on both sides of now.
    listing = client.get(see_all).get_data(as_text=True)
    rows = listing.count('<tr class="status-')
    assert rows == min(total, 25)


def test_events_outside_the_years_events_may_have_do_not_stretch_the_range(
    app, client, auth, create_event, db
):
    """A stored row in year 9999 (hand-written, an old database) cannot be saved through
    the forms but must not break the dashboard's range."""
    from sqlalchemy import update

    from campaign.models import Event

    create_event(starts_at=datetime(2020, 3, 5, 10, tzinfo=UTC))
    odd = create_event(starts_at=datetime(2020, 4, 5, 10, tzinfo=UTC))
    db.execute(
        update(Event)
        .where(Event.id == odd.id)
        .values(
            starts_at=datetime(9999, 6, 1, tzinfo=UTC), ends_at=datetime(9999, 6, 1, 2, tzinfo=UTC)
        )
    )
    db.commit()
    auth.login()
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert "1 event from March 2020 to March 2020" in response.get_data(as_text=True)


def test_online_only_and_attendance_counts_link_to_their_lists(
    client, auth, create_event, create_venue
):
    """The "Online only" city row and each theme's "Events with attendance" link to the
    list of exactly those events (online=only, attendance=recorded), as their neighbours do."""
    hall = create_venue(name="Dom omladine", city="Beograd")
    start = datetime(2020, 3, 10, 17, tzinfo=UTC)
    online = "https://meet.example.org/x"
    for i, (venue, attendance, themes) in enumerate(
        [
            (None, 40, ["eadrcc"]),
            (None, None, ["eadrcc", "kfor"]),
            (None, 0, ["kfor"]),
            (hall, 25, ["eadrcc"]),
            (hall, None, ["eadrcc"]),
        ]
    ):
        create_event(
            title=f"Event {i}",
            starts_at=start + timedelta(days=i),
            venue=venue,
            online_url=online,
            attendance=attendance,
            themes=themes,
        )
    auth.login()
    page = client.get("/dashboard").get_data(as_text=True)
    online_row = re.search(r"<tr>\s*<td>Online only</td>.*?</tr>", page, re.S).group(0)
    ((url, number),) = _numbers_linked_to_lists(online_row)
    assert number == 3
    assert "online=only" in url and "city=" not in url
    assert _count(client.get(url).get_data(as_text=True)) == 3
    table = re.search(r'<section aria-labelledby="attendance-title">.*?</section>', page, re.S)
    reported = {}
    for row in re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", table.group(0), re.S):
        name = re.search(r'<th scope="row">([^<]+)</th>', row).group(1)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        links = _numbers_linked_to_lists(cells[2])
        if links:
            ((url, number),) = links
            assert "attendance=recorded" in url
            assert _count(client.get(url).get_data(as_text=True)) == number
            reported[name] = number
        else:
            assert cells[2] == "0", name
    assert reported == {
        "Euro-Atlantic Disaster Response Coordination Centre (EADRCC)": 2,
        "Cooperation with KFOR": 1,
    }
