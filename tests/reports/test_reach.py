"""The reach report: organizers only, numbers that agree with the event and media lists
(HTML, XLSX), charts as script-free SVG, a fixed number of statements."""

from __future__ import annotations

import io
import json
import random
import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from campaign.db import get_session
from campaign.media import operations as media_ops
from campaign.models import Partner, Theme

THEMES = ["eadrcc", "kfor", "cyber-security", "civil-emergencies"]
PERIOD = "from=2019-11-01&to=2021-12-31"


@pytest.fixture
def random_data(app, create_partner, create_venue, create_event):
    rng = random.Random(2019)
    outlets = [
        create_partner(slug="rts", name="RTS", kind="media", city="Beograd"),
        create_partner(slug="dnevnik", name="Dnevnik", kind="media", city="Novi Sad"),
    ]
    ngo = create_partner(slug="ngo", name="Centar", kind="ngo")
    venues = [create_venue(), create_venue(name="Spens", city="Novi Sad")]
    for _ in range(14):
        start = datetime(2020, 1, 1, 10, tzinfo=UTC) + timedelta(days=rng.randrange(0, 600))
        create_event(
            starts_at=start,
            status=rng.choice(["confirmed", "confirmed", "draft", "cancelled"]),
            themes=rng.sample(THEMES, rng.randint(1, 2)),
            venue=rng.choice([*venues, None]),
            partners=[ngo] if rng.random() < 0.5 else [],
            attendance=rng.choice([None, rng.randrange(0, 300)]),
            expected_audience=rng.randrange(0, 300),
        )
    with app.app_context():
        session = get_session()
        for i in range(18):
            slugs = rng.sample(THEMES, rng.randint(1, 2))
            media_ops.create_media(
                session,
                None,
                media_ops.MediaData(
                    headline=f"Objava {i}",
                    kind=rng.choice(["tv", "radio", "print", "online"]),
                    status=rng.choice(["published", "published", "planned"]),
                    published_at=datetime(2020, 1, 1, 9, tzinfo=UTC)
                    + timedelta(days=rng.randrange(0, 600)),
                    outlet=session.get(Partner, rng.choice(outlets).id),
                    themes=session.scalars(select(Theme).where(Theme.slug.in_(slugs))).all(),
                    estimated_reach=rng.choice([None, rng.randrange(0, 500_000)]),
                ),
            )


def test_report_is_for_organizers(client):
    assert client.get("/reports/reach").status_code in (302, 401)
    assert client.get("/reports/reach.xlsx").status_code in (302, 401)


def _list(client, url):
    return json.loads(client.get(url).get_data())


def _html_table(page: str, table_id: str) -> dict[str, list[str]]:
    table = re.search(rf'<table class="report[^"]*" id="{table_id}">(.*?)</table>', page, re.S)
    rows = {}
    for row in re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", table.group(1), re.S):
        rows[row[0]] = re.findall(r'<td class="number[^"]*">([^<]*)</td>', row[1])
    return rows


