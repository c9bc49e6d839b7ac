"""Covering indexes for the reach report: its GROUP BYs over events and media items read
an index instead of the tables (bench/reach.py)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_events_reach",
        "events",
        ["status", "starts_at", "ends_at", "venue_id", "attendance", "expected_audience"],
        unique=False,
    )
    op.create_index(
        "ix_media_items_reach",
        "media_items",
        ["status", "published_at", "kind", "outlet_id", "estimated_reach"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_media_items_reach", table_name="media_items")
    op.drop_index("ix_events_reach", table_name="events")
