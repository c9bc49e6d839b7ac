"""Defects found by attacking the merged app from outside (threaded servers, hostile
input, caching subscribers). Each test failed before its fix."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from campaign.models import User
from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    "url",
    [
        "/themes/kf%00or",
        "/themes/kf%00or/calendar.ics",
        "/partners/a%00b",
        "/partners/a%00b/calendar.ics",
        "/calendar.ics?token=abc%00",
        "/events?city=Ni%00",
    ],
)
def test_a_nul_byte_anywhere_in_the_address_is_a_400(client, url):
    """PostgreSQL text cannot hold NUL: a NUL that reached a query was a 500 there."""
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    assert "control character" in response.get_data(as_text=True)


def test_a_nul_byte_in_a_form_is_a_400_and_changes_nothing(client, admin, db):
    before = db.scalar(select(func.count()).select_from(User))
    response = client.post("/login", {"email": admin.email + "\x00", "password": PASSWORD})
    assert response.status_code == 400
    client.login(admin.email)
    response = client.post(
        "/users",
        {"email": "a@b.org\x00", "name": "X", "role": "organizer", "password": PASSWORD},
    )
    assert response.status_code == 400
    db.rollback()
    assert db.scalar(select(func.count()).select_from(User)) == before


@pytest.mark.parametrize("email", ["bad\x1b[31m@x.org", "a\x07b@x.org", "a@x.org\x7f"])
def test_e_mail_addresses_refuse_control_characters(runner, db, email):
    result = runner.invoke(
        args=["create-user", email, "--role", "organizer", "--password", PASSWORD]
    )
    assert result.exit_code != 0
    assert "e-mail" in result.output
    db.rollback()
    assert db.scalar(select(func.count()).select_from(User).where(User.email == email)) == 0


@pytest.mark.parametrize(
    "query", ["lang=en-US", "lang=sr_latn", "lang=SR-CYRL", "lang=hr", "lang=sh", "lang=en&lang=xx"]
)
def test_lang_names_exactly_one_of_the_three_languages(client, query):
    assert client.get("/events?" + query).status_code == 400
    assert client.get("/calendar.ics?" + query).status_code == 400


def test_pages_chosen_by_accept_language_say_so_in_vary(client):
    response = client.get("/events", headers={"Accept-Language": "en"})
    assert "Accept-Language" in response.headers.get("Vary", "")
    # A feed speaks its ?lang= or the default, never the client's header.
    feed = client.get("/calendar.ics", headers={"Accept-Language": "en"})
    assert "Accept-Language" not in feed.headers.get("Vary", "")


@pytest.mark.parametrize("q", ["\u202e", "\u200b", "a\u202eb"])
def test_search_words_refuse_invisible_controls(client, q):
    response = client.get("/events.csv", query_string={"q": q})
    assert response.status_code == 400
    assert response.get_data(as_text=True).startswith("q:")


def test_feed_etag_covers_the_transliteration_settings(app, client, create_event):
    """Two hosts (or a rollout) with different texts must not share an ETag."""
    create_event(title="NATO panel")
    first = client.get("/calendar.ics?lang=sr-Cyrl")
    app.config["TRANSLITERATION_KEEP"] = [*app.config["TRANSLITERATION_KEEP"], "NATO"]
    second = client.get("/calendar.ics?lang=sr-Cyrl")
    assert first.data != second.data
    assert first.headers["ETag"] != second.headers["ETag"]
    stale = client.get(
        "/calendar.ics?lang=sr-Cyrl", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert stale.status_code == 200


def test_wtforms_own_messages_follow_the_page_script(client, auth):
    """A required field left empty: WTForms' message in Cyrillic on a Cyrillic page (its
    own catalogue is Serbian Latin only)."""
    auth.login()
    page = client.post("/account/password?lang=sr-Cyrl", {}).get_data(as_text=True)
    assert "Ово поље је обавезно" in page
    assert "Ovo polje je obavezno" not in page
    latin = client.post("/account/password?lang=sr-Latn", {}).get_data(as_text=True)
    assert "Ovo polje je obavezno" in latin
