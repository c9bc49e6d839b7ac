"""Writes to accounts: create, update, passwords and private feed tokens. One
transaction each, logged."""

from __future__ import annotations

import secrets

from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from ..core import validation as rules
from ..core.audit import log, who
from ..core.errors import NotAllowed, ValidationError
from .models import User, UserRole

ROLE_MESSAGE = "The role must be admin or organizer."


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
        errors["email"] = f"An account for {email} already exists."
    if role not in UserRole.__members__:
        errors["role"] = ROLE_MESSAGE
    rules.add(errors, "password", rules.password(password))
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
        errors["role"] = ROLE_MESSAGE
    rules.add(errors, "name", rules.text(name))
    if password is not None:
        rules.add(errors, "password", rules.password(password))
    if errors:
        raise ValidationError(errors)
    if user.id == actor.id and (role != UserRole.admin.value or not active):
        raise NotAllowed("You cannot remove your own admin rights or deactivate yourself.")
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


def set_password(session: Session, actor: User | None, user: User, password: str) -> None:
    message = rules.password(password)
    if message:
        raise ValidationError({"password": message})
    user.password_hash = hash_password(password)
    session.commit()
    log.info("user.password_changed actor=%s user=%s", who(actor), user.email)


def regenerate_feed_token(session: Session, actor: User, user: User) -> str:
    user.feed_token = secrets.token_urlsafe(24)
    session.commit()
    log.info("user.feed_token_regenerated actor=%s user=%s", who(actor), user.email)
    return user.feed_token
