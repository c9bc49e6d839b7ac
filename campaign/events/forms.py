"""The event form. Field labels are part of the public contract."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..core import validation as rules
from ..core.forms import Form, MultiCheckboxField, Rule, WholeNumberField
from ..core.text import fold
from ..i18n import localized, long_date
from .models import EventFormat, EventStatus, PartnerRole


@dataclass(frozen=True)
class PartnerOption:
    """One partner as the picker shows it: name, city, and the key the filter box matches."""

    id: int
    name: str
    city: str
    key: str


def partner_options(partners) -> list[PartnerOption]:
    options = []
    for p in partners:
        name, city = localized(p, "name"), localized(p, "city")
        key = fold(" ".join((name, p.name, p.name_en or "", city, p.city, p.slug)))
        options.append(PartnerOption(p.id, name, city, key))
    return options


def partner_filter_request(formdata) -> bool:
    """Whether this POST only asks to filter the partner picker (its "Filter partners"
    button, or Enter pressed after typing in its box): the form is shown again, unsaved."""
    if formdata.get("partner_filter"):
        return True
    return formdata.get("submitted_by") == "enter" and (
        formdata.get("partner_q", "").strip() != formdata.get("partner_q_shown", "").strip()
    )


class PartnerPicker:
    """The partner fields of the event and series forms: one checkbox list per role
    (``partners_host`` …), shown by the picker as one row of role boxes per partner."""

    PARTNER_FIELDS = tuple(f"partners_{role.value}" for role in PartnerRole)
    partner_choices: list[PartnerOption] = []
    # The error summary's links for the role lists lead to the picker's search box.
    error_targets = {name: "partner_q" for name in PARTNER_FIELDS}

    def set_partner_choices(self, partners) -> None:
        self.partner_choices = partner_options(partners)
        plain = [(o.id, o.name) for o in self.partner_choices]
        for name in self.PARTNER_FIELDS:
            getattr(self, name).choices = plain

    def chosen_roles(self) -> dict[int, list[str]]:
        """Partner id → the roles ticked for it, in the order of PartnerRole."""
        chosen: dict[int, list[str]] = {}
        for role in PartnerRole:
            for pid in getattr(self, f"partners_{role.value}").data or []:
                if isinstance(pid, int) and role.value not in chosen.setdefault(pid, []):
                    chosen[pid].append(role.value)
        return chosen

    def partner_errors(self) -> list[str]:
        return [e for name in self.PARTNER_FIELDS for e in getattr(self, name).errors]

    def picker_rows(self, query: str) -> tuple[list, int, int]:
        """(option, roles) to show, the chosen partners first, then those matching the
        filter ``query``; how many partners there are in all; how many others match."""
        chosen = self.chosen_roles()
        words = fold(query or "").split()
        first = [(o, chosen[o.id]) for o in self.partner_choices if o.id in chosen]
        rest = [
            (o, [])
            for o in self.partner_choices
            if o.id not in chosen and all(w in o.key for w in words)
        ]
        return first + rest, len(self.partner_choices), len(rest)


class EventForm(PartnerPicker, Form):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=_l("Give the event a title.")),
            Length(max=200, message=_l("The title can have at most 200 characters.")),
        ],
    )
    format = SelectField(_l("Format"), choices=[(f.value, f.lazy_label) for f in EventFormat])
    status = SelectField(_l("Status"), choices=[(s.value, s.lazy_label) for s in EventStatus])
    starts_at = DateTimeLocalField(
        _l("Start"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[
            InputRequired(message=_l("Give the start date and time.")),
            Rule(rules.date_in_window),
        ],
    )
    ends_at = DateTimeLocalField(
        _l("End"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[
            InputRequired(message=_l("Give the end date and time.")),
            Rule(rules.date_in_window),
        ],
    )
    timezone = StringField(
        _l("Time zone"),
        default="Europe/Belgrade",
        validators=[
            DataRequired(message=_l("Give a time zone such as Europe/Belgrade.")),
            Length(max=64),
        ],
    )
    venue = SelectField(_l("Venue"), choices=[], validate_choice=True)
    online_url = StringField(_l("Online link"), validators=[Optional(), Length(max=500)])
    description = TextAreaField(
        _l("Description"),
        validators=[
            Length(
                max=100_000, message=_l("The description is too long (at most 100,000 characters).")
            )
        ],
    )
    title_en = StringField(
        _l("Title in English"),
        validators=[
            Optional(),
            Length(max=200, message=_l("The title can have at most 200 characters.")),
        ],
    )
    description_en = TextAreaField(
        # Not "… description": the Description field keeps a label of its own.
        _l("Text in English"),
        validators=[
            Length(
                max=100_000,
                message=_l("The description is too long (at most 100,000 characters)."),
            )
        ],
    )
    themes = MultiCheckboxField(_l("Themes"), choices=[], coerce=int)
    partners_host = MultiCheckboxField(PartnerRole.host.lazy_label, choices=[], coerce=int)
    partners_co_organizer = MultiCheckboxField(
        PartnerRole.co_organizer.lazy_label, choices=[], coerce=int
    )
    partners_speakers = MultiCheckboxField(PartnerRole.speakers.lazy_label, choices=[], coerce=int)
    partners_media_partner = MultiCheckboxField(
        PartnerRole.media_partner.lazy_label, choices=[], coerce=int
    )
    expected_audience = WholeNumberField(
        _l("Expected audience"), validators=[Optional(), Rule(rules.people)]
    )
    attendance = WholeNumberField(_l("Attendance"), validators=[Optional(), Rule(rules.people)])
    version = HiddenField()

    def set_choices(self, themes, partners, venues) -> None:
        self.themes.choices = [(t.id, localized(t, "name")) for t in themes]
        self.set_partner_choices(partners)
        self.venue.choices = [("", gettext("— none (online only) —"))] + [
            (str(v.id), f"{localized(v, 'name')}, {localized(v, 'city')}") for v in venues
        ]

    def zone(self) -> ZoneInfo | None:
        name = (self.timezone.data or "").strip()
        return ZoneInfo(name) if rules.is_iana_zone(name) else None

    def instant(self, field) -> datetime | None:
        """The field's wall-clock time read in the form's zone, as an aware UTC datetime.

        A time the clocks skip (02:30 on the last Sunday of March in Belgrade) is refused;
        a time that happens twice (October) means the first one, as RFC 5545 says.
        """
        zone, naive = self.zone(), field.data
        if zone is None or naive is None or rules.date_in_window(naive):
            return None
        local = naive.replace(tzinfo=zone)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
            field.errors = list(field.errors) + [
                gettext(
                    "%(time)s does not exist on %(day)s in %(zone)s: the clocks skip that hour.",
                    time=f"{naive:%H:%M}",
                    day=long_date(naive),
                    zone=zone.key,
                )
            ]
            return None
        return local.astimezone(UTC)
