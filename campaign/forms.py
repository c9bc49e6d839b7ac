"""WTForms for every page that takes input. Field labels are part of the public contract."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .models import EventFormat, EventStatus, PartnerKind, PartnerRole, UserRole
from .operations import is_iana_zone

NON_NEGATIVE = NumberRange(min=0, message="Give a number, zero or more.")
PASSWORD_LENGTH = Length(min=10, max=1000, message="The password must have at least 10 characters.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class EventForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[
            DataRequired(message="Give the event a title."),
            Length(max=200, message="The title can have at most 200 characters."),
        ],
    )
    format = SelectField("Format", choices=[(f.value, f.label) for f in EventFormat])
    status = SelectField("Status", choices=[(s.value, s.label) for s in EventStatus])
    starts_at = DateTimeLocalField(
        "Start",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired(message="Give the start date and time.")],
    )
    ends_at = DateTimeLocalField(
        "End",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired(message="Give the end date and time.")],
    )
    timezone = StringField(
        "Time zone",
        default="Europe/Belgrade",
        validators=[
            DataRequired(message="Give a time zone such as Europe/Belgrade."),
            Length(max=64),
        ],
    )
    venue = SelectField("Venue", choices=[], validate_choice=True)
    online_url = StringField("Online link", validators=[Optional(), Length(max=500)])
    description = TextAreaField(
        "Description",
        validators=[
            Length(max=100_000, message="The description is too long (at most 100,000 characters).")
        ],
    )
    themes = MultiCheckboxField("Themes", choices=[], coerce=int)
    partners_host = SelectMultipleField(PartnerRole.host.label, choices=[], coerce=int)
    partners_co_organizer = SelectMultipleField(
        PartnerRole.co_organizer.label, choices=[], coerce=int
    )
    partners_speakers = SelectMultipleField(PartnerRole.speakers.label, choices=[], coerce=int)
    partners_media_partner = SelectMultipleField(
        PartnerRole.media_partner.label, choices=[], coerce=int
    )
    expected_audience = IntegerField("Expected audience", validators=[Optional(), NON_NEGATIVE])
    attendance = IntegerField("Attendance", validators=[Optional(), NON_NEGATIVE])
    version = HiddenField()

    PARTNER_FIELDS = tuple(f"partners_{role.value}" for role in PartnerRole)

    def set_choices(self, themes, partners, venues) -> None:
        self.themes.choices = [(t.id, t.name) for t in themes]
        partner_choices = [(p.id, p.name) for p in partners]
        for name in self.PARTNER_FIELDS:
            getattr(self, name).choices = partner_choices
        self.venue.choices = [("", "— none (online only) —")] + [
            (str(v.id), v.label) for v in venues
        ]

    def zone(self) -> ZoneInfo | None:
        name = (self.timezone.data or "").strip()
        return ZoneInfo(name) if is_iana_zone(name) else None

    def instant(self, field) -> datetime | None:
        """The field's wall-clock time read in the form's zone, as an aware UTC datetime.

        A time the clocks skip (02:30 on the last Sunday of March in Belgrade) is refused;
        a time that happens twice (October) means the first one, as RFC 5545 says.
        """
        zone, naive = self.zone(), field.data
        if zone is None or naive is None:
            return None
        local = naive.replace(tzinfo=zone)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
            field.errors = list(field.errors) + [
                f"{naive:%H:%M} does not exist on {naive:%d %B %Y} in {zone.key}: "
                "the clocks skip that hour."
            ]
            return None
        return local.astimezone(UTC)


class ThemeForm(FlaskForm):
    slug = StringField("Slug", validators=[DataRequired(), Length(max=80)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=20_000)])
    key_messages = TextAreaField("Key messages", validators=[Length(max=20_000)])
    colour = StringField("Colour", default="#1f5f99", validators=[DataRequired(), Length(max=7)])


class PartnerForm(FlaskForm):
    slug = StringField("Slug", validators=[DataRequired(), Length(max=80)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    kind = SelectField("Kind", choices=[(k.value, k.label) for k in PartnerKind])
    city = StringField("City", validators=[Length(max=100)])
    website = StringField("Website", validators=[Optional(), Length(max=500)])
    contact_name = StringField("Contact person", validators=[Length(max=200)])
    contact_email = StringField("Contact e-mail", validators=[Optional(), Length(max=254)])
    contact_phone = StringField("Contact phone", validators=[Length(max=50)])
    notes = TextAreaField("Notes", validators=[Length(max=20_000)])


class VenueForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    city = StringField("City", validators=[DataRequired(), Length(max=100)])
    address = StringField("Address", validators=[Length(max=300)])
    latitude = FloatField("Latitude", validators=[Optional(), NumberRange(min=-90, max=90)])
    longitude = FloatField("Longitude", validators=[Optional(), NumberRange(min=-180, max=180)])
    capacity = IntegerField("Capacity", validators=[Optional(), NON_NEGATIVE])


class NewUserForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[Length(max=200)])
    role = SelectField("Role", choices=[(r.value, r.value.capitalize()) for r in UserRole])
    password = PasswordField("Password", validators=[DataRequired(), PASSWORD_LENGTH])


class UserForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=200)])
    role = SelectField("Role", choices=[(r.value, r.value.capitalize()) for r in UserRole])
    active = BooleanField("Active")
    password = PasswordField("New password", validators=[Optional(), PASSWORD_LENGTH])
