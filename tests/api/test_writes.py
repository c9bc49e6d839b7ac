"""The write API: create, change, cancel and delete events with a write token, through the
operations layer (the forms' validation, history and SEQUENCE rules), with If-Match (428
without it, 412 when stale), problem details naming each refused field, the write scope
(403 for read tokens) and a rate limit per token."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from campaign.api import schemas
from campaign.events.models import Event, EventChange

FUTURE = datetime.now(UTC).replace(microsecond=0) + timedelta(days=40)


def body(**overrides) -> dict:
    values = {
        "title": "Okrugli sto: sajber bezbednost",
        "format": "round_table",
        "start": "2030-05-06T18:00",
        "end": "2030-05-06T20:00",
        "themes": ["cyber-security"],
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not ...}


def send(client, method, url, token, json=None, **headers):
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.http.open(url, method=method, json=json, headers=headers)


def count(db) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(Event))


def test_create_read_change_cancel(
    client, write_token, db, organizer, create_venue, create_partner
):
    venue = create_venue(city="Kragujevac")
    partner = create_partner(slug="univerzitet-kg")
    response = send(
        client,
        "POST",
        "/api/v1/events",
        write_token,
        body(
            status="confirmed",
            start=FUTURE.isoformat(),
            end=(FUTURE + timedelta(hours=2)).isoformat(),
            venue=venue.id,
            partners=[{"slug": "univerzitet-kg", "role": "host"}],
            expected_audience=40,
        ),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert schemas.EventSchema().validate(created) == {}
    assert response.headers["Location"] == f"http://campaign.test/api/v1/events/{created['id']}"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert created["status"] == "confirmed" and created["sequence"] == 0
    assert created["venue"]["city"] == "Kragujevac"
    assert created["partners"] == [{"slug": partner.slug, "name": partner.name, "role": "host"}]
    url = f"/api/v1/events/{created['id']}"
    read = send(client, "GET", url, write_token)
    assert read.get_json() == created and read.headers["ETag"] == response.headers["ETag"]
    assert db.get(Event, created["id"]).owner_id == organizer.id

    # A change of the title only: no new SEQUENCE (calendars keep their copy).
    changed = send(
        client,
        "PATCH",
        url,
        write_token,
        {"title": "Novi naslov"},
        **{"If-Match": read.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["title"] == "Novi naslov"
    assert changed.get_json()["sequence"] == 0
    assert changed.headers["ETag"] == send(client, "GET", url, write_token).headers["ETag"]
    # A change of time: SEQUENCE +1, and the history says who changed what.
    later = (FUTURE + timedelta(hours=1)).isoformat()
    moved = send(
        client,
        "PATCH",
        url,
        write_token,
        {"start": later, "end": (FUTURE + timedelta(hours=3)).isoformat()},
        **{"If-Match": changed.headers["ETag"]},
    )
    assert moved.status_code == 200
    assert moved.get_json()["sequence"] == 1
    assert (
        moved.get_json()["start"]
        == datetime.fromisoformat(later)
        .astimezone(datetime.fromisoformat(moved.get_json()["start"]).tzinfo)
        .isoformat()
    )
    db.rollback()
    history = db.scalars(
        select(EventChange).where(EventChange.event_id == created["id"]).order_by(EventChange.id)
    ).all()
    assert [c.action for c in history] == ["created", "updated", "updated"]
    assert history[1].changes == {"title": ["Okrugli sto: sajber bezbednost", "Novi naslov"]}
    assert history[2].user_id == organizer.id

    cancelled = send(
        client,
        "POST",
        url + "/cancel",
        write_token,
        {"reason": "Bolest predavača"},
        **{"If-Match": moved.headers["ETag"]},
    )
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    assert cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["sequence"] == 2
    db.rollback()
    assert db.get(Event, created["id"]).cancel_reason == "Bolest predavača"
    # A published event is never deleted.
    refused = send(client, "DELETE", url, write_token, **{"If-Match": cancelled.headers["ETag"]})
    assert refused.status_code == 409
    assert refused.content_type == "application/problem+json"


def test_a_new_event_is_a_draft_in_the_campaign_zone(client, write_token):
    response = send(client, "POST", "/api/v1/events", write_token, body())
    assert response.status_code == 201
    created = response.get_json()
    assert created["status"] == "draft"
    assert created["timezone"] == "Europe/Belgrade"
    assert created["start"] == "2030-05-06T18:00:00+02:00"
    # Drafts are deleted, with the ETag of what was read.
    url = f"/api/v1/events/{created['id']}"
    cancel = send(
        client, "POST", url + "/cancel", write_token, **{"If-Match": response.headers["ETag"]}
    )
    assert cancel.status_code == 409  # a draft is deleted, not cancelled
    gone = send(client, "DELETE", url, write_token, **{"If-Match": response.headers["ETag"]})
    assert gone.status_code == 204
    assert send(client, "GET", url, write_token).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ...}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "bad\u202etitle"}, "title"),
        ({"title": 5}, "title"),
        ({"format": "lecture"}, "format"),
        ({"status": "published"}, "status"),
        ({"start": "tomorrow"}, "start"),
        ({"start": "1900-01-01T10:00"}, "start"),
        ({"end": "2030-05-06T17:00"}, "end"),
        ({"end": "2030-08-06T17:00"}, "end"),
        ({"start": "2030-03-31T02:30", "end": "2030-03-31T04:00"}, "start"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"themes": []}, "themes"),
        ({"themes": ["no-such-theme"]}, "themes"),
        ({"themes": ["nul\x00slug"]}, "themes"),
        ({"title": "nul\x00"}, "title"),
        ({"partners": [{"slug": "nobody", "role": "host"}]}, "partners"),
        ({"partners": [{"slug": "x", "role": "boss"}]}, "partners"),
        ({"venue": 999}, "venue"),
        ({"venue": "1"}, "venue"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
        ({"expected_audience": -1}, "expected_audience"),
        ({"attendance": 2.5}, "attendance"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_every_refusal_names_its_field_and_writes_nothing(
    client, write_token, db, overrides, field
):
    before = count(db)
    response = send(client, "POST", "/api/v1/events", write_token, body(**overrides))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert field in problem["errors"], problem
    assert problem["parameter"] in problem["errors"]
    assert schemas.ProblemSchema().validate(problem) == {}
    assert count(db) == before


def test_the_forms_messages_are_the_apis(client, write_token):
    problem = send(
        client, "POST", "/api/v1/events", write_token, body(end="2030-05-06T17:00")
    ).get_json()
    assert problem["errors"]["end"] == "The end must be after the start."


@pytest.mark.parametrize(
    ("data", "headers", "status"),
    [
        ("not json", {"Content-Type": "application/json"}, 400),
        ("[1, 2]", {"Content-Type": "application/json"}, 400),
        ("title=x", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
    ],
)
def test_bodies_that_are_no_json_object(client, write_token, db, data, headers, status):
    before = count(db)
    response = client.http.post(
        "/api/v1/events",
        data=data,
        headers={"Authorization": f"Bearer {write_token}", **headers},
    )
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert count(db) == before


def test_if_match_is_required_and_must_be_current(client, write_token, create_event, db):
    event = create_event(starts_at=FUTURE)
    url = f"/api/v1/events/{event.id}"
    etag = send(client, "GET", url, write_token).headers["ETag"]
    missing = send(client, "PATCH", url, write_token, {"title": "A"})
    assert missing.status_code == 428
    assert missing.get_json()["parameter"] == "If-Match"
    star = send(client, "PATCH", url, write_token, {"title": "A"}, **{"If-Match": "*"})
    assert star.status_code == 428
    weak = send(client, "PATCH", url, write_token, {"title": "A"}, **{"If-Match": "W/" + etag})
    assert weak.status_code == 412
    ok = send(client, "PATCH", url, write_token, {"title": "B"}, **{"If-Match": etag})
    assert ok.status_code == 200
    # Someone changed it after this client read it: its ETag is stale now.
    stale = send(client, "PATCH", url, write_token, {"title": "C"}, **{"If-Match": etag})
    assert stale.status_code == 412
    assert stale.content_type == "application/problem+json"
    for method, path in (("POST", url + "/cancel"), ("DELETE", url)):
        assert send(client, method, path, write_token, **{"If-Match": etag}).status_code == 412
        assert send(client, method, path, write_token).status_code == 428
    db.rollback()
    assert db.get(Event, event.id).title == "B"


def test_a_patch_keeps_what_it_does_not_name(client, write_token, create_event, create_partner):
    partner = create_partner(slug="p-one")
    event = create_event(starts_at=FUTURE, partners=[(partner, "speakers")], themes=["kfor"])
    url = f"/api/v1/events/{event.id}"
    before = send(client, "GET", url, write_token)
    after = send(
        client,
        "PATCH",
        url,
        write_token,
        {"timezone": "Europe/London"},
        **{"If-Match": before.headers["ETag"]},
    )
    assert after.status_code == 200
    old, new = before.get_json(), after.get_json()
    assert new["timezone"] == "Europe/London"
    assert datetime.fromisoformat(new["start"]) == datetime.fromisoformat(old["start"])
    assert new["themes"] == ["kfor"] and new["partners"] == old["partners"]
    assert new["sequence"] == old["sequence"] + 1  # the zone is part of "time"


def test_read_tokens_and_no_tokens_cannot_write(client, read_token, create_event, db):
    event = create_event(starts_at=FUTURE)
    before = count(db)
    refused = send(client, "POST", "/api/v1/events", read_token, body())
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    assert refused.get_json()["parameter"] == "Authorization"
    anonymous = send(client, "POST", "/api/v1/events", None, body())
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    url = f"/api/v1/events/{event.id}"
    etag = send(client, "GET", url, read_token).headers["ETag"]
    for method, path, payload in (
        ("PATCH", url, {"title": "x"}),
        ("POST", url + "/cancel", None),
        ("DELETE", url, None),
    ):
        assert (
            send(client, method, path, read_token, payload, **{"If-Match": etag}).status_code == 403
        )
        assert send(client, method, path, None, payload, **{"If-Match": etag}).status_code == 401
    assert count(db) == before


def test_a_logged_in_cookie_does_not_write(client, auth):
    auth.login()
    response = client.http.post("/api/v1/events", json=body())
    assert response.status_code == 401


def test_writes_are_rate_limited_per_token(app, client, write_token, make_api_token, organizer):
    app.config["API_WRITE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert send(client, "POST", "/api/v1/events", write_token, {"title": ""}).status_code == 422
    limited = send(client, "POST", "/api/v1/events", write_token, body())
    assert limited.status_code == 429
    assert limited.content_type == "application/problem+json"
    other = make_api_token(organizer, "write", "second")
    assert send(client, "POST", "/api/v1/events", other, body()).status_code == 201
    # Reads are not counted.
    assert send(client, "GET", "/api/v1/events", write_token).status_code == 200


def test_an_id_past_the_columns_range_is_404_for_every_method(client, write_token):
    for method in ("GET", "PATCH", "DELETE"):
        response = send(
            client, method, "/api/v1/events/4294967295", write_token, **{"If-Match": '"x"'}
        )
        assert response.status_code == 404, method
        assert response.content_type == "application/problem+json"
    assert send(client, "DELETE", "/api/v1/events", write_token).status_code == 405


def test_refusals_speak_the_requests_language(client, write_token):
    response = send(
        client,
        "POST",
        "/api/v1/events",
        write_token,
        body(format="lecture", themes=["nema-je"]),
        **{"Accept-Language": "sr-Latn"},
    )
    problem = response.get_json()
    assert problem["errors"]["format"] == "Upotrebite jedno od: panel, round_table, seminar."
    missing = send(
        client, "PATCH", "/api/v1/events/1", write_token, {}, **{"Accept-Language": "sr-Latn"}
    )
    assert missing.status_code in (404, 428)


def test_the_docs_page_is_made_from_the_document(client):
    document = client.get("/api/openapi.json").get_json()
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert f'id="{operation["operationId"]}"' in page
            assert f"{method.upper()} {path}" in page
    for field in document["components"]["schemas"]["EventInput"]["properties"]:
        assert f"<code>{field}</code>" in page
    # Nothing from elsewhere and no script: the app's CSP holds as it is.
    assert "<script" not in page and "https://" not in page.split("<main", 1)[-1]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    latin = client.get("/api/docs?lang=sr-Latn").get_data(as_text=True)
    assert "Dokumentacija API-ja" in latin and "Izmena polja događaja" in latin


def test_a_cancel_reason_is_checked_by_the_forms_rule(client, write_token, create_event, db):
    event = create_event(starts_at=FUTURE)
    url = f"/api/v1/events/{event.id}"
    etag = send(client, "GET", url, write_token).headers["ETag"]
    refused = send(
        client, "POST", url + "/cancel", write_token, {"reason": "bad\u202e"}, **{"If-Match": etag}
    )
    assert refused.status_code == 422
    assert "reason" in refused.get_json()["errors"]
    too_long = send(
        client, "POST", url + "/cancel", write_token, {"reason": "x" * 501}, **{"If-Match": etag}
    )
    assert too_long.status_code == 422
    db.rollback()
    assert db.get(Event, event.id).status == "confirmed"


# --- What a hostile client sends: the same token under another spelling of its header,
# JSON nested past the parser's depth, numbers past the database's integers, lone
# surrogates. Each is a clear refusal (never a 500, never a way around the limit).
@pytest.mark.parametrize(
    "spelling",
    ["bearer {}", "BEARER {}", "Bearer  {}", "Bearer {} ", "bEaReR   {}"],
)
def test_another_spelling_of_the_header_is_the_same_token_for_the_limit(
    app, client, write_token, spelling
):
    app.config["API_WRITE_LIMIT"] = "2 per minute"
    for _ in range(2):
        assert send(client, "POST", "/api/v1/events", write_token, {"title": ""}).status_code == 422
    assert send(client, "POST", "/api/v1/events", write_token, body()).status_code == 429
    again = client.http.post(
        "/api/v1/events", json=body(), headers={"Authorization": spelling.format(write_token)}
    )
    assert again.status_code == 429


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("[" * 100_000 + "]" * 100_000, 400),
        ('{"title": ' + "[" * 100_000 + "]" * 100_000 + "}", 400),
    ],
)
def test_json_nested_too_deep_is_a_bad_request(client, write_token, db, raw, status):
    before = count(db)
    response = client.http.post(
        "/api/v1/events",
        data=raw,
        headers={"Authorization": f"Bearer {write_token}", "Content-Type": "application/json"},
    )
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert response.get_json()["parameter"] == "body"
    assert count(db) == before


@pytest.mark.parametrize("venue", [12345678901234567890, 2**63, 2**31])
def test_a_venue_id_past_the_columns_range_is_unknown(client, write_token, db, venue):
    before = count(db)
    response = send(client, "POST", "/api/v1/events", write_token, body(venue=venue))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "venue" in response.get_json()["errors"]
    assert count(db) == before


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('"title": "Okrugli sto \\ud800"', "title"),
        ('"description": "\\udfff"', "description"),
        ('"themes": ["cyber-security", "\\ud83d"]', "themes"),
        ('"partners": [{"slug": "\\ud800", "role": "host"}]', "partners"),
        ('"timezone": "Europe/\\ud800"', "timezone"),
        ('"start": "2030-05-06T18:00\\ud800"', "start"),
    ],
)
def test_a_lone_surrogate_is_refused_by_name(client, write_token, db, raw, field):
    before = count(db)
    payload = (
        '{"format": "round_table", "start": "2030-05-06T18:00", "end": "2030-05-06T20:00", '
        '"title": "Okrugli sto", "themes": ["cyber-security"], ' + raw + "}"
    )
    response = client.http.post(
        "/api/v1/events",
        data=payload,
        headers={"Authorization": f"Bearer {write_token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["errors"]
    assert count(db) == before


def test_a_problem_answered_to_a_token_carries_no_cors_header(client, write_token):
    refused = send(client, "POST", "/api/v1/events", write_token, {"title": ""})
    assert refused.status_code == 422
    assert "Access-Control-Allow-Origin" not in refused.headers
    # A public read's refusal stays readable from other sites.
    public = client.http.get("/api/v1/events?colour=red")
    assert public.status_code == 400
    assert public.headers["Access-Control-Allow-Origin"] == "*"


def test_every_operation_summary_on_the_docs_page_is_translated(client):
    """The document's own entry was left in English on the Serbian page ("This document")."""
    from campaign.api.docs import SUMMARIES

    document = client.get("/api/openapi.json").get_json()
    ids = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    assert ids <= set(SUMMARIES)
    latin = client.get("/api/docs?lang=sr-Latn").get_data(as_text=True)
    assert "— This document" not in latin and "— Ovaj dokument" in latin


