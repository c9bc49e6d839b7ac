"""`q` matches theme and partner names in every language (issue 16)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

SOON = datetime.now(UTC) + timedelta(days=12)


def titles(client, q):
    response = client.get("/events", query_string={"q": q, "lang": "en"})
    assert response.status_code == 200
    return re.findall(r'<a href="/events/\d+">([^<]+)</a>', response.get_data(as_text=True))


@pytest.fixture
def tagged(create_event, create_venue, create_partner):
    ns = create_venue(name="Kulturni centar", city="Novi Sad")
    bcbp = create_partner(slug="bcbp", name="Beogradski centar", name_en="Belgrade Centre")
    create_event(title="Okrugli sto o mrežama", themes=["cyber-security"], venue=ns, starts_at=SOON)
    create_event(
        title="Panel o poplavama",
        themes=["civil-emergencies"],
        venue=ns,
        partners=[(bcbp, "host")],
        starts_at=SOON,
    )


@pytest.mark.parametrize(
    "q,expected",
    [
        ("cyber security Novi Sad", ["Okrugli sto o mrežama"]),  # English theme name
        ("sajber bezbednost", ["Okrugli sto o mrežama"]),  # Serbian theme name
        ("сајбер", ["Okrugli sto o mrežama"]),  # in Cyrillic
        ("Belgrade Centre", ["Panel o poplavama"]),  # English partner name
        ("beogradski centar", ["Panel o poplavama"]),
    ],
)
def test_q_matches_theme_and_partner_names(client, tagged, q, expected):
    assert titles(client, q) == expected


def test_renaming_a_theme_refreshes_the_search(client, auth, tagged):
    auth.login()
    page = client.get("/themes/cyber-security/edit").get_data(as_text=True)
    assert page
    response = client.post(
        "/themes/cyber-security/edit",
        {
            "slug": "cyber-security",
            "name": "Informaciona bezbednost",
            "name_en": "Information security",
            "colour": "#1f5f99",
        },
    )
    assert response.status_code == 302
    assert titles(client, "informaciona") == ["Okrugli sto o mrežama"]
    assert titles(client, "information security") == ["Okrugli sto o mrežama"]
    assert titles(client, "sajber") == []


def test_a_new_english_name_alone_refreshes_the_search(client, auth, tagged):
    auth.login()
    response = client.post(
        "/partners/bcbp/edit",
        {
            "slug": "bcbp",
            "name": "Beogradski centar",
            "name_en": "Belgrade Security Forum",
            "kind": "ngo",
        },
    )
    assert response.status_code == 302
    assert titles(client, "security forum") == ["Panel o poplavama"]
