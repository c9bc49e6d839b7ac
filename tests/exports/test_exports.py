"""Event-list exports: CSV, XLSX, JSON (and ICS through the feed renderer), web and CLI."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from campaign.db import get_session
from campaign.demo import seed_demo_data
from campaign.exports import neutralise
from campaign.models import Event

HEADER = (
    "uid,title,format,status,start,end,timezone,venue,city,themes,partners,url,"
    "online_url,address,expected_audience,attendance,sequence,updated,description"
)
EVIL = '=HYPERLINK("http://evil.example","click me")'
BELGRADE = ZoneInfo("Europe/Belgrade")


def csv_rows(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def xlsx_rows(data: bytes) -> list[dict]:
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Events"]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def today() -> str:
    return datetime.now(BELGRADE).date().isoformat()


@pytest.fixture
def seeded(app):
    """``seeded(n, seed)`` adds n deterministic demo events (partners and venues once)."""

    def seed(count: int, seed: int = 2019) -> None:
        with app.app_context():
            seed_demo_data(get_session(), count, seed)

    return seed


# -- CSV -------------------------------------------------------------------------------


def test_csv_is_utf8_with_bom_and_shows_serbian_letters(client, auth, create_event, create_venue):
    venue = create_venue(name="Dom kulture Čačak", city="Čačak", address="Gradsko šetalište bb")
    create_event(title="Tribina: ćirilica i đaci — Ђорђе Жижић", venue=venue)
    auth.login()  # an organizer's export: every column (the public's lacks the planning numbers)

    response = client.get("/events.csv")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    data = response.data
    assert data.startswith("\ufeff".encode() + HEADER.encode() + b"\r\n")
    (row,) = csv_rows(data)
    assert row["title"] == "Tribina: ćirilica i đaci — Ђорђе Жижић"
    assert (row["venue"], row["city"], row["address"]) == (
        "Dom kulture Čačak",
        "Čačak",
        "Gradsko šetalište bb",
    )
    assert row["start"] == "2020-03-10T18:00:00+01:00"  # 17:00 UTC is 18:00 CET
    assert row["end"] == "2020-03-10T20:00:00+01:00"
    assert row["timezone"] == "Europe/Belgrade"
    assert row["url"] == f"http://campaign.test/events/{row['url'].rsplit('/', 1)[1]}"


def test_csv_times_are_local_to_each_event_with_their_offset(client, create_event):
    create_event(title="Summer", starts_at=datetime(2020, 7, 1, 8, 0, tzinfo=UTC))
    create_event(
        title="Lisbon", timezone="Europe/Lisbon", starts_at=datetime(2020, 7, 2, 8, 0, tzinfo=UTC)
    )
    rows = csv_rows(client.get("/events.csv").data)
    assert [(r["title"], r["start"], r["timezone"]) for r in rows] == [
        ("Summer", "2020-07-01T10:00:00+02:00", "Europe/Belgrade"),
        ("Lisbon", "2020-07-02T09:00:00+01:00", "Europe/Lisbon"),
    ]


def test_csv_neutralises_formula_injection(app, client, create_event, create_partner):
    evil_partner = create_partner(name=EVIL)
    create_event(title=EVIL, partners=[evil_partner])
    create_event(title="+381 11 123 4567", description="\tTAB first")
    carriage = create_event(title="-2+3")
    create_event(title="@SUM(1+1)*cmd|' /C calc'!A0", description="-\n=1+1")
    tabbed = create_event(title="tab later")
    with app.app_context():
        session = get_session()
        # Imported data may carry what the form strips: a title that starts with a tab.
        session.execute(update(Event).where(Event.id == tabbed.id).values(title="\t=1+2"))
        # Forms refuse a lone carriage return; restored or imported rows may still hold one.
        session.execute(
            update(Event).where(Event.id == carriage.id).values(description="\rCR first")
        )
        session.commit()

    rows = csv_rows(client.get("/events.csv").data)

    for row in rows:
        for column, value in row.items():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)
    by_title = {r["title"]: r for r in rows}
    assert set(by_title) == {
        "'" + EVIL,
        "'+381 11 123 4567",
        "'-2+3",
        "'@SUM(1+1)*cmd|' /C calc'!A0",
        "'\t=1+2",
    }
    assert by_title["'" + EVIL]["partners"] == "'" + EVIL + " (Host)"
    assert by_title["'+381 11 123 4567"]["description"] == "'\tTAB first"
    assert by_title["'-2+3"]["description"] == "'\rCR first"
    assert by_title["'@SUM(1+1)*cmd|' /C calc'!A0"]["description"] == "'-\n=1+1"


@given(st.text())
def test_neutralised_text_never_starts_a_formula_and_keeps_the_text(text):
    safe = neutralise(text)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert safe in (text, "'" + text)


def test_csv_quotes_newlines_commas_and_quotes(client, create_event):
    description = 'Prvi red, "citat"\nDrugi red\r\nTreći; kraj'
    create_event(title='Panel "Bezbednost, danas"', description=description)
    data = client.get("/events.csv").data
    (row,) = csv_rows(data)
    assert row["title"] == 'Panel "Bezbednost, danas"'
    assert row["description"] == description.replace("\r\n", "\n")  # stored as typed, LF
    assert b'"Panel ""Bezbednost, danas"""' in data


