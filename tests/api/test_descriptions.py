"""The API's documentation is complete: every field, parameter, answer, answer header and
request body of the served OpenAPI document has a description, and /api/docs shows each
of them in the page's language, as the Serbian catalogue translates it."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from campaign.api import descriptions

CATALOGUE = (
    Path(__file__).resolve().parents[2]
    / "campaign"
    / "translations"
    / "sr_Latn"
    / "LC_MESSAGES"
    / "messages.po"
)


def described_parts(document: dict) -> list[tuple[str, dict]]:
    """(where, the part) for every part a reader needs described."""
    parts = []
    for name, schema in document["components"]["schemas"].items():
        for field, spec in schema.get("properties", {}).items():
            parts.append((f"schema {name}.{field}", spec))
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                parts.append(
                    (f"{where} {parameter['in']} parameter {parameter['name']}", parameter)
                )
            if "requestBody" in operation:
                parts.append((f"{where} request body", operation["requestBody"]))
            for code, response in operation["responses"].items():
                parts.append((f"{where} answer {code}", response))
                for header, spec in response.get("headers", {}).items():
                    parts.append((f"{where} answer {code} header {header}", spec))
    return parts


def test_every_part_of_the_document_is_described(client):
    document = client.get("/api/openapi.json").get_json()
    parts = described_parts(document)
    assert len(parts) > 200
    undescribed = [where for where, spec in parts if not str(spec.get("description", "")).strip()]
    assert undescribed == []


def _text(page: str) -> str:
    """The page as a reader sees it: no tags, entities decoded, one space between words."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _shown(description: str) -> str:
    """A description as the page shows it (back-quoted names become code elements)."""
    return " ".join(description.replace("`", " ").split())


def test_every_description_has_its_serbian_translation_in_the_catalogue(client):
    document = client.get("/api/openapi.json").get_json()
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    english = {spec.get("description", "") for _, spec in described_parts(document)}
    untranslated = []
    for description in sorted(english):
        message_id = descriptions.message_of(description)
        entry = catalogue.get(message_id)
        if entry is None or not entry.string or entry.fuzzy:
            untranslated.append(message_id)
    assert untranslated == []


@pytest.mark.parametrize("lang", ["sr-Latn", "sr-Cyrl"])
def test_the_serbian_docs_page_leaves_no_description_in_english(app, client, lang):
    document = client.get("/api/openapi.json").get_json()
    page = _text(client.get(f"/api/docs?lang={lang}").get_data(as_text=True))
    english = sorted({spec.get("description", "") for _, spec in described_parts(document)})
    with app.test_request_context(f"/api/docs?lang={lang}"):
        serbian = {d: descriptions.translated(d) for d in english}
    same = [d for d in english if serbian[d] == d]
    assert same == []
    missing = [serbian[d] for d in english if _shown(serbian[d]) not in page]
    assert missing == []
    left = [d for d in english if _shown(d) in page]
    assert left == []


def test_the_docs_page_shows_every_shape_and_a_nested_shape_or_null(client):
    """The event's `venue` (a nested shape or null) had an empty type on the page; the shapes
    the event, the lists and the writes nest (VenueRef, EventPartner, PartnerInput) and the
    pages had no section."""
    document = client.get("/api/openapi.json").get_json()
    page = client.get("/api/docs").get_data(as_text=True)
    assert "<td><code>venue</code></td><td>VenueRef | null</td>" in page
    for name in document["components"]["schemas"]:
        assert f'id="{name}"' in page
