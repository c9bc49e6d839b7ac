"""Media items: TV and radio appearances, interviews, op-eds and articles, with their
themes, related events, estimated reach and history."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
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
from ..catalog.models import Partner, Theme
from ..core.models import Base, ChangeRecord, UTCDateTime, enum_check, utcnow
from ..events.models import Event
from ..i18n import localized


class _Labelled(enum.StrEnum):
    @property
    def label(self) -> str:
        return str(self.lazy_label)


class MediaKind(_Labelled):
    tv = "tv"
    radio = "radio"
    print = "print"
    online = "online"
    agency = "agency"
    social = "social"

    @property
    def lazy_label(self):
        return {
            "tv": _l("Television"),
            "radio": _l("Radio"),
            "print": _l("Print"),
            "online": _l("Online media"),
            "agency": _l("News agency"),
            "social": _l("Social media"),
        }[self.value]


class MediaStatus(_Labelled):
    planned = "planned"
    published = "published"

    @property
    def lazy_label(self):
        return {"planned": _l("Planned"), "published": _l("Published")}[self.value]


class MediaTone(_Labelled):
    positive = "positive"
    neutral = "neutral"
    negative = "negative"

    @property
    def lazy_label(self):
        return {
            "positive": _l("Positive"),
            "neutral": _l("Neutral"),
            "negative": _l("Negative"),
        }[self.value]


media_item_themes = Table(
    "media_item_themes",
    Base.metadata,
    Column("media_item_id", ForeignKey("media_items.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("themes.id", ondelete="RESTRICT"), primary_key=True, index=True),
)

# A deleted (draft) event simply drops out of the coverage that named it.
media_item_events = Table(
    "media_item_events",
    Base.metadata,
    Column("media_item_id", ForeignKey("media_items.id", ondelete="CASCADE"), primary_key=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class MediaItem(Base):
    __tablename__ = "media_items"
    __table_args__ = (
        enum_check("kind", MediaKind),
        enum_check("status", MediaStatus),
        enum_check("tone", MediaTone),
        CheckConstraint("estimated_reach >= 0", name="estimated_reach_non_negative"),
        Index("ix_media_items_published_at_id", "published_at", "id"),
        # Covers what the reach report sums (campaign.reports.reach): read without the table.
        Index(
            "ix_media_items_reach", "status", "published_at", "kind", "outlet_id", "estimated_reach"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    headline: Mapped[str] = mapped_column(String(300))
    outlet_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Belgrade")
    link: Mapped[str] = mapped_column(String(500), default="")
    spokesperson: Mapped[str] = mapped_column(String(200), default="")
    estimated_reach: Mapped[int | None] = mapped_column(Integer)
    tone: Mapped[str | None] = mapped_column(String(20))
    # Organizers only: never on a public page or export.
    notes: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    # Headline, spokesperson and outlet name folded: the column `q` scans (as for events).
    search_text: Mapped[str] = mapped_column(Text, default="")

    outlet: Mapped[Partner] = relationship(lazy="raise")
    owner: Mapped[User | None] = relationship(lazy="raise")
    themes: Mapped[list[Theme]] = relationship(
        secondary=media_item_themes, lazy="raise", order_by=Theme.name
    )
    events: Mapped[list[Event]] = relationship(
        secondary=media_item_events, lazy="raise", order_by=Event.starts_at
    )
    changes: Mapped[list[MediaItemChange]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        back_populates="item",
        order_by="MediaItemChange.id.desc()",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def local_published(self) -> datetime:
        try:
            return self.published_at.astimezone(ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError, OverflowError):
            return self.published_at.astimezone(UTC)

    @property
    def kind_label(self) -> str:
        return MediaKind(self.kind).label

    @property
    def status_label(self) -> str:
        return MediaStatus(self.status).label

    @property
    def tone_label(self) -> str:
        return MediaTone(self.tone).label if self.tone else ""

    @property
    def is_planned(self) -> bool:
        return self.status == MediaStatus.planned.value

    @property
    def themes_in_order(self) -> list[Theme]:
        return sorted(self.themes, key=lambda t: (localized(t, "name"), t.slug))

    def __repr__(self) -> str:
        return f"<MediaItem {self.id} {self.headline!r}>"


class MediaItemChange(ChangeRecord, Base):
    """One entry of a media item's history: who did what, when, and which fields changed."""

    __tablename__ = "media_item_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    media_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("media_items.id", ondelete="CASCADE"), index=True
    )

    item: Mapped[MediaItem | None] = relationship(back_populates="changes", lazy="raise")
