"""Invitation and password-reset links (issue 16): an admin adds an account without
choosing its password, the person opens a single-use, expiring link and chooses one."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update
from werkzeug.security import check_password_hash

from campaign.auth import operations as ops
from campaign.db import get_session
from campaign.models import AccountLink, User
from tests.conftest import PASSWORD, Client

NEW_PASSWORD = "kestenje jesen Fruška gora 7"
OTHER_PASSWORD = "lipov cvet Dunav kej 1912"


def _link_on_page(page: str) -> str:
    found = re.search(r'class="issued-link-url"[^>]*value="([^"]+)"', page)
    assert found, "the link is shown on the page"
    return found.group(1).replace("&amp;", "&")


def _path(link: str) -> str:
    assert link.startswith("http://campaign.test/")
    return link.removeprefix("http://campaign.test")


def _invite(client: Client, email="nova@example.org", **extra) -> str:
    response = client.post("/users", {"email": email, "name": "Nova", "role": "organizer", **extra})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return _path(_link_on_page(page))


def _choose(app, path: str, password=NEW_PASSWORD, again=None) -> tuple[Client, object]:
    browser = Client(app)
    response = browser.post(path, {"new_password": password, "repeat_password": again or password})
    browser._token = None  # the session starts anew
    return browser, response


def _logged_in(browser: Client) -> bool:
    return browser.get("/account").status_code == 200


def test_admin_invites_and_the_person_chooses_a_password(app, client, admin, db):
    client.login(admin.email)
    path = _invite(client)
    assert path.startswith("/invitation?token=")
    db.rollback()
    nova = db.scalar(select(User).where(User.email == "nova@example.org"))
    assert nova.role == "organizer" and not ops.has_password(nova)
    # Until then nobody can log in with any password, not even the stored marker.
    for guess in ("", "!", "none"):
        assert Client(app).login(nova.email, guess).status_code in (400, 401)
    assert "invited" in client.get("/users").get_data(as_text=True)

    page = Client(app).get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "nova@example.org" in text and ">New password</label>" in text
    assert page.headers["Referrer-Policy"] == "no-referrer"

    browser, response = _choose(app, path)
    assert response.status_code == 302
    assert _logged_in(browser)
    db.rollback()
    assert check_password_hash(db.get(User, nova.id).password_hash, NEW_PASSWORD)
    assert Client(app).login(nova.email, NEW_PASSWORD).status_code == 302


def test_the_link_is_shown_once(client, admin, db):
    client.login(admin.email)
    response = client.post("/users", {"email": "nova@example.org", "role": "organizer"})
    first = client.get(response.headers["Location"]).get_data(as_text=True)
    _link_on_page(first)
    again = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="issued-link-url"' not in again


def test_only_a_hash_of_the_token_is_stored(app, client, admin, db):
    client.login(admin.email)
    path = _invite(client)
    token = path.split("token=", 1)[1]
    assert len(token) >= 43  # 256 bits
    stored = db.scalars(select(AccountLink)).all()
    assert len(stored) == 1
    assert stored[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored[0].token_hash
    # The hash itself opens nothing.
    assert Client(app).get(f"/invitation?token={stored[0].token_hash}").status_code == 404


def test_a_link_works_once_and_a_replay_is_410(app, client, admin, db):
    client.login(admin.email)
    path = _invite(client)
    browser, response = _choose(app, path)
    assert response.status_code == 302
    replay = Client(app).get(path)
    assert replay.status_code == 410
    assert "already used" in replay.get_data(as_text=True)
    thief, response = _choose(app, path, OTHER_PASSWORD)
    assert response.status_code == 410
    assert not _logged_in(thief)
    db.rollback()
    nova = db.scalar(select(User).where(User.email == "nova@example.org"))
    assert check_password_hash(nova.password_hash, NEW_PASSWORD)


def test_an_expired_link_is_410_and_changes_nothing(app, client, admin, db):
    client.login(admin.email)
    path = _invite(client)
    db.execute(update(AccountLink).values(expires=ops.utcnow() - timedelta(seconds=1)))
    db.commit()
    page = Client(app).get(path)
    assert page.status_code == 410 and "expired" in page.get_data(as_text=True)
    browser, response = _choose(app, path)
    assert response.status_code == 410
    db.rollback()
    nova = db.scalar(select(User).where(User.email == "nova@example.org"))
    assert not ops.has_password(nova)


def test_the_lifetime_comes_from_the_configuration(app, client, admin, db):
    app.config["ACCOUNT_LINK_DAYS"] = 2
    client.login(admin.email)
    _invite(client)
    link = db.scalar(select(AccountLink))
    assert link.expires - link.created == timedelta(days=2)


@pytest.mark.parametrize(
    "path", ["/invitation?token=nonsense", "/invitation", "/password-reset?token=" + "A" * 43]
)
def test_unknown_links_are_404_pages(app, path):
    response = Client(app).get(path)
    assert response.status_code == 404
    assert "not known" in response.get_data(as_text=True)


def test_an_invitation_token_does_not_open_the_reset_page(app, client, admin):
    client.login(admin.email)
    path = _invite(client)
    assert Client(app).get(path.replace("/invitation", "/password-reset")).status_code == 404
    assert Client(app).get(path).status_code == 200


def test_a_refused_password_keeps_the_link(app, client, admin, db):
    client.login(admin.email)
    path = _invite(client)
    browser, response = _choose(app, path, "short")
    assert response.status_code == 400
    assert "at least 10 characters" in response.get_data(as_text=True)
    browser, response = _choose(app, path, "nova@example.org")
    assert response.status_code == 400
    browser, response = _choose(app, path, NEW_PASSWORD, OTHER_PASSWORD)
    assert response.status_code == 400 and "differ" in response.get_data(as_text=True)
    assert not _logged_in(browser)
    browser, response = _choose(app, path)
    assert response.status_code == 302 and _logged_in(browser)


def test_reissuing_replaces_the_old_link(app, client, admin, db):
    client.login(admin.email)
    old = _invite(client)
    nova = db.scalar(select(User).where(User.email == "nova@example.org"))
    page = client.get(f"/users/{nova.id}").get_data(as_text=True)
    assert "Make a new invitation link" in page
    response = client.post(f"/users/{nova.id}/link")
    assert response.status_code == 302
    new = _path(_link_on_page(client.get(response.headers["Location"]).get_data(as_text=True)))
    assert new != old and new.startswith("/invitation?token=")
    gone = Client(app).get(old)
    assert gone.status_code == 410 and "newer link" in gone.get_data(as_text=True)
    browser, response = _choose(app, new)
    assert response.status_code == 302


def test_a_reset_link_ends_every_session_of_the_account(app, client, admin, organizer, db):
    phone = Client(app)
    assert phone.login(organizer.email).status_code == 302 and _logged_in(phone)
    client.login(admin.email)
    response = client.post(f"/users/{organizer.id}/link")
    path = _path(_link_on_page(client.get(response.headers["Location"]).get_data(as_text=True)))
    assert path.startswith("/password-reset?token=")
    assert _logged_in(phone), "making the link alone logs nobody out"
    browser, response = _choose(app, path)
    assert response.status_code == 302 and _logged_in(browser)
    assert not _logged_in(phone)
    assert Client(app).login(organizer.email, PASSWORD).status_code == 401
    assert Client(app).login(organizer.email, NEW_PASSWORD).status_code == 302


def test_a_password_chosen_another_way_replaces_the_open_links(app, client, admin, db):
    """An admin gives the invited account a password on its page: the invitation stops
    working (else whoever holds it could still take the account over)."""
    client.login(admin.email)
    path = _invite(client)
    nova = db.scalar(select(User).where(User.email == "nova@example.org"))
    response = client.post(
        f"/users/{nova.id}",
        {"name": "Nova", "role": "organizer", "active": "y", "password": OTHER_PASSWORD},
    )
    assert response.status_code == 302
    assert Client(app).get(path).status_code == 410
    browser, response = _choose(app, path)
    assert response.status_code == 410 and not _logged_in(browser)
    assert Client(app).login("nova@example.org", OTHER_PASSWORD).status_code == 302


def test_changing_ones_own_password_replaces_an_open_reset_link(app, client, admin, organizer):
    client.login(admin.email)
    response = client.post(f"/users/{organizer.id}/link")
    path = _path(_link_on_page(client.get(response.headers["Location"]).get_data(as_text=True)))
    owner = Client(app)
    owner.login(organizer.email)
    changed = owner.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": OTHER_PASSWORD,
            "repeat_password": OTHER_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert Client(app).get(path).status_code == 410
    browser, response = _choose(app, path)
    assert response.status_code == 410 and not _logged_in(browser)
    assert Client(app).login(organizer.email, OTHER_PASSWORD).status_code == 302


def test_links_are_for_admins_only(client, organizer, admin):
    client.login(organizer.email)
    assert client.post(f"/users/{admin.id}/link").status_code == 403


def test_no_link_for_a_deactivated_account(client, admin, create_user, db):
    gone = create_user(email="gone@example.org", active=False)
    client.login(admin.email)
    response = client.post(f"/users/{gone.id}/link")
    assert response.status_code == 302
    assert "deactivated" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(AccountLink)) == 0


def test_a_link_stops_working_when_the_account_is_deactivated(app, client, admin, db):
    client.login(admin.email)
    path = _invite(client)
    nova = db.scalar(select(User).where(User.email == "nova@example.org"))
    client.post(f"/users/{nova.id}", {"name": "Nova", "role": "organizer", "password": ""})
    assert Client(app).get(path).status_code == 410


def test_two_uses_racing_spend_the_link_once(app, client, admin, db, backend):
    """The link is spent by a conditional UPDATE: a request that read the link as open
    just before another one spent it still fails, and sets no password. (On SQLite a POST
    takes the write lock at BEGIN, so two requests cannot interleave like this there.)"""
    if backend == "sqlite":
        pytest.skip("SQLite serialises writing requests at BEGIN IMMEDIATE")
    client.login(admin.email)
    token = _invite(client).split("token=", 1)[1]
    with app.app_context():
        session = get_session()
        raced = []

        @event.listens_for(session, "do_orm_execute")
        def _other_request_first(state):
            if state.is_update and not raced:
                raced.append(True)
                other = app.extensions["campaign.sessionmaker"]()
                other.execute(update(AccountLink).values(used=ops.utcnow()))
                other.commit()
                other.close()

        with pytest.raises(ops.LinkUnusable) as refused:
            ops.use_link(session, token, NEW_PASSWORD, NEW_PASSWORD)
        assert refused.value.status == 410 and raced
    db.rollback()
    nova = db.scalar(select(User).where(User.email == "nova@example.org"))
    assert not ops.has_password(nova)


def test_refused_tries_are_rate_limited(app):
    app.config["LINK_LIMIT_PER_ADDRESS"] = "3 per hour"
    browser = Client(app)
    codes = [browser.get(f"/invitation?token=guess{i}").status_code for i in range(5)]
    assert codes == [404, 404, 404, 429, 429]


def test_login_page_says_how_to_get_a_new_password(app):
    page = Client(app).get("/login").get_data(as_text=True)
    assert "Forgot your password?" in page and "administrator" in page


def test_an_admin_chosen_password_still_works(client, admin, db):
    client.login(admin.email)
    response = client.post(
        "/users", {"email": "ana@example.org", "role": "organizer", "password": OTHER_PASSWORD}
    )
    assert response.status_code == 302
    assert db.scalar(select(func.count()).select_from(AccountLink)) == 0


def test_cli_invite_and_reset_link(app, runner, db, organizer):
    result = runner.invoke(args=["invite", "Cli@Example.org", "--name", "Cli"])
    assert result.exit_code == 0, result.output
    link = re.search(r"http://campaign\.test(/invitation\?token=\S+)", result.output).group(1)
    assert Client(app).get(link).status_code == 200
    again = runner.invoke(args=["invite", "cli@example.org"])
    assert again.exit_code == 0
    assert Client(app).get(link).status_code == 410  # replaced by the new one
    refused = runner.invoke(args=["invite", organizer.email])
    assert refused.exit_code == 2 and "reset-link" in refused.output
    reset = runner.invoke(args=["reset-link", organizer.email])
    assert reset.exit_code == 0
    path = re.search(r"http://campaign\.test(/password-reset\?token=\S+)", reset.output).group(1)
    browser, response = _choose(app, path)
    assert response.status_code == 302 and _logged_in(browser)
    missing = runner.invoke(args=["reset-link", "nobody@example.org"])
    assert missing.exit_code == 2 and "no account" in missing.output
    bad = runner.invoke(args=["invite", "not-an-email"])
    assert bad.exit_code == 2 and "EMAIL" in bad.output


@pytest.mark.parametrize("days", ["seven", 0, -1, 1000, True])
def test_a_bad_link_lifetime_refuses_to_start(database_url, days):
    from campaign import create_app

    with pytest.raises(RuntimeError, match="CAMPAIGN_ACCOUNT_LINK_DAYS"):
        create_app({"DATABASE_URL": database_url, "ACCOUNT_LINK_DAYS": days})
