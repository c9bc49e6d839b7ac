"""The API's shapes as marshmallow schemas: the OpenAPI document is generated from these
(apispec), and the tests check every answer against them.

The event shape is the JSON export's (``exports.rows.event_json``): an event looks the
same in ``/events.json``, the API and the feed. ``tests/api`` checks that every key of
``event_json`` is described here and nothing more.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from ..catalog.models import PartnerKind
from ..core import validation as rules
from ..events.filters import MAX_QUERY_LENGTH, MAX_VALUES
from ..events.models import EventFormat, EventStatus, PartnerRole
from .descriptions import N_, described

MAX_LIMIT = 100
DEFAULT_LIMIT = 25
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _text(**kwargs):
    return fields.String(required=True, **kwargs)


def _instant(description: str):
    return fields.String(
        required=True,
        metadata={"format": "date-time", "description": description},
    )


class VenueRefSchema(Schema):
    name = _text()
    city = _text()
    address = _text()


class EventPartnerSchema(Schema):
    slug = _text()
    name = _text()
    role = _text(validate=validate.OneOf([r.value for r in PartnerRole]))


class EventSchema(Schema):
    """One event, exactly as the JSON export writes it."""

    id = fields.Integer(required=True)
    uid = _text(metadata={"description": N_("Stable identifier; the feed's UID.")})
    url = _text(metadata={"format": "uri", "description": N_("The event's page.")})
    title = _text()
    format = _text(validate=validate.OneOf([f.value for f in EventFormat]))
    status = _text(validate=validate.OneOf([s.value for s in EventStatus]))
    start = _instant(N_("Start in the event's own zone, with its UTC offset."))
    end = _instant(N_("End in the event's own zone, with its UTC offset."))
    timezone = _text(metadata={"description": N_("IANA zone name.")})
    venue = fields.Nested(VenueRefSchema, required=True, allow_none=True)
    online_url = fields.String(required=True, allow_none=True)
    themes = fields.List(
        fields.String(), required=True, metadata={"description": N_("Theme slugs.")}
    )
    partners = fields.List(fields.Nested(EventPartnerSchema), required=True)
    sequence = fields.Integer(
        required=True,
        metadata={
            "description": N_("The feed's SEQUENCE: +1 per change of time, place or status.")
        },
    )
    updated = _instant(N_("Last change, in the event's zone."))
    description = _text()


class ThemeSchema(Schema):
    id = fields.Integer(required=True)
    slug = _text()
    name = _text()
    name_en = _text()
    description = _text()
    key_messages = _text()
    colour = _text()
    url = _text(metadata={"format": "uri"})
    events = _text(metadata={"format": "uri", "description": N_("This theme's events in the API.")})


class PartnerSchema(Schema):
    id = fields.Integer(required=True)
    slug = _text()
    name = _text()
    name_en = _text()
    kind = _text(validate=validate.OneOf([k.value for k in PartnerKind]))
    city = _text()
    website = _text()
    url = _text(metadata={"format": "uri"})
    events = _text(
        metadata={"format": "uri", "description": N_("This partner's events in the API.")}
    )


class VenueSchema(Schema):
    id = fields.Integer(required=True)
    name = _text()
    city = _text()
    address = _text()
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)
    capacity = fields.Integer(required=True, allow_none=True)


def _page_of(item_schema, key: str, next_page: str):
    return type(
        f"{item_schema.__name__.removesuffix('Schema')}PageSchema",
        (Schema,),
        {
            key: fields.List(fields.Nested(item_schema), required=True),
            "next": fields.String(
                required=True,
                allow_none=True,
                metadata={
                    "format": "uri",
                    "description": next_page,
                },
            ),
        },
    )


EventPageSchema = _page_of(
    EventSchema,
    "events",
    N_("The next page of events (also in the Link header), or null on the last page."),
)
ThemePageSchema = _page_of(
    ThemeSchema,
    "themes",
    N_("The next page of themes (also in the Link header), or null on the last page."),
)
PartnerPageSchema = _page_of(
    PartnerSchema,
    "partners",
    N_("The next page of partners (also in the Link header), or null on the last page."),
)
VenuePageSchema = _page_of(
    VenueSchema,
    "venues",
    N_("The next page of venues (also in the Link header), or null on the last page."),
)


class ProblemSchema(Schema):
    """RFC 9457 problem details, plus the parameter at fault."""

    type = _text()
    title = _text()
    status = fields.Integer(required=True)
    detail = _text()
    parameter = fields.String(
        metadata={
            "description": N_(
                "The query parameter, header or body field that was refused "
                "(the first, when several were)."
            )
        }
    )
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": N_("For a refused request body: each field at fault and why.")},
    )


# -- query parameters --------------------------------------------------------------------


def _many(description: str, **kwargs):
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=MAX_QUERY_LENGTH), **kwargs),
        validate=validate.Length(max=MAX_VALUES),
        metadata={"description": description},
    )


class PageQuerySchema(Schema):
    cursor = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": N_("Opaque: the `next` URL of the previous page carries it.")},
    )
    limit = fields.Integer(
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": described(N_("Items per page (default %(n)s)."), n=DEFAULT_LIMIT)},
    )


class EventQuerySchema(PageQuerySchema):
    """The EventFilter's parameters (``events.filters.FILTER_PARAMS``), as every list has them."""

    theme = _many(N_("Theme slugs (any of)."))
    partner = _many(N_("Partner slugs (any of)."))
    format = fields.List(
        fields.String(validate=validate.OneOf([f.value for f in EventFormat])),
        validate=validate.Length(max=MAX_VALUES),
        metadata={"description": N_("Event formats (any of).")},
    )
    city = _many(N_("Venue cities, case-insensitive (any of)."))
    status = fields.List(
        fields.String(validate=validate.OneOf([s.value for s in EventStatus])),
        validate=validate.Length(max=MAX_VALUES),
        metadata={"description": N_("Statuses; `draft` only with an organizer's token.")},
    )
    from_ = fields.String(
        data_key="from",
        validate=validate.Regexp(DATE_PATTERN),
        metadata={
            "format": "date",
            "description": described(
                N_("First day (YYYY-MM-DD, campaign zone), %(first)s–%(last)s."),
                first=rules.FIRST_YEAR,
                last=rules.LAST_YEAR,
            ),
        },
    )
    to = fields.String(
        validate=validate.Regexp(DATE_PATTERN),
        metadata={"format": "date", "description": N_("Last day, inclusive.")},
    )
    dates = fields.String(
        validate=validate.OneOf(["start"]),
        metadata={
            "description": N_(
                "`start`: from and to match the day an event starts "
                "(default: any part of the event in the range)."
            )
        },
    )
    q = fields.String(
        validate=validate.Length(min=1, max=MAX_QUERY_LENGTH),
        metadata={"description": N_("Words that must all appear.")},
    )
    online = fields.String(
        validate=validate.OneOf(["only"]),
        metadata={"description": N_("`only`: events without a venue (online only).")},
    )
    attendance = fields.String(
        validate=validate.OneOf(["recorded"]),
        metadata={
            "description": N_(
                "`recorded`: events whose attendance was recorded; only with an organizer's token."
            )
        },
    )
    series = fields.String(
        validate=validate.Regexp(r"^[0-9]{1,9}$"),
        metadata={"description": N_("The number of a touring or recurring series.")},
    )


