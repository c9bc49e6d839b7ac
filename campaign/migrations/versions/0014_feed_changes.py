"""events.feed_generation and feed_state.reset_generation: after an edit a feed reads
only the events written since the generation it knows; render_contexts: the contexts
the write path renders an edited event for

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy on SQLite: the events' search triggers stay).
    op.add_column(
        "events", sa.Column("feed_generation", sa.Integer(), server_default="0", nullable=False)
    )
    op.create_index("ix_events_feed_generation", "events", ["feed_generation"], unique=False)
    op.add_column(
        "feed_state",
        sa.Column("reset_generation", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "render_contexts",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("site_url", sa.String(length=500), nullable=False),
        sa.Column("organizer_name", sa.String(length=500), nullable=False),
        sa.Column("organizer_email", sa.String(length=320), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("texts", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_render_contexts")),
    )


def downgrade() -> None:
    op.drop_table("render_contexts")
    op.drop_column("feed_state", "reset_generation")
    op.drop_index("ix_events_feed_generation", table_name="events")
    op.drop_column("events", "feed_generation")
