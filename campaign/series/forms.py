"""The two series builders: a tour (a table of stops) and a recurrence (a rule).

Both share the event form's fields that a series shares (title, format, status, time
zone, texts, themes, partners, expected audience). Dates and times are read by the rules
of core.validation, so every field has its own clear message.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.utils import unset_value
from wtforms.validators import Optional

from ..core import validation as rules
from ..core.forms import MultiCheckboxField, WholeNumberField
from ..events.forms import EventForm
from ..i18n import localized

TOUR_ROWS = 4  # empty rows a new tour starts with
MORE_ROWS = 3  # rows the "More rows" button adds

WEEKDAYS = [
    (0, _l("Monday")),
    (1, _l("Tuesday")),
    (2, _l("Wednesday")),
    (3, _l("Thursday")),
    (4, _l("Friday")),
    (5, _l("Saturday")),
    (6, _l("Sunday")),
]


def _parsed(field, parse):
    """The field's value read by a rule of core.validation; the rule's message otherwise."""
    raw = (field.data or "").strip()
    if not raw:
        return None
    value, message = parse(raw)
    if message:
        field.errors = list(field.errors) + [message]
    return value


class SeriesForm(EventForm):
    """What the occurrences share: the event form without date, venue and attendance."""

    starts_at = None
    ends_at = None
    venue = None
    attendance = None
    version = None

    def set_choices(self, themes, partners, venues) -> None:
        self.themes.choices = [(t.id, localized(t, "name")) for t in themes]
        self.set_partner_choices(partners)
        self.venue_choices = [("", _l("— none (online only) —"))] + [
            (str(v.id), f"{localized(v, 'name')}, {localized(v, 'city')}") for v in venues
        ]


class TourRow(Form):
    day = StringField(_l("Date"), render_kw={"type": "date"})
    start = StringField(_l("Start time"), render_kw={"type": "time"})
    end = StringField(_l("End time"), render_kw={"type": "time"})
    venue = SelectField(_l("Venue"), choices=[], default="", validate_choice=True)
    remove = BooleanField(_l("Remove"))

    def is_blank(self) -> bool:
        return not any((self[name].data or "").strip() for name in ("day", "start", "end"))


class _Rows(FieldList):
    """A FieldList that remembers how many rows were sent: it reads at most max_entries
    of them, and a longer table must be refused, not cut short without a word."""

    sent = 0

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.sent = len(set(self._extract_indices(self.name, formdata))) if formdata else 0
        super().process(formdata, data, extra_filters)


class TourForm(SeriesForm):
    rows = _Rows(FormField(TourRow), min_entries=TOUR_ROWS, max_entries=rules.MAX_OCCURRENCES)

    def set_choices(self, themes, partners, venues) -> None:
        super().set_choices(themes, partners, venues)
        for row in self.rows:
            row.form.venue.choices = self.venue_choices

    def add_rows(self, n: int = MORE_ROWS) -> None:
        for _ in range(min(n, rules.MAX_OCCURRENCES - len(self.rows))):
            entry = self.rows.append_entry()
            entry.form.venue.choices = self.venue_choices

    def drop_removed(self) -> None:
        """Rows ticked "Remove" leave the table (the preview shows it without them)."""
        kept = [entry for entry in self.rows.entries if not entry.form.remove.data]
        self.rows.entries = kept
        self.rows.last_index = len(kept) - 1
        for index, entry in enumerate(kept):
            prefix = f"{self.rows.name}-{index}"
            entry.id = entry.name = prefix
            for sub in entry.form:
                sub.id = sub.name = f"{prefix}-{sub.short_name}"

    def read_rows(self) -> list[tuple]:
        """(day, start, end, venue id) of each filled row; messages on the rows' fields."""
        read = []
        for entry in self.rows:
            row = entry.form
            if row.is_blank():
                continue
            day = _parsed(row.day, rules.parse_day)
            start = _parsed(row.start, rules.parse_clock)
            end = _parsed(row.end, rules.parse_clock)
            for field, value, message in (
                (row.day, day, _l("Give the date of this stop.")),
                (row.start, start, _l("Give the start time.")),
                (row.end, end, _l("Give the end time.")),
            ):
                if value is None and not field.errors:
                    field.errors = list(field.errors) + [str(message)]
            if start is not None and start == end and not row.end.errors:
                # An end before the start is the next morning; the same time is a slip.
                row.end.errors = list(row.end.errors) + [rules.end_after_start(start, end)]
            elif None not in (day, start, end):
                read.append((day, start, end, row.venue.data or ""))
        return read


