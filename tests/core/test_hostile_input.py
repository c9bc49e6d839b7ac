"""Hostile and random input: never a 5xx, never a half-done write, text kept exactly.

Property-based (hypothesis). Each test function gets one app and database per backend;
the examples of one run share it, which is what a live server sees too.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from campaign.exports import neutralise
from campaign.models import Base, Event, Theme

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# Any Unicode a browser can send: everything but surrogates, which UTF-8 cannot encode.
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
WEIRD = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\r\n",
        "\u202e",
        "\ufeff",
        "\uffff",
        "Čačak",
        "ђурђевдан",
        "😀",
        "%",
        "%00",
        "&&",
        "==",
        "'; DROP TABLE events; --",
        "<script>alert(1)</script>",
        "9" * 40,
        "-1",
        "2020-02-30",
        "9999-12-31",
        "0000-01-01",
        "x" * 5000,
    ]
)
VALUE = st.one_of(ANY_TEXT, WEIRD)
FILTER_KEYS = ["theme", "partner", "format", "city", "status", "from", "to", "q", "page", "month"]


def _query(pairs) -> str:
    return urlencode(pairs)


QUERY = st.one_of(
    st.lists(st.tuples(st.sampled_from(FILTER_KEYS), VALUE), max_size=8).map(_query),
    st.lists(st.tuples(ANY_TEXT, VALUE), max_size=4).map(_query),
    # Raw, not form-encoded: whatever a client puts after the "?".
    ANY_TEXT.map(lambda s: quote(s, safe="&=%+;/?")),
)

# The list URLs; the lead adds feeds and exports here after merging them (one line each).
LIST_URLS = [
    "/",
    "/events",
    "/events/calendar",
    "/themes/eadrcc",
    "/partners/{partner}",
    "/dashboard",
    "/calendar.ics",
    "/themes/eadrcc/calendar.ics",
    "/partners/{partner}/calendar.ics",
    "/events.csv",
    "/events.json",
    "/events.xlsx",
]


@pytest.fixture
def partner(create_partner):
    return create_partner(slug="beogradski-centar", name="Beogradski centar")


@SETTINGS
@given(query=QUERY)
def test_random_query_strings_never_give_5xx(client, auth, partner, create_event, query):
    for logged_in in (False, True):
        if logged_in and not getattr(client, "_logged_in", False):
            auth.login()
            client._logged_in = True
        for pattern in LIST_URLS:
            url = pattern.format(partner=partner.slug) + "?" + query
            response = client.get(url)
            response.get_data()  # read streamed bodies (exports) to the end, as clients do
            assert response.status_code < 500, (url, response.status_code)
    client.logout()
    client._logged_in = False


def snapshot(db) -> dict[str, list]:
    """Every row of every table, in a stable order."""
    db.rollback()  # see what the requests committed
    tables = {}
    for table in Base.metadata.sorted_tables:
        rows = db.execute(select(table)).all()
        tables[table.name] = sorted((tuple(map(repr, row)) for row in rows), key=repr)
    return tables


def _ids(db):
    db.rollback()
    theme = db.scalar(select(Theme.id).where(Theme.slug == "eadrcc"))
    return theme


def event_form(ids):
    return st.fixed_dictionaries(
        {
            "title": st.one_of(st.just("Panel o sajber bezbednosti"), VALUE),
            "format": st.sampled_from(["panel", "round_table", "seminar", "fair", "", "\x00"]),
            "status": st.sampled_from(["draft", "confirmed", "cancelled", "deleted", ""]),
            "starts_at": st.one_of(st.just("2020-03-10T18:00"), VALUE),
            "ends_at": st.one_of(st.just("2020-03-10T20:00"), st.just("2020-01-01T00:00"), VALUE),
            "timezone": st.one_of(st.sampled_from(["Europe/Belgrade", "Mars/Olympus"]), VALUE),
            "venue": st.sampled_from(["", str(ids["venue"]), "999999", "x"]),
            "online_url": st.one_of(st.just(""), st.just("https://meet.example.org/a"), VALUE),
            "description": VALUE,
            "themes": st.lists(st.sampled_from([str(ids["theme"]), "999999", "x", ""])),
            "partners_host": st.lists(st.sampled_from([str(ids["partner"]), "0", "y"])),
            "expected_audience": st.one_of(st.just(""), st.integers().map(str), VALUE),
            "attendance": st.one_of(st.just(""), st.integers(-5, 10**12).map(str), VALUE),
            "version": st.one_of(st.just("1"), VALUE),
        }
    )


def catalog_form(kind):
    number = st.one_of(
        st.just(""),
        st.integers().map(str),
        st.floats(allow_nan=True).map(str),
        VALUE,
    )
    if kind == "theme":
        fields = {
            "slug": st.one_of(st.just("nova-tema"), VALUE),
            "name": st.one_of(st.just("Nova tema"), VALUE),
            "description": VALUE,
            "key_messages": VALUE,
            "colour": st.one_of(st.just("#123abc"), VALUE),
        }
    elif kind == "partner":
        fields = {
            "slug": st.one_of(st.just("novi-partner"), VALUE),
            "name": st.one_of(st.just("Novi partner"), VALUE),
            "kind": st.sampled_from(["ngo", "media", "club", ""]),
            "city": VALUE,
            "website": st.one_of(st.just("https://example.org"), VALUE),
            "contact_name": VALUE,
            "contact_email": st.one_of(st.just("a@example.org"), VALUE),
            "contact_phone": VALUE,
            "notes": VALUE,
        }
    elif kind == "venue":
        fields = {
            "name": st.one_of(st.just("Kulturni centar"), VALUE),
            "city": st.one_of(st.just("Novi Sad"), VALUE),
            "address": VALUE,
            "latitude": number,
            "longitude": number,
            "capacity": number,
        }
    elif kind == "new user":
        fields = {
            "email": st.one_of(st.just("novi@example.org"), VALUE),
            "name": VALUE,
            "role": st.sampled_from(["admin", "organizer", "root", ""]),
            "password": st.one_of(st.just("dugacka lozinka 1"), VALUE),
        }
    else:  # user edit
        fields = {
            "name": VALUE,
            "role": st.sampled_from(["admin", "organizer", "root", ""]),
            "active": st.sampled_from(["y", "", "false"]),
            "password": st.one_of(st.just(""), st.just("dugacka lozinka 2"), VALUE),
        }
    return st.fixed_dictionaries(fields)


FORMS = {
    "new event": ("/events/new", "event"),
    "edit event": ("/events/{event}/edit", "event"),
    "new theme": ("/themes/new", "theme"),
    "edit theme": ("/themes/eadrcc/edit", "theme"),
    "new partner": ("/partners/new", "partner"),
    "edit partner": ("/partners/{partner}/edit", "partner"),
    "new venue": ("/venues/new", "venue"),
    "edit venue": ("/venues/{venue}/edit", "venue"),
    "new user": ("/users", "new user"),
    "edit user": ("/users/{user}", "user"),
}


@pytest.mark.parametrize("form", FORMS)
def test_random_form_posts_never_5xx_and_rejections_change_nothing(
    form, app, client, admin, db, create_event, create_venue, partner, create_user
):
    venue = create_venue()
    event = create_event(venue=venue, partners=[partner])
    other = create_user(email="other@example.org")
    ids = {
        "theme": _ids(db),
        "venue": venue.id,
        "partner": partner.id,
        "event": event.id,
        "user": other.id,
    }
    assert client.login(admin.email).status_code == 302
    url_pattern, kind = FORMS[form]
    url = url_pattern.format(event=event.id, partner=partner.slug, venue=venue.id, user=other.id)
    strategy = event_form(ids) if kind == "event" else catalog_form(kind)

    @SETTINGS
    @given(data=strategy)
    def post_randomly(data):
        before = snapshot(db)
        response = client.post(url, data)
        assert response.status_code < 500, (form, data, response.status_code)
        if response.status_code != 302:
            assert snapshot(db) == before, f"a refused {form} changed the database: {data!r}"

    post_randomly()


# -- event text round trips ----------------------------------------------------------------


def read_page(client, event_id) -> tuple[str, str]:
    """Title and description as the event page shows them."""
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    title = re.search(r"<h1>(?:<del>)?(.*?)(?:</del>)?</h1>", page, re.S).group(1)
    found = re.search(r'<div class="description">(.*?)</div>', page, re.S)
    description = ""
    if found:
        paragraphs = re.findall(r"<p>(.*?)</p>", found.group(1), re.S)
        description = "\n\n".join(p.replace("<br>", "\n") for p in paragraphs)
    return html.unescape(title), html.unescape(description)


# Every representation of an event that must carry its text exactly: name → function
# (client, event id) → (title, description). The lead adds ICS, CSV and JSON after merge.
def read_ics(client, event_id) -> tuple[str, str]:
    """SUMMARY, and the organizer's text at the head of DESCRIPTION, parsed by icalendar."""
    import icalendar

    calendar = icalendar.Calendar.from_ical(client.get(f"/events/{event_id}.ics").data)
    vevent = next(iter(calendar.walk("VEVENT")))
    description = str(vevent.get("DESCRIPTION"))
    # The facts block (format, themes, …, page URL) always follows the text, last.
    text, _sep, _facts = description.rpartition("\n\n")
    return str(vevent.get("SUMMARY")), text


