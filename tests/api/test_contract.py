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
from schemathesis.specs.openapi.checks import positive_data_acceptance

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


@pytest.mark.slow
@pytest.mark.parametrize("with_token", [False, True], ids=["anonymous", "token"])
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_the_api_keeps_its_contract(app, seeded, read_token, with_token, mode):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    headers = {"Authorization": f"Bearer {read_token}"} if with_token else None
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 5  # Schemathesis leaves out the document's own path
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            # Every check but "a schema-valid request is accepted": which slugs and cities
            # exist is data, not schema, and an unknown one is a 400 by contract (DESIGN.md).
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()
