"""Forms for themes, partners and venues. Field labels are part of the public contract."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..core import validation as rules
from ..core.forms import DecimalNumberField, Rule, WholeNumberField
from .models import PartnerKind


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
    latitude = DecimalNumberField("Latitude", validators=[Optional(), Rule(rules.latitude)])
    longitude = DecimalNumberField("Longitude", validators=[Optional(), Rule(rules.longitude)])
    capacity = WholeNumberField("Capacity", validators=[Optional(), Rule(rules.people)])
