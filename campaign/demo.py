"""Deterministic demo data: the same seed always gives the same partners, venues and events."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from .catalog import operations as catalog_ops
from .catalog.models import Partner, Theme, Venue
from .events import operations as event_ops
from .events.models import EventFormat, EventStatus, PartnerRole

PARTNERS = [
    # slug, name, kind, city, website
    (
        "bcbp",
        "Beogradski centar za bezbednosnu politiku",
        "ngo",
        "Beograd",
        "https://bezbednost.org",
    ),
    ("ceas", "Centar za evroatlantske studije", "ngo", "Beograd", "https://ceas-serbia.org"),
    ("isac-fond", "ISAC fond — Centar za međunarodne i bezbednosne poslove", "ngo", "Beograd", ""),
    ("zene-u-bezbednosti", "Mreža „Žene u bezbednosti”", "ngo", "Novi Sad", ""),
    (
        "fakultet-bezbednosti",
        "Univerzitet u Beogradu — Fakultet bezbednosti",
        "academic",
        "Beograd",
        "",
    ),
    (
        "fpn-beograd",
        "Fakultet političkih nauka, Beograd",
        "academic",
        "Beograd",
        "https://fpn.bg.ac.rs",
    ),
    ("uns-ftn", "Univerzitet u Novom Sadu — Fakultet tehničkih nauka", "academic", "Novi Sad", ""),
    ("univerzitet-nis", "Univerzitet u Nišu — Mašinski fakultet", "academic", "Niš", ""),
    ("univerzitet-kragujevac", "Универзитет у Крагујевцу", "academic", "Kragujevac", ""),
    (
        "impp",
        "Institut za međunarodnu politiku i privredu",
        "research",
        "Beograd",
        "https://diplomacy.bg.ac.rs",
    ),
    ("vinca", "Institut za nuklearne nauke „Vinča”", "research", "Beograd", ""),
    ("institut-mihajlo-pupin", "Institut „Mihajlo Pupin”", "research", "Beograd", ""),
    ("rts", "Radio-televizija Srbije", "media", "Beograd", "https://www.rts.rs"),
    ("rtv", "Radio-televizija Vojvodine", "media", "Novi Sad", ""),
    ("danas", "Dnevni list Danas", "media", "Beograd", ""),
    ("juzne-vesti", "Južne vesti", "media", "Niš", ""),
    ("ministarstvo-odbrane", "Ministarstvo odbrane Republike Srbije", "government", "Beograd", ""),
    (
        "sektor-za-vanredne-situacije",
        "Sektor za vanredne situacije MUP-a",
        "government",
        "Beograd",
        "",
    ),
    ("kancelarija-za-eu", "Ministarstvo za evropske integracije", "government", "Beograd", ""),
    ("nato-mlo", "NATO Military Liaison Office Belgrade", "international", "Beograd", ""),
    (
        "nato-pdd",
        "NATO Public Diplomacy Division",
        "international",
        "Brussels",
        "https://www.nato.int",
    ),
    ("osce-serbia", "OSCE Mission to Serbia", "international", "Beograd", ""),
]

VENUES = [
    # name, city, address, lat, lon, capacity
    ("Dom omladine Beograda", "Beograd", "Makedonska 22", 44.8167, 20.4637, 300),
    ("Kulturni centar Beograda", "Beograd", "Knez Mihailova 6", 44.8149, 20.4590, 120),
    ("Rektorat Univerziteta u Beogradu", "Beograd", "Studentski trg 1", 44.8190, 20.4573, 200),
    ("Medija centar", "Beograd", "Terazije 3", 44.8134, 20.4611, 80),
    ("Kulturni centar Novog Sada", "Novi Sad", "Katolička porta 5", 45.2551, 19.8451, 150),
    ("Svečana sala Rektorata", "Novi Sad", "Dr Zorana Đinđića 1", 45.2461, 19.8516, 220),
    ("Niški kulturni centar", "Niš", "Stanka Paunovića 28", 43.3209, 21.8958, 180),
    ("Univerzitetska biblioteka", "Kragujevac", "Liceja Kneževine Srbije 1", 44.0128, 20.9114, 90),
    ("Gradska kuća", "Subotica", "Trg slobode 1", 46.1005, 19.6651, 160),
    ("Dom kulture Čačak", "Čačak", "Gradsko šetalište bb", 43.8914, 20.3497, 250),
    ("Kulturni centar Kraljevo", "Kraljevo", "Omladinska 37", 43.7254, 20.6877, 140),
    ("Kulturni centar Novi Pazar", "Novi Pazar", "Stevana Nemanje 2", 43.1367, 20.5122, 120),
    ("Kulturni centar Šabac", "Šabac", "Karađorđeva 5", 44.7560, 19.6931, 110),
    ("Pozorište „Zoran Radmilović”", "Zaječar", "Trg oslobođenja 2", 43.9036, 22.2847, 200),
]

# Each theme's titles: (Serbian, English); the Serbian one is the event's title, the
# English one its title_en (what an English-speaking visitor reads).
TITLES = {
    "science-for-peace": [
        (
            "Nauka za mir i bezbednost: rezultati srpskih projekata",
            "Science for Peace and Security: results of Serbian projects",
        ),
        (
            "Nauka za mir: grantovi za srpske istraživače",
            "Science for Peace: grants for Serbian researchers",
        ),
    ],
    "eadrcc": [
        ("EADRCC i odgovor na katastrofe", "The EADRCC and disaster response"),
        (
            "Kada katastrofa udari: saradnja sa EADRCC-om",
            "When disaster strikes: working with the EADRCC",
        ),
    ],
    "partnership-for-peace": [
        ("Partnerstvo za mir i zajedničke vežbe", "Partnership for Peace and joint exercises"),
        ("Zajedničke vežbe bez članstva", "Joint exercises without membership"),
    ],
    "surplus-ammunition": [
        ("Bezbedno uništavanje viškova municije", "Destroying surplus ammunition safely"),
        (
            "Viškovi municije: od skladišta do uništenja",
            "Surplus ammunition: from depot to disposal",
        ),
    ],
    "civil-emergencies": [
        (
            "Poplave i zemljotresi: planiranje za vanredne situacije",
            "Floods and earthquakes: planning for emergencies",
        ),
        (
            "Civilno planiranje za vanredne situacije posle poplava 2014.",
            "Civil emergency planning after the 2014 floods",
        ),
    ],
    "counter-terrorism": [
        (
            "Borba protiv terorizma i krijumčarenja oružja",
            "Countering terrorism and weapons smuggling",
        ),
        ("Kako zaustaviti krijumčarenje oružja", "Stopping weapons smuggling"),
    ],
    "cyber-security": [
        (
            "Sajber bezbednost za građane i institucije",
            "Cyber security for citizens and institutions",
        ),
        (
            "Sajber bezbednost: zaštita ključnih mreža",
            "Cyber security: protecting critical networks",
        ),
    ],
    "nuclear-security": [
        (
            "Bezbednost nuklearnih materijala — iskustva Vinče",
            "Nuclear material security: lessons from Vinča",
        ),
        ("Zaštita radioaktivnih izvora", "Securing radioactive sources"),
    ],
    "kfor": [
        ("Saradnja sa KFOR-om i sloboda kretanja", "Cooperation with KFOR and freedom of movement"),
        ("KFOR i bezbedno okruženje za sve", "KFOR and a secure environment for all"),
    ],
}
# The format as a title's prefix, in each language (not the interface's, which is English
# when the CLI runs).
FORMAT_NAMES = {
    "panel": ("Panel", "Panel"),
    "round_table": ("Okrugli sto", "Round table"),
    "seminar": ("Seminar", "Seminar"),
}

FIRST = date(2019, 11, 8)  # the day after IPAP 2 was adopted
LAST = date(2021, 12, 20)
STARTS = [time(10), time(11), time(12), time(13, 30), time(17), time(18), time(18, 30)]
BELGRADE = ZoneInfo("Europe/Belgrade")


def _slug_names(session: Session) -> list[Theme]:
    return session.scalars(select(Theme).order_by(Theme.slug)).all()


def ensure_catalog(session: Session) -> tuple[list[Partner], list[Venue]]:
    partners = session.scalars(select(Partner).order_by(Partner.slug)).all()
    if not partners:
        for slug, name, kind, city, website in PARTNERS:
            catalog_ops.save_partner(
                session,
                None,
                None,
                slug=slug,
                name=name,
                kind=kind,
                city=city,
                website=website,
                contact_name="",
                contact_email="",
                contact_phone="",
                notes="",
            )
        partners = session.scalars(select(Partner).order_by(Partner.slug)).all()
    venues = session.scalars(select(Venue).order_by(Venue.id)).all()
    if not venues:
        for name, city, address, lat, lon, cap in VENUES:
            catalog_ops.save_venue(
                session,
                None,
                None,
                name=name,
                city=city,
                address=address,
                latitude=lat,
                longitude=lon,
                capacity=cap,
            )
        venues = session.scalars(select(Venue).order_by(Venue.id)).all()
    return partners, venues


def demo_rows(rng: random.Random, count: int, themes, partners, venues):
    """Event rows for ``event_ops.import_events``; pure function of the generator's state."""
    span = (LAST - FIRST).days
    formats = [f.value for f in EventFormat]
    roles = [r.value for r in PartnerRole]
    for i in range(count):
        theme_list = rng.sample(themes, k=rng.choice((1, 1, 2, 3)))
        fmt = formats[i % 3]
        day = FIRST + timedelta(days=rng.randrange(span + 1))
        online = rng.random() < 0.08
        zone = ZoneInfo("Europe/Brussels") if online and rng.random() < 0.5 else BELGRADE
        start_local = datetime.combine(day, rng.choice(STARTS), tzinfo=zone)
        starts_at = start_local.astimezone(UTC)
        ends_at = starts_at + timedelta(minutes=rng.choice((90, 120, 150, 180, 240)))
        venue = None if online else rng.choice(venues)
        roll = rng.random()
        status = (
            EventStatus.cancelled.value
            if roll < 0.05
            else EventStatus.draft.value
            if roll < 0.13
            else EventStatus.confirmed.value
        )
        chosen = rng.sample(partners, k=rng.choice((1, 2, 2, 3)))
        links = [
            (p.id, roles[0] if n == 0 else rng.choice(roles[1:])) for n, p in enumerate(chosen)
        ]
        title, title_en = rng.choice(
            TITLES.get(theme_list[0].slug, [(theme_list[0].name, theme_list[0].name_en)])
        )
        where, where_en = (venue.city, venue.city) if venue else ("onlajn", "online")
        prefix, prefix_en = FORMAT_NAMES[fmt]
        created = starts_at - timedelta(days=rng.randint(10, 60), minutes=rng.randint(0, 600))
        updated = created + timedelta(hours=rng.randint(0, 200))
        expected = rng.choice((40, 60, 80, 100, 150, 200))
        past = ends_at < datetime(2021, 12, 31, tzinfo=UTC)
        yield {
            "uid": f"{uuid.UUID(int=rng.getrandbits(128), version=4)}@ipap2-campaign",
            "title": f"{prefix}: {title} ({where})",
            "title_en": f"{prefix_en}: {title_en or title} ({where_en})",
            "format": fmt,
            "status": status,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "timezone": zone.key,
            "venue_id": venue.id if venue else None,
            "online_url": f"https://meet.example.org/ipap2-{i + 1}" if online else "",
            "description": (
                f"{theme_list[0].description}\n\n"
                f"Govornici i učesnici: {', '.join(p.name for p in chosen)}.\n"
                "Ulaz je slobodan; prijave na licu mesta."
            ),
            "expected_audience": expected,
            "attendance": (
                int(expected * rng.uniform(0.5, 1.2))
                if past and status == EventStatus.confirmed.value and rng.random() < 0.7
                else None
            ),
            "created": created,
            "updated": updated,
            "theme_ids": [t.id for t in theme_list],
            "partners": links,
        }


def seed_demo_data(session: Session, count: int, seed: int, progress=None) -> dict[str, int]:
    partners, venues = ensure_catalog(session)
    themes = list(_slug_names(session))
    rng = random.Random(seed)
    made = event_ops.import_events(
        session, demo_rows(rng, count, themes, partners, venues), progress=progress
    )
    return {"partners": len(partners), "venues": len(venues), "events": made}
