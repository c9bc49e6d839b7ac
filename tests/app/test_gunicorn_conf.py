"""The shipped gunicorn.conf.py: its access log shows requests but never a feed token."""

from __future__ import annotations

import http.client
import runpy
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from campaign.db import make_engine
from campaign.models import User
from tests.conftest import wait_for
from tests.support.live import Gunicorn, prepare_database

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("GET /calendar.ics?token=abc HTTP/1.1", "GET /calendar.ics?token=redacted HTTP/1.1"),
        ("token=abc&theme=eadrcc", "token=redacted&theme=eadrcc"),
        ("/calendar.ics?theme=x&tok%65n=abc&token=d", "/calendar.ics?theme=x&tok%65n=redacted&token=redacted"),
        ("https://h/x?password=p&csrf_token=c&q=token", "https://h/x?password=redacted&csrf_token=redacted&q=token"),
        ("/events?q=token%3Dabc", "/events?q=token%3Dabc"),
        ("/events?mytoken=abc", "/events?mytoken=abc"),
        ("Mozilla/5.0", "Mozilla/5.0"),
        ("GET /api/v1/events?access_token=cpt_abc-1&q=x HTTP/1.1", "GET /api/v1/events?access_token=redacted&q=x HTTP/1.1"),
        ("/api/v1/events?q=%63pt_abc", "/api/v1/events?q=redacted"),
    ],
)  # fmt: skip
def test_redact(text, expected):
    assert runpy.run_path(str(CONF))["redact"](text) == expected


@pytest.mark.slow
def test_access_log_redacts_the_private_feed_token(tmp_path):
    url = f"sqlite:///{tmp_path / 'campaign.sqlite3'}"
    prepare_database(url, organizers=1)
    engine = make_engine(url)
    with engine.connect() as conn:
        token = conn.scalar(select(User.feed_token))
    engine.dispose()
    secret = "SECRET" + token[6:]

    with Gunicorn(url, workers=1, log_dir=tmp_path, args=["-c", str(CONF)], cwd=tmp_path) as server:
        private = requests.get(f"{server.base}/calendar.ics?token={token}", timeout=30)
        assert private.status_code == 200
        # http.client sends the path as it is (requests would normalise %65 to "e").
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request(
            "GET",
            f"/calendar.ics?theme=eadrcc&tok%65n={secret}",
            headers={"Referer": f"{server.base}/calendar.ics?token={secret}-referer"},
        )
        wrong = conn.getresponse()
        wrong.read()
        conn.close()
        assert wrong.status == 403  # werkzeug decodes the key: it is a (wrong) token
        assert wait_for(lambda: "tok%65n=redacted" in server.log_text())
        log = server.log_text()

    assert '"GET /calendar.ics?token=redacted HTTP/1.1" 200' in log
    assert '"GET /calendar.ics?theme=eadrcc&tok%65n=redacted HTTP/1.1" 403' in log
    assert '/calendar.ics?token=redacted"' in log  # the referrer
    assert token not in log
    assert "SECRET" not in log
