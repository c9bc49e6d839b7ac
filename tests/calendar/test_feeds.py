"""The iCalendar feeds as subscribers see them, read back by four independent parsers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import icalendar
import ics
import pytest
import recurring_ical_events
import vobject
from sqlalchemy import delete, select

from campaign.auth import operations as user_ops
from campaign.calendar import feeds, ical
from campaign.catalog import operations as catalog_ops
from campaign.core.errors import ConflictError
from campaign.db import get_session
from campaign.events import operations as event_ops
from campaign.events.filters import event_list_loading
from campaign.models import Event, EventRendering, Partner, Theme, User, Venue
from tests.conftest import wait_for

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
        # As of the day before it: an event that took place cannot be cancelled.
        event_ops.cancel_event(
            session, None, event, event.version, now=event.starts_at - timedelta(days=1)
        )


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


def test_edit_through_the_web_form_reaches_the_feed(app, client, auth, world, create_event):
    auth.login()
    panel = db_events(app)[0]
    page = client.get(f"/events/{panel.id}/edit").get_data(as_text=True)
    assert "Title" in page
    # Only an event still to come can be cancelled (issue 16).
    panel = create_event(title="Upcoming panel", starts_at=datetime.now(UTC) + timedelta(days=9))
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


def save_venue(app, venue_id: int, **changes) -> None:
    with app.app_context():
        session = get_session()
        venue = session.get(Venue, venue_id)
        values = {
            k: getattr(venue, k)
            for k in ("name", "city", "address", "latitude", "longitude", "capacity")
        }
        catalog_ops.save_venue(session, None, venue, **{**values, **changes})


def save_theme(app, slug: str, **changes) -> None:
    with app.app_context():
        session = get_session()
        theme = session.scalar(select(Theme).where(Theme.slug == slug))
        values = {
            k: getattr(theme, k) for k in ("slug", "name", "description", "key_messages", "colour")
        }
        catalog_ops.save_theme(session, None, theme, **{**values, **changes})


def save_partner(app, slug: str, **changes) -> None:
    with app.app_context():
        session = get_session()
        partner = session.scalar(select(Partner).where(Partner.slug == slug))
        values = {
            k: getattr(partner, k)
            for k in (
                "slug", "name", "kind", "city", "website", "contact_name", "contact_email",
                "contact_phone", "notes",
            )
        }  # fmt: skip
        catalog_ops.save_partner(session, None, partner, **{**values, **changes})


def stamps(v: icalendar.Event) -> tuple:
    return v.decoded("DTSTAMP"), v.decoded("LAST-MODIFIED"), int(v["SEQUENCE"])


def history(app, event_id: int) -> list[tuple[str, dict]]:
    from campaign.models import EventChange

    with app.app_context():
        return [
            (ch.action, ch.changes)
            for ch in get_session().scalars(
                select(EventChange).where(EventChange.event_id == event_id).order_by(EventChange.id)
            )
        ]


def test_a_venue_change_moves_dtstamp_and_sequence_of_its_events(app, client, world):
    """A new name or address is a new LOCATION for every event there: clients that compare
    DTSTAMP/LAST-MODIFIED and SEQUENCE must take the new copy."""
    first = fetch(client, "/calendar.ics")
    before = vevents(first.get_data(as_text=True))
    download = fetch(client, f"/events/{world['panel'].id}.ics")
    at_venue = [world["panel"], world["cancelled"]]

    save_venue(app, world["venue"].id, name="Dom omladine Beograda", address="Makedonska 22a")

    response = fetch(client, "/calendar.ics", headers={"If-None-Match": first.headers["ETag"]})
    after = vevents(response.get_data(as_text=True))
    for event in at_venue:
        old, new = before[event.uid], after[event.uid]
        assert str(new["LOCATION"]) == "Dom omladine Beograda, Makedonska 22a, Beograd"
        assert new.decoded("DTSTAMP") > old.decoded("DTSTAMP")
        assert new.decoded("LAST-MODIFIED") == new.decoded("DTSTAMP")
        assert int(new["SEQUENCE"]) == int(old["SEQUENCE"]) + 1
        assert history(app, event.id)[-1] == (
            "venue changed",
            {
                "venue name": ["Dom omladine", "Dom omladine Beograda"],
                "venue address": ["Makedonska 22", "Makedonska 22a"],
            },
        )
    online = world["online"].uid
    assert after[online].to_ical() == before[online].to_ical()
    check_against_database(response.get_data(as_text=True), db_events(app))
    # The subscriber's next poll, and the event's own download.
    fetch(client, "/calendar.ics", 304, headers={"If-None-Match": response.headers["ETag"]})
    url = f"/events/{world['panel'].id}.ics"
    one = fetch(client, url, headers={"If-None-Match": download.headers["ETag"]})
    assert stamps(vevents(one.get_data(as_text=True))[world["panel"].uid]) == stamps(
        after[world["panel"].uid]
    )
    fetch(client, url, 304, headers={"If-None-Match": one.headers["ETag"]})


def test_venue_coordinates_move_dtstamp_only_and_capacity_nothing(app, client, world):
    before = vevents(feed_text(client))
    save_venue(app, world["venue"].id, latitude=44.8, longitude=20.46)
    moved = vevents(feed_text(client))
    panel = world["panel"].uid
    assert str(moved[panel]["GEO"].to_ical()) != str(before[panel]["GEO"].to_ical())
    assert moved[panel].decoded("DTSTAMP") > before[panel].decoded("DTSTAMP")
    assert int(moved[panel]["SEQUENCE"]) == int(before[panel]["SEQUENCE"])
    assert history(app, world["panel"].id)[-1][0] == "venue changed"

    whole = fetch(client, "/calendar.ics")
    save_venue(app, world["venue"].id, capacity=350)  # not in any feed
    fetch(client, "/calendar.ics", 304, headers={"If-None-Match": whole.headers["ETag"]})
    assert history(app, world["panel"].id)[-1][0] == "venue changed"
    assert len(history(app, world["panel"].id)) == 2  # created, the coordinates


def test_a_theme_rename_moves_dtstamp_not_sequence(app, client, world):
    url = "/themes/cyber-security/calendar.ics"
    first = fetch(client, url)
    whole_before = vevents(feed_text(client))
    before = vevents(first.get_data(as_text=True))
    panel = world["panel"]
    with app.app_context():
        old_name = get_session().scalar(select(Theme.name).where(Theme.slug == "cyber-security"))

    save_theme(app, "cyber-security", name="Sajber bezbednost i odbrana")

    response = fetch(client, url, headers={"If-None-Match": first.headers["ETag"]})
    after = vevents(response.get_data(as_text=True))
    assert "Sajber bezbednost i odbrana" in [str(c) for c in after[panel.uid]["CATEGORIES"].cats]
    assert after[panel.uid].decoded("DTSTAMP") > before[panel.uid].decoded("DTSTAMP")
    assert after[panel.uid].decoded("LAST-MODIFIED") > before[panel.uid].decoded("LAST-MODIFIED")
    assert int(after[panel.uid]["SEQUENCE"]) == int(before[panel.uid]["SEQUENCE"])
    assert history(app, panel.id)[-1] == (
        "theme renamed",
        {"theme": [old_name, "Sajber bezbednost i odbrana"]},
    )
    # Events without the theme keep their stamps and bytes.
    whole_after = vevents(feed_text(client))
    for key in ("cancelled", "online"):
        uid = world[key].uid
        assert whole_after[uid].to_ical() == whole_before[uid].to_ical()
    fetch(client, url, 304, headers={"If-None-Match": response.headers["ETag"]})


def test_a_partner_rename_moves_dtstamp_not_sequence_and_refuses_older_forms(app, client, world):
    """The new name is in the DESCRIPTION and in the search text; the row version rises
    too, so an edit form opened before the rename is refused, not saved over it."""
    panel = world["panel"]
    before = vevents(feed_text(client))
    with app.app_context():
        opened_at = get_session().get(Event, panel.id).version

    save_partner(app, "bcbp", name="Centar za bezbednosnu politiku")

    after = vevents(feed_text(client))
    assert "Centar za bezbednosnu politiku (Host)" in str(after[panel.uid]["DESCRIPTION"])
    assert after[panel.uid].decoded("DTSTAMP") > before[panel.uid].decoded("DTSTAMP")
    assert int(after[panel.uid]["SEQUENCE"]) == int(before[panel.uid]["SEQUENCE"])
    for key in ("cancelled", "online"):
        assert after[world[key].uid].to_ical() == before[world[key].uid].to_ical()
    assert history(app, panel.id)[-1] == (
        "partner renamed",
        {
            "partner": [
                "Beogradski centar za bezbednosnu politiku",
                "Centar za bezbednosnu politiku",
            ]
        },
    )
    found = client.get("/events", query_string={"q": "centar za bezbednosnu"})
    assert "Panel: sajber bezbednost" in found.get_data(as_text=True)
    with app.app_context():
        session = get_session()
        event = session.scalar(
            select(Event).where(Event.id == panel.id).options(*event_list_loading())
        )
        data = event_ops.event_data(event)
        data.description = "Saved from a form opened before the rename."
        with pytest.raises(ConflictError):
            event_ops.update_event(session, None, event, data, opened_at)


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
    """Make the last change an hour old, so that its second is long over and the
    Last-Modified sent is final (see calendar.feeds.last_modified)."""
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


def http_date(response) -> datetime | None:
    value = response.headers.get("Last-Modified")
    return parsedate_to_datetime(value) if value else None


def poll(client, url, since=None, etag=None):
    """One conditional GET as a subscriber makes it; checks that Last-Modified is never
    later than the clock (so never later than the Date a server adds)."""
    headers = {}
    if since:
        headers["If-Modified-Since"] = since
    if etag:
        headers["If-None-Match"] = etag
    response = client.get(url, headers=headers)
    date = datetime.now(UTC).replace(microsecond=0)  # what a server would send as Date
    assert response.status_code in (200, 304), response.status_code
    sent = http_date(response)
    if response.status_code == 200:
        assert sent is not None and sent <= date, (sent, date)
    return response


def test_a_burst_of_changes_then_last_modified_earns_a_304(app, client, world):
    """Twelve edits in a row (the old code pushed the change time a second ahead of the
    clock per change): once their second is over, a client sending back the
    Last-Modified it was given gets its 304, and the date sent is the date compared."""
    panel = world["panel"]
    for n in range(12):
        edit(app, panel.id, description=f"Edit number {n}.")
    last_change = feed_changed_at(app)
    assert last_change <= datetime.now(UTC)  # no drift ahead of the clock

    def final_copy():
        response = poll(client, "/calendar.ics")
        return http_date(response) == last_change.replace(microsecond=0)

    # Bounded: the second of the last change plus the settling time (two seconds).
    assert wait_for(final_copy, timeout=10, interval=0.1)
    response = poll(client, "/calendar.ics")
    assert "Edit number 11." in response.get_data(as_text=True)
    since = response.headers["Last-Modified"]
    again = poll(client, "/calendar.ics", since=since)
    assert again.status_code == 304
    assert again.get_data() == b""
    # Later dates than the one sent are not the one sent (nginx's "exact").
    later = format_datetime(http_date(response) + timedelta(seconds=5), usegmt=True)
    assert poll(client, "/calendar.ics", since=later).status_code == 200


def test_a_change_in_the_same_second_as_a_poll_is_never_hidden(app, client, world):
    """A subscriber polls right after each change, sending back what it was given each
    time; every change comes through, also two changes within one second (HTTP dates
    have whole seconds), also when the client only asks once that second is over."""
    panel = world["panel"]
    since = None
    for n in range(6):
        edit(app, panel.id, description=f"Change {n} for the poller.")
        response = poll(client, "/calendar.ics", since=since)
        assert response.status_code == 200
        assert f"Change {n} for the poller." in response.get_data(as_text=True)
        since = response.headers["Last-Modified"]
    # Two changes, each followed at once by a poll: the first copy was sent while the
    # second change could still fall into the same second.
    edit(app, panel.id, description="First of two quick changes.")
    first = poll(client, "/calendar.ics", since=since)
    assert "First of two quick changes." in first.get_data(as_text=True)
    edit(app, panel.id, description="Second of two quick changes.")
    # The client comes back with the first copy's date, now and after the seconds are over.
    stale_since = first.headers["Last-Modified"]
    assert poll(client, "/calendar.ics", since=stale_since).status_code == 200
    last_change = feed_changed_at(app)

    def over():
        return datetime.now(UTC) >= last_change.replace(microsecond=0) + timedelta(seconds=2)

    assert wait_for(over, timeout=10, interval=0.1)
    late = poll(client, "/calendar.ics", since=stale_since)
    assert late.status_code == 200
    assert "Second of two quick changes." in late.get_data(as_text=True)
    # And the copy sent now is final: sent back, it is a 304.
    assert poll(client, "/calendar.ics", since=late.headers["Last-Modified"]).status_code == 304


def test_last_modified_is_stamped_at_the_commit_and_always_rises(app, db, world):
    """The change time is the clock when the change commits, not a second per change."""
    from campaign.models import FeedState

    stamps = []
    for n in range(5):
        before = datetime.now(UTC)
        edit(app, world["panel"].id, description=f"Stamp {n}.")
        after = datetime.now(UTC)
        db.rollback()
        stamps.append(db.scalar(select(FeedState.changed_at)))
        assert before <= stamps[-1] <= after
    assert stamps == sorted(set(stamps))


def test_a_subscriber_with_both_validators_sees_every_change_then_304(
    app, client, organizer, world
):
    """Calendar clients poll with If-None-Match and If-Modified-Since both taken from their
    copy. After an edit, a venue rename, a theme rename, a cancellation and the deletion
    of a draft, every feed that shows the change answers 200 with it, the others 304, and
    the next poll of each is a 304."""
    panel = world["panel"]
    urls = {
        "all": "/calendar.ics",
        "theme": "/themes/cyber-security/calendar.ics",
        "event": f"/events/{panel.id}.ics",
        "private": f"/calendar.ics?token={organizer.feed_token}",
    }
    copies = {name: fetch(client, url) for name, url in urls.items()}

    def validators(name):
        copy = copies[name]
        return {
            "If-None-Match": copy.headers["ETag"],
            "If-Modified-Since": copy.headers["Last-Modified"],
        }

    def poll_all(changed: set[str]) -> dict[str, dict[str, icalendar.Event]]:
        seen = {}
        for name, url in urls.items():
            response = client.get(url, headers=validators(name))
            assert response.status_code == (200 if name in changed else 304), name
            if response.status_code == 200:
                copies[name] = response
                check_wire_format(response.get_data())
            seen[name] = vevents(copies[name].get_data(as_text=True))
        for name, url in urls.items():  # and nothing more to fetch
            assert client.get(url, headers=validators(name)).status_code == 304, name
        return seen

    showing_panel = {"all", "theme", "event", "private"}
    previous = poll_all(set())

    edit(app, panel.id, description="Nova pitanja za panel.")
    seen = poll_all(showing_panel)
    for name in showing_panel:
        v = seen[name][panel.uid]
        assert str(v["DESCRIPTION"]).startswith("Nova pitanja za panel.")
        assert v.decoded("DTSTAMP") > previous[name][panel.uid].decoded("DTSTAMP")
    previous = seen

    save_venue(app, world["venue"].id, name="Dom omladine Beograda")
    seen = poll_all(showing_panel)
    for name in showing_panel:
        v, old = seen[name][panel.uid], previous[name][panel.uid]
        assert str(v["LOCATION"]).startswith("Dom omladine Beograda, ")
        assert v.decoded("DTSTAMP") > old.decoded("DTSTAMP")
        assert int(v["SEQUENCE"]) == int(old["SEQUENCE"]) + 1
    previous = seen

    save_theme(app, "cyber-security", name="Sajber odbrana")
    seen = poll_all(showing_panel)
    for name in showing_panel:
        v, old = seen[name][panel.uid], previous[name][panel.uid]
        assert "Sajber odbrana" in [str(c) for c in v["CATEGORIES"].cats]
        assert v.decoded("DTSTAMP") > old.decoded("DTSTAMP")
        assert int(v["SEQUENCE"]) == int(old["SEQUENCE"])
    previous = seen

    cancel(app, panel.id)
    seen = poll_all(showing_panel)
    for name in showing_panel:
        v, old = seen[name][panel.uid], previous[name][panel.uid]
        assert str(v["STATUS"]) == "CANCELLED"
        assert int(v["SEQUENCE"]) == int(old["SEQUENCE"]) + 1

    draft = world["draft"]
    assert draft.uid in seen["private"] and draft.uid not in seen["all"]
    with app.app_context():
        session = get_session()
        event = session.get(Event, draft.id)
        event_ops.delete_event(session, None, event, event.version)
    seen = poll_all({"private"})
    assert draft.uid not in seen["private"]
    check_against_database(copies["private"].get_data(as_text=True), db_events(app, drafts=True))


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


def test_head_gives_the_headers_without_a_body(app, client, world):
    settle(app)  # the same Last-Modified for both, whatever the clock does in between
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


def forget_renderings(app) -> None:
    """Delete every stored VEVENT (calendar.models.EventRendering): a really cold start."""
    with app.app_context():
        session = get_session()
        session.execute(delete(EventRendering))
        session.commit()


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
            forget_renderings(app)
            with count_queries() as cold:
                fetch(client, url)
            feeds.clear_caches()  # a restarted worker: the renderings are stored
            with count_queries() as restarted:
                fetch(client, url)
            with count_queries() as warm:
                fetch(client, url)
            counts.append((cold.count, restarted.count, warm.count))
        return counts

    _import(app, 10, 0)
    small = measure()
    _import(app, 190, 10)
    large = measure()
    assert small == large, (small, large)
    # Cold: generation, three catalog tables, versions, stored renderings, events with
    # venue, themes and partners, then the renderings kept (the generation checked, one
    # statement writing them, one recording the render context for the write path, once
    # per worker: calendar.feeds.keep_written) (+1 for the token; +2 for the private feed's planned media
    # items: their versions and the items, none here, see
    # tests/calendar/test_planned_media.py). Restarted: the same up to the stored
    # renderings, nothing rendered. Warm and unchanged: no statement in the session at
    # all (+1 for the token): the generation is read on a pooled connection of its own
    # (Calendar._peek_state), below SQLAlchemy's statement events, before the session's
    # transaction reads it again when anything else must be read.
    assert large == [(12, 6, 0), (12, 6, 0), (15, 9, 1)]
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
        ("/themes/eadrcc/calendar.ics?theme=no-such-theme", "theme"),
        ("/partners/bcbp/calendar.ics?partner=nobody", "partner"),
        ("/themes/eadrcc/calendar.ics?from=0001-01-01", "from"),
    ],
)
def test_bad_filter_is_400_naming_the_parameter(client, world, url, param):
    response = fetch(client, url, 400)
    assert response.get_data(as_text=True).startswith(f"{param}:")
    assert b"BEGIN:VCALENDAR" not in response.get_data()


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/themes/no-such-theme/calendar.ics", "theme"),
        ("/partners/nobody/calendar.ics", "partner"),
        ("/themes/no-such-theme/calendar.ics?from=2020-13-01", "theme"),
        ("/partners/nobody/calendar.ics?theme=eadrcc", "partner"),
    ],
)
def test_removed_or_mistyped_theme_or_partner_feed_is_404(app, client, world, url, param):
    """The address itself is wrong (the theme was removed, the slug mistyped): 404, in
    plain text that names what is missing; 400 stays for bad query parameters."""
    response = fetch(client, url, 404)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    text = response.get_data(as_text=True)
    assert text.startswith(f"{param}: there is no {param} ")
    assert "removed or the address is mistyped" in text
    assert b"BEGIN:VCALENDAR" not in response.get_data()
    # A theme removed after people subscribed: its old address is 404 from then on.
    with app.app_context():
        session = get_session()
        theme = catalog_ops.save_theme(
            session, None, None, slug="short-lived", name="Short-lived", colour="#123456"
        )
        fetch(client, "/themes/short-lived/calendar.ics")
        catalog_ops.delete_catalog_entry(session, None, theme)
    fetch(client, "/themes/short-lived/calendar.ics", 404)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "/themes/no-such-theme/calendar.ics?lang=sr-Latn",
            "theme: tema „no-such-theme” ne postoji; uklonjena je ili je adresa pogrešno "
            "upisana (kalendari svih tema navedeni su na http://campaign.test/themes?lang=sr-Latn).\n",
        ),
        (
            "/partners/nobody/calendar.ics?lang=sr-Latn",
            "partner: partner „nobody” ne postoji; uklonjen je ili je adresa pogrešno "
            "upisana (kalendari svih partnera navedeni su na "
            "http://campaign.test/partners?lang=sr-Latn).\n",
        ),
        (
            "/themes/no-such-theme/calendar.ics?lang=sr-Cyrl",
            "theme: тема „no-such-theme” не постоји; уклоњена је или је адреса погрешно "
            "уписана (календари свих тема наведени су на http://campaign.test/themes?lang=sr-Cyrl).\n",
        ),
        (
            "/partners/nobody/calendar.ics?lang=sr-Cyrl&from=2020-13-01",
            "partner: партнер „nobody” не постоји; уклоњен је или је адреса погрешно "
            "уписана (календари свих партнера наведени су на "
            "http://campaign.test/partners?lang=sr-Cyrl).\n",
        ),
    ],
)
def test_missing_theme_or_partner_feed_speaks_the_feeds_language(client, world, url, expected):
    """The 404 is in the language the feed's URL names (feeds never follow the cookie or
    the browser), a whole translated sentence per kind, pointing at the index in that
    language; the parameter name before the colon stays as written in the URL."""
    response = fetch(client, url, 404)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.get_data(as_text=True) == expected
    # The browser's language does not decide a feed's: the URL alone (here the default).
    english = fetch(
        client, "/themes/no-such-theme/calendar.ics", 404, headers={"Accept-Language": "sr-Latn"}
    )
    assert english.get_data(as_text=True).startswith("theme: there is no theme ")


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


# -- stored events outside the date window -----------------------------------------------

# Rows no form or command can write any more (the window is 1990-2100), as a hand-written
# INSERT or an old database holds them: (title, status, start in UTC, zone).
ODD_ROWS = [
    # In New York this is still year 0, which no datetime can hold.
    ("Year one, New York", "confirmed", datetime(1, 1, 1, 0, 0, tzinfo=UTC), "America/New_York"),
    # In Belgrade this ends in year 10000.
    ("Last day of 9999", "confirmed", datetime(9999, 12, 31, 22, 0, tzinfo=UTC), "Europe/Belgrade"),
    ("Draft in year one", "draft", datetime(1, 1, 1, 12, 0, tzinfo=UTC), "Europe/Belgrade"),
    ("Draft in 9999", "draft", datetime(9999, 12, 31, 10, 0, tzinfo=UTC), "Asia/Tokyo"),
    ("Cancelled in 1900", "cancelled", datetime(1900, 6, 1, 10, 0, tzinfo=UTC), "Europe/Belgrade"),
    ("Far future", "confirmed", datetime(2500, 6, 1, 10, 0, tzinfo=UTC), "Europe/Belgrade"),
    ("A zone no longer known", "confirmed", datetime(2020, 4, 1, 8, tzinfo=UTC), "Mars/Olympus"),
]


def insert_rows(app, partner_id: int) -> list[tuple[int, str, datetime, datetime]]:
    """INSERT the odd rows with plain SQL (no operations layer, no validation)."""
    from sqlalchemy import insert

    from campaign.models import EventPartner
    from campaign.models import event_themes as themes_table

    made = []
    with app.app_context():
        session = get_session()
        theme = session.scalar(select(Theme.id).where(Theme.slug == "eadrcc"))
        now = datetime.now(UTC).replace(microsecond=0)
        for title, status, start, zone in ODD_ROWS:
            end = start + timedelta(hours=1, minutes=30)
            uid = f"{uuid.uuid4()}@ipap2-campaign"
            event_id = session.execute(
                insert(Event.__table__)
                .values(
                    uid=uid,
                    title=title,
                    format="panel",
                    status=status,
                    starts_at=start,
                    ends_at=end,
                    timezone=zone,
                    online_url="",
                    description="",
                    created=now,
                    updated=now,
                    sequence=0,
                    version=1,
                    search_text=title.casefold(),
                )
                .returning(Event.__table__.c.id)
            ).scalar_one()
            session.execute(insert(themes_table).values(event_id=event_id, theme_id=theme))
            session.execute(
                insert(EventPartner.__table__).values(
                    event_id=event_id, partner_id=partner_id, role="host"
                )
            )
            made.append((event_id, uid, start, end, status))
        session.commit()
    return made


def test_no_stored_event_can_break_a_feed(app, client, world, organizer, runner, tmp_path):
    """Events in year 1 or 9999 (and a zone this machine does not know) are in every feed
    and download, at their exact instants; a VTIMEZONE is never computed around them; and
    pages and exports show them."""
    rows = insert_rows(app, world["panel"].partner_links[0].partner_id)
    token = organizer.feed_token
    public = [r for r in rows if r[4] != "draft"]
    feeds_and_contents = [
        ("/calendar.ics", public),
        ("/themes/eadrcc/calendar.ics", public),
        ("/partners/bcbp/calendar.ics", public),
        (f"/calendar.ics?token={token}", rows),
        (f"/themes/eadrcc/calendar.ics?token={token}", rows),
        (f"/partners/bcbp/calendar.ics?token={token}", rows),
    ]
    client.login(organizer.email)
    feeds_and_contents += [(f"/events/{r[0]}.ics", [r]) for r in rows]
    for url, expected in feeds_and_contents:
        body = fetch(client, url).get_data()
        check_wire_format(body)
        text = body.decode()
        got = vevents(text)
        for _id, uid, start, end, _status in expected:
            assert got[uid].decoded("DTSTART") == start, (url, uid)
            assert got[uid].decoded("DTEND") == end, (url, uid)
        vobject.readOne(text)
        # VTIMEZONEs stay within the years events may have (and a year around; a zone
        # without clock changes starts in 1970), and only real zones are named.
        for line in text.split("\r\n"):
            if line.startswith("DTSTART:") and "Z" not in line:
                assert 1970 <= int(line[8:12]) <= 2102, line
        assert "Mars/Olympus" not in text and "TZID:UTC" not in text
    # Pages, forms and exports show such an event too (in UTC when its zone cannot).
    pages = ["/", "/events", "/events.csv", "/events.json", "/events.xlsx", "/dashboard"]
    pages += ["/themes/eadrcc", "/partners/bcbp"]
    pages += [f"/events/{r[0]}" for r in rows] + [f"/events/{r[0]}/edit" for r in rows]
    for url in pages:
        fetch(client, url).get_data()  # exports stream: read them to the end
    # The command line's ICS export is the same pipeline.
    target = tmp_path / "all.ics"
    result = runner.invoke(args=["export", "--format", "ics", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert {uid for _i, uid, *_rest in public} <= set(vevents(target.read_text()))


def test_render_vtimezone_clamps_any_span():
    """The VTIMEZONE builder cannot be asked for a year datetime cannot hold."""
    for first, last in [(1, 2020), (2020, 9999), (1, 9999), (9999, 9999), (1, 1)]:
        text = ical.render_vtimezone("Europe/Belgrade", first, last)
        assert text.startswith("BEGIN:VTIMEZONE\r\n") and text.endswith("END:VTIMEZONE\r\n")
    assert ical.render_vtimezone("Europe/Belgrade", 2020, 2020) == ical.render_vtimezone(
        "Europe/Belgrade", 2020, 2020
    )
