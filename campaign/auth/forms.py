"""Forms for logging in and for accounts. Field labels are part of the public contract."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..core import validation as rules
from ..core.forms import Form, Rule
from .models import ApiTokenScope, UserRole

ROLE_CHOICES = [(r.value, r.lazy_label) for r in UserRole]


class LoginForm(Form):
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])


class NewUserForm(Form):
    # The operations' rules as field checks too, so every mistake shows in one round.
    email = StringField(
        _l("E-mail"), validators=[DataRequired(), Length(max=254), Rule(rules.email)]
    )
    name = StringField(_l("Name"), validators=[Length(max=200), Rule(rules.text)])
    # Most accounts are organizers; admin is a deliberate choice (issue 16).
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=UserRole.organizer.value)
    # Empty (the usual way): the person gets an invitation link and chooses a password.
    password = PasswordField(
        _l("Password"), validators=[Optional(), Length(max=1000), Rule(rules.password)]
    )


class UserForm(Form):
    name = StringField(_l("Name"), validators=[Length(max=200), Rule(rules.text)])
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


# -- personal API tokens -----------------------------------------------------------------

TOKEN_LIFETIMES = [
    ("90", _l("90 days")),
    ("30", _l("30 days")),
    ("365", _l("one year")),
    ("", _l("no end (until revoked)")),
]


class ApiTokenForm(Form):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=100), Rule(rules.text)],
        render_kw={"placeholder": _l("e.g. ministry website")},
    )
    scope = SelectField(
        _l("Scope"),
        choices=[(s.value, s.lazy_label) for s in ApiTokenScope],
        default=ApiTokenScope.read.value,
    )
    days = SelectField(_l("Valid for"), choices=TOKEN_LIFETIMES, default="90")

    def lifetime(self) -> int | None:
        return int(self.days.data) if self.days.data else None


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
