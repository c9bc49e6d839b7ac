"""The OpenAPI document is generated from the code and holds.

Schemathesis (a tool nobody here wrote) sends what the document allows, and what it
forbids, to the live app on each backend, anonymously and with an organizer's token: no
5xx, every answer conforms to the document (status, content type, headers, body), and a
request the document calls invalid is refused. (The pytest plugin's ``from_fixture`` does
not run on pytest 9, so the strategies of each operation are driven with hypothesis here.)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate as validate_openapi
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from campaign.api import schemas


@pytest.fixture
def seeded(create_event, create_venue, create_partner, organizer):
    venue = create_venue(city="Niš")
    partner = create_partner(slug="ngo-one")
    for n in range(3):
        create_event(
            starts_at=datetime(2020, 5, 1, 9, tzinfo=UTC) + timedelta(days=n),
            venue=venue,
            partners=[(partner, "speakers")],
            owner=organizer,
        )
    create_event(title="Draft", status="draft", owner=organizer)
    return organizer


def test_the_document_is_valid_openapi_3_1(client):
    response = client.get("/api/openapi.json")
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate_openapi(document)
    assert set(document["paths"]) == {
        "/api/v1/events",
        "/api/v1/events/{event_id}",
        "/api/v1/events/{event_id}/cancel",
        "/api/v1/themes",
        "/api/v1/partners",
        "/api/v1/venues",
        "/api/openapi.json",
    }
    # Generated from the code: the events list takes exactly the EventFilter's parameters.
    from campaign.events.filters import FILTER_PARAMS

    names = {p["name"] for p in document["paths"]["/api/v1/events"]["get"]["parameters"]}
    assert names == {*FILTER_PARAMS, "cursor", "limit", "If-None-Match"}
    event = document["components"]["schemas"]["Event"]
    assert set(event["properties"]) == schemas.parameter_names(schemas.EventSchema)
    assert json.dumps(document)  # plain JSON, no Python objects left


WRITES = {"POST", "PATCH", "DELETE"}


@pytest.mark.slow
@pytest.mark.parametrize("who", ["anonymous", "read", "write"])
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_the_api_keeps_its_contract(app, seeded, make_api_token, who, mode):
    app.config["API_WRITE_LIMIT"] = "100000 per minute"  # the writes are the point here
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    token = make_api_token(seeded, who) if who != "anonymous" else None
    headers = {"Authorization": f"Bearer {token}"} if token else None
    operations = [result.ok() for result in schema.get_all_operations()]
    reads = [op for op in operations if op.method.upper() == "GET"]
    assert len(reads) == 5  # Schemathesis leaves out the document's own path
    assert len([op for op in operations if op.method.upper() in WRITES]) == 4
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=30 if operation in reads else 20,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            # Every check but "a schema-valid request is accepted": which slugs and cities
            # exist is data, not schema, and an unknown one is a 400 by contract (DESIGN.md).
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()


@pytest.mark.slow
def test_the_links_create_read_change_cancel(app, seeded, make_api_token):
    """Schemathesis follows the document's links with a write token: an event made by
    POST is read, changed with the ETag it was given (If-Match), cancelled or deleted;
    every answer on the way keeps the contract."""
    app.config["API_WRITE_LIMIT"] = "100000 per minute"
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    headers = {"Authorization": f"Bearer {make_api_token(seeded, 'write')}"}
    statuses: dict[str, set[int]] = {}

    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)

    class Links(schema.as_state_machine()):
        def before_call(self, case):
            # A case made to break the schema goes as it was made: adding the token it
            # lacks or the valid times below would make it a valid request, which the
            # server rightly accepts (and schemathesis would count that against it).
            negative = case.meta is not None and case.meta.generation.mode.is_negative
            if negative and case.meta.is_negative_at(ParameterLocation.HEADER):
                return
            # The token goes with the case's own headers (which carry If-Match from a link).
            case.headers = {**(case.headers or {}), **headers}
            if negative:
                return
            # Which themes exist is data, not schema: new events name a real one, are
            # published and lie ahead (so they can be cancelled); changes leave those alone.
            # Every other field stays as generated.
            if case.method.upper() == "POST" and case.path == "/api/v1/events":
                if isinstance(case.body, dict):
                    case.body.update(
                        status="confirmed",
                        themes=["eadrcc"],
                        start=start.isoformat(),
                        end=(start + timedelta(hours=2)).isoformat(),
                    )
                    for name in ("partners", "venue", "timezone", "online_url"):
                        case.body.pop(name, None)
            elif case.method.upper() == "PATCH" and isinstance(case.body, dict):
                for name in (
                    "themes",
                    "partners",
                    "venue",
                    "timezone",
                    "start",
                    "end",
                    "online_url",
                ):
                    case.body.pop(name, None)

        def after_call(self, response, case):
            super().after_call(response, case)
            key = f"{case.operation.method.upper()} {case.operation.path}"
            statuses.setdefault(key, set()).add(response.status_code)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # ignored_auth would repeat the request with the token still in the transport
            # headers; tokenless writes are 401 in test_the_api_keeps_its_contract.
            case.validate_response(
                response,
                excluded_checks=[positive_data_acceptance, ignored_auth],
                transport_kwargs=kwargs or None,
            )

    Links.run(
        settings=settings(
            max_examples=40,
            stateful_step_count=4,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    # The chain was walked, not only its first step.
    assert 201 in statuses.get("POST /api/v1/events", set()), statuses
    followed = statuses.get("PATCH /api/v1/events/{event_id}", set()) | statuses.get(
        "POST /api/v1/events/{event_id}/cancel", set()
    )
    assert 200 in followed, statuses  # a change or cancellation with the ETag of a link
