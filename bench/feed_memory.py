"""Feed memory benchmark (not a test): a gunicorn worker's peak RSS serving the whole
public feed of 10,000 and of 100,000 events, with the default feed cache budget.

    .venv/bin/python bench/feed_memory.py [--events 10000 100000] [--requests 3]

For each size: a new SQLite database with ``seed-demo``; a worker serves the feed once
(rendering and storing every VEVENT: the first request ever), then a new worker (a
restart) serves it ``--requests`` times identity and gzip. Reports each worker's peak
resident set (VmHWM) and the feed's sizes. With the default budget (FEED_CACHE_BYTES,
128 MiB) the 10,000-event feed is cached whole and the 100,000-event feed is streamed
from the stored renderings, so the second worker's peak should stay within 1.5x of the
first's. Writes bench/results/feed_memory.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from feed import GZIP, VENV, Server, free_port

ROOT = Path(__file__).resolve().parent.parent


def worker_peak_rss(server: Server) -> int:
    """VmHWM in bytes of the gunicorn worker (the master's only child)."""
    master = server.proc.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    (worker,) = children
    for line in Path(f"/proc/{worker}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def measure(events: int, requests: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="campaign-bench-feed-memory-"))
    env = {
        **os.environ,
        "CAMPAIGN_INSTANCE_PATH": str(work),
        "CAMPAIGN_SITE_URL": "https://kampanja.example.org",
        "BENCH_STATIC_COPY": str(work / "static-copy.ics"),
    }
    env.pop("CAMPAIGN_DATABASE_URL", None)
    env.pop("CAMPAIGN_FEED_CACHE_BYTES", None)
    flask = [str(VENV / "flask"), "--app", "campaign"]
    quiet = {"env": env, "check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([*flask, "init-db", "--admin-email", "bench@ipap2.example.org"], **quiet)
    subprocess.run([*flask, "seed-demo", "--events", str(events), "--seed", "2019"], **quiet)
    server = Server(env, free_port())
    try:
        server.start()
        seconds, status, body, _headers = server.get("/calendar.ics")
        assert status == 200
        first_peak = worker_peak_rss(server)
        server.stop()
        server.start()
        idle = worker_peak_rss(server)
        gz_size = 0
        for _ in range(requests):
            _, status, body, _ = server.get("/calendar.ics")
            assert status == 200
            _, status, gz_body, headers = server.get("/calendar.ics", GZIP)
            assert status == 200 and headers["Content-Encoding"] == "gzip"
            gz_size = len(gz_body)
        peak = worker_peak_rss(server)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "events": events,
        "feed_bytes": len(body),
        "feed_gzip_bytes": gz_size,
        "first_request_ever_seconds": round(seconds, 3),
        "peak_rss_first_request_ever": first_peak,
        "rss_restarted_worker_before_requests": idle,
        "peak_rss_restarted_worker_serving": peak,
        # What serving added to the worker's footprint after it had started.
        "growth_serving": peak - idle,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--requests", type=int, default=3)
    args = parser.parse_args()
    runs = [measure(n, args.requests) for n in args.events]
    results = {"load_average": os.getloadavg(), "runs": runs}
    if len(runs) >= 2:
        results["ratios"] = {
            "peak_rss_serving_largest_vs_smallest (<=1.5)": round(
                runs[-1]["peak_rss_restarted_worker_serving"]
                / runs[0]["peak_rss_restarted_worker_serving"],
                3,
            ),
            "peak_rss_first_request_largest_vs_smallest": round(
                runs[-1]["peak_rss_first_request_ever"] / runs[0]["peak_rss_first_request_ever"],
                3,
            ),
        }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "feed_memory.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