def read_csv(client, event_id) -> tuple[str, str]:
    import csv
    import io

    body = client.get("/events.csv").data.decode("utf-8-sig")
    for row in csv.DictReader(io.StringIO(body, newline="")):
        if row["url"].endswith(f"/events/{event_id}"):
            return row["title"], row["description"]
    raise AssertionError(f"event {event_id} is not in the CSV export")


def read_json(client, event_id) -> tuple[str, str]:
    for event in client.get("/events.json").get_json()["events"]:
        if event["id"] == event_id:
            return event["title"], event["description"]
    raise AssertionError(f"event {event_id} is not in the JSON export")


REPRESENTATIONS = {
    "page": read_page,
    "ics": read_ics,
    "csv": read_csv,
    "json": read_json,
}
# How a representation is allowed to show the text: CSV cells that a spreadsheet would
# run as a formula carry a leading quote (see campaign.exports.neutralise).
SHOWN_AS = {"csv": neutralise}

TITLE = st.one_of(ANY_TEXT.map(lambda s: s[:220]), WEIRD)
DESCRIPTION = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=3000),
    WEIRD,
    st.lists(st.sampled_from(["a", "\n", "\n\n", "\r\n", "\t", " ", "&amp;", "<br>", "</p>"])).map(
        "".join
    ),
)


