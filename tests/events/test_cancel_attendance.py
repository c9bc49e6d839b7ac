"""Cancelling asks first and may give a reason; past events cannot be cancelled; the
"Awaiting attendance" panel records attendance in place; public pages hide the planning
numbers (issue 16)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from campaign.core.errors import NotAllowed
from campaign.db import get_session
from campaign.events import operations as ops
from campaign.events.filters import event_list_loading
from campaign.models import Event
from tests.conftest import event_form_data, form_version

SOON = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
PAST = datetime(2020, 3, 10, 17, tzinfo=UTC)


def _event(app, event_id):
    with app.app_context():
        return get_session().get(Event, event_id)


def test_cancelling_asks_for_confirmation_and_a_reason(client, auth, create_event):
    event = create_event(title="Panel u Nišu", starts_at=SOON)
    auth.login()
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    # The button opens a confirmation with the reason; only its own button cancels.
    assert '<details class="confirm-cancel">' in page
    assert '<label for="cancel-reason">Reason (optional, shown publicly)</label>' in page
    assert "Yes, cancel this event" in page


def test_the_reason_is_stored_and_shown_on_the_page_and_in_the_feed(
    app, client, auth, create_event
):
    event = create_event(title="Panel u Nišu", starts_at=SOON)
    auth.login()
    response = client.post(
        f"/events/{event.id}/cancel",
        {"version": str(event.version), "reason": "Predavač je bolestan; novi termin uskoro."},
    )
    assert response.status_code == 302
    stored = _event(app, event.id)
    assert stored.status == "cancelled"
    assert stored.cancel_reason == "Predavač je bolestan; novi termin uskoro."
    auth.logout()
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Reason: Predavač je bolestan; novi termin uskoro." in page
    feed = client.get("/calendar.ics").get_data(as_text=True).replace("\r\n ", "")
    assert "STATUS:CANCELLED" in feed
    assert "Reason: Predavač je bolestan\\; novi termin uskoro." in feed
    # Editing the cancelled event (here its description) keeps its reason.
    auth.login()
    edit = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    with app.app_context():
        data = event_form_data(
            get_session(),
            title="Panel u Nišu",
            status="cancelled",
            starts_at=SOON.strftime("%Y-%m-%dT%H:%M"),
            ends_at=(SOON + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            timezone="UTC",
            description="Nov opis.",
            version=form_version(edit),
        )
    assert client.post(f"/events/{event.id}/edit", data).status_code == 302
    stored = _event(app, event.id)
    assert stored.description == "Nov opis."
    assert stored.cancel_reason == "Predavač je bolestan; novi termin uskoro."


def test_cancelling_without_a_reason_is_fine(app, client, auth, create_event):
    event = create_event(starts_at=SOON)
    auth.login()
    response = client.post(f"/events/{event.id}/cancel", {"version": str(event.version)})
    assert response.status_code == 302
    assert _event(app, event.id).status == "cancelled"
    feed = client.get("/calendar.ics").get_data(as_text=True)
    assert "Reason:" not in feed


def test_a_too_long_reason_is_refused_with_nothing_changed(app, client, auth, create_event):
    event = create_event(starts_at=SOON)
    auth.login()
    response = client.post(
        f"/events/{event.id}/cancel", {"version": str(event.version), "reason": "x" * 501}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "at most 500 characters" in page
    assert _event(app, event.id).status == "confirmed"


def test_past_events_cannot_be_cancelled(app, client, auth, create_event, db):
    event = create_event(starts_at=PAST)
    auth.login()
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Cancel event" not in page
    response = client.post(f"/events/{event.id}/cancel", {"version": str(event.version)})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "cannot be cancelled" in page
    assert _event(app, event.id).status == "confirmed"
    # The operations layer refuses it whatever the interface.
    stored = db.scalars(
        select(Event).where(Event.id == event.id).options(*event_list_loading())
    ).one()
    with pytest.raises(NotAllowed):
        ops.cancel_event(db, None, stored, stored.version)


def test_public_pages_hide_audience_and_attendance(client, auth, create_event):
    event = create_event(starts_at=PAST, expected_audience=120, attendance=97)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Expected audience" not in page and "Attendance" not in page
    assert "120" not in page and "97" not in page
    auth.login()
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Expected audience" in page and "120" in page and "97" in page


def test_awaiting_attendance_lists_past_confirmed_events_without_it(client, auth, create_event):
    missing = create_event(title="Bez broja", starts_at=PAST)
    create_event(title="S brojem", starts_at=PAST, attendance=40)
    create_event(title="Otkazan", starts_at=PAST, status="cancelled")
    create_event(title="Predstoji", starts_at=SOON)
    assert "Awaiting attendance" not in client.get("/").get_data(as_text=True)
    auth.login()
    page = client.get("/").get_data(as_text=True)
    panel = page.split('id="awaiting-attendance"')[1].split("</section>")[0]
    assert "Bez broja" in panel
    for other in ("S brojem", "Otkazan", "Predstoji"):
        assert other not in panel
    assert f'action="/events/{missing.id}/attendance"' in panel
    assert f'<label for="attendance-{missing.id}">' in panel


def test_attendance_is_recorded_in_place_with_the_row_version(app, client, auth, create_event):
    event = create_event(title="Bez broja", starts_at=PAST)
    auth.login()
    response = client.post(
        f"/events/{event.id}/attendance", {"version": str(event.version), "attendance": "85"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/#awaiting-attendance")
    stored = _event(app, event.id)
    assert stored.attendance == 85
    assert stored.version == event.version + 1
    page = client.get("/").get_data(as_text=True)
    assert "Attendance of “Bez broja” saved: 85." in page
    assert 'id="awaiting-attendance"' not in page
    # The history says who recorded it.
    history = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "<strong>Attendance recorded</strong>" in history


@pytest.mark.parametrize("value", ["many", "-3", "", "99999999999"])
def test_bad_attendance_is_refused_and_nothing_changes(app, client, auth, create_event, value):
    event = create_event(starts_at=PAST)
    auth.login()
    response = client.post(
        f"/events/{event.id}/attendance", {"version": str(event.version), "attendance": value}
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "was not saved" in page
    assert _event(app, event.id).attendance is None


def test_a_stale_attendance_form_is_refused(app, client, auth, create_event, db):
    event = create_event(starts_at=PAST)
    auth.login()
    stored = db.scalars(
        select(Event).where(Event.id == event.id).options(*event_list_loading())
    ).one()
    ops.record_attendance(db, None, stored, 10, stored.version)  # someone else, first
    response = client.post(
        f"/events/{event.id}/attendance", {"version": str(event.version), "attendance": "85"}
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Someone else saved this event" in page
    assert _event(app, event.id).attendance == 10
