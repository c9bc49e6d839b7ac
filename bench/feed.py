"""Feed benchmark (not a test): a 10,000-event database served by gunicorn on 127.0.0.1.

    .venv/bin/python bench/feed.py [--events 10000] [--requests 30]

Measures, with bounded loops of real HTTP requests:
(a) an unchanged /calendar.ics against the same bytes served as a static file (target <= 1.5x);
(b) a 304 answer as a fraction of that static file;
(c) the first request after one event is edited against rebuilding the whole feed with
    icalendar per request (target <= 0.2x);
(d) the first request after a restart against that rebuild (target <= 1x).
Writes bench/results/feed.json and prints the ratios.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env: dict, port: int):
        self.env, self.port, self.proc = env, port, None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(VENV / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{self.port}",
             "--chdir", str(ROOT / "bench"), "--log-level", "warning", "--timeout", "300",
             "feed_app:app"],
            env=self.env,
        )  # fmt: skip
        # The master listens before its worker has imported the app: wait for the worker.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.get("/_bench/ping")[1] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
            self.proc = None

    def get(self, path: str, headers: dict | None = None) -> tuple[float, int, bytes, dict]:
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        conn.close()
        return elapsed, response.status, body, dict(response.getheaders())

    def median(self, path: str, n: int, headers: dict | None = None, status: int = 200) -> float:
        return self.interleaved([(path, headers, status)], n)[0]

    def interleaved(self, requests: list[tuple], n: int) -> list[float]:
        """The median time of each request, the requests taking turns ``n`` times."""
        times: list[list[float]] = [[] for _ in requests]
        for _ in range(n):
            for i, (path, headers, status) in enumerate(requests):
                elapsed, got, _body, _headers = self.get(path, headers)
                assert got == status, (path, got)
                times[i].append(elapsed)
        return [statistics.median(t) for t in times]


def edit_one_event(env: dict, n: int) -> None:
    """Change the description of one public event through the operations layer."""
    os.environ.update(env)
    from sqlalchemy import select

    from campaign import create_app
    from campaign.db import get_session
    from campaign.events import operations as event_ops
    from campaign.events.filters import event_list_loading
    from campaign.models import Event

    app = create_app()
    with app.app_context():
        session = get_session()
        event = session.scalar(
            select(Event)
            .where(Event.status == "confirmed")
            .order_by(Event.id)
            .offset(n * 37)
            .limit(1)
            .options(*event_list_loading())
        )
        data = event_ops.event_data(event)
        data.description += f"\nBench edit {n}."
        assert event_ops.update_event(session, None, event, data, event.version)
    app.extensions["campaign.engine"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--edits", type=int, default=8)
    parser.add_argument("--restarts", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="campaign-bench-feed-"))
    env = {
        **os.environ,
        "CAMPAIGN_INSTANCE_PATH": str(work),
        "CAMPAIGN_SITE_URL": "https://kampanja.example.org",
        "BENCH_STATIC_COPY": str(work / "static-copy.ics"),
    }
    env.pop("CAMPAIGN_DATABASE_URL", None)
    flask = [str(VENV / "flask"), "--app", "campaign"]
    quiet = {"env": env, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run([*flask, "init-db", "--admin-email", "bench@ipap2.example.org"], **quiet)
    subprocess.run([*flask, "seed-demo", "--events", str(args.events), "--seed", "2019"], **quiet)

    server = Server(env, free_port())
    server.start()
    try:
        _, status, body, headers = server.get("/calendar.ics")
        assert status == 200
        (work / "static-copy.ics").write_bytes(body)
        server.get("/_bench/static.ics")
        etag = {"If-None-Match": headers["ETag"]}
        # Interleaved, so that the load of a shared machine falls on all three alike.
        feed, static, not_modified = server.interleaved(
            [("/calendar.ics", None, 200), ("/_bench/static.ics", None, 200),
             ("/calendar.ics", etag, 304)],
            args.requests,
        )  # fmt: skip
        naive = server.median("/_bench/naive.ics", 3)

        after_edit = []
        for i in range(args.edits):
            edit_one_event(env, i)
            after_edit.append(server.get("/calendar.ics")[0])
        edited = statistics.median(after_edit)

        first = []
        for _ in range(args.restarts):
            server.stop()
            server.start()
            first.append(server.get("/calendar.ics")[0])
        cold = statistics.median(first)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    results = {
        "events": args.events,
        "feed_bytes": len(body),
        "seconds": {
            "feed_unchanged": feed,
            "static_file": static,
            "not_modified_304": not_modified,
            "naive_icalendar_rebuild": naive,
            "feed_after_one_edit": edited,
            "feed_first_after_restart": cold,
        },
        "ratios": {
            "a_unchanged_vs_static (<=1.5)": round(feed / static, 3),
            "b_304_vs_static": round(not_modified / static, 3),
            "c_after_edit_vs_naive (<=0.2)": round(edited / naive, 3),
            "d_after_restart_vs_naive (<=1)": round(cold / naive, 3),
        },
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "feed.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
