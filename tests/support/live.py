"""The production set-up on 127.0.0.1, driven over real HTTP: gunicorn with several
workers, and browsers (requests sessions) that log in and fill in the real forms with
their CSRF tokens. Shared by tests/test_gunicorn.py and bench/load.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import requests
from sqlalchemy import select

from campaign import create_app
from campaign.auth import operations as user_ops
from campaign.db import get_session
from campaign.migrate import upgrade
from campaign.models import Theme
from tests.support.pg import free_port

PASSWORD = "load test password"
FAST_HASH = "pbkdf2:sha256:1000"  # logins stay cheap; production keeps scrypt
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION_RE = re.compile(r'name="version"[^>]*value="(\d+)"')


def prepare_database(url: str, organizers: int, demo_events: int = 0) -> dict:
    """Migrate, add ``organizers`` accounts (load-N@example.org) and optional demo events."""
    app = create_app(
        {
            "DATABASE_URL": url,
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "TESTING": True,
            "LOG_LEVEL": "WARNING",
        }
    )
    engine = app.extensions["campaign.engine"]
    upgrade(engine)
    with app.app_context():
        session = get_session()
        emails = []
        for n in range(organizers):
            email = f"load-{n}@example.org"
            user_ops.create_user(session, None, email, PASSWORD, "organizer", f"Organizer {n}")
            emails.append(email)
        if demo_events:
            from campaign.demo import seed_demo_data

            seed_demo_data(session, demo_events, 2019)
        theme_id = session.scalar(select(Theme.id).where(Theme.slug == "eadrcc"))
    engine.dispose()
    return {"emails": emails, "theme_id": theme_id}


class Gunicorn:
    """``with Gunicorn(url) as server: server.base`` — the production app, N workers.

    ``env`` adds or overrides environment variables (a value of None removes one);
    ``python`` and ``cwd`` run gunicorn from another virtualenv and folder; ``args`` are
    extra command-line arguments (e.g. ``["-c", "gunicorn.conf.py"]``).
    """

    def __init__(
        self,
        database_url: str | None,
        workers: int = 4,
        log_dir: Path | None = None,
        *,
        env: dict[str, str | None] | None = None,
        python: str = sys.executable,
        cwd: Path | None = None,
        args: list[str] | tuple[str, ...] = (),
    ):
        self.database_url = database_url
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.dir = Path(log_dir or tempfile.mkdtemp(prefix="campaign-gunicorn-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.dir / f"gunicorn-{self.port}.log"
        self.env = env or {}
        self.python = python
        self.cwd = cwd
        self.args = list(args)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        env = dict(os.environ)
        env.update(
            CAMPAIGN_SECRET_KEY="live-test-secret-" + os.urandom(8).hex(),
            CAMPAIGN_PASSWORD_HASH_METHOD=FAST_HASH,
            CAMPAIGN_INSTANCE_PATH=str(self.dir / "instance"),
            CAMPAIGN_SITE_URL=self.base,
            # Throttling is tested on its own; here many logins come from one address.
            CAMPAIGN_LOGIN_LIMIT_PER_ADDRESS="10000 per minute",
        )
        if self.database_url:
            env["CAMPAIGN_DATABASE_URL"] = self.database_url
        for name, value in self.env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in __exit__)
        self.process = subprocess.Popen(
            [
                self.python, "-m", "gunicorn",
                "-w", str(self.workers),
                "-b", f"127.0.0.1:{self.port}",
                "--timeout", "60", "--graceful-timeout", "5",
                *self.args,
                "campaign.wsgi:app",
            ],
            env=env, cwd=self.cwd, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log_path.read_text())
            try:
                # Any answer means a worker has loaded the app; the tests judge the answers.
                requests.get(self.base + "/static/style.css", timeout=5)
                return self
            except requests.RequestException:  # not listening yet, or workers booting
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("gunicorn did not answer within 30 s:\n" + self.log_text())

    def __exit__(self, *_exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


class Browser:
    """One person's browser session against a live server."""

    def __init__(self, base: str, timeout: float = 30):
        self.base = base
        self.timeout = timeout
        self.http = requests.Session()

    def _plain_http(self, response: requests.Response) -> requests.Response:
        # Production marks the session cookie Secure, for the TLS proxy in front of
        # gunicorn. Talking plain HTTP to 127.0.0.1 directly, send it back anyway.
        for cookie in self.http.cookies:
            cookie.secure = False
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        response = self.http.get(
            self.base + path, timeout=self.timeout, allow_redirects=False, **kwargs
        )
        return self._plain_http(response)

    def post(self, path: str, data: dict) -> requests.Response:
        response = self.http.post(
            self.base + path, data=data, timeout=self.timeout, allow_redirects=False
        )
        return self._plain_http(response)

    def _form(self, path: str) -> tuple[requests.Response, dict]:
        page = self.get(path)
        fields = {}
        if page.status_code == 200:
            fields["csrf_token"] = CSRF_RE.search(page.text).group(1)
            version = VERSION_RE.search(page.text)
            if version:
                fields["version"] = version.group(1)
        return page, fields

    def login(self, email: str, password: str = PASSWORD) -> requests.Response:
        page, fields = self._form("/login")
        if page.status_code != 200:
            return page
        return self.post("/login", {**fields, "email": email, "password": password})

    def save_event(self, path: str, title: str, theme_id: int, **values) -> requests.Response:
        """Open the form at ``path`` (new or edit) and submit it; returns the last response."""
        page, fields = self._form(path)
        if page.status_code != 200:
            return page
        times = {}
        if path.endswith("/new"):
            # A day of its own for each new event: one organizer's events at the same time
            # would clash, and the form asks before saving a clash.
            self.made = getattr(self, "made", 0) + 1
            day = date(2020, 6, 10) + timedelta(days=self.made)
            times = {"starts_at": f"{day}T18:00", "ends_at": f"{day}T20:00"}
        data = {
            **fields,
            **times,
            "title": title,
            "format": "panel",
            "status": "confirmed",
            "timezone": "Europe/Belgrade",
            "venue": "",
            "online_url": "https://meet.example.org/ipap2",
            "description": "Opterećenje: " + title,
            "themes": str(theme_id),
            "expected_audience": "50",
        }
        data.update(values)
        return self.post(path, data)


def event_id_from(response: requests.Response) -> int | None:
    match = re.search(r"/events/(\d+)$", response.headers.get("Location", ""))
    return int(match.group(1)) if match else None
