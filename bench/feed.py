"""Feed benchmark (not a test): a 10,000-event database served by gunicorn on 127.0.0.1.

    .venv/bin/python bench/feed.py [--events 10000] [--requests 30]

Measures, with bounded loops of real HTTP requests:
(a) an unchanged /calendar.ics against the same bytes served as a static file (target <= 1.5x);
(b) a 304 answer as a fraction of that static file;
(c) the first request after one event is edited against rebuilding the whole feed with
    icalendar per request (target <= 0.2x);
(d) the first request after a restart against that rebuild (target <= 1x);
(e) the same with Accept-Encoding: gzip: the compressed feed's size, the unchanged
    compressed feed against its bytes as a static file (target <= 1.2x), the first
    compressed request after an edit against that static file (target <= 4x); and the
    first identity request after an edit against the static file (target <= 3x).
Writes bench/results/feed.json and prints the ratios.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
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
GZIP = {"Accept-Encoding": "gzip"}


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
        """The median time of each request, the requests taking turns ``n`` times, in
        another order each round (seeded): in a fixed order each request would always
        follow the same one, e.g. a 304 always right after a 16.8 MB answer that left
        the CPU's caches cold, another always after a 304."""
        times: list[list[float]] = [[] for _ in requests]
        order = list(range(len(requests)))
        rng = random.Random(2019)
        for _ in range(n):
            rng.shuffle(order)
            for i in order:
                path, headers, status = requests[i]
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
        _, status, gz_body, gz_headers = server.get("/calendar.ics", GZIP)
        assert status == 200 and gz_headers["Content-Encoding"] == "gzip"
        (work / "static-copy.ics.gz").write_bytes(gz_body)
        server.get("/_bench/static.ics")
        server.get("/_bench/static.ics.gz", GZIP)
        etag = {"If-None-Match": headers["ETag"]}
        static_etag = {"If-None-Match": server.get("/_bench/static.ics")[3]["ETag"]}
        # Interleaved, so that the load of a shared machine falls on all alike.
        feed, static, not_modified, static_304, feed_gz, static_gz = server.interleaved(
            [("/calendar.ics", None, 200), ("/_bench/static.ics", None, 200),
             ("/calendar.ics", etag, 304), ("/_bench/static.ics", static_etag, 304),
             ("/calendar.ics", GZIP, 200), ("/_bench/static.ics.gz", GZIP, 200)],
            args.requests,
        )  # fmt: skip
        naive = server.median("/_bench/naive.ics", 3)

        after_edit, after_edit_gz, static_then, static_gz_then = [], [], [], []
        for i in range(args.edits):
            edit_one_event(env, 2 * i)
            after_edit.append(server.get("/calendar.ics")[0])
            edit_one_event(env, 2 * i + 1)
            after_edit_gz.append(server.get("/calendar.ics", GZIP)[0])
            # The static files right after, under the same load.
            static_then.append(server.get("/_bench/static.ics")[0])
            static_gz_then.append(server.get("/_bench/static.ics.gz", GZIP)[0])
        edited = statistics.median(after_edit)
        edited_gz = statistics.median(after_edit_gz)
        static_now = statistics.median(static_then)
        static_gz_now = statistics.median(static_gz_then)

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
        "load_average": os.getloadavg(),
        "feed_bytes": len(body),
        "feed_gzip_bytes": len(gz_body),
        "seconds": {
            "feed_unchanged": feed,
            "static_file": static,
            "not_modified_304": not_modified,
            "static_304": static_304,
            "feed_gzip_unchanged": feed_gz,
            "static_gzip_file": static_gz,
            "feed_gzip_after_one_edit": edited_gz,
            "static_file_during_edits": static_now,
            "static_gzip_file_during_edits": static_gz_now,
            "naive_icalendar_rebuild": naive,
            "feed_after_one_edit": edited,
            "feed_first_after_restart": cold,
        },
        "ratios": {
            "a_unchanged_vs_static (<=1.5)": round(feed / static, 3),
            "b_304_vs_static": round(not_modified / static, 3),
            "c_after_edit_vs_naive (<=0.2)": round(edited / naive, 3),
            "a2_unchanged_vs_static (<=1.15)": round(feed / static, 3),
            "b2_304_vs_static_304 (<=1.5)": round(not_modified / static_304, 3),
            "e_gzip_size_vs_identity (<=1/6)": round(len(gz_body) / len(body), 3),
            "e_gzip_unchanged_vs_static_gzip (<=1.2)": round(feed_gz / static_gz, 3),
            "e_after_edit_vs_static (<=3)": round(edited / static_now, 3),
            "e_gzip_after_edit_vs_static_gzip (<=4)": round(edited_gz / static_gz_now, 3),
            "d_after_restart_vs_naive (<=1)": round(cold / naive, 3),
        },
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "feed.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
