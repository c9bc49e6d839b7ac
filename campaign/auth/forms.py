"""Forms for logging in and for accounts. Field labels are part of the public contract."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..core import validation as rules
from ..core.forms import Form, Rule
from .models import UserRole

ROLE_CHOICES = [(r.value, r.lazy_label) for r in UserRole]


class LoginForm(Form):
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])


class NewUserForm(Form):
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    # Most accounts are organizers; admin is a deliberate choice (issue 16).
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=UserRole.organizer.value)
    # Empty (the usual way): the person gets an invitation link and chooses a password.
    password = PasswordField(
        _l("Password"), validators=[Optional(), Length(max=1000), Rule(rules.password)]
    )


class UserForm(Form):
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    active = BooleanField(_l("Active"))
    password = PasswordField(
        _l("New password"), validators=[Optional(), Length(max=1000), Rule(rules.password)]
    )


class PasswordChangeForm(Form):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=1000)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=1000), Rule(rules.password)],
        render_kw={"autocomplete": "new-password"},
    )
    repeat_password = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), Length(max=1000)],
        render_kw={"autocomplete": "new-password"},
    )


class ChoosePasswordForm(Form):
    """The page an invitation or password-reset link opens (issue 16)."""

    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=1000), Rule(rules.password)],
        render_kw={"autocomplete": "new-password"},
    )
    repeat_password = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), Length(max=1000)],
        render_kw={"autocomplete": "new-password"},
    )
