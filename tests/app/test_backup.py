"""backup and restore: the whole campaign, row for row, across backends; bad input refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign import create_app
from campaign.auth import operations as user_ops
from campaign.catalog import operations as catalog_ops
from campaign.db import get_session
from campaign.events import operations as event_ops
from campaign.models import Base, Event, FeedState, Theme, User, Venue
from tests.conftest import BACKENDS, PASSWORD


def dump(engine) -> dict[str, list[tuple]]:
    """Every row of every table, by primary key, as Python values."""
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
def campaign_data(app, create_event, create_partner, create_venue, create_user, admin, db):
    """A campaign with something in every table: Serbian text, history, tokens, odd values."""
    organizer = create_user(email="jelena@example.org", name="Јелена Ђорђевић")
    create_user(email="bivsi@example.org", name="Bivši", active=False)
    partner = create_partner(
        slug="beogradski-centar", name="Beogradski centar za bezbednosnu politiku", city="Beograd"
    )
    media = create_partner(slug="rts", name="Радио-телевизија Србије", kind="media", city="Београд")
    venue = create_venue(name="Дом омладине", city="Čačak", latitude=43.891234567, longitude=20.3)
    online = create_venue(name="Online", city="Niš", latitude=None, longitude=None, capacity=None)
    start = datetime(2020, 3, 29, 0, 30, 15, 123456, tzinfo=UTC)  # the DST night in Belgrade
    first = create_event(
        title="Okrugli sto: šta je EADRCC? — ćirilica: Округли сто",
        description="Prva linija\n\nDruga; zarez, \\ kosa crta\tі tab",
        venue=venue,
        partners=[partner, (media, "media_partner")],
        themes=["eadrcc", "cyber-security"],
        owner=organizer,
        starts_at=start,
        expected_audience=120,
    )
    create_event(title="Nacrt", status="draft", venue=online, owner=organizer)
    cancelled = create_event(title="Seminar koji je otkazan", starts_at=start + timedelta(days=3))
    with app.app_context():
        session = get_session()
        actor = session.get(User, admin.id)
        event = session.get(Event, first.id)
        data = event_ops.event_data(_loaded(session, event.id))
        data.title = data.title + " (izmenjeno)"
        data.attendance = 97
        event_ops.update_event(session, actor, _loaded(session, event.id), data, event.version)
        event_ops.cancel_event(
            session,
            actor,
            _loaded(session, cancelled.id),
            cancelled.version,
            now=cancelled.starts_at - timedelta(days=1),  # while it was still to come
        )
        theme = session.scalar(select(Theme).where(Theme.slug == "kfor"))
        catalog_ops.save_theme(
            session,
            actor,
            theme,
            slug="kfor",
            name="Saradnja sa KFOR-om",
            description="Ključne poruke…",
            key_messages="• jedna\n• druga",
            colour="#AA0000",
        )
    return app


def _loaded(session, event_id):
    from campaign.events.filters import event_list_loading

    return session.scalar(select(Event).where(Event.id == event_id).options(*event_list_loading()))


@pytest.fixture
def empty_database(request, tmp_path):
    """``empty_database(kind)`` → URL of a brand-new database with no tables."""
    made = []

    def make(kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path}/restored-{len(made)}.sqlite3"
        server = request.getfixturevalue("postgres")
        name = f"campaign_restore_{len(made)}_{id(made)}"
        server.admin(f"CREATE DATABASE {name}")
        made.append(name)
        return server.url(name)

    yield make
    for name in made:
        request.getfixturevalue("postgres").admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _app(url):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )


@pytest.mark.parametrize("target", BACKENDS)
def test_backup_and_restore_lose_nothing(campaign_data, empty_database, target, tmp_path):
    source = campaign_data
    path = tmp_path / "campaign.jsonl"
    result = source.test_cli_runner().invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert "events: 3 rows" in result.output

    restored = _app(empty_database(target))
    try:
        result = restored.test_cli_runner().invoke(args=["restore", str(path)])
        assert result.exit_code == 0, result.output
        assert "event_changes:" in result.output and "Restored" in result.output
        before = dump(source.extensions["campaign.engine"])
        after = dump(restored.extensions["campaign.engine"])
        # A restored database starts a new feed epoch (see test_a_restore_starts_...).
        before_epoch, after_epoch = _pop_epoch(before), _pop_epoch(after)
        assert after_epoch != before_epoch
        for table in before:
            assert after[table] == before[table], f"{table} differs after the restore"
        assert any(row for row in before["event_changes"] if row[5])  # real diffs kept

        # New rows get fresh ids (PostgreSQL sequences were moved past the restored ids).
        with restored.app_context():
            session = get_session()
            user_ops.create_user(session, None, "posle@example.org", PASSWORD, "organizer")
            catalog_ops.save_venue(session, None, None, name="Nova sala", city="Subotica")
            theme = session.scalar(select(Theme).where(Theme.slug == "eadrcc"))
            event_ops.create_event(
                session,
                None,
                event_ops.EventData(
                    title="Posle vraćanja",
                    format="panel",
                    status="confirmed",
                    starts_at=datetime(2021, 1, 1, 10, tzinfo=UTC),
                    ends_at=datetime(2021, 1, 1, 12, tzinfo=UTC),
                    themes=[theme],
                ),
            )
            assert session.scalar(select(func.count()).select_from(Venue)) == 3
        # The restored accounts log in with their old passwords.
        client = restored.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post(
            "/login",
            data={"email": "jelena@example.org", "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
    finally:
        restored.extensions["campaign.engine"].dispose()


def _pop_epoch(rows: dict[str, list[tuple]]) -> str:
    """Take the epoch out of the feed_state rows of a dump; returns it."""
    position = list(FeedState.__table__.columns.keys()).index("epoch")
    (row,) = rows["feed_state"]
    rows["feed_state"] = [row[:position] + row[position + 1 :]]
    return row[position]


def _replace_with_empty_database(app, request) -> None:
    """The disaster: the database at the app's address is gone, an empty one is there."""
    from sqlalchemy.engine import make_url

    app.extensions["campaign.engine"].dispose()
    url = make_url(app.config["DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
        return
    server = request.getfixturevalue("postgres")
    server.admin(f"DROP DATABASE {url.database} WITH (FORCE)")
    server.admin(f"CREATE DATABASE {url.database}")


def test_a_restore_starts_a_new_feed_epoch(app, create_event, request, tmp_path):
    """Restored into the same address, a backup gave back the old epoch, generation and
    event rows, whose (id, uid, version) the lost database had gone on to use for other
    contents: after as many changes, a worker that had served the lost database took
    the restored one for it and answered with the lost bytes, or a 304 for them."""
    from campaign.calendar import feeds
    from campaign.events.filters import event_list_loading

    def retitle(title):
        with app.app_context():
            session = get_session()
            event = session.scalar(select(Event).options(*event_list_loading()))
            data = event_ops.event_data(event)
            data.title = title
            event_ops.update_event(session, None, event, data, event.version)

    feeds.clear_caches()
    client = app.test_client()
    create_event(title="Panel: as backed up")
    path = tmp_path / "campaign.jsonl"
    assert app.test_cli_runner().invoke(args=["backup", str(path)]).exit_code == 0
    with app.app_context():
        backed_up_epoch = get_session().scalar(select(FeedState.epoch))

    retitle("Panel: only in the lost database")
    lost = client.get("/calendar.ics")
    assert b"only in the lost database" in lost.data

    _replace_with_empty_database(app, request)
    result = app.test_cli_runner().invoke(args=["restore", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert get_session().scalar(select(FeedState.epoch)) != backed_up_epoch
    retitle("Panel: after the restore")  # the same generation as the lost one had

    response = client.get("/calendar.ics", headers={"If-None-Match": lost.headers["ETag"]})
    assert response.status_code == 200
    assert b"after the restore" in response.data
    assert b"only in the lost database" not in response.data
    feeds.clear_caches()


def test_backup_file_format(campaign_data, tmp_path):
    path = tmp_path / "campaign.jsonl"
    assert campaign_data.test_cli_runner().invoke(args=["backup", str(path)]).exit_code == 0
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    header, trailer = lines[0], lines[-1]
    assert header["format"] == "ipap2-campaign-backup" and header["version"] == 1
    assert header["tables"][0] in ("themes", "users", "partners", "venues", "feed_state")
    assert trailer["end"] is True and trailer["counts"]["events"] == 3
    events = [line["row"] for line in lines if line.get("table") == "events"]
    assert events[0]["starts_at"] == "2020-03-29T00:30:15.123456+00:00"
    assert "Округли сто" in path.read_text(encoding="utf-8")  # UTF-8, not \\u escapes


def test_restore_refuses_a_database_that_is_not_empty(campaign_data, tmp_path, db):
    path = tmp_path / "campaign.jsonl"
    assert campaign_data.test_cli_runner().invoke(args=["backup", str(path)]).exit_code == 0
    before = dump(campaign_data.extensions["campaign.engine"])
    result = campaign_data.test_cli_runner().invoke(args=["restore", str(path)])
    assert result.exit_code == 2
    assert "not empty" in result.output and "Nothing was restored" in result.output
    assert dump(campaign_data.extensions["campaign.engine"]) == before


def _variants(good: str) -> dict[str, str]:
    lines = good.splitlines()
    header = json.loads(lines[0])
    return {
        "empty": "",
        "not json": "this is not a backup\n",
        "no header": "\n".join(lines[1:]) + "\n",
        "newer format": json.dumps({**header, "version": 99}) + "\n" + "\n".join(lines[1:]),
        "other schema": json.dumps({**header, "schema": "9999"}) + "\n" + "\n".join(lines[1:]),
        "cut short": "\n".join(lines[:-3]) + "\n",
        "unknown table": "\n".join([lines[0], '{"table": "secrets", "row": {}}', *lines[1:]]),
        "unknown column": "\n".join(
            [lines[0], '{"table": "themes", "row": {"id": 99, "evil": 1}}', *lines[1:]]
        ),
        "bad date": "\n".join(lines).replace("2020-03-29T00:30:15.123456+00:00", "yesterday"),
        "duplicate row": "\n".join([*lines[:-1], lines[-2], lines[-1]]),
        "wrong counts": "\n".join([*lines[:-1], '{"end": true, "counts": {"events": 1}}']),
        "binary": "\udcff",
    }


def test_bad_backup_files_are_refused_and_nothing_is_written(
    campaign_data, empty_database, tmp_path
):
    good = tmp_path / "good.jsonl"
    assert campaign_data.test_cli_runner().invoke(args=["backup", str(good)]).exit_code == 0
    target = _app(empty_database(BACKENDS[-1]))
    runner = target.test_cli_runner()
    try:
        for name, content in _variants(good.read_text(encoding="utf-8")).items():
            bad = tmp_path / "bad.jsonl"
            if name == "binary":
                bad.write_bytes(b"\xff\xfe\x00garbage")
            else:
                bad.write_text(content, encoding="utf-8")
            result = runner.invoke(args=["restore", str(bad)])
            assert result.exit_code == 2, (name, result.output)
            assert "Error:" in result.output, name
            counts = {
                t: len(rows) for t, rows in dump(target.extensions["campaign.engine"]).items()
            }
            assert counts["events"] == counts["users"] == counts["partners"] == 0, name
            assert counts["themes"] == 9, name  # the seeded themes, untouched
        missing = runner.invoke(args=["restore", str(tmp_path / "nowhere.jsonl")])
        assert missing.exit_code == 2 and "is not a file" in missing.output
        # The good file still restores afterwards: the failures left nothing behind.
        assert runner.invoke(args=["restore", str(good)]).exit_code == 0
    finally:
        target.extensions["campaign.engine"].dispose()


def test_backup_refuses_to_overwrite_or_write_nowhere(app, tmp_path):
    runner = app.test_cli_runner()
    existing = tmp_path / "old.jsonl"
    existing.write_text("keep me")
    result = runner.invoke(args=["backup", str(existing)])
    assert result.exit_code == 2 and "exists" in result.output
    assert existing.read_text() == "keep me"
    result = runner.invoke(args=["backup", str(tmp_path / "no" / "such" / "dir.jsonl")])
    assert result.exit_code == 2 and "does not exist" in result.output
    assert runner.invoke(args=["backup", "--force", str(existing)]).exit_code == 0
    assert existing.read_text().startswith('{"format": "ipap2-campaign-backup"')
