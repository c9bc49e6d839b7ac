"""Absurd input on today's new account surfaces: a clear refusal, nothing written.

The add-account form without a password (an invitation), ``/users/<id>/link``, the
invitation and reset pages, the API token form and the ``invite`` / ``reset-link``
commands (review of issue 16's new surfaces)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from campaign.models import ApiToken, User


def _count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


# An address with an invisible character cannot be typed at the log-in page, and a
# text-direction control shows it in another order than the one it is stored in.
ODD_ADDRESSES = [
    ("new@exam\u200bple.org", "U+200B"),
    ("\u202enew@example.org", "U+202E"),
    ("new\u2066@example.org", "U+2066"),
    ("\ufeffnew@example.org", "U+FEFF"),
]


@pytest.mark.parametrize(("address", "what"), ODD_ADDRESSES)
def test_an_invitation_to_an_address_with_hidden_characters_is_refused(
    client, admin, db, address, what
):
    client.login(admin.email)
    before = _count(db, User)
    response = client.post("/users", {"email": address, "role": "organizer", "name": ""})
    assert response.status_code == 400
    assert what in response.get_data(as_text=True)
    assert _count(db, User) == before


@pytest.mark.parametrize(("address", "what"), ODD_ADDRESSES)
def test_the_invite_command_refuses_an_address_with_hidden_characters(runner, db, address, what):
    result = runner.invoke(args=["invite", address])
    assert result.exit_code == 2
    assert "EMAIL" in result.output and what in result.output
    assert _count(db, User) == 0


def test_the_invite_command_refuses_an_unknown_role(runner, db):
    result = runner.invoke(args=["invite", "new@example.org", "--role", "x"])
    assert result.exit_code == 2 and "--role" in result.output
    assert _count(db, User) == 0


@pytest.mark.parametrize(("email", "message"), [("nobody@x", "no account"), ("\u202e", "U+202E")])
def test_reset_link_for_no_account_names_the_problem(runner, organizer, email, message):
    result = runner.invoke(args=["reset-link", email])
    assert result.exit_code == 2
    assert "EMAIL" in result.output and message in result.output


# PostgreSQL cannot even compare a text with a NUL in it: refused before the look-up.
@pytest.mark.parametrize("command", ["reset-link", "invite"])
def test_a_nul_in_the_address_is_refused_before_the_lookup(runner, db, organizer, command):
    result = runner.invoke(args=[command, "a\x00b@example.org"])
    assert result.exit_code == 2, result.exception
    assert "EMAIL" in result.output and "U+0000" in result.output
    assert _count(db, User) == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a\u202eb", "U+202E"),
        ("\u200b\u200b", "only invisible characters"),
        ("x" * 101, "100 characters"),
    ],
)
def test_the_token_form_refuses_odd_names(client, auth, db, name, message):
    auth.login()
    response = client.post("/account/tokens", {"name": name, "scope": "read", "days": "30"})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(db, ApiToken) == 0


@pytest.mark.parametrize(
    ("scope", "days"),
    [("read", "99999999999999999999"), ("read", "-1"), ("read", "9999"), ("admin", "30")],
)
def test_the_token_form_refuses_odd_lifetimes_and_scopes(client, auth, db, scope, days):
    auth.login()
    response = client.post("/account/tokens", {"name": "ok", "scope": scope, "days": days})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert _count(db, ApiToken) == 0


@pytest.mark.parametrize("user_id", ["99999999999999999999", "0", "-1", "abc"])
def test_a_link_for_no_account_is_404(client, admin, user_id):
    client.login(admin.email)
    assert client.post(f"/users/{user_id}/link").status_code == 404


@pytest.mark.parametrize("path", ["/invitation", "/password-reset"])
@pytest.mark.parametrize(
    ("token", "status"),
    [("a" * 5000, 404), ("ćirilica", 404), ("\u202e\u200b", 404), ("a\x00b", 400)],
)
def test_odd_link_tokens_are_refused(client, organizer, db, path, token, status):
    before = db.scalar(select(User.password_hash).where(User.id == organizer.id))
    response = client.post(
        f"{path}?token={token}",
        {"new_password": "a long enough passphrase", "repeat_password": "a long enough passphrase"},
    )
    assert response.status_code == status
    assert client.get(f"{path}?token={token}").status_code == status
    db.expire_all()
    assert db.scalar(select(User.password_hash).where(User.id == organizer.id)) == before
