"""PATCH /api/v1/events/<id> obeys the status contract of the write path: `draft` for a
published event and `cancelled` for an event that has ended are 422 problems naming
`status`, and nothing is written; keeping a cancelled past event cancelled while changing
other fields and reinstating a cancelled upcoming event are fine. The document says so."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaign.api import schemas
from tests.events.test_status_rules import OVER, PAST, SOON, TO_DRAFT


def send(client, method, url, token, json=None, **headers):
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.http.open(url, method=method, json=json, headers=headers)


def read(client, token, event_id):
    return send(client, "GET", f"/api/v1/events/{event_id}", token)


def patch(client, token, event_id, body):
    etag = read(client, token, event_id).headers["ETag"]
    return send(client, "PATCH", f"/api/v1/events/{event_id}", token, body, **{"If-Match": etag})


def _refused(client, token, event_id, body, message):
    before = read(client, token, event_id)
    response = patch(client, token, event_id, body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["parameter"] == "status"
    assert problem["errors"] == {"status": message}
    assert schemas.ProblemSchema().validate(problem) == {}
    after = read(client, token, event_id)
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.get_json() == before.get_json()


@pytest.mark.parametrize(
    "kind", ["confirmed upcoming", "confirmed past", "cancelled upcoming", "cancelled past"]
)
def test_patch_draft_on_a_published_event_is_422(
    client, write_token, create_event, cancel_back_then, kind
):
    event = create_event(starts_at=SOON if kind.endswith("upcoming") else PAST)
    if kind.startswith("cancelled"):
        cancel_back_then(event)
    _refused(client, write_token, event.id, {"status": "draft", "title": "Nacrt"}, TO_DRAFT)
    # Still not deletable: DELETE stays 409.
    etag = read(client, write_token, event.id).headers["ETag"]
    response = send(
        client, "DELETE", f"/api/v1/events/{event.id}", write_token, **{"If-Match": etag}
    )
    assert response.status_code == 409


@pytest.mark.parametrize("status", ["confirmed", "draft"])
def test_patch_cancelled_on_a_past_event_is_422(client, write_token, create_event, status):
    event = create_event(starts_at=PAST, status=status)
    _refused(client, write_token, event.id, {"status": "cancelled"}, OVER)


def test_patch_moving_into_the_past_and_cancelling_is_422(client, write_token, create_event):
    event = create_event(starts_at=SOON)
    body = {
        "status": "cancelled",
        "start": PAST.isoformat(),
        "end": (PAST + timedelta(hours=2)).isoformat(),
    }
    _refused(client, write_token, event.id, body, OVER)


def test_a_cancelled_past_event_takes_other_changes(
    client, write_token, create_event, cancel_back_then
):
    event = create_event(starts_at=PAST)
    cancel_back_then(event)
    response = patch(
        client, write_token, event.id, {"attendance": 0, "description": "Otkazano zbog poplava."}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "cancelled"
    # Saying `cancelled` again is keeping it, not cancelling it.
    again = patch(client, write_token, event.id, {"status": "cancelled", "title": "Otkazano"})
    assert again.status_code == 200, again.get_data(as_text=True)


def test_a_cancelled_upcoming_event_is_reinstated(
    client, write_token, create_event, cancel_back_then
):
    event = create_event(starts_at=SOON)
    cancel_back_then(event)
    response = patch(client, write_token, event.id, {"status": "confirmed"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "confirmed"


def test_the_document_describes_the_status_rule(client):
    document = client.get("/api/openapi.json").get_json()
    change = document["components"]["schemas"]["EventChange"]["properties"]["status"]
    assert "never becomes a `draft`" in change["description"]
    assert "cannot become `cancelled`" in change["description"]
    patch_422 = document["paths"]["/api/v1/events/{event_id}"]["patch"]["responses"]["422"]
    assert "`status`" in patch_422["description"]
    page = client.get("/api/docs").get_data(as_text=True)
    assert "never becomes a <code>draft</code>" in page or "never becomes a `draft`" in page
