"""Engine and session set-up. Nothing else in the package opens a session."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker


def database_url(app: Flask) -> str:
    url = app.config.get("DATABASE_URL")
    if url:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # psycopg 3 is the driver we ship; the bare scheme would ask for psycopg2.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    return "sqlite:///" + str(Path(app.instance_path) / "campaign.sqlite3")


def _sqlite_lower(value):
    # SQLite's built-in lower() folds ASCII only; searching "čačak" must find "Čačak".
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str, busy_timeout_ms: int = 15000) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record):
            # Let SQLAlchemy issue BEGIN itself so transactions really start (pysqlite quirk).
            dbapi_conn.isolation_level = None
            dbapi_conn.create_function("lower", 1, _sqlite_lower, deterministic=True)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # IMMEDIATE takes the write lock up front, so two writers wait on the busy
            # timeout instead of failing with "database is locked" on upgrade.
            # Only requests that write (POST) take the lock at BEGIN; reads (GET, HEAD, and
            # connections opened with read_only(), e.g. CLI exports) never wait nor block.
            # Command-line writes say so with writing(): taken deferred, a write that
            # follows a read fails at once ("database is locked") if anything else
            # committed in between, e.g. a feed request storing renderings.
            options = conn.get_execution_options()
            writing = options.get(WRITING, False) or (
                not options.get(READ_ONLY, False)
                and has_request_context()
                and request.method not in ("GET", "HEAD", "OPTIONS")
            )
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


READ_ONLY = "campaign_read_only"
WRITING = "campaign_writing"


def read_only(session: Session) -> Session:
    """Mark ``session`` as reading only, before its first statement: on SQLite its
    transaction then starts deferred, so a long CLI export never holds the write lock."""
    if not session.in_transaction():
        session.connection(execution_options={READ_ONLY: True})
    return session


def writing(session: Session) -> Session:
    """Mark ``session`` as writing, before its first statement: on SQLite each of its
    transactions then takes the write lock at BEGIN (waiting its turn on the busy
    timeout), as web requests that write do. For command-line writes."""
    if not session.in_transaction():
        session.bind = session.get_bind().execution_options(**{WRITING: True})
    return session


# The objects a request's session has loaded or stored, held until the session is closed.
#
# The identity map holds objects weakly, so an object the request no longer references
# is freed while its session is still open. Pages put the loaded objects in reference
# cycles (every Jinja render with a macro makes one), so they are freed by the cyclic
# garbage collector, in whichever thread next allocates, and the collector then runs
# SQLAlchemy's weakref callback (InstanceState._cleanup) on states that the owning
# request's session still tracks. On Python 3.11 that collection runs inside any
# allocation, and the callback lets other threads run in the middle of it: under
# threaded serving (gunicorn gthread, flask run) that corrupts memory and the process
# dies with SIGSEGV (tests/test_threaded.py). Held strongly, a request's objects can
# only become garbage once close() has detached them, together with their states, and
# the collector then has no callback to run.
HELD_OBJECTS = "campaign_held_objects"


def _hold(session: Session, instance) -> None:
    held = session.info.get(HELD_OBJECTS)
    if held is not None:
        held.append(instance)


def init_app(app: Flask) -> None:
    engine = make_engine(database_url(app), app.config["SQLITE_BUSY_TIMEOUT"])
    app.extensions["campaign.engine"] = engine
    sessions = sessionmaker(engine, expire_on_commit=False)
    event.listen(sessions, "loaded_as_persistent", _hold)
    event.listen(sessions, "pending_to_persistent", _hold)
    app.extensions["campaign.sessionmaker"] = sessions
    app.teardown_appcontext(_close_session)


def get_engine() -> Engine:
    return current_app.extensions["campaign.engine"]


def get_session() -> Session:
    """The session of the current request or CLI command."""
    if "db_session" not in g:
        session = current_app.extensions["campaign.sessionmaker"]()
        if has_request_context():
            # A request's objects live as long as its session (see HELD_OBJECTS). Not
            # for CLI commands: an export there reads batch after batch in one session.
            session.info[HELD_OBJECTS] = []
        g.db_session = session
    return g.db_session


def new_session() -> Session:
    """A session outside the request's, for a body that streams after the view returns;
    whoever takes it closes it."""
    return current_app.extensions["campaign.sessionmaker"]()


def _close_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.close()
        except DBAPIError:
            # The server dropped the connection (a restart) after the response was made:
            # throw the connection away; pool pre-ping gives the next request a live one.
            session.invalidate()
        finally:
            # Detached now: the objects may go, with their states (see HELD_OBJECTS).
            session.info.pop(HELD_OBJECTS, None)
