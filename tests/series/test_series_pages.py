"""The series page, its feed (through the one feed and VEVENT renderer) and exports,
and detaching an occurrence."""

import json
from datetime import date, time, timedelta

import icalendar
import ics
import pytest
import vobject
from sqlalchemy import select

from campaign.db import get_session
from campaign.events import operations as event_ops
from campaign.events.filters import event_list_loading
from campaign.models import Event, EventChange, Series, SeriesKind, Theme
from campaign.series import operations as series_ops
from tests.conftest import form_version


@pytest.fixture
def make_series(app, create_venue):
    """``make_series(n, status=...)``: a tour of n weekly stops, through the operations."""

    def make(
        n=3,
        status="confirmed",
        title="Seminar: sajber bezbednost, Novi Sad; Niš",
        start=date(2021, 3, 2),
    ):
        venue = create_venue(name="Spens", city="Novi Sad")
        with app.app_context():
            session = get_session()
            theme = session.scalar(select(Theme).where(Theme.slug == "cyber-security"))
            shared = series_ops.SharedData(
                title=title, format="seminar", status=status, themes=[theme], expected_audience=40
            )
            stops = [
                series_ops.Stop(start + timedelta(weeks=i), time(18), time(20), None)
                for i in range(n)
            ]
            stops[0].venue = session.get(type(venue), venue.id)
            series = series_ops.create_series(session, None, shared, stops, SeriesKind.tour)
            return series.id

    return make


@pytest.fixture
def vobject_zones():
    """vobject keeps the last VTIMEZONE it read for each TZID in a module-wide map and
    uses it for later calendars that name the same TZID: put the map back afterwards, so
    this feed (with its VTIMEZONE for 2021 only) does not decide other tests' times."""
    registry = vars(vobject.icalendar)["__tzidMap"]
    saved = dict(registry)
    yield
    registry.clear()
    registry.update(saved)


def _events(db, series_id):
    db.rollback()
    return db.scalars(
        select(Event).where(Event.series_id == series_id).order_by(Event.starts_at)
    ).all()


def test_series_page_lists_occurrences_with_totals(client, auth, db, make_series):
    series_id = make_series(3)
    events = _events(db, series_id)
    with client.application.app_context():
        session = get_session()
        event = session.scalar(
            select(Event).where(Event.id == events[0].id).options(*event_list_loading())
        )
        data = event_ops.event_data(event)
        data.attendance = 35
        event_ops.update_event(session, None, event, data, event.version)
    page = client.get(f"/series/{series_id}").get_data(as_text=True)
    for e in events:
        assert f"/events/{e.id}" in page
    assert f"/series/{series_id}/calendar.ics" in page
    assert "/themes/" in page  # what the dates share
    # Expected audience and attendance are internal numbers: organizers only.
    assert "reported for" not in page and "Expected audience" not in page
    auth.login()
    page = client.get(f"/series/{series_id}").get_data(as_text=True)
    assert "120" in page  # expected audience: 3 × 40
    assert "35" in page and "reported for 1 event" in page
    assert f"/series/{series_id}/calendar.ics" in page


def test_unknown_series_is_404(client):
    assert client.get("/series/999").status_code == 404
    assert client.get("/series/999/calendar.ics").status_code == 404


def test_a_series_of_drafts_is_hidden_from_the_public(client, auth, make_series):
    series_id = make_series(2, status="draft")
    assert client.get(f"/series/{series_id}").status_code == 404
    assert "BEGIN:VEVENT" not in client.get(f"/series/{series_id}/calendar.ics").get_data(
        as_text=True
    )
    auth.login()
    assert client.get(f"/series/{series_id}").status_code == 200


