"""Writes to accounts: create, update, passwords and private feed tokens. One
transaction each, logged."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, has_app_context
from flask_babel import gettext
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..core import validation as rules
from ..core.audit import log, who
from ..core.errors import NotAllowed, ValidationError
from ..core.models import utcnow
from .models import (
    API_TOKEN_PREFIX,
    AccountLink,
    ApiToken,
    ApiTokenScope,
    LinkPurpose,
    User,
    UserRole,
)


def _role_message() -> str:
    return gettext("The role must be admin or organizer.")


def hash_password(password: str) -> str:
    # scrypt by default; tests may choose a cheaper method through the config.
    method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
    return generate_password_hash(password, method=method)


def create_user(
    session: Session, actor: User | None, email: str, password: str, role: str, name: str = ""
) -> User:
    email = email.strip().lower()
    errors = _new_account_errors(session, email, role, name)
    rules.add(errors, "password", rules.password(password, (email, name)))
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


def _new_account_errors(session: Session, email: str, role: str, name: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    rules.add(errors, "email", rules.email(email))
    if "email" not in errors and session.scalar(
        select(func.count()).select_from(User).where(User.email == email)
    ):
        errors["email"] = gettext("An account for %(email)s already exists.", email=email)
    if role not in UserRole.__members__:
        errors["role"] = _role_message()
    rules.add(errors, "name", rules.text(name))
    return errors


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
        replace_open_links(session, user)
    session.commit()
    log.info(
        "user.updated actor=%s user=%s role=%s active=%s password_changed=%s",
        who(actor),
        user.email,
        role,
        active,
        password is not None,
    )


def replace_open_links(session: Session, user: User, now=None) -> None:
    """The account's unused invitation and reset links stop working (in the caller's
    transaction): a newer link, or a password chosen any way, replaces them."""
    session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.used.is_(None),
            AccountLink.replaced.is_(None),
        )
        .values(replaced=now or utcnow())
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
    replace_open_links(session, user)
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
    else:
        rules.add(errors, "repeat_password", rules.password_repeated(new, repeated))
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


# --- Invitation and password-reset links (issue 16) -------------------------------------
#
# An admin makes a link; the person opens it and chooses a password. The token is 256
# random bits shown once; only its SHA-256 is stored, so a copy of the database opens no
# account. A link works once, until it expires (ACCOUNT_LINK_DAYS), and a newer link or a
# chosen password replaces every older one.

# The password hash of an invited account until its owner chooses one: matches no password
# (werkzeug's check_password_hash answers False for it), and the login page checks the
# dummy hash instead so the time taken tells nothing.
NO_PASSWORD = "!"


class LinkUnusable(Exception):
    """The link cannot be used: unknown (404) or used, replaced or expired (410)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class IssuedLink:
    user: User
    purpose: str
    token: str
    expires: object  # an aware datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def link_address(issued: IssuedLink) -> str:
    """The absolute link, on SITE_URL (never the Host header a client chooses)."""
    path = "/invitation" if issued.purpose == LinkPurpose.invitation.value else "/password-reset"
    return current_app.config["SITE_URL"].rstrip("/") + f"{path}?token={issued.token}"


def has_password(user: User) -> bool:
    return user.password_hash != NO_PASSWORD


def _link_lifetime() -> timedelta:
    days = current_app.config["ACCOUNT_LINK_DAYS"] if has_app_context() else 7
    return timedelta(days=float(days))


def _new_link(session: Session, actor: User | None, user: User) -> IssuedLink:
    """Adds a link for the account (not committed) and replaces its open ones."""
    now = utcnow()
    replace_open_links(session, user, now)
    purpose = LinkPurpose.reset if has_password(user) else LinkPurpose.invitation
    token = secrets.token_urlsafe(32)
    link = AccountLink(
        user=user,
        purpose=purpose.value,
        token_hash=token_hash(token),
        created=now,
        expires=now + _link_lifetime(),
        created_by_id=actor.id if actor is not None else None,
    )
    session.add(link)
    return IssuedLink(user, purpose.value, token, link.expires)


def invite_user(
    session: Session, actor: User | None, email: str, role: str, name: str = ""
) -> IssuedLink:
    """A new account without a password, and the invitation link to choose one: one
    transaction."""
    email = email.strip().lower()
    errors = _new_account_errors(session, email, role, name)
    if errors:
        raise ValidationError(errors)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=NO_PASSWORD,
        feed_token=secrets.token_urlsafe(24),
        active=True,
    )
    session.add(user)
    session.flush()
    issued = _new_link(session, actor, user)
    session.commit()
    log.info("user.invited actor=%s user=%s role=%s", who(actor), email, role)
    return issued


def issue_link(session: Session, actor: User | None, user: User) -> IssuedLink:
    """A new link for an existing account, replacing its open ones: an invitation while the
    account has no password yet, else a password reset."""
    if not user.active:
        raise NotAllowed(
            gettext("%(email)s is deactivated; activate the account first.", email=user.email)
        )
    issued = _new_link(session, actor, user)
    session.commit()
    log.info("user.link_issued actor=%s user=%s purpose=%s", who(actor), user.email, issued.purpose)
    return issued


def open_link(session: Session, token: str) -> AccountLink:
    """The link a token opens, if it can still be used; else LinkUnusable."""
    link = session.scalar(select(AccountLink).where(AccountLink.token_hash == token_hash(token)))
    if link is None:
        raise LinkUnusable(
            404,
            gettext(
                "This link is not known. Check that it was copied whole, or ask an "
                "administrator for a new one."
            ),
        )
    if link.used is not None:
        message = gettext(
            "This link was already used. Log in, or ask an administrator for a new one."
        )
    elif link.replaced is not None:
        message = gettext("A newer link replaced this one. Use the newest link you were given.")
    elif link.expires <= utcnow() or not link.user.active:
        message = gettext("This link has expired. Ask an administrator for a new one.")
    else:
        return link
    raise LinkUnusable(410, message)


def use_link(session: Session, token: str, new: str, repeated: str) -> User:
    """Chooses the account's password through a link: the link is spent (once, even when
    two requests race), every other open link of the account is replaced, and every login
    session of the account ends. Returns the account, for the caller to log in."""
    link = open_link(session, token)
    user = link.user
    errors: dict[str, str] = {}
    message = rules.password(new, (user.email, user.name))
    if message:
        errors["new_password"] = message
    else:
        rules.add(errors, "repeat_password", rules.password_repeated(new, repeated))
    if errors:
        raise ValidationError(errors)
    now = utcnow()
    spent = session.execute(
        update(AccountLink)
        .where(
            AccountLink.id == link.id,
            AccountLink.used.is_(None),
            AccountLink.replaced.is_(None),
        )
        .values(used=now)
    )
    if spent.rowcount != 1:  # another request used it first
        session.rollback()
        raise LinkUnusable(
            410,
            gettext("This link was already used. Log in, or ask an administrator for a new one."),
        )
    replace_open_links(session, user, now)
    user.password_hash = hash_password(new)
    end_sessions(user)
    session.commit()
    log.info("user.link_used user=%s purpose=%s", user.email, link.purpose)
    return user
