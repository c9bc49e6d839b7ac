"""Bounded mixed load against gunicorn (4 workers) on 127.0.0.1, on SQLite and PostgreSQL.

    .venv/bin/python bench/load.py [--seconds 20] [--backends sqlite,postgresql]
                                   [--readers 6] [--writers 3] [--events 500]

For each backend: a fresh database (a PostgreSQL server is started for the run) with the
deterministic demo events and a few organizers, then gunicorn ``campaign.wsgi:app`` with
4 workers. Anonymous readers fetch list pages, the month view, event pages and, when the
URLs exist, the feeds (with and without If-None-Match) and the exports; organizers log in
and create and edit events through the real forms. Halfway through the PostgreSQL run the
server is stopped for a few seconds and started again: answers in that window must be 503
pages (counted apart, not as errors) and the app must recover by itself.

Reports requests, errors (must be 0), 503s, p50 and p95 per kind (of the answers other
than 503), then checks that every
write the server acknowledged is stored exactly once. Results go to bench/results/.
Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import requests
from sqlalchemy import select

# The helpers live with the tests (tests/support/), not in the installed package.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from campaign.db import make_engine  # noqa: E402
from campaign.models import Event  # noqa: E402
from tests.support.live import Browser, Gunicorn, event_id_from, prepare_database  # noqa: E402
from tests.support.pg import PostgresServer  # noqa: E402

RESULTS = ROOT / "bench" / "results"
LIST_URLS = [
    "/",
    "/events",
    "/events?page=3",
    "/events?theme=eadrcc",
    "/events?q=poplave",
    "/events?city=Novi+Sad&format=panel",
    "/events/calendar?month=2020-10",
    "/themes/cyber-security",
]
# Join the mix automatically once they exist (feeds: issue 3, exports: issue 4).
FEED_URLS = ["/calendar.ics", "/calendar.ics?theme=eadrcc", "/themes/kfor/calendar.ics"]
EXPORT_URLS = ["/events.csv", "/events.json", "/events.xlsx", "/events.csv?theme=kfor"]


class Run:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.unavailable: Counter = Counter()
        self.unavailable_outside: list[str] = []
        self.outage: tuple[float, float] | None = None  # monotonic start, end (+ grace)
        # Each acknowledged write as the titles it may be stored under: an edit that got
        # no answer (outage) may or may not have been committed, but never twice.
        self.acknowledged: list[tuple[str, ...]] = []

    def during_outage(self, started: float) -> bool:
        if self.outage is None:
            return False
        begin, end = self.outage
        return begin - 1 <= started and (end == 0 or started <= end + 5)

    def record(self, kind: str, started: float, response=None, failure=None) -> bool:
        """True when the answer is a good one (2xx/3xx/304)."""
        elapsed = (time.monotonic() - started) * 1000
        with self.lock:
            if failure is not None:
                if self.during_outage(started):
                    self.unavailable[kind] += 1
                else:
                    self.errors.append(f"{kind}: {failure}")
                return False
            if response.status_code == 503:
                self.unavailable[kind] += 1
                if not self.during_outage(started):
                    self.unavailable_outside.append(kind)
                return False
            self.latency[kind].append(elapsed)
            if response.status_code >= 500 or "database is locked" in response.text:
                self.errors.append(f"{kind}: {response.status_code} {response.text[:120]!r}")
                return False
            return response.status_code < 400


def call(run: Run, kind: str, fn):
    started = time.monotonic()
    try:
        response = fn()
    except requests.RequestException as exc:
        run.record(kind, started, failure=type(exc).__name__)
        return None
    ok = run.record(kind, started, response)
    return response if ok else None


def discover(base: str, event_ids: list[int]) -> dict[str, list[str]]:
    browser = Browser(base)
    kinds = {"list": LIST_URLS, "event": [f"/events/{i}" for i in event_ids]}
    for kind, urls in (("feed", FEED_URLS), ("export", EXPORT_URLS)):
        found = [u for u in urls if browser.get(u).status_code != 404]
        if found:
            kinds[kind] = found
    return kinds


def reader(run: Run, base: str, kinds: dict, stop: float, seed: int):
    rng = random.Random(seed)
    browser = Browser(base)
    etags: dict[str, str] = {}
    choices = [k for k in kinds]
    while time.monotonic() < stop:
        kind = rng.choice(choices)
        url = rng.choice(kinds[kind])
        if kind == "feed" and url in etags and rng.random() < 0.5:
            call(run, "feed 304", lambda u=url: browser.get(u, headers={"If-None-Match": etags[u]}))
            continue
        response = call(run, kind, lambda u=url: browser.get(u))
        if response is not None and kind == "feed" and response.headers.get("ETag"):
            etags[url] = response.headers["ETag"]


def writer(run: Run, base: str, email: str, theme_id: int, stop: float, n: int):
    browser = Browser(base)
    logged_in = False
    r = 0
    while time.monotonic() < stop:
        if not logged_in:
            logged_in = call(run, "login", lambda: browser.login(email)) is not None
            if not logged_in:
                time.sleep(0.5)
                continue
        title = f"Load {n}-{r} {time.time_ns()}"
        r += 1
        created = call(
            run, "create", lambda t=title: browser.save_event("/events/new", t, theme_id)
        )
        if created is None or event_id_from(created) is None:
            if created is not None and "/login" in created.headers.get("Location", ""):
                logged_in = False
            continue
        event_id = event_id_from(created)
        edited_title = title + " edited"
        edited = call(
            run,
            "edit",
            lambda t=edited_title, e=event_id: browser.save_event(
                f"/events/{e}/edit", t, theme_id, status="draft"
            ),
        )
        done = edited is not None and event_id_from(edited) is not None
        with run.lock:
            run.acknowledged.append((edited_title,) if done else (title, edited_title))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run_backend(backend: str, args, workdir: Path) -> dict:
    server = None
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'load.sqlite3'}"
    else:
        server = PostgresServer().start()
        server.admin("CREATE DATABASE campaign_load")
        url = server.url("campaign_load")
    try:
        print(f"[{backend}] preparing {args.events} demo events ...", flush=True)
        setup = prepare_database(url, organizers=args.writers, demo_events=args.events)
        engine = make_engine(url)
        with engine.connect() as conn:
            public = list(conn.scalars(select(Event.id).where(Event.status != "draft").limit(200)))
            seeded = len(list(conn.scalars(select(Event.id))))
        run = Run()
        with Gunicorn(url, workers=4, log_dir=workdir / backend) as live:
            kinds = discover(live.base, public)
            print(f"[{backend}] gunicorn on {live.base}; mix: {sorted(kinds)}", flush=True)
            started = time.monotonic()
            stop = started + args.seconds
            threads = [
                threading.Thread(target=reader, args=(run, live.base, kinds, stop, n))
                for n in range(args.readers)
            ] + [
                threading.Thread(
                    target=writer,
                    args=(run, live.base, setup["emails"][n], setup["theme_id"], stop, n),
                )
                for n in range(args.writers)
            ]
            for t in threads:
                t.start()
            if server is not None:
                time.sleep(args.seconds / 2)
                print(f"[{backend}] stopping PostgreSQL for {args.outage} s ...", flush=True)
                run.outage = (time.monotonic(), 0)
                server.pause()
                time.sleep(args.outage)
                server.resume()
                run.outage = (run.outage[0], time.monotonic())
                print(f"[{backend}] PostgreSQL is back", flush=True)
            for t in threads:
                t.join()
            elapsed = time.monotonic() - started
            # Recovery by itself: after the run a fresh request must be answered normally.
            recovered = Browser(live.base).get("/events").status_code == 200
            log = live.log_text()
        # The server's own log, for the tracebacks behind any error counted below.
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"gunicorn-{backend}.log").write_text(log)
        with engine.connect() as conn:
            titles = Counter(conn.scalars(select(Event.title)))
        engine.dispose()
        missing = [alts for alts in run.acknowledged if sum(titles[t] for t in alts) != 1]
        duplicates = [t for t, n in titles.items() if n > 1 and t.startswith("Load ")]
        new_rows = sum(titles.values()) - seeded
        kinds_report = {
            kind: {
                "requests": len(values) + run.unavailable.get(kind, 0),
                "p50_ms": round(statistics.median(values), 1) if values else 0,
                "p95_ms": round(percentile(values, 95), 1),
                "503": run.unavailable.get(kind, 0),
            }
            for kind, values in sorted(run.latency.items())
        }
        total = sum(len(v) for v in run.latency.values()) + sum(run.unavailable.values())
        result = {
            "backend": backend,
            "seconds": round(elapsed, 1),
            "workers": 4,
            "readers": args.readers,
            "writers": args.writers,
            "seeded_events": seeded,
            "requests": total,
            "requests_per_second": round(total / elapsed, 1),
            "errors": len(run.errors),
            "error_samples": run.errors[:10],
            "unavailable_503": sum(run.unavailable.values()),
            "unavailable_outside_outage": len(run.unavailable_outside),
            "outage_seconds": args.outage if server is not None else 0,
            "recovered": recovered,
            "kinds": kinds_report,
            "acknowledged_writes": len(run.acknowledged),
            "events_added": new_rows,
            "acknowledged_missing_or_duplicated": missing[:10],
            "duplicated_titles": duplicates[:10],
            "database_is_locked_in_log": "database is locked" in log,
            "tracebacks_in_log": log.count("Traceback"),
        }
        result["ok"] = (
            not run.errors
            and not missing
            and not duplicates
            and recovered
            and not run.unavailable_outside
            and not result["database_is_locked_in_log"]
        )
        return result
    finally:
        if server is not None:
            server.stop()


def report(result: dict) -> str:
    lines = [
        f"== {result['backend']}: {result['requests']} requests in {result['seconds']} s "
        f"({result['requests_per_second']}/s), errors {result['errors']}, "
        f"503 during outage {result['unavailable_503']}, "
        f"acknowledged writes {result['acknowledged_writes']} "
        f"(all stored once: {not result['acknowledged_missing_or_duplicated']}), "
        f"recovered: {result['recovered']}",
        f"   {'kind':<10}{'requests':>9}{'503':>6}{'p50 ms':>9}{'p95 ms':>9}",
    ]
    for kind, k in result["kinds"].items():
        lines.append(
            f"   {kind:<10}{k['requests']:>9}{k['503']:>6}{k['p50_ms']:>9}{k['p95_ms']:>9}"
        )
    for sample in result["error_samples"]:
        lines.append(f"   error: {sample}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="load per backend")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--readers", type=int, default=6)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--events", type=int, default=500, help="demo events seeded first")
    parser.add_argument("--outage", type=float, default=3, help="seconds PostgreSQL is down")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="campaign-load-") as tmp:
        for backend in args.backends.split(","):
            result = run_backend(backend, args, Path(tmp))
            print(report(result), flush=True)
            results.append(result)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"load-{stamp}.json"
    out.write_text(json.dumps({"args": vars(args), "results": results}, indent=2))
    (RESULTS / f"load-{stamp}.txt").write_text("\n".join(report(r) for r in results) + "\n")
    print(f"Results written to {out}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