def test_series_feed_names_its_series_in_three_parsers(
    client, db, make_series, create_event, vobject_zones
):
    series_id = make_series(3)
    other = create_event(title="Unrelated panel")
    response = client.get(f"/series/{series_id}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    text = response.get_data(as_text=True)
    series = db.get(Series, series_id)
    events = _events(db, series_id)
    want = {e.uid: e for e in events}
    assert other.uid not in text

    cal = icalendar.Calendar.from_ical(text)
    vevents = cal.walk("VEVENT")
    assert {str(v["UID"]) for v in vevents} == set(want)
    for v in vevents:
        related = v["RELATED-TO"]
        assert str(related) == series.uid
        assert related.params["RELTYPE"] == "PARENT"
        categories = [str(c) for c in v["CATEGORIES"].cats]
        assert series.title in categories
    assert series.title.replace(", ", " · ").replace("; ", " · ") in str(cal["X-WR-CALNAME"])

    vcal = vobject.readOne(text, validate=True)
    for v in vcal.vevent_list:
        assert v.uid.value in want
        assert v.related_to.value == series.uid
        assert series.title in v.categories.value

    parsed = ics.Calendar(text).events
    assert {e.uid for e in parsed} == set(want)
    for e in parsed:
        assert series.title in e.categories

    # The whole-campaign feed carries the same VEVENTs, with the same series naming.
    whole = client.get("/calendar.ics").get_data(as_text=True).replace("\r\n ", "")
    assert whole.count(f"RELATED-TO;RELTYPE=PARENT:{series.uid}") == 3


def test_series_filter_parameter_on_lists_and_exports(client, auth, db, make_series):
    series_id = make_series(2)
    make_series(1, title="Another run")
    auth.login()
    data = json.loads(client.get(f"/events.json?series={series_id}").get_data(as_text=True))
    assert data["count"] == 2
    assert client.get(f"/events.csv?series={series_id}").status_code == 200
    for bad in ("abc", "999"):
        response = client.get(f"/events.json?series={bad}")
        assert response.status_code == 400
        assert "series" in response.get_data(as_text=True)
    response = client.get(f"/series/{series_id}/calendar.ics?series=abc")
    assert response.status_code == 400
    page = client.get(f"/series/{series_id}?status=cancelled").get_data(as_text=True)
    assert "No dates match." in page


def test_series_exports_at_their_own_address(client, auth, db, make_series, create_event):
    series_id = make_series(3)
    other = create_event(title="Unrelated panel")
    events = _events(db, series_id)
    data = json.loads(client.get(f"/series/{series_id}.json").get_data(as_text=True))
    assert {e["uid"] for e in data["events"]} == {e.uid for e in events}
    assert other.uid not in json.dumps(data)
    csv_text = client.get(f"/series/{series_id}.csv").get_data(as_text=True)
    assert len(csv_text.strip().splitlines()) == 1 + len(events)
    xlsx = client.get(f"/series/{series_id}.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    # The same filter parameters as every list, limited to the series.
    first = events[0].starts_at.date().isoformat()  # daytime: the same date in Belgrade
    one = json.loads(client.get(f"/series/{series_id}.json?from={first}&to={first}").data)
    assert [e["uid"] for e in one["events"]] == [events[0].uid]
    assert client.get(f"/series/{series_id}.json?from=nonsense").status_code == 400
    assert client.get("/series/999999.csv").status_code == 404
    # The page links to them.
    page = client.get(f"/series/{series_id}").get_data(as_text=True)
    assert f"/series/{series_id}.csv" in page and f"/series/{series_id}.xlsx" in page


def test_series_page_runs_fixed_queries(client, db, make_series, count_queries):
    small = make_series(2)
    large = make_series(30)
    counts = []
    for series_id in (small, large):
        with count_queries() as n:
            assert client.get(f"/series/{series_id}").status_code == 200
        counts.append(n.count)
    assert counts[0] == counts[1]


def test_detach_an_occurrence(client, auth, db, make_series):
    series_id = make_series(3)
    first = _events(db, series_id)[0]
    sequence, updated = first.sequence, first.updated
    auth.login()
    page = client.get(f"/events/{first.id}").get_data(as_text=True)
    assert f"/series/{series_id}" in page
    response = client.post(f"/events/{first.id}/detach", data={"version": form_version(page)})
    assert response.status_code == 302
    events = _events(db, series_id)
    assert first.id not in {e.id for e in events} and len(events) == 2
    detached = db.get(Event, first.id)
    assert detached.series_id is None
    assert detached.sequence == sequence and detached.updated > updated
    actions = db.scalars(
        select(EventChange.action).where(EventChange.event_id == first.id).order_by(EventChange.id)
    ).all()
    assert actions == ["created", "detached"]
    # The feed no longer lists it under the series.
    feed = client.get(f"/series/{series_id}/calendar.ics").get_data(as_text=True)
    assert detached.uid not in feed
    # Detaching twice, or with an old version, changes nothing.
    again = client.post(
        f"/events/{first.id}/detach", data={"version": str(detached.version)}, follow_redirects=True
    )
    assert "not part of a series" in again.get_data(as_text=True)


def test_detach_with_a_stale_version_is_refused(client, auth, db, make_series):
    series_id = make_series(2)
    first = _events(db, series_id)[0]
    auth.login()
    response = client.post(
        f"/events/{first.id}/detach",
        data={"version": str(first.version + 5)},
        follow_redirects=True,
    )
    assert "Someone else saved this event" in response.get_data(as_text=True)
    assert _events(db, series_id)[0].id == first.id


def test_occurrences_are_full_events(client, auth, db, make_series):
    """Each occurrence can be edited and cancelled on its own (before it takes place)."""
    series_id = make_series(2, start=date(2031, 3, 4))
    first, second = _events(db, series_id)
    auth.login()
    page = client.get(f"/events/{first.id}").get_data(as_text=True)
    response = client.post(f"/events/{first.id}/cancel", data={"version": form_version(page)})
    assert response.status_code == 302
    first, second = _events(db, series_id)
    assert first.status == "cancelled" and second.status == "confirmed"
    assert first.sequence == 1 and second.sequence == 0
    assert first.series_id == second.series_id == series_id
