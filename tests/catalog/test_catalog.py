"""Themes, partners and venues: management by organizers, validation, deletion rules."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from campaign.models import Partner, Theme, Venue


def count(db, model):
    db.rollback()
    return db.scalar(select(func.count()).select_from(model))


def test_create_theme_partner_venue(client, auth, db):
    auth.login()
    r = client.post(
        "/themes/new",
        {
            "slug": "women-in-security",
            "name": "Žene u bezbednosti",
            "description": "Опис",
            "key_messages": "Jedan\nDva",
            "colour": "#AA3300",
        },
    )
    assert r.status_code == 302 and r.headers["Location"] == "/themes/women-in-security"
    page = client.get("/themes/women-in-security").get_data(as_text=True)
    assert "Žene u bezbednosti" in page and "Опис" in page and "No events on this theme yet" in page
    r = client.post(
        "/partners/new",
        {
            "slug": "novi-sad-media",
            "name": "Novosadski medijski centar",
            "kind": "media",
            "city": "Novi Sad",
            "website": "https://example.org",
            "contact_email": "info@example.org",
        },
    )
    assert r.status_code == 302
    r = client.post(
        "/venues/new",
        {
            "name": "Sava centar",
            "city": "Beograd",
            "address": "Milentija Popovića 9",
            "latitude": "44.808",
            "longitude": "20.431",
            "capacity": "4000",
        },
    )
    assert r.status_code == 302
    assert count(db, Theme) == 10 and count(db, Partner) == 1 and count(db, Venue) == 1


THEME_NONSENSE = [
    ({"slug": "Has Spaces", "name": "X"}, "Use lowercase letters"),
    ({"slug": "eadrcc", "name": "Duplicate"}, "already used"),
    ({"slug": "ok-slug", "name": ""}, "This field is required"),
    ({"slug": "ok-slug", "name": "X", "colour": "red"}, "#rrggbb"),
    ({"slug": "-bad-", "name": "X"}, "Use lowercase letters"),
]


@pytest.mark.parametrize("data,message", THEME_NONSENSE)
def test_theme_nonsense(client, auth, db, data, message):
    auth.login()
    data = {"colour": "#112233", **data}
    r = client.post("/themes/new", data)
    assert r.status_code == 400
    assert message in r.get_data(as_text=True)
    assert count(db, Theme) == 9


PARTNER_NONSENSE = [
    ({"slug": "ščć", "name": "X", "kind": "ngo"}, "Use lowercase letters"),
    ({"slug": "p", "name": "X", "kind": "cult"}, "Not a valid choice"),
    (
        {"slug": "p", "name": "X", "kind": "ngo", "website": "javascript:alert(1)"},
        "must start with http",
    ),
    ({"slug": "p", "name": "X", "kind": "ngo", "contact_email": "nope"}, "valid e-mail"),
    ({"slug": "p", "name": "x" * 201, "kind": "ngo"}, "longer than 200"),
]


@pytest.mark.parametrize("data,message", PARTNER_NONSENSE)
def test_partner_nonsense(client, auth, db, data, message):
    auth.login()
    r = client.post("/partners/new", data)
    assert r.status_code == 400
    assert message in r.get_data(as_text=True)
    assert count(db, Partner) == 0


def test_partner_slug_unique(client, auth, db, create_partner):
    create_partner(slug="bcbp")
    auth.login()
    r = client.post("/partners/new", {"slug": "bcbp", "name": "Other", "kind": "ngo"})
    assert r.status_code == 400 and "already used" in r.get_data(as_text=True)
    assert count(db, Partner) == 1


VENUE_NONSENSE = [
    ({"name": "V", "city": "Niš", "capacity": "-3"}, "zero or more"),
    ({"name": "V", "city": "Niš", "capacity": "many"}, "Not a valid integer"),
    ({"name": "V", "city": "Niš", "latitude": "91", "longitude": "20"}, "between -90"),
    ({"name": "V", "city": "Niš", "latitude": "44"}, "both latitude and longitude"),
    ({"name": "V", "city": "Niš", "latitude": "north", "longitude": "20"}, "Not a valid float"),
    ({"name": "V", "city": ""}, "This field is required"),
]


@pytest.mark.parametrize("data,message", VENUE_NONSENSE)
def test_venue_nonsense(client, auth, db, data, message):
    auth.login()
    r = client.post("/venues/new", data)
    assert r.status_code == 400
    assert message in r.get_data(as_text=True)
    assert count(db, Venue) == 0


def test_edit_partner_keeps_links(client, auth, db, create_partner, create_event):
    partner = create_partner(slug="rts", name="RTS")
    create_event(title="With RTS", partners=[(partner, "media_partner")])
    auth.login()
    r = client.post(
        "/partners/rts/edit", {"slug": "rts", "name": "Radio-televizija Srbije", "kind": "media"}
    )
    assert r.status_code == 302
    page = client.get("/partners/rts").get_data(as_text=True)
    assert "Radio-televizija Srbije" in page and "With RTS" in page


def test_used_entries_cannot_be_deleted(
    client, auth, db, create_partner, create_venue, create_event
):
    partner = create_partner(slug="rts")
    venue = create_venue()
    create_event(partners=[(partner, "host")], venue=venue, themes=["kfor"])
    auth.login()
    for url in ["/themes/kfor/delete", "/partners/rts/delete", f"/venues/{venue.id}/delete"]:
        r = client.post(url)
        assert r.status_code == 302
        assert "cannot be deleted" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert count(db, Theme) == 9 and count(db, Partner) == 1 and count(db, Venue) == 1


def test_unused_entries_can_be_deleted(client, auth, db, create_partner, create_venue):
    create_partner(slug="gone")
    venue = create_venue()
    auth.login()
    assert client.post("/partners/gone/delete").status_code == 302
    assert client.post(f"/venues/{venue.id}/delete").status_code == 302
    assert count(db, Partner) == 0 and count(db, Venue) == 0


def test_partner_contacts_only_for_organizers(client, auth, create_partner):
    create_partner(slug="bcbp", contact_email="secret@example.org")
    assert "secret@example.org" not in client.get("/partners/bcbp").get_data(as_text=True)
    auth.login()
    assert "secret@example.org" in client.get("/partners/bcbp").get_data(as_text=True)
