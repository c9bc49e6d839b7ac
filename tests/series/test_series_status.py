"""The series editor changes the shared fields through the events' one write path
(``change_event``) and leaves each date's status its own: an edit of "this and following"
or "all" over dates cancelled back when they were upcoming (now past) and dates still to
come goes through with every status kept, and a status sent to the editor anyway changes
nothing (a published date never becomes a draft there either)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from campaign.db import get_session
from campaign.models import Event, Series, SeriesKind, Theme
from campaign.series import operations as series_ops
from tests.series.test_series_edit import _events
from tests.series.test_series_edit import _form as _edit_form

TODAY = datetime.now(UTC).date()


@pytest.fixture
def series_id(app):
    """Four weekly dates: two long past, two still to come."""
    with app.app_context():
        session = get_session()
        theme = session.scalar(select(Theme).where(Theme.slug == "cyber-security"))
        shared = series_ops.SharedData(
            title="Okrugli sto", format="round_table", status="confirmed", themes=[theme]
        )
        days = [date(2021, 3, 2), date(2021, 3, 9)] + [
            TODAY + timedelta(weeks=2 + i) for i in range(2)
        ]
        stops = [series_ops.Stop(day, time(18), time(20)) for day in days]
        return series_ops.create_series(session, None, shared, stops, SeriesKind.recurrence).id


def _form(client, series_id, event_id):
    page = client.get(f"/series/{series_id}/events/{event_id}/edit").get_data(as_text=True)
    assert 'name="status"' not in page  # each date's own, changed on its event form
    return {**_edit_form(client, series_id, event_id), "description": "Opis za sve datume."}


@pytest.mark.parametrize(("scope", "anchor"), [("following", 1), ("all", 0)])
def test_shared_edits_keep_cancelled_dates_cancelled(
    client, auth, db, series_id, cancel_back_then, scope, anchor
):
    events = _events(db, series_id)
    cancel_back_then(events[1])  # past now, cancelled while it was to come
    cancel_back_then(events[3])  # still to come
    statuses = {e.id: e.status for e in _events(db, series_id)}
    assert list(statuses.values()) == ["confirmed", "cancelled", "confirmed", "cancelled"]
    auth.login()
    data = _form(client, series_id, events[anchor].id)
    data["scope"] = scope
    data["status"] = "draft"  # not a field of the editor: ignored
    response = client.post(f"/series/{series_id}/events/{events[anchor].id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    after = _events(db, series_id)
    assert {e.id: e.status for e in after} == statuses
    changed = after[anchor:] if scope == "following" else after
    assert all(e.title == "Okrugli sto: novi naslov" for e in changed)
    assert all(e.description == "Opis za sve datume." for e in changed)


def test_update_shared_never_changes_a_status(app, db, series_id, cancel_back_then):
    events = _events(db, series_id)
    cancel_back_then(events[0])
    with app.app_context():
        session = get_session()
        series = session.get(Series, series_id)
        anchor = session.get(Event, events[0].id)
        theme = session.scalar(select(Theme).where(Theme.slug == "eadrcc"))
        shared = series_ops.SharedData(
            title="Novi naslov", format="seminar", status="draft", themes=[theme]
        )
        versions = {e.id: e.version for e in _events(db, series_id)}
        changed = series_ops.update_shared(session, None, series, anchor, "all", shared, versions)
    assert len(changed) == 4
    assert [e.status for e in _events(db, series_id)] == [
        "cancelled",
        "confirmed",
        "confirmed",
        "confirmed",
    ]
