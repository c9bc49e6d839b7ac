"""event_renderings: each event's rendered VEVENT per render context, kept across
restarts; ix_events_feed: what a feed reads of its events, from the index alone

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_renderings",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("context", sa.String(length=32), nullable=False),
        sa.Column("uid", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("vevent", sa.LargeBinary(), nullable=False),
        sa.Column("tzid", sa.String(length=64), nullable=True),
        sa.Column("first_year", sa.Integer(), nullable=False),
        sa.Column("last_year", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_renderings_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "context", name=op.f("pk_event_renderings")),
    )
    op.create_index("ix_events_feed", "events", ["starts_at", "id", "status", "uid", "version"])


def downgrade() -> None:
    op.drop_index("ix_events_feed", table_name="events")
    op.drop_table("event_renderings")
