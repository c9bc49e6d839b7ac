"""Forms for logging in and for accounts. Field labels are part of the public contract."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..core import validation as rules
from ..core.forms import Rule
from .models import UserRole

ROLE_CHOICES = [(r.value, r.value.capitalize()) for r in UserRole]


class LoginForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class NewUserForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[Length(max=200)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=1000), Rule(rules.password)]
    )


class UserForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=200)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Active")
    password = PasswordField(
        "New password", validators=[Optional(), Length(max=1000), Rule(rules.password)]
    )
