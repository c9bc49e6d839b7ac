"""Series: touring and recurring runs of events; each event may belong to one

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.String(length=500), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "format IN ('panel', 'round_table', 'seminar')", name=op.f("ck_series_format_valid")
        ),
        sa.CheckConstraint("kind IN ('tour', 'recurrence')", name=op.f("ck_series_kind_valid")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_series_owner_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
        sa.UniqueConstraint("uid", name=op.f("uq_series_uid")),
    )
    op.create_index(op.f("ix_series_owner_id"), "series", ["owner_id"], unique=False)
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("series_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_events_series_id"), ["series_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_events_series_id_series"),
            "series",
            ["series_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint(batch.f("fk_events_series_id_series"), type_="foreignkey")
        batch.drop_index(batch.f("ix_events_series_id"))
        batch.drop_column("series_id")
    op.drop_index(op.f("ix_series_owner_id"), table_name="series")
    op.drop_table("series")
