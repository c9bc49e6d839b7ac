"""A series: what a run of events shares. Each occurrence is a full event of its own
(uid, venue, time, status, attendance, history) that points back here."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.models import Base, UTCDateTime, enum_check, utcnow
from ..events.models import EventFormat


class SeriesKind(enum.StrEnum):
    tour = "tour"
    recurrence = "recurrence"

    @property
    def lazy_label(self):
        return {"tour": _l("Tour"), "recurrence": _l("Recurring")}[self.value]

    @property
    def label(self) -> str:
        return str(self.lazy_label)


class Series(Base):
    __tablename__ = "series"
    __table_args__ = (enum_check("format", EventFormat), enum_check("kind", SeriesKind))

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable, like an event's: the RELATED-TO of each occurrence names it.
    uid: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    # The recurrence as the organizer gave it (RFC 5545 RRULE text), for the page.
    rule: Mapped[str] = mapped_column(String(500), default="")
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def keep_script(self) -> bool:
        return False

    @property
    def format_label(self) -> str:
        return EventFormat(self.format).label

    @property
    def kind_label(self) -> str:
        return SeriesKind(self.kind).label
