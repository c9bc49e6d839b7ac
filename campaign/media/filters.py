"""The media filter: the EventFilter's parameters and parsing helpers, for media items.

``theme``, ``partner`` (the outlet), ``kind``, ``status`` (``planned`` for organizers
only), ``from``, ``to`` (dates of publication in the campaign zone), ``q`` and ``page``;
an unknown value is a FilterError naming the parameter, as on every event list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, joinedload, selectinload, subqueryload

from ..catalog.models import Partner, Theme
from ..core.text import fold
from ..events.filters import (
    EventFilter,
    FilterError,
    check_date_range,
    lookup_slugs,
    parse_date,
    parse_page,
    parse_statuses,
    parse_words,
    raw_values,
)
from ..i18n import localized, script_text
from .models import MediaItem, MediaKind, MediaStatus, media_item_themes

PUBLIC_STATUSES = (MediaStatus.published.value,)
FILTER_PARAMS = ("theme", "partner", "kind", "status", "from", "to", "q")


@dataclass(frozen=True)
class MediaFilter:
    themes: tuple[Theme, ...] = ()
    partners: tuple[Partner, ...] = ()
    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    words: tuple[str, ...] = ()
    page: int = 1
    include_planned: bool = False
    campaign_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Belgrade"))
    args: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(
        cls,
        args,
        session: Session,
        *,
        include_planned: bool,
        campaign_zone: ZoneInfo,
        fixed: dict | None = None,
    ) -> MediaFilter:
        def values(name: str) -> list[str]:
            return list(dict.fromkeys([*(fixed or {}).get(name, ()), *raw_values(args, name)]))

        themes = lookup_slugs(session, Theme, "theme", values("theme"))
        partners = lookup_slugs(session, Partner, "partner", values("partner"))
        kinds = values("kind")
        for k in kinds:
            if k not in MediaKind.__members__:
                raise FilterError(
                    "kind",
                    gettext(
                        "unknown kind '%(value)s'; use %(choices)s",
                        value=k,
                        choices=", ".join(m.value for m in MediaKind),
                    ),
                )
        statuses = parse_statuses(
            values("status"),
            MediaStatus,
            [s.value for s in MediaStatus] if include_planned else list(PUBLIC_STATUSES),
            lambda s: gettext("'%(value)s' items are visible to organizers only", value=s),
        )
        date_from = parse_date("from", values("from"))
        date_to = parse_date("to", values("to"))
        check_date_range(date_from, date_to)
        words = parse_words(values("q"))
        page = parse_page(values("page"))
        kept = tuple((name, v) for name in FILTER_PARAMS for v in raw_values(args, name))
        return cls(
            themes=tuple(themes),
            partners=tuple(partners),
            kinds=tuple(kinds),
            statuses=tuple(statuses),
            date_from=date_from,
            date_to=date_to,
            words=words,
            page=page,
            include_planned=include_planned,
            campaign_zone=campaign_zone,
            args=kept,
        )

    @classmethod
    def planned_with(cls, flt: EventFilter | None) -> MediaFilter | None:
        """The planned items that go with the events of ``flt`` in organizers' calendars
        (private feeds, the month view): its themes, partners (as outlets), dates and
        words apply; None when no item does (a filter without drafts, which anybody may
        see, or one narrowed by what only events have: format, city, status, series)."""
        if flt is None or not flt.include_drafts:
            return None
        if flt.formats or flt.cities or flt.statuses or flt.series is not None or flt.event_ids:
            return None
        return cls(
            themes=flt.themes,
            partners=flt.partners,
            statuses=(MediaStatus.planned.value,),
            date_from=flt.date_from,
            date_to=flt.date_to,
            words=flt.words,
            include_planned=True,
            campaign_zone=flt.campaign_zone,
        )

    # -- querying ------------------------------------------------------------------------

    def conditions(self) -> list:
        conds = []
        if self.statuses:
            conds.append(MediaItem.status.in_(self.statuses))
        elif not self.include_planned:
            conds.append(MediaItem.status.in_(PUBLIC_STATUSES))
        if self.kinds:
            conds.append(MediaItem.kind.in_(self.kinds))
        if self.themes:
            conds.append(
                exists().where(
                    media_item_themes.c.media_item_id == MediaItem.id,
                    media_item_themes.c.theme_id.in_([t.id for t in self.themes]),
                )
            )
        if self.partners:
            conds.append(MediaItem.outlet_id.in_([p.id for p in self.partners]))
        if self.date_from:
            conds.append(MediaItem.published_at >= self._midnight(self.date_from))
        if self.date_to:
            conds.append(MediaItem.published_at < self._midnight(self.date_to + timedelta(days=1)))
        for word in self.words:
            conds.append(MediaItem.search_text.contains(fold(word), autoescape=True))
        return conds

    def select(self) -> Select:
        """Matching items, newest first, nothing loaded eagerly."""
        return (
            select(MediaItem)
            .where(*self.conditions())
            .order_by(MediaItem.published_at.desc(), MediaItem.id.desc())
        )

    def select_loaded(self, *, unbounded: bool = False) -> Select:
        return self.select().options(*media_list_loading(unbounded=unbounded))

    def count(self, session: Session) -> int:
        return session.scalar(select(func.count()).select_from(MediaItem).where(*self.conditions()))

    def page_of(self, session: Session, per_page: int) -> tuple[list[MediaItem], int, int]:
        count = self.count(session)
        items = session.scalars(
            self.select_loaded().limit(per_page).offset((self.page - 1) * per_page)
        ).all()
        return items, count, max(1, -(-count // per_page))

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.campaign_zone)

    # -- describing ----------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        return not any(value for _name, value in self.args)

    def describe(self) -> str:
        parts = [localized(t, "name") for t in self.themes]
        parts += [localized(p, "name") for p in self.partners]
        parts += [MediaKind(k).label for k in self.kinds]
        parts += [MediaStatus(s).label for s in self.statuses]
        if self.date_from or self.date_to:
            parts.append(f"{self.date_from or '…'} – {self.date_to or '…'}")
        if self.words:
            parts.append("“" + script_text(" ".join(self.words)) + "”")
        return ", ".join(parts)

    def query_args(self, **extra) -> list[tuple[str, str]]:
        pairs = list(self.args)
        for k, v in extra.items():
            if v is not None:
                pairs.append((k, str(v)))
        return pairs


def media_list_loading(*, unbounded: bool = False):
    """Outlet joined, themes in one more query (the events only on an item's page)."""
    collection = subqueryload if unbounded else selectinload
    return (joinedload(MediaItem.outlet), collection(MediaItem.themes))
