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
from ..events.models import MAX_EVENT_DURATION, EventFormat, EventStatus, PartnerRole
from .descriptions import N_, described

MAX_LIMIT = 100
DEFAULT_LIMIT = 25
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _text(description: str, **kwargs):
    return fields.String(required=True, metadata={"description": description}, **kwargs)


def _link(description: str):
    return fields.String(required=True, metadata={"format": "uri", "description": description})


def _instant(description: str):
    return fields.String(
        required=True,
        metadata={"format": "date-time", "description": description},
    )


ROLES = described(
    N_("The partner's role in the event: %(roles)s."),
    roles=", ".join(f"`{r.value}`" for r in PartnerRole),
)
FORMATS = described(
    N_("What kind of event: %(formats)s."),
    formats=", ".join(f"`{f.value}`" for f in EventFormat),
)


class VenueRefSchema(Schema):
    """Where an event takes place: the venue's fields a reader needs."""

    name = _text(N_("The venue's name, as written in the planner."))
    city = _text(N_("The city the venue is in (what the `city` filter matches)."))
    address = _text(N_("The street address; an empty string when it is not known."))


class EventPartnerSchema(Schema):
    """A partner of an event, with its role in it."""

    slug = _text(N_("The partner's slug, as in /api/v1/partners and the `partner` filter."))
    name = _text(N_("The partner's name, as written in the planner."))
    role = _text(ROLES, validate=validate.OneOf([r.value for r in PartnerRole]))


class EventSchema(Schema):
    """One event, exactly as the JSON export writes it."""

    id = fields.Integer(
        required=True,
        metadata={
            "description": N_("The event's number: `{event_id}` in /api/v1/events/{event_id}.")
        },
    )
    uid = _text(N_("Stable identifier; the feed's UID."))
    url = _link(N_("The event's page."))
    title = _text(
        N_("The title, as written in the planner (in Serbian, in the script it was written in).")
    )
    format = _text(FORMATS, validate=validate.OneOf([f.value for f in EventFormat]))
    status = _text(
        N_(
            "`confirmed`, or `cancelled` (still listed, so that calendars learn of it); "
            "`draft` only with a token."
        ),
        validate=validate.OneOf([s.value for s in EventStatus]),
    )
    start = _instant(N_("Start in the event's own zone, with its UTC offset."))
    end = _instant(N_("End in the event's own zone, with its UTC offset."))
    timezone = _text(N_("IANA zone name."))
    venue = fields.Nested(
        VenueRefSchema,
        required=True,
        allow_none=True,
        metadata={
            "description": N_("Where the event takes place, or null for an online-only event.")
        },
    )
    online_url = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "format": "uri",
            "description": N_("The http(s) address to join online, or null when there is none."),
        },
    )
    themes = fields.List(
        fields.String(), required=True, metadata={"description": N_("Theme slugs.")}
    )
    partners = fields.List(
        fields.Nested(EventPartnerSchema),
        required=True,
        metadata={"description": N_("The partners, each with its role; an empty list when none.")},
    )
    sequence = fields.Integer(
        required=True,
        metadata={
            "description": N_("The feed's SEQUENCE: +1 per change of time, place or status.")
        },
    )
    updated = _instant(N_("Last change, in the event's zone."))
    description = _text(
        N_(
            "Plain text in Serbian, paragraphs separated by an empty line; an empty string "
            "when there is none."
        )
    )


class ThemeSchema(Schema):
    id = fields.Integer(
        required=True, metadata={"description": N_("The theme's number; the list is in its order.")}
    )
    slug = _text(
        N_("Short name for addresses and the `theme` filter: lowercase letters, digits, hyphens.")
    )
    name = _text(N_("The name in Serbian, as written in the planner."))
    name_en = _text(N_("The name in English; an empty string when there is none."))
    description = _text(N_("What the theme is about, plain text in Serbian; may be empty."))
    key_messages = _text(
        N_("The campaign's key messages on the theme, one per line, in Serbian; may be empty.")
    )
    colour = _text(N_("The theme's colour on the site, as `#rrggbb`."))
    url = _link(N_("The theme's page on the site."))
    events = _link(N_("This theme's events in the API."))


class PartnerSchema(Schema):
    id = fields.Integer(
        required=True,
        metadata={"description": N_("The partner's number; the list is in its order.")},
    )
    slug = _text(
        N_("Short name for addresses and the `partner` filter: lowercase letters, digits, hyphens.")
    )
    name = _text(N_("The partner's name, as written in the planner."))
    name_en = _text(N_("The name in English; an empty string when there is none."))
    kind = _text(
        described(
            N_("What kind of organisation: %(kinds)s."),
            kinds=", ".join(f"`{k.value}`" for k in PartnerKind),
        ),
        validate=validate.OneOf([k.value for k in PartnerKind]),
    )
    city = _text(N_("The city the partner is based in; an empty string when it is not known."))
    website = _text(
        N_("The partner's own website (http or https); an empty string when there is none.")
    )
    url = _link(N_("The partner's page on the site."))
    events = _link(N_("This partner's events in the API."))


