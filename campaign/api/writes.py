"""The write API: POST /api/v1/events, PATCH and DELETE /api/v1/events/<id>, POST
/api/v1/events/<id>/cancel.

Thin routes over ``events.operations`` (the forms' write path: same validation, history,
SEQUENCE rules, one transaction each). A write needs a token with the ``write`` scope,
names the version it changes with ``If-Match`` (the strong ETag of GET
/api/v1/events/<id>; 428 without it, 412 when stale) and is counted per token by the
rate limit. Refused bodies are problem+json naming each field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app, request
from flask_babel import gettext
from marshmallow import ValidationError as SchemaError
from sqlalchemy import select

from ..auth.views import limiter
from ..catalog.models import Partner, Theme, Venue
from ..core import validation as rules
from ..core.errors import ConflictError, NotAllowed, ValidationError
from ..db import get_session
from ..events import operations as ops
from ..events.filters import event_list_loading
from ..events.models import Event, EventStatus
from ..exports.rows import event_json
from . import schemas
from .problems import ApiProblem
from .tokens import rate_key, writer
from .views import _only, answer, bp, encode, etag_of

# Field names of the operations layer, as the API calls them.
API_FIELDS = {"starts_at": "start", "ends_at": "end", "cancel_reason": "reason"}


def _write_limit() -> str:
    return current_app.config["API_WRITE_LIMIT"]


def _limited(view):
    return limiter.limit(_write_limit, key_func=rate_key, scope="api-write")(view)


def _refused(errors: dict[str, str], status: int = 422):
    named = {API_FIELDS.get(k, k): v for k, v in errors.items()}
    first = next(iter(named))
    raise ApiProblem(
        status,
        gettext("These fields cannot be used: %(fields)s", fields=", ".join(named)),
        parameter=first,
        errors=named,
    )


def _body(schema) -> dict:
    """The request's JSON object, checked against the schema the document shows."""
    if not request.is_json:
        raise ApiProblem(
            415,
            gettext("send the body as JSON (%(header)s)", header="Content-Type: application/json"),
            parameter="Content-Type",
        )
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes
        raise ApiProblem(
            400, gettext("the body's JSON is nested too deeply"), parameter="body"
        ) from None
    if not isinstance(payload, dict):
        raise ApiProblem(400, gettext("the body is not a JSON object"), parameter="body")
    try:
        return schema().load(payload)
    except SchemaError as exc:
        _refused(
            {
                str(name): " ".join(_flatten(messages))
                for name, messages in exc.normalized_messages().items()
            }
        )


# marshmallow's own messages (English), said in the request's language.
_SCHEMA_MESSAGES = [
    (
        re.compile(r"Unknown field\."),
        lambda m: gettext("This field is unknown; the document lists the fields."),
    ),
    (
        re.compile(r"Missing data for required field\."),
        lambda m: gettext("This field is required."),
    ),
    (re.compile(r"Field may not be null\."), lambda m: gettext("This field cannot be null.")),
    (re.compile(r"Not a valid string\."), lambda m: gettext("Give text (a JSON string).")),
    (re.compile(r"Not a valid integer\."), lambda m: gettext("Give a whole number.")),
    (re.compile(r"Not a valid list\."), lambda m: gettext("Give a list (a JSON array).")),
    (re.compile(r"Invalid input type\."), lambda m: gettext("Give an object (a JSON object).")),
    (
        re.compile(r"Must be one of: (.*)\."),
        lambda m: gettext("Use one of: %(choices)s.", choices=m.group(1)),
    ),
    (
        re.compile(r"Length must be between (\d+) and (\d+)\."),
        lambda m: gettext("Give from %(min)s to %(max)s.", min=m.group(1), max=m.group(2)),
    ),
    (
        re.compile(r"Shorter than minimum length (\d+)\."),
        lambda m: gettext("Give at least %(min)s.", min=m.group(1)),
    ),
    (
        re.compile(r"Longer than maximum length (\d+)\."),
        lambda m: gettext("Give at most %(max)s.", max=m.group(1)),
    ),
    (
        re.compile(r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\."),
        lambda m: gettext("Give a number from %(min)s to %(max)s.", min=m.group(1), max=m.group(2)),
    ),
    (
        re.compile(r"Must be greater than or equal to (\S+)\."),
        lambda m: gettext("Give a number of at least %(min)s.", min=m.group(1)),
    ),
]


def _said(message: str) -> str:
    for pattern, say in _SCHEMA_MESSAGES:
        if found := pattern.fullmatch(message):
            return say(found)
    return message


def _flatten(messages) -> list[str]:
    if isinstance(messages, str):
        return [_said(messages)]
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flatten(value)]
    return [m for value in messages for m in _flatten(value)]


def _instant(raw: str, zone_name: str, name: str, errors: dict) -> datetime | None:
    """ISO 8601: with an offset, that instant; without, the wall-clock time in the zone
    (a time the clocks skip is refused, as on the form)."""
    zone = ZoneInfo(zone_name) if rules.is_iana_zone(zone_name) else None
    try:
        value = datetime.fromisoformat(raw)
        if rules.date_in_window(value.replace(tzinfo=None)):
            rules.add(errors, name, rules.date_in_window(value.replace(tzinfo=None)))
            return None
        if value.tzinfo is None:
            if not zone:
                return None  # the zone's own error says why
            local = value.replace(tzinfo=zone)
            if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
                errors[name] = gettext(
                    "%(time)s does not exist in %(zone)s: the clocks skip that hour.",
                    time=raw,
                    zone=zone_name,
                )
                return None
            return local.astimezone(UTC)
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        errors[name] = gettext(
            "Give a date and time as YYYY-MM-DDTHH:MM, optionally with a UTC offset."
        )
        return None


