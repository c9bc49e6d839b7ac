"""Benchmark the event-list exports: time, peak memory and SQL statements at 10k and 100k events.

    .venv/bin/python bench/export.py [--sizes 10000 100000] [--formats csv xlsx json]

Each size gets a scratch SQLite database (CAMPAIGN_INSTANCE_PATH in a temporary
directory) filled by ``seed-demo``. Each measurement runs the real ``export`` command in
a fresh child process, so its memory is its own; a "baseline" child loads the app and
the export code and exports nothing, to show what the export adds. Peak memory is the
kernel's high-water mark of resident memory (VmHWM), read for the whole child and for
the export alone (reset just before it starts).
Exports stream in batches, so peak memory must not grow with the number of events:
the script fails if peak(100k) > 1.3 x peak(10k) for any format.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_RATIO = 1.3


def child(fmt: str, output: str) -> None:
    """Run inside the measured process: the CLI command, counting SQL statements."""
    sys.path.insert(0, str(ROOT))
    from flask.cli import ScriptInfo
    from sqlalchemy import event

    from campaign import create_app, exports  # noqa: F401 - loaded in the baseline too
    from campaign.cli import export

    app = create_app()
    statements = 0

    def count(_conn, _cursor, statement, *_args):
        nonlocal statements
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
            statements += 1

    event.listen(app.extensions["campaign.engine"], "before_cursor_execute", count)
    # Start the high-water mark afresh (Linux >= 4.0): app start-up (e.g. the scrypt of the
    # login form's dummy hash) must not hide what the export itself uses. This resets
    # ru_maxrss too, so the start-up peak is read first.
    startup_kib = peak_kib()
    Path("/proc/self/clear_refs").write_text("5")
    started = time.perf_counter()
    if fmt != "baseline":
        export.main(
            ["--format", fmt, "-o", output],
            obj=ScriptInfo(create_app=lambda: app),
            standalone_mode=False,
        )
    seconds = time.perf_counter() - started
    size = os.path.getsize(output) if fmt != "baseline" else 0
    export_kib = peak_kib()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "statements": statements,
                "bytes": size,
                "export_mib": export_kib / 1024,
                "peak_mib": max(startup_kib, export_kib) / 1024,
            }
        )
    )


def peak_kib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0])


def measure(env: dict, fmt: str, output: Path) -> dict:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", fmt, str(output)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"export --format {fmt} failed with exit code {proc.returncode}")
    result = json.loads(out)
    result["cpu"] = usage.ru_utime + usage.ru_stime
    return result


def flask(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "campaign", *args],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx", "json"])
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    results: dict[tuple[int, str], dict] = {}
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix=f"campaign-bench-{size}-") as scratch:
            env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
            env["CAMPAIGN_INSTANCE_PATH"] = scratch
            started = time.perf_counter()
            flask(env, "init-db")
            flask(env, "seed-demo", "--events", str(size), "--seed", "2019")
            print(f"seeded {size:,} events in {time.perf_counter() - started:.1f} s", flush=True)
            for fmt in ["baseline", *args.formats]:
                results[size, fmt] = r = measure(env, fmt, Path(scratch) / f"export.{fmt}")
                print(
                    f"  {fmt:8} {r['seconds']:7.2f} s  peak {r['export_mib']:6.1f} MiB  "
                    f"{r['statements']:5} statements  {r['bytes'] / 2**20:7.1f} MiB written",
                    flush=True,
                )

    small, large = min(args.sizes), max(args.sizes)
    print()
    print(
        "| format | events | export time (s) | process CPU (s) | peak RSS during export (MiB) "
        "| peak RSS of the process (MiB) | SQL statements | file (MiB) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for fmt in ["baseline", *args.formats]:
        for size in args.sizes:
            r = results[size, fmt]
            print(
                f"| {fmt} | {size:,} | {r['seconds']:.1f} | {r['cpu']:.1f} | "
                f"{r['export_mib']:.1f} | {r['peak_mib']:.1f} | {r['statements']} | "
                f"{r['bytes'] / 2**20:.1f} |"
            )
    print()
    failed = False
    if small != large:
        for fmt in args.formats:
            ratio = results[large, fmt]["export_mib"] / results[small, fmt]["export_mib"]
            whole = results[large, fmt]["peak_mib"] / results[small, fmt]["peak_mib"]
            ok = ratio <= MAX_RATIO and whole <= MAX_RATIO
            failed |= not ok
            print(
                f"{fmt}: peak({large:,}) / peak({small:,}) = {ratio:.3f} during the export, "
                f"{whole:.3f} for the whole process (limit {MAX_RATIO}) {'ok' if ok else 'FAIL'}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
