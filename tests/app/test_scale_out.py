"""Two gunicorn instances (think: two hosts behind a proxy) on one PostgreSQL and one Redis.

What must hold for "any number of hosts": failed logins are counted across all of them,
a session made on one is good on the other, and they serve the same feed bytes and ETag,
which an edit made through either changes on both.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.support.live import PASSWORD, Browser, Gunicorn, prepare_database
from tests.support.redis_server import RedisServer

LIMIT = 4  # failed logins per account, below the default of 5 to show the setting counts

pytestmark = pytest.mark.slow


@pytest.fixture
def shared_database(postgres):
    name = f"campaign_scale_out_{os.getpid()}"
    postgres.admin(f"CREATE DATABASE {name}")
    yield postgres.url(name)
    postgres.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_two_instances_share_throttling_sessions_and_feeds(shared_database, tmp_path):
    setup = prepare_database(shared_database, organizers=2, demo_events=12)
    with RedisServer() as redis_server:
        env = {
            "CAMPAIGN_SECRET_KEY": "one-secret-for-every-host-" + os.urandom(8).hex(),
            "CAMPAIGN_RATELIMIT_STORAGE_URI": redis_server.url,
            "CAMPAIGN_LOGIN_LIMIT_PER_ACCOUNT": f"{LIMIT} per hour",
            "CAMPAIGN_SITE_URL": "https://campaign.example.org",
        }
        with (
            Gunicorn(shared_database, workers=2, log_dir=tmp_path / "a", env=env) as a,
            Gunicorn(shared_database, workers=2, log_dir=tmp_path / "b", env=env) as b,
        ):
            # Failed logins alternate between the instances (and their workers) and
            # still hit the limit at LIMIT: the counts live in Redis.
            victim = setup["emails"][1]
            for n in range(LIMIT):
                server = (a, b)[n % 2]
                answer = Browser(server.base).login(victim, "wrong password")
                assert answer.status_code == 401, (n, server.log_text())
            for server in (a, b):
                refused = Browser(server.base).login(victim, PASSWORD)
                assert refused.status_code == 429, server.log_text()
            counters = [key.decode() for key in redis_server.client().scan_iter("*")]
            assert any("login-account" in key for key in counters), counters

            # A session cookie made by A is good on B (one SECRET_KEY, one database).
            browser = Browser(a.base)
            assert browser.login(setup["emails"][0]).status_code == 302
            assert Browser(b.base).get("/account").status_code == 302  # no session: login
            browser.base = b.base
            account = browser.get("/account")
            assert account.status_code == 200
            assert setup["emails"][0] in account.text

            # The same feed bytes and ETag from both.
            feed_a, feed_b = (Browser(s.base).get("/calendar.ics") for s in (a, b))
            assert feed_a.status_code == feed_b.status_code == 200
            assert feed_a.content == feed_b.content
            assert feed_a.headers["ETag"] == feed_b.headers["ETag"]
            assert feed_a.text.count("BEGIN:VEVENT") > 0
            etag = feed_a.headers["ETag"]
            assert (
                Browser(b.base).get("/calendar.ics", headers={"If-None-Match": etag}).status_code
                == 304
            )

            # An edit made through A changes the feed and ETag that B serves.
            browser.base = a.base
            created = browser.save_event("/events/new", "Scale-out panel", setup["theme_id"])
            assert created.status_code == 302, created.text
            assert re.search(r"/events/\d+$", created.headers["Location"])
            after_b = Browser(b.base).get("/calendar.ics", headers={"If-None-Match": etag})
            assert after_b.status_code == 200
            assert after_b.headers["ETag"] != etag
            assert "SUMMARY:Scale-out panel" in after_b.text
            after_a = Browser(a.base).get("/calendar.ics")
            assert (after_a.content, after_a.headers["ETag"]) == (
                after_b.content,
                after_b.headers["ETag"],
            )
