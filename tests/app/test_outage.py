"""When the database goes away: a 503 page, never a stack trace, and recovery on its own."""

from __future__ import annotations

import pytest

from campaign import create_app
from campaign.auth import operations as user_ops
from campaign.db import get_session, make_engine
from campaign.migrate import upgrade
from tests.conftest import BACKENDS, PASSWORD, Client
from tests.support.pg import PostgresServer, pg_available

MESSAGE = "The database is unavailable; try again in a minute."


def _assert_unavailable(response):
    body = response.get_data(as_text=True)
    assert response.status_code == 503, body[:500]
    assert MESSAGE in body
    assert int(response.headers["Retry-After"]) > 0
    assert "Traceback" not in body and "psycopg" not in body and "sqlite3" not in body
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_missing_sqlite_database_gives_503(tmp_path):
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path}/gone/nowhere/campaign.sqlite3", "TESTING": True}
    )
    client = app.test_client()
    _assert_unavailable(client.get("/"))
    _assert_unavailable(client.get("/events?q=flood"))
    assert client.get("/static/style.css").status_code == 200


@pytest.mark.slow
@pytest.mark.skipif(
    "postgresql" not in BACKENDS or not pg_available(), reason="PostgreSQL backend disabled"
)
def test_postgresql_outage_gives_503_then_recovers():
    # A server of its own: stopping the shared one would break every other test.
    server = PostgresServer().start()
    try:
        server.admin("CREATE DATABASE campaign_outage")
        url = server.url("campaign_outage")
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": url,
                "SECRET_KEY": "test-secret",
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            }
        )
        with app.app_context():
            user_ops.create_user(
                get_session(), None, "organizer@example.org", PASSWORD, "organizer"
            )
        anonymous, organizer = Client(app), Client(app)
        assert organizer.login("organizer@example.org").status_code == 302
        token = organizer.csrf_token()
        assert anonymous.get("/events").status_code == 200
        assert organizer.get("/dashboard").status_code == 200

        server.pause()
        _assert_unavailable(anonymous.get("/events"))
        _assert_unavailable(anonymous.get("/"))
        _assert_unavailable(organizer.get("/dashboard"))
        # Feeds and streamed exports too: never a 200 that breaks off, nor a bare 500.
        _assert_unavailable(anonymous.get("/calendar.ics"))
        _assert_unavailable(anonymous.get("/events.csv"))
        _assert_unavailable(anonymous.get("/events.json"))
        _assert_unavailable(organizer.post("/themes/new", {"csrf_token": token, "slug": "x"}))

        server.resume()
        # pool_pre_ping throws the dead connections away; no restart of the app needed.
        assert anonymous.get("/events").status_code == 200
        assert organizer.get("/dashboard").status_code == 200
        assert anonymous.get("/events.csv").status_code == 200
        response = organizer.post(
            "/themes/new", {"slug": "after-outage", "name": "After the outage", "colour": "#123456"}
        )
        assert response.status_code == 302
        app.extensions["campaign.engine"].dispose()
    finally:
        server.stop()
