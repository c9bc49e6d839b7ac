"""The media item form. Field labels are part of the public contract."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateTimeLocalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..core import validation as rules
from ..core.forms import Form, MultiCheckboxField, Rule, WholeNumberField
from ..events.forms import EventForm
from ..i18n import localized
from .models import MediaKind, MediaStatus, MediaTone
from .operations import MAX_HEADLINE, MAX_NOTES, MAX_SPOKESPERSON

# "12, 15" or ".../events/12 .../events/15": event numbers or the event pages' addresses.
EVENT_REF_RE = re.compile(r"(?:/events/)?([0-9]{1,10})/?")


class MediaForm(Form):
    headline = StringField(
        _l("Headline"),
        validators=[
            DataRequired(message=_l("Give the headline.")),
            Length(max=MAX_HEADLINE),
            Rule(rules.text),
        ],
    )
    outlet = SelectField(_l("Outlet"), choices=[], validate_choice=True)
    new_outlet = StringField(
        _l("New outlet"), validators=[Optional(), Length(max=200), Rule(rules.text)]
    )
    kind = SelectField(_l("Kind"), choices=[(k.value, k.lazy_label) for k in MediaKind])
    status = SelectField(_l("Status"), choices=[(s.value, s.lazy_label) for s in MediaStatus])
    published_at = DateTimeLocalField(
        _l("Published"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[
            InputRequired(message=_l("Give the date and time of publication.")),
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
    link = StringField(_l("Link"), validators=[Optional(), Length(max=rules.MAX_URL_LENGTH)])
    spokesperson = StringField(
        _l("Spokesperson"), validators=[Optional(), Length(max=MAX_SPOKESPERSON), Rule(rules.text)]
    )
    themes = MultiCheckboxField(_l("Themes"), choices=[], coerce=int)
    events = StringField(_l("Events"), validators=[Optional(), Length(max=2000)])
    estimated_reach = WholeNumberField(
        _l("Estimated reach"), validators=[Optional(), Rule(rules.reach)]
    )
    tone = SelectField(_l("Tone"), choices=[])
    notes = TextAreaField(
        _l("Notes"),
        validators=[
            Length(
                max=MAX_NOTES, message=_l("The notes are too long (at most 100,000 characters).")
            )
        ],
    )
    version = HiddenField()

    def set_choices(self, themes, outlets) -> None:
        self.themes.choices = [(t.id, localized(t, "name")) for t in themes]
        self.outlet.choices = [("", gettext("— a new outlet (name it below) —"))] + [
            (str(p.id), localized(p, "name")) for p in outlets
        ]
        self.tone.choices = [("", gettext("— not assessed —"))] + [
            (t.value, t.label) for t in MediaTone
        ]

    def event_ids(self) -> list[int] | None:
        """The ids typed in Events; None (with the field's message) on anything else."""
        raw = (self.events.data or "").replace(",", " ").split()
        ids = []
        for part in raw:
            found = EVENT_REF_RE.search(part)
            if found is None or not part.rstrip("/").endswith(found.group(1)):
                self.events.errors = list(self.events.errors) + [
                    gettext(
                        "'%(value)s' is not an event number or an event page's address.",
                        value=part[:50],
                    )
                ]
                return None
            ids.append(int(found.group(1)))
        return list(dict.fromkeys(ids))

    def zone(self) -> ZoneInfo | None:
        name = (self.timezone.data or "").strip()
        return ZoneInfo(name) if rules.is_iana_zone(name) else None

    def instant(self) -> datetime | None:
        """Published, read in the form's zone: the event form's reading of a wall-clock
        time (a time the clocks skip is refused, a repeated one means the first)."""
        return EventForm.instant(self, self.published_at)


class MediaImportForm(Form):
    """A press-clipping file to import (CSV or XLSX)."""

    file = FileField(
        _l("Press-clipping file (CSV or XLSX)"),
        validators=[FileRequired(message=_l("Choose a CSV or XLSX file to import."))],
        # The browser's file picker offers these; the importer checks name and content.
        render_kw={"accept": ".csv,.xlsx"},
    )
