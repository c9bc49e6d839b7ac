"""The one event filter: query-string parameters in, a validated filter and a select() out.

Every list of events (HTML list, month view, feeds, exports, dashboard, CLI export) parses
its parameters here, so a parameter means the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import Select, case, exists, func, select
from sqlalchemy.orm import Session, joinedload, selectinload, subqueryload

from ..catalog.models import Partner, Theme, Venue
from ..core import validation as rules
from ..core.text import fold
from ..i18n import localized, script_text
from .models import (
    MAX_EVENT_DURATION,
    Event,
    EventFormat,
    EventPartner,
    EventStatus,
    event_themes,
)

PUBLIC_STATUSES = (EventStatus.confirmed.value, EventStatus.cancelled.value)
MAX_VALUES = 50
MAX_QUERY_LENGTH = 200
MAX_PAGE = 100_000
FILTER_PARAMS = ("theme", "partner", "format", "city", "status", "from", "to", "q", "series")
# Which side of now an HTML list shows (feeds and exports always keep every event).
WHEN_VALUES = ("upcoming", "past")


class FilterError(ValueError):
    """A filter parameter has a value we cannot use; the message names the parameter."""

    def __init__(self, param: str, message: str):
        self.param = param
        super().__init__(f"{param}: {message}")


@dataclass(frozen=True)
class EventFilter:
    themes: tuple[Theme, ...] = ()
    partners: tuple[Partner, ...] = ()
    formats: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    words: tuple[str, ...] = ()
    page: int = 1
    # "upcoming", "past" or None (upcoming, or the most recent when nothing is upcoming);
    # only paginated HTML lists (:meth:`page_of`) look at it.
    when: str | None = None
    include_drafts: bool = False
    campaign_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Belgrade"))
    # The raw values, to rebuild links (export, feed, next page) that keep the filter.
    args: tuple[tuple[str, str], ...] = ()
    # The touring or recurring series the events belong to (/series/<id>/calendar.ics).
    series: Any = None
    # Set by code, never by a parameter: one event's own calendar (its .ics download).
    event_ids: tuple[int, ...] = ()

    # -- parsing -------------------------------------------------------------------------

    @classmethod
    def parse(
        cls,
        args,
        session: Session,
        *,
        include_drafts: bool,
        campaign_zone: ZoneInfo,
        fixed: dict | None = None,
    ) -> EventFilter:
        """Validate ``args`` (a MultiDict or a dict of lists) and look up slugs.

        ``fixed`` adds constraints from the URL itself, e.g. ``{"theme": ["eadrcc"]}`` on
        ``/themes/eadrcc/calendar.ics``. Raises :class:`FilterError` on any bad value.
        """

        def raw(name: str) -> list[str]:
            return raw_values(args, name)

        def values(name: str) -> list[str]:
            return list(dict.fromkeys([*(fixed or {}).get(name, ()), *raw(name)]))

        themes = lookup_slugs(session, Theme, "theme", values("theme"))
        partners = lookup_slugs(session, Partner, "partner", values("partner"))

        formats = values("format")
        for f in formats:
            if f not in EventFormat.__members__:
                raise FilterError(
                    "format",
                    gettext(
                        "unknown format '%(value)s'; use %(choices)s",
                        value=f,
                        choices="panel, round_table or seminar",
                    ),
                )

        statuses = values("status")
        allowed = [s.value for s in EventStatus] if include_drafts else list(PUBLIC_STATUSES)
        for s in statuses:
            if s not in EventStatus.__members__:
                raise FilterError(
                    "status",
                    gettext(
                        "unknown status '%(value)s'; use %(choices)s",
                        value=s,
                        choices=", ".join(allowed),
                    ),
                )
            if s not in allowed:
                raise FilterError(
                    "status",
                    gettext("'%(value)s' events are visible to organizers only", value=s),
                )

        cities = values("city")
        if cities:
            known = set(
                session.scalars(
                    select(func.lower(Venue.city)).where(
                        func.lower(Venue.city).in_([c.lower() for c in cities])
                    )
                )
            )
            for c in cities:
                if c.lower() not in known:
                    raise FilterError(
                        "city", gettext("no venue is in a city called '%(city)s'", city=c)
                    )

        date_from = parse_date("from", values("from"))
        date_to = parse_date("to", values("to"))
        check_date_range(date_from, date_to)

        words = parse_words(values("q"))
        page = parse_page(values("page"))

        whens = values("when")
        if len(whens) > 1:
            raise FilterError("when", gettext("give one %(when)s value", when="'when'"))
        if whens and whens[0] not in WHEN_VALUES:
            raise FilterError(
                "when",
                gettext(
                    "unknown value '%(value)s'; use %(choices)s",
                    value=whens[0],
                    choices="upcoming or past",
                ),
            )

        series = _lookup_series(session, values("series"), include_drafts)

        kept = tuple((name, v) for name in FILTER_PARAMS for v in raw(name))

        return cls(
            themes=tuple(themes),
            partners=tuple(partners),
            formats=tuple(formats),
            cities=tuple(cities),
            statuses=tuple(statuses),
            date_from=date_from,
            date_to=date_to,
            words=words,
            page=page,
            when=whens[0] if whens else None,
            include_drafts=include_drafts,
            campaign_zone=campaign_zone,
            args=kept,
            series=series,
        )

    # -- querying ------------------------------------------------------------------------

    @property
    def cache_key(self) -> tuple:
        """What decides which events match, as plain values: two filters with the same key
        select the same events (the page number is not part of it)."""
        return (
            tuple(sorted(t.id for t in self.themes)),
            tuple(sorted(p.id for p in self.partners)),
            tuple(sorted(self.formats)),
            tuple(sorted({c.lower() for c in self.cities})),
            tuple(sorted(self.statuses)),
            self.date_from,
            self.date_to,
            tuple(sorted(fold(w) for w in self.words)),
            self.include_drafts,
            self.campaign_zone.key,
            self.event_ids,
            self.series.id if self.series is not None else None,
        )

    def conditions(self) -> list:
        conds = []
        if self.event_ids:
            conds.append(Event.id.in_(self.event_ids))
        if self.series is not None:
            conds.append(Event.series_id == self.series.id)
        if self.statuses:
            conds.append(Event.status.in_(self.statuses))
        elif not self.include_drafts:
            conds.append(Event.status.in_(PUBLIC_STATUSES))
        if self.formats:
            conds.append(Event.format.in_(self.formats))
        if self.themes:
            conds.append(
                exists().where(
                    event_themes.c.event_id == Event.id,
                    event_themes.c.theme_id.in_([t.id for t in self.themes]),
                )
            )
        if self.partners:
            conds.append(
                exists().where(
                    EventPartner.event_id == Event.id,
                    EventPartner.partner_id.in_([p.id for p in self.partners]),
                )
            )
        if self.cities:
            conds.append(
                Event.venue_id.in_(
                    select(Venue.id).where(
                        func.lower(Venue.city).in_([c.lower() for c in self.cities])
                    )
                )
            )
        # An event belongs to a date range when any part of it falls inside the range. The
        # bound on its start is implied by MAX_EVENT_DURATION and lets the start index work.
        if self.date_from:
            start = self._midnight(self.date_from)
            conds.append(Event.ends_at > start)
            conds.append(Event.starts_at > start - MAX_EVENT_DURATION)
        if self.date_to:
            conds.append(Event.starts_at < self._midnight(self.date_to + timedelta(days=1)))
        for word in self.words:
            conds.append(Event.search_text.contains(fold(word), autoescape=True))
        return conds

    def select(self) -> Select:
        """Matching events in start order, with nothing loaded eagerly."""
        return select(Event).where(*self.conditions()).order_by(Event.starts_at, Event.id)

    def select_loaded(self, *, unbounded: bool = False) -> Select:
        """Matching events with venue, themes and partners loaded in a fixed number of queries.

        ``unbounded`` is for lists without a page size (month view, feeds): see
        :func:`event_list_loading`.
        """
        return self.select().options(*event_list_loading(unbounded=unbounded))

    def page_of(self, session: Session, per_page: int, now: datetime | None = None) -> ListPage:
        """This filter's page of events (fully loaded) for an HTML list: upcoming events
        (not yet ended at ``now``) in start order, or with ``when=past`` the past ones newest
        first. Without ``when``, a filter with nothing upcoming shows the most recent past
        events (``fallback``). Both sides are counted in one statement."""
        now = now or datetime.now(UTC)
        is_upcoming = Event.ends_at > now
        upcoming, total = session.execute(
            select(func.coalesce(func.sum(case((is_upcoming, 1), else_=0)), 0), func.count())
            .select_from(Event)
            .where(*self.conditions())
        ).one()
        upcoming, past = int(upcoming), int(total) - int(upcoming)
        when = self.when or ("past" if upcoming == 0 and past else "upcoming")
        if when == "upcoming":
            query = self.select_loaded().where(
                is_upcoming, Event.starts_at > now - MAX_EVENT_DURATION
            )
            count = upcoming
        else:
            query = (
                self.select_loaded()
                .where(~is_upcoming)
                .order_by(None)
                .order_by(Event.starts_at.desc(), Event.id.desc())
            )
            count = past
        events = session.scalars(query.limit(per_page).offset((self.page - 1) * per_page)).all()
        return ListPage(
            events=list(events),
            count=count,
            pages=max(1, -(-count // per_page)),
            when=when,
            upcoming=upcoming,
            past=past,
            fallback=self.when is None and when == "past",
        )

    def count(self, session: Session) -> int:
        return session.scalar(select(func.count()).select_from(Event).where(*self.conditions()))

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.campaign_zone)

    # -- describing ----------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        return not any(value for name, value in self.args)

    def describe(self) -> str:
        """Words for a calendar name or a file name: "Cyber security, Novi Sad"."""
        parts = [localized(self.series, "title")] if self.series is not None else []
        parts += [localized(t, "name") for t in self.themes]
        parts += [localized(p, "name") for p in self.partners]
        parts += [EventFormat(f).label for f in self.formats]
        parts += [script_text(c) for c in self.cities]
        parts += [EventStatus(s).label for s in self.statuses]
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


@dataclass(frozen=True)
class ListPage:
    """One page of an HTML list and where it stands: which side of now it shows
    (``when``), how many events each side has, and whether it fell back to the past
    because nothing is upcoming."""

    events: list[Event]
    count: int
    pages: int
    when: str
    upcoming: int
    past: int
    fallback: bool


def event_list_loading(*, unbounded: bool = False):
    """Eager loading for a list of events: venue joined, themes and partners one query each.

    selectinload sends its IN lists in chunks of 500 ids, so a list longer than that would
    cost more statements; lists without a page size use subqueryload, which re-runs the
    list's own query as a subquery once per collection whatever the number of rows.
    """
    collection = subqueryload if unbounded else selectinload
    return (
        joinedload(Event.venue),
        collection(Event.themes),
        collection(Event.partner_links).joinedload(EventPartner.partner),
    )


# -- parsing helpers, shared by every filter of this kind (events, media items) -----------


def raw_values(args, name: str) -> list[str]:
    """The non-empty values of ``name`` in ``args`` (a MultiDict or a dict of lists),
    stripped and without repeats; FilterError on too many, too long or NUL values."""
    if hasattr(args, "getlist"):
        got = args.getlist(name)
    else:
        got = args.get(name) or []
        if isinstance(got, str):
            got = [got]
    got = [v.strip() for v in got]
    got = [v for v in got if v]
    if len(got) > MAX_VALUES:
        raise FilterError(name, gettext("at most %(n)s values are allowed", n=MAX_VALUES))
    for v in got:
        if len(v) > MAX_QUERY_LENGTH or "\x00" in v:
            raise FilterError(name, gettext("value is too long or contains invalid characters"))
        # Invisible controls would match nothing, or (once folded away) everything.
        problem = rules.text(v)
        if problem:
            raise FilterError(name, problem)
    return list(dict.fromkeys(got))


def check_date_range(date_from: date | None, date_to: date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise FilterError(
            "from",
            gettext(
                "%(from)s (%(start)s) is after %(to)s (%(end)s)",
                start=date_from,
                end=date_to,
                **{"from": "'from'", "to": "'to'"},
            ),
        )


def parse_words(q: list[str]) -> tuple[str, ...]:
    if len(q) > 1:
        raise FilterError("q", gettext("give the search words in one %(q)s parameter", q="'q'"))
    words = tuple(dict.fromkeys(q[0].split())) if q else ()
    if len(words) > 20:
        raise FilterError("q", gettext("at most %(n)s search words are allowed", n=20))
    return words


def parse_page(pages: list[str]) -> int:
    if len(pages) > 1:
        raise FilterError("page", gettext("give one page number"))
    if not pages:
        return 1
    if not pages[0].isascii() or not pages[0].isdigit() or not 1 <= int(pages[0]) <= MAX_PAGE:
        raise FilterError("page", gettext("'%(value)s' is not a page number", value=pages[0]))
    return int(pages[0])


def series_is_public(session: Session, series_id: int) -> bool:
    """Whether any date of the series is public: a series of drafts only is not public
    yet, so who does not see drafts does not see its name either."""
    return (
        session.scalar(
            select(Event.id)
            .where(Event.series_id == series_id, Event.status.in_(PUBLIC_STATUSES))
            .limit(1)
        )
        is not None
    )


def _lookup_series(session: Session, raw: list[str], include_drafts: bool):
    """The series named by ``series=<id>`` (one at most), or None."""
    from ..series.models import Series

    if not raw:
        return None
    if len(raw) > 1:
        raise FilterError("series", gettext("give one series"))
    value = raw[0]
    series = None
    if value.isascii() and value.isdigit() and len(value) < 10:
        series = session.get(Series, int(value))
    if series is not None and not include_drafts and not series_is_public(session, series.id):
        series = None
    if series is None:
        raise FilterError("series", gettext("there is no series '%(value)s'", value=value))
    return series


def lookup_slugs(session: Session, model, param: str, slugs: list[str]):
    if not slugs:
        return []
    found = {row.slug: row for row in session.scalars(select(model).where(model.slug.in_(slugs)))}
    for slug in slugs:
        if slug not in found:
            raise FilterError(
                param, gettext("unknown %(param)s '%(slug)s'", param=param, slug=slug)
            )
    return [found[s] for s in slugs]


def parse_date(param: str, got: list[str]) -> date | None:
    if not got:
        return None
    if len(got) > 1:
        raise FilterError(param, gettext("give one '%(param)s' date", param=param))
    try:
        if len(got[0]) != 10:
            raise ValueError
        day = date.fromisoformat(got[0])
    except ValueError:
        raise FilterError(
            param,
            gettext(
                "'%(value)s' is not a date in the form %(format)s",
                value=got[0],
                format="YYYY-MM-DD",
            ),
        ) from None
    window_check(param, day, got[0])
    return day


def window_check(param: str, day: date, raw: str) -> None:
    """Every date a query names lies in the campaign's window of years (the one rule of
    core.validation): the filter, the month view and the dashboard compute days and
    months around it, which near year 1 or 9999 leave the range of Python's dates."""
    if rules.date_in_window(day):
        raise FilterError(
            param,
            gettext(
                "'%(value)s' is outside the years %(first)s–%(last)s",
                value=raw,
                first=rules.FIRST_YEAR,
                last=rules.LAST_YEAR,
            ),
        )
