"""The same event looks the same everywhere: for one filter, on random data, the API (all
its pages), /events.json and the feed /calendar.ics list the same events, and say the same
about each (uid, title, status, sequence, start and end instants)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import icalendar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

THEMES = ["eadrcc", "kfor", "cyber-security"]
CITIES = ["Beograd", "Novi Sad", "Niš"]
FORMATS = ["panel", "round_table", "seminar"]

EVENT = st.fixed_dictionaries(
    {
        "themes": st.lists(st.sampled_from(THEMES), min_size=1, max_size=2, unique=True),
        "format": st.sampled_from(FORMATS),
        "status": st.sampled_from(["confirmed", "cancelled", "draft"]),
        "day": st.integers(0, 60),
        "hour": st.integers(0, 23),
        "hours": st.integers(1, 30),
        "city": st.sampled_from([None, *CITIES]),
        "partner": st.booleans(),
        "zone": st.sampled_from(["Europe/Belgrade", "America/New_York", "UTC"]),
    }
)
FILTER = st.fixed_dictionaries(
    {},
    optional={
        "theme": st.lists(st.sampled_from(THEMES), min_size=1, max_size=2, unique=True),
        "format": st.lists(st.sampled_from(FORMATS), min_size=1, max_size=2, unique=True),
        "city": st.lists(st.sampled_from(CITIES), min_size=1, max_size=2, unique=True),
        "status": st.lists(st.sampled_from(["confirmed", "cancelled"]), min_size=1, max_size=1),
        "from": st.integers(0, 60).map(lambda d: str(datetime(2020, 4, 1).date() + timedelta(d))),
        "to": st.integers(30, 70).map(lambda d: str(datetime(2020, 4, 1).date() + timedelta(d))),
        "online": st.just("only"),
    },
)


def _api_events(client, query: str, limit: int) -> list[dict]:
    items, url = (
        [],
        f"/api/v1/events?{query}&limit={limit}" if query else f"/api/v1/events?limit={limit}",
    )
    while url:
        body = client.get(url).get_json()
        items += body["events"]
        url = None
        if body["next"]:
            parts = urlsplit(body["next"])
            url = parts.path + "?" + parts.query
    return items


def _instant(value) -> datetime:
    dt = value.dt
    return dt.astimezone(UTC)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(new_events=st.lists(EVENT, max_size=3), flt=FILTER, limit=st.integers(1, 4))
def test_api_json_export_and_feed_agree(
    client, create_event, create_venue, create_partner, new_events, flt, limit
):
    venues = getattr(client, "_venues", None)
    if venues is None:
        venues = client._venues = {c: create_venue(city=c, name=f"Dom {c}") for c in CITIES}
        client._partner = create_partner(slug="ngo-one", name="NGO One")
    for n, spec in enumerate(new_events):
        start = datetime(2020, 4, 1, tzinfo=UTC) + timedelta(days=spec["day"], hours=spec["hour"])
        create_event(
            title=f"Event {spec['day']}-{n}",
            themes=spec["themes"],
            format=spec["format"],
            status=spec["status"],
            starts_at=start,
            ends_at=start + timedelta(hours=spec["hours"]),
            timezone=spec["zone"],
            venue=venues[spec["city"]] if spec["city"] else None,
            partners=[(client._partner, "host")] if spec["partner"] else [],
        )
    if "from" in flt and "to" in flt and flt["from"] > flt["to"]:
        flt["from"], flt["to"] = flt["to"], flt["from"]
    query = urlencode(
        [(k, v) for k, vs in flt.items() for v in (vs if isinstance(vs, list) else [vs])]
    )

    api = _api_events(client, query, limit)
    exported = client.get(f"/events.json?{query}").get_json()
    assert api == exported["events"]
    assert len(api) == exported["count"]

    feed = client.get(f"/calendar.ics?{query}")
    assert feed.status_code == 200
    vevents = icalendar.Calendar.from_ical(feed.data).walk("VEVENT")
    by_uid = {str(v["UID"]): v for v in vevents}
    assert list(by_uid) == [e["uid"] for e in api]  # the same events in the same order
    for event in api:
        vevent = by_uid[event["uid"]]
        assert str(vevent["SUMMARY"]) == event["title"]
        assert str(vevent["STATUS"]) == event["status"].upper()
        assert int(vevent["SEQUENCE"]) == event["sequence"]
        assert _instant(vevent["DTSTART"]) == datetime.fromisoformat(event["start"])
        assert _instant(vevent["DTEND"]) == datetime.fromisoformat(event["end"])
        assert str(vevent["URL"]) == event["url"]
    assert all(e["status"] != "draft" for e in api)
