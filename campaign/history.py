"""Change histories as people read them: the stored action and field names (English keys,
kept as written so old entries stay readable) shown in the page's language, and the
values that are codes (status, format, kind, tone) by their labels."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import lazy_gettext as _l

from .events.models import EventFormat, EventStatus, PartnerRole
from .i18n import format_instant
from .media.models import MediaKind, MediaStatus, MediaTone

ACTIONS = {
    "created": _l("Created"),
    "updated": _l("Changed"),
    "cancelled": _l("Cancelled"),
    "attendance": _l("Attendance recorded"),
    "detached": _l("Taken out of its series"),
    "withdrawn": _l("Withdrawn"),
    "theme renamed": _l("Theme renamed"),
    "partner renamed": _l("Partner renamed"),
    "venue changed": _l("Venue changed"),
}

FIELDS = {
    "title": _l("Title"),
    "format": _l("Format"),
    "status": _l("Status"),
    "start": _l("Starts"),
    "end": _l("Ends"),
    "timezone": _l("Time zone"),
    "venue": _l("Venue"),
    "online_link": _l("Online link"),
    "description": _l("Description"),
    "themes": _l("Themes"),
    "partners": _l("Partners"),
    "expected_audience": _l("Expected audience"),
    "attendance": _l("Attendance"),
    "cancel_reason": _l("Reason for cancelling"),
    "series": _l("Series"),
    "theme": _l("Theme"),
    "theme (English)": _l("Theme (English)"),
    "partner": _l("Partner"),
    "partner (English)": _l("Partner (English)"),
    "venue name": _l("Venue name"),
    "venue address": _l("Venue address"),
    "venue city": _l("Venue city"),
    "venue coordinates": _l("Venue coordinates"),
    "headline": _l("Headline"),
    "outlet": _l("Outlet"),
    "kind": _l("Kind"),
    "published": _l("Published"),
    "link": _l("Link"),
    "spokesperson": _l("Spokesperson"),
    "events": _l("Events"),
    "estimated_reach": _l("Estimated reach"),
    "tone": _l("Tone"),
    "notes": _l("Notes"),
}

# Fields whose values are instants, stored as ISO 8601 in UTC.
INSTANTS = {"start", "end", "published"}

# Fields whose values are codes, and the enums that name them.
CODES = {
    "status": (EventStatus, MediaStatus),
    "format": (EventFormat,),
    "kind": (MediaKind,),
    "tone": (MediaTone,),
}


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def field_label(field: str) -> str:
    return str(FIELDS.get(field, field.replace("_", " ")))


def value_label(value, field: str) -> str:
    """A stored value as people read it; codes by their label, anything else as stored."""
    if field in INSTANTS and value:
        try:
            return format_instant(datetime.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)
    for enum in CODES.get(field, ()):
        if value in enum.__members__:
            return enum(value).label
    if field == "partners" and value:
        # "slug (role), slug (role)": the roles by their labels.
        roles = {r.value: r.label for r in PartnerRole}
        for code, label in roles.items():
            value = value.replace(f"({code})", f"({label})")
    return "" if value is None else str(value)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["history_action"] = action_label
    app.jinja_env.filters["history_field"] = field_label
    app.jinja_env.filters["history_value"] = value_label
