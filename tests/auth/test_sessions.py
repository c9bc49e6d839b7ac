"""Login sessions end on the server: logout, a new password, a new role, deactivation;
the CSRF token changes at login and logout; `next` after login stays on this site."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from campaign.models import User
from tests.conftest import PASSWORD, Client


def _cookie(client: Client) -> str:
    return client.http.get_cookie("session").value


def _with_cookie(app, value: str) -> Client:
    """Another browser holding a copy of someone's session cookie."""
    thief = Client(app)
    thief.http.set_cookie("session", value)
    return thief


def _logged_in(client: Client) -> bool:
    return all(client.get(url).status_code == 200 for url in ("/dashboard", "/account"))


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example",
        "/%0A/evil.example",
        "/%0D/evil.example",
        "%09//evil.example",
        "/%0D%0A/evil.example",
        "%20//evil.example",
        "/%5Cevil.example",
        "%5C%5Cevil.example",
        "https://evil.example/",
        "https:evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_is_judged_as_the_browser_reads_it(app, organizer, target):
    client = Client(app)
    response = client.post(
        f"/login?next={target}", {"email": organizer.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert _logged_in(client)


def test_a_nul_in_next_is_refused_without_logging_in(app, organizer):
    """U+0000 in any parameter is a 400 before anything else happens (it used to be judged
    as a path and sent home)."""
    client = Client(app)
    response = client.post(
        "/login?next=/%00/evil.example", {"email": organizer.email, "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert not _logged_in(client)


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/events%3Ftheme%3Deadrcc%26page%3D2", "/events?theme=eadrcc&page=2"),
        # What the browser makes of it: line breaks gone, no header injected, no 500.
        ("/%0D%0ASet-Cookie:%20x=1", "/Set-Cookie:%20x=1"),
        ("/even%09ts", "/events"),
    ],
)
def test_next_keeps_a_local_path(app, organizer, target, location):
    client = Client(app)
    response = client.post(
        f"/login?next={target}", {"email": organizer.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == location
    assert not any(c.startswith("x=") for c in response.headers.getlist("Set-Cookie"))


def test_logout_ends_every_copy_of_the_session(app, client, auth):
    auth.login()
    copy = _cookie(client)
    other_device = Client(app)
    assert other_device.login(auth.user.email).status_code == 302
    assert _logged_in(_with_cookie(app, copy))
    assert client.logout().status_code == 302
    thief = _with_cookie(app, copy)
    for url in ("/dashboard", "/account"):
        response = thief.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    # Logging out ends the account's sessions on every device (README, "Accounts").
    assert other_device.get("/dashboard").status_code == 302
    # Logging in again works, and makes a session of its own.
    auth.login()
    assert _logged_in(client)
    assert not _logged_in(_with_cookie(app, copy))


@pytest.mark.parametrize(
    "change",
    [
        {"password": "a new Passphrase for Ana"},
        {"role": "admin"},
        {"active": ""},
    ],
    ids=["password reset", "role change", "deactivation"],
)
def test_an_admins_change_ends_the_users_sessions(app, admin, organizer, db, change):
    victim = Client(app)
    assert victim.login(organizer.email).status_code == 302
    copy = _cookie(victim)
    boss = Client(app)
    boss.login(admin.email)
    data = {"name": organizer.name, "role": "organizer", "active": "y", "password": ""} | change
    assert boss.post(f"/users/{organizer.id}", data).status_code == 302
    assert not _logged_in(victim)
    assert not _logged_in(_with_cookie(app, copy))
    # The admin's own session goes on.
    assert boss.get("/users").status_code == 200


def test_an_admin_who_resets_their_own_password_stays_logged_in(app, admin):
    boss = Client(app)
    boss.login(admin.email)
    copy = _cookie(boss)
    data = {"name": "Admin", "role": "admin", "active": "y", "password": "brand new Admin words"}
    assert boss.post(f"/users/{admin.id}", data).status_code == 302
    assert boss.get("/users").status_code == 200
    assert _with_cookie(app, copy).get("/users").status_code == 302


def test_a_session_of_the_old_bare_id_format_is_refused(app, organizer):
    forged = Client(app)
    with forged.http.session_transaction() as session:
        session["_user_id"] = str(organizer.id)
        session["_fresh"] = True
    assert forged.get("/dashboard").status_code == 302
    with forged.http.session_transaction() as session:
        session["_user_id"] = f"{organizer.id}:0"
    assert forged.get("/dashboard").status_code == 200


def _csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_csrf_token_changes_at_login(client, organizer, db):
    anonymous_token = _csrf_of(client.get("/login").get_data(as_text=True))
    assert client.login(organizer.email).status_code == 302
    old_feed_token = organizer.feed_token
    response = client.http.post("/account", data={"csrf_token": anonymous_token})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert db.get(User, organizer.id).feed_token == old_feed_token
    # The page's own token works.
    token = _csrf_of(client.get("/account").get_data(as_text=True))
    assert token != anonymous_token
    assert client.http.post("/account", data={"csrf_token": token}).status_code == 302


def test_csrf_token_changes_at_logout(client, organizer):
    client.login(organizer.email)
    logged_in_token = _csrf_of(client.get("/account").get_data(as_text=True))
    assert client.logout().status_code == 302
    response = client.http.post(
        "/login",
        data={"csrf_token": logged_in_token, "email": organizer.email, "password": PASSWORD},
    )
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_user_rows_start_at_session_version_zero(db, organizer):
    assert db.scalar(select(User.session_version).where(User.id == organizer.id)) == 0
