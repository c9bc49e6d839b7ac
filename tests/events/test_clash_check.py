"""Clashes are caught before anything is saved or published; /clashes lists the open ones
(issue 16). The rule itself is events.clashes (tests/events/test_clashes.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from campaign.db import get_session
from campaign.models import Event, Theme
from tests.conftest import event_form_data, form_version

SOON = (datetime.now(UTC) + timedelta(days=20)).replace(hour=16, minute=0, second=0, microsecond=0)


def _form(app, venue, **overrides):
    with app.app_context():
        session = get_session()
        theme_id = session.scalar(select(Theme.id).where(Theme.slug == "kfor"))
        base = {
            "title": "Druga sesija",
            "themes": [str(theme_id)],
            "starts_at": SOON.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (SOON + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "timezone": "UTC",
        }
        return event_form_data(session, venue=str(venue.id) if venue else "", **(base | overrides))


def _count(app):
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(Event))


def test_a_clash_is_shown_before_saving_and_nothing_is_saved(
    app, client, auth, create_event, create_venue
):
    auth.login()
    hall = create_venue(name="Sala", city="Kragujevac")
    first = create_event(title="Prva sesija", venue=hall, starts_at=SOON)
    before = _count(app)
    response = client.post("/events/new", _form(app, hall))
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Clash check: not saved yet" in page
    assert f'<a href="/events/{first.id}">Prva sesija</a>' in page
    assert "same venue (Sala, Kragujevac)" in page
    assert 'name="clashes" value="accept"' in page and 'name="clashes" value="draft"' in page
    # The organizer's input is kept for the second try.
    assert 'value="Druga sesija"' in page
    assert _count(app) == before
    # "Save anyway" saves it as it was.
    response = client.post("/events/new", _form(app, hall, clashes="accept"))
    assert response.status_code == 302
    assert _count(app) == before + 1
    with app.app_context():
        saved = get_session().scalar(select(Event).where(Event.title == "Druga sesija"))
        assert saved.status == "confirmed"


def test_keep_it_a_draft_saves_a_draft(app, client, auth, create_event, create_venue):
    auth.login()
    hall = create_venue()
    create_event(venue=hall, starts_at=SOON)
    response = client.post("/events/new", _form(app, hall, clashes="draft"))
    assert response.status_code == 302
    with app.app_context():
        saved = get_session().scalar(select(Event).where(Event.title == "Druga sesija"))
        assert saved.status == "draft"


def test_publishing_a_clashing_draft_asks_first(app, client, auth, create_event, create_venue):
    auth.login()
    hall = create_venue()
    create_event(title="Prva sesija", venue=hall, starts_at=SOON)
    draft = create_event(title="Druga sesija", venue=hall, starts_at=SOON, status="draft")
    edit = client.get(f"/events/{draft.id}/edit").get_data(as_text=True)
    data = _form(app, hall, version=form_version(edit))
    response = client.post(f"/events/{draft.id}/edit", data)
    assert response.status_code == 409
    with app.app_context():
        assert get_session().get(Event, draft.id).status == "draft"
    response = client.post(f"/events/{draft.id}/edit", data | {"clashes": "accept"})
    assert response.status_code == 302
    with app.app_context():
        assert get_session().get(Event, draft.id).status == "confirmed"


def test_an_edit_that_keeps_a_known_clash_does_not_ask_again(
    app, client, auth, create_event, create_venue
):
    auth.login()
    hall = create_venue()
    create_event(title="Prva sesija", venue=hall, starts_at=SOON)
    second = create_event(title="Druga sesija", venue=hall, starts_at=SOON)
    edit = client.get(f"/events/{second.id}/edit").get_data(as_text=True)
    response = client.post(
        f"/events/{second.id}/edit",
        _form(app, hall, description="Nov opis.", version=form_version(edit)),
    )
    assert response.status_code == 302


def test_moving_into_a_clash_asks(app, client, auth, create_event, create_venue):
    auth.login()
    hall = create_venue()
    create_event(title="Prva sesija", venue=hall, starts_at=SOON)
    later = create_event(title="Druga sesija", venue=hall, starts_at=SOON + timedelta(days=1))
    edit = client.get(f"/events/{later.id}/edit").get_data(as_text=True)
    response = client.post(f"/events/{later.id}/edit", _form(app, hall, version=form_version(edit)))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    # A published event cannot go back to draft: only "Save anyway" is offered.
    assert 'name="clashes" value="accept"' in page and 'name="clashes" value="draft"' not in page
    with app.app_context():
        stored = get_session().get(Event, later.id).starts_at
        assert stored.replace(tzinfo=UTC) == SOON + timedelta(days=1), stored


def test_clashes_page_lists_each_open_clash_once(
    client, auth, create_event, create_venue, create_partner
):
    hall = create_venue(name="Sala", city="Kragujevac")
    rts = create_partner(slug="rts", name="RTS")
    a = create_event(title="Alfa", venue=hall, starts_at=SOON)
    b = create_event(title="Beta", venue=hall, starts_at=SOON + timedelta(hours=1))
    c = create_event(title="Gama", partners=[(rts, "host")], starts_at=SOON + timedelta(days=2))
    d = create_event(
        title="Delta", partners=[(rts, "speakers")], starts_at=SOON + timedelta(days=2)
    )
    create_event(title="Past one", venue=hall, starts_at=datetime(2020, 3, 1, 17, tzinfo=UTC))
    create_event(title="Past two", venue=hall, starts_at=datetime(2020, 3, 1, 17, tzinfo=UTC))
    create_event(title="Called off", venue=hall, starts_at=SOON, status="cancelled")
    assert client.get("/clashes").status_code == 302  # organizers only
    auth.login()
    page = client.get("/clashes").get_data(as_text=True)
    assert "2 open clashes" in page
    for event in (a, b, c, d):
        assert f'href="/events/{event.id}/edit"' in page
    assert page.index("Alfa") < page.index("Beta") < page.index("Gama")
    assert "same venue (Sala, Kragujevac)" in page and "same partner: RTS" in page
    assert "Past one" not in page and "Called off" not in page
    assert 'href="/clashes"' in page  # in the menu


def test_clashes_page_without_clashes(client, auth, create_event):
    create_event(starts_at=SOON)
    auth.login()
    assert "No open clashes" in client.get("/clashes").get_data(as_text=True)


def test_an_organizers_two_events_at_once_clash(app, client, auth, organizer, create_event):
    auth.login()
    create_event(
        title="Online panel",
        online_url="https://meet.example.org/a",
        owner=organizer,
        starts_at=SOON,
    )
    create_event(title="Someone else's", online_url="https://meet.example.org/b", starts_at=SOON)
    response = client.post("/events/new", _form(app, None, online_url="https://meet.example.org/c"))
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Online panel" in page and "same organizer: " in page
    assert "Someone else" not in page
