"""Forms for themes, partners and venues. Field labels are part of the public contract."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..core import validation as rules
from ..core.forms import DecimalNumberField, Form, Rule, WholeNumberField
from .models import PartnerKind


class ThemeForm(Form):
    slug = StringField(_l("Slug"), validators=[DataRequired(), Length(max=80)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=20_000)])
    key_messages = TextAreaField(_l("Key messages"), validators=[Length(max=20_000)])
    name_en = StringField(_l("English name"), validators=[Length(max=200)])
    description_en = TextAreaField(_l("English description"), validators=[Length(max=20_000)])
    key_messages_en = TextAreaField(_l("English key messages"), validators=[Length(max=20_000)])
    colour = StringField(
        _l("Colour"), default="#1f5f99", validators=[DataRequired(), Length(max=7)]
    )


class PartnerForm(Form):
    slug = StringField(_l("Slug"), validators=[DataRequired(), Length(max=80)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[(k.value, k.lazy_label) for k in PartnerKind])
    city = StringField(_l("City"), validators=[Length(max=100)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=500)])
    contact_name = StringField(_l("Contact person"), validators=[Length(max=200)])
    contact_email = StringField(_l("Contact e-mail"), validators=[Optional(), Length(max=254)])
    contact_phone = StringField(_l("Contact phone"), validators=[Length(max=50)])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=20_000)])
    name_en = StringField(_l("English name"), validators=[Length(max=200)])
    keep_script = BooleanField(_l("Keep the name as written (do not transliterate)"))


class VenueForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=100)])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    latitude = DecimalNumberField(_l("Latitude"), validators=[Optional(), Rule(rules.latitude)])
    longitude = DecimalNumberField(_l("Longitude"), validators=[Optional(), Rule(rules.longitude)])
    keep_script = BooleanField(_l("Keep the name and address as written (do not transliterate)"))
    capacity = WholeNumberField(_l("Capacity"), validators=[Optional(), Rule(rules.people)])
