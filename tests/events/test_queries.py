"""Pages run a fixed number of SQL statements whatever the number of events."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from campaign.demo import demo_rows, ensure_catalog
from campaign.events import operations as event_ops
from campaign.models import Event, Partner, Theme, Venue

URLS = [
    "/",
    "/events",
    "/events?theme=eadrcc&city=Beograd&q=a",
    "/events/calendar?month=2020-05",
    "/themes/eadrcc",
    "/partners/rts",
    "/themes",
    "/partners",
]


def statements(client, count_queries, url):
    with count_queries() as n:
        response = client.get(url)
    assert response.status_code == 200, url
    return n.count


def add_events(db, count, seed):
    """``count`` demo events, each matching every URL above (so no list is ever empty)."""
    partners, venues = ensure_catalog(db)
    themes = db.scalars(select(Theme).order_by(Theme.slug)).all()
    eadrcc = db.scalar(select(Theme.id).where(Theme.slug == "eadrcc"))
    rts = db.scalar(select(Partner.id).where(Partner.slug == "rts"))
    beograd = db.scalar(select(Venue.id).where(Venue.city == "Beograd").limit(1))
    rows = []
    for n, row in enumerate(demo_rows(random.Random(seed), count, themes, partners, venues)):
        start = datetime(2020, 5, 1 + n % 28, 16, tzinfo=UTC)
        row.update(
            status="confirmed",
            venue_id=beograd,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            theme_ids=sorted({eadrcc, *row["theme_ids"]}),
            partners=[(rts, "host")] + [p for p in row["partners"] if p[0] != rts],
        )
        rows.append(row)
    event_ops.import_events(db, rows)


@pytest.mark.parametrize("logged_in", [False, True])
def test_list_and_event_pages_run_fixed_queries(client, auth, db, count_queries, logged_in):
    if logged_in:
        auth.login()
    add_events(db, 10, seed=1)
    first_id = db.scalar(select(func.min(Event.id)))
    small = {url: statements(client, count_queries, url) for url in URLS}
    small_event = statements(client, count_queries, f"/events/{first_id}")
    add_events(db, 990, seed=2)
    assert db.scalar(select(func.count()).select_from(Event)) == 1000
    large = {url: statements(client, count_queries, url) for url in URLS}
    assert large == small
    last_id = db.scalar(select(func.max(Event.id)))
    assert statements(client, count_queries, f"/events/{last_id}") == small_event
