"""Command line: init-db, create-user and seed-demo, with nonsense options too."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from campaign.models import Event, EventPartner, Partner, User, Venue


def test_init_db_creates_first_admin_once(runner, db):
    result = runner.invoke(args=["init-db", "--admin-email", "Boss@Example.org"])
    assert result.exit_code == 0, result.output
    password = next(
        line.split(":", 1)[1].strip() for line in result.output.splitlines() if "password:" in line
    )
    admin = db.scalar(select(User))
    assert admin.email == "boss@example.org" and admin.role == "admin"
    again = runner.invoke(args=["init-db", "--admin-email", "Boss@Example.org"])
    assert "password" not in again.output
    assert db.scalar(select(func.count()).select_from(User)) == 1
    from werkzeug.security import check_password_hash

    assert check_password_hash(admin.password_hash, password)


def test_init_db_rejects_bad_admin_email(runner, db):
    result = runner.invoke(args=["init-db", "--admin-email", "not an email"])
    assert result.exit_code == 2
    assert "--admin-email" in result.output
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_create_user(runner, db):
    result = runner.invoke(
        args=[
            "create-user",
            "mila@example.org",
            "--role",
            "organizer",
            "--password",
            "a long password",
            "--name",
            "Mila Đukić",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User))
    assert (user.email, user.role, user.name) == ("mila@example.org", "organizer", "Mila Đukić")


def test_create_user_prompts_for_password(runner, db):
    result = runner.invoke(
        args=["create-user", "p@example.org", "--role", "admin"],
        input="a long password\na long password\n",
    )
    assert result.exit_code == 0, result.output
    assert db.scalar(select(User.role)) == "admin"


def test_create_user_nonsense(runner, db):
    cases = [
        (
            ["create-user", "x@example.org", "--role", "emperor", "--password", "a long password"],
            "--role",
        ),
        (["create-user", "x@example.org", "--password", "a long password"], "--role"),
        (
            ["create-user", "not-an-email", "--role", "admin", "--password", "a long password"],
            "EMAIL",
        ),
        (["create-user", "x@example.org", "--role", "admin", "--password", "short"], "--password"),
    ]
    for args, hint in cases:
        result = runner.invoke(args=args)
        assert result.exit_code == 2, args
        assert hint in result.output, (args, result.output)
    assert db.scalar(select(func.count()).select_from(User)) == 0
    runner.invoke(
        args=["create-user", "x@example.org", "--role", "admin", "--password", "a long password"]
    )
    dup = runner.invoke(
        args=["create-user", "X@example.org", "--role", "admin", "--password", "a long password"]
    )
    assert dup.exit_code == 2 and "already exists" in dup.output


def snapshot(db):
    rows = db.execute(
        select(Event.uid, Event.title, Event.starts_at, Event.status, Event.venue_id).order_by(
            Event.id
        )
    ).all()
    links = db.execute(
        select(EventPartner.event_id, EventPartner.partner_id, EventPartner.role).order_by(
            EventPartner.event_id, EventPartner.partner_id, EventPartner.role
        )
    ).all()
    return rows, links


def test_seed_demo_is_deterministic_and_varied(app, runner, db, tmp_path):
    result = runner.invoke(args=["seed-demo", "--events", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "300 events" in result.output
    first = snapshot(db)
    events = db.scalars(select(Event)).all()
    assert {e.format for e in events} == {"panel", "round_table", "seminar"}
    assert {e.status for e in events} == {"draft", "confirmed", "cancelled"}
    assert min(e.starts_at for e in events).year == 2019
    assert max(e.starts_at for e in events).year == 2021
    assert "Europe/Brussels" in {e.timezone for e in events}
    kinds = set(db.scalars(select(Partner.kind)))
    assert kinds == {"ngo", "academic", "research", "media", "government", "international"}
    assert len(set(db.scalars(select(Venue.city)))) >= 5
    themes_used = db.scalar(select(func.count(func.distinct(Event.id))).select_from(Event))
    assert themes_used == 300
    # Same seed on a fresh database: the very same data.
    again = runner.invoke(args=["seed-demo", "--events", "300", "--seed", "7"])
    assert "already has events" in again.output
    from sqlalchemy.orm import Session

    from campaign.db import make_engine
    from campaign.demo import seed_demo_data
    from campaign.migrate import upgrade

    other = make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    upgrade(other)
    with Session(other) as session:
        seed_demo_data(session, 300, 7)
        assert snapshot(session) == first
        session.query(EventPartner).delete()
        session.query(Event).delete()
        session.commit()
        seed_demo_data(session, 300, 8)
        assert snapshot(session)[0] != first[0]
    other.dispose()


def test_seed_demo_nonsense(runner, db):
    for args in (
        ["seed-demo", "--events", "-1"],
        ["seed-demo", "--events", "many"],
        ["seed-demo", "--seed", "x"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 2, args
    assert db.scalar(select(func.count()).select_from(Event)) == 0


def test_seed_demo_titles_are_serbian_with_english_beside(runner, db):
    """The Serbian title carries no English (the English one goes to title_en)."""
    from campaign.demo import FORMAT_NAMES, TITLES

    assert runner.invoke(args=["seed-demo", "--events", "200"]).exit_code == 0
    english = {en for pairs in TITLES.values() for _sr, en in pairs}
    english |= {en for sr, en in FORMAT_NAMES.values() if en != sr} | {"(online)"}
    events = db.scalars(select(Event)).all()
    for event in events:
        assert not any(phrase in event.title for phrase in english), event.title
        assert event.title_en and event.title_en != event.title
    assert any(e.title.startswith("Okrugli sto: ") for e in events)
    assert any(e.title_en.startswith("Round table: ") for e in events)


def test_a_cli_write_is_not_lost_to_a_commit_between_its_read_and_its_write(
    app, database_url, create_user
):
    """A command-line write reads first (the account), then writes. Begun deferred on
    SQLite, it failed at once with "database is locked" when anything committed in
    between (a feed storing renderings, a web save); marked writing() it takes the write
    lock at BEGIN, and the other writer waits its turn instead."""
    import threading

    from sqlalchemy import update

    from campaign.db import get_session, make_engine, writing
    from campaign.models import User

    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL locks rows, not the database")
    create_user(email="ana@example.org")
    other = make_engine(database_url, busy_timeout_ms=5000)
    done = []
    with app.app_context():
        session = writing(get_session())
        user = session.scalar(select(User).where(User.email == "ana@example.org"))

        def elsewhere():
            with other.begin() as conn:  # waits for the command's lock
                conn.execute(update(User).values(name="Neko drugi"))
            done.append(True)

        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join(0.3)
        assert not done  # still waiting: the command holds the write lock
        user.name = "Ana Anić"
        session.commit()
    thread.join(10)
    other.dispose()
    assert done
