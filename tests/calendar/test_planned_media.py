"""Planned media appearances in organizers' private feeds and month view, marked as
media, and never anywhere public."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import pytest
import vobject
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from campaign.calendar import feeds
from campaign.catalog import operations as catalog_ops
from campaign.db import get_session
from campaign.media import operations as media_ops
from campaign.media.filters import media_list_loading
from campaign.models import MediaItem, Partner
from tests.calendar.test_feeds import check_wire_format, fetch, vevents

SECRET = "Gostovanje zxqvmedia u Jutru"


@pytest.fixture(autouse=True)
def _cold_caches():
    feeds.clear_caches()
    yield
    feeds.clear_caches()


@pytest.fixture
def booked(create_media, create_event):
    """A planned appearance on EADRCC, a published one, and a confirmed event."""
    create_event(title="Panel: EADRCC", themes=["eadrcc"])
    planned = create_media(
        headline=SECRET,
        status="planned",
        published_at=datetime(2020, 3, 20, 7, 30, tzinfo=UTC),
        spokesperson="Ana Anić",
        notes="tajna beleška zxqvnote",
        link="https://www.rts.rs/planned",
    )
    published = create_media(headline="Već objavljeno zxqvpublished")
    return planned, published


def media_events(text: str) -> list:
    return [
        e
        for e in icalendar.Calendar.from_ical(text).walk("VEVENT")
        if str(e["UID"]).startswith("media-")
    ]


def test_private_feed_carries_planned_appearances_marked_as_media(client, organizer, booked, app):
    planned_id, _published = booked
    response = fetch(client, f"/calendar.ics?token={organizer.feed_token}&lang=en")
    body = response.get_data()
    check_wire_format(body)
    text = body.decode()
    [item] = media_events(text)
    assert str(item["SUMMARY"]) == f"Media: {SECRET}"
    assert item["CATEGORIES"].cats[:3] == ["Media", "Television", "Euro-Atlantic Disaster "
                                           "Response Coordination Centre (EADRCC)"]  # fmt: skip
    assert str(item["URL"]) == f"http://campaign.test/media/{planned_id}"
    assert str(item["LOCATION"]) == "Радио-телевизија Србије"
    assert item.decoded("DTSTART") == datetime(2020, 3, 20, 7, 30, tzinfo=UTC)
    assert str(item["DTSTART"].params["TZID"]) == "Europe/Belgrade"
    description = str(item["DESCRIPTION"])
    assert "Spokesperson: Ana Anić" in description
    assert "Link: https://www.rts.rs/planned" in description
    # Notes are for the item's page, never in a feed; published items are not planned.
    assert "zxqvnote" not in text
    assert "zxqvpublished" not in text
    # The events are all still there, and other parsers read the appearance too.
    assert len(vevents(text)) == 2
    assert any(v.summary.value.startswith("Media: ") for v in vobject.readOne(text).vevent_list)
    assert "Planned media appearances are marked" in text.replace("\r\n ", "")


def test_public_feeds_never_carry_planned_appearances(client, auth, booked):
    urls = [
        "/calendar.ics",
        "/calendar.ics?q=zxqvmedia",
        "/calendar.ics?status=confirmed",
        "/calendar.ics?token=",
        "/themes/eadrcc/calendar.ics",
        "/partners/rts/calendar.ics",
    ]
    for logged_in in (False, True):
        if logged_in:
            auth.login()  # a session cookie never opens a feed's drafts or media
        for url in urls:
            response = client.get(url)
            body = response.get_data(as_text=True)
            assert response.status_code in (200, 403, 404), url
            assert "Gostovanje" not in body, (url, logged_in)
            assert "UID:media-" not in body, (url, logged_in)


def test_the_feeds_filter_applies_to_appearances(client, organizer, booked):
    token = organizer.feed_token

    def titles(url):
        return [str(e["SUMMARY"]) for e in media_events(fetch(client, url).get_data().decode())]

    assert titles(f"/themes/eadrcc/calendar.ics?token={token}&lang=en") == [f"Media: {SECRET}"]
    assert titles(f"/themes/kfor/calendar.ics?token={token}") == []
    assert len(titles(f"/partners/rts/calendar.ics?token={token}")) == 1
    assert len(titles(f"/calendar.ics?token={token}&q=zxqvmedia")) == 1
    assert titles(f"/calendar.ics?token={token}&q=nothing") == []
    assert len(titles(f"/calendar.ics?token={token}&from=2020-03-20&to=2020-03-20")) == 1
    assert titles(f"/calendar.ics?token={token}&from=2020-03-21") == []
    # What only events have leaves the appearances out.
    for narrowed in ("format=panel", "status=draft", "city=Beograd"):
        response = client.get(f"/calendar.ics?token={token}&{narrowed}")
        if response.status_code == 200:
            assert media_events(response.get_data().decode()) == [], narrowed


def test_an_edited_appearance_changes_the_private_feed_only(app, client, organizer, booked):
    planned_id, _ = booked
    private = f"/calendar.ics?token={organizer.feed_token}"
    first = fetch(client, private)
    public = fetch(client, "/calendar.ics")
    etag, public_etag = first.headers["ETag"], public.headers["ETag"]
    fetch(client, private, 304, headers={"If-None-Match": etag})
    with app.app_context():
        session = get_session()
        item = session.scalar(select(MediaItem).where(MediaItem.id == planned_id).options(
            *media_ops_loading()))  # fmt: skip
        data = media_ops.media_data(item)
        data.published_at = datetime(2020, 3, 20, 9, 0, tzinfo=UTC)
        assert media_ops.update_media(session, None, item, data, item.version)
    again = fetch(client, private, headers={"If-None-Match": etag})
    assert again.headers["ETag"] != etag
    [vevent] = media_events(again.get_data().decode())
    assert vevent.decoded("DTSTART") == datetime(2020, 3, 20, 9, 0, tzinfo=UTC)
    assert vevent["SEQUENCE"] == 1
    # The public feed's bytes did not change: its ETag still earns a 304.
    fetch(client, "/calendar.ics", 304, headers={"If-None-Match": public_etag})
    # The gzip variant follows the same version.
    zipped = fetch(client, private, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["ETag"].startswith(again.headers["ETag"][:-1])


def test_renaming_the_outlet_changes_the_private_feed(app, client, organizer, booked):
    private = f"/calendar.ics?token={organizer.feed_token}"
    etag = fetch(client, private).headers["ETag"]
    with app.app_context():
        session = get_session()
        rts = session.scalar(select(Partner).where(Partner.slug == "rts"))
        catalog_ops.save_partner(session, None, rts, slug="rts", name="RTS 1", kind="media")
    response = fetch(client, private, headers={"If-None-Match": etag})
    [vevent] = media_events(response.get_data().decode())
    assert str(vevent["LOCATION"]) == "RTS 1"


def test_a_deleted_appearance_leaves_the_private_feed(app, client, organizer, booked):
    planned_id, _ = booked
    private = f"/calendar.ics?token={organizer.feed_token}"
    etag = fetch(client, private).headers["ETag"]
    with app.app_context():
        session = get_session()
        item = session.get(MediaItem, planned_id)
        media_ops.delete_media(session, None, item, item.version)
    response = fetch(client, private, headers={"If-None-Match": etag})
    assert media_events(response.get_data().decode()) == []


def test_private_feed_queries_do_not_grow_with_appearances(
    client, organizer, create_media, count_queries
):
    url = f"/calendar.ics?token={organizer.feed_token}"

    def measure():
        feeds.clear_caches()
        with count_queries() as cold:
            fetch(client, url)
        with count_queries() as warm:
            fetch(client, url)
        return cold.count, warm.count

    create_media(status="planned", link="https://example.org/0")
    few = measure()
    for i in range(1, 30):
        create_media(status="planned", link=f"https://example.org/{i}", headline=f"Item {i}")
    many = measure()
    assert few == many
    text = fetch(client, url).get_data().decode()
    assert len(media_events(text)) == 30


# -- the month view ----------------------------------------------------------------------


def test_month_view_marks_appearances_for_organizers_only(client, auth, booked):
    page = client.get("/events/calendar?month=2020-03").get_data(as_text=True)
    assert "zxqvmedia" not in page
    assert 'class="cal-event media"' not in page
    auth.login()
    page = client.get("/events/calendar?month=2020-03").get_data(as_text=True)
    assert "zxqvmedia" in page
    assert 'class="cal-event media"' in page
    # The month's filter applies as in the private feed.
    for args, shown in (
        ("theme=eadrcc", True),
        ("theme=kfor", False),
        ("partner=rts", True),
        ("format=panel", False),
        ("q=zxqvmedia", True),
    ):
        page = client.get(f"/events/calendar?month=2020-03&{args}").get_data(as_text=True)
        assert ("zxqvmedia" in page) is shown, args


def media_ops_loading():
    return (*media_list_loading(), selectinload(MediaItem.events))


def test_cli_ics_export_with_drafts_is_the_private_feed(
    runner, client, organizer, booked, tmp_path
):
    target = tmp_path / "private.ics"
    result = runner.invoke(args=["export", "--format", "ics", "-o", str(target)])
    assert result.exit_code == 0, result.output
    feed = fetch(client, f"/calendar.ics?token={organizer.feed_token}")
    assert target.read_bytes() == feed.data
    assert b"UID:media-" in feed.data
    public = runner.invoke(args=["export", "--format", "ics", "--public"])
    assert b"UID:media-" not in public.stdout_bytes


def test_a_streamed_private_feed_carries_the_appearances_too(app, client, organizer, booked):
    """A private feed larger than the cache budget is streamed: the same bytes, planned
    appearances included, as when it is built whole."""
    url = f"/calendar.ics?token={organizer.feed_token}&lang=en"
    whole = fetch(client, url).get_data()
    packed = fetch(client, url, headers={"Accept-Encoding": "gzip"}).get_data()
    assert SECRET.encode() in whole
    feeds.clear_caches()
    feeds.configure(len(whole) // 2)
    try:
        for headers, expected in (({}, whole), ({"Accept-Encoding": "gzip"}, packed)):
            response = client.get(url, headers=headers, buffered=False)
            assert response.status_code == 200 and response.is_streamed
            body = b"".join(response.response)
            response.close()
            assert body == expected
    finally:
        feeds.configure(feeds.DEFAULT_BUDGET)