def parameter_names(schema: type[Schema]) -> set[str]:
    """The query parameters a schema allows (by their names in the URL)."""
    return {f.data_key or name for name, f in schema._declared_fields.items()}


def repeatable_names(schema: type[Schema]) -> set[str]:
    """The query parameters that may be given more than once (arrays in the document)."""
    return {
        f.data_key or name
        for name, f in schema._declared_fields.items()
        if isinstance(f, fields.List)
    }


# -- writing -----------------------------------------------------------------------------
# What a client sends. The same schema checks the request body (marshmallow) and describes
# it in the document (apispec), so nothing the document calls invalid is accepted; the
# operations layer's rules (core/validation.py, as for the forms) then decide the rest.

MAX_TITLE = 200
MAX_TEXT = 100_000
MAX_URL = 2000
MAX_SLUGS = 50


class WholeNumber(fields.Integer):
    """A JSON Schema integer: a number without a fraction (``5`` or ``5.0``), never a string
    or a boolean, so exactly what the document allows is accepted."""

    def _validated(self, value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid", input=value)
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class PartnerInputSchema(_Strict):
    slug = fields.String(required=True, validate=validate.Length(min=1, max=100))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in PartnerRole]))


def _event_input_fields(required: bool) -> dict:
    """The writable fields; ``required`` for a new event, all optional for a change."""

    def need(**kwargs):
        return {"required": True, **kwargs} if required else kwargs

    def instant(description):
        return fields.String(
            validate=validate.Length(min=10, max=40),
            metadata={"format": "date-time", "description": description},
            **need(),
        )

    return {
        "title": fields.String(validate=validate.Length(min=1, max=MAX_TITLE), **need()),
        "format": fields.String(validate=validate.OneOf([f.value for f in EventFormat]), **need()),
        "status": fields.String(
            validate=validate.OneOf([s.value for s in EventStatus]),
            metadata={
                "description": N_("A new event is a `draft` unless told otherwise.")
                if required
                else N_(
                    "A published event (`confirmed` or `cancelled`) never becomes a `draft` "
                    "again (cancel it: subscribed calendars learn of it), and an event that "
                    "has ended, or would end in the past with this change, cannot become "
                    "`cancelled`: both are 422 naming `status`. `cancelled` back to "
                    "`confirmed` reinstates an event."
                )
            },
        ),
        "start": instant(
            N_(
                "ISO 8601; with a UTC offset it is that instant, without one the wall-clock "
                "time in `timezone`."
            )
        ),
        "end": instant(N_("As `start`; after it, and at most a few weeks later.")),
        "timezone": fields.String(
            validate=validate.Length(min=1, max=64),
            metadata={"description": N_("IANA zone name (default: the campaign's zone).")},
        ),
        "venue": WholeNumber(
            allow_none=True,
            validate=validate.Range(min=1, max=rules.MAX_ID),
            metadata={"description": N_("The venue's `id` (see /api/v1/venues), or null.")},
        ),
        "online_url": fields.String(validate=validate.Length(max=MAX_URL)),
        "description": fields.String(validate=validate.Length(max=MAX_TEXT)),
        "title_en": fields.String(validate=validate.Length(max=MAX_TITLE)),
        "description_en": fields.String(validate=validate.Length(max=MAX_TEXT)),
        "themes": fields.List(
            fields.String(validate=validate.Length(min=1, max=100)),
            validate=validate.Length(min=1, max=MAX_SLUGS),
            metadata={"description": N_("Theme slugs; at least one.")},
            **need(),
        ),
        "partners": fields.List(
            fields.Nested(PartnerInputSchema),
            validate=validate.Length(max=MAX_SLUGS),
            metadata={"description": N_("Partner slugs, each with its role.")},
        ),
        "expected_audience": WholeNumber(
            allow_none=True, validate=validate.Range(min=0, max=rules.MAX_PEOPLE)
        ),
        "attendance": WholeNumber(
            allow_none=True, validate=validate.Range(min=0, max=rules.MAX_PEOPLE)
        ),
    }


EventInputSchema = type(
    "EventInputSchema",
    (_Strict,),
    {"__doc__": "A new event.", **_event_input_fields(required=True)},
)
EventChangeSchema = type(
    "EventChangeSchema",
    (_Strict,),
    {
        "__doc__": "The fields to change; the others keep their values.",
        **_event_input_fields(required=False),
    },
)


class CancelSchema(_Strict):
    reason = fields.String(
        validate=validate.Length(max=rules.MAX_CANCEL_REASON_LENGTH),
        metadata={"description": N_("Shown on the event's page and in the feeds.")},
    )
