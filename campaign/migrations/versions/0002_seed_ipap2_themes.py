"""Seed the nine IPAP 2 themes (editable afterwards; a migration runs once per database)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The themes of the public information campaign named in IPAP 2 (adopted 7 November 2019).
THEMES = [
    (
        "science-for-peace",
        "Science for Peace and Security (SPS) programme",
        "Scientific cooperation between Serbian and NATO-country institutions through "
        "NATO's Science for Peace and Security programme.",
        "Serbian scientists lead SPS projects with partners from NATO and partner countries.\n"
        "SPS grants fund research, equipment and training in Serbian institutions.",
        "#2a6f97",
    ),
    (
        "eadrcc",
        "Euro-Atlantic Disaster Response Coordination Centre (EADRCC)",
        "Continued cooperation with NATO's Euro-Atlantic Disaster Response Coordination Centre.",
        "Serbia both receives and offers help through the EADRCC when disasters strike.\n"
        "Joint exercises prepare rescuers to work together across borders.",
        "#c0392b",
    ),
    (
        "partnership-for-peace",
        "Partnership for Peace and joint exercises",
        "Participation of the Serbian Armed Forces in joint exercises with NATO members and "
        "partner countries, within the Partnership for Peace programme.",
        "Partnership for Peace cooperation does not mean membership of the alliance.\n"
        "Joint exercises raise the interoperability and skills of the Serbian Armed Forces.",
        "#1e8449",
    ),
    (
        "surplus-ammunition",
        "Destruction of surplus weapons and ammunition",
        "Cooperation in destroying surplus weapons and ammunition stored in Serbia.",
        "Safe destruction of surplus ammunition protects people living near depots.",
        "#7d6608",
    ),
    (
        "civil-emergencies",
        "Civil emergency planning and natural-disaster response",
        "Civilian structures' work on preventing and eliminating the consequences of natural "
        "disasters such as floods and earthquakes.",
        "Planning before a flood saves lives during it.",
        "#d35400",
    ),
    (
        "counter-terrorism",
        "Fight against terrorism and weapons smuggling",
        "Partnership in the fight against terrorism and the smuggling of weapons.",
        "Sharing information and training helps stop weapons smuggling.",
        "#6c3483",
    ),
    (
        "cyber-security",
        "Cyber security",
        "Cooperation on the protection of networks and information systems.",
        "Cyber threats cross borders; so must the defence against them.",
        "#117a65",
    ),
    (
        "nuclear-security",
        "Security of nuclear materials",
        "Activities for the security of nuclear and radioactive materials.",
        "Securing radioactive sources protects public health and the environment.",
        "#5d6d7e",
    ),
    (
        "kfor",
        "Cooperation with KFOR",
        "Cooperation with KFOR, which contributes to a secure and stable environment and "
        "freedom of movement for all in Kosovo.",
        "Any reduction of KFOR's presence needs to be considered very carefully.",
        "#1f618d",
    ),
]


def upgrade() -> None:
    themes = sa.table(
        "themes",
        sa.column("slug", sa.String),
        sa.column("name", sa.String),
        sa.column("description", sa.Text),
        sa.column("key_messages", sa.Text),
        sa.column("colour", sa.String),
    )
    connection = op.get_bind()
    existing = set(connection.scalars(sa.select(themes.c.slug)))
    rows = [
        {"slug": s, "name": n, "description": d, "key_messages": k, "colour": c}
        for s, n, d, k, c in THEMES
        if s not in existing
    ]
    if rows:
        op.bulk_insert(themes, rows)


def downgrade() -> None:
    pass
