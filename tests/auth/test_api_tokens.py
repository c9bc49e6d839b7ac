"""Personal API tokens: made on /account (named, scoped, shown once), stored hashed, last
use recorded, revoked by their owner or an admin; unknown, revoked and expired tokens are
401 with WWW-Authenticate; the secret never reaches a log line."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaign.auth.models import ApiToken, User
from campaign.core.models import utcnow


def make_token(client, name="Ministry website", scope="read", days="90"):
    return client.post("/account/tokens", {"name": name, "scope": scope, "days": days})


def secret_on(page: str) -> str:
    found = re.findall(r'value="(cpt_[A-Za-z0-9_-]+)"', page)
    assert len(found) == 1, "the new token is shown exactly once"
    return found[0]


def api(client, secret, url="/api/v1/events"):
    return client.get(url, headers={"Authorization": f"Bearer {secret}"})


def test_a_token_is_made_on_the_account_page_and_shown_once(client, auth, db):
    auth.login()
    page = client.get("/account").get_data(as_text=True)
    assert "API tokens" in page and 'action="/account/tokens"' in page
    response = make_token(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = secret_on(response.get_data(as_text=True))
    assert secret.startswith("cpt_") and len(secret) >= 40
    # Stored hashed: the SHA-256, never the secret; the list shows its first characters.
    token = db.scalar(select(ApiToken))
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr([getattr(token, c.key) for c in ApiToken.__table__.columns])
    assert token.name == "Ministry website" and token.scope == "read"
    assert token.user_id == auth.user.id
    assert timedelta(days=89) < token.expires - token.created <= timedelta(days=90)
    again = client.get("/account").get_data(as_text=True)
    assert secret not in again
    assert "Ministry website" in again and f"{token.hint}…" in again
    assert "never" in again  # not used yet


def test_last_use_is_recorded(client, auth, db):
    auth.login()
    secret = secret_on(make_token(client).get_data(as_text=True))
    assert db.scalar(select(ApiToken)).last_used is None
    assert api(client, secret).status_code == 200
    db.rollback()
    used = db.scalar(select(ApiToken)).last_used
    assert used is not None and utcnow() - used < timedelta(minutes=5)
    listed = client.get("/account").get_data(as_text=True).split("API tokens")[1]
    assert "never" not in listed
    # Times as the rest of the site shows them: the campaign's zone, not a bare UTC.
    assert " UTC" not in listed and (" CET" in listed or " CEST" in listed)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "scope": "read", "days": "90"}, "This field is required."),
        ({"name": "x" * 101, "scope": "read", "days": "90"}, "Field cannot be longer"),
        ({"name": "ok", "scope": "admin", "days": "90"}, "Not a valid choice"),
        ({"name": "ok", "scope": "read", "days": "99999"}, "Not a valid choice"),
        ({"name": "bad\u202ename", "scope": "read", "days": "90"}, "text-direction"),
    ],
)
def test_bad_token_forms_are_refused_naming_the_field(client, auth, db, form, message):
    auth.login()
    response = client.post("/account/tokens", form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.scalar(select(ApiToken)) is None


def test_the_owner_revokes_and_the_token_stops_at_once(client, auth, db):
    auth.login()
    secret = secret_on(make_token(client, scope="write").get_data(as_text=True))
    token = db.scalar(select(ApiToken))
    assert api(client, secret).status_code == 200
    response = client.post(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 302
    refused = api(client, secret)
    assert refused.status_code == 401
    assert refused.content_type == "application/problem+json"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert refused.get_json()["parameter"] == "Authorization"
    assert secret not in refused.get_data(as_text=True)
    assert "revoked" in client.get("/account").get_data(as_text=True)


def test_nobody_revokes_another_persons_token_from_their_account(
    client, auth, db, create_user, make_api_token
):
    other = create_user(email="other@example.org")
    secret = make_api_token(other)
    token = db.scalar(select(ApiToken))
    auth.login()
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    assert client.post(f"/users/{other.id}/tokens/{token.id}/revoke").status_code == 403
    assert api(client, secret).status_code == 200


def test_an_admin_revokes_anyones_token_on_their_page(client, admin, organizer, db, make_api_token):
    secret = make_api_token(organizer, "write", "Partner sync")
    token = db.scalar(select(ApiToken))
    client.login(admin.email)
    page = client.get(f"/users/{organizer.id}").get_data(as_text=True)
    assert "Partner sync" in page and secret not in page
    assert 'action="/account/tokens"' not in page  # admins cannot make tokens for others
    # The token belongs to the user of the page, not to some other one.
    assert client.post(f"/users/{admin.id}/tokens/{token.id}/revoke").status_code == 404
    response = client.post(f"/users/{organizer.id}/tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert api(client, secret).status_code == 401
    db.rollback()
    assert db.get(ApiToken, token.id).revoked is not None


def test_expired_tokens_and_deactivated_accounts_are_401(client, organizer, db, make_api_token):
    secret = make_api_token(organizer, days=30)
    assert api(client, secret).status_code == 200
    token = db.scalar(select(ApiToken))
    token.expires = utcnow() - timedelta(seconds=1)
    db.commit()
    assert api(client, secret).status_code == 401
    token.expires = None
    db.commit()
    assert api(client, secret).status_code == 200
    db.get(User, organizer.id).active = False
    db.commit()
    assert api(client, secret).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer cpt_unknown", "Bearer cpt_" + "x" * 200, "Bearer nope", "Token abc", "Bearer"],
)
def test_unknown_tokens_are_401_with_www_authenticate(client, header):
    response = client.get("/api/v1/events", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="campaign"')


def test_the_secret_never_reaches_a_log_line(client, auth, db, caplog):
    with caplog.at_level("DEBUG"):
        auth.login()
        secret = secret_on(make_token(client, scope="write").get_data(as_text=True))
        token = db.scalar(select(ApiToken))
        assert api(client, secret).status_code == 200
        client.http.post(
            "/api/v1/events",
            json={"title": ""},
            headers={"Authorization": f"Bearer {secret}"},
        )
        client.get(f"/api/v1/events?token={secret}")
        client.post(f"/account/tokens/{token.id}/revoke")
        assert api(client, secret).status_code == 401
    assert "api_token.created" in caplog.text and "api_token.revoked" in caplog.text
    assert "campaign.requests" in caplog.text
    assert secret not in caplog.text
    assert secret[4:] not in caplog.text
