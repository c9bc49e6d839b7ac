"""Writes to accounts: create, update, passwords and private feed tokens. One
transaction each, logged."""

from __future__ import annotations

import secrets

from flask import current_app, has_app_context
from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..core import validation as rules
from ..core.audit import log, who
from ..core.errors import NotAllowed, ValidationError
from .models import User, UserRole


def _role_message() -> str:
    return gettext("The role must be admin or organizer.")


def hash_password(password: str) -> str:
    # scrypt by default; tests may choose a cheaper method through the config.
    method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
    return generate_password_hash(password, method=method)


def create_user(
    session: Session, actor: User | None, email: str, password: str, role: str, name: str = ""
) -> User:
    errors: dict[str, str] = {}
    email = email.strip().lower()
    rules.add(errors, "email", rules.email(email))
    if "email" not in errors and session.scalar(
        select(func.count()).select_from(User).where(User.email == email)
    ):
        errors["email"] = gettext("An account for %(email)s already exists.", email=email)
    if role not in UserRole.__members__:
        errors["role"] = _role_message()
    rules.add(errors, "password", rules.password(password, (email, name)))
    rules.add(errors, "name", rules.text(name))
    if errors:
        raise ValidationError(errors)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password),
        feed_token=secrets.token_urlsafe(24),
        active=True,
    )
    session.add(user)
    session.commit()
    log.info("user.created actor=%s user=%s role=%s", who(actor), email, role)
    return user


def update_user(
    session: Session,
    actor: User,
    user: User,
    *,
    role: str,
    active: bool,
    name: str,
    password: str | None = None,
) -> None:
    """Change an account, and its password when one is given: all or nothing."""
    errors: dict[str, str] = {}
    if role not in UserRole.__members__:
        errors["role"] = _role_message()
    rules.add(errors, "name", rules.text(name))
    if password is not None:
        rules.add(errors, "password", rules.password(password, (user.email, name, user.name)))
    if errors:
        raise ValidationError(errors)
    if user.id == actor.id and (role != UserRole.admin.value or not active):
        raise NotAllowed(gettext("You cannot remove your own admin rights or deactivate yourself."))
    if password is not None or role != user.role or active != user.active:
        end_sessions(user)
    user.role, user.active, user.name = role, active, name.strip()[:200]
    if password is not None:
        user.password_hash = hash_password(password)
    session.commit()
    log.info(
        "user.updated actor=%s user=%s role=%s active=%s password_changed=%s",
        who(actor),
        user.email,
        role,
        active,
        password is not None,
    )


def end_sessions(user: User) -> None:
    """Every login session of the account stops working (checked by the user loader) once
    the caller commits. A session that should go on must log in again (``login_user``)."""
    user.session_version = User.session_version + 1


def logged_out(session: Session, user: User) -> None:
    """Logging out ends every session of the account, on every device: a copy of the
    cookie is worth nothing afterwards."""
    end_sessions(user)
    session.commit()
    log.info("user.logged_out user=%s", user.email)


def set_password(session: Session, actor: User | None, user: User, password: str) -> None:
    message = rules.password(password, (user.email, user.name))
    if message:
        raise ValidationError({"password": message})
    user.password_hash = hash_password(password)
    end_sessions(user)
    session.commit()
    log.info("user.password_changed actor=%s user=%s", who(actor), user.email)


def change_own_password(
    session: Session, user: User, current: str, new: str, repeated: str
) -> None:
    """The account's owner changes the password: the current one must be right and the new
    one given twice. Ends the account's sessions (set_password)."""
    errors: dict[str, str] = {}
    if not check_password_hash(user.password_hash, current):
        errors["current_password"] = gettext("This is not your current password.")
    message = rules.password(new, (user.email, user.name))
    if message:
        errors["new_password"] = message
    elif new != repeated:
        errors["repeat_password"] = gettext(
            "The two new passwords differ; type the same one twice."
        )
    if errors:
        raise ValidationError(errors)
    set_password(session, user, user, new)


def regenerate_feed_token(session: Session, actor: User, user: User) -> str:
    user.feed_token = secrets.token_urlsafe(24)
    session.commit()
    log.info("user.feed_token_regenerated actor=%s user=%s", who(actor), user.email)
    return user.feed_token
