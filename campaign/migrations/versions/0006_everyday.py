"""Everyday use: the reason an event was cancelled; search text with theme names, venue
cities and the English names of themes and partners

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from campaign.translit import search_key

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("cancel_reason", sa.Text(), nullable=False, server_default=""))
    _refresh_search_text(op.get_bind())


def _refresh_search_text(connection) -> None:
    """search_text as campaign.events.operations.search_text now makes it: title,
    description, venue name, and partner and theme names in Serbian and English."""
    events = sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("description", sa.Text),
        sa.column("venue_id", sa.Integer),
        sa.column("search_text", sa.Text),
    )
    venues = sa.table(
        "venues",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("city", sa.String),
    )
    names: dict[int, set[str]] = {}
    for table, link, column in (
        ("partners", "event_partners", "partner_id"),
        ("themes", "event_themes", "theme_id"),
    ):
        entries = sa.table(
            table,
            sa.column("id", sa.Integer),
            sa.column("name", sa.String),
            sa.column("name_en", sa.String),
        )
        links = sa.table(link, sa.column("event_id", sa.Integer), sa.column(column, sa.Integer))
        for event_id, name, name_en in connection.execute(
            sa.select(links.c.event_id, entries.c.name, entries.c.name_en).join(
                entries, entries.c.id == links.c[column]
            )
        ):
            names.setdefault(event_id, set()).update(n for n in (name, name_en) if n)
    rows = connection.execute(
        sa.select(
            events.c.id, events.c.title, events.c.description, venues.c.name, venues.c.city
        ).outerjoin(venues, venues.c.id == events.c.venue_id)
    ).all()
    for event_id, title, description, venue, city in rows:
        place = f"{venue}\n{city}" if venue is not None else ""
        text = "\n".join([title, description or "", place, *sorted(names.get(event_id, ()))])
        connection.execute(
            events.update().where(events.c.id == event_id).values(search_text=search_key(text))
        )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("cancel_reason")
