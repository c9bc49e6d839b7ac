"""Languages: optional English texts, "keep as written" names, Serbian theme names, and a
search column that is blind to script (Нови Сад = Novi Sad = NOVI SAD, Čačak = cacak)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from campaign.translit import search_key

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# slug: Serbian (Latin) name, description, key messages; the English ones were seeded by
# 0002 and move to the *_en columns. Themes an organizer already renamed are left alone.
SERBIAN = {
    "science-for-peace": (
        "Program Nauka za mir i bezbednost (SPS)",
        "Naučna saradnja srpskih ustanova i ustanova iz zemalja NATO kroz NATO program Nauka "
        "za mir i bezbednost.",
        "Srpski naučnici vode SPS projekte sa partnerima iz zemalja NATO i partnerskih zemalja.\n"
        "SPS grantovi finansiraju istraživanja, opremu i obuku u srpskim ustanovama.",
    ),
    "eadrcc": (
        "Evroatlantski koordinacioni centar za reagovanje u katastrofama (EADRCC)",
        "Nastavak saradnje sa Evroatlantskim koordinacionim centrom NATO za reagovanje u "
        "katastrofama.",
        "Srbija preko EADRCC i prima i pruža pomoć kada udare katastrofe.\n"
        "Zajedničke vežbe pripremaju spasioce da rade zajedno preko granica.",
    ),
    "partnership-for-peace": (
        "Partnerstvo za mir i zajedničke vežbe",
        "Učešće Vojske Srbije u zajedničkim vežbama sa članicama NATO i partnerskim zemljama, "
        "u okviru programa Partnerstvo za mir.",
        "Saradnja u Partnerstvu za mir ne znači članstvo u Savezu.\n"
        "Zajedničke vežbe podižu interoperabilnost i veštine Vojske Srbije.",
    ),
    "surplus-ammunition": (
        "Uništavanje viškova naoružanja i municije",
        "Saradnja na uništavanju viškova naoružanja i municije uskladištenih u Srbiji.",
        "Bezbedno uništavanje viškova municije štiti ljude koji žive u blizini skladišta.",
    ),
    "civil-emergencies": (
        "Civilno planiranje za vanredne situacije i reagovanje na prirodne katastrofe",
        "Rad civilnih struktura na sprečavanju i otklanjanju posledica prirodnih katastrofa, "
        "kao što su poplave i zemljotresi.",
        "Planiranje pre poplave spasava živote tokom nje.",
    ),
    "counter-terrorism": (
        "Borba protiv terorizma i krijumčarenja oružja",
        "Partnerstvo u borbi protiv terorizma i krijumčarenja oružja.",
        "Razmena informacija i obuka pomažu da se zaustavi krijumčarenje oružja.",
    ),
    "cyber-security": (
        "Sajber bezbednost",
        "Saradnja na zaštiti mreža i informacionih sistema.",
        "Sajber pretnje ne poznaju granice; zato ni odbrana od njih ne sme da ih poznaje.",
    ),
    "nuclear-security": (
        "Bezbednost nuklearnih materijala",
        "Aktivnosti na obezbeđivanju nuklearnih i radioaktivnih materijala.",
        "Obezbeđivanje radioaktivnih izvora štiti zdravlje ljudi i životnu sredinu.",
    ),
    "kfor": (
        "Saradnja sa KFOR",
        "Saradnja sa KFOR, koji doprinosi bezbednom i stabilnom okruženju i slobodi kretanja "
        "za sve na Kosovu i Metohiji.",
        "Svako smanjenje prisustva KFOR mora se veoma pažljivo razmotriti.",
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("title_en", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("description_en", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("themes") as batch:
        batch.add_column(sa.Column("name_en", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("description_en", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("key_messages_en", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("name_en", sa.String(200), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("keep_script", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("venues") as batch:
        batch.add_column(
            sa.Column("keep_script", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    seeded = _seeded()
    connection = op.get_bind()
    themes = sa.table(
        "themes",
        sa.column("slug", sa.String),
        sa.column("name", sa.String),
        sa.column("description", sa.Text),
        sa.column("key_messages", sa.Text),
        sa.column("name_en", sa.String),
        sa.column("description_en", sa.Text),
        sa.column("key_messages_en", sa.Text),
    )
    for slug, name, description, key_messages in connection.execute(
        sa.select(themes.c.slug, themes.c.name, themes.c.description, themes.c.key_messages)
    ):
        english = seeded.get(slug)
        if slug not in SERBIAN or english is None or name != english[0]:
            continue
        sr_name, sr_description, sr_messages = SERBIAN[slug]
        connection.execute(
            themes.update()
            .where(themes.c.slug == slug)
            .values(
                name=sr_name,
                description=sr_description,
                key_messages=sr_messages,
                name_en=name,
                description_en=description,
                key_messages_en=key_messages,
            )
        )
    _refresh_search_text(connection)


def _seeded() -> dict:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("0002_seed_ipap2_themes.py")
    spec = importlib.util.spec_from_file_location("seed_0002", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {row[0]: row[1:4] for row in module.THEMES}


def _refresh_search_text(connection) -> None:
    """search_text as campaign.models.fold now makes it: blind to script and diacritics."""
    events = sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("description", sa.Text),
        sa.column("venue_id", sa.Integer),
        sa.column("search_text", sa.Text),
    )
    venues = sa.table("venues", sa.column("id", sa.Integer), sa.column("name", sa.String))
    partners = sa.table("partners", sa.column("id", sa.Integer), sa.column("name", sa.String))
    links = sa.table(
        "event_partners", sa.column("event_id", sa.Integer), sa.column("partner_id", sa.Integer)
    )
    names: dict[int, set[str]] = {}
    for event_id, name in connection.execute(
        sa.select(links.c.event_id, partners.c.name).join(
            partners, partners.c.id == links.c.partner_id
        )
    ):
        names.setdefault(event_id, set()).add(name)
    rows = connection.execute(
        sa.select(events.c.id, events.c.title, events.c.description, venues.c.name).outerjoin(
            venues, venues.c.id == events.c.venue_id
        )
    ).all()
    for event_id, title, description, venue in rows:
        text = "\n".join([title, description or "", venue or "", *sorted(names.get(event_id, ()))])
        connection.execute(
            events.update().where(events.c.id == event_id).values(search_text=search_key(text))
        )


def downgrade() -> None:
    with op.batch_alter_table("venues") as batch:
        batch.drop_column("keep_script")
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("keep_script")
        batch.drop_column("name_en")
    with op.batch_alter_table("themes") as batch:
        batch.drop_column("key_messages_en")
        batch.drop_column("description_en")
        batch.drop_column("name_en")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("description_en")
        batch.drop_column("title_en")
