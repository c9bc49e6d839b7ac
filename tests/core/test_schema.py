"""Migrations and models agree; init-db is idempotent; the connection is set up right."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from campaign.db import make_engine
from campaign.events import search
from campaign.events.search import include_name
from campaign.migrate import current_revision, upgrade
from campaign.models import Base, Theme

IPAP2_THEMES = {
    "science-for-peace",
    "eadrcc",
    "partnership-for-peace",
    "surplus-ammunition",
    "civil-emergencies",
    "counter-terrorism",
    "cyber-security",
    "nuclear-security",
    "kfor",
}


def test_migrations_match_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_migrations_reach_head_and_seed_themes_once(database_url):
    engine = make_engine(database_url)
    assert current_revision(engine) == "0014"
    upgrade(engine)  # a second run changes nothing
    with engine.connect() as conn:
        slugs = set(conn.scalars(select(Theme.slug)))
        assert slugs == IPAP2_THEMES
        assert conn.scalar(select(func.count()).select_from(Theme)) == 9
    engine.dispose()


def test_init_db_twice_changes_nothing(runner, db):
    first = runner.invoke(args=["init-db"])
    second = runner.invoke(args=["init-db"])
    assert first.exit_code == second.exit_code == 0
    assert "9 themes" in second.output
    assert db.scalar(select(func.count()).select_from(Theme)) == 9


def test_init_db_keeps_edited_and_deleted_themes(runner, client, db, auth):
    auth.login()
    client.post("/themes/kfor/delete")
    runner.invoke(args=["init-db"])
    db.rollback()
    assert "kfor" not in set(db.scalars(select(Theme.slug)))


def test_sqlite_pragmas(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}", busy_timeout_ms=7000)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 7000
        # lower() folds Serbian letters too, so search is case-insensitive for them.
        assert conn.execute(text("SELECT lower('ČĆŠŽĐ ЂЖ')")).scalar() == "čćšžđ ђж"
    engine.dispose()


def test_search_index_exists_at_head(database_url):
    """The index behind q (campaign/events/search.py) is made by the migrations; a later
    migration that rebuilds `events` on SQLite must make its triggers again."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            triggers = set(
                conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            )
            assert set(search.SQLITE_TRIGGERS) <= triggers
            conn.execute(
                text(
                    f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}, rank) "
                    "VALUES ('integrity-check', 1)"
                )
            )
        else:
            definition = conn.scalar(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                {"name": search.PG_INDEX},
            )
            assert "gin_trgm_ops" in definition
    engine.dispose()
