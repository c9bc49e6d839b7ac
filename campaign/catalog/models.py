"""Themes, partners and venues: what events are about, with whom and where."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.models import Base, enum_check


class PartnerKind(enum.StrEnum):
    ngo = "ngo"
    academic = "academic"
    research = "research"
    media = "media"
    government = "government"
    international = "international"

    @property
    def lazy_label(self):
        return {
            "ngo": _l("NGO"),
            "academic": _l("Academic institution"),
            "research": _l("Research institute"),
            "media": _l("Media"),
            "government": _l("Government"),
            "international": _l("International organisation"),
        }[self.value]

    @property
    def label(self) -> str:
        return str(self.lazy_label)


class Theme(Base):
    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    key_messages: Mapped[str] = mapped_column(Text, default="")
    # English texts for the English interface; empty means "show the Serbian one".
    name_en: Mapped[str] = mapped_column(String(200), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    key_messages_en: Mapped[str] = mapped_column(Text, default="")
    colour: Mapped[str] = mapped_column(String(7), default="#1f5f99")

    def __repr__(self) -> str:
        return f"<Theme {self.slug}>"


class Partner(Base):
    __tablename__ = "partners"
    __table_args__ = (enum_check("kind", PartnerKind),)

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
    name_en: Mapped[str] = mapped_column(String(200), default="")
    # A name that must not change script (a Latin brand name in the Cyrillic interface).
    keep_script: Mapped[bool] = mapped_column(default=False)

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
    keep_script: Mapped[bool] = mapped_column(default=False)

    @property
    def label(self) -> str:
        return f"{self.name}, {self.city}"

    def __repr__(self) -> str:
        return f"<Venue {self.name!r} {self.city!r}>"
