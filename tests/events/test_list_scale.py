"""Lists that cost the same at 1,000 and 100,000 events give the same answers as before:
counts that stop at a limit, pages found through the indexes, the month grid aggregated
in SQL, and the search index kept by the write path (issue 12)."""

from __future__ import annotations

import calendar
import dataclasses
import random
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from campaign.demo import demo_rows, ensure_catalog
from campaign.events import operations as event_ops
from campaign.events import search
from campaign.events.filters import EventFilter
from campaign.events.lists import month_days
from campaign.models import Event, Theme

BELGRADE = ZoneInfo("Europe/Belgrade")
NOW = datetime(2020, 10, 20, 12, tzinfo=UTC)


def add_events(db, count: int, seed: int) -> None:
    """``count`` demo events around NOW (so both sides of it have some); every fifth
    lasts past midnight, some for days, and a few cross the end of summer time."""
    rng = random.Random(seed)
    partners, venues = ensure_catalog(db)
    themes = db.scalars(select(Theme).order_by(Theme.slug)).all()
    rows = []
    for n, row in enumerate(demo_rows(rng, count, themes, partners, venues)):
        start = datetime(2020, 9, 26, 6, tzinfo=UTC) + timedelta(hours=rng.randrange(0, 24 * 50))
        length = timedelta(hours=rng.choice((2, 3)) if n % 5 else rng.choice((20, 30, 80)))
        row.update(starts_at=start, ends_at=start + length)
        rows.append(row)
    event_ops.import_events(db, rows)
    db.commit()


def parse(db, args: dict, drafts: bool = False) -> EventFilter:
    return EventFilter.parse(args, db, include_drafts=drafts, campaign_zone=BELGRADE)


def expected_page(db, flt: EventFilter, per_page: int, count_limit: int) -> dict:
    """What page_of must answer, from every matching event read in Python."""
    every = db.scalars(flt.select()).all()
    upcoming = [e.id for e in every if e.ends_at > NOW]
    past = [e.id for e in reversed(every) if e.ends_at <= NOW]
    limit = max(count_limit, flt.page * per_page) + 1
    when = flt.when or ("past" if not upcoming and past else "upcoming")
    side = upcoming if when == "upcoming" else past
    start = (flt.page - 1) * per_page
    return {
        "events": side[start : start + per_page],
        "when": when,
        "upcoming": min(len(upcoming), limit - 1),
        "past": min(len(past), limit - 1),
        "upcoming_exact": len(upcoming) < limit,
        "past_exact": len(past) < limit,
        "count": min(len(side), limit - 1),
        "exact": len(side) < limit,
    }


FILTERS = [
    {},
    {"theme": ["eadrcc"]},
    {"theme": ["eadrcc", "kfor", "cyber-security"]},
    {"partner": ["rts"]},
    {"partner": ["rts", "bcbp"], "theme": ["eadrcc"]},
    {"city": ["Novi Sad"], "format": ["panel"]},
    {"city": ["Beograd", "Niš"]},
    {"q": ["poplave"]},
    {"q": ["поплаве"]},  # Cyrillic finds the Latin text
    {"q": ["Č"]},  # one letter: no trigram, LIKE alone
    {"q": ["sajber bezbednost"]},
    {"q": ["ne postoji nigde"]},
    {"q": ["seminar"], "city": ["Beograd"], "theme": ["kfor"]},
    {"from": ["2020-10-10"], "to": ["2020-10-31"], "format": ["seminar", "panel"]},
]


@pytest.mark.parametrize("count_limit,per_page", [(1000, 25), (4, 3), (10, 2)])
def test_pages_and_counts_agree_with_every_event_read(db, count_limit, per_page):
    add_events(db, 120, seed=12)
    for args in FILTERS:
        for when in (None, "upcoming", "past"):
            for page in (1, 2, 4, 9):
                for drafts in (False, True):
                    query = dict(args, page=[str(page)], **({"when": [when]} if when else {}))
                    flt = parse(db, query, drafts)
                    got = flt.page_of(db, per_page, NOW, count_limit=count_limit)
                    want = expected_page(db, flt, per_page, count_limit)
                    assert {
                        "events": [e.id for e in got.events],
                        "when": got.when,
                        "upcoming": got.upcoming,
                        "past": got.past,
                        "upcoming_exact": got.upcoming_exact,
                        "past_exact": got.past_exact,
                        "count": got.count,
                        "exact": got.exact,
                    } == want, (query, drafts)


