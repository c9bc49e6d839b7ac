"""Series: the tour and recurrence builders, their preview, the series page and feed."""

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from campaign.core.errors import ValidationError
from campaign.models import Event, Series, Theme
from campaign.series.operations import Recurrence


def _counts(db):
    db.rollback()  # a fresh read, after the requests' own transactions
    return (
        db.scalar(select(func.count()).select_from(Series)),
        db.scalar(select(func.count()).select_from(Event)),
    )


def _shared(db, **overrides):
    cyber = db.scalar(select(Theme.id).where(Theme.slug == "cyber-security"))
    db.rollback()
    data = {
        "title": "Seminar: sajber bezbednost",
        "format": "seminar",
        "status": "confirmed",
        "timezone": "Europe/Belgrade",
        "description": "Isti seminar u četiri grada.",
        "themes": [str(cyber)],
        "expected_audience": "50",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _tour(db, rows, **overrides):
    data = _shared(db, **overrides)
    for i, row in enumerate(rows):
        for name, value in zip(("day", "start", "end", "venue"), row, strict=False):
            data[f"rows-{i}-{name}"] = value
    return data


@pytest.fixture
def venues(create_venue):
    return [
        create_venue(name="Spens", city="Novi Sad"),
        create_venue(name="Dom kulture", city="Čačak"),
    ]


# -- recurrence rules (no database) --------------------------------------------------


def _days(**kw):
    base = {"first_day": date(2021, 3, 2), "start": time(18), "end": time(20)}
    base.update(kw)
    return [s.day for s in Recurrence(**base).stops()]


def test_first_tuesday_of_each_month_until_end_of_2021():
    days = _days(frequency="monthly", nth=1, weekdays=[1], until=date(2021, 12, 31))
    assert len(days) == 10
    assert all(d.weekday() == 1 and d.day <= 7 for d in days)


def test_fifth_weekday_is_left_out_where_a_month_has_none():
    days = _days(first_day=date(2021, 1, 1), frequency="monthly", nth=5, weekdays=[4], count=4)
    # Fifth Fridays in 2021: January, April, July, October.
    assert days == [date(2021, 1, 29), date(2021, 4, 30), date(2021, 7, 30), date(2021, 10, 29)]


def test_skipped_dates_leave_the_series():
    days = _days(frequency="weekly", count=4, skipped=[date(2021, 3, 9)])
    assert days == [date(2021, 3, 2), date(2021, 3, 16), date(2021, 3, 23)]


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"interval": 0, "count": 3}, "interval"),
        ({"interval": 99, "count": 3}, "interval"),
        ({"count": 0}, "count"),
        ({"count": 500}, "count"),
        ({}, "until"),  # neither until nor count
        ({"count": 3, "until": date(2021, 5, 1)}, "until"),
        ({"until": date(2021, 1, 1)}, "until"),  # before the first date
        ({"count": 3, "end": time(17)}, "end"),
        ({"count": 3, "skipped": [date(2021, 3, 3)]}, "skipped"),  # a Wednesday
        ({"count": 3, "frequency": "daily"}, "frequency"),
        ({"count": 3, "nth": 7, "frequency": "monthly"}, "nth"),
    ],
)
def test_bad_rules_name_the_field(app, kw, field):
    with app.test_request_context("/?lang=en"):
        with pytest.raises(ValidationError) as caught:
            _days(**kw)
        assert field in caught.value.errors


def test_too_many_dates_are_refused(app):
    with app.test_request_context("/?lang=en"):
        days = _days(frequency="weekly", weekdays=[0, 1, 2, 3, 4], until=date(2030, 1, 1))
    assert len(days) > 60  # expansion stops early; the count rule refuses it (below)


# -- the recurrence builder over HTTP -------------------------------------------------


def _recurrence(db, **overrides):
    rule = {
        "first_day": "2021-03-02",
        "start_time": "18:00",
        "end_time": "20:00",
        "frequency": "weekly",
        "interval": "1",
        "count": "",
        "until": "",
        "skipped": "",
        "nth": "",
        "place": "",
    }
    shared_over = {k: v for k, v in overrides.items() if k not in rule and k != "weekdays"}
    data = _shared(db, **shared_over)
    data.update(rule)
    data.update({k: v for k, v in overrides.items() if k in rule or k == "weekdays"})
    return data


