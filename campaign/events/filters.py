"""The one event filter: query-string parameters in, a validated filter and a select() out.

Every list of events (HTML list, month view, feeds, exports, dashboard, CLI export) parses
its parameters here, so a parameter means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
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
from .search import FTS_TABLE, events_search, match_expression

PUBLIC_STATUSES = (EventStatus.confirmed.value, EventStatus.cancelled.value)
MAX_VALUES = 50
MAX_QUERY_LENGTH = 200
MAX_PAGE = 100_000
# HTML lists count matching events up to this many (CAMPAIGN_EVENTS_COUNT_LIMIT); beyond
# it they say "more than" (see EventFilter.page_of).
COUNT_LIMIT = 1000
FILTER_PARAMS = (
    "theme",
    "partner",
    "format",
    "city",
    "status",
    "from",
    "to",
    "dates",
    "q",
    "series",
    "online",
    "attendance",
)
# Every parameter parse() reads.
PARSED_PARAMS = (*FILTER_PARAMS, "page", "when")
# Which side of now an HTML list shows (feeds and exports always keep every event); "all"
# is both, in start order (the dashboard's numbers link to it).
WHEN_VALUES = ("upcoming", "past", "all")
# The two sides of now that lists count.
SIDES = ("upcoming", "past")
# How from/to select events: by default any part of an event in the range; "start": the
# day it starts (as the dashboard counts).
DATES_VALUES = ("start",)
# online=only: events without a venue (the dashboard's "Online only" row).
ONLINE_VALUES = ("only",)
# attendance=recorded: events whose attendance was recorded (the dashboard's "Events with
# attendance"). Organizers only: the public never sees attendance, nor which events have it.
ATTENDANCE_VALUES = ("recorded",)


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
    # None: from/to match any part of an event; "start": the day it starts.
    dates: str | None = None
    # online=only: events without a venue.
    online_only: bool = False
    # attendance=recorded: events whose attendance was recorded (organizers only).
    attendance_recorded: bool = False
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

        if not fixed and not any(name in args for name in PARSED_PARAMS):
            # Nothing to check or look up: every event the visitor may see (what most
            # feed requests ask for, hourly).
            return cls(include_drafts=include_drafts, campaign_zone=campaign_zone)

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

        statuses = parse_statuses(
            values("status"),
            EventStatus,
            [s.value for s in EventStatus] if include_drafts else list(PUBLIC_STATUSES),
            lambda s: gettext("'%(value)s' events are visible to organizers only", value=s),
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
                    choices="upcoming, past or all",
                ),
            )
        dates = parse_choice("dates", values("dates"), DATES_VALUES)
        online = parse_choice("online", values("online"), ONLINE_VALUES)
        attendance = parse_choice("attendance", values("attendance"), ATTENDANCE_VALUES)
        if attendance and not include_drafts:
            raise FilterError(
                "attendance", gettext("only organizers may filter events by attendance")
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
            dates=dates,
            online_only=online is not None,
            attendance_recorded=attendance is not None,
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
            self.dates,
            self.online_only,
            self.attendance_recorded,
            tuple(sorted(fold(w) for w in self.words)),
            self.include_drafts,
            self.campaign_zone.key,
            self.event_ids,
            self.series.id if self.series is not None else None,
        )

    def conditions(self) -> list:
        """Every condition of the filter, each on the events' own row (EXISTS for themes,
        partners and cities): what lists walking the start index and feeds use."""
        conds = self._row_conditions()
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
                exists().where(
                    Venue.id == Event.venue_id,
                    func.lower(Venue.city).in_([c.lower() for c in self.cities]),
                )
            )
        return conds

    def _row_conditions(self) -> list:
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
        if self.online_only:
            conds.append(Event.venue_id.is_(None))
        if self.attendance_recorded:
            conds.append(Event.attendance.is_not(None))
        # An event belongs to a date range when any part of it falls inside the range. The
        # bound on its start is implied by MAX_EVENT_DURATION and lets the start index work.
        if self.date_from and self.dates == "start":
            conds.append(Event.starts_at >= self._midnight(self.date_from))
        elif self.date_from:
            start = self._midnight(self.date_from)
            conds.append(Event.ends_at > start)
            conds.append(Event.starts_at > start - MAX_EVENT_DURATION)
        if self.date_to:
            conds.append(Event.starts_at < self._midnight(self.date_to + timedelta(days=1)))
        # The meaning of q: every word is a substring of the folded search text.
        for word in self.words:
            conds.append(Event.search_text.contains(fold(word), autoescape=True))
        return conds

    def select_ids_indexed(self, session: Session, *extra) -> Select:
        """The ids of the matching events (and ``extra`` conditions), in no order, written
        so that the database starts from the most selective index: themes, partners and
        cities as joins (their own indexes, and events by (venue, format)), and on SQLite
        the words through the FTS5 trigram index (campaign/events/search.py; PostgreSQL's
        trigram index serves the LIKE itself). For counting and for short results; a
        page of a long result is found faster by walking the start index (:meth:`select`).
        """
        query = select(Event.id).where(*self._row_conditions(), *extra)
        repeats = False
        if self.themes:
            ids = [t.id for t in self.themes]
            query = query.join(
                event_themes,
                (event_themes.c.event_id == Event.id) & event_themes.c.theme_id.in_(ids),
            )
            repeats = len(ids) > 1
        if self.partners:
            query = query.join(
                EventPartner,
                (EventPartner.event_id == Event.id)
                & EventPartner.partner_id.in_([p.id for p in self.partners]),
            )
            repeats = True  # one partner in several roles, or several partners
        if self.cities:
            query = query.join(
                Venue,
                (Venue.id == Event.venue_id)
                & func.lower(Venue.city).in_([c.lower() for c in self.cities]),
            )
        phrase = match_expression(self.words)
        if phrase and session.get_bind().dialect.name == "sqlite":
            query = query.join(events_search, events_search.c.rowid == Event.id).where(
                events_search.c[FTS_TABLE].op("MATCH")(phrase)
            )
        return query.distinct() if repeats else query

    def select(self) -> Select:
        """Matching events in start order, with nothing loaded eagerly."""
        return select(Event).where(*self.conditions()).order_by(Event.starts_at, Event.id)

    def select_loaded(self, *, unbounded: bool = False) -> Select:
        """Matching events with venue, themes and partners loaded in a fixed number of queries.

        ``unbounded`` is for lists without a page size (month view, feeds): see
        :func:`event_list_loading`.
        """
        return self.select().options(*event_list_loading(unbounded=unbounded))

    def page_of(
        self,
        session: Session,
        per_page: int,
        now: datetime | None = None,
        *,
        count_limit: int = COUNT_LIMIT,
    ) -> ListPage:
        """This filter's page of events (fully loaded) for an HTML list: upcoming events
        (not yet ended at ``now``) in start order, or with ``when=past`` the past ones newest
        first. Without ``when``, a filter with nothing upcoming shows the most recent past
        events (``fallback``).

        Counting stops early: each side is counted up to ``count_limit`` events (or to the
        end of this page, if further); beyond that the page says "more than". So a page
        costs about the same at 1,000 events as at 100,000. Three statements whatever the
        data:

        1. how many events match at all, and how many lie on each side of now at all
           (each stops at the limit: a short walk of one index);
        2. each side's matches, counted from the smaller end: through the filter's own
           indexes (:meth:`select_ids_indexed`) when the matches are few or the side is
           long, along the time indexes when that side of now is short; a long side
           need not be counted when all the matches are known to be on it;
        3. the page: a short side's ids (found as they were counted) sorted and paged; a
           long side paged by walking the start index, which finds one match in at most
           ``N / count_limit`` events; ids first (OFFSET skips index entries), then the
           page's rows with their venue, themes and partners.
        """
        now = now or datetime.now(UTC)
        is_upcoming = Event.ends_at > now
        sides = {
            "upcoming": (is_upcoming, Event.starts_at > now - MAX_EVENT_DURATION),
            "past": (~is_upcoming,),
        }
        limit = max(count_limit, self.page * per_page) + 1

        def capped(ids: Select):
            return select(func.count()).select_from(ids.limit(limit).subquery()).scalar_subquery()

        # First, cheaply (at most ``limit`` index entries each): how many events lie on
        # each side of now at all, and how many match the filter at all.
        matching, *everything = session.execute(
            select(
                capped(self.select_ids_indexed(session)),
                *(capped(select(Event.id).where(*sides[side])) for side in SIDES),
            )
        ).one()
        # Then each side from the smaller end: the filter's indexes when its matches are
        # few or the side is long; the time indexes when that side of now is short.
        plans = {}
        for side, total in zip(SIDES, everything, strict=True):
            if matching < limit or total >= limit:
                plans[side] = self.select_ids_indexed(session, *sides[side])
            else:
                plans[side] = select(Event.id).where(*self.conditions(), *sides[side])
        counts = [capped(plans[side]) for side in SIDES]
        short = [i for i, total in enumerate(everything) if total < limit]
        if matching == limit and len(short) == 1:
            # The filter has more than ``limit`` matches: when none of them is on the short
            # side, all are on the long one, which need not be counted.
            i, other = short[0], 1 - short[0]
            counts[other] = case((counts[i] == 0, limit), else_=counts[other])
        upcoming, past = (int(n) for n in session.execute(select(*counts)).one())
        when = self.when or ("past" if upcoming == 0 and past else "upcoming")
        exact = {"upcoming": upcoming < limit, "past": past < limit}
        shown = {"upcoming": min(upcoming, limit - 1), "past": min(past, limit - 1)}
        if when == "all":
            # Both sides of now, in start order: as the dashboard counts.
            exact["all"] = exact["upcoming"] and exact["past"]
            shown["all"] = shown["upcoming"] + shown["past"]
            order = (Event.starts_at, Event.id)
            if exact["all"]:
                ids = select(Event.id).where(
                    Event.id.in_(plans["upcoming"]) | Event.id.in_(plans["past"])
                )
            else:
                ids = select(Event.id).where(*self.conditions())
        else:
            if when == "upcoming":
                order = (Event.starts_at, Event.id)
            else:
                order = (Event.starts_at.desc(), Event.id.desc())
            if exact[when]:
                ids = select(Event.id).where(Event.id.in_(plans[when]))
            else:
                ids = select(Event.id).where(*self.conditions(), *sides[when])
        page_ids = ids.order_by(*order).limit(per_page).offset((self.page - 1) * per_page)
        query = (
            select(Event)
            .where(Event.id.in_(page_ids))
            .order_by(*order)
            .options(*event_list_loading())
        )
        events = session.scalars(query).all()
        return ListPage(
            events=list(events),
            count=shown[when],
            pages=max(1, -(-shown[when] // per_page)),
            when=when,
            upcoming=shown["upcoming"],
            past=shown["past"],
            fallback=self.when is None and when == "past",
            exact=exact[when],
            upcoming_exact=exact["upcoming"],
            past_exact=exact["past"],
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
        if self.online_only:
            parts.append(gettext("Online only"))
        if self.attendance_recorded:
            parts.append(gettext("Attendance recorded"))
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
    # False when counting stopped at the limit: there are more than ``count``
    # (``upcoming``, ``past``) events and more pages than ``pages``.
    exact: bool = True
    upcoming_exact: bool = True
    past_exact: bool = True


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


def parse_choice(name: str, given: list[str], choices: tuple[str, ...]) -> str | None:
    """The one value of a parameter that takes one of a few words (``dates=start``,
    ``online=only``), or None when it is not given; FilterError naming it otherwise."""
    if len(given) > 1:
        raise FilterError(name, gettext("give one %(when)s value", when=f"'{name}'"))
    if given and given[0] not in choices:
        raise FilterError(
            name,
            gettext(
                "unknown value '%(value)s'; use %(choices)s",
                value=given[0],
                choices=", ".join(choices),
            ),
        )
    return given[0] if given else None


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


def parse_statuses(
    statuses: list[str], enum, allowed: list[str], hidden: Callable[[str], str]
) -> list[str]:
    """``statuses`` checked: each a member of ``enum`` and among the ``allowed`` values
    (the public ones, for who does not see drafts); ``hidden(value)`` is the message for
    a real status the visitor may not ask for."""
    for s in statuses:
        if s not in enum.__members__:
            raise FilterError(
                "status",
                gettext(
                    "unknown status '%(value)s'; use %(choices)s",
                    value=s,
                    choices=", ".join(allowed),
                ),
            )
        if s not in allowed:
            raise FilterError("status", hidden(s))
    return statuses


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
