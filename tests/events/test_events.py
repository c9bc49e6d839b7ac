"""The organizer's event workflow through the web forms: create, edit, cancel, delete."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from campaign.models import Event, EventChange, Theme
from tests.conftest import event_form_data, form_version


def theme_id(db, slug):
    return db.scalar(select(Theme.id).where(Theme.slug == slug))


def form_data(db, **overrides):
    return event_form_data(db, **overrides)


def count_events(db):
    db.rollback()  # end the test's read transaction to see what requests committed
    return db.scalar(select(func.count()).select_from(Event))


def load(db, event_id):
    db.rollback()
    return db.scalar(
        select(Event)
        .where(Event.id == event_id)
        .options(selectinload(Event.themes), selectinload(Event.changes))
    )


def test_new_event_form_has_every_label(client, auth):
    auth.login()
    page = client.get("/events/new").get_data(as_text=True)
    for label in [
        "Title",
        "Format",
        "Status",
        "Start",
        "End",
        "Time zone",
        "Venue",
        "Online link",
        "Description",
        "Expected audience",
        "Attendance",
    ]:
        assert re.search(rf"<label for=\"\w+\">{re.escape(label)}</label>", page), label
    assert "<legend>Themes</legend>" in page
    assert "<legend>Partners</legend>" in page


def test_create_event_keeps_serbian_text_and_times(client, auth, db):
    auth.login()
    data = form_data(db)
    response = client.post("/events/new", data)
    assert response.status_code == 302
    event = load(db, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert event.title == data["title"]
    assert event.description == data["description"]
    assert event.starts_at == datetime(2020, 3, 10, 17, 0, tzinfo=UTC)  # CET is UTC+1
    assert event.sequence == 0 and event.version == 1
    assert re.fullmatch(r"[0-9a-f-]{36}@ipap2-campaign", event.uid)
    assert [c.action for c in event.changes] == ["created"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert data["title"] in page
    assert "Tue 10 Mar 2020, 18:00–20:00 CET" in page


def test_summer_time_is_shown_with_its_abbreviation(client, create_event):
    event = create_event(starts_at=datetime(2020, 7, 1, 16, 0, tzinfo=UTC))
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Wed 1 Jul 2020, 18:00–20:00 CEST" in page


def test_event_in_another_zone_is_shown_in_its_zone(client, create_event):
    event = create_event(starts_at=datetime(2020, 7, 1, 8, 0, tzinfo=UTC), timezone="Europe/London")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "09:00–11:00 BST" in page
    assert "Europe/London" in page


def edit_form(client, event_id):
    page = client.get(f"/events/{event_id}/edit").get_data(as_text=True)
    return page, form_version(page)


def test_edit_moves_event_bumps_sequence_keeps_uid(client, auth, db, create_event):
    event = create_event()
    auth.login()
    _, version = edit_form(client, event.id)
    response = client.post(
        f"/events/{event.id}/edit",
        form_data(
            db,
            starts_at="2020-03-11T18:00",
            ends_at="2020-03-11T20:00",
            version=version,
            themes=[str(theme_id(db, "eadrcc"))],
            title=event.title,
            description="",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    moved = load(db, event.id)
    assert moved.uid == event.uid
    assert moved.sequence == 1
    assert moved.updated > event.updated
    assert moved.version == 2
    change = moved.changes[0]
    assert change.action == "updated"
    assert set(change.changes) >= {"start", "end"}


def test_description_only_edit_changes_updated_not_sequence(client, auth, db, create_event):
    event = create_event(description="Old text")
    auth.login()
    _, version = edit_form(client, event.id)
    client.post(
        f"/events/{event.id}/edit",
        form_data(
            db,
            title=event.title,
            description="New text",
            version=version,
            themes=[str(theme_id(db, "eadrcc"))],
            expected_audience="",
        ),
    )
    edited = load(db, event.id)
    assert edited.description == "New text"
    assert edited.sequence == 0
    assert edited.updated > event.updated


def test_saving_unchanged_form_changes_nothing(client, auth, db, create_event):
    event = create_event()
    auth.login()
    page, version = edit_form(client, event.id)
    response = client.post(
        f"/events/{event.id}/edit",
        form_data(
            db,
            title=event.title,
            description="",
            version=version,
            expected_audience="",
            themes=[str(theme_id(db, "eadrcc"))],
            starts_at="2020-03-10T18:00",
            ends_at="2020-03-10T20:00",
        ),
    )
    assert response.status_code == 302
    same = load(db, event.id)
    assert (same.version, same.sequence, same.updated) == (1, 0, event.updated)
    assert len(same.changes) == 1


def test_stale_edit_is_refused_and_first_save_kept(
    make_client, db, create_event, organizer, create_user
):
    """Two organizers open the form; the later save of the stale form is refused."""
    other = create_user(email="marko@example.org", name="Marko Marković")
    event = create_event()
    first, second = make_client(), make_client()
    first.login(organizer.email)
    second.login(other.email)
    _, v1 = edit_form(first, event.id)
    _, v2 = edit_form(second, event.id)
    theme = [str(theme_id(db, "eadrcc"))]
    ok = first.post(
        f"/events/{event.id}/edit",
        form_data(db, title="First organizer's title", version=v1, themes=theme),
    )
    assert ok.status_code == 302
    stale = second.post(
        f"/events/{event.id}/edit",
        form_data(db, title="Second organizer's title", version=v2, themes=theme),
    )
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "Someone else saved this event after you opened it" in page
    assert "First organizer&#39;s title" in page  # the form now shows their version
    kept = load(db, event.id)
    assert kept.title == "First organizer's title"
    assert kept.version == 2


def test_stale_cancel_is_refused(client, auth, db, create_event):
    event = create_event()
    auth.login()
    response = client.post(f"/events/{event.id}/cancel", {"version": "7"})
    assert response.status_code == 302
    assert "Someone else saved this event" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert load(db, event.id).status == "confirmed"


def test_cancel_published_event(client, auth, db, create_event):
    event = create_event(starts_at=datetime.now(UTC) + timedelta(days=9))  # still to come
    auth.login()
    response = client.post(f"/events/{event.id}/cancel", {"version": "1"})
    assert response.status_code == 302
    cancelled = load(db, event.id)
    assert cancelled.status == "cancelled"
    assert cancelled.sequence == 1
    assert cancelled.changes[0].action == "cancelled"
    # Cancelled events stay public.
    client.logout()
    assert client.get(f"/events/{event.id}").status_code == 200


def test_cancel_and_delete_need_post(client, auth, create_event):
    event = create_event()
    auth.login()
    assert client.get(f"/events/{event.id}/cancel").status_code == 405
    assert client.get(f"/events/{event.id}/delete").status_code == 405


def test_published_event_cannot_be_deleted(client, auth, db, create_event):
    event = create_event()
    auth.login()
    response = client.post(f"/events/{event.id}/delete", {"version": "1"})
    assert "Only drafts can be deleted" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert count_events(db) == 1


def test_draft_can_be_deleted(client, auth, db, create_event):
    event = create_event(status="draft")
    auth.login()
    response = client.post(f"/events/{event.id}/delete", {"version": "1"})
    assert response.status_code == 302
    assert count_events(db) == 0
    assert db.scalar(select(func.count()).select_from(EventChange)) == 0


def test_draft_cannot_be_cancelled(client, auth, db, create_event):
    event = create_event(status="draft")
    auth.login()
    client.post(f"/events/{event.id}/cancel", {"version": "1"})
    assert load(db, event.id).status == "draft"


def test_record_attendance_afterwards(client, auth, db, create_event):
    event = create_event()
    auth.login()
    _, version = edit_form(client, event.id)
    client.post(
        f"/events/{event.id}/edit",
        form_data(
            db,
            title=event.title,
            description="",
            version=version,
            attendance="64",
            expected_audience="",
            themes=[str(theme_id(db, "eadrcc"))],
        ),
    )
    recorded = load(db, event.id)
    assert recorded.attendance == 64
    assert recorded.sequence == 0  # attendance is not a change of time, place or status


def test_edit_of_unknown_event_is_404(client, auth):
    auth.login()
    assert client.get("/events/999999/edit").status_code == 404
    assert client.get("/events/999999").status_code == 404


@pytest.mark.parametrize("version", ["abc", "", "²", "1" * 40, "-1"])
def test_missing_or_nonsense_version_is_400(client, auth, db, create_event, version):
    event = create_event()
    auth.login()
    response = client.post(f"/events/{event.id}/edit", form_data(db, version=version))
    assert response.status_code == 400
    assert client.post(f"/events/{event.id}/cancel", {"version": version}).status_code == 400
    assert load(db, event.id).title == event.title
    assert load(db, event.id).status == "confirmed"


# -- validation: each rule posts nonsense, checks the message and that nothing changed -----

INVALID = [
    ({"ends_at": "2020-03-10T17:00"}, "The end must be after the start."),
    ({"ends_at": "2020-03-10T18:00"}, "The end must be after the start."),
    ({"ends_at": "2020-03-25T18:01"}, "An event can last at most 14 days."),
    ({"themes": []}, "Choose at least one theme."),
    ({"timezone": "Mars/Olympus_Mons"}, "is not an IANA time zone"),
    ({"timezone": "Europe/Belgrad"}, "is not an IANA time zone"),
    ({"timezone": "UTC+1"}, "is not an IANA time zone"),
    ({"title": ""}, "Give the event a title."),
    ({"title": "   "}, "Give the event a title."),
    ({"title": "x" * 201}, "at most 200"),
    ({"online_url": "javascript:alert(1)"}, "must be a web address starting with https://"),
    ({"online_url": "ftp://example.org/x"}, "must be a web address starting with https://"),
    ({"expected_audience": "-5"}, "Give a number, zero or more."),
    ({"attendance": "-1"}, "Give a number, zero or more."),
    ({"expected_audience": "lots"}, "Not a valid integer value"),
    ({"starts_at": "tomorrow"}, "Not a valid datetime value"),
    (
        {"starts_at": "2020-03-29T02:30", "ends_at": "2020-03-29T04:00"},
        "does not exist on 29 March 2020",
    ),
    ({"format": "lecture"}, "Not a valid choice"),
    ({"status": "published"}, "Not a valid choice"),
    ({"venue": "99999"}, "Not a valid choice"),
    ({"themes": ["99999"]}, "not a valid choice"),
    ({"partners_host": ["abc"]}, "Invalid choice"),
]


@pytest.mark.parametrize("overrides,message", INVALID, ids=[m for _, m in INVALID])
def test_new_event_rejects_nonsense(client, auth, db, overrides, message):
    auth.login()
    response = client.post("/events/new", form_data(db, **overrides))
    assert response.status_code == 400
    assert message.lower() in response.get_data(as_text=True).lower()
    assert count_events(db) == 0


@pytest.mark.parametrize("overrides,message", INVALID[:6], ids=[m for _, m in INVALID[:6]])
def test_edit_rejects_nonsense_and_keeps_event(client, auth, db, create_event, overrides, message):
    event = create_event()
    auth.login()
    _, version = edit_form(client, event.id)
    response = client.post(f"/events/{event.id}/edit", form_data(db, version=version, **overrides))
    assert response.status_code == 400
    assert message.lower() in response.get_data(as_text=True).lower()
    same = load(db, event.id)
    assert (same.title, same.version, same.starts_at) == (event.title, 1, event.starts_at)


def test_ambiguous_autumn_time_means_the_first(client, auth, db):
    auth.login()
    response = client.post(
        "/events/new", form_data(db, starts_at="2020-10-25T02:30", ends_at="2020-10-25T04:00")
    )
    event = load(db, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert event.starts_at == datetime(2020, 10, 25, 0, 30, tzinfo=UTC)  # still CEST


def test_organizer_pages_need_login(client, create_event):
    event = create_event()
    for url in [
        "/events/new",
        f"/events/{event.id}/edit",
        "/venues",
        "/themes/new",
        "/partners/new",
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    response = client.post(f"/events/{event.id}/cancel", {"version": "1"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- the window of event dates -------------------------------------------------------------

OUTSIDE_WINDOW = [
    ("0001-01-01T00:00", "0001-01-01T02:00"),  # before year 1 in UTC: was a 500
    ("9999-12-31T10:00", "9999-12-31T12:00"),  # took every feed down (VTIMEZONE past 9999)
    ("1989-12-31T18:00", "1989-12-31T20:00"),
    ("2101-01-01T18:00", "2101-01-01T20:00"),
    ("2100-12-31T18:00", "2101-01-01T10:00"),  # the end alone
]
WINDOW_MESSAGE = "Give a date between 1 January 1990 and 31 December 2100."


@pytest.mark.parametrize("start, end", OUTSIDE_WINDOW)
def test_event_dates_outside_the_window_are_refused(client, auth, db, start, end):
    auth.login()
    response = client.post("/events/new", form_data(db, starts_at=start, ends_at=end))
    assert response.status_code == 400
    assert WINDOW_MESSAGE in response.get_data(as_text=True)
    assert count_events(db) == 0
    assert client.get("/calendar.ics").status_code == 200


@pytest.mark.parametrize("start, end", OUTSIDE_WINDOW)
def test_editing_an_event_out_of_the_window_is_refused(client, auth, db, create_event, start, end):
    event = create_event(status="confirmed")
    auth.login()
    page = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    response = client.post(
        f"/events/{event.id}/edit",
        form_data(db, starts_at=start, ends_at=end, version=form_version(page)),
    )
    assert response.status_code == 400
    assert WINDOW_MESSAGE in response.get_data(as_text=True)
    stored = load(db, event.id)
    assert (stored.starts_at, stored.ends_at, stored.version) == (
        event.starts_at,
        event.ends_at,
        event.version,
    )
    for url in ["/calendar.ics", f"/events/{event.id}.ics", "/themes/eadrcc/calendar.ics"]:
        assert client.get(url).status_code == 200


def test_the_operations_layer_keeps_the_window(app, db):
    """Every writer (forms, command line, imports) goes through validate_event."""
    from campaign.core.errors import ValidationError
    from campaign.events import operations as ops

    theme = db.scalar(select(Theme).where(Theme.slug == "eadrcc"))
    for start in [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 10, tzinfo=UTC)]:
        data = ops.EventData(
            title="Panel",
            format="panel",
            status="confirmed",
            starts_at=start,
            ends_at=start.replace(hour=start.hour + 2),
            themes=[theme],
        )
        with pytest.raises(ValidationError) as refused:
            ops.validate_event(data)
        assert refused.value.errors["starts_at"] == WINDOW_MESSAGE
    ops.validate_event(
        ops.EventData(
            title="Panel",
            format="panel",
            status="confirmed",
            starts_at=datetime(2100, 12, 31, 10, tzinfo=UTC),
            ends_at=datetime(2100, 12, 31, 12, tzinfo=UTC),
            themes=[theme],
        )
    )