# -- XLSX ------------------------------------------------------------------------------


def test_xlsx_has_datetime_cells_bold_frozen_header_and_autofilter(
    client, auth, create_event, create_venue
):
    auth.login()  # an organizer's export: every column
    venue = create_venue(city="Novi Sad", name="Svečana sala")
    create_event(title="Winter", venue=venue)
    create_event(
        title="Summer",
        starts_at=datetime(2020, 7, 1, 8, 0, tzinfo=UTC),
        timezone="Europe/Lisbon",
        expected_audience=80,
    )

    response = client.get("/events.xlsx")

    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = workbook["Events"]
    header = [c.value for c in sheet[1]]
    assert ",".join(header) == HEADER
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:S3"
    assert sheet.column_dimensions["B"].width >= 30
    assert sheet.column_dimensions["E"].width >= 16
    col = {name: n for n, name in enumerate(header)}
    winter, summer = list(sheet.iter_rows(min_row=2))
    assert winter[col["start"]].value == datetime(2020, 3, 10, 18, 0)
    assert winter[col["start"]].is_date
    assert "yyyy" in winter[col["start"]].number_format
    assert "hh:mm" in winter[col["start"]].number_format
    assert winter[col["end"]].value == datetime(2020, 3, 10, 20, 0)
    assert winter[col["timezone"]].value == "Europe/Belgrade"
    assert winter[col["city"]].value == "Novi Sad"
    assert summer[col["start"]].value == datetime(2020, 7, 1, 9, 0)
    assert summer[col["timezone"]].value == "Europe/Lisbon"
    assert summer[col["expected_audience"]].value == 80
    assert summer[col["sequence"]].value == 0


def test_xlsx_tells_the_repeated_autumn_hour_apart(client, auth, create_event):
    """On the last Sunday of October 02:00-03:00 happens twice in Belgrade. Excel cells have
    no zone, so both starts read 02:30: those cells (and only those) show their UTC
    offset, as the CSV writes it, and keep their date-time value."""
    auth.login()
    create_event(title="First 02:30", starts_at=datetime(2020, 10, 25, 0, 30, tzinfo=UTC))
    create_event(title="Second 02:30", starts_at=datetime(2020, 10, 25, 1, 30, tzinfo=UTC))
    create_event(title="Plain", starts_at=datetime(2020, 10, 26, 9, 0, tzinfo=UTC))

    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/events.xlsx").data))["Events"]
    header = [c.value for c in sheet[1]]
    assert ",".join(header) == HEADER
    col = {name: n for n, name in enumerate(header)}
    first, second, plain = list(sheet.iter_rows(min_row=2))
    assert [first[col["title"]].value, second[col["title"]].value] == [
        "First 02:30",
        "Second 02:30",
    ]
    for row in (first, second):
        assert row[col["start"]].value == datetime(2020, 10, 25, 2, 30)
        assert row[col["start"]].is_date
    assert first[col["start"]].number_format == 'yyyy-mm-dd hh:mm "+02:00"'
    assert second[col["start"]].number_format == 'yyyy-mm-dd hh:mm "+01:00"'
    # They end at 03:30 and 04:30 (+01:00): one reading each, shown as before.
    assert first[col["end"]].number_format == "yyyy-mm-dd hh:mm"
    assert plain[col["start"]].number_format == "yyyy-mm-dd hh:mm"
    # The CSV says the same offsets.
    rows = {r["title"]: r for r in csv_rows(client.get("/events.csv").data)}
    assert rows["First 02:30"]["start"] == "2020-10-25T02:30:00+02:00"
    assert rows["Second 02:30"]["start"] == "2020-10-25T02:30:00+01:00"