def test_numbers_agree_with_the_lists(client, auth, db, random_data):
    auth.login()
    response = client.get(f"/reports/reach?{PERIOD}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    html = _html_table(page, "themes")
    book = load_workbook(io.BytesIO(client.get(f"/reports/reach.xlsx?{PERIOD}").get_data()))
    xlsx = {row[0]: row[1:] for row in book["Themes"].iter_rows(min_row=2, values_only=True)}
    checked = 0
    for slug in THEMES:
        theme = db.scalar(select(Theme).where(Theme.slug == slug))
        events = _list(client, f"/events.json?theme={slug}&status=confirmed&{PERIOD}")
        media = _list(client, f"/media.json?theme={slug}&status=published&{PERIOD}")
        reach = sum(m["estimated_reach"] or 0 for m in media["media"])
        name = theme.name_en or theme.name
        events_n, _att, _exp, media_n, reach_n = xlsx[name]
        assert (events_n, media_n, reach_n) == (events["count"], media["count"], reach), slug
        cells = html[name]
        assert int(cells[0].replace(",", "")) == events["count"]
        assert int(cells[3].replace(",", "")) == media["count"]
        assert int(cells[4].replace(",", "")) == reach
        checked += events["count"] + media["count"]
    assert checked > 10  # the random data did reach the report
    for city in ("Beograd", "Novi Sad"):
        events = _list(client, f"/events.json?city={city}&status=confirmed&{PERIOD}")
        cities = _html_table(page, "cities")
        assert int(cities[city][0]) == events["count"], city


def test_attendance_and_expected_audience_are_apart(client, auth, create_event):
    create_event(attendance=40, expected_audience=100)
    create_event(attendance=None, expected_audience=50)
    auth.login()
    page = client.get(f"/reports/reach?{PERIOD}").get_data(as_text=True)
    [cells] = _html_table(page, "totals").values()
    assert cells[:3] == ["2", "40", "150"]


def test_gaps_and_charts(client, auth, create_event):
    create_event(themes=["kfor"], starts_at=datetime(2020, 5, 5, 10, tzinfo=UTC))
    auth.login()
    page = client.get("/reports/reach?from=2020-04-01&to=2020-06-30&theme=kfor").get_data(
        as_text=True
    )
    assert page.count("<svg") == 3
    assert "<script" not in page.split("<main", 1)[-1]
    assert 'role="img"' in page
    assert "2 gaps" in page


@pytest.mark.parametrize(
    "query", ["theme=nope", "kind=telegraph", "from=1989-01-01", "page=2", "to=2101-01-01"]
)
def test_bad_parameters_are_400(client, auth, query):
    auth.login()
    response = client.get(f"/reports/reach?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.get_data(as_text=True)


def test_report_runs_a_fixed_number_of_statements(
    client, auth, count_queries, create_event, random_data
):
    auth.login()

    def statements():
        with count_queries() as n:
            assert client.get(f"/reports/reach?{PERIOD}").status_code == 200
        return n.count

    small = statements()
    for i in range(10):
        create_event(title=f"More {i}", themes=["kfor"], starts_at=datetime(2021, 2, 1, tzinfo=UTC))
    assert statements() == small


def test_events_count_once_in_totals(client, auth, create_event):
    create_event(themes=["kfor", "eadrcc"])
    auth.login()
    page = client.get(f"/reports/reach?{PERIOD}").get_data(as_text=True)
    [cells] = _html_table(page, "totals").values()
    assert cells[0] == "1"


def _pdf_text(tmp_path, body: bytes) -> str:
    path = tmp_path / "reach.pdf"
    path.write_bytes(body)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_pdf_has_the_same_numbers_in_cyrillic(client, auth, tmp_path, random_data):
    auth.login()
    query = f"{PERIOD}&theme=eadrcc&theme=kfor"
    response = client.get(f"/reports/reach.pdf?{query}&lang=sr-Cyrl")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF-")
    (tmp_path / "info.pdf").write_bytes(body)
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "info.pdf")], check=True, capture_output=True, text=True
    ).stdout
    assert "(A4)" in info
    text = _pdf_text(tmp_path, body)
    # Cyrillic comes out as Cyrillic (fonts with the glyphs, text extractable).
    assert "Извештај о досегу" in text
    assert "Период" in text and "новембар 2019" in text
    assert re.search(r"\b1 ?/ ?\d", text)  # page numbers
    from babel.numbers import format_decimal

    book = load_workbook(io.BytesIO(client.get(f"/reports/reach.xlsx?{query}").get_data()))
    flat = " ".join(text.split())
    for row in book["Themes"].iter_rows(min_row=2, values_only=True):
        numbers = " ".join(format_decimal(n, locale="sr_Cyrl") for n in row[1:])
        assert numbers in flat, (row, numbers)
    assert sum(row[1] for row in book["Themes"].iter_rows(min_row=2, values_only=True)) > 0
