"""What a demanding or hostile client found in the series pages (issue 14, attack round):
each test failed before its fix."""

import re
from datetime import date, timedelta

from sqlalchemy import select

from campaign.calendar.models import FeedState
from campaign.models import Event, Series
from tests.series.test_series import _counts, _recurrence, _tour
from tests.series.test_series_edit import _events, _form
from tests.series.test_series_edit import series_id as series_id  # noqa: F401 (fixture)
from tests.series.test_series_pages import make_series as make_series  # noqa: F401 (fixture)

# -- the tour builder ------------------------------------------------------------------


def test_a_tour_of_more_rows_than_allowed_is_refused_not_cut(client, auth, db):
    """Posting 100 rows used to make a series of the first 60 and drop the rest without a
    word (WTForms' FieldList stops reading at max_entries)."""
    auth.login()
    first = date(2027, 1, 4)
    rows = [((first + timedelta(days=i)).isoformat(), "10:00", "12:00", "") for i in range(100)]
    for action in ("preview", "create"):
        response = client.post("/series/new/tour", data=_tour(db, rows, action=action))
        text = response.get_data(as_text=True)
        assert response.status_code == 400, action
        assert "at most 60 dates" in text
    assert _counts(db) == (0, 0)


def test_a_tour_of_exactly_the_largest_size_is_made(client, auth, db):
    auth.login()
    first = date(2027, 1, 4)
    rows = [((first + timedelta(days=i)).isoformat(), "10:00", "12:00", "") for i in range(60)]
    response = client.post("/series/new/tour", data=_tour(db, rows, action="create"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _counts(db) == (1, 60)


# -- subscribers of the feed -----------------------------------------------------------


def test_renaming_a_series_alone_is_a_new_version_of_its_feed(client, auth, db, series_id):  # noqa: F811
    """Every date already has the new title (edited one by one), so "all" changes only the
    series' own name, which every VEVENT shows in CATEGORIES: the feed changes, so its
    ETag and its time of last change must move, or subscribers keep the old name (304)."""
    events = _events(db, series_id)
    auth.login()
    for event in events:
        data = _form(client, series_id, event.id)
        data.update(scope="this", title="Novi naziv")
        url = f"/series/{series_id}/events/{event.id}/edit"
        assert client.post(url, data=data).status_code == 302
    # The campaign's feed: its name does not change with the series' (the series feed's
    # does, and that alone moved its ETag).
    before = client.get("/calendar.ics")
    assert "Okrugli sto" in before.get_data(as_text=True).replace("\r\n ", "")
    db.rollback()
    changed_before = db.scalar(select(FeedState.changed_at))
    data = _form(client, series_id, events[0].id)
    data.update(scope="all", title="Novi naziv")
    assert client.post(f"/series/{series_id}/events/{events[0].id}/edit", data=data).status_code
    db.rollback()
    assert db.scalar(select(FeedState.changed_at)) > changed_before
    after = client.get("/calendar.ics", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert "Okrugli sto" not in after.get_data(as_text=True).replace("\r\n ", "")


# -- drafts and the public -------------------------------------------------------------


def test_a_series_of_drafts_does_not_show_its_name_to_the_public(client, auth, make_series):  # noqa: F811
    series_id = make_series(2, status="draft", title="Tajna serija")
    for query in ("?status=confirmed", "?status=cancelled", "?status=draft", "?theme=nope", ""):
        response = client.get(f"/series/{series_id}{query}")
        assert response.status_code == 404, query
        assert "Tajna" not in response.get_data(as_text=True), query
    for suffix in ("/calendar.ics", ".json", ".csv"):
        response = client.get(f"/series/{series_id}{suffix}")
        assert response.status_code == 404, suffix
        assert "Tajna" not in response.get_data(as_text=True), suffix
    # The series filter of the lists and feeds names the series in titles and feed names.
    for path in ("/events", "/calendar.ics", "/events.json"):
        response = client.get(f"{path}?series={series_id}")
        assert response.status_code == 400, path
        assert "Tajna" not in response.get_data(as_text=True), path
    auth.login()
    assert client.get(f"/series/{series_id}?status=draft").status_code == 200
    assert client.get(f"/series/{series_id}.json").status_code == 200
    assert "Tajna" in client.get(f"/events?series={series_id}").get_data(as_text=True)


def test_a_public_series_filtered_to_nothing_is_an_empty_page(client, db, make_series):  # noqa: F811
    """Anyone may filter a public series; a filter that matches none of its dates is an
    empty list, not "no such page"."""
    series_id = make_series(2, title="Javna serija")
    db.rollback()
    assert db.scalar(select(Event.id).where(Event.series_id == series_id)) is not None
    for query in ("?q=nothing-like-this", "?from=2030-01-01", "?status=cancelled"):
        response = client.get(f"/series/{series_id}{query}")
        assert response.status_code == 200, query
        assert "Javna serija" in response.get_data(as_text=True)


# -- messages where they belong --------------------------------------------------------


def test_a_rule_ending_before_it_starts_is_named_on_the_end_time(client, auth, db):
    """The message was shown on the first date, not on the field that is wrong."""
    auth.login()
    data = _recurrence(db, count="3", action="preview", start_time="20:00", end_time="18:00")
    response = client.post("/series/new/recurrence", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="end_time-error">The end must be after the start\.<', page), page
    assert 'id="first_day-error"' not in page
    assert _counts(db) == (0, 0)


def test_a_tour_stop_ending_when_it_starts_is_refused(client, auth, db):
    """An end before the start is the next morning, but the same time for both is a slip
    of the hand, not a 24-hour event."""
    auth.login()
    rows = [("2027-01-12", "18:00", "20:00", ""), ("2027-01-13", "10:00", "10:00", "")]
    response = client.post("/series/new/tour", data=_tour(db, rows, action="create"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="rows-1-end-error">The end must be after the start\.<', page), page
    assert _counts(db) == (0, 0)


def test_this_and_following_from_the_first_date_renames_the_series(client, auth, db, series_id):  # noqa: F811
    """From the first date, "this and the following" is every date: the series (its page,
    and the CATEGORIES of its dates in the feeds) must not keep the old name."""
    events = _events(db, series_id)
    auth.login()
    data = _form(client, series_id, events[0].id)
    data["scope"] = "following"
    url = f"/series/{series_id}/events/{events[0].id}/edit"
    assert client.post(url, data=data).status_code == 302
    db.rollback()
    assert db.get(Series, series_id).title == "Okrugli sto: novi naslov"
    feed = client.get(f"/series/{series_id}/calendar.ics").get_data(as_text=True)
    assert "Okrugli sto: novi naslov" in feed.replace("\r\n ", "")
    assert "CATEGORIES:Okrugli sto\r\n" not in feed


def test_a_monthly_rule_with_days_of_the_week_needs_which_one(client, auth, db):
    """Monthly on "the same day of the month" with Friday ticked used to ignore the Friday
    without a word (the 3rd of each month, whatever the day)."""
    auth.login()
    data = _recurrence(db, count="3", action="preview", frequency="monthly", weekdays=["4"])
    response = client.post("/series/new/recurrence", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    fieldset = page[page.index("checkboxes weekdays") :]
    fieldset = fieldset[: fieldset.index("</fieldset>")]
    assert "needs which one in the month" in fieldset, page
    assert _counts(db) == (0, 0)


def test_too_many_skipped_dates_are_refused(client, auth, db):
    """Thousands of skipped dates were each looked up in a list of thousands of dates: a
    request could keep a worker busy for seconds. A year of days is the limit."""
    auth.login()
    first = date(2027, 1, 4)
    skipped = " ".join((first + timedelta(days=i)).isoformat() for i in range(367))
    data = _recurrence(
        db,
        action="preview",
        first_day=first.isoformat(),
        weekdays=[str(d) for d in range(7)],
        until="2030-12-31",
        skipped=skipped,
    )
    response = client.post("/series/new/recurrence", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="skipped-error">Skip at most 366 dates\.<', page), page
    assert _counts(db) == (0, 0)


def test_a_skipped_date_beyond_too_many_dates_names_the_real_problem(client, auth, db):
    """A rule of hundreds of dates is expanded only as far as the limit: a skipped date
    further on is one of its dates, and the message is about the number of dates."""
    auth.login()
    data = _recurrence(
        db, action="preview", first_day="2027-01-04", until="2030-12-31", skipped="2029-01-01"
    )
    response = client.post("/series/new/recurrence", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "at most 60 dates" in page
    assert "is not one of the series" not in page
