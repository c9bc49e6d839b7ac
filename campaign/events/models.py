"""Events: panels, round tables and seminars, their themes, partners and history."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..catalog.models import Partner, Theme, Venue
from ..core.models import Base, ChangeRecord, UTCDateTime, enum_check, utcnow
from ..i18n import localized

if TYPE_CHECKING:
    from ..series.models import Series


class EventFormat(enum.StrEnum):
    panel = "panel"
    round_table = "round_table"
    seminar = "seminar"

    @property
    def lazy_label(self):
        return {"panel": _l("Panel"), "round_table": _l("Round table"), "seminar": _l("Seminar")}[
            self.value
        ]

    @property
    def label(self) -> str:
        return str(self.lazy_label)


class EventStatus(enum.StrEnum):
    draft = "draft"
    confirmed = "confirmed"
    cancelled = "cancelled"

    @property
    def lazy_label(self):
        return {"draft": _l("Draft"), "confirmed": _l("Confirmed"), "cancelled": _l("Cancelled")}[
            self.value
        ]

    @property
    def label(self) -> str:
        return str(self.lazy_label)


class PartnerRole(enum.StrEnum):
    host = "host"
    co_organizer = "co_organizer"
    speakers = "speakers"
    media_partner = "media_partner"

    @property
    def lazy_label(self):
        return {
            "host": _l("Host"),
            "co_organizer": _l("Co-organizer"),
            "speakers": _l("Speakers"),
            "media_partner": _l("Media partner"),
        }[self.value]

    @property
    def label(self) -> str:
        return str(self.lazy_label)


event_themes = Table(
    "event_themes",
    Base.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("themes.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class EventPartner(Base):
    """A partner's part in one event: host, co-organizer, speakers or media partner."""

    __tablename__ = "event_partners"
    __table_args__ = (enum_check("role", PartnerRole),)

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


# Panels, round tables and seminars last hours, at most days; the bound lets date filters
# use the start index for "overlaps this range" (see EventFilter.conditions).
MAX_EVENT_DURATION = timedelta(days=14)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        enum_check("format", EventFormat),
        enum_check("status", EventStatus),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("expected_audience >= 0", name="expected_audience_non_negative"),
        CheckConstraint("attendance >= 0", name="attendance_non_negative"),
        # Start order, covering what lists check on every row they walk (end, status): a
        # page far down a list, or a month, is read from the index alone.
        Index("ix_events_starts_at_id_ends_at_status", "starts_at", "id", "ends_at", "status"),
        Index("ix_events_ends_at", "ends_at"),
        # Counts a city (its venues) and format filter without reading other formats.
        Index("ix_events_venue_id_format", "venue_id", "format"),
        # Covers what the reach report and the dashboard sum per period (status, time,
        # place, people): their GROUP BYs read this index, not the table.
        Index(
            "ix_events_reach",
            "status",
            "starts_at",
            "ends_at",
            "venue_id",
            "attendance",
            "expected_audience",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20), default=EventStatus.draft.value, index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Belgrade")
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id", ondelete="RESTRICT"))
    online_url: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # English texts for the English interface; empty means "show the Serbian one".
    title_en: Mapped[str] = mapped_column(String(200), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    expected_audience: Mapped[int | None] = mapped_column(Integer)
    attendance: Mapped[int | None] = mapped_column(Integer)
    # Why a cancelled event was called off (optional; empty for other statuses).
    cancel_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
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
    # The touring or recurring series this event is one occurrence of (campaign.series);
    # an occurrence can be detached and lives on as a single event.
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("series.id", ondelete="SET NULL"), index=True
    )
    # The feed generation (calendar.models.FeedState) of the event's last write, stamped
    # by calendar.tracking: a feed worker that knows generation N reads only the events
    # stamped after N (calendar.feeds), not every event's version.
    feed_generation: Mapped[int] = mapped_column(default=0, server_default="0", index=True)

    venue: Mapped[Venue | None] = relationship(lazy="raise")
    owner: Mapped[User | None] = relationship(lazy="raise")
    series: Mapped[Series | None] = relationship("Series", lazy="raise")
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

    def local(self, instant: datetime) -> datetime:
        """``instant`` in the event's zone. A stored row that no form accepts any more (a
        zone this machine lacks, a time whose local date is past year 1 or 9999) is shown
        in UTC: the same instant, rather than no page, export or feed at all."""
        try:
            return instant.astimezone(self.zone)
        except (ZoneInfoNotFoundError, ValueError, OverflowError):
            return instant.astimezone(UTC)

    @property
    def local_start(self) -> datetime:
        return self.local(self.starts_at)

    @property
    def local_end(self) -> datetime:
        return self.local(self.ends_at)

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
        # In the language being shown, so feeds and pages list them alphabetically.
        return sorted(self.themes, key=lambda t: (localized(t, "name"), t.slug))

    @property
    def partners_in_order(self) -> list[EventPartner]:
        """Hosts first, then co-organizers, speakers and media partners; by name within."""
        order = {role.value: n for n, role in enumerate(PartnerRole)}
        return sorted(
            self.partner_links,
            key=lambda lk: (order.get(lk.role, 99), localized(lk.partner, "name"), lk.partner.slug),
        )

    @property
    def is_draft(self) -> bool:
        return self.status == EventStatus.draft.value

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.cancelled.value

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title!r}>"


class EventChange(ChangeRecord, Base):
    """One entry of an event's history: who did what, when, and which fields changed."""

    __tablename__ = "event_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )

    event: Mapped[Event | None] = relationship(back_populates="changes", lazy="raise")