def test_xlsx_writes_formula_like_text_as_text(app, client, create_event, create_partner):
    create_event(title=EVIL, partners=[create_partner(name="@evil(1)")])
    odd = create_event(title="#N/A")
    with app.app_context():
        # Forms refuse control characters; older or imported rows may still hold one.
        session = get_session()
        session.execute(
            update(Event)
            .where(Event.id == odd.id)
            .values(description="+1\x0bvertical tab is illegal in XML")
        )
        session.commit()

    data = client.get("/events.xlsx").data

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Events"]
    rows = list(sheet.iter_rows(min_row=2))
    header = [c.value for c in sheet[1]]
    title, partners, description = (
        header.index("title"),
        header.index("partners"),
        header.index("description"),
    )
    assert rows[0][title].value == EVIL
    assert rows[0][title].data_type == "s"
    assert rows[0][title].quotePrefix
    assert rows[0][partners].value == "@evil(1) (Host)"
    assert rows[0][partners].quotePrefix
    assert rows[1][title].value == "#N/A"
    assert rows[1][title].data_type == "s"
    assert rows[1][description].value == "+1vertical tab is illegal in XML"


# -- JSON ------------------------------------------------------------------------------


def test_json_is_exactly_the_designed_shape(client, create_event, create_venue, create_partner):
    venue = create_venue(name="Rektorat", city="Beograd", address="Studentski trg 1")
    host = create_partner(slug="bcbp", name="Beogradski centar za bezbednosnu politiku")
    media = create_partner(slug="rts", name="Radio-televizija Srbije", kind="media")
    create_event(
        title="Sajber bezbednost",
        format="panel",
        venue=venue,
        themes=["cyber-security", "eadrcc"],
        partners=[(media, "media_partner"), (host, "host")],
    )
    create_event(
        title="Online seminar",
        format="seminar",
        online_url="https://meet.example.org/ipap2",
        starts_at=datetime(2020, 6, 1, 9, 0, tzinfo=UTC),
    )

    response = client.get("/events.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = json.loads(response.data)
    assert set(body) == {"events", "count"}
    assert body["count"] == 2 == len(body["events"])
    first, second = body["events"]
    assert set(first) == {
        "id",
        "uid",
        "url",
        "title",
        "format",
        "status",
        "start",
        "end",
        "timezone",
        "venue",
        "online_url",
        "themes",
        "partners",
        "sequence",
        "updated",
        "description",
    }
    assert set(second) == set(first)
    assert isinstance(first["id"], int)
    assert first["uid"].endswith("@ipap2-campaign")
    assert first["url"] == f"http://campaign.test/events/{first['id']}"
    assert (first["title"], first["format"], first["status"]) == (
        "Sajber bezbednost",
        "panel",
        "confirmed",
    )
    assert first["start"] == "2020-03-10T18:00:00+01:00"
    assert first["end"] == "2020-03-10T20:00:00+01:00"
    assert first["timezone"] == "Europe/Belgrade"
    assert first["venue"] == {"name": "Rektorat", "city": "Beograd", "address": "Studentski trg 1"}
    assert first["online_url"] is None
    assert first["themes"] == ["cyber-security", "eadrcc"]
    assert first["partners"] == [
        {"slug": "bcbp", "name": "Beogradski centar za bezbednosnu politiku", "role": "host"},
        {"slug": "rts", "name": "Radio-televizija Srbije", "role": "media_partner"},
    ]
    assert first["sequence"] == 0
    assert datetime.fromisoformat(first["updated"]).utcoffset() is not None
    assert second["venue"] is None
    assert second["online_url"] == "https://meet.example.org/ipap2"
    assert second["start"] == "2020-06-01T11:00:00+02:00"


def test_json_of_nothing(client):
    assert json.loads(client.get("/events.json").data) == {"events": [], "count": 0}


# -- what every export shares ----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_filename_names_the_filter_and_the_date(client, create_event, fmt):
    create_event(themes=["cyber-security"])
    response = client.get(f"/events.{fmt}?theme=cyber-security")
    name = f"ipap2-events-cyber-security-{today()}.{fmt}"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    )