def test_recurrence_keeps_local_time_across_dst(client, auth, db):
    auth.login()
    data = _recurrence(db, count="4", first_day="2021-03-16", action="create")
    response = client.post("/series/new/recurrence", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.rollback()
    events = db.scalars(select(Event).order_by(Event.starts_at)).all()
    assert [e.local_start.strftime("%Y-%m-%d %H:%M") for e in events] == [
        "2021-03-16 18:00",
        "2021-03-23 18:00",
        "2021-03-30 18:00",  # after the change to summer time on 28 March
        "2021-04-06 18:00",
    ]
    # In UTC the hour moved: 17:00 in winter, 16:00 in summer.
    assert events[0].starts_at.hour == 17 and events[2].starts_at.hour == 16
    assert len({e.uid for e in events}) == 4
    assert {e.series_id for e in events} == {events[0].series_id}


def test_until_is_a_date_in_the_series_zone(client, auth, db):
    """23:30 in Tokyo on the until date is 14:30 UTC: it belongs to the series."""
    auth.login()
    data = _recurrence(
        db,
        timezone="Asia/Tokyo",
        first_day="2021-03-01",
        start_time="23:00",
        end_time="23:30",
        until="2021-03-15",
        action="create",
    )
    assert client.post("/series/new/recurrence", data=data).status_code == 302
    db.rollback()
    events = db.scalars(select(Event).order_by(Event.starts_at)).all()
    assert [e.local_start.date() for e in events] == [
        date(2021, 3, 1),
        date(2021, 3, 8),
        date(2021, 3, 15),
    ]
    assert events[-1].starts_at == datetime(2021, 3, 15, 14, 0, tzinfo=UTC)


def test_a_time_the_clocks_skip_is_refused(client, auth, db):
    auth.login()
    data = _recurrence(
        db,
        first_day="2021-03-21",
        start_time="02:30",
        end_time="03:30",
        count="2",
        action="create",
    )
    response = client.post("/series/new/recurrence", data=data)
    assert response.status_code == 400
    assert "clocks skip that hour" in response.get_data(as_text=True)
    assert _counts(db) == (0, 0)


def test_preview_never_saves_and_lists_holidays(client, auth, db):
    auth.login()
    data = _recurrence(db, first_day="2021-01-07", count="3", action="preview")
    response = client.post("/series/new/recurrence", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "Preview: 3 dates" in page
    assert "Public holiday in Serbia" in page and "Christmas" in page
    assert 'value="create"' in page
    assert _counts(db) == (0, 0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_day", "", "Give the first date."),
        ("first_day", "2021-02-30", "is not a date"),
        ("first_day", "1850-01-01", "Give a date between"),
        ("start_time", "", "Give the start time."),
        ("start_time", "25:00", "is not a time"),
        ("end_time", "6pm", "is not a time"),
        ("end_time", "17:00", "The end must be after the start."),
        ("interval", "0", "Repeat every 1 to 12"),
        ("interval", "x", ""),
        ("count", "1000", "Give a number of dates from 1 to 60"),
        ("until", "soon", "is not a date"),
        ("skipped", "2021-13-01", "is not a date"),
        ("frequency", "daily", ""),
        ("nth", "9", ""),
        ("place", "999999", ""),
        ("title", "", "Give the event a title."),
        ("timezone", "Mars/Olympus", ""),
        ("themes", [], "Choose at least one theme."),
        ("format", "lecture", ""),
    ],
)
def test_bad_recurrence_input_is_named_and_nothing_saved(client, auth, db, field, value, message):
    auth.login()
    data = _recurrence(db, count="3", action="create")
    data[field] = value
    response = client.post("/series/new/recurrence", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page
    assert 'class="field-error"' in page
    assert message in page
    assert _counts(db) == (0, 0)


def test_bad_count_and_until_together(client, auth, db):
    auth.login()
    data = _recurrence(db, count="3", until="2021-05-01", action="create")
    response = client.post("/series/new/recurrence", data=data)
    assert response.status_code == 400
    assert "either an end date or a number" in response.get_data(as_text=True)
    assert _counts(db) == (0, 0)


# -- the tour builder -------------------------------------------------------------------


def test_tour_preview_then_create(client, auth, db, venues):
    auth.login()
    novi_sad, cacak = venues
    rows = [
        ("2021-03-02", "18:00", "20:00", str(novi_sad.id)),
        ("2021-03-09", "12:00", "14:00", str(cacak.id)),
        ("", "", "", ""),
    ]
    page = client.post("/series/new/tour", data=_tour(db, rows, action="preview"))
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert "Preview: 2 dates" in text and "Spens, Novi Sad" in text
    assert _counts(db) == (0, 0)
    response = client.post("/series/new/tour", data=_tour(db, rows, action="create"))
    assert response.status_code == 302
    assert _counts(db) == (1, 2)
    events = db.scalars(select(Event).order_by(Event.starts_at)).all()
    assert [e.venue_id for e in events] == [novi_sad.id, cacak.id]


def test_tour_more_rows_and_remove_without_javascript(client, auth, db, venues):
    auth.login()
    page = client.get("/series/new/tour").get_data(as_text=True)
    assert page.count('class="tour-row"') == 4
    more = client.post("/series/new/tour", data=_tour(db, [], action="more"))
    assert more.status_code == 200
    assert more.get_data(as_text=True).count('class="tour-row"') == 7
    rows = [
        ("2021-03-02", "18:00", "20:00", ""),
        ("2021-03-03", "18:00", "20:00", ""),
    ]
    data = _tour(db, rows, action="preview")
    data["rows-0-remove"] = "y"
    text = client.post("/series/new/tour", data=data).get_data(as_text=True)
    assert "Preview: 1 date" in text
    assert 'value="2021-03-02"' not in text and 'value="2021-03-03"' in text
    assert _counts(db) == (0, 0)


def test_tour_preview_shows_clashes_with_saved_events(client, auth, db, venues, create_event):
    novi_sad = venues[0]
    create_event(
        title="Older panel", venue=novi_sad, starts_at=datetime(2021, 3, 2, 17, 30, tzinfo=UTC)
    )
    auth.login()
    rows = [("2021-03-02", "18:00", "20:00", str(novi_sad.id))]
    text = client.post("/series/new/tour", data=_tour(db, rows, action="preview")).get_data(
        as_text=True
    )
    assert "Clash warning" in text and "Older panel" in text
    assert _counts(db) == (0, 1)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("2021-02-30", "18:00", "20:00", ""), "is not a date"),
        (("", "18:00", "20:00", ""), "Give the date of this stop."),
        (("2021-03-02", "", "20:00", ""), "Give the start time."),
        (("2021-03-02", "18:00", "", ""), "Give the end time."),
        (("2021-03-02", "18:61", "20:00", ""), "is not a time"),
        (("2021-03-02", "18:00", "20:00", "999999"), ""),
        (("3021-03-02", "18:00", "20:00", ""), "Give a date between"),
    ],
)
def test_bad_tour_rows_are_named_and_nothing_saved(client, auth, db, row, message):
    auth.login()
    data = _tour(db, [("2021-03-01", "18:00", "20:00", ""), row], action="create")
    response = client.post("/series/new/tour", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page
    assert 'class="field-error"' in page and message in page
    assert _counts(db) == (0, 0)


def test_an_empty_tour_is_refused(client, auth, db):
    auth.login()
    response = client.post("/series/new/tour", data=_tour(db, [], action="create"))
    assert response.status_code == 400
    assert "Fill in at least one row" in response.get_data(as_text=True)
    assert _counts(db) == (0, 0)


def test_a_tour_end_time_before_start_names_the_stop(client, auth, db):
    auth.login()
    rows = [("2021-03-01", "18:00", "20:00", ""), ("2021-03-02", "20:00", "18:00", "")]
    response = client.post("/series/new/tour", data=_tour(db, rows, action="create"))
    # An end before the start is the next morning: allowed, a 22-hour event.
    assert response.status_code == 302
    assert _counts(db) == (1, 2)


def test_builders_need_login(client):
    assert client.get("/series/new/tour").status_code in (302, 401)
    assert client.get("/series/new/recurrence").status_code in (302, 401)


def test_an_hour_that_happens_twice_means_the_first(client, auth, db):
    """02:30 on 31 October 2021 happens twice in Belgrade; as in RFC 5545, the first one
    (summer time) is meant. An overnight stop across that night lasts an hour longer."""
    auth.login()
    data = _recurrence(
        db,
        first_day="2021-10-24",
        start_time="02:30",
        end_time="06:30",
        count="2",
        action="create",
    )
    assert client.post("/series/new/recurrence", data=data).status_code == 302
    events = db.scalars(select(Event).order_by(Event.starts_at)).all()
    assert [e.local_start.strftime("%d %H:%M %Z") for e in events] == [
        "24 02:30 CEST",
        "31 02:30 CEST",
    ]
    assert events[1].starts_at == datetime(2021, 10, 31, 0, 30, tzinfo=UTC)
    assert (events[1].ends_at - events[1].starts_at).total_seconds() == 5 * 3600


def test_a_rule_giving_too_many_dates_is_refused(client, auth, db):
    auth.login()
    data = _recurrence(db, until="2030-01-01", weekdays=["0", "1", "2", "3", "4"], action="preview")
    response = client.post("/series/new/recurrence", data=data)
    assert response.status_code == 400
    assert "A series can have at most 60 dates" in response.get_data(as_text=True)
    assert _counts(db) == (0, 0)
