"""Media items: appearances and articles with their themes, related events and history

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("headline", sa.String(length=300), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("spokesperson", sa.String(length=200), nullable=False),
        sa.Column("estimated_reach", sa.Integer(), nullable=True),
        sa.Column("tone", sa.String(length=20), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('tv', 'radio', 'print', 'online', 'agency', 'social')",
            name=op.f("ck_media_items_kind_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'published')", name=op.f("ck_media_items_status_valid")
        ),
        sa.CheckConstraint(
            "tone IN ('positive', 'neutral', 'negative')", name=op.f("ck_media_items_tone_valid")
        ),
        sa.CheckConstraint(
            "estimated_reach >= 0", name=op.f("ck_media_items_estimated_reach_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["outlet_id"],
            ["partners.id"],
            name=op.f("fk_media_items_outlet_id_partners"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_media_items_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_items")),
    )
    op.create_index(op.f("ix_media_items_kind"), "media_items", ["kind"])
    op.create_index(op.f("ix_media_items_outlet_id"), "media_items", ["outlet_id"])
    op.create_index(op.f("ix_media_items_owner_id"), "media_items", ["owner_id"])
    op.create_index(op.f("ix_media_items_status"), "media_items", ["status"])
    op.create_index("ix_media_items_published_at_id", "media_items", ["published_at", "id"])
    op.create_table(
        "media_item_themes",
        sa.Column("media_item_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_item_id"],
            ["media_items.id"],
            name=op.f("fk_media_item_themes_media_item_id_media_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_media_item_themes_theme_id_themes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("media_item_id", "theme_id", name=op.f("pk_media_item_themes")),
    )
    op.create_index(op.f("ix_media_item_themes_theme_id"), "media_item_themes", ["theme_id"])
    op.create_table(
        "media_item_events",
        sa.Column("media_item_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_item_id"],
            ["media_items.id"],
            name=op.f("fk_media_item_events_media_item_id_media_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_media_item_events_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("media_item_id", "event_id", name=op.f("pk_media_item_events")),
    )
    op.create_index(op.f("ix_media_item_events_event_id"), "media_item_events", ["event_id"])
    op.create_table(
        "media_item_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("media_item_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_item_id"],
            ["media_items.id"],
            name=op.f("fk_media_item_changes_media_item_id_media_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_media_item_changes_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_item_changes")),
    )
    op.create_index(
        op.f("ix_media_item_changes_media_item_id"), "media_item_changes", ["media_item_id"]
    )


def downgrade() -> None:
    op.drop_table("media_item_changes")
    op.drop_table("media_item_events")
    op.drop_table("media_item_themes")
    op.drop_table("media_items")