class RecurrenceForm(SeriesForm):
    first_day = StringField(_l("First date"), render_kw={"type": "date"})
    start_time = StringField(_l("Start time"), render_kw={"type": "time"})
    end_time = StringField(_l("End time"), render_kw={"type": "time"})
    place = SelectField(_l("Venue"), choices=[], default="", validate_choice=True)
    frequency = SelectField(
        _l("Repeat"), choices=[("weekly", _l("Weekly")), ("monthly", _l("Monthly"))]
    )
    interval = WholeNumberField(_l("Every how many weeks or months"), default=1)
    weekdays = MultiCheckboxField(_l("On"), choices=WEEKDAYS, coerce=int)
    nth = SelectField(
        _l("Which one in the month"),
        choices=[
            ("", _l("— the same day of the month —")),
            ("1", _l("first")),
            ("2", _l("second")),
            ("3", _l("third")),
            ("4", _l("fourth")),
            ("5", _l("fifth")),
            ("-1", _l("last")),
        ],
        validate_choice=True,
    )
    until = StringField(_l("Until"), render_kw={"type": "date"}, validators=[Optional()])
    count = WholeNumberField(_l("Number of dates"), validators=[Optional()])
    skipped = TextAreaField(_l("Skipped dates"))

    def set_choices(self, themes, partners, venues) -> None:
        super().set_choices(themes, partners, venues)
        self.place.choices = self.venue_choices

    def read_rule(self) -> dict | None:
        """The rule's values, or None with messages on the fields."""
        first = _parsed(self.first_day, rules.parse_day)
        start = _parsed(self.start_time, rules.parse_clock)
        end = _parsed(self.end_time, rules.parse_clock)
        until = _parsed(self.until, rules.parse_day)
        for field, value, message in (
            (self.first_day, first, _l("Give the first date.")),
            (self.start_time, start, _l("Give the start time.")),
            (self.end_time, end, _l("Give the end time.")),
        ):
            if value is None and not field.errors:
                field.errors = list(field.errors) + [str(message)]
        skipped, message = rules.day_list(self.skipped.data or "")
        if message:
            self.skipped.errors = list(self.skipped.errors) + [message]
        if self.frequency.data == "monthly" and self.nth.data and len(self.weekdays.data or []) > 1:
            self.weekdays.errors = list(self.weekdays.errors) + [
                str(_l("For the n-th weekday of the month, choose one day of the week."))
            ]
        if any(f.errors for f in self):
            return None
        return {
            "first_day": first,
            "start": start,
            "end": end,
            "frequency": self.frequency.data,
            "interval": self.interval.data if self.interval.data is not None else 1,
            "weekdays": list(self.weekdays.data or []),
            "nth": int(self.nth.data) if self.nth.data else None,
            "until": until,
            "count": self.count.data,
            "skipped": skipped,
        }


class SeriesEditForm(SeriesForm):
    """The shared fields of one occurrence, and which occurrences the change is for.
    Status, time and venue stay each occurrence's own (its event form changes them)."""

    status = None
    timezone = None
    scope = RadioField(
        _l("Apply the change to"),
        choices=[
            ("this", _l("this date only")),
            ("following", _l("this and the following dates")),
            ("all", _l("all dates of the series")),
        ],
        default="this",
    )
    # "id:version,id:version": the row versions of the occurrences when the form opened.
    versions = HiddenField()

    def read_versions(self) -> dict[int, int] | None:
        found = {}
        for pair in (self.versions.data or "").split(","):
            event_id, _, version = pair.partition(":")
            if not (event_id.isdigit() and version.isdigit() and len(pair) < 24):
                return None
            found[int(event_id)] = int(version)
        return found
