"""Passwords: one strength rule (zxcvbn) for the web forms and the command line, and a
password page for every user."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from campaign.core import validation as rules
from campaign.models import User
from tests.conftest import PASSWORD, Client

WEAK = ["          ", "password123", "aaaaaaaaaaaa", "1234567890", "qwertyuiop"]
STRONG = "Seven purple Trains argue softly"


@pytest.mark.parametrize("weak", WEAK)
def test_cli_refuses_guessable_passwords(runner, db, weak):
    result = runner.invoke(
        args=["create-user", "x@example.org", "--role", "admin", "--password", weak]
    )
    assert result.exit_code == 2, result.output
    assert "--password" in result.output and "too easy to guess" in result.output
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_the_rule_counts_the_accounts_own_name_and_email():
    assert rules.password("milicapetrovic") is None  # strong for a stranger
    message = rules.password("milicapetrovic", ("milica.petrovic@example.org", "Milica"))
    assert message and "too easy to guess" in message
    assert rules.password(STRONG, ("milica.petrovic@example.org", "Milica")) is None


def test_fixture_passwords_pass_the_rule():
    assert rules.password(PASSWORD, ("organizer@example.org", "Jelena Đorđević")) is None


@pytest.mark.parametrize("weak", WEAK[1:])  # blank is "This field is required."
def test_admin_forms_refuse_guessable_passwords(client, admin, db, weak):
    client.login(admin.email)
    response = client.post(
        "/users", {"email": "new@example.org", "role": "organizer", "password": weak}
    )
    assert response.status_code == 400
    assert "too easy to guess" in response.get_data(as_text=True)
    response = client.post(
        f"/users/{admin.id}", {"name": "Admin", "role": "admin", "active": "y", "password": weak}
    )
    assert response.status_code == 400
    assert "too easy to guess" in response.get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(User)) == 1
    assert check_password_hash(db.get(User, admin.id).password_hash, PASSWORD)


def test_account_page_links_to_the_password_page(client, auth):
    auth.login()
    assert 'href="/account/password"' in client.get("/account").get_data(as_text=True)
    page = client.get("/account/password").get_data(as_text=True)
    for label in ["Current password", "New password", "New password again"]:
        assert f">{label}</label>" in page


def _change(client, current=PASSWORD, new=STRONG, repeat=None):
    return client.post(
        "/account/password",
        {"current_password": current, "new_password": new, "repeat_password": repeat or new},
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"current": "not my password"}, "This is not your current password."),
        ({"new": "password123"}, "too easy to guess"),
        ({"repeat": STRONG + "!"}, "The two new passwords differ"),
        ({"current": ""}, "This field is required."),
    ],
)
def test_password_change_refuses_nonsense(client, auth, db, kwargs, message):
    auth.login()
    response = _change(client, **kwargs)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.rollback()
    user = db.get(User, auth.user.id)
    assert check_password_hash(user.password_hash, PASSWORD)
    assert user.session_version == 0


def test_organizer_changes_own_password(app, client, auth, db):
    auth.login()
    elsewhere = Client(app)
    assert elsewhere.login(auth.user.email).status_code == 302
    response = _change(client)
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    # This session goes on (with a CSRF token that still works), every other one ended.
    assert client.get("/account").status_code == 200
    assert client.post("/account").status_code == 302
    assert elsewhere.get("/account").status_code == 302
    client.logout()
    assert Client(app).login(auth.user.email, PASSWORD).status_code == 401
    assert Client(app).login(auth.user.email, STRONG).status_code == 302


def test_guessing_the_current_password_is_throttled(client, auth, db):
    auth.login()
    for _ in range(5):
        assert _change(client, current="a guess at it").status_code == 400
    assert _change(client).status_code == 429
    db.rollback()
    assert check_password_hash(db.get(User, auth.user.id).password_hash, PASSWORD)