def _descriptions(document: dict) -> set[str]:
    """Every description the docs page shows: parameters, fields, answers."""
    found = set()
    for item in document["paths"].values():
        for operation in item.values():
            found |= {
                p["description"] for p in operation.get("parameters", []) if "description" in p
            }
            found |= {r["description"] for r in operation["responses"].values()}
    for schema in document["components"]["schemas"].values():
        found |= {
            f["description"] for f in schema.get("properties", {}).values() if "description" in f
        }
    return found


@pytest.mark.parametrize("lang", ["sr-Latn", "sr-Cyrl"])
def test_the_docs_page_describes_parameters_and_fields_in_the_pages_language(client, lang):
    """Parameter, field and answer descriptions were English on the Serbian page; they are
    translated when the page is made. /api/openapi.json stays English whatever the page's
    language (a contract for programs)."""
    english = client.get("/api/openapi.json").get_json()
    serbian = client.get("/api/openapi.json", headers={"Accept-Language": lang})
    assert serbian.get_json() == english
    descriptions = _descriptions(english)
    assert len(descriptions) > 40
    page = html.unescape(client.get(f"/api/docs?lang={lang}").get_data(as_text=True))
    left = sorted(
        d for d in descriptions if re.sub(r"`([^`]*)`", r"\1", d) in re.sub(r"<[^>]+>", "", page)
    )
    assert left == []
    words = {
        "sr-Latn": ("Broj stavki po strani (podrazumevano 25).", "Nema takvog događaja."),
        "sr-Cyrl": ("Број ставки по страни (подразумевано 25).", "Нема таквог догађаја."),
    }[lang]
    for text in words:
        assert text in page
    # Names a program sends stay as written, in a code element.
    assert "<code>If-Match</code>" in page and "<code>timezone</code>" in page
    assert "upit" in page.lower() or "упит" in page.lower()  # the "In" column: query


def test_the_english_docs_page_shows_code_names_as_code(client):
    page = client.get("/api/docs").get_data(as_text=True)
    assert "Opaque: the <code>next</code> URL of the previous page carries it." in page
    assert "Items per page (default 25)." in page