class VenueSchema(Schema):
    id = fields.Integer(
        required=True,
        metadata={
            "description": N_(
                "The venue's number: what `venue` takes when an event is written; the list "
                "is in its order."
            )
        },
    )
    name = _text(N_("The venue's name, as written in the planner."))
    city = _text(N_("The city the venue is in (what the `city` filter matches)."))
    address = _text(N_("The street address; an empty string when it is not known."))
    latitude = fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": N_(
                "Decimal degrees from -90 to 90 (north positive), or null when not known."
            )
        },
    )
    longitude = fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": N_(
                "Decimal degrees from -180 to 180 (east positive), or null when not known."
            )
        },
    )
    capacity = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": N_("How many people the venue holds, or null when not known.")},
    )


def _page_of(item_schema, key: str, items: str, next_page: str):
    return type(
        f"{item_schema.__name__.removesuffix('Schema')}PageSchema",
        (Schema,),
        {
            key: fields.List(
                fields.Nested(item_schema), required=True, metadata={"description": items}
            ),
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
    N_("Up to `limit` events, in start order (events starting together by `id`)."),
    N_("The next page of events (also in the Link header), or null on the last page."),
)
ThemePageSchema = _page_of(
    ThemeSchema,
    "themes",
    N_("Up to `limit` themes, in the order of their `id`."),
    N_("The next page of themes (also in the Link header), or null on the last page."),
)
PartnerPageSchema = _page_of(
    PartnerSchema,
    "partners",
    N_("Up to `limit` partners, in the order of their `id`."),
    N_("The next page of partners (also in the Link header), or null on the last page."),
)
VenuePageSchema = _page_of(
    VenueSchema,
    "venues",
    N_("Up to `limit` venues, in the order of their `id`."),
    N_("The next page of venues (also in the Link header), or null on the last page."),
)


class ProblemSchema(Schema):
    """RFC 9457 problem details, plus the parameter at fault."""

    type = _text(N_("Always `about:blank`: the status code says what kind of problem it is."))
    title = _text(N_("The HTTP status's own phrase, in English (e.g. `Bad Request`)."))
    status = fields.Integer(
        required=True, metadata={"description": N_("The answer's HTTP status code.")}
    )
    detail = _text(
        N_(
            "What was wrong, for a person, in the language of the Accept-Language header "
            "(`en`, `sr-Latn` or `sr-Cyrl`)."
        )
    )
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

    theme = _many(
        described(
            N_(
                "Theme slugs (any of); repeat the parameter for several, at most %(n)s. "
                "An unknown slug is 400."
            ),
            n=MAX_VALUES,
        )
    )
    partner = _many(
        described(
            N_(
                "Partner slugs (any of); repeat the parameter for several, at most %(n)s. "
                "An unknown slug is 400."
            ),
            n=MAX_VALUES,
        )
    )
    format = fields.List(
        fields.String(validate=validate.OneOf([f.value for f in EventFormat])),
        validate=validate.Length(max=MAX_VALUES),
        metadata={
            "description": described(
                N_("Event formats (any of): %(formats)s; another value is 400."),
                formats=", ".join(f"`{f.value}`" for f in EventFormat),
            )
        },
    )
    city = _many(
        N_(
            "Venue cities, case-insensitive (any of); a city that has no venue is 400. "
            "Online-only events have no city."
        )
    )
    status = fields.List(
        fields.String(validate=validate.OneOf([s.value for s in EventStatus])),
        validate=validate.Length(max=MAX_VALUES),
        metadata={
            "description": N_(
                "Statuses (any of): `confirmed`, `cancelled`, and `draft` only with a token "
                "(400 without). Without it: every status the caller may see."
            )
        },
    )
    from_ = fields.String(
        data_key="from",
        validate=validate.Regexp(DATE_PATTERN),
        metadata={
            "format": "date",
            "description": described(
                N_(
                    "First day (YYYY-MM-DD, in the campaign's zone), %(first)s–%(last)s: "
                    "events that have not ended by its start. Another form, or a day after "
                    "`to`, is 400."
                ),
                first=rules.FIRST_YEAR,
                last=rules.LAST_YEAR,
            ),
        },
    )
    to = fields.String(
        validate=validate.Regexp(DATE_PATTERN),
        metadata={
            "format": "date",
            "description": N_(
                "Last day, inclusive (YYYY-MM-DD, in the campaign's zone, years as for "
                "`from`): events that start on or before it."
            ),
        },
    )
    dates = fields.String(
        validate=validate.OneOf(["start"]),
        metadata={
            "description": N_(
                "`start`: from and to match the day an event starts "
                "(default: any part of the event in the range); another value is 400."
            )
        },
    )
    q = fields.String(
        validate=validate.Length(min=1, max=MAX_QUERY_LENGTH),
        metadata={
            "description": N_(
                "Words that must all appear, each anywhere in the title, description, "
                "venue, city, themes or partners; case, script (Cyrillic or "
                "Latin) and č ć š ž đ do not matter. At most 20 words."
            )
        },
    )
    online = fields.String(
        validate=validate.OneOf(["only"]),
        metadata={
            "description": N_("`only`: events without a venue (online only); another value is 400.")
        },
    )
    attendance = fields.String(
        validate=validate.OneOf(["recorded"]),
        metadata={
            "description": N_(
                "`recorded`: events whose attendance was recorded; only with a token (400 "
                "without), another value is 400."
            )
        },
    )
    series = fields.String(
        validate=validate.Regexp(r"^[0-9]{1,9}$"),
        metadata={
            "description": N_(
                "The number of a touring or recurring series: its events only. A series "
                "that does not exist (or has only drafts, without a token) is 400."
            )
        },
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
    """A partner of the event and its role."""

    slug = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": N_(
                "A partner's slug (see /api/v1/partners); an unknown one is 422 naming `partners`."
            )
        },
    )
    role = fields.String(
        required=True,
        validate=validate.OneOf([r.value for r in PartnerRole]),
        metadata={"description": ROLES},
    )


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
        "title": fields.String(
            validate=validate.Length(min=1, max=MAX_TITLE),
            metadata={
                "description": described(
                    N_(
                        "1 to %(n)s characters, not only spaces, on one line, without "
                        "control or text-direction characters."
                    ),
                    n=MAX_TITLE,
                )
            },
            **need(),
        ),
        "format": fields.String(
            validate=validate.OneOf([f.value for f in EventFormat]),
            metadata={"description": FORMATS},
            **need(),
        ),
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
        "end": instant(
            described(
                N_("As `start`; after it, and at most %(n)s days later."),
                n=MAX_EVENT_DURATION.days,
            )
        ),
        "timezone": fields.String(
            validate=validate.Length(min=1, max=64),
            metadata={"description": N_("IANA zone name (default: the campaign's zone).")},
        ),
        "venue": WholeNumber(
            allow_none=True,
            validate=validate.Range(min=1, max=rules.MAX_ID),
            metadata={"description": N_("The venue's `id` (see /api/v1/venues), or null.")},
        ),
        "online_url": fields.String(
            validate=validate.Length(max=MAX_URL),
            metadata={
                "description": described(
                    N_(
                        "The address to join online (http or https), at most %(n)s "
                        "characters; an empty string for none."
                    ),
                    n=rules.MAX_URL_LENGTH,
                )
            },
        ),
        "description": fields.String(
            validate=validate.Length(max=MAX_TEXT),
            metadata={
                "description": described(
                    N_(
                        "Plain text, at most %(n)s characters; an empty line separates "
                        "paragraphs. Line breaks and tabs are fine, other control characters "
                        "are 422."
                    ),
                    n=MAX_TEXT,
                )
            },
        ),
        "title_en": fields.String(
            validate=validate.Length(max=MAX_TITLE),
            metadata={
                "description": described(
                    N_(
                        "The title in English, at most %(n)s characters; an empty string: "
                        "the English pages show `title`."
                    ),
                    n=MAX_TITLE,
                )
            },
        ),
        "description_en": fields.String(
            validate=validate.Length(max=MAX_TEXT),
            metadata={
                "description": described(
                    N_(
                        "The description in English, at most %(n)s characters; an empty "
                        "string: the English pages show `description`."
                    ),
                    n=MAX_TEXT,
                )
            },
        ),
        "themes": fields.List(
            fields.String(validate=validate.Length(min=1, max=100)),
            validate=validate.Length(min=1, max=MAX_SLUGS),
            metadata={
                "description": described(
                    N_(
                        "Theme slugs (see /api/v1/themes), 1 to %(n)s; an unknown one is 422 "
                        "naming `themes`."
                    ),
                    n=MAX_SLUGS,
                )
            },
            **need(),
        ),
        "partners": fields.List(
            fields.Nested(PartnerInputSchema),
            validate=validate.Length(max=MAX_SLUGS),
            metadata={
                "description": described(
                    N_("The partners (at most %(n)s), each with its role; an empty list for none."),
                    n=MAX_SLUGS,
                )
            },
        ),
        "expected_audience": WholeNumber(
            allow_none=True,
            validate=validate.Range(min=0, max=rules.MAX_PEOPLE),
            metadata={
                "description": described(
                    N_(
                        "How many people are expected, 0 to %(n)s, or null when not known. "
                        "Organizers only: no answer of the API shows it."
                    ),
                    n=rules.MAX_PEOPLE,
                )
            },
        ),
        "attendance": WholeNumber(
            allow_none=True,
            validate=validate.Range(min=0, max=rules.MAX_PEOPLE),
            metadata={
                "description": described(
                    N_(
                        "How many people came, 0 to %(n)s, or null when not recorded. "
                        "Organizers only: no answer of the API shows it."
                    ),
                    n=rules.MAX_PEOPLE,
                )
            },
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
        metadata={
            "description": described(
                N_(
                    "Why the event is cancelled, plain text of at most %(n)s characters; "
                    "shown on the event's page and in the feeds."
                ),
                n=rules.MAX_CANCEL_REASON_LENGTH,
            )
        },
    )
