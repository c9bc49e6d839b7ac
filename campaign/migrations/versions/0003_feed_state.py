"""feed_state: a generation number that rises with every change a calendar feed shows

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "feed_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("epoch", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_state")),
    )
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    op.bulk_insert(
        table, [{"id": 1, "generation": 0, "changed_at": now, "epoch": str(uuid.uuid4())}]
    )


def downgrade() -> None:
    op.drop_table("feed_state")
