"""`flask --app campaign import-media FILE`: per-row outcomes, refusals that write
nothing, a malformed file that writes nothing at all, and idempotence."""

from __future__ import annotations

from sqlalchemy import func, select

from campaign.media.models import MediaItem, MediaItemChange
from campaign.models import Partner

HEADER = "date,outlet,kind,headline,link,reach,themes\n"
GOOD = (
    "2020-03-11 08:30,RTS,tv,Jutarnji program: EADRCC,https://rts.rs/a,250000,eadrcc\n"
    "2020-03-12,Politika,print,Sajber bezbednost — Čačak,https://politika.rs/b,90000,"
    "cyber-security;kfor\n"
)


def write(tmp_path, text, name="clips.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def counts(db):
    db.rollback()
    return (
        db.scalar(select(func.count()).select_from(MediaItem)),
        db.scalar(select(func.count()).select_from(MediaItemChange)),
        db.scalar(select(func.count()).select_from(Partner)),
    )


def test_import_creates_then_is_idempotent(runner, db, tmp_path, create_partner):
    create_partner(slug="rts", name="RTS", kind="media")
    path = write(tmp_path, HEADER + GOOD)
    result = runner.invoke(args=["import-media", path])
    assert result.exit_code == 0, result.output
    assert "[1/2] line 2: created" in result.output
    assert "[2/2] line 3: created" in result.output
    assert "2 created, 0 updated, 0 unchanged, 0 refused." in result.output
    after_first = counts(db)
    assert after_first[0] == 2
    # Politika was unknown: it became a media partner.
    assert db.scalar(select(Partner.kind).where(Partner.name == "Politika")) == "media"
    result = runner.invoke(args=["import-media", path])
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated, 2 unchanged, 0 refused." in result.output
    assert counts(db) == after_first


def test_same_link_updates_the_item(runner, db, tmp_path, create_partner):
    create_partner(slug="rts", name="RTS", kind="media")
    runner.invoke(args=["import-media", write(tmp_path, HEADER + GOOD)])
    changed = GOOD.replace("250000", "300000")
    result = runner.invoke(args=["import-media", write(tmp_path, HEADER + changed, "b.csv")])
    assert "0 created, 1 updated, 1 unchanged, 0 refused." in result.output
    db.rollback()
    item = db.scalar(select(MediaItem).where(MediaItem.link == "https://rts.rs/a"))
    assert item.estimated_reach == 300_000


def test_bad_rows_are_refused_with_reasons_and_others_imported(runner, db, tmp_path):
    bad = (
        "1989-01-01,RTS,tv,Too old,https://x.rs/1,5,eadrcc\n"
        "2020-01-01,RTS,telegraph,Bad kind,https://x.rs/2,5,eadrcc\n"
        "2020-01-01,RTS,tv,Absurd reach,https://x.rs/3,99999999999999999999,eadrcc\n"
        "2020-01-01,RTS,tv,No link,,5,eadrcc\n"
        "2020-01-01,RTS,tv,Unknown theme,https://x.rs/4,5,no-such-theme\n"
        "2020-01-01,RTS,tv,Bidi \u202eheadline,https://x.rs/5,5,eadrcc\n"
        "2020-01-01,RTS,tv,Javascript link,javascript:alert(1),5,eadrcc\n"
        "2020-01-01,RTS,tv,Good one,https://x.rs/6,5,eadrcc\n"
    )
    result = runner.invoke(args=["import-media", write(tmp_path, HEADER + bad)])
    assert result.exit_code == 1
    out = result.output
    assert "line 2: refused: date: Give a date between 1 January 1990" in out
    assert "line 3: refused: kind:" in out
    assert "line 4: refused: estimated_reach: Give a number, zero or more." in out
    assert "line 5: refused: link:" in out
    assert "line 6: refused: themes: Unknown themes: no-such-theme." in out
    assert "line 7: refused: headline:" in out
    assert "line 8: refused: link:" in out
    assert "line 9: created" in out
    assert "1 created, 0 updated, 0 unchanged, 7 refused." in out
    assert counts(db)[0] == 1


def test_malformed_files_write_nothing(runner, db, tmp_path):
    before = counts(db)
    for name, content in [
        ("no-header.csv", "date,outlet,headline\n2020-01-01,RTS,x\n"),
        ("ragged.csv", HEADER + GOOD + "2020-01-01,RTS\n"),
        ("empty.csv", ""),
    ]:
        result = runner.invoke(args=["import-media", write(tmp_path, HEADER and content, name)])
        assert result.exit_code != 0, name
        assert "Nothing was imported." in result.output, name
        assert counts(db) == before, name
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + GOOD).encode("utf-8") + "Čačak".encode("cp1250"))
    result = runner.invoke(args=["import-media", str(path)])
    assert "not UTF-8" in result.output
    assert counts(db) == before
