"""Writes to accounts: create, update, passwords and private feed tokens. One
transaction each, logged."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app, has_app_context
from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..core import validation as rules
from ..core.audit import log, who
from ..core.errors import NotAllowed, ValidationError
from ..core.models import utcnow
from .models import API_TOKEN_PREFIX, ApiToken, ApiTokenScope, User, UserRole


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


# -- personal API tokens -----------------------------------------------------------------


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(
    session: Session, actor: User, name: str, scope: str, days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``actor``; returns it and its secret, which is shown once and never
    stored (only its SHA-256 is)."""
    errors: dict[str, str] = {}
    name = name.strip()
    rules.add(errors, "name", rules.name(name, limit=100))
    rules.add(errors, "name", rules.text(name))
    if scope not in ApiTokenScope.__members__:
        errors["scope"] = gettext(
            "The scope must be %(read)s or %(write)s.", read="read", write="write"
        )
    rules.add(errors, "days", rules.token_days(days))
    if errors:
        raise ValidationError(errors)
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=actor.id,
        name=name,
        scope=scope,
        secret_hash=_token_hash(secret),
        hint=secret[: len(API_TOKEN_PREFIX) + 4],
        created=now,
        expires=now + timedelta(days=days) if days else None,
    )
    session.add(token)
    session.commit()
    log.info(
        "api_token.created actor=%s token=%s scope=%s hint=%s",
        who(actor),
        token.id,
        scope,
        token.hint,
    )
    return token, secret


def revoke_api_token(session: Session, actor: User, token: ApiToken) -> None:
    """Its owner or an admin ends a token at once; revoking twice changes nothing."""
    if token.user_id != actor.id and not actor.is_admin:
        raise NotAllowed(gettext("Only its owner or an admin can revoke a token."))
    if token.revoked is None:
        token.revoked = utcnow()
        session.commit()
        log.info(
            "api_token.revoked actor=%s token=%s owner_id=%s", who(actor), token.id, token.user_id
        )


# Recording each use would write on every read; once a minute says enough.
LAST_USE_RESOLUTION = timedelta(minutes=1)


def api_token_for(session: Session, secret: str) -> ApiToken | None:
    """The usable token whose secret this is (not revoked, not expired, its account
    active), with its last use recorded; None for anything else."""
    if not (secret.startswith(API_TOKEN_PREFIX) and len(secret) <= 100 and secret.isascii()):
        return None
    digest = _token_hash(secret)
    token = session.scalar(select(ApiToken).where(ApiToken.secret_hash == digest))
    now = utcnow()
    if token is None or not hmac.compare_digest(token.secret_hash, digest):
        return None
    if not token.usable(now):
        return None
    if token.last_used is None or now - token.last_used >= LAST_USE_RESOLUTION:
        token.last_used = now
        session.commit()
    return token


def api_tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created.desc())
        )
    )
