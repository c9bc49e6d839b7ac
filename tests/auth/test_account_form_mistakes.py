"""Account forms report every mistake at once (issue 16): the e-mail and name rules of the
operations layer are the form's own checks too, so they show with the password's."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from campaign.auth import operations as ops
from campaign.db import get_session
from campaign.models import User
from tests.conftest import summary_links


def test_new_account_reports_every_mistake_at_once(client, admin, db):
    client.login(admin.email)
    db.rollback()
    before = db.scalar(select(func.count()).select_from(User))
    response = client.post(
        "/users",
        {"email": "not-an-email", "name": "Ana\x07", "password": "short", "role": "organizer"},
    )
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "'not-an-email' is not an e-mail address" in page
    assert "The password must have at least 10 characters." in page
    assert "Remove the invisible control character U+0007" in page
    db.rollback()
    assert db.scalar(select(func.count()).select_from(User)) == before


# -- the summary at the top, each mistake linking to its field (as on the event form) --------


def _summary(response, status: int = 400) -> dict[str, str]:
    assert response.status_code == status
    page = response.get_data(as_text=True)
    links = summary_links(page)
    # Each link leads to an element of the page, the field itself, below the summary.
    for target in links:
        assert page.count(f'id="{target}"') == 1, target
        assert page.index('id="error-summary"') < page.index(f'id="{target}"'), target
    return links


def test_new_account_mistakes_are_summed_up_at_the_top(client, admin):
    client.login(admin.email)
    response = client.post(
        "/users",
        {"email": "not-an-email", "name": "Ana\x07", "password": "short", "role": "organizer"},
    )
    links = _summary(response)
    assert set(links) == {"email", "name", "password"}
    assert links["email"].startswith("E-mail: ")
    assert "is not an e-mail address" in links["email"]
    assert links["password"] == "Password: The password must have at least 10 characters."


def test_account_edit_mistakes_are_summed_up_at_the_top(client, admin, organizer):
    client.login(admin.email)
    response = client.post(
        f"/users/{organizer.id}",
        {"name": "Ana\x07", "role": "organizer", "active": "y", "password": "short"},
    )
    links = _summary(response)
    assert set(links) == {"name", "password"}
    assert links["password"].startswith("New password: ")


def test_password_change_mistakes_are_summed_up_at_the_top(client, organizer):
    client.login(organizer.email)
    response = client.post(
        "/account/password",
        {"current_password": "", "new_password": "short", "repeat_password": ""},
    )
    links = _summary(response)
    assert set(links) == {"current_password", "new_password", "repeat_password"}
    assert links["current_password"].startswith("Current password: ")


def test_password_change_wrong_current_password_is_in_the_summary(client, organizer):
    client.login(organizer.email)
    new = "kestenje jesen Fruška gora 7"
    response = client.post(
        "/account/password",
        {"current_password": "not it at all", "new_password": new, "repeat_password": new},
    )
    assert set(_summary(response)) == {"current_password"}


def test_api_token_mistakes_are_summed_up_at_the_top(client, organizer):
    client.login(organizer.email)
    response = client.post("/account/tokens", {"name": "", "scope": "all", "days": "7"})
    links = _summary(response)
    assert set(links) == {"name", "scope", "days"}
    assert links["name"].startswith("Token name: ")


@pytest.mark.parametrize("purpose", ["invitation", "reset"])
def test_link_page_mistakes_are_summed_up_at_the_top(app, client, create_user, purpose):
    with app.app_context():
        session = get_session()
        if purpose == "invitation":
            issued = ops.invite_user(session, None, "nova@example.org", "organizer", "Nova")
        else:
            issued = ops.issue_link(session, None, create_user(email="stara@example.org"))
        path = urlsplit(ops.link_address(issued))
    response = client.post(
        f"{path.path}?{path.query}", {"new_password": "short", "repeat_password": "other"}
    )
    links = _summary(response)
    assert "new_password" in links
    assert links["new_password"].startswith("New password: ")


@pytest.mark.parametrize("lang", ["en", "sr-Latn"])
def test_the_token_section_links_to_the_api_documentation(client, organizer, lang):
    """The link was shown as escaped HTML text ("<a href=...>") in every language."""
    client.login(organizer.email)
    page = client.get(f"/account?lang={lang}").get_data(as_text=True)
    assert "&lt;a href" not in page
    assert {
        "en": 'See the <a href="/api/docs">API documentation</a>.',
        "sr-Latn": 'Pogledajte <a href="/api/docs">dokumentaciju API-ja</a>.',
    }[lang] in page


def test_account_forms_leave_checking_to_the_server(app, client, admin, organizer):
    """The browser's own check stops at the first empty field with a bubble in the
    browser's language; the server lists every mistake at once, in the page's."""
    with app.app_context():
        issued = ops.invite_user(get_session(), None, "nova@example.org", "organizer", "Nova")
        link = urlsplit(ops.link_address(issued))
    invitation = client.get(f"{link.path}?{link.query}")
    client.login(admin.email)
    pages = {
        "/users": client.get("/users"),
        "/users/<id>": client.get(f"/users/{organizer.id}"),
        "/account/password": client.get("/account/password"),
        "/account": client.get("/account"),
        "/invitation": invitation,
    }
    for name, response in pages.items():
        forms = re.findall(r'<form[^>]*class="narrow"[^>]*>', response.get_data(as_text=True))
        assert len(forms) == 1, name
        assert "novalidate" in forms[0], name


# -- the login page, like every account form ---------------------------------------------


def _login_summary(response) -> tuple[str, dict[str, str]]:
    links = _summary(response, 401)
    page = response.get_data(as_text=True)
    box = re.search(r'<div class="flash error error-summary".*?</div>', page, re.S).group(0)
    return html.unescape(box), links


def test_login_mistakes_are_summed_up_at_the_top(client):
    box, links = _login_summary(client.post("/login", {"email": "", "password": ""}))
    assert "You are not logged in: please correct the fields marked below." in box
    assert set(links) == {"email", "password"}
    assert links["email"].startswith("E-mail: ")
    assert links["password"].startswith("Password: ")


def test_login_summary_tells_no_account_from_a_wrong_password(client, organizer, create_user):
    """Wrong password, unknown e-mail, deactivated account: the same summary, word for
    word (no account enumeration)."""
    create_user(email="old@example.org", active=False)
    summaries = [
        _login_summary(client.login(email, "not the password"))
        for email in (organizer.email, "nobody@example.org", "old@example.org")
    ]
    assert summaries[0] == summaries[1] == summaries[2]
    assert summaries[0][1] == {
        "password": "Password: Wrong e-mail or password, or the account is deactivated."
    }


def test_login_summary_in_serbian(client, organizer):
    response = client.post(
        "/login?lang=sr-Latn", {"email": "nobody@example.org", "password": "not the password"}
    )
    box, links = _login_summary(response)
    assert "Niste prijavljeni: ispravite označena polja ispod." in box
    assert set(links) == {"password"}


def test_login_form_leaves_checking_to_the_server(client):
    forms = re.findall(
        r'<form[^>]*class="narrow"[^>]*>', client.get("/login").get_data(as_text=True)
    )
    assert len(forms) == 1
    assert "novalidate" in forms[0]
