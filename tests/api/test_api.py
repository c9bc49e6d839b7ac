"""The read API: shapes, the filter's 400s as problem details, keyset pages, ETags and 304,
CORS for public reads only, drafts only with an organizer's token."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from campaign.api import schemas
from campaign.exports.rows import event_json


def get(client, url, **headers):
    return client.get(url, headers=headers)


def all_pages(client, url, key="events", **headers):
    """Follow ``next`` (and check it equals the Link header) to the end."""
    items, pages = [], 0
    while url:
        response = get(client, url, **headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        items += body[key]
        pages += 1
        if body["next"]:
            assert response.headers["Link"] == f'<{body["next"]}>; rel="next"'
            parts = urlsplit(body["next"])
            assert parts.scheme + "://" + parts.netloc == "http://campaign.test"
            url = parts.path + "?" + parts.query
        else:
            assert "Link" not in response.headers
            url = None
    return items, pages


@pytest.fixture
def events(create_event, create_venue, create_partner, organizer):
    venue = create_venue(city="Novi Sad", name="Kulturni centar")
    partner = create_partner(slug="ngo-one", name="NGO One")
    start = datetime(2020, 3, 1, 17, tzinfo=UTC)
    made = []
    for n in range(7):
        made.append(
            create_event(
                title=f"Event {n}",
                starts_at=start + timedelta(days=n),
                venue=venue if n % 2 else None,
                partners=[(partner, "host")] if n % 3 == 0 else [],
                themes=["eadrcc"] if n % 2 else ["kfor"],
                owner=organizer,
            )
        )
    made.append(create_event(title="Secret draft", status="draft", owner=organizer))
    return made


def test_events_pages_follow_next_and_link_and_equal_the_json_export(client, events):
    items, pages = all_pages(client, "/api/v1/events?limit=3")
    assert pages == 3
    exported = client.get("/events.json").get_json()["events"]
    assert items == exported
    assert "Secret draft" not in [e["title"] for e in items]
    for item in items:
        assert schemas.EventSchema().validate(item) == {}


def test_event_shape_is_the_export_shape_field_for_field(app, events):
    from campaign.db import get_session
    from campaign.models import Event

    with app.app_context():
        event = get_session().get(Event, events[1].id)
        from campaign.events.filters import EventFilter

        flt = EventFilter(include_drafts=True, event_ids=(event.id,))
        from campaign.exports.rows import events_after

        loaded = events_after(get_session(), flt, None, 1)[0]
        shape = event_json(loaded, "http://campaign.test")
    declared = schemas.parameter_names(schemas.EventSchema)
    assert set(shape) == declared


def test_one_event_and_drafts_need_a_token(client, events, read_token):
    public = events[0]
    draft = events[-1]
    body = client.get(f"/api/v1/events/{public.id}").get_json()
    assert body == client.get("/events.json").get_json()["events"][0]
    response = client.get(f"/api/v1/events/{draft.id}")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"

    token = read_token
    bearer = {"Authorization": f"Bearer {token}"}
    response = get(client, f"/api/v1/events/{draft.id}", **bearer)
    assert response.status_code == 200
    assert response.get_json()["status"] == "draft"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Access-Control-Allow-Origin" not in response.headers

    items, _ = all_pages(client, "/api/v1/events?status=draft", **bearer)
    assert [e["title"] for e in items] == ["Secret draft"]


def test_a_logged_in_cookie_does_not_open_drafts(client, auth, events):
    auth.login()
    items, _ = all_pages(client, "/api/v1/events")
    assert "Secret draft" not in [e["title"] for e in items]
    response = client.get("/api/v1/events?status=draft")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "status"


@pytest.mark.parametrize("header", ["Bearer wrong", "Bearer ", "Basic abc", "Bearer " + "x" * 80])
def test_a_bad_token_is_401_never_a_public_answer(client, events, header):
    response = get(client, "/api/v1/events", Authorization=header)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["parameter"] == "Authorization"


def test_a_revoked_token_stops_working(app, client, events, organizer, read_token):
    from campaign.auth import operations as ops
    from campaign.auth.models import ApiToken
    from campaign.db import get_session
    from campaign.models import User

    assert get(client, "/api/v1/events", Authorization=f"Bearer {read_token}").status_code == 200
    with app.app_context():
        session = get_session()
        user = session.get(User, organizer.id)
        (token,) = session.query(ApiToken).all()
        ops.revoke_api_token(session, user, token)
    assert get(client, "/api/v1/events", Authorization=f"Bearer {read_token}").status_code == 401


def test_the_private_feed_token_is_no_api_token(client, events, organizer):
    response = get(client, "/api/v1/events", Authorization=f"Bearer {organizer.feed_token}")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("theme=no-such-theme", "theme"),
        ("partner=nobody", "partner"),
        ("format=lecture", "format"),
        ("city=Atlantis", "city"),
        ("status=draft", "status"),
        ("status=bogus", "status"),
        ("from=2020-13-01", "from"),
        ("from=2020-03-05&to=2020-03-01", "from"),
        ("to=1066-10-14", "to"),
        ("q=a&q=b", "q"),
        ("page=2", "page"),
        ("colour=red", "colour"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=x", "limit"),
        ("cursor=%%%", "cursor"),
        ("cursor=MjAyMHxhYmM", "cursor"),
        ("cursor=Mw", "cursor"),
        ("lang=xx", None),
    ],
)
def test_bad_parameters_are_problem_details_naming_the_parameter(client, events, query, parameter):
    response = client.get(f"/api/v1/events?{query}")
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert (
        body["status"] == 400 and body["title"] == "Bad Request" and body["type"] == "about:blank"
    )
    if parameter:
        assert body["parameter"] == parameter
        assert body["detail"]
    else:
        assert "lang" in body["detail"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_the_same_filter_as_every_list(client, events):
    items, _ = all_pages(client, "/api/v1/events?city=novi+sad&theme=eadrcc&from=2020-03-02")
    exported = client.get("/events.json?city=novi+sad&theme=eadrcc&from=2020-03-02").get_json()
    assert items == exported["events"] and len(items) == exported["count"] == 3


def test_strong_etag_and_304(client, events, create_event):
    first = client.get("/api/v1/events?limit=2")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get("/api/v1/events?limit=2", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    create_event(title="Earlier", starts_at=datetime(2019, 12, 1, 10, tzinfo=UTC))
    changed = client.get("/api/v1/events?limit=2", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_public_reads_are_cors_readable_without_credentials(client, events):
    for url in [
        "/api/v1/events",
        f"/api/v1/events/{events[0].id}",
        "/api/v1/themes",
        "/api/v1/partners",
        "/api/v1/venues",
        "/api/openapi.json",
    ]:
        response = client.get(url, headers={"Origin": "https://partner.example"})
        assert response.status_code == 200, url
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response.headers
        assert "ETag" in response.headers["Access-Control-Expose-Headers"]
        assert response.headers["Cache-Control"] == "public, max-age=0, must-revalidate"


def test_themes_partners_venues(client, events, create_partner):
    create_partner(
        slug="secretive",
        name="Secretive",
        contact_email="boss@example.org",
        contact_phone="+381 11 123",
        notes="do not call",
    )
    themes, pages = all_pages(client, "/api/v1/themes?limit=4", key="themes")
    assert pages == 3 and len(themes) == 9
    assert themes[1]["slug"] == "eadrcc"
    assert themes[1]["events"] == "http://campaign.test/api/v1/events?theme=eadrcc"
    partners, _ = all_pages(client, "/api/v1/partners?limit=1", key="partners")
    assert [p["slug"] for p in partners] == ["ngo-one", "secretive"]
    raw = json.dumps(partners)
    assert "boss@example.org" not in raw and "do not call" not in raw and "123" not in raw
    venues, _ = all_pages(client, "/api/v1/venues", key="venues")
    assert venues[0]["city"] == "Novi Sad"
    for item in themes:
        assert schemas.ThemeSchema().validate(item) == {}
    for item in partners:
        assert schemas.PartnerSchema().validate(item) == {}
    for item in venues:
        assert schemas.VenueSchema().validate(item) == {}


def test_unknown_api_addresses_and_methods_are_problems(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    response = client.delete("/api/v1/events")
    assert response.status_code == 405
    assert response.content_type == "application/problem+json"
    assert "GET" in response.headers["Allow"]


def test_api_ignores_the_session_cookie(client, auth, events):
    auth.login()
    response = client.get("/api/v1/events")
    assert "Cookie" not in response.headers.get("Vary", "")


def test_the_token_never_reaches_the_log(client, events, read_token, caplog):
    token = read_token
    with caplog.at_level("DEBUG"):
        assert get(client, "/api/v1/events", Authorization=f"Bearer {token}").status_code == 200
        assert get(client, "/api/v1/events", Authorization=f"Bearer {token}x").status_code == 401
    assert "campaign.requests" in caplog.text
    assert token not in caplog.text
