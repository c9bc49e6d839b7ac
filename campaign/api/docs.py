"""/api/docs: the OpenAPI document as a readable page, rendered on the server from the
same dict as /api/openapi.json (no second description, no script, nothing from a CDN, so
the app's CSP holds). Headings, summaries and the descriptions of parameters, fields and
answers are in the page's language (``descriptions.translated``); the document itself,
/api/openapi.json, stays English."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from . import openapi
from .descriptions import as_html, translated

bp = Blueprint("api_docs", __name__)

SUMMARIES = {
    "events": _l("Events matching the filter, in start order"),
    "event": _l("One event"),
    "themes": _l("Themes"),
    "partners": _l("Partners (public fields)"),
    "venues": _l("Venues"),
    "create_event": _l("Create an event"),
    "change_event": _l("Change an event's fields"),
    "cancel_event": _l("Cancel a published event"),
    "delete_event": _l("Delete a draft"),
    "openapi_document": _l("This document"),
}
METHODS = ("get", "post", "patch", "delete")
# The document's other shapes, each in a section of its own (the event and the problem
# have theirs; request bodies are shown with their operation).
SHAPES = {
    "EventPage": _l("A page of events"),
    "VenueRef": _l("An event's venue"),
    "EventPartner": _l("An event's partner"),
    "ThemePage": _l("A page of themes"),
    "Theme": _l("A theme"),
    "PartnerPage": _l("A page of partners"),
    "Partner": _l("A partner"),
    "VenuePage": _l("A page of venues"),
    "Venue": _l("A venue"),
    "PartnerInput": _l("A partner of an event being written"),
}
# Where a parameter goes (OpenAPI's ``in``).
PLACES = {"query": _l("query"), "header": _l("header"), "path": _l("path")}


def _description(spec: dict):
    return as_html(translated(spec.get("description", "")))


def _answer(code: str, response: dict) -> dict:
    content = response.get("content", {})
    schema = next(iter(content.values()), {}).get("schema", {}) if content else {}
    return {
        "code": code,
        "description": _description(response),
        "shape": _ref_name(schema),
        "headers": [
            (name, _description(header)) for name, header in response.get("headers", {}).items()
        ],
    }


def _ref_name(schema: dict) -> str | None:
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


def _type(schema: dict) -> str:
    if name := _ref_name(schema):
        return name
    if "anyOf" in schema:  # a nested shape or null
        return " | ".join(_type(option) for option in schema["anyOf"])
    kind = schema.get("type", "")
    if isinstance(kind, list):
        kind = " | ".join(kind)
    if kind == "array":
        return gettext("array of %(items)s", items=_type(schema.get("items", {})))
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"] if v is not None)
    return kind + (f" ({schema['format']})" if "format" in schema else "")


def _fields(document: dict, name: str) -> list[dict]:
    schema = document["components"]["schemas"].get(name, {})
    required = set(schema.get("required", []))
    return [
        {
            "name": field,
            "type": _type(spec),
            "required": field in required,
            "description": _description(spec),
        }
        for field, spec in schema.get("properties", {}).items()
    ]


def operations(document: dict) -> list[dict]:
    found = []
    for path, item in document["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            body_name = _ref_name(body.get("schema", {})) if body else None
            found.append(
                {
                    "id": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": SUMMARIES.get(op["operationId"], op["summary"]),
                    "needs_write": any(
                        "write" in s.get("bearer", []) for s in op.get("security", [])
                    ),
                    "takes_token": "security" in op,
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": PLACES.get(p["in"], p["in"]),
                            "type": _type(p.get("schema", {})),
                            "required": p.get("required", False),
                            "description": _description(p),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": _fields(document, body_name) if body_name else [],
                    "body_name": body_name,
                    "body_description": _description(op.get("requestBody", {})),
                    "responses": [
                        _answer(code, response)
                        for code, response in sorted(op["responses"].items())
                    ],
                }
            )
    return found


@bp.get("/api/docs")
def docs():
    document = openapi.document(current_app)
    return render_template(
        "api/docs.html",
        document=document,
        operations=operations(document),
        event_fields=_fields(document, "Event"),
        problem_fields=_fields(document, "Problem"),
        shapes=[
            {"name": name, "title": title, "fields": _fields(document, name)}
            for name, title in SHAPES.items()
            if name in document["components"]["schemas"]
        ],
    )
