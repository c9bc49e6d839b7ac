"""Accounts: login, logout, CSRF, roles, user management, the private feed token."""

from __future__ import annotations

import re

from sqlalchemy import select

from campaign.models import User
from tests.conftest import PASSWORD


def test_login_and_logout(client, organizer):
    response = client.login(organizer.email)
    assert response.status_code == 302
    assert "Log out" in client.get("/").get_data(as_text=True)
    assert client.logout().status_code == 302
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_logout_needs_post(client, auth):
    auth.login()
    assert client.get("/logout").status_code == 405
    assert "Log out" in client.get("/").get_data(as_text=True)


def test_same_message_for_unknown_user_and_wrong_password(client, organizer):
    wrong = client.login(organizer.email, "not the password")
    unknown = client.login("nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    message = "Wrong e-mail or password, or the account is deactivated."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_deactivated_account_cannot_log_in(client, create_user):
    user = create_user(email="old@example.org", active=False)
    assert client.login(user.email).status_code == 401


def test_login_nonsense(client):
    for data in [
        {"email": "", "password": ""},
        {"email": "x" * 300, "password": "y"},
        {"email": "a@b.c"},
    ]:
        assert client.post("/login", data).status_code == 401


def test_open_redirect_after_login_is_refused(client, organizer):
    client.get("/login")
    response = client.post(
        "/login?next=//evil.example/x", {"email": organizer.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"
    client.logout()
    response = client.post("/login?next=/events", {"email": organizer.email, "password": PASSWORD})
    assert response.headers["Location"] == "/events"


def test_csrf_is_enforced_on_posts(client, auth, create_event):
    event = create_event()
    auth.login()
    for url, data in [
        (f"/events/{event.id}/cancel", {"version": "1"}),
        ("/logout", {}),
        ("/events/new", {"title": "x"}),
        ("/account", {}),
    ]:
        missing = client.http.post(url, data=data)
        assert missing.status_code == 400, url
        assert "CSRF token is missing" in missing.get_data(as_text=True)
        forged = client.http.post(url, data={**data, "csrf_token": "forged"})
        assert forged.status_code == 400, url
    assert client.get(f"/events/{event.id}").status_code == 200
    assert "Log out" in client.get("/").get_data(as_text=True)


def test_organizer_cannot_manage_users(client, auth):
    auth.login()
    assert client.get("/users").status_code == 403
    assert (
        client.post(
            "/users", {"email": "x@example.org", "role": "admin", "password": "p" * 12}
        ).status_code
        == 403
    )


def test_admin_adds_and_edits_accounts(client, admin, db):
    client.login(admin.email)
    page = client.get("/users").get_data(as_text=True)
    for label in ["E-mail", "Name", "Role", "Password"]:
        assert f">{label}</label>" in page
    response = client.post(
        "/users",
        {
            "email": "Ana@Example.org",
            "name": "Ana Šćepanović",
            "role": "organizer",
            "password": "long enough pw",
        },
    )
    assert response.status_code == 302
    ana = db.scalar(select(User).where(User.email == "ana@example.org"))
    assert ana.name == "Ana Šćepanović" and ana.role == "organizer"
    response = client.post(
        f"/users/{ana.id}", {"name": "Ana", "role": "admin", "active": "y", "password": ""}
    )
    assert response.status_code == 302
    db.rollback()
    assert db.get(User, ana.id).role == "admin"


def test_admin_user_form_rejects_nonsense(client, admin, db):
    client.login(admin.email)
    before = len(db.scalars(select(User)).all())
    cases = [
        (
            {"email": "not-an-email", "role": "organizer", "password": "long enough pw"},
            "is not an e-mail address",
        ),
        (
            {"email": admin.email, "role": "organizer", "password": "long enough pw"},
            "already exists",
        ),
        (
            {"email": "b@example.org", "role": "king", "password": "long enough pw"},
            "Not a valid choice",
        ),
        ({"email": "c@example.org", "role": "organizer", "password": "short"}, "at least 10"),
    ]
    for data, message in cases:
        response = client.post("/users", data)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True), message
    db.rollback()
    assert len(db.scalars(select(User)).all()) == before


def test_admin_cannot_demote_or_deactivate_self(client, admin, db):
    client.login(admin.email)
    response = client.post(f"/users/{admin.id}", {"name": "A", "role": "organizer", "active": "y"})
    assert "cannot remove your own admin rights" in response.get_data(as_text=True)
    db.rollback()
    assert db.get(User, admin.id).role == "admin"


def test_account_regenerates_feed_token(client, auth, db):
    auth.login()
    old = auth.user.feed_token
    assert client.post("/account").status_code == 302
    db.rollback()
    new = db.get(User, auth.user.id).feed_token
    assert new and new != old
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", new)


def test_a_refused_password_leaves_the_whole_account_unchanged(client, admin, create_user, db):
    """Role, name and password are one change: a bad new password saves none of it."""
    ana = create_user(email="ana@example.org", role="organizer", name="Ana")
    client.login(admin.email)
    response = client.post(
        f"/users/{ana.id}", {"name": "Renamed", "role": "admin", "active": "y", "password": "\r\n"}
    )
    assert response.status_code == 400
    assert "at least 10 characters" in response.get_data(as_text=True)
    db.expire_all()
    kept = db.get(User, ana.id)
    assert (kept.name, kept.role) == ("Ana", "organizer")
