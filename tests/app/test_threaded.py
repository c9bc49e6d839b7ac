"""Threaded serving under concurrent readers: gunicorn's gthread worker and the
development server (``flask run``, what ``make run`` serves, is threaded too).

On Python 3.11 these used to die with SIGSEGV within seconds (the cyclic GC ran
SQLAlchemy's weakref callbacks inside allocations; see campaign/db.py, HELD_OBJECTS).
The test keeps a dozen clients reading list pages for a bounded time and requires every
answer to be a 200 and no worker to have died.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.support.live import FAST_HASH, Gunicorn, free_port, prepare_database

pytestmark = pytest.mark.slow

CLIENTS = 12
SECONDS = 12
PAGES = ["/events?page={n}", "/", "/events/calendar?month=2020-0{m}", "/themes"]
DIED = re.compile(r"SIGSEGV|Segmentation fault|Fatal Python error|exited with code|was sent", re.I)


def hammer(base: str) -> Counter:
    """CLIENTS threads reading pages for SECONDS; the count of each answer (status code or
    the name of the connection error)."""
    answers: Counter = Counter()
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def client(k: int) -> None:
        session = requests.Session()
        i = k
        while time.monotonic() < stop:
            i += 1
            url = base + PAGES[i % len(PAGES)].format(n=i % 5 + 1, m=i % 9 + 1)
            try:
                response = session.get(url, timeout=30)
                answer = response.status_code
            except requests.RequestException as exc:
                answer = type(exc).__name__
            with lock:
                answers[answer] += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_gunicorn_gthread_workers_survive_concurrent_readers(database_url, tmp_path):
    prepare_database(database_url, organizers=0, demo_events=400)
    with Gunicorn(
        database_url,
        workers=2,
        log_dir=tmp_path,
        env={"PYTHONFAULTHANDLER": "1"},
        args=["-k", "gthread", "--threads", "4"],
    ) as server:
        answers = hammer(server.base)
        log = server.log_text()
    assert set(answers) == {200}, (answers, log[-3000:])
    assert not DIED.search(log), log[-3000:]


def test_threaded_development_server_survives_concurrent_readers(database_url, tmp_path):
    prepare_database(database_url, organizers=0, demo_events=400)
    port = free_port()
    env = dict(
        os.environ,
        CAMPAIGN_DATABASE_URL=database_url,
        CAMPAIGN_SECRET_KEY="threaded-test-" + os.urandom(8).hex(),
        CAMPAIGN_PASSWORD_HASH_METHOD=FAST_HASH,
        CAMPAIGN_INSTANCE_PATH=str(tmp_path / "instance"),
        CAMPAIGN_LOG_LEVEL="WARNING",
        PYTHONFAULTHANDLER="1",
    )
    log_path = Path(tmp_path) / "flask-run.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "campaign", "run",
             "--host", "127.0.0.1", "--port", str(port), "--with-threads"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    requests.get(base + "/static/style.css", timeout=5)
                    break
                except requests.RequestException:
                    assert process.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, "flask run did not start"
                    time.sleep(0.2)
            answers = hammer(base)
            alive = process.poll() is None
        finally:
            process.terminate()
            process.wait(10)
    text = log_path.read_text()
    assert alive, text[-3000:]
    assert set(answers) == {200}, (answers, text[-3000:])
    assert not DIED.search(text), text[-3000:]
