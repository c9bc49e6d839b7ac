"""Editing the shared fields of a series: this date, this and following, or all; one
transaction, row versions checked on each, SEQUENCE and DTSTAMP moving only where
something changed."""

import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from campaign.db import get_session
from campaign.models import Event, Series, SeriesKind, Theme
from campaign.series import operations as series_ops
from tests.conftest import form_version


@pytest.fixture
def series_id(app):
    with app.app_context():
        session = get_session()
        theme = session.scalar(select(Theme).where(Theme.slug == "cyber-security"))
        shared = series_ops.SharedData(
            title="Okrugli sto", format="round_table", status="confirmed", themes=[theme]
        )
        stops = [
            series_ops.Stop(date(2021, 3, 2) + timedelta(weeks=i), time(18), time(20))
            for i in range(4)
        ]
        return series_ops.create_series(session, None, shared, stops, SeriesKind.recurrence).id


def _events(db, series_id):
    db.rollback()
    return db.scalars(
        select(Event).where(Event.series_id == series_id).order_by(Event.starts_at)
    ).all()


def _form(client, series_id, event_id):
    page = client.get(f"/series/{series_id}/events/{event_id}/edit").get_data(as_text=True)
    versions = re.search(r'name="versions"[^>]*value="([^"]*)"', page) or re.search(
        r'value="([^"]*)"[^>]*name="versions"', page
    )
    checked = re.findall(r'<input[^>]*name="themes"[^>]*>', page)
    cyber = [re.search(r'value="(\d+)"', tag).group(1) for tag in checked if "checked" in tag]
    return {
        "title": "Okrugli sto: novi naslov",
        "format": "round_table",
        "online_url": "",
        "description": "",
        "themes": cyber,
        "expected_audience": "",
        "versions": versions.group(1),
    }


@pytest.mark.parametrize(
    ("scope", "anchor", "changed"),
    [("this", 1, [1]), ("following", 1, [1, 2, 3]), ("all", 2, [0, 1, 2, 3])],
)
def test_edit_scopes(client, auth, db, series_id, scope, anchor, changed):
    before = _events(db, series_id)
    stamps = {e.id: (e.updated, e.sequence, e.version) for e in before}
    auth.login()
    data = _form(client, series_id, before[anchor].id)
    data["scope"] = scope
    response = client.post(f"/series/{series_id}/events/{before[anchor].id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    after = _events(db, series_id)
    for index, event in enumerate(after):
        updated, sequence, version = stamps[event.id]
        if index in changed:
            assert event.title == "Okrugli sto: novi naslov"
            assert event.updated > updated and event.version == version + 1
        else:
            assert event.title == "Okrugli sto"
            assert (event.updated, event.version) == (updated, version)
        # A new title is not a new time, place or status: SEQUENCE stays.
        assert event.sequence == sequence
    series = db.get(Series, series_id)
    assert series.title == ("Okrugli sto: novi naslov" if scope == "all" else "Okrugli sto")


def test_unchanged_events_do_not_move(client, auth, db, series_id):
    events = _events(db, series_id)
    auth.login()
    # Occurrence 0 already has the new title; "all" changes only the other three.
    page = client.get(f"/events/{events[0].id}/edit").get_data(as_text=True)
    from tests.conftest import event_form_data

    first = event_form_data(
        db,
        title="Okrugli sto: novi naslov",
        starts_at="2021-03-02T18:00",
        ends_at="2021-03-02T20:00",
        expected_audience="",
        description="",
        version=form_version(page),
    )
    assert client.post(f"/events/{events[0].id}/edit", data=first).status_code == 302
    stamped = _events(db, series_id)[0]
    data = _form(client, series_id, events[1].id)
    data["scope"] = "all"
    data["themes"] = first["themes"]
    assert (
        client.post(f"/series/{series_id}/events/{events[1].id}/edit", data=data).status_code == 302
    )
    again = _events(db, series_id)[0]
    assert (again.updated, again.version) == (stamped.updated, stamped.version)


def test_concurrent_edits_of_two_occurrences(client, auth, db, series_id, make_client):
    """Two organizers: one edits date 1 on its own form, the other date 2 with "this
    date": both saves stand. A series form opened before either save, for "all", is
    refused as a whole; nothing of it is saved."""
    events = _events(db, series_id)
    auth.login()
    stale_all = _form(client, series_id, events[0].id)
    mine = _form(client, series_id, events[1].id)
    mine.update(scope="this", title="Druga tema")
    theirs = _form(client, series_id, events[0].id)
    theirs.update(scope="this", title="Prva tema")
    assert (
        client.post(f"/series/{series_id}/events/{events[0].id}/edit", data=theirs).status_code
        == 302
    )
    assert (
        client.post(f"/series/{series_id}/events/{events[1].id}/edit", data=mine).status_code == 302
    )
    stale_all.update(scope="all", title="Svima isto")
    response = client.post(f"/series/{series_id}/events/{events[0].id}/edit", data=stale_all)
    assert response.status_code == 409
    assert [e.title for e in _events(db, series_id)] == [
        "Prva tema",
        "Druga tema",
        "Okrugli sto",
        "Okrugli sto",
    ]


def test_bad_scope_and_bad_fields_save_nothing(client, auth, db, series_id):
    events = _events(db, series_id)
    auth.login()
    for change in (
        {"scope": "everything"},
        {"scope": "all", "title": ""},
        {"scope": "all", "themes": []},
    ):
        data = _form(client, series_id, events[0].id)
        data.update(change)
        response = client.post(f"/series/{series_id}/events/{events[0].id}/edit", data=data)
        assert response.status_code == 400, change
        assert 'class="field-error"' in response.get_data(as_text=True)
    assert {e.title for e in _events(db, series_id)} == {"Okrugli sto"}


def test_an_event_of_another_series_is_404(client, auth, db, series_id, create_event):
    single = create_event()
    auth.login()
    assert client.get(f"/series/{series_id}/events/{single.id}/edit").status_code == 404


def test_feed_follows_a_renamed_series_even_on_unchanged_events(client, auth, db, series_id):
    """An occurrence whose own fields already match is not touched, but its VEVENT names
    the series in CATEGORIES: a cached copy must not keep the old name."""
    events = _events(db, series_id)
    auth.login()
    assert "Okrugli sto" in client.get(f"/series/{series_id}/calendar.ics").get_data(as_text=True)
    # Date 1 gets the new title on its own first (scope "this").
    data = _form(client, series_id, events[0].id)
    data.update(scope="this", title="Novi naziv")
    assert (
        client.post(f"/series/{series_id}/events/{events[0].id}/edit", data=data).status_code == 302
    )
    # Its VEVENT, at its new row version, is rendered (and cached) with the old series name.
    assert "Okrugli sto" in client.get(f"/series/{series_id}/calendar.ics").get_data(as_text=True)
    data = _form(client, series_id, events[1].id)
    data.update(scope="all", title="Novi naziv")
    assert (
        client.post(f"/series/{series_id}/events/{events[1].id}/edit", data=data).status_code == 302
    )
    feed = client.get(f"/series/{series_id}/calendar.ics").get_data(as_text=True)
    feed = feed.replace("\r\n ", "")
    assert feed.count("CATEGORIES:") == 4
    assert "Okrugli sto" not in feed
