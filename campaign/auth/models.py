"""The people who plan the campaign."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import Base, UTCDateTime, enum_check, utcnow


class UserRole(enum.StrEnum):
    admin = "admin"
    organizer = "organizer"

    @property
    def lazy_label(self):
        return {"admin": _l("Admin"), "organizer": _l("Organizer")}[self.value]


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (enum_check("role", UserRole),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=UserRole.organizer.value)
    active: Mapped[bool] = mapped_column(default=True)
    feed_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the id a login session carries: raising it ends every session of the
    # account (logout, a new password, a new role, deactivation).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    def get_id(self) -> str:  # what Flask-Login keeps in the session cookie
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == UserRole.admin.value

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.email}>"


# -- personal API tokens -----------------------------------------------------------------


class ApiTokenScope(enum.StrEnum):
    read = "read"
    write = "write"

    @property
    def lazy_label(self):
        return {
            "read": _l("Read (drafts too)"),
            "write": _l("Read and write events"),
        }[self.value]


# A token's secret is this prefix and 43 characters of a 256-bit random value: secret
# scanners and people recognise it, and it is never stored, only its SHA-256.
API_TOKEN_PREFIX = "cpt_"


class ApiToken(Base):
    """A personal token for the API (``Authorization: Bearer``), named and scoped by its
    owner, revocable by the owner and by admins. Only the SHA-256 of the secret is kept,
    and its first characters, so people can tell their tokens apart."""

    __tablename__ = "api_tokens"
    __table_args__ = (enum_check("scope", ApiTokenScope),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(10))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(12))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def can_write(self) -> bool:
        return self.scope == ApiTokenScope.write.value

    def usable(self, now: datetime) -> bool:
        return (
            self.revoked is None
            and (self.expires is None or self.expires > now)
            and self.user.active
        )


class LinkPurpose(enum.StrEnum):
    """What a one-time account link is for (issue 16)."""

    invitation = "invitation"
    reset = "reset"


class AccountLink(Base):
    """A single-use, expiring link that lets a person choose a password: an invitation to a
    new account or a password reset, made by an admin. Only a hash of its token is kept;
    the link itself is shown once (or e-mailed) and never stored."""

    __tablename__ = "account_links"
    __table_args__ = (enum_check("purpose", LinkPurpose),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    # SHA-256 of the token (hex): the token is 256 random bits, so a fast hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set once: when the link was used, or when a newer link or a new password replaced it.
    used: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<AccountLink {self.purpose} user={self.user_id}>"