@SETTINGS
@given(title=TITLE, description=DESCRIPTION)
def test_event_text_is_refused_or_kept_exactly(client, auth, db, title, description):
    if not getattr(client, "_logged_in", False):
        auth.login()
        client._logged_in = True
    theme = _ids(db)
    response = client.post(
        "/events/new",
        {
            "title": title,
            "format": "panel",
            "status": "confirmed",
            "starts_at": "2020-03-10T18:00",
            "ends_at": "2020-03-10T20:00",
            "timezone": "Europe/Belgrade",
            "venue": "",
            "online_url": "",
            "description": description,
            "themes": str(theme),
        },
    )
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 400:
        page = response.get_data(as_text=True)
        assert re.search(r'class="(field-)?errors?', page), "refused without a message"
        return
    event_id = int(response.headers["Location"].rsplit("/", 1)[1])
    expected = (title.strip(), description.replace("\r\n", "\n"))
    db.rollback()
    stored = db.get(Event, event_id)
    assert (stored.title, stored.description) == expected
    for name, read in REPRESENTATIONS.items():
        shown = tuple(map(SHOWN_AS.get(name, str), expected))
        assert read(client, event_id) == shown, f"{name} changed the text"


def test_two_megabyte_fields_are_refused_with_a_message(client, auth, db):
    auth.login()
    theme = _ids(db)
    for field, size, status, message in [
        ("description", 150_000, 400, "at most 100,000 characters"),
        ("title", 1024 * 1024, 413, "too large"),  # a field over MAX_FORM_MEMORY_SIZE
        ("description", 1024 * 1024, 413, "too large"),
    ]:
        data = {
            "title": "Panel",
            "format": "panel",
            "status": "draft",
            "starts_at": "2020-03-10T18:00",
            "ends_at": "2020-03-10T20:00",
            "timezone": "Europe/Belgrade",
            "venue": "",
            "description": "",
            "themes": str(theme),
        }
        data[field] = "ž" * size  # 2 bytes each in UTF-8, sent raw as a browser would
        response = client.post("/events/new", data, content_type="multipart/form-data")
        assert response.status_code == status
        assert message in response.get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(Event.id)) is None


def test_huge_numbers_are_refused_not_crashed(client, auth, db):
    auth.login()
    huge = "9" * 30
    for url, data in [
        ("/venues/new", {"name": "Sala", "city": "Niš", "capacity": huge}),
        ("/venues/new", {"name": "Sala", "city": "Niš", "capacity": "3000000000"}),
        ("/venues/new", {"name": "Sala", "city": "Niš", "latitude": "nan", "longitude": "1"}),
        ("/venues/new", {"name": "Sala", "city": "Niš", "latitude": "inf", "longitude": "1"}),
        (
            "/events/new",
            {
                "title": "Panel",
                "format": "panel",
                "status": "draft",
                "starts_at": "2020-03-10T18:00",
                "ends_at": "2020-03-10T20:00",
                "timezone": "Europe/Belgrade",
                "venue": "",
                "themes": str(_ids(db)),
                "expected_audience": huge,
            },
        ),
    ]:
        response = client.post(url, data)
        assert response.status_code == 400, (url, data)


@pytest.mark.parametrize(
    "title, description, field",
    [
        ("Panel\x00", "", "title"),
        ("Panel\x1b[31m", "", "title"),
        ("Panel\nline", "", "title"),
        ("Panel", "Opis\x07", "description"),
        ("Panel", "Opis\x85", "description"),
        ("Panel", "Opis\ufffe", "description"),
        ("Panel", "lone\rreturn", "description"),
    ],
)
def test_control_characters_are_refused_with_a_message(client, auth, db, title, description, field):
    auth.login()
    response = client.post(
        "/events/new",
        {
            "title": title,
            "format": "panel",
            "status": "draft",
            "starts_at": "2020-03-10T18:00",
            "ends_at": "2020-03-10T20:00",
            "timezone": "Europe/Belgrade",
            "venue": "",
            "description": description,
            "themes": str(_ids(db)),
        },
    )
    assert response.status_code == 400
    assert "control character" in response.get_data(as_text=True)