def test_list_says_more_than_when_counting_stops(app, client, db):
    add_events(db, 120, seed=3)
    app.config.update(EVENTS_COUNT_LIMIT=5, EVENTS_PER_PAGE=2)
    past = [
        e.id
        for e in db.scalars(
            select(Event)
            .where(Event.status.in_(("confirmed", "cancelled")))
            .order_by(Event.starts_at.desc(), Event.id.desc())
        )
        if e.ends_at <= datetime.now(UTC)
    ]
    assert len(past) > 12

    def page(n):
        body = client.get(f"/events?when=past&page={n}&lang=en").get_data(as_text=True)
        return body, [int(i) for i in re.findall(r'<a href="/events/(\d+)">', body)]

    body, ids = page(1)
    assert "More than 5 events" in body
    assert 'Past events <span class="n">(5+)</span>' in body
    assert "Page 1 of more than 3" in body
    assert 'rel="next" href="/events?page=2&amp;when=past"' in body
    assert ids == past[:2]
    # Further down, the count reaches this page and one more event: still "more than".
    body, ids = page(5)
    assert "Page 5 of more than 5" in body and 'rel="next"' in body
    assert ids == past[8:10]
    # Small lists are counted exactly, as before.
    app.config.update(EVENTS_COUNT_LIMIT=1000)
    body, _ = page(1)
    assert f"{len(past)} events" in body
    assert "More than" not in body
    assert f"Page 1 of {-(-len(past) // 2)}" in body


def test_list_says_more_than_in_serbian(app, client, db):
    add_events(db, 40, seed=4)
    app.config.update(EVENTS_COUNT_LIMIT=3, EVENTS_PER_PAGE=2)
    body = client.get("/events?when=past&lang=sr-Latn").get_data(as_text=True)
    assert "Više od 3 događaja" in body
    assert "Strana 1 od više od 2" in body


def old_month_grid(db, flt, first, last, zone, per_day):
    """The month view as it was computed before, in Python from every event of the month."""
    rows = db.execute(flt.select().with_only_columns(Event.id, Event.starts_at, Event.ends_at))
    rows = rows.all()
    ids_by_day: dict[date, list[int]] = {}
    for event_id, starts_at, ends_at in rows:
        day = max(starts_at.astimezone(zone).date(), first)
        end_day = min((ends_at - timedelta(microseconds=1)).astimezone(zone).date(), last)
        while day <= end_day:
            ids_by_day.setdefault(day, []).append(event_id)
            day += timedelta(days=1)
    return (
        {day: len(ids) for day, ids in ids_by_day.items()},
        {day: ids[:per_day] for day, ids in ids_by_day.items()},
        len(rows),
    )


@pytest.mark.parametrize("month", ["2020-10", "2020-11", "2020-09"])
def test_month_days_in_sql_match_the_events_read_one_by_one(db, month):
    add_events(db, 150, seed=7)
    first = date.fromisoformat(month + "-01")
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    busiest = 0
    for args in ({}, {"theme": ["eadrcc"]}, {"q": ["seminar"]}, {"from": ["2020-10-25"]}):
        for drafts in (False, True):
            flt = parse(db, args, drafts)
            in_month = dataclasses.replace(
                flt,
                date_from=max(first, flt.date_from or first),
                date_to=min(last, flt.date_to or last),
            )
            if in_month.date_from > in_month.date_to:
                continue
            got = month_days(db, in_month, first, last, 4)
            counts, shown, total = old_month_grid(db, in_month, first, last, BELGRADE, 4)
            assert (got.counts, got.shown, got.total) == (counts, shown, total), args
            busiest = max(busiest, *got.counts.values(), 0)
    # The data has days with more than four events (and events over several days).
    assert busiest > 4


def test_search_index_follows_every_write(app, db, backend, create_event, create_venue):
    """Saves, renames of the names an event's search text holds, and deletes reach the
    index in the writing transaction (SQLite: FTS5 triggers; PostgreSQL searches the
    column itself, through its trigram index)."""
    venue = create_venue(name="Dom omladine", city="Kragujevac")
    event = create_event(title="Seminar o zemljotresima", venue=venue, status="draft")

    def found(word: str) -> set[int]:
        flt = parse(db, {"q": [word]}, drafts=True)
        return set(db.scalars(flt.select_ids_indexed(db)))

    assert found("zemljotres") == {event.id}
    assert found("omladine") == {event.id}
    db.execute(
        text("UPDATE events SET search_text = :t WHERE id = :id"),
        {"t": "seminar o poplavama", "id": event.id},
    )
    # Not committed yet: the same transaction already searches the new text.
    assert found("poplavama") == {event.id}
    assert found("zemljotres") == set()
    db.rollback()
    assert found("zemljotres") == {event.id}
    db.execute(text("DELETE FROM events WHERE id = :id"), {"id": event.id})
    assert found("zemljotres") == set()
    db.rollback()
    if backend == "sqlite":
        db.execute(
            text(
                f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}, rank) VALUES ('integrity-check', 1)"
            )
        )


def test_postgres_finds_words_through_the_trigram_index(db, backend):
    if backend != "postgresql":
        pytest.skip("SQLite joins its FTS5 table instead (test_search_index_follows_every_write)")
    add_events(db, 30, seed=5)
    # The condition q adds (the other ones have indexes of their own).
    (condition,) = parse(db, {"q": ["Поплаве"]}, drafts=True).conditions()
    query = select(Event.id).where(condition)
    sql = query.compile(db.get_bind(), compile_kwargs={"literal_binds": True})
    db.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: show that it can
    plan = "\n".join(db.scalars(text(f"EXPLAIN {sql}")))
    assert search.PG_INDEX in plan
    db.rollback()
