"""The embeddable agenda (frameable by any site, script-free, cookie-free, public only) and
the framing and CORS rules per route: only /embed/ may be framed; public feeds and
exports are readable by other sites' scripts, private ones are not."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest


@pytest.fixture
def agenda(create_event, create_venue, create_partner, organizer):
    venue = create_venue(city="Novi Sad", name="Kulturni centar")
    partner = create_partner(slug="ngo-one", name="NGO One")
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    return {
        "future": create_event(
            title="Future panel",
            starts_at=soon,
            venue=venue,
            partners=[(partner, "host")],
            description="About floods.",
            owner=organizer,
        ),
        "future_kfor": create_event(
            title="Future KFOR talk", themes=["kfor"], starts_at=soon + timedelta(days=1)
        ),
        "past": create_event(title="Past seminar", starts_at=datetime(2020, 3, 1, 10, tzinfo=UTC)),
        "draft": create_event(title="Draft idea", status="draft", starts_at=soon),
    }


def test_the_agenda_shows_upcoming_public_events_and_may_be_framed_anywhere(client, agenda):
    response = client.get("/embed/events")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Future panel" in page and "Future KFOR talk" in page
    assert "Past seminar" not in page and "Draft idea" not in page
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp
    assert "script-src" not in csp and "default-src 'none'" in csp
    assert "X-Frame-Options" not in response.headers
    assert "<script" not in page and "<form" not in page
    assert "webcal://campaign.test/calendar.ics" in page
    # Links leave the frame.
    for tag in re.findall(r"<a [^>]*>", page):
        assert 'target="_blank"' in tag or tag.startswith('<a href="webcal:')


def test_the_agenda_takes_the_filter_and_its_layouts(client, agenda):
    page = client.get("/embed/events?theme=kfor").get_data(as_text=True)
    assert "Future KFOR talk" in page and "Future panel" not in page
    assert "webcal://campaign.test/calendar.ics?theme=kfor" in page
    past = client.get("/embed/events?from=2020-01-01&to=2020-12-31").get_data(as_text=True)
    assert "Past seminar" in past and "Future panel" not in past
    compact = client.get("/embed/events").get_data(as_text=True)
    expanded = client.get("/embed/events?layout=expanded").get_data(as_text=True)
    assert "About floods." in expanded and "About floods." not in compact
    assert "NGO One" in expanded
    assert client.get("/embed/events?limit=1").get_data(as_text=True).count("<li class") == 1


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("theme=nope", "theme"),
        ("layout=huge", "layout"),
        ("limit=0", "limit"),
        ("status=draft", "status"),
    ],
)
def test_bad_parameters_show_in_the_frame(client, agenda, query, parameter):
    response = client.get(f"/embed/events?{query}")
    assert response.status_code == 400
    assert f"{parameter}: " in response.get_data(as_text=True)
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]


def test_the_agenda_reads_and_sets_no_cookie(client, auth, agenda):
    auth.login()
    response = client.get("/embed/events?status=confirmed")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    assert "Draft idea" not in response.get_data(as_text=True)
    assert "Log out" not in response.get_data(as_text=True)


def test_the_agenda_speaks_the_language_of_its_address_not_the_cookie(client, agenda):
    client.get("/language/sr-Latn?next=/")
    assert 'lang="en"' in client.get("/embed/events").get_data(as_text=True)
    assert 'lang="sr-Latn"' in client.get("/embed/events?lang=sr-Latn").get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/", "/events", "/events.atom", "/api/v1/events", "/calendar.ics", "/login"]
)
def test_every_other_route_still_refuses_frames(client, url):
    response = client.get(url)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_public_feeds_and_exports_are_readable_by_other_sites(client, agenda, organizer):
    for url in [
        "/calendar.ics",
        "/themes/kfor/calendar.ics",
        "/partners/ngo-one/calendar.ics",
        f"/events/{agenda['future'].id}.ics",
        "/events.json",
        "/events.csv",
        "/events.atom",
    ]:
        response = client.get(url, headers={"Origin": "https://partner.example"})
        response.get_data()  # read streamed exports to the end, as a browser does
        assert response.status_code == 200, url
        assert response.headers["Access-Control-Allow-Origin"] == "*", url
        assert "Access-Control-Allow-Credentials" not in response.headers
    # The 304 of a feed says the same, so a browser's revalidation can be read too.
    etag = client.get("/calendar.ics").headers["ETag"]
    again = client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["Access-Control-Allow-Origin"] == "*"
    # Private answers: no CORS.
    private = client.get(f"/calendar.ics?token={organizer.feed_token}")
    assert private.status_code == 200
    assert "Access-Control-Allow-Origin" not in private.headers


def test_an_organizers_export_with_drafts_is_not_cors_readable(client, auth, agenda):
    auth.login()
    response = client.get("/events.json")
    assert "Draft idea" in response.get_data(as_text=True)
    assert "Access-Control-Allow-Origin" not in response.headers
    draft = client.get(f"/events/{agenda['draft'].id}.ics")
    assert draft.status_code == 200
    assert "Access-Control-Allow-Origin" not in draft.headers


@pytest.mark.parametrize(
    ("page", "query"), [("/themes/kfor", "theme=kfor"), ("/partners/ngo-one", "partner=ngo-one")]
)
def test_theme_and_partner_pages_offer_the_iframe(client, agenda, page, query):
    html = client.get(page).get_data(as_text=True)
    assert "Put this agenda on your website" in html
    assert f"&lt;iframe src=&#34;http://campaign.test/embed/events?{query}&#34;" in html or (
        f'&lt;iframe src="http://campaign.test/embed/events?{query}"' in html
    )
    assert client.get(f"/embed/events?{query}").status_code == 200
