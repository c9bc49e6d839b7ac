"""The event form's partner picker without JavaScript (issue 16): one group of role boxes
per partner, so one partner can hold several roles; the chosen partners first; a filter box
that filters on the server and keeps everything typed; exports, feeds and the API show
every role. The browser side (chips, search as you type) is in tests/app/test_browser.py."""

from __future__ import annotations

import re

import icalendar
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from campaign.models import Event, EventPartner
from tests.conftest import event_form_data, form_version


def count_events(db) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(Event))


def group(page: str, partner) -> str | None:
    """The picker's group of role boxes for ``partner``, or None when it is not shown."""
    found = re.search(
        rf'<fieldset class="partner[^"]*"[^>]*data-id="{partner.id}".*?</fieldset>', page, re.S
    )
    return found.group(0) if found else None


def checked_roles(page: str, partner) -> list[str]:
    box = group(page, partner) or ""
    return re.findall(r'name="partners_(\w+)" value="\d+" id="[^"]+" data-role="\w+" checked', box)


def test_one_partner_holds_several_roles_everywhere(client, auth, db, create_partner):
    fund = create_partner(name="Fond za otvoreno društvo", slug="fond")
    auth.login()
    data = event_form_data(db, partners_host=[str(fund.id)], partners_speakers=[str(fund.id)])
    response = client.post("/events/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.rollback()
    event = db.scalar(select(Event).options(selectinload(Event.partner_links)))
    assert sorted(lk.role for lk in event.partner_links) == ["host", "speakers"]

    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Fond za otvoreno društvo</a> — Host" in page
    assert "Fond za otvoreno društvo</a> — Speakers" in page
    exported = client.get("/events.json").get_json()["events"][0]["partners"]
    assert exported == [
        {"slug": "fond", "name": "Fond za otvoreno društvo", "role": "host"},
        {"slug": "fond", "name": "Fond za otvoreno društvo", "role": "speakers"},
    ]
    api = client.get(f"/api/v1/events/{event.id}").get_json()
    assert sorted(p["role"] for p in api["partners"]) == ["host", "speakers"]
    feed = icalendar.Calendar.from_ical(client.get("/calendar.ics").data)
    description = str(next(iter(feed.walk("VEVENT")))["DESCRIPTION"])
    assert "Fond za otvoreno društvo (Host)" in description
    assert "Fond za otvoreno društvo (Speakers)" in description

    # The edit form shows both roles ticked, the partner first among the groups.
    edit = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert checked_roles(edit, fund) == ["host", "speakers"]
    # Removing one role keeps the other.
    data = event_form_data(
        db, partners_speakers=[str(fund.id)], version=form_version(edit), title=event.title
    )
    assert client.post(f"/events/{event.id}/edit", data).status_code == 302
    db.rollback()
    roles = db.scalars(select(EventPartner.role).where(EventPartner.event_id == event.id)).all()
    assert roles == ["speakers"]


def test_edit_form_lists_the_chosen_partners_first_and_as_chips(
    client, auth, db, create_partner, create_event
):
    others = [create_partner(name=f"Akademija {n}", slug=f"akademija-{n}") for n in range(3)]
    chosen = create_partner(name="Žene u bezbednosti", slug="zene")
    event = create_event(partners=[(chosen, "media_partner")])
    auth.login()
    page = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert checked_roles(page, chosen) == ["media_partner"]
    # No scrolling out of view: the chosen partner comes before every other one.
    assert page.index(group(page, chosen)) < min(page.index(group(page, p)) for p in others)
    chips = re.search(r'<ul class="chips".*?</ul>', page, re.S).group(0)
    assert "Žene u bezbednosti — Media partner" in chips
    # Every box has its label, every partner its group and legend (screen readers).
    box = group(page, chosen)
    assert "<legend>Žene u bezbednosti <small>Beograd</small></legend>" in box
    assert re.search(r"<label><input [^>]*> Media partner</label>", box)


def test_filter_box_works_without_javascript_and_saves_nothing(client, auth, db, create_partner):
    host = create_partner(name="Beogradski centar", slug="bc", city="Beograd")
    novi_sad = create_partner(name="Univerzitet u Novom Sadu", slug="uns", city="Novi Sad")
    nis = create_partner(name="Forum Niš", slug="forum", city="Niš")
    auth.login()
    data = event_form_data(db, title="Tribina", partners_host=[str(host.id)])
    # The "Filter partners" button; Cyrillic, other case and no diacritics all match.
    response = client.post("/events/new", {**data, "partner_q": "НОВИ сад", "partner_filter": "1"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert count_events(db) == 0
    assert group(page, novi_sad) is not None
    assert group(page, nis) is None  # filtered out
    assert checked_roles(page, host) == ["host"]  # chosen: shown whatever the filter
    assert 'value="Tribina"' in page  # what was typed is kept
    assert 'name="partner_q" value="НОВИ сад"' in page
    assert "Shown: 2 of 3 partners." in page
    assert 'class="field-error"' not in page  # filtering is not a failed save

    response = client.post("/events/new", {**data, "partner_q": "nis", "partner_filter": "1"})
    page = response.get_data(as_text=True)
    assert group(page, nis) is not None and group(page, novi_sad) is None

    response = client.post("/events/new", {**data, "partner_q": "xyz", "partner_filter": "1"})
    assert "No partner matches “xyz”." in response.get_data(as_text=True)


def test_enter_after_typing_in_the_filter_box_filters_otherwise_saves(
    client, auth, db, create_partner
):
    create_partner(name="Univerzitet u Novom Sadu", slug="uns", city="Novi Sad")
    auth.login()
    data = event_form_data(db, submitted_by="enter")
    # Enter just after typing a new filter: the list is filtered, nothing is saved.
    response = client.post("/events/new", {**data, "partner_q": "novi", "partner_q_shown": ""})
    assert response.status_code == 200
    assert count_events(db) == 0
    # Enter with the filter as shown: the event is saved, as with the Save button.
    response = client.post("/events/new", {**data, "partner_q": "novi", "partner_q_shown": "novi"})
    assert response.status_code == 302
    assert count_events(db) == 1


def test_filter_keeps_the_edit_form_unsaved(client, auth, db, create_partner, create_event):
    event = create_event()
    partner = create_partner(name="Udruženje novinara", slug="un")
    auth.login()
    edit = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    data = event_form_data(
        db,
        title="Changed but not saved",
        version=form_version(edit),
        partners_speakers=[str(partner.id)],
        partner_q="udruz",
        partner_filter="1",
    )
    response = client.post(f"/events/{event.id}/edit", data)
    assert response.status_code == 200
    assert 'value="Changed but not saved"' in response.get_data(as_text=True)
    db.rollback()
    same = db.get(Event, event.id)
    assert (same.title, same.version) == (event.title, event.version)


def test_series_builders_share_the_picker(client, auth, db, create_partner):
    partner = create_partner(name="Centar za civilno-vojne odnose", slug="ccvo")
    other = create_partner(name="Akademija", slug="akademija")
    auth.login()
    for url in ("/series/new/tour", "/series/new/recurrence"):
        page = client.get(url).get_data(as_text=True)
        assert group(page, partner) is not None
        response = client.post(
            url,
            {
                "title": "Turneja",
                "partners_host": [str(partner.id)],
                "partners_speakers": [str(partner.id)],
                "partner_q": "civilno",
                "partner_filter": "1",
            },
        )
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert checked_roles(page, partner) == ["host", "speakers"]
        assert group(page, other) is None
        assert 'class="field-error"' not in page
