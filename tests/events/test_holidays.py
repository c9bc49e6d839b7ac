"""Public holidays in Serbia warn on the event form, the event page, the month view and
the coverage dashboard; they never refuse a save."""

import re
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from campaign.events.holidays import holiday_on, holidays_between, holidays_during
from campaign.models import Event
from tests.conftest import event_form_data


def test_serbian_calendar_includes_orthodox_feasts():
    assert holiday_on(date(2021, 1, 7)) is not None  # Orthodox Christmas
    assert holiday_on(date(2021, 2, 15)) is not None  # Statehood Day
    assert holiday_on(date(2021, 11, 11)) is not None  # Armistice Day
    # Orthodox Easter Monday 2021 is 3 May (the Western one was 5 April).
    assert holiday_on(date(2021, 5, 3)) is not None
    assert holiday_on(date(2021, 4, 5)) is None
    assert holiday_on(date(2021, 12, 25)) is None  # Catholic Christmas is not a state holiday
    assert holiday_on(date(2021, 3, 10)) is None


def test_holidays_between_and_during():
    found = holidays_between(date(2021, 4, 29), date(2021, 5, 4))
    assert sorted(found) == [date(2021, 4, 30), *(date(2021, 5, d) for d in range(1, 5))]
    # An event ending at midnight does not touch the next day.
    assert holidays_during(datetime(2021, 1, 6, 20), datetime(2021, 1, 7, 0)) == []
    [christmas] = holidays_during(datetime(2021, 1, 6, 20), datetime(2021, 1, 7, 1))
    assert christmas.day == date(2021, 1, 7)


def test_holiday_names_follow_the_language(app):
    with app.test_request_context("/?lang=en"):
        app.preprocess_request()
        assert "Christmas" in holiday_on(date(2021, 1, 7)).name
    with app.test_request_context("/?lang=sr-Latn"):
        app.preprocess_request()
        assert holiday_on(date(2021, 1, 7)).name == "Božić"
    with app.test_request_context("/?lang=sr-Cyrl"):
        app.preprocess_request()
        assert holiday_on(date(2021, 1, 7)).name == "Божић"


def test_saving_on_a_holiday_warns_but_saves(client, auth, db):
    auth.login()
    data = event_form_data(db, starts_at="2021-01-07T18:00", ends_at="2021-01-07T20:00")
    response = client.post("/events/new", data=data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Public holiday in Serbia" in page and "Christmas" in page
    db.rollback()  # a fresh read, after the request's own transaction
    assert db.scalar(select(func.count()).select_from(Event)) == 1


def test_form_with_errors_lists_the_holiday(client, auth, db):
    auth.login()
    data = event_form_data(db, title="", starts_at="2021-11-11T10:00", ends_at="2021-11-11T12:00")
    response = client.post("/events/new", data=data)
    assert response.status_code == 400
    assert "Armistice Day" in response.get_data(as_text=True)
    db.rollback()  # a fresh read, after the request's own transaction
    assert db.scalar(select(func.count()).select_from(Event)) == 0


def test_an_ordinary_day_has_no_holiday_warning(client, auth, db):
    auth.login()
    response = client.post("/events/new", data=event_form_data(db), follow_redirects=True)
    assert "Public holiday in Serbia:" not in response.get_data(as_text=True)


def test_event_page_and_edit_form_list_the_holiday(client, auth, create_event):
    event = create_event(starts_at=datetime(2021, 2, 15, 9, 0, tzinfo=UTC))
    auth.login()
    for url in (f"/events/{event.id}", f"/events/{event.id}/edit"):
        page = client.get(url).get_data(as_text=True)
        assert "Public holiday in Serbia" in page and "Statehood Day" in page, url
    # The public sees no planning warnings.
    auth.logout()
    assert "Statehood Day" not in client.get(f"/events/{event.id}").get_data(as_text=True)


def test_month_view_marks_holidays(client):
    page = client.get("/events/calendar?month=2021-05").get_data(as_text=True)
    # 30 April (Good Friday, shown greyed before the month) and 1–4 May.
    assert page.count('class="holiday-name"') == 5
    assert "Easter Monday" in page
    plain = client.get("/events/calendar?month=2021-03").get_data(as_text=True)
    assert 'class="holiday-name"' not in plain


def test_dashboard_greys_holiday_months(client, auth):
    auth.login()
    page = client.get("/dashboard?from=2021-01-01&to=2021-03-31").get_data(as_text=True)
    assert "Public holidays" in page
    assert page.count('<td class="holiday"') == 2  # January and February; March has none
    assert "Orthodox Christmas" in page


def test_copy_opens_the_new_form_prefilled(client, auth, db, create_event, create_venue):
    hall = create_venue()
    original = create_event(
        title="Seminar: cyber security", venue=hall, description="Same text", attendance=40
    )
    auth.login()
    page = client.get(f"/events/{original.id}").get_data(as_text=True)
    assert f"/events/new?copy={original.id}" in page
    form = client.get(f"/events/new?copy={original.id}").get_data(as_text=True)
    assert 'value="Seminar: cyber security"' in form and "Same text" in form
    assert re.search(r"<input[^>]*name=\"starts_at\"[^>]*value=\"\"", form), form
    assert f'<option selected value="{hall.id}"' not in form
    data = event_form_data(db, title="Seminar: cyber security", starts_at="2020-04-10T18:00")
    db.rollback()
    data["ends_at"] = "2020-04-10T20:00"
    response = client.post("/events/new", data=data)
    assert response.status_code == 302
    db.rollback()
    titles = db.scalars(select(Event.title).order_by(Event.id)).all()
    assert titles == ["Seminar: cyber security", "Seminar: cyber security"]
    assert db.get(Event, original.id).venue_id == hall.id


def test_copy_of_a_missing_or_bad_id(client, auth):
    auth.login()
    assert client.get("/events/new?copy=999").status_code == 404
    response = client.get("/events/new?copy=abc")
    assert response.status_code == 400 and "copy" in response.get_data(as_text=True)
