"""Status changes obey the contract in the one write path (``change_event``), whatever calls
it: a published event (confirmed or cancelled) never becomes a draft again (a draft can be
deleted, so a published event would vanish from subscribed calendars without a
CANCELLED), and an event that is over is not cancelled (it took place). Reinstating a
cancelled upcoming event is fine, and so is editing a cancelled past event that stays
cancelled. The edit form offers only the allowed statuses; a value sent anyway gets the
rule's message on the status field and nothing is written."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from campaign.core.errors import NotAllowed, ValidationError
from campaign.db import get_session
from campaign.events import operations as ops
from campaign.events.filters import event_list_loading
from campaign.models import Event, EventChange
from tests.conftest import event_form_data, form_version, summary_links

SOON = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
PAST = datetime(2020, 3, 10, 17, tzinfo=UTC)
TO_DRAFT = (
    "A published event cannot become a draft again; cancel it so that subscribed calendars "
    "learn of it."
)
OVER = "This event is over; an event that took place cannot be cancelled."


def _load(session, event_id):
    return session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .options(*event_list_loading())
        .execution_options(populate_existing=True)
    )


def _state(app, event_id):
    """What a refused write must leave as it was."""
    with app.app_context():
        session = get_session()
        event = session.get(Event, event_id)
        changes = session.scalar(
            select(func.count()).select_from(EventChange).where(EventChange.event_id == event_id)
        )
        return (event.status, event.version, event.sequence, event.updated, changes)


def _change(app, event_id, now=None, **fields):
    with app.app_context():
        session = get_session()
        event = _load(session, event_id)
        data = ops.event_data(event)
        for name, value in fields.items():
            setattr(data, name, value)
        return ops.update_event(session, None, event, data, event.version, now=now)


@pytest.fixture
def published(create_event, cancel_back_then):
    """The four kinds of published event by name."""

    def make(kind):
        start = SOON if kind.endswith("upcoming") else PAST
        event = create_event(title=f"Panel ({kind})", starts_at=start)
        if kind.startswith("cancelled"):
            event = cancel_back_then(event)
        return event

    return make


PUBLISHED = ["confirmed upcoming", "confirmed past", "cancelled upcoming", "cancelled past"]


@pytest.mark.parametrize("kind", PUBLISHED)
def test_a_published_event_never_becomes_a_draft(app, published, kind):
    event = published(kind)
    before = _state(app, event.id)
    with pytest.raises(ValidationError) as refused:
        _change(app, event.id, status="draft")
    assert refused.value.errors == {"status": TO_DRAFT}
    assert _state(app, event.id) == before
    # So it can still not be deleted: subscribers keep it, cancelled or not.
    with app.app_context(), pytest.raises(NotAllowed):
        session = get_session()
        stored = _load(session, event.id)
        ops.delete_event(session, None, stored, stored.version)


@pytest.mark.parametrize("status", ["confirmed", "draft"])
def test_an_event_that_is_over_is_not_cancelled_by_an_edit(app, create_event, status):
    event = create_event(starts_at=PAST, status=status)
    before = _state(app, event.id)
    with pytest.raises(ValidationError) as refused:
        _change(app, event.id, status="cancelled", description="Otkazano.")
    assert refused.value.errors == {"status": OVER}
    assert _state(app, event.id) == before


def test_moving_an_event_into_the_past_and_cancelling_it_at_once_is_refused(app, create_event):
    event = create_event(starts_at=SOON)
    before = _state(app, event.id)
    with pytest.raises(ValidationError) as refused:
        _change(
            app, event.id, status="cancelled", starts_at=PAST, ends_at=PAST + timedelta(hours=2)
        )
    assert refused.value.errors == {"status": OVER}
    assert _state(app, event.id) == before


def test_the_clock_decides_when_an_event_is_over(app, create_event):
    event = create_event(starts_at=SOON)
    after_it = SOON + timedelta(days=1)
    with pytest.raises(ValidationError):
        _change(app, event.id, now=after_it, status="cancelled")
    assert _change(app, event.id, now=SOON - timedelta(days=1), status="cancelled")


def test_what_stays_allowed(app, create_event, published):
    # A cancelled past event stays cancelled while its other fields are edited.
    past = published("cancelled past")
    assert _change(app, past.id, attendance=0, description="Otkazano zbog poplava.")
    # A cancelled upcoming event is reinstated, and cancelled again by an edit.
    upcoming = published("cancelled upcoming")
    assert _change(app, upcoming.id, status="confirmed")
    assert _change(app, upcoming.id, status="cancelled")
    # A draft is published, or given up, or stays a draft while it is moved into the past.
    draft = create_event(starts_at=SOON, status="draft")
    assert _change(app, draft.id, starts_at=PAST, ends_at=PAST + timedelta(hours=2))
    assert _change(app, draft.id, status="confirmed")
    other = create_event(starts_at=SOON, status="draft", title="Seminar")
    assert _change(app, other.id, status="cancelled")
    with app.app_context():
        session = get_session()
        assert session.get(Event, past.id).status == "cancelled"
        assert session.get(Event, past.id).attendance == 0
        assert session.get(Event, upcoming.id).status == "cancelled"
        assert session.get(Event, draft.id).status == "confirmed"


def test_cancel_button_and_edit_share_the_rule(app, create_event):
    event = create_event(starts_at=PAST)
    with app.app_context(), pytest.raises(NotAllowed, match=re.escape(OVER)):
        session = get_session()
        stored = _load(session, event.id)
        ops.cancel_event(session, None, stored, stored.version)


# -- the edit form -----------------------------------------------------------------------


def _options(page: str) -> list[str]:
    select_tag = re.search(r'<select[^>]*name="status".*?</select>', page, re.S).group(0)
    return re.findall(r'<option[^>]*value="([^"]+)"', select_tag)


@pytest.mark.parametrize(
    ("kind", "offered"),
    [
        ("confirmed upcoming", ["confirmed", "cancelled"]),
        ("confirmed past", ["confirmed"]),
        ("cancelled upcoming", ["confirmed", "cancelled"]),
        ("cancelled past", ["confirmed", "cancelled"]),
    ],
)
def test_the_form_offers_only_allowed_statuses(client, auth, published, kind, offered):
    event = published(kind)
    auth.login()
    page = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert _options(page) == offered
    assert "Drafts are seen by organizers only." not in page


@pytest.mark.parametrize(
    ("start", "offered"),
    [(SOON, ["draft", "confirmed", "cancelled"]), (PAST, ["draft", "confirmed"])],
)
def test_a_draft_is_offered_every_allowed_status(client, auth, create_event, start, offered):
    event = create_event(starts_at=start, status="draft")
    auth.login()
    page = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert _options(page) == offered
    # A new event may start as anything.
    assert _options(client.get("/events/new").get_data(as_text=True)) == [
        "draft",
        "confirmed",
        "cancelled",
    ]


def _post(app, client, event, **fields):
    page = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    start = event.starts_at
    with app.app_context():
        data = event_form_data(
            get_session(),
            title=event.title,
            starts_at=start.strftime("%Y-%m-%dT%H:%M"),
            ends_at=(start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            timezone="UTC",
            version=form_version(page),
            **fields,
        )
    return client.post(f"/events/{event.id}/edit", data)


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("confirmed upcoming", "draft", TO_DRAFT),
        ("cancelled upcoming", "draft", TO_DRAFT),
        ("cancelled past", "draft", TO_DRAFT),
        ("confirmed past", "cancelled", OVER),
    ],
)
def test_a_status_sent_anyway_is_refused_on_the_status_field(
    app, client, auth, published, kind, status, message
):
    event = published(kind)
    before = _state(app, event.id)
    auth.login()
    response = _post(app, client, event, status=status, description="Nov opis.")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert summary_links(page) == {"status": f"Status: {message}"}
    fields = [html.unescape(m) for m in re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', page)]
    assert message in fields
    assert _state(app, event.id) == before
    # The list shown again still offers only what is allowed.
    assert "draft" not in _options(page)


def test_a_cancelled_past_event_is_edited_and_stays_cancelled(app, client, auth, published):
    event = published("cancelled past")
    auth.login()
    response = _post(app, client, event, status="cancelled", attendance="0", description="Nov.")
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        stored = get_session().get(Event, event.id)
        assert (stored.status, stored.attendance, stored.description) == ("cancelled", 0, "Nov.")


def test_a_cancelled_upcoming_event_is_reinstated_in_the_form(app, client, auth, published):
    event = published("cancelled upcoming")
    auth.login()
    assert _post(app, client, event, status="confirmed").status_code == 302
    with app.app_context():
        assert get_session().get(Event, event.id).status == "confirmed"
