"""Backup and restore of the whole campaign as JSON Lines.

The file is UTF-8 text, one JSON object per line:

1. a header: ``{"format": "ipap2-campaign-backup", "version": 1, "schema": "<alembic
   revision>", "created": "<ISO 8601 UTC>", "tables": [<table names in load order>]}``;
2. one line per row: ``{"table": "<name>", "row": {<column>: <value>, ...}}``, tables in
   the header's order (parents before children), rows by primary key. Date-times are
   ISO 8601 in UTC with microseconds (``2020-03-10T17:00:00.123456+00:00``); JSON
   columns stay JSON; everything else is a JSON string, number, boolean or null;
3. a trailer: ``{"end": true, "counts": {<table>: <rows>, ...}}``. A file without it
   was cut short and is refused.

Everything is copied as stored: ids, password hashes, feed tokens, event uid, sequence,
version, created, updated, search_text, the links and the change history; only the
feeds' epoch (``feed_state.epoch``) is new, as the restored database is a new one. The
events' rendered VEVENTs (``event_renderings``) are derived data and left out: the feeds
render them again. Both commands stream, so memory stays flat whatever the size of the
campaign.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DataError, IntegrityError

from .migrate import current_revision, upgrade
from .models import Base, FeedState, UTCDateTime

FORMAT = "ipap2-campaign-backup"
VERSION = 1
BATCH = 1000


class BackupError(Exception):
    """The file or the database is not fit for the operation; nothing was written."""


# Derived data the program makes again from the rest (each event's rendered VEVENTs, see
# calendar.models.EventRendering): never written to a backup, never restored.
DERIVED = {"event_renderings", "render_contexts"}


def tables() -> list[Table]:
    """The tables a backup holds, in load order."""
    return [t for t in Base.metadata.sorted_tables if t.name not in DERIVED]


def _encode(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def _decoders(table: Table) -> dict[str, Callable]:
    def when(value):
        return None if value is None else datetime.fromisoformat(value)

    return {c.name: when for c in table.columns if isinstance(c.type, UTCDateTime)}


def write_backup(engine: Engine, out: IO[str], progress: Callable[[str, int], None]) -> dict:
    """Write the whole campaign to ``out``; returns the row count per table."""
    counts: dict[str, int] = {}
    options = {} if engine.dialect.name == "sqlite" else {"isolation_level": "REPEATABLE READ"}
    # One transaction: the copy is a consistent snapshot even while people keep working.
    with engine.connect().execution_options(**options) as conn, conn.begin():
        header = {
            "format": FORMAT,
            "version": VERSION,
            "schema": _revision(conn),
            "created": datetime.now(UTC).isoformat(timespec="microseconds"),
            "tables": [t.name for t in tables()],
        }
        out.write(json.dumps(header, ensure_ascii=False) + "\n")
        for table in tables():
            n = 0
            query = select(table).order_by(*table.primary_key.columns)
            result = conn.execution_options(yield_per=BATCH).execute(query)
            for row in result.mappings():
                record = {k: _encode(v) for k, v in row.items()}
                out.write(json.dumps({"table": table.name, "row": record}, ensure_ascii=False))
                out.write("\n")
                n += 1
            counts[table.name] = n
            progress(table.name, n)
        out.write(json.dumps({"end": True, "counts": counts}) + "\n")
    return counts


def _revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def backup_to_file(engine: Engine, path: Path, progress) -> dict:
    """Write to ``path`` through a temporary file, so a failed backup leaves nothing."""
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="\n") as out:
            counts = write_backup(engine, out, progress)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return counts


def _lines(source: IO[str]) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise BackupError(f"line {number} is not JSON ({exc.msg}).") from None
        if not isinstance(item, dict):
            raise BackupError(f"line {number} is not a JSON object.")
        yield number, item


# Rows the migrations seed (the IPAP 2 themes, the feeds' state row) may be present: a
# restore replaces them with the backup's own.
SEEDED = {"themes", "feed_state"}


def check_empty(conn: Connection) -> None:
    busy = [
        f"{t.name} ({n} rows)"
        for t in tables()
        if t.name not in SEEDED and (n := conn.scalar(select(func.count()).select_from(t)))
    ]
    if busy:
        raise BackupError(
            "the database is not empty: "
            + ", ".join(busy)
            + ". Restore only into a new, empty database (run init-db on it first, "
            "without creating users)."
        )


def restore(engine: Engine, source: IO[str], progress: Callable[[str, int], None]) -> dict:
    """Load a backup into an empty database, in one transaction: all or nothing."""
    upgrade(engine)
    schema = current_revision(engine)
    by_name = {t.name: t for t in tables()}
    counts: dict[str, int] = {}
    lines = _lines(source)
    try:
        _number, header = next(lines)
    except StopIteration:
        raise BackupError("the file is empty.") from None
    if header.get("format") != FORMAT:
        raise BackupError("this is not a campaign backup (no format header on line 1).")
    if header.get("version") != VERSION:
        raise BackupError(
            f"backup format version {header.get('version')!r} is not supported "
            f"(this program reads version {VERSION})."
        )
    if header.get("schema") != schema:
        raise BackupError(
            f"the backup was made at schema revision {header.get('schema')!r}, the database "
            f"is at {schema!r}; restore with the program version that made the backup."
        )
    trailer = None
    with engine.begin() as conn:
        check_empty(conn)
        for name in SEEDED:
            conn.execute(by_name[name].delete())
        batch: list[dict] = []
        current: Table | None = None

        def flush():
            if batch:
                try:
                    conn.execute(current.insert(), batch)
                except (IntegrityError, DataError) as exc:
                    reason = str(exc.orig).splitlines()[0]
                    raise BackupError(
                        f"rows of {current.name} break the schema: {reason}."
                    ) from None
                batch.clear()

        for number, item in lines:
            if trailer is not None:
                raise BackupError(f"line {number} follows the end marker.")
            if item.get("end") is True:
                flush()
                if current is not None:
                    progress(current.name, counts[current.name])
                trailer = item
                continue
            table = by_name.get(item.get("table"))
            row = item.get("row")
            if table is None or not isinstance(row, dict):
                raise BackupError(f"line {number} is not a row of a campaign table.")
            if table is not current:
                flush()
                if current is not None:
                    progress(current.name, counts[current.name])
                current = table
                counts.setdefault(table.name, 0)
            unknown = set(row) - set(table.columns.keys())
            if unknown:
                raise BackupError(f"line {number}: unknown columns {sorted(unknown)}.")
            try:
                for column, decode in _decoders(table).items():
                    if column in row:
                        row[column] = decode(row[column])
            except (TypeError, ValueError) as exc:
                raise BackupError(f"line {number}: bad date-time ({exc}).") from None
            batch.append(row)
            counts[table.name] += 1
            if len(batch) >= BATCH:
                flush()
        if trailer is None:
            raise BackupError("the file ends without the end marker; it was cut short.")
        expected = trailer.get("counts", {})
        if {k: v for k, v in expected.items() if v} != {k: v for k, v in counts.items() if v}:
            raise BackupError(f"the file holds {counts} rows but its end marker says {expected}.")
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
        _new_epoch(conn)
    return counts


def _new_epoch(conn: Connection) -> None:
    """A restored database is another database, even at the same address: a worker that
    answered the old one's feeds at generation N must not take the restored generation N
    for it (see calendar.feeds), so the copied epoch is replaced."""
    conn.execute(
        update(FeedState).values(epoch=str(uuid.uuid4()), reset_generation=FeedState.generation)
    )


def _reset_sequences(conn: Connection) -> None:
    """Rows came with their ids; move each id sequence past the largest one."""
    for table in tables():
        if "id" in table.columns and table.columns["id"].primary_key:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
                )
            )
