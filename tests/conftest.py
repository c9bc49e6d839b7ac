"""Fixtures: a real SQLite file and a real PostgreSQL server, the app, clients and factories.

Every test that uses ``app`` runs twice, once per backend. PostgreSQL is started here as
the ``postgres`` user in a temporary directory on 127.0.0.1 and a free port, and removed
afterwards. Set CAMPAIGN_TEST_BACKENDS=sqlite to run on SQLite alone while developing.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from campaign import create_app
from campaign.auth import operations as user_ops
from campaign.catalog import operations as catalog_ops
from campaign.db import get_session, make_engine
from campaign.events import operations as event_ops
from campaign.events.filters import event_list_loading
from campaign.media import operations as media_ops
from campaign.migrate import upgrade
from campaign.models import Event, Partner, Theme, User, Venue
from tests.support.pg import PostgresServer, free_port  # noqa: F401 (used by tests)

# The suite reads the interface in English; the product's default is sr-Cyrl, and tests that
# check the default language pass DEFAULT_LOCALE themselves (tests/app/test_i18n.py).
os.environ.setdefault("CAMPAIGN_DEFAULT_LOCALE", "en")

BACKENDS = os.environ.get("CAMPAIGN_TEST_BACKENDS", "sqlite,postgresql").split(",")
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def postgres():
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL backend disabled by CAMPAIGN_TEST_BACKENDS")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "campaign.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres) -> str:
    postgres.admin("CREATE DATABASE campaign_template")
    engine = make_engine(postgres.url("campaign_template"))
    upgrade(engine)
    engine.dispose()
    return "campaign_template"


_counter = iter(range(1_000_000))


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """A freshly migrated database (IPAP 2 themes seeded), one per test."""
    if request.param == "sqlite":
        path = tmp_path / "campaign.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("postgres")
    template = request.getfixturevalue("postgres_template")
    name = f"campaign_test_{next(_counter)}"
    server.admin(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield server.url(name)
    server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def backend(database_url) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "SITE_URL": "http://campaign.test",
            "SERVER_NAME": None,
            # Real hashing, at a cost that keeps hundreds of logins quick.
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    yield app
    app.extensions["campaign.engine"].dispose()


class Client:
    """A test client that knows the CSRF token of its session, as a browser would."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()
        self._token = None

    def __getattr__(self, name):
        return getattr(self.http, name)

    def csrf_token(self) -> str:
        if self._token is None:
            response = self.http.get("/login")
            if response.status_code == 302:  # logged in: the logout form carries one
                response = self.http.get("/")
            page = response.get_data(as_text=True)
            self._token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        return self._token

    def post(self, url, data=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        response = self.http.post(url, data=data, **kwargs)
        if url.startswith(("/login", "/logout", "/account/password")):
            self._token = None  # the session has a new CSRF token, as a browser would see
        return response

    def login(self, email: str, password: str = PASSWORD):
        self._token = None
        return self.post("/login", {"email": email, "password": password})

    def logout(self):
        return self.post("/logout")


@pytest.fixture
def client(app) -> Client:
    return Client(app)


@pytest.fixture
def make_client(app):
    """Another browser session, e.g. a second organizer."""
    return lambda: Client(app)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """A session of the app's engine for arranging and checking data.

    Deliberately not inside a pushed app context: requests made while it is open must get
    their own context (and their own ``g``), as they would in production.
    """
    session = app.extensions["campaign.sessionmaker"]()
    yield session
    session.close()


@pytest.fixture
def create_user(app):
    def make(
        email="organizer@example.org",
        role="organizer",
        password=PASSWORD,
        name="Jelena Đorđević",
        active=True,
    ):
        with app.app_context():
            session = get_session()
            user = user_ops.create_user(session, None, email, password, role, name)
            if not active:
                user.active = False
                session.commit()
            return user

    return make


@pytest.fixture
def organizer(create_user):
    return create_user()


@pytest.fixture
def admin(create_user):
    return create_user(email="admin@example.org", role="admin", name="Admin")


@pytest.fixture
def auth(client, organizer):
    """``auth.login()`` logs the organizer in on ``client``."""

    class Auth:
        user = organizer

        def login(self, email=organizer.email, password=PASSWORD):
            response = client.login(email, password)
            assert response.status_code == 302, response.get_data(as_text=True)
            return response

        def logout(self):
            return client.logout()

    return Auth()


@pytest.fixture
def create_partner(app):
    counter = iter(range(1, 100_000))

    def make(**overrides):
        n = next(counter)
        values = {
            "slug": f"partner-{n}",
            "name": f"Partner {n}",
            "kind": "ngo",
            "city": "Beograd",
            "website": "",
            "contact_name": "",
            "contact_email": "",
            "contact_phone": "",
            "notes": "",
        }
        values.update(overrides)
        with app.app_context():
            return catalog_ops.save_partner(get_session(), None, None, **values)

    return make


@pytest.fixture
def create_venue(app):
    def make(**overrides):
        values = {
            "name": "Dom omladine",
            "city": "Beograd",
            "address": "Makedonska 22",
            "latitude": 44.8167,
            "longitude": 20.4637,
            "capacity": 200,
        }
        values.update(overrides)
        with app.app_context():
            return catalog_ops.save_venue(get_session(), None, None, **values)

    return make


@pytest.fixture
def create_event(app):
    """``create_event(**overrides)`` through the operations layer; returns the Event."""

    def make(**overrides):
        with app.app_context():
            session = get_session()
            theme_slugs = overrides.pop("themes", ["eadrcc"])
            themes = session.scalars(select(Theme).where(Theme.slug.in_(theme_slugs))).all()
            partners = []
            for item in overrides.pop("partners", []):
                partner, role = item if isinstance(item, tuple) else (item, "host")
                partners.append((session.get(Partner, partner.id), role))
            venue = overrides.pop("venue", None)
            if venue is not None:
                venue = session.get(Venue, venue.id)
            owner = overrides.pop("owner", None)
            start = overrides.pop("starts_at", datetime(2020, 3, 10, 17, 0, tzinfo=UTC))
            values = {
                "title": "Round table: disaster response",
                "format": "round_table",
                "status": "confirmed",
                "starts_at": start,
                "ends_at": start + timedelta(hours=2),
                "timezone": "Europe/Belgrade",
                "venue": venue,
                "themes": list(themes),
                "partners": partners,
            }
            values.update(overrides)
            actor = session.get(User, owner.id) if owner else None
            return event_ops.create_event(session, actor, event_ops.EventData(**values))

    return make


@pytest.fixture
def cancel_back_then(app):
    """``cancel_back_then(event)``: the event cancelled back when it was upcoming (through
    ``cancel_event`` with the clock set to a day before it started), so a past event can be
    cancelled without breaking the rule that an event that is over is not cancelled.
    Returns the event as stored."""

    def cancel(target, reason=""):
        with app.app_context():
            session = get_session()
            stored = session.scalar(
                select(Event).where(Event.id == target.id).options(*event_list_loading())
            )
            event_ops.cancel_event(
                session,
                None,
                stored,
                stored.version,
                reason,
                now=stored.starts_at - timedelta(days=1),
            )
            return stored

    return cancel


@pytest.fixture
def count_queries(app):
    """``with count_queries() as n: ...`` then ``n.count`` is the number of SQL statements."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        engine = app.extensions["campaign.engine"]
        box = type("Count", (), {"count": 0, "statements": []})()

        def before(conn, cursor, statement, params, context, executemany):
            if (
                not statement.lstrip()
                .upper()
                .startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE"))
            ):
                box.count += 1
                box.statements.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield box
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


def wait_for(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


# -- form data, built once for every test that posts the event form ----------------------


def event_form_data(session, **overrides) -> dict:
    """What a browser posts from the event form: a confirmed round table on cyber security,
    with Serbian text in both scripts. ``None`` leaves a field out."""
    cyber = session.scalar(select(Theme.id).where(Theme.slug == "cyber-security"))
    data = {
        "title": "Okrugli sto: sajber bezbednost — Čačak, Šabac, Niš, Đerdap, Žabalj",
        "format": "round_table",
        "status": "confirmed",
        "starts_at": "2020-03-10T18:00",
        "ends_at": "2020-03-10T20:00",
        "timezone": "Europe/Belgrade",
        "venue": "",
        "online_url": "",
        "description": "Разговор о сајбер безбедности.\nDruga linija; zarez, tačka-zarez \\ kosa crta.",
        "themes": [str(cyber)],
        "expected_audience": "80",
        "attendance": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def summary_links(page: str) -> dict[str, str]:
    """The error summary's links: target id → text."""
    box = re.search(r'<div class="flash error error-summary" role="alert".*?</div>', page, re.S)
    assert box, "no error summary"
    return {
        target: html.unescape(text)
        for target, text in re.findall(r'<a href="#([^"]+)">(.*?)</a>', box.group(0))
    }


def form_version(page: str) -> str:
    """The row version an edit form was opened at."""
    tag = re.search(r'<input[^>]*name="version"[^>]*>', page).group(0)
    return re.search(r'value="(\d+)"', tag).group(1)


# -- media items -------------------------------------------------------------------------


@pytest.fixture
def outlet(create_partner):
    return create_partner(slug="rts", name="Радио-телевизија Србије", kind="media")


@pytest.fixture
def create_media(app, outlet):
    """``create_media(**overrides)`` through the operations layer; returns the item's id."""

    def make(**overrides):
        with app.app_context():
            session = get_session()
            slugs = overrides.pop("themes", ["eadrcc"])
            values = {
                "headline": "Gostovanje u Jutarnjem programu: poplave i EADRCC",
                "kind": "tv",
                "status": "published",
                "published_at": datetime(2020, 3, 11, 7, 30, tzinfo=UTC),
                "outlet": session.get(Partner, overrides.pop("outlet_id", outlet.id)),
                "themes": session.scalars(select(Theme).where(Theme.slug.in_(slugs))).all(),
                "estimated_reach": 250_000,
                "link": "https://www.rts.rs/page/stories/sr/story/1",
            }
            event_ids = overrides.pop("event_ids", [])
            values["events"] = session.scalars(select(Event).where(Event.id.in_(event_ids))).all()
            values.update(overrides)
            return media_ops.create_media(session, None, media_ops.MediaData(**values)).id

    return make


@pytest.fixture
def make_api_token(app):
    """A personal API token's secret: make_api_token(user, scope="read", **options)."""

    def make(user, scope="read", name="script", days=None):
        with app.app_context():
            session = get_session()
            owner = session.get(type(user), user.id)
            _token, secret = user_ops.create_api_token(session, owner, name, scope, days)
            return secret

    return make


@pytest.fixture
def read_token(make_api_token, organizer):
    return make_api_token(organizer, "read", "reader")


@pytest.fixture
def write_token(make_api_token, organizer):
    return make_api_token(organizer, "write", "writer")


# Debian's Chromium, driven by Playwright (never `playwright install`): the browser tests'.
CHROMIUM = os.environ.get("CAMPAIGN_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
