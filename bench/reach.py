"""Reach-report benchmark: /reports/reach at 1,000, 10,000 and 100,000 events and as many
media items; each tenfold step may cost at most 10×.

    .venv/bin/python bench/reach.py [--sizes 1000 10000 100000] [--repeat 5]

Seeds one scratch SQLite database per size with the deterministic demo data (seed-demo,
``--media`` equal to the events), logs an organizer in, then requests in-process through
the Flask test client, for the whole campaign and for one theme:

- ``/reports/reach`` (HTML with its SVG charts): time and SQL statements,
- ``/reports/reach.xlsx`` (native Excel charts): time,
- ``/reports/reach.pdf`` (WeasyPrint, A4): time, and the part of it WeasyPrint spends
  rendering the printable page.

Times are the best of ``--repeat`` requests after a warm one (the run least disturbed by
other work on a shared machine).

It prints a table and the ratio of each step, writes ``bench/results/reach.json``, and
exits with status 1 when a tenfold step of the HTML report costs more than 10×, or when
the number of statements changes with the size.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from campaign import create_app
from campaign.auth import operations as user_ops
from campaign.db import get_session
from campaign.demo import seed_demo_data
from campaign.migrate import upgrade

PASSWORD = "bench-Reach-report-2019!"
EMAIL = "bench@ipap2.example.org"
QUERIES = {
    "whole campaign": "from=2019-11-01&to=2021-12-31",
    "one theme": "from=2019-11-01&to=2021-12-31&theme=eadrcc",
}
RESULTS = Path(__file__).resolve().parent / "results" / "reach.json"


def build(directory: Path, size: int):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{directory / 'campaign.sqlite3'}",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "LOG_LEVEL": "WARNING",  # else a log line per request is measured too
        }
    )
    upgrade(app.extensions["campaign.engine"])
    started = time.perf_counter()
    with app.app_context():
        session = get_session()
        user_ops.create_user(session, None, EMAIL, PASSWORD, "organizer", "Bench")
        made = seed_demo_data(session, size, seed=2019, media=size)
    seconds = time.perf_counter() - started
    print(
        f"  seeded {made['events']:,} events and {made['media']:,} media items in {seconds:.1f} s",
        flush=True,
    )
    client = app.test_client()
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return app, client


def timed(client, url: str, repeat: int) -> float:
    """The best of ``repeat`` requests after a warm one: on a shared machine the fastest
    run is the one least disturbed by other work, so it is the cost of the request."""
    assert client.get(url).status_code == 200, url  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, url
    return min(times)


def statements(app, client, url: str) -> int:
    engine = app.extensions["campaign.engine"]
    seen = []

    def before(conn, cursor, statement, params, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(seen)


def timed_pdf(client, query: str, repeat: int) -> tuple[float, float]:
    """The best time of the PDF request and of WeasyPrint's write_pdf within it."""
    import weasyprint

    spent = []
    original = weasyprint.HTML.write_pdf

    def write_pdf(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    weasyprint.HTML.write_pdf = write_pdf
    try:
        total = timed(client, f"/reports/reach.pdf?{query}", repeat)
    finally:
        weasyprint.HTML.write_pdf = original
    return total, min(spent[1:] or spent)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results: dict = {"sizes": args.sizes, "repeat": args.repeat, "runs": {}}
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        print("Seeding…", flush=True)
        apps = {}
        for size in args.sizes:
            directory = Path(tmp, str(size))
            directory.mkdir()
            apps[size] = build(directory, size)
        for name, query in QUERIES.items():
            print(f"\n{name}: ?{query}")
            print(
                f"{'events + items':>16} {'HTML':>9} {'stmts':>6} {'XLSX':>9} {'PDF':>9}"
                f" {'WeasyPrint':>11}"
            )
            rows = []
            for size in args.sizes:
                app, client = apps[size]
                html = timed(client, f"/reports/reach?{query}", args.repeat)
                count = statements(app, client, f"/reports/reach?{query}")
                xlsx = timed(client, f"/reports/reach.xlsx?{query}", args.repeat)
                pdf, render = timed_pdf(client, query, args.repeat)
                rows.append(
                    {"size": size, "html": html, "statements": count, "xlsx": xlsx, "pdf": pdf,
                     "weasyprint": render}
                )  # fmt: skip
                print(
                    f"{size:>7,} + {size:>7,} {html * 1000:7.1f}ms {count:>6} {xlsx * 1000:7.1f}ms"
                    f" {pdf * 1000:7.1f}ms {render * 1000:9.1f}ms",
                    flush=True,
                )
            for small, large in zip(rows, rows[1:], strict=False):
                ratio = large["html"] / small["html"]
                step = f"{small['size']:,} → {large['size']:,}"
                print(
                    f"  {step}: HTML {ratio:.2f}×, XLSX {large['xlsx'] / small['xlsx']:.2f}×,"
                    f" PDF {large['pdf'] / small['pdf']:.2f}×"
                )
                limit = large["size"] / small["size"]  # at most linear: 10× per tenfold step
                if ratio > limit:
                    failures.append(f"{name}: {step} costs {ratio:.2f}× (limit {limit:.0f}×)")
                if large["statements"] != small["statements"]:
                    failures.append(
                        f"{name}: {small['statements']} statements at {small['size']:,}, "
                        f"{large['statements']} at {large['size']:,}"
                    )
            results["runs"][name] = rows
        for app, _client in apps.values():
            app.extensions["campaign.engine"].dispose()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    for failure in failures:
        print("FAIL", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
