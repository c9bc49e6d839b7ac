"""Concurrent writers against gunicorn with 4 workers, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from campaign.db import make_engine
from campaign.models import Event
from tests.support.live import Browser, Gunicorn, event_id_from, prepare_database

WRITERS = 6
ROUNDS = 6


@pytest.mark.slow
def test_concurrent_writers_under_gunicorn_lose_nothing(database_url, tmp_path):
    setup = prepare_database(database_url, organizers=WRITERS)
    acknowledged: list[str] = []  # titles the server confirmed with a redirect
    problems: list[str] = []
    lock = threading.Lock()

    with Gunicorn(database_url, workers=4, log_dir=tmp_path) as server:

        def check(response, what):
            if response.status_code >= 500 or "database is locked" in response.text:
                with lock:
                    problems.append(f"{what}: {response.status_code} {response.text[:200]}")
                return False
            return True

        def writer(n: int):
            browser = Browser(server.base)
            if not check(browser.login(setup["emails"][n]), "login"):
                return
            for r in range(ROUNDS):
                title = f"Writer {n} round {r}"
                created = browser.save_event("/events/new", title, setup["theme_id"])
                if not check(created, "create") or created.status_code != 302:
                    continue
                with lock:
                    acknowledged.append(title)
                event_id = event_id_from(created)
                edited = browser.save_event(
                    f"/events/{event_id}/edit", title + " edited", setup["theme_id"]
                )
                if check(edited, "edit") and edited.status_code == 302:
                    with lock:
                        acknowledged.remove(title)
                        acknowledged.append(title + " edited")
                check(browser.get("/events?q=writer"), "list")

        def reader():
            browser = Browser(server.base)
            for _ in range(ROUNDS * 3):
                check(browser.get("/events"), "list")
                check(browser.get("/"), "home")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        threads += [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        log = server.log_text()

    assert not problems, "\n".join(problems)
    assert "database is locked" not in log and "Traceback" not in log, log[-3000:]
    assert len(acknowledged) == WRITERS * ROUNDS  # nobody was turned away either
    engine = make_engine(database_url)
    with engine.connect() as conn:
        stored = Counter(conn.scalars(select(Event.title)))
    engine.dispose()
    for title in acknowledged:
        assert stored[title] == 1, f"{title!r} stored {stored[title]} times; {sorted(stored)}"
    assert sum(stored.values()) == len(acknowledged)
