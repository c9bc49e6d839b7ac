"""The iCalendar feeds as subscribers see them, read back by four independent parsers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import icalendar
import ics
import pytest
import recurring_ical_events
import vobject
from sqlalchemy import select

from campaign.auth import operations as user_ops
from campaign.calendar import feeds, ical
from campaign.catalog import operations as catalog_ops
from campaign.db import get_session
from campaign.events import operations as event_ops
from campaign.events.filters import event_list_loading
from campaign.models import Event, Theme, User

BELGRADE = ZoneInfo("Europe/Belgrade")
BRUSSELS = ZoneInfo("Europe/Brussels")


@pytest.fixture(autouse=True)
def _cold_caches():
    feeds.clear_caches()
    yield
    feeds.clear_caches()


# -- helpers -----------------------------------------------------------------------------


def fetch(client, url, status=200, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response


def feed_text(client, url="/calendar.ics") -> str:
    response = fetch(client, url)
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return response.get_data().decode("utf-8")


def db_events(app, *, drafts=False) -> list[Event]:
    with app.app_context():
        query = select(Event).options(*event_list_loading()).order_by(Event.starts_at)
        if not drafts:
            query = query.where(Event.status != "draft")
        return list(get_session().scalars(query))


def edit(app, event_id: int, **changes) -> None:
    with app.app_context():
        session = get_session()
        event = session.scalar(
            select(Event).where(Event.id == event_id).options(*event_list_loading())
        )
        data = event_ops.event_data(event)
        for name, value in changes.items():
            setattr(data, name, value)
        assert event_ops.update_event(session, None, event, data, event.version)


def cancel(app, event_id: int) -> None:
    with app.app_context():
        session = get_session()
        event = session.scalar(
            select(Event).where(Event.id == event_id).options(*event_list_loading())
        )
        event_ops.cancel_event(session, None, event, event.version)


def vevents(text: str) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(text)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def check_against_database(text: str, expected: list[Event]) -> None:
    """Every parser finds exactly the expected events, at the right instants, with the
    right status and sequence."""
    want = {e.uid: e for e in expected}
    status = {"confirmed": "CONFIRMED", "cancelled": "CANCELLED", "draft": "TENTATIVE"}

    cal = icalendar.Calendar.from_ical(text)
    got = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(got) == set(want)
    for uid, e in want.items():
        v = got[uid]
        assert v.decoded("DTSTART") == e.starts_at
        assert v.decoded("DTEND") == e.ends_at
        assert str(v["STATUS"]) == status[e.status]
        assert int(v["SEQUENCE"]) == e.sequence
        assert str(v["SUMMARY"]) == e.title

    vcal = vobject.readOne(text, validate=True)
    got = {v.uid.value: v for v in getattr(vcal, "vevent_list", [])}
    assert set(got) == set(want)
    for uid, e in want.items():
        v = got[uid]
        assert v.dtstart.value.astimezone(UTC) == e.starts_at
        assert v.dtend.value.astimezone(UTC) == e.ends_at
        assert v.status.value == status[e.status]
        assert int(v.sequence.value) == e.sequence
        assert v.summary.value == e.title

    got = {v.uid: v for v in ics.Calendar(text).events}
    assert set(got) == set(want)
    for uid, e in want.items():
        assert got[uid].begin.datetime.astimezone(UTC) == e.starts_at
        assert got[uid].end.datetime.astimezone(UTC) == e.ends_at
        assert got[uid].status == status[e.status]
        assert got[uid].name == e.title

    occurrences = recurring_ical_events.of(cal).between(
        datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    got = {str(o["UID"]): o for o in occurrences}
    assert set(got) == set(want)
    for uid, e in want.items():
        assert got[uid]["DTSTART"].dt.astimezone(UTC) == e.starts_at


def check_wire_format(body: bytes) -> None:
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert b"\r" not in body.replace(b"\r\n", b"")
    lines = body.split(b"\r\n")[:-1]
    for line in lines:
        assert len(line) <= 75, line
        line.decode("utf-8")  # folds never split a multi-byte character
    text = body.decode().replace("\r\n ", "")
    used = {
        part.split("=", 1)[1].split(":")[0].split(";")[0]
        for line in text.split("\r\n")
        for part in line.split(":", 1)[0].split(";")
        if part.startswith("TZID=")
    }
    defined = {line[5:] for line in text.split("\r\n") if line.startswith("TZID:")}
    assert used <= defined, used - defined
    assert "RDATE" not in text


@pytest.fixture
def world(app, create_event, create_partner, create_venue, create_user):
    """A confirmed panel at a venue with partners, a cancelled one, a draft, and an online
    seminar held in Brussels time."""
    venue = create_venue(name="Dom omladine", city="Beograd", address="Makedonska 22")
    host = create_partner(slug="bcbp", name="Beogradski centar za bezbednosnu politiku")
    media = create_partner(slug="rts", name="Radio-televizija Srbije", kind="media")
    panel = create_event(
        title="Panel: sajber bezbednost",
        format="panel",
        themes=["cyber-security", "eadrcc"],
        venue=venue,
        partners=[(host, "host"), (media, "media_partner")],
        description="Razgovor o zaštiti mreža.",
        starts_at=datetime(2020, 3, 10, 17, 0, tzinfo=UTC),
    )
    gone = create_event(
        title="Round table: floods", starts_at=datetime(2020, 5, 5, 9, 0, tzinfo=UTC), venue=venue
    )
    cancel(app, gone.id)
    draft = create_event(
        title="Draft: not yet public", status="draft", starts_at=datetime(2020, 6, 1, 8, tzinfo=UTC)
    )
    online = create_event(
        title="Seminar: NATO PDD briefing",
        format="seminar",
        timezone="Europe/Brussels",
        online_url="https://meet.example.org/pdd",
        starts_at=datetime(2020, 11, 12, 14, 0, tzinfo=BRUSSELS),
        themes=["partnership-for-peace"],
    )
    return {"panel": panel, "cancelled": gone, "draft": draft, "online": online, "venue": venue}


# -- the feed as parsers read it ---------------------------------------------------------


def test_public_feed_parses_everywhere_and_matches_the_database(app, client, world):
    response = fetch(client, "/calendar.ics")
    check_wire_format(response.get_data())
    check_against_database(response.get_data(as_text=True), db_events(app))


def test_calendar_head_names_the_feed(client, world):
    text = feed_text(client, "/calendar.ics?theme=cyber-security")
    assert text.startswith(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//IPAP 2 campaign//Campaign planner//EN\r\n"
        "CALSCALE:GREGORIAN\r\n"
    )
    cal = icalendar.Calendar.from_ical(text)
    assert str(cal["NAME"]) == "IPAP 2 campaign — Cyber security"
    assert str(cal["X-WR-CALNAME"]) == "IPAP 2 campaign — Cyber security"
    assert "http://campaign.test/events" in str(cal["DESCRIPTION"])
    # Exact lines: icalendar's plain setters write these wrongly (see test_ical.py).
    assert "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    assert "\r\nX-PUBLISHED-TTL:PT1H\r\n" in text
    assert str(vobject.readOne(text).x_wr_calname.value) == "IPAP 2 campaign — Cyber security"
    whole = icalendar.Calendar.from_ical(feed_text(client))
    assert str(whole["X-WR-CALNAME"]) == "IPAP 2 campaign"


def test_every_vevent_property(app, client, world):
    panel = next(e for e in db_events(app) if e.id == world["panel"].id)
    v = vevents(feed_text(client))[panel.uid]
    assert v.decoded("DTSTAMP") == panel.updated.replace(microsecond=0)
    assert v.decoded("LAST-MODIFIED") == panel.updated.replace(microsecond=0)
    assert v.decoded("CREATED") == panel.created.replace(microsecond=0)
    assert v["DTSTART"].params["TZID"] == "Europe/Belgrade"
    assert v["DTEND"].params["TZID"] == "Europe/Belgrade"
    assert str(v["URL"]) == f"http://campaign.test/events/{panel.id}"
    assert str(v["LOCATION"]) == "Dom omladine, Makedonska 22, Beograd"
    assert v.decoded("GEO") == (44.8167, 20.4637)
    assert [str(c) for c in v["CATEGORIES"].cats] == [
        "Panel",
        "Cyber security",
        "Euro-Atlantic Disaster Response Coordination Centre (EADRCC)",
    ]
    description = str(v["DESCRIPTION"])
    assert description.startswith("Razgovor o zaštiti mreža.\n\n")
    assert "Themes: Cyber security, Euro-Atlantic Disaster Response" in description
    assert "Beogradski centar za bezbednosnu politiku (Host)" in description
    assert "Radio-televizija Srbije (Media partner)" in description
    assert f"http://campaign.test/events/{panel.id}" in description
    assert str(v["ORGANIZER"]) == "mailto:campaign@ipap2.example.org"
    assert v["ORGANIZER"].params["CN"] == "IPAP 2 campaign"
    online = vevents(feed_text(client))[world["online"].uid]
    assert "Online: https://meet.example.org/pdd" in str(online["DESCRIPTION"])
    assert str(online["LOCATION"]) == "https://meet.example.org/pdd"
    assert "GEO" not in online


def test_drafts_never_in_the_public_feed_even_for_organizers(app, client, auth, world):
    assert world["draft"].uid not in feed_text(client)
    auth.login()
    response = fetch(client, "/calendar.ics")
    assert world["draft"].uid not in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "public, max-age=300"
    fetch(client, "/calendar.ics?status=draft", status=400)


def test_cancelled_event_stays_with_status_cancelled_and_higher_sequence(app, client, world):
    v = vevents(feed_text(client))[world["cancelled"].uid]
    assert str(v["STATUS"]) == "CANCELLED"
    assert int(v["SEQUENCE"]) == 1
    assert str(v["TRANSP"]) == "TRANSPARENT"


def test_move_keeps_uid_and_raises_sequence_description_edit_does_not(app, client, world):
    panel = world["panel"]
    before = vevents(feed_text(client))[panel.uid]
    assert int(before["SEQUENCE"]) == 0

    edit(app, panel.id, description="Nov opis, bez promene vremena.")
    after_text = vevents(feed_text(client))[panel.uid]
    assert int(after_text["SEQUENCE"]) == 0
    assert after_text.decoded("LAST-MODIFIED") > before.decoded("LAST-MODIFIED")
    assert after_text.decoded("DTSTAMP") == after_text.decoded("LAST-MODIFIED")
    assert str(after_text["DESCRIPTION"]).startswith("Nov opis, bez promene vremena.")

    new_start = datetime(2020, 3, 12, 16, 0, tzinfo=UTC)
    edit(app, panel.id, starts_at=new_start, ends_at=new_start + timedelta(hours=2))
    moved = vevents(feed_text(client))[panel.uid]
    assert int(moved["SEQUENCE"]) == 1
    assert moved.decoded("DTSTART") == new_start

    cancel(app, panel.id)
    text = feed_text(client)
    gone = vevents(text)[panel.uid]
    assert int(gone["SEQUENCE"]) == 2
    assert str(gone["STATUS"]) == "CANCELLED"
    check_against_database(text, db_events(app))


def test_edit_through_the_web_form_reaches_the_feed(app, client, auth, world):
    auth.login()
    panel = db_events(app)[0]
    page = client.get(f"/events/{panel.id}/edit").get_data(as_text=True)
    assert "Title" in page
    cancel_response = client.post(f"/events/{panel.id}/cancel", {"version": panel.version})
    assert cancel_response.status_code in (302, 303)
    v = vevents(feed_text(client))[panel.uid]
    assert str(v["STATUS"]) == "CANCELLED" and int(v["SEQUENCE"]) == 1


def test_renaming_a_venue_reaches_cached_events(app, client, world):
    assert "Dom omladine" in feed_text(client)
    with app.app_context():
        session = get_session()
        venue = session.get(type(world["venue"]), world["venue"].id)
        catalog_ops.save_venue(
            session, None, venue, name="Dom omladine Beograda", city="Beograd",
            address="Makedonska 22", latitude=44.8167, longitude=20.4637, capacity=200,
        )  # fmt: skip
    v = vevents(feed_text(client))[world["panel"].uid]
    assert str(v["LOCATION"]) == "Dom omladine Beograda, Makedonska 22, Beograd"


def test_brussels_event_gets_its_own_vtimezone(client, world):
    text = feed_text(client)
    cal = icalendar.Calendar.from_ical(text)
    zones = {str(tz["TZID"]): tz for tz in cal.walk("VTIMEZONE")}
    assert set(zones) == {"Europe/Belgrade", "Europe/Brussels"}
    for tz in zones.values():
        rules = {str(sub.name): sub for sub in tz.subcomponents}
        assert set(rules) == {"STANDARD", "DAYLIGHT"}
        assert rules["DAYLIGHT"]["RRULE"]["BYDAY"] == ["-1SU"]
        assert rules["DAYLIGHT"]["RRULE"]["BYMONTH"] == [3]
        assert rules["STANDARD"]["RRULE"]["BYMONTH"] == [10]
    online = vevents(text)[world["online"].uid]
    assert online["DTSTART"].params["TZID"] == "Europe/Brussels"
    assert "DTSTART;TZID=Europe/Brussels:20201112T140000\r\n" in text


def test_events_at_half_past_two_on_changeover_sundays(app, client, create_event):
    """02:30 does not exist in Belgrade on the last Sunday of March and happens twice on
    the last Sunday of October; every parser must land on the stored instant."""
    starts = [
        datetime(2020, 3, 29, 2, 30, tzinfo=BELGRADE),  # in the gap: zoneinfo reads it as CET
        datetime(2020, 10, 25, 2, 30, tzinfo=BELGRADE),  # first 02:30 (CEST)
        datetime(2020, 10, 25, 2, 30, fold=1, tzinfo=BELGRADE),  # second 02:30 (CET)
        datetime(2021, 3, 28, 2, 30, tzinfo=BELGRADE),
        datetime(2021, 10, 31, 2, 30, fold=1, tzinfo=BELGRADE),
        datetime(2021, 3, 28, 1, 30, tzinfo=BELGRADE),
        datetime(2021, 3, 28, 3, 30, tzinfo=BELGRADE),
    ]
    for n, start in enumerate(starts):
        end = start.astimezone(UTC) + timedelta(hours=1)
        create_event(title=f"Night panel {n}", starts_at=start, ends_at=end)
    events = db_events(app)
    for event, start in zip(events, sorted(starts, key=lambda s: s.astimezone(UTC)), strict=True):
        assert event.starts_at == start.astimezone(UTC)
    text = feed_text(client)
    check_wire_format(text.encode())
    check_against_database(text, events)


def test_same_data_same_bytes(app, client, world):
    first = fetch(client, "/calendar.ics")
    second = fetch(client, "/calendar.ics")
    assert first.get_data() == second.get_data()
    feeds.clear_caches()  # rendered afresh, not from the cache
    third = fetch(client, "/calendar.ics")
    assert third.get_data() == first.get_data()
    assert third.headers["ETag"] == first.headers["ETag"]


# -- HTTP: validators, 304, HEAD ---------------------------------------------------------


def feed_changed_at(app) -> datetime:
    from campaign.models import FeedState

    with app.app_context():
        return get_session().scalar(select(FeedState.changed_at))


def settle(app) -> None:
    """Make the last change an hour old. Many writes within a second push the feeds'
    change time ahead of the clock (it rises a whole second per change), and the
    Last-Modified sent is never later than now."""
    from sqlalchemy import update

    from campaign.models import FeedState

    with app.app_context():
        session = get_session()
        past = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        session.connection().execute(update(FeedState).values(changed_at=past))
        session.commit()


def test_etag_last_modified_and_304(app, client, world):
    settle(app)
    response = fetch(client, "/calendar.ics")
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    changed_at = feed_changed_at(app)
    assert response.headers["Last-Modified"] == format_datetime(changed_at, usegmt=True)
    assert response.headers["Cache-Control"] == "public, max-age=300"

    not_modified = fetch(client, "/calendar.ics", 304, headers={"If-None-Match": etag})
    assert not_modified.get_data() == b""
    assert not_modified.headers["ETag"] == etag
    fetch(client, "/calendar.ics", 304, headers={"If-None-Match": f'"other", W/{etag}'})
    fetch(client, "/calendar.ics", 200, headers={"If-None-Match": '"other"'})

    since = response.headers["Last-Modified"]
    fetch(client, "/calendar.ics", 304, headers={"If-Modified-Since": since})
    earlier = format_datetime(changed_at - timedelta(seconds=1), usegmt=True)
    fetch(client, "/calendar.ics", 200, headers={"If-Modified-Since": earlier})
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    fetch(
        client, "/calendar.ics", 200, headers={"If-None-Match": '"x"', "If-Modified-Since": since}
    )

    edit(app, world["panel"].id, description="Changed.")
    changed = fetch(client, "/calendar.ics", 200, headers={"If-None-Match": etag})
    assert changed.headers["ETag"] != etag
    # The same second as the last answer: Last-Modified still moves on.
    fetch(client, "/calendar.ics", 200, headers={"If-Modified-Since": since})
    assert changed.headers["Last-Modified"] != since


def test_event_leaving_a_feed_is_not_answered_304(app, client, world):
    """The panel leaves the cyber-security feed: no event left in it changed, but the feed
    did, so If-Modified-Since must not get a 304."""
    url = "/themes/cyber-security/calendar.ics"
    settle(app)
    first = fetch(client, url)
    assert world["panel"].uid in first.get_data(as_text=True)
    with app.app_context():
        kfor = get_session().scalar(select(Theme).where(Theme.slug == "kfor"))
    edit(app, world["panel"].id, themes=[kfor])
    since = {"If-Modified-Since": first.headers["Last-Modified"]}
    second = fetch(client, url, 200, headers=since)
    assert world["panel"].uid not in second.get_data(as_text=True)
    fetch(client, url, 200, headers={"If-None-Match": first.headers["ETag"]})


def test_304_is_answered_without_rendering(app, client, world, monkeypatch):
    settle(app)
    response = fetch(client, "/calendar.ics")
    etag, since = response.headers["ETag"], response.headers["Last-Modified"]
    feeds.clear_caches()

    def fail(*_args, **_kwargs):
        raise AssertionError("a conditional request rendered events")

    monkeypatch.setattr(ical, "render_vevent", fail)
    fetch(client, "/calendar.ics", 304, headers={"If-None-Match": etag})
    fetch(client, "/calendar.ics", 304, headers={"If-Modified-Since": since})


def test_head_gives_the_headers_without_a_body(client, world):
    get = fetch(client, "/calendar.ics")
    head = client.head("/calendar.ics")
    assert head.status_code == 200
    assert head.get_data() == b""
    for name in ("ETag", "Last-Modified", "Content-Type", "Cache-Control", "Content-Length"):
        assert head.headers[name] == get.headers[name]


def test_unchanged_feed_reuses_cached_vevents_and_renders_only_the_edited_one(
    app, client, world, monkeypatch
):
    fetch(client, "/calendar.ics")
    rendered = []
    real = ical.render_vevent

    def spy(event, ctx):
        rendered.append(event.uid)
        return real(event, ctx)

    monkeypatch.setattr(ical, "render_vevent", spy)
    edit(app, world["online"].id, title="Seminar: NATO PDD briefing (moved online)")
    text = feed_text(client)
    assert rendered == [world["online"].uid]
    check_against_database(text, db_events(app))


# -- the query count is fixed ------------------------------------------------------------


def _import(app, count: int, start: int) -> None:
    with app.app_context():
        session = get_session()
        themes = session.scalars(select(Theme.id).order_by(Theme.id)).all()
        now = datetime(2020, 1, 1, tzinfo=UTC)
        rows = []
        for n in range(start, start + count):
            at = datetime(2020, 1, 6, 9, tzinfo=UTC) + timedelta(days=n % 700, hours=n % 5)
            rows.append(
                {
                    "uid": f"{uuid.uuid4()}@test",
                    "title": f"Panel {n}",
                    "format": "panel",
                    "status": ("confirmed", "cancelled", "draft")[n % 3],
                    "starts_at": at,
                    "ends_at": at + timedelta(hours=2),
                    "timezone": "Europe/Brussels" if n % 7 == 0 else "Europe/Belgrade",
                    "online_url": "https://meet.example.org/x",
                    "description": "",
                    "created": now,
                    "updated": now + timedelta(minutes=n),
                    "theme_ids": [themes[n % len(themes)], themes[(n + 3) % len(themes)]],
                    "partners": [],
                }
            )
        event_ops.import_events(session, rows)


def test_query_count_is_fixed_whatever_the_number_of_events(
    app, client, create_user, count_queries, monkeypatch
):
    # 10 events are loaded by id, 200 through the filter: both ways take the same queries.
    monkeypatch.setattr(feeds, "LOAD_BY_ID_LIMIT", 50)
    user = create_user(email="feeds@example.org")
    urls = ["/calendar.ics", "/calendar.ics?format=panel", f"/calendar.ics?token={user.feed_token}"]

    def measure():
        counts = []
        for url in urls:
            feeds.clear_caches()
            with count_queries() as cold:
                fetch(client, url)
            with count_queries() as warm:
                fetch(client, url)
            counts.append((cold.count, warm.count))
        return counts

    _import(app, 10, 0)
    small = measure()
    _import(app, 190, 10)
    large = measure()
    assert small == large, (small, large)
    # Cold: generation, three catalog tables, versions, events with venue, themes and
    # partners (+1 for the token). Warm and unchanged: the generation alone.
    assert large == [(8, 1), (8, 1), (9, 2)]
    text = feed_text(client, urls[2])
    assert len(vevents(text)) == 200


# -- private feed ------------------------------------------------------------------------


def test_private_feed_has_drafts_as_tentative(app, client, organizer, world):
    response = fetch(client, f"/calendar.ics?token={organizer.feed_token}")
    assert response.headers["Cache-Control"].startswith("private")
    text = response.get_data(as_text=True)
    assert str(vevents(text)[world["draft"].uid]["STATUS"]) == "TENTATIVE"
    check_wire_format(response.get_data())
    check_against_database(text, db_events(app, drafts=True))
    name = "IPAP 2 campaign (private feed with drafts)"
    assert str(icalendar.Calendar.from_ical(text)["NAME"]) == name
    assert vobject.readOne(text).x_wr_calname.value == name
    themed = feed_text(client, f"/themes/eadrcc/calendar.ics?token={organizer.feed_token}")
    assert world["draft"].uid in themed


@pytest.mark.parametrize(
    "token",
    ["", "wrong", "x" * 65, "x" * 5000, "čžš", "%00", "' OR 1=1 --", "../../etc/passwd"],
)
def test_wrong_token_is_403_never_the_public_feed(client, organizer, world, token):
    response = client.get("/calendar.ics", query_string={"token": token})
    assert response.status_code == 403
    assert response.get_data(as_text=True).startswith("token: ")
    assert b"BEGIN:VCALENDAR" not in response.get_data()


def test_revoked_token_and_inactive_user_are_refused(app, client, auth, organizer, world):
    old = organizer.feed_token
    fetch(client, f"/calendar.ics?token={old}")
    auth.login()
    page = client.get("/account").get_data(as_text=True)
    assert f"calendar.ics?token={old}" in page
    client.post("/account")
    fetch(client, f"/calendar.ics?token={old}", 403)
    with app.app_context():
        user = get_session().get(User, organizer.id)
        new = user.feed_token
        assert new != old
    page = client.get("/account").get_data(as_text=True)
    assert f"http://campaign.test/calendar.ics?token={new}" in page
    assert f"webcal://campaign.test/calendar.ics?token={new}" in page
    fetch(client, f"/calendar.ics?token={new}")
    fetch(client, f"/calendar.ics?token={new}&token={new}", 403)
    with app.app_context():
        session = get_session()
        session.get(User, organizer.id).active = False
        session.commit()
    fetch(client, f"/calendar.ics?token={new}", 403)


# -- theme, partner and event feeds; bad filters -----------------------------------------


def test_theme_and_partner_feeds(app, client, world):
    text = feed_text(client, "/themes/cyber-security/calendar.ics")
    assert set(vevents(text)) == {world["panel"].uid}
    assert str(icalendar.Calendar.from_ical(text)["NAME"]) == "IPAP 2 campaign — Cyber security"
    text = feed_text(client, "/partners/rts/calendar.ics")
    assert set(vevents(text)) == {world["panel"].uid}
    assert str(icalendar.Calendar.from_ical(text)["NAME"]) == (
        "IPAP 2 campaign — Radio-televizija Srbije"
    )
    text = feed_text(client, "/themes/eadrcc/calendar.ics?city=beograd")
    assert set(vevents(text)) == {world["panel"].uid, world["cancelled"].uid}
    name = (
        "IPAP 2 campaign — Euro-Atlantic Disaster Response Coordination Centre (EADRCC) · beograd"
    )
    assert vobject.readOne(text).x_wr_calname.value == name
    assert str(icalendar.Calendar.from_ical(text)["NAME"]) == name
    check_against_database(
        text, [e for e in db_events(app) if e.uid in (world["panel"].uid, world["cancelled"].uid)]
    )


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/calendar.ics?theme=no-such-theme", "theme"),
        ("/calendar.ics?partner=nobody", "partner"),
        ("/calendar.ics?format=party", "format"),
        ("/calendar.ics?city=Atlantis", "city"),
        ("/calendar.ics?from=2020-13-01", "from"),
        ("/calendar.ics?from=2021-01-01&to=2020-01-01", "from"),
        ("/calendar.ics?status=draft", "status"),
        ("/themes/no-such-theme/calendar.ics", "theme"),
        ("/partners/nobody/calendar.ics", "partner"),
    ],
)
def test_bad_filter_is_400_naming_the_parameter(client, world, url, param):
    response = fetch(client, url, 400)
    assert response.get_data(as_text=True).startswith(f"{param}:")
    assert b"BEGIN:VCALENDAR" not in response.get_data()


def test_event_download(app, client, auth, world):
    panel = world["panel"]
    response = fetch(client, f"/events/{panel.id}.ics")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="ipap2-event-{panel.id}.ics"'
    )
    text = response.get_data(as_text=True)
    check_wire_format(response.get_data())
    check_against_database(text, [e for e in db_events(app) if e.id == panel.id])
    assert "REFRESH-INTERVAL" not in text  # a download, not a subscription
    fetch(client, f"/events/{world['draft'].id}.ics", 404)
    fetch(client, "/events/999999.ics", 404)
    etag = response.headers["ETag"]
    fetch(client, f"/events/{panel.id}.ics", 304, headers={"If-None-Match": etag})
    auth.login()
    draft = fetch(client, f"/events/{world['draft'].id}.ics")
    assert draft.headers["Cache-Control"] == "private, no-cache"
    assert str(vevents(draft.get_data(as_text=True))[world["draft"].uid]["STATUS"]) == "TENTATIVE"


def test_text_round_trips_exactly(app, client, create_event):
    titles = [
        "Panel, round table; seminar \\ all three",
        "Čačak, Šabac, Užice — đaci i žene, ćirilica",
        "Трибина у Београду: „безбедност“, Ниш; Крагујевац",
        "Emoji 🎉🇷🇸👩‍💻 panel",
        ("Dugačak naslov: " + "čćšžđ ЂЖЉ 🎉 ,;\\ " * 20)[:200],
    ]
    description = "Prvi red, drugi; treći \\ četvrti\nNovi red\n\nНови пасус 🎉 — kraj\\n"
    for n, title in enumerate(titles):
        start = datetime(2020, 4, 1 + n, 10, tzinfo=UTC)
        create_event(title=title, description=description, starts_at=start)
    assert len(titles[-1]) == 200
    response = fetch(client, "/calendar.ics")
    check_wire_format(response.get_data())
    text = response.get_data(as_text=True)
    events = db_events(app)
    check_against_database(text, events)  # SUMMARY compared in every parser
    by_uid = {e.uid: e for e in events}
    for uid, v in vevents(text).items():
        assert str(v["DESCRIPTION"]).startswith(by_uid[uid].description.strip() + "\n\n")
    for v in vobject.readOne(text).vevent_list:
        assert v.description.value.startswith(by_uid[v.uid.value].description.strip())
    for e in ics.Calendar(text).events:
        # ics 0.7 unescapes "\\\\n" (a backslash, then n) as a backslash and a newline, against
        # RFC 5545 3.3.11; icalendar and vobject above read it right.
        assert e.description.startswith(by_uid[e.uid].description.strip()[:-3])


# -- subscribe links on pages ------------------------------------------------------------


def test_subscribe_box_wherever_a_feed_is_offered(client, world):
    webcal = "webcal://campaign.test/calendar.ics"
    google = "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe="")
    home = client.get("/").get_data(as_text=True)
    assert f'href="{webcal}"' in home
    assert f'href="{google}"' in home
    assert "https://outlook.live.com/calendar/0/addfromweb?url=http%3A%2F%2Fcampaign.test" in home
    assert "http://campaign.test/calendar.ics" in home

    listing = client.get("/events?theme=kfor&city=Beograd").get_data(as_text=True)
    assert "webcal://campaign.test/calendar.ics?theme=kfor&amp;city=Beograd" in listing
    theme = client.get("/themes/cyber-security").get_data(as_text=True)
    assert "webcal://campaign.test/themes/cyber-security/calendar.ics" in theme
    assert quote("webcal://campaign.test/themes/cyber-security/calendar.ics", safe="") in theme
    partner = client.get("/partners/rts").get_data(as_text=True)
    assert "webcal://campaign.test/partners/rts/calendar.ics" in partner

    page = client.get(f"/events/{world['panel'].id}").get_data(as_text=True)
    assert f'href="/events/{world["panel"].id}.ics"' in page
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in page
    assert "dates=20200310T170000Z%2F20200310T190000Z" in page
    assert "https://outlook.live.com/calendar/0/deeplink/compose?" in page


# -- the feed generation -----------------------------------------------------------------


def test_every_write_a_feed_shows_raises_the_generation(
    app, db, create_event, create_partner, create_venue, organizer
):
    from campaign.models import FeedState

    def generation():
        db.rollback()
        return db.execute(select(FeedState.generation, FeedState.changed_at)).one()

    seen = [generation()]

    def rose():
        # Both the number and the change time rise, even within one second.
        seen.append(generation())
        return seen[-1][0] > seen[-2][0] and seen[-1][1] > seen[-2][1]

    event = create_event(status="draft")
    assert rose()
    edit(app, event.id, description="New words.")
    assert rose()
    venue = create_venue()
    assert rose()
    partner = create_partner()
    assert rose()
    with app.app_context():
        session = get_session()
        catalog_ops.save_theme(
            session, None, session.scalar(select(Theme).where(Theme.slug == "kfor")),
            slug="kfor", name="KFOR cooperation", description="", key_messages="", colour="#123456",
        )  # fmt: skip
    assert rose()
    _import(app, 3, 0)
    assert rose()
    with app.app_context():
        session = get_session()
        draft = session.get(Event, event.id)
        event_ops.delete_event(session, None, draft, draft.version)
    assert rose()
    with app.app_context():
        session = get_session()
        user_ops.regenerate_feed_token(session, None, session.get(User, organizer.id))
    seen.append(generation())
    assert seen[-1] == seen[-2]  # nothing a feed shows
    del venue, partner


def test_unrelated_change_keeps_a_feeds_etag(app, client, world):
    themed = fetch(client, "/themes/cyber-security/calendar.ics")
    whole = fetch(client, "/calendar.ics")
    edit(app, world["online"].id, description="Only the seminar changes.")
    assert (
        fetch(client, "/themes/cyber-security/calendar.ics").headers["ETag"]
        == (themed.headers["ETag"])
    )
    fetch(
        client,
        "/themes/cyber-security/calendar.ics",
        304,
        headers={"If-None-Match": themed.headers["ETag"]},
    )
    assert fetch(client, "/calendar.ics").headers["ETag"] != whole.headers["ETag"]


def test_a_second_worker_sees_a_change_made_through_the_first(app, client, world):
    """Caches live in each worker's memory; the generation in the database tells every
    worker that its cached answer is old."""
    from campaign import create_app

    other = create_app({**app.config, "TESTING": True})
    try:
        other_client = other.test_client()
        before = other_client.get("/calendar.ics").headers["ETag"]
        edit(app, world["panel"].id, title="Panel: sajber bezbednost (novo vreme)")
        after = other_client.get("/calendar.ics")
        assert after.headers["ETag"] != before
        assert "novo vreme" in after.get_data(as_text=True)
    finally:
        other.extensions["campaign.engine"].dispose()


def test_partners_in_a_fixed_order(app, client, create_event, create_partner):
    """Host first, then by role and name, whatever order the database returns ties in."""
    zeta = create_partner(slug="zeta", name="Zeta institut")
    alfa = create_partner(slug="alfa", name="Alfa fondacija")
    host = create_partner(slug="host", name="Mreža domaćina")
    event = create_event(partners=[(zeta, "speakers"), (host, "host"), (alfa, "speakers")])
    description = str(vevents(feed_text(client))[event.uid]["DESCRIPTION"])
    assert (
        "Partners: Mreža domaćina (Host); Alfa fondacija (Speakers); Zeta institut (Speakers)"
        in description
    )


def test_feeds_work_without_the_feed_state_row(app, client, world):
    from sqlalchemy import delete

    from campaign.models import FeedState

    with app.app_context():
        session = get_session()
        session.execute(delete(FeedState))
        session.commit()
    first = fetch(client, "/calendar.ics")
    assert "Last-Modified" not in first.headers
    fetch(client, "/calendar.ics", 304, headers={"If-None-Match": first.headers["ETag"]})
    edit(app, world["panel"].id, description="Still reaches the feed.")
    assert "Still reaches the feed." in feed_text(client)


def test_two_databases_at_the_same_generation_never_share_a_feed(tmp_path, sqlite_template):
    """A worker's cached answer is keyed by the database too: two databases (a restored
    backup, a recreated file) both at generation 1 must each get their own events."""
    import shutil
    from datetime import UTC, datetime

    from campaign import create_app
    from campaign.db import get_session
    from campaign.events import operations as event_ops
    from campaign.models import Theme

    bodies = []
    for name in ("one", "two"):
        path = tmp_path / f"{name}.sqlite3"
        shutil.copy(sqlite_template, path)
        app = create_app({"DATABASE_URL": f"sqlite:///{path}", "TESTING": True})
        with app.app_context():
            session = get_session()
            theme = session.query(Theme).filter_by(slug="kfor").one()
            start = datetime(2020, 5, 5, 10, tzinfo=UTC)
            event_ops.create_event(
                session,
                None,
                event_ops.EventData(
                    title=f"Only in database {name}",
                    format="panel",
                    status="confirmed",
                    starts_at=start,
                    ends_at=start.replace(hour=12),
                    themes=[theme],
                ),
            )
        bodies.append(app.test_client().get("/calendar.ics").data)
        app.extensions["campaign.engine"].dispose()
    assert b"Only in database one" in bodies[0] and b"Only in database two" not in bodies[0]
    assert b"Only in database two" in bodies[1] and b"Only in database one" not in bodies[1]