def _known(model, slugs: list[str]) -> dict:
    """The rows of these slugs; a string that cannot be a slug is not looked up at all."""
    usable = [s for s in slugs if rules.slug(s) is None]
    if not usable:
        return {}
    return {
        row.slug: row for row in get_session().scalars(select(model).where(model.slug.in_(usable)))
    }


def _apply(data: ops.EventData, body: dict) -> None:
    """Put the body's fields into ``data``; unknown slugs and venues are refused by name."""
    session = get_session()
    errors: dict[str, str] = {}
    for name in ("title", "format", "status", "online_url", "description", "title_en"):
        if name in body:
            setattr(data, name, body[name])
    if "description_en" in body:
        data.description_en = body["description_en"]
    for name in ("expected_audience", "attendance"):
        if name in body:
            setattr(data, name, body[name])
    # A new zone alone keeps the instants (only how they are shown changes).
    if "timezone" in body:
        data.timezone = body["timezone"]
    for key, attr in (("start", "starts_at"), ("end", "ends_at")):
        if key in body:
            setattr(data, attr, _instant(body[key], data.timezone, attr, errors))
    if "venue" in body:
        data.venue = None
        if body["venue"] is not None:
            data.venue = session.get(Venue, body["venue"])
            if data.venue is None:
                errors["venue"] = gettext("There is no venue %(id)s.", id=body["venue"])
    if "themes" in body:
        slugs = list(dict.fromkeys(body["themes"]))
        found = _known(Theme, slugs)
        missing = [s for s in slugs if s not in found]
        if missing:
            errors["themes"] = gettext("Unknown theme '%(slug)s'.", slug=missing[0][:100])
        data.themes = [found[s] for s in slugs if s in found]
    if "partners" in body:
        slugs = list(dict.fromkeys(p["slug"] for p in body["partners"]))
        found = _known(Partner, slugs)
        missing = [s for s in slugs if s not in found]
        if missing:
            errors["partners"] = gettext("Unknown partner '%(slug)s'.", slug=missing[0][:100])
        pairs = dict.fromkeys((p["slug"], p["role"]) for p in body["partners"])
        data.partners = [(found[s], role) for s, role in pairs if s in found]
    if errors:
        session.rollback()
        _refused(errors)


def _event(event_id: int) -> Event:
    event = get_session().scalar(
        select(Event)
        .where(Event.id == event_id)
        .options(*event_list_loading())
        .execution_options(populate_existing=True)
    )
    if event is None:
        raise ApiProblem(404, gettext("There is no event %(id)s.", id=event_id))
    return event


def _representation(event: Event) -> dict:
    return event_json(event, current_app.config["SITE_URL"])


def _if_match(event: Event) -> int:
    """The version the client changes: the ETag it sends must be the event's current one."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        raise ApiProblem(
            428,
            gettext(
                "send %(header)s with the ETag of %(request)s, so a change made meanwhile is "
                "not overwritten",
                header="If-Match",
                request=f"GET /api/v1/events/{event.id}",
            ),
            parameter="If-Match",
        )
    current = etag_of(encode(_representation(event)))
    if not request.if_match.contains(current):  # strong comparison (RFC 9110 13.1.1)
        raise ApiProblem(
            412,
            gettext(
                "the event was changed after you read it; read it again and repeat your change"
            ),
            parameter="If-Match",
        )
    return event.version


def _run(operation, *args):
    """An operation's refusals as problems: 422 with the fields, 412 when someone saved
    meanwhile, 409 when the event's state does not allow it."""
    try:
        return operation(*args)
    except ValidationError as exc:
        _refused(exc.errors)
    except ConflictError as exc:
        raise ApiProblem(412, str(exc), parameter="If-Match") from None
    except NotAllowed as exc:
        raise ApiProblem(409, str(exc)) from None


def _written(event_id: int, status: int = 200):
    response = answer(_representation(_event(event_id)), private=True, status=status)
    return response


@bp.post("/v1/events")
@_limited
def create_event():
    _only(None)
    token = writer()
    body = _body(schemas.EventInputSchema)
    data = ops.EventData(
        title="",
        format="",
        status=EventStatus.draft.value,
        starts_at=None,
        ends_at=None,
        timezone=current_app.config["TIMEZONE"],
    )
    _apply(data, body)
    event = _run(ops.create_event, get_session(), token.user, data)
    response = _written(event.id, status=201)
    response.headers["Location"] = current_app.config["SITE_URL"].rstrip("/") + (
        f"/api/v1/events/{event.id}"
    )
    return response


@bp.patch("/v1/events/<id:event_id>")
@_limited
def change_event(event_id: int):
    _only(None)
    token = writer()
    event = _event(event_id)
    body = _body(schemas.EventChangeSchema)
    version = _if_match(event)
    data = ops.event_data(event)
    _apply(data, body)
    _run(ops.update_event, get_session(), token.user, event, data, version)
    return _written(event_id)


@bp.post("/v1/events/<id:event_id>/cancel")
@_limited
def cancel_event(event_id: int):
    _only(None)
    token = writer()
    event = _event(event_id)
    body = _body(schemas.CancelSchema) if request.content_length else {}
    version = _if_match(event)
    _run(ops.cancel_event, get_session(), token.user, event, version, body.get("reason", ""))
    return _written(event_id)


@bp.delete("/v1/events/<id:event_id>")
@_limited
def delete_event(event_id: int):
    _only(None)
    token = writer()
    event = _event(event_id)
    version = _if_match(event)
    _run(ops.delete_event, get_session(), token.user, event, version)
    response = current_app.response_class(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response