def test_filename_keeps_serbian_letters_in_utf8_and_ascii_fallback(
    client, create_event, create_venue
):
    create_event(venue=create_venue(city="Čačak"))
    create_event(venue=create_venue(city="Ниш"))
    response = client.get("/events.csv?" + urlencode([("city", "Čačak"), ("city", "Ниш")]))
    assert response.status_code == 200
    utf8 = f"ipap2-events-čačak-ниш-{today()}.csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="ipap2-events-cacak-nis-{today()}.csv"; '
        f"filename*=UTF-8''{quote(utf8, safe='')}"
    )
    plain = client.get("/events.json").headers["Content-Disposition"]
    assert f'filename="ipap2-events-{today()}.json"' in plain


@pytest.mark.parametrize("path", ["/events.pdf", "/events.xls", "/events.ics", "/events.CSV"])
def test_unknown_export_format_is_404(client, path):
    assert client.get(path + "?theme=eadrcc").status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("theme=no-such-theme", "theme"),
        ("partner=nobody", "partner"),
        ("format=webinar", "format"),
        ("city=Atlantis", "city"),
        ("from=2020-13-01", "from"),
        ("from=2020-05-01&to=2020-04-01", "from"),
        ("status=draft", "status"),
    ],
)
def test_bad_filter_is_400_naming_the_parameter(client, fmt, query, param):
    response = client.get(f"/events.{fmt}?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith(f"{param}: ")
    assert "Content-Disposition" not in response.headers


def test_drafts_are_only_in_organizers_exports(client, auth, create_event):
    create_event(title="Published", status="confirmed")
    create_event(title="Called off", status="cancelled")
    create_event(title="Secret draft", status="draft")
    public = {"Published", "Called off"}

    def titles(fmt: str) -> set[str]:
        response = client.get(f"/events.{fmt}")
        assert response.status_code == 200
        if fmt == "csv":
            return {r["title"] for r in csv_rows(response.data)}
        if fmt == "xlsx":
            return {r["title"] for r in xlsx_rows(response.data)}
        return {e["title"] for e in json.loads(response.data)["events"]}

    for fmt in ("csv", "xlsx", "json"):
        assert titles(fmt) == public, fmt
    assert client.get("/events.json?status=draft").status_code == 400

    auth.login()
    for fmt in ("csv", "xlsx", "json"):
        assert titles(fmt) == public | {"Secret draft"}, fmt
        assert "no-store" in client.get(f"/events.{fmt}").headers["Cache-Control"]
    drafts = json.loads(client.get("/events.json?status=draft").data)
    assert [e["title"] for e in drafts["events"]] == ["Secret draft"]


def test_list_page_links_to_exports_and_feed_keeping_the_filter(client, create_event):
    create_event(themes=["cyber-security"])
    page = client.get("/events?theme=cyber-security&format=round_table&page=1").get_data(
        as_text=True
    )
    kept = "theme=cyber-security&amp;format=round_table"
    for target in ("/events.csv", "/events.xlsx", "/events.json", "/calendar.ics"):
        assert f'href="{target}?{kept}"' in page, target
    assert "Export this list" in page
    assert "calendar feed" in page


# -- streaming and queries -------------------------------------------------------------


def statements_for(n_events: int, chunk: int) -> int:
    """The documented formula: 3 statements per batch, plus an empty last SELECT when the
    events fill their last batch exactly."""
    return 3 * math.ceil(n_events / chunk) + (1 if n_events % chunk == 0 else 0)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_export_query_count_does_not_grow_with_events(client, seeded, count_queries, fmt):
    seeded(10, seed=1)
    with count_queries() as small:
        assert client.get(f"/events.{fmt}").data  # the body streams: read it all
    seeded(390, seed=2)
    with count_queries() as large:
        assert client.get(f"/events.{fmt}").data
    assert small.count == large.count == 3, large.statements


def test_export_query_count_is_three_per_batch(app, client, seeded, count_queries):
    app.config["EXPORT_CHUNK_SIZE"] = 10
    seeded(230, seed=3)
    visible = json.loads(client.get("/events.json").data)["count"]
    assert visible > 100
    with count_queries() as counted:
        client.get("/events.csv").data  # noqa: B018 - read the whole body
    assert counted.count == statements_for(visible, 10)
    assert statements_for(0, 10) == 1 and statements_for(30, 10) == 10


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_csv_and_json_stream_before_the_last_row_is_read(
    app, client, create_event, count_queries, fmt
):
    app.config["EXPORT_CHUNK_SIZE"] = 10
    start = datetime(2020, 3, 10, 17, 0, tzinfo=UTC)
    for n in range(25):
        create_event(title=f"Event {n:02d}", starts_at=start + timedelta(days=n))

    with count_queries() as counted:
        response = client.get(f"/events.{fmt}", buffered=False)
        pieces = iter(response.response)
        head = next(pieces)
        first_batch = next(pieces)
        read_so_far = counted.count
        rest = b"".join(pieces)
        response.close()

    assert b"Event 00" in first_batch and b"Event 09" in first_batch
    assert b"Event 10" not in head + first_batch
    assert read_so_far == 3  # one batch read, two more to come
    assert counted.count == 9
    body = head + first_batch + rest
    titles = (
        [r["title"] for r in csv_rows(body)]
        if fmt == "csv"
        else [e["title"] for e in json.loads(body)["events"]]
    )
    assert titles == [f"Event {n:02d}" for n in range(25)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_export_gives_its_connection_back(app, client, create_event, fmt):
    """A streamed body outlives the view's own teardown; its session must still close."""
    create_event()
    pool = app.extensions["campaign.engine"].pool
    response = client.get(f"/events.{fmt}")
    assert response.data
    response.close()
    assert pool.checkedout() == 0


# -- consistency -----------------------------------------------------------------------

CONSISTENCY_FILTERS = [
    [],
    [("theme", "cyber-security")],
    [("theme", "eadrcc"), ("theme", "kfor")],
    [("partner", "rts")],
    [("city", "novi sad")],
    [("format", "seminar")],
    [("from", "2020-03-01"), ("to", "2020-06-30")],
    [("q", "poplave")],
    [("q", "vinča")],
    [("theme", "civil-emergencies"), ("format", "panel"), ("from", "2020-01-01")],
    [("status", "cancelled")],
]


def events_in(fmt: str, data: bytes) -> list[tuple[str, datetime]]:
    """(uid, start instant in UTC) for every event of an export, in file order."""
    if fmt == "csv":
        return [
            (r["uid"], datetime.fromisoformat(r["start"]).astimezone(UTC)) for r in csv_rows(data)
        ]
    if fmt == "xlsx":
        return [
            (r["uid"], r["start"].replace(tzinfo=ZoneInfo(r["timezone"])).astimezone(UTC))
            for r in xlsx_rows(data)
        ]
    if fmt == "json":
        return [
            (e["uid"], datetime.fromisoformat(e["start"]).astimezone(UTC))
            for e in json.loads(data)["events"]
        ]
    import icalendar

    calendar = icalendar.Calendar.from_ical(data)
    return [(str(e["UID"]), e.decoded("DTSTART").astimezone(UTC)) for e in calendar.walk("VEVENT")]


def listed_count(client, query: str) -> int:
    page = client.get(f"/events?{query}").get_data(as_text=True)
    return int(re.search(r'<p class="count">(\d+) events?', page).group(1))


@pytest.mark.parametrize("logged_in", [False, True], ids=["public", "organizer"])
def test_every_format_holds_the_same_events_as_the_list(app, client, auth, seeded, logged_in):
    seeded(300, seed=11)
    if logged_in:
        auth.login()
    with app.app_context():
        expected_all = get_session().scalars(select(Event.uid)).all()
    assert len(expected_all) == 300

    for pairs in CONSISTENCY_FILTERS:
        query = urlencode(pairs)
        found = {}
        for fmt in ("csv", "xlsx", "json"):
            response = client.get(f"/events.{fmt}?{query}")
            assert response.status_code == 200, (fmt, query, response.data[:200])
            found[fmt] = events_in(fmt, response.data)
        assert found["csv"] == found["xlsx"] == found["json"], query
        assert len(set(found["csv"])) == len(found["csv"])
        assert len(found["csv"]) == listed_count(client, query), query
        assert found["csv"] == sorted(found["csv"], key=lambda e: e[1]), query
        if pairs:
            assert 0 < len(found["csv"]) < 300, query


def test_ics_feed_holds_the_same_events_as_the_exports(client, seeded):
    seeded(300, seed=11)
    for pairs in CONSISTENCY_FILTERS:
        query = urlencode(pairs)
        feed = client.get(f"/calendar.ics?{query}")
        assert feed.status_code == 200, query
        from_json = events_in("json", client.get(f"/events.json?{query}").data)
        assert sorted(events_in("ics", feed.data)) == sorted(from_json), query


# -- the command line ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize(
    "pairs",
    [[], [("theme", "cyber-security")], [("city", "Novi Sad"), ("format", "panel")]],
    ids=["all", "theme", "city-format"],
)
def test_cli_writes_the_same_bytes_as_the_web(client, auth, runner, seeded, fmt, pairs):
    seeded(120, seed=5)
    options = []
    for name, value in pairs:
        options += [f"--{'event-format' if name == 'format' else name}", value]
    query = urlencode(pairs)

    public = runner.invoke(args=["export", "--format", fmt, "--public", *options])
    assert public.exit_code == 0, public.output
    assert public.stdout_bytes == client.get(f"/events.{fmt}?{query}").data

    auth.login()
    staff = runner.invoke(args=["export", "--format", fmt, *options])
    assert staff.exit_code == 0, staff.output
    assert staff.stdout_bytes == client.get(f"/events.{fmt}?{query}").data
    if not pairs:
        assert len(staff.stdout_bytes) > len(public.stdout_bytes)  # drafts are in by default


def test_cli_writes_a_file_with_progress_on_stderr(runner, seeded, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    seeded(60, seed=6)
    target = tmp_path / "izvoz-čačak.xlsx"
    result = runner.invoke(
        args=["export", "--format", "xlsx", "--from", "2020-01-01", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == b""
    assert "Exporting" in result.stderr and "Wrote" in result.stderr
    rows = xlsx_rows(target.read_bytes())
    assert rows and all(r["end"] >= datetime(2020, 1, 1) for r in rows)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--theme", "no-such-theme"], "'--theme'"),
        (["--partner", "nobody"], "'--partner'"),
        (["--event-format", "webinar"], "'--event-format'"),
        (["--city", "Atlantis"], "'--city'"),
        (["--status", "postponed"], "'--status'"),
        (["--public", "--status", "draft"], "'--status'"),
        (["--from", "27.11.2026"], "'--from'"),
        (["--from", "2020-05-01", "--to", "2020-04-01"], "'--from'"),
        (["--to", "2020-02-30"], "'--to'"),
        (["--format", "pdf"], "'--format'"),
        (["--colour", "blue"], "--colour"),
        (["-o", "/no/such/dir/out.csv"], "'-o'"),
    ],
)
def test_cli_rejects_nonsense_naming_the_option(runner, tmp_path, args, option):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    target = tmp_path / "out.csv"
    full = ["export", *(["--format", "csv"] if "--format" not in args else []), *args]
    if "-o" not in args:
        full += ["-o", str(target)]
    result = runner.invoke(args=full)
    assert result.exit_code == 2, result.output
    assert option in result.stderr
    assert result.stdout_bytes == b""
    assert list(tmp_path.iterdir()) == []


def test_cli_needs_a_format(runner):
    result = runner.invoke(args=["export"])
    assert result.exit_code == 2
    assert "'--format'" in result.stderr


@pytest.mark.parametrize(
    "pairs", [[], [("theme", "cyber-security")], [("city", "Novi Sad"), ("from", "2020-06-01")]]
)
def test_cli_ics_is_the_feed_byte_for_byte(client, runner, seeded, organizer, pairs, tmp_path):
    seeded(120, seed=5)
    options = [x for name, value in pairs for x in (f"--{name}", value)]
    public = runner.invoke(args=["export", "--format", "ics", "--public", *options])
    assert public.exit_code == 0, public.output
    assert public.stdout_bytes == client.get(f"/calendar.ics?{urlencode(pairs)}").data
    # With drafts (the CLI's default) it is the organizer's private feed.
    target = tmp_path / "private.ics"
    private = runner.invoke(args=["export", "--format", "ics", *options, "-o", str(target)])
    assert private.exit_code == 0, private.output
    feed = client.get(f"/calendar.ics?{urlencode([*pairs, ('token', organizer.feed_token)])}")
    assert target.read_bytes() == feed.data
    if not pairs:
        assert b"STATUS:TENTATIVE" in feed.data


def test_a_long_cli_export_does_not_block_writers(app, create_event, database_url):
    """The CLI reads in a deferred transaction: on SQLite, BEGIN IMMEDIATE would hold the
    write lock for the whole export and organizers' saves would time out."""
    from campaign.db import make_engine, read_only
    from campaign.events.filters import EventFilter
    from campaign.exports import export_for_app

    app.config["EXPORT_CHUNK_SIZE"] = 10
    start = datetime(2020, 3, 10, 17, 0, tzinfo=UTC)
    for n in range(25):
        create_event(title=f"Event {n:02d}", starts_at=start + timedelta(days=n))
    with app.app_context():
        session = read_only(get_session())
        flt = EventFilter.parse({}, session, include_drafts=True, campaign_zone=BELGRADE)
        chunks = export_for_app("csv", session, flt)
        next(chunks), next(chunks)  # the export is between batches, its transaction open
        writer = make_engine(database_url, busy_timeout_ms=200)
        try:
            with writer.begin() as conn:
                conn.execute(update(Event).where(Event.title == "Event 24").values(title="Moved"))
        finally:
            writer.dispose()
        rest = b"".join(chunks)
    assert b"Event 23" in rest


def test_cli_export_speaks_the_language_asked_for(runner, create_event, tmp_path):
    create_event(title="Seminar o sajber bezbednosti")
    headings = {}
    for lang in ("sr-Cyrl", "sr-Latn", "en"):
        target = tmp_path / f"{lang}.xlsx"
        result = runner.invoke(
            args=["export", "--format", "xlsx", "--lang", lang, "-o", str(target)]
        )
        assert result.exit_code == 0, result.output
        sheet = openpyxl.load_workbook(target).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        headings[lang] = rows[0]
        titles = [r[rows[0].index(headings[lang][1])] for r in rows[1:]]
        if lang == "sr-Cyrl":
            assert titles == ["Семинар о сајбер безбедности"]
        else:
            assert titles == ["Seminar o sajber bezbednosti"]
    assert headings["en"][1] == "title"
    assert headings["sr-Latn"] != headings["en"] and headings["sr-Cyrl"] != headings["sr-Latn"]
    bad = runner.invoke(args=["export", "--format", "csv", "--lang", "de"])
    assert bad.exit_code == 2 and "--lang" in bad.output
