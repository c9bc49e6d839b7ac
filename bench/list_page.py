"""List-page benchmark: time of /events at 1,000 and at 100,000 events, as a ratio.

    .venv/bin/python bench/list_page.py [--small 1000] [--large 100000] [--repeat 30]

Seeds two scratch SQLite databases with the deterministic demo data (seed-demo), then
requests the list page in-process through the Flask test client and reports the median
time per request for several filters (requests to the two databases interleaved), and
large/small ratios measured in this one run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from campaign import create_app
from campaign.db import get_session
from campaign.demo import seed_demo_data
from campaign.migrate import upgrade

URLS = [
    "/events",
    "/events?page=40",
    "/events?theme=eadrcc",
    "/events?city=Novi+Sad&format=panel",
    "/events?from=2020-06-01&to=2020-06-30",
    "/events?q=poplave",
    "/events/calendar?month=2020-10",
    "/",
]


def build(directory: Path, events: int):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{directory / 'campaign.sqlite3'}",
            "TESTING": True,
            "LOG_LEVEL": "WARNING",  # else a log line per request is measured too
        }
    )
    upgrade(app.extensions["campaign.engine"])
    started = time.perf_counter()
    with app.app_context():
        seed_demo_data(get_session(), events, seed=2019)
    print(f"  seeded {events:,} events in {time.perf_counter() - started:.1f} s", flush=True)
    return app


def measure(apps, url: str, repeat: int) -> list[float]:
    """Median time of ``url`` on each app, requests interleaved (small, large, small, …) so
    that a change in the machine's load during the run weighs on both alike."""
    clients = [app.test_client() for app in apps]
    for client in clients:
        assert client.get(url).status_code == 200, url  # warm caches
    times: list[list[float]] = [[] for _ in clients]
    for _ in range(repeat):
        for client, spent in zip(clients, times, strict=True):
            started = time.perf_counter()
            response = client.get(url)
            spent.append(time.perf_counter() - started)
            assert response.status_code == 200
    return [statistics.median(spent) for spent in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small_dir, large_dir = Path(tmp, "small"), Path(tmp, "large")
        small_dir.mkdir()
        large_dir.mkdir()
        print("Seeding…", flush=True)
        small, large = build(small_dir, args.small), build(large_dir, args.large)
        print(f"\n{'URL':45} {args.small:>9,} {args.large:>9,}   ratio")
        ratios = []
        for url in URLS:
            a, b = measure((small, large), url, args.repeat)
            ratios.append(b / a)
            print(f"{url:45} {a * 1000:7.1f}ms {b * 1000:7.1f}ms  {b / a:5.2f}×", flush=True)
        print(f"\n/events ratio ({args.large:,} vs {args.small:,} events): {ratios[0]:.2f}×")


if __name__ == "__main__":
    main()
