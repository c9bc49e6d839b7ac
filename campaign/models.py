"""The campaign's data: themes, partners, venues, events and the people who plan them."""

from __future__ import annotations

import enum
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def fold(text: str) -> str:
    """Text as the search compares it: NFC, then casefolded (Đ→đ, ß→ss)."""
    return unicodedata.normalize("NFC", text).casefold()


def utcnow() -> datetime:
    # Whole microseconds survive every backend; feeds compare these values byte for byte.
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class EventFormat(enum.StrEnum):
    panel = "panel"
    round_table = "round_table"
    seminar = "seminar"

    @property
    def label(self) -> str:
        return {"panel": "Panel", "round_table": "Round table", "seminar": "Seminar"}[self.value]


class EventStatus(enum.StrEnum):
    draft = "draft"
    confirmed = "confirmed"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class PartnerKind(enum.StrEnum):
    ngo = "ngo"
    academic = "academic"
    research = "research"
    media = "media"
    government = "government"
    international = "international"

    @property
    def label(self) -> str:
        return {
            "ngo": "NGO",
            "academic": "Academic institution",
            "research": "Research institute",
            "media": "Media",
            "government": "Government",
            "international": "International organisation",
        }[self.value]


class PartnerRole(enum.StrEnum):
    host = "host"
    co_organizer = "co_organizer"
    speakers = "speakers"
    media_partner = "media_partner"

    @property
    def label(self) -> str:
        return {
            "host": "Host",
            "co_organizer": "Co-organizer",
            "speakers": "Speakers",
            "media_partner": "Media partner",
        }[self.value]


class UserRole(enum.StrEnum):
    admin = "admin"
    organizer = "organizer"


def _enum_check(column: str, values: type[enum.StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_valid")


class Theme(Base):
    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    key_messages: Mapped[str] = mapped_column(Text, default="")
    colour: Mapped[str] = mapped_column(String(7), default="#1f5f99")

    def __repr__(self) -> str:
        return f"<Theme {self.slug}>"


class Partner(Base):
    __tablename__ = "partners"
    __table_args__ = (_enum_check("kind", PartnerKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100), default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    @property
    def kind_label(self) -> str:
        return PartnerKind(self.kind).label

    def __repr__(self) -> str:
        return f"<Partner {self.slug}>"


class Venue(Base):
    __tablename__ = "venues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    capacity: Mapped[int | None] = mapped_column(Integer)

    @property
    def label(self) -> str:
        return f"{self.name}, {self.city}"

    def __repr__(self) -> str:
        return f"<Venue {self.name!r} {self.city!r}>"


event_themes = Table(
    "event_themes",
    Base.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("themes.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class EventPartner(Base):
    """A partner's part in one event: host, co-organizer, speakers or media partner."""

    __tablename__ = "event_partners"
    __table_args__ = (_enum_check("role", PartnerRole),)

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    partner: Mapped[Partner] = relationship(lazy="raise")

    @property
    def role_label(self) -> str:
        return PartnerRole(self.role).label


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (_enum_check("role", UserRole),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=UserRole.organizer.value)
    active: Mapped[bool] = mapped_column(default=True)
    feed_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

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


# Panels, round tables and seminars last hours, at most days; the bound lets date filters
# use the start index for "overlaps this range" (see EventFilter.conditions).
MAX_EVENT_DURATION = timedelta(days=14)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        _enum_check("format", EventFormat),
        _enum_check("status", EventStatus),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("expected_audience >= 0", name="expected_audience_non_negative"),
        CheckConstraint("attendance >= 0", name="attendance_non_negative"),
        Index("ix_events_starts_at_id", "starts_at", "id"),
        Index("ix_events_ends_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20), default=EventStatus.draft.value, index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Belgrade")
    venue_id: Mapped[int | None] = mapped_column(
        ForeignKey("venues.id", ondelete="RESTRICT"), index=True
    )
    online_url: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    expected_audience: Mapped[int | None] = mapped_column(Integer)
    attendance: Mapped[int | None] = mapped_column(Integer)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sequence: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    # Title, description, venue and partner names, NFC + casefolded: the one column the
    # `q` filter scans. Derived, but kept by the operations layer so search stays a plain
    # substring scan on both backends instead of per-row Unicode folding and joins.
    search_text: Mapped[str] = mapped_column(Text, default="")

    venue: Mapped[Venue | None] = relationship(lazy="raise")
    owner: Mapped[User | None] = relationship(lazy="raise")
    themes: Mapped[list[Theme]] = relationship(
        secondary=event_themes, lazy="raise", order_by=Theme.name
    )
    partner_links: Mapped[list[EventPartner]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by=EventPartner.role
    )
    changes: Mapped[list[EventChange]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        back_populates="event",
        order_by="EventChange.id.desc()",
    )

    # Optimistic locking: every UPDATE says "WHERE version = <the one I read>".
    __mapper_args__ = {"version_id_col": version}

    @staticmethod
    def new_uid() -> str:
        return f"{uuid.uuid4()}@ipap2-campaign"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.zone)

    @property
    def format_label(self) -> str:
        return EventFormat(self.format).label

    @property
    def status_label(self) -> str:
        return EventStatus(self.status).label

    # Relationships come back in whatever order the database likes for ties; pages,
    # feeds and exports show these orders, so the same data always gives the same bytes.
    @property
    def themes_in_order(self) -> list[Theme]:
        return sorted(self.themes, key=lambda t: (t.name, t.slug))

    @property
    def partners_in_order(self) -> list[EventPartner]:
        """Hosts first, then co-organizers, speakers and media partners; by name within."""
        order = {role.value: n for n, role in enumerate(PartnerRole)}
        return sorted(
            self.partner_links,
            key=lambda lk: (order.get(lk.role, 99), lk.partner.name, lk.partner.slug),
        )

    @property
    def is_draft(self) -> bool:
        return self.status == EventStatus.draft.value

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.cancelled.value

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title!r}>"


class EventChange(Base):
    """One entry of an event's history: who did what, when, and which fields changed."""

    __tablename__ = "event_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(20))
    # {"field": [old, new], ...} with values as shown to people.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    event: Mapped[Event | None] = relationship(back_populates="changes", lazy="raise")
    user: Mapped[User | None] = relationship(lazy="raise")


class FeedState(Base):
    """One row whose ``generation`` rises with every write to what calendar feeds show
    (events, their themes and partners, themes, partners, venues).

    A feed request reads this one number to know whether its cached answer is still
    current, instead of reading every event's version (see campaign/feeds.py). It lives
    in the database, not in a worker's memory, so every gunicorn worker sees each change.
    """

    __tablename__ = "feed_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(default=0)
    # When the generation last rose, in whole seconds: the feeds' Last-Modified.
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Random per database: a worker's cached answers for generation N of one database are
    # never taken for generation N of another (a recreated or restored database).
    epoch: Mapped[str] = mapped_column(String(36), default=lambda: str(uuid.uuid4()))
