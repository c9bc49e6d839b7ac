"""Forms for themes, partners and venues. Field labels are part of the public contract."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import FloatField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..core import validation as rules
from ..core.forms import Rule
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
    latitude = FloatField("Latitude", validators=[Optional(), NumberRange(min=-90, max=90)])
    longitude = FloatField("Longitude", validators=[Optional(), NumberRange(min=-180, max=180)])
    capacity = IntegerField("Capacity", validators=[Optional(), Rule(rules.people)])
