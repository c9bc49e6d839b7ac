"""Indexed search and lists: the search text's index, events by venue and format

SQLite gets an FTS5 trigram table over events.search_text kept by triggers, PostgreSQL a
pg_trgm GIN index (campaign/events/search.py); both are filled from the existing rows.
The venue index becomes (venue_id, format), which counts a city and format filter without
reading the events of other formats; the start-order index also covers the end and the
status, which lists and the month view check on every row they walk.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from alembic import op

from campaign.events import search

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        search.create_sqlite_index(op.execute)
    elif dialect == "postgresql":
        for statement in search.POSTGRES_DDL:
            op.execute(statement)
    op.drop_index("ix_events_venue_id", table_name="events")
    op.create_index("ix_events_venue_id_format", "events", ["venue_id", "format"])
    op.drop_index("ix_events_starts_at_id", table_name="events")
    op.create_index(
        "ix_events_starts_at_id_ends_at_status",
        "events",
        ["starts_at", "id", "ends_at", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_events_starts_at_id_ends_at_status", table_name="events")
    op.create_index("ix_events_starts_at_id", "events", ["starts_at", "id"])
    op.drop_index("ix_events_venue_id_format", table_name="events")
    op.create_index("ix_events_venue_id", "events", ["venue_id"])
    if op.get_bind().dialect.name == "sqlite":
        for name in search.SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"DROP TABLE IF EXISTS {search.FTS_TABLE}")
    else:
        op.execute(f"DROP INDEX IF EXISTS {search.PG_INDEX}")
