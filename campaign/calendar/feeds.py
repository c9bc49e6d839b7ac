"""What a calendar feed contains: an EventFilter and a render context in, an ETag and
bytes out. No HTTP here (see calendar.views); the ICS export calls this too.

Speed without shared state in memory, in five layers:

1. ``feed_state.generation`` (one row in the database) rises in the same transaction as
   every write to what a feed shows (see calendar.tracking), and its ``changed_at``
   gives the feeds' Last-Modified (see :func:`last_modified`). A request reads that row
   first: if this worker already answered the same calendar at the same generation, the
   ETag and body are known and an unchanged feed costs one small query.
2. Otherwise the request reads ``(id, uid, version)`` of the matching events and hashes
   them with everything else the bytes depend on into a strong ETag (once per request).
   The ETag depends on content only, so it is the same in every worker and after a
   restart, a change to another theme's event leaves it alone, and a conditional request
   gets its 304 without any rendering.
3. The body is made of pieces: the head (with its VTIMEZONEs), blocks of about
   ``BLOCK_EVENTS`` consecutive VEVENTs, the tail. A block ends after an event whose id
   hashes to 0 (or after ``BLOCK_MAX`` events), so its boundaries depend on the events
   themselves, not on their positions: an edited, added or removed event changes only its
   own block. Blocks are cached per worker under their rows ``(render key, (id, uid,
   version)...)``, and VEVENT bytes under ``(render key, id, uid, version)``. The row
   version rises on every write to an event (SQLAlchemy's optimistic-locking column, also
   when a theme, partner or venue it shows changes) and the render key covers the rest a
   VEVENT shows (site URL, organizer, names of themes, partners and venues) and the
   database's epoch (new on every restore), so an entry can never be stale. After one
   edit, one event is rendered, one block is joined again from cached VEVENTs, and the
   body is one join of some 150 pieces: no other event's text is joined or hashed again.
   A new worker starts with empty memory and reads the stored renderings (5).
4. Content codings (gzip) are made from the same pieces, once per version of the feed:
   each piece keeps its own raw deflate stream (ended by a sync flush, so streams can be
   concatenated), its CRC-32 and length. A gzip body is a fixed header, the pieces'
   streams in order, an empty final block, and a CRC-32 combined from the pieces' CRCs
   (zlib's crc32_combine, in :func:`crc_shift`): after an edit only the changed block is
   compressed again, and no other byte is read. The bytes are deterministic, so the gzip
   ETag (the identity ETag plus a suffix naming zlib's version, level and block size) is
   strong and the same in every worker.

5. Rendered VEVENTs survive a restart: each is stored beside its event
   (calendar.models.EventRendering, keyed by event and :func:`context_key`: language,
   site address, organizer, catalogues, renderer and zone database) with the uid and row
   version it was rendered from. A worker that misses its memory reads the current ones
   in one query before rendering anything, and stores what it had to render in a
   transaction of its own (:meth:`Calendar._keep`). Every write that changes a VEVENT's
   text raises the event's version (renames of its themes, partners and venue too), and
   calendar.tracking deletes, in the writing transaction, the rows of events whose theme,
   partner, venue or series changed; a rendering made from data read before such a
   change committed is not stored (the generation is checked under a lock).

Identity and gzip bodies are cached per ETag (``_bodies``); the pieces of a version
(``_plans``) let the other coding be made without reading the database again. The
caches share a byte budget (:func:`configure`, the app's FEED_CACHE_BYTES); a feed whose
body would take more than a fifth of it is not cached but streamed, a chunk of events
at a time, from the stored renderings (:meth:`Calendar.stream`): the same bytes,
identity or gzip, and memory flat in the number of events.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import struct
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata

from flask_babel import gettext
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, joinedload, subqueryload

from .. import i18n
from ..catalog.models import Partner, Theme, Venue
from ..db import HELD_OBJECTS
from ..events.filters import EventFilter
from ..events.models import Event, EventPartner
from ..series.models import Series
from . import ical
from .models import EventRendering, FeedState

log = logging.getLogger(__name__)

# Loading by id is cheaper for a few edited events; a cold cache loads the whole filter.
LOAD_BY_ID_LIMIT = 500
# Stored renderings are written this many to a statement.
KEEP_BATCH = 500

try:
    _TZDATA = metadata.version("tzdata")
except metadata.PackageNotFoundError:  # pragma: no cover - the system zoneinfo is used
    _TZDATA = "system"


class _LRU:
    """A small thread-safe LRU of immutable values, bounded by count and by bytes."""

    def __init__(self, max_items: int, max_bytes: int):
        self.max_items, self.max_bytes = max_items, max_bytes
        self._data: OrderedDict = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            self._data.move_to_end(key)
            return hit[0]

    def put(self, key, value, size: int) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._data:
                return
            self._data[key] = (value, size)
            self._bytes += size
            while len(self._data) > self.max_items or self._bytes > self.max_bytes:
                _, (_, old) = self._data.popitem(last=False)
                self._bytes -= old

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def resize(self, max_bytes: int) -> None:
        with self._lock:
            self.max_bytes = max_bytes
            while self._data and self._bytes > self.max_bytes:
                _, (_, old) = self._data.popitem(last=False)
                self._bytes -= old

    @property
    def size(self) -> int:
        return self._bytes


# (render key, event id, uid, version) -> RenderedEvent. Immutable by construction.
_vevents = _LRU(max_items=200_000, max_bytes=256 * 2**20)
# (ETag, encoding) -> body, encoding None for the identity bytes: feeds whose events did
# not change are neither joined nor compressed again.
_bodies = _LRU(max_items=64, max_bytes=96 * 2**20)
# (filter key, head, render context, database, feed generation) -> ETag.
_current = _LRU(max_items=4096, max_bytes=4096 * 200)


# Pieces of feeds (see _Piece), keyed by their contents: (render key, rows) for a block of
# VEVENTs, the bytes themselves for the calendar's head and tail.
_pieces = _LRU(max_items=50_000, max_bytes=192 * 2**20)
# ETag -> the feed's pieces in order, from which each coding of the body is made.
_plans = _LRU(max_items=256, max_bytes=256 * 200_000)

# The feed caches' byte budget (config FEED_CACHE_BYTES), shared by the VEVENT, piece and
# body caches (their shares below); a feed whose body would take more than
# 1/STREAM_FRACTION of it is never built whole in memory but streamed from the stored
# renderings (Calendar.stream).
DEFAULT_BUDGET = 128 * 2**20
STREAM_FRACTION = 5
_SHARES = ((_vevents, 25), (_pieces, 40), (_bodies, 35))
_budget = [DEFAULT_BUDGET]
# Bytes per event of the feeds built last, to tell a feed's size before building it.
_per_event = [2048]
# Events rendered, read from the database or deflated per statement when streaming.
STREAM_CHUNK = 1000


def configure(budget: int) -> None:
    """Give the feed caches ``budget`` bytes in all (the app's FEED_CACHE_BYTES)."""
    _budget[0] = budget
    for cache, share in _SHARES:
        cache.resize(budget * share // 100)


def cache_bytes() -> int:
    """What the feed caches hold now (tests and benchmarks)."""
    return sum(cache.size for cache, _share in _SHARES)


# Content codings a feed is sent in besides identity, best first.
ENCODINGS = ("gzip",)
GZIP_LEVEL = 6
# A block ends after an event whose id hashes to 0 modulo BLOCK_EVENTS (so about that many
# events per block, and an inserted or removed event changes only its own block), or
# after BLOCK_MAX events.
BLOCK_EVENTS = 64
BLOCK_MAX = 4 * BLOCK_EVENTS
# The gzip variant's ETag names the compressor too: a strong ETag promises the same bytes,
# and another zlib (another host), level or block size may compress differently.
_GZIP_SUFFIX = (
    "-gzip-"
    + hashlib.sha256(
        f"{zlib.ZLIB_RUNTIME_VERSION}:{GZIP_LEVEL}:{BLOCK_EVENTS}:{BLOCK_MAX}".encode()
    ).hexdigest()[:8]
)
# RFC 1952 member header: deflate, no flags, no time stamp, no extra flags, OS unknown.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
# The last deflate block: final, fixed Huffman codes, empty.
_DEFLATE_END = b"\x03\x00"


def variant_etag(etag: str, encoding: str | None) -> str:
    """The ETag of the feed ``etag`` sent with Content-Encoding ``encoding`` (None:
    identity): each coding has its own, as RFC 9110 8.8.3 requires of different bytes."""
    return etag if encoding is None else etag + _GZIP_SUFFIX


def deflate(raw: bytes) -> bytes:
    """``raw`` as a raw deflate stream of its own that ends on a byte boundary and is not
    final (a sync flush), so that such streams can be concatenated."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(raw) + compressor.flush(zlib.Z_SYNC_FLUSH)


# CRC-32 of a concatenation from the CRC-32s of its parts, as zlib's crc32_combine (which
# Python's zlib module does not offer): polynomial arithmetic modulo the CRC polynomial.
_CRC_POLY = 0xEDB88320


def _multmodp(a: int, b: int) -> int:
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if a & (m - 1) == 0:
                return p
        m >>= 1
        b = (b >> 1) ^ _CRC_POLY if b & 1 else b >> 1


_X2N = [1 << 30]  # x^(2^n) modulo the polynomial
for _ in range(31):
    _X2N.append(_multmodp(_X2N[-1], _X2N[-1]))


def crc_shift(length: int) -> int:
    """x^(8·length) modulo the polynomial: crc32(a + b) is
    ``_multmodp(crc_shift(len(b)), crc32(a)) ^ crc32(b)``."""
    p, k = 1 << 31, 3
    while length:
        if length & 1:
            p = _multmodp(_X2N[k & 31], p)
        length >>= 1
        k += 1
    return p


class _Piece:
    """Bytes of a feed that are compressed on their own: the head with its VTIMEZONEs, a
    block of VEVENTs, the tail. Immutable but for the gzip form, made on first use."""

    __slots__ = ("raw", "spans", "rows", "_gzip")

    def __init__(self, raw: bytes, spans: dict | None = None, rows: tuple = ()):
        self.raw, self.spans, self.rows, self._gzip = raw, spans or {}, rows, None

    def gzip(self) -> tuple[bytes, int, int]:
        """The deflate stream, the CRC-32 and the CRC shift of ``raw``."""
        if self._gzip is None:  # two threads may both compute it: the same value
            self._gzip = (deflate(self.raw), zlib.crc32(self.raw), crc_shift(len(self.raw)))
        return self._gzip


def _piece(raw: bytes) -> _Piece:
    """The head's or tail's piece, shared by every feed with the same bytes."""
    piece = _pieces.get(raw)
    if piece is None:
        piece = _Piece(raw)
        _pieces.put(raw, piece, 2 * len(raw) + 200)
    return piece


def _gzip(plan: list[_Piece]) -> bytes:
    """One gzip member whose deflate stream is the pieces' own streams one after another
    and whose CRC is combined from theirs: no byte of a piece is read again."""
    crc = size = 0
    streams = []
    for piece in plan:
        stream, piece_crc, shift = piece.gzip()
        crc = _multmodp(shift, crc) ^ piece_crc
        size += len(piece.raw)
        streams.append(stream)
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return b"".join([_GZIP_HEADER, *streams, _DEFLATE_END, trailer])


def _blocks(rows: list[tuple[int, str, int]]):
    """(start, end) of each block of ``rows``."""
    start = 0
    for i, (eid, _uid, _version) in enumerate(rows):
        if ((eid * 0x9E3779B1) & 0xFFFFFFFF) % BLOCK_EVENTS == 0 or i + 1 - start >= BLOCK_MAX:
            yield start, i + 1
            start = i + 1
    if start < len(rows):
        yield start, len(rows)


def clear_caches() -> None:
    """Forget every cached VEVENT and feed body (tests and benchmarks)."""
    _vevents.clear()
    _bodies.clear()
    _current.clear()
    _pieces.clear()
    _plans.clear()


@dataclass(frozen=True)
class Presentation:
    """How a calendar presents itself, besides its events."""

    name: str
    description: str
    subscription: bool = True


def calendar_text(value: str) -> str:
    """X-WR-CALNAME and X-WR-CALDESC are read unescaped by many clients (and by icalendar
    and vobject), so a calendar's name and description hold no comma or semicolon."""
    return value.replace(", ", " · ").replace(",", " ·").replace(";", " ·")


def feed_presentation(
    flt: EventFilter, ctx: ical.RenderContext, campaign_name: str, media: bool = False
) -> Presentation:
    """The name and description of the feed of ``flt``; a filter with drafts is a private
    feed and says so (and that planned media appearances are in it, ``media``)."""
    private = flt.include_drafts
    name = campaign_name
    described = flt.describe()
    if described:
        name += f" — {described}"
    if private:
        name = gettext("%(name)s (private feed with drafts)", name=name)
    return Presentation(calendar_text(name), feed_description(ctx, campaign_name, private, media))


def feed_description(
    ctx: ical.RenderContext, campaign_name: str, private: bool = False, media: bool = False
) -> str:
    text = gettext(
        "%(name)s: panels and round tables and seminars of Serbia's IPAP 2 public information "
        "campaign. Cancelled events stay in the calendar marked as cancelled. %(url)s",
        name=campaign_name,
        url=f"{ctx.site_url}/events",
    )
    if private:
        text += " " + gettext(
            "Private feed for organizers: drafts are shown as tentative. Do not share it."
        )
    if media:
        text += " " + gettext("Planned media appearances are marked “Media”.")
    return calendar_text(text)


# HTTP dates have whole seconds, so a Last-Modified naming the second of the last change
# says nothing about a second change within that second. A second is "over" only when no
# change can still be stamped with it: once it has ended, plus SETTLE for a change stamped
# just before its commit (calendar.tracking stamps at the commit), a reader's snapshot
# taken a moment before its clock reading, and the clocks of several hosts.
SECOND = timedelta(seconds=1)
SETTLE = timedelta(seconds=1)


@dataclass(frozen=True)
class Version:
    etag: str
    # What Last-Modified says; None without a feed_state row.
    last_modified: datetime | None
    # Whether an If-Modified-Since equal to ``last_modified`` means the client has the
    # current bytes: only once the second of the last change is over.
    final: bool = False

    def not_modified_since(self, since: datetime | None) -> bool:
        """RFC 9110 13.1.3 with nginx's ``if_modified_since exact``: a 304 only for the
        very date this server sends for the current bytes, never for a date merely later
        (a client's own clock, the Date of an old answer, a backup older than the copy)."""
        return self.final and since is not None and since == self.last_modified


def last_modified(changed_at: datetime | None, now: datetime) -> tuple[datetime | None, bool]:
    """The Last-Modified of feeds whose last change was stamped ``changed_at``, as sent at
    ``now`` (the clock, read before the row holding ``changed_at``), and whether it is
    final.

    Once the second of the change is over, that second: the one value that earns a 304.
    Before, the second before it (never later than the clock): a copy sent while another
    change could still fall into the same second must be sent again when the client
    revalidates with it, and a date on the copy keeps caches from falling back on the
    answer's Date. Either way never later than ``now``, so never later than Date.
    """
    if changed_at is None:
        return None, False
    second = changed_at.replace(microsecond=0)
    if now >= second + SECOND + SETTLE:
        return second, True
    return min(second, now.replace(microsecond=0)) - SECOND, False


class Calendar:
    """One calendar: the events of a filter, rendered in a context, presented by name.

    ``current()`` answers "which version is this?" as cheaply as possible (the ETag and
    the time of the last change) so that conditional requests need no rendering;
    ``parts()`` gives the bytes, rendering only the events no worker cache holds.
    """

    def __init__(
        self,
        session: Session,
        flt: EventFilter,
        ctx: ical.RenderContext,
        presentation: Presentation,
        extra=None,
    ):
        self.session, self.flt, self.ctx = session, flt, ctx
        # More VEVENTs after the events' (calendar.planned_media.PlannedMedia), or None.
        self.extra = extra
        self._extra_versions = b""
        self.head = ical.calendar_head(
            presentation.name, presentation.description, subscription=presentation.subscription
        )
        self._rows: list[tuple[int, str, int]] | None = None
        self._render_key: str | None = None
        self._rows_etag: str | None = None
        # feed_state.epoch, once read (None: the row is missing), and the generation.
        self._epoch: tuple[str | None] | None = None
        self._generation: int | None = None
        self.etag: str | None = None

    def current(self) -> Version:
        # Read before the state row: a change the row does not show yet was stamped later.
        now = datetime.now(UTC)
        state = self.session.execute(
            select(FeedState.generation, FeedState.changed_at, FeedState.epoch).where(
                FeedState.id == 1
            )
        ).one_or_none()
        # Without the row (a schema made by hand, not by init-db) feeds still work, slower.
        generation, changed_at, epoch = state or (None, None, None)
        self._epoch = (epoch,)
        self._generation = generation
        # The database's URL and epoch: generation numbers of two databases (tests, a
        # restored backup) say nothing about each other.
        database = (str(self.session.get_bind().url), epoch)
        extra = self.extra.key if self.extra is not None else None
        key = (self.flt.cache_key, self.head, self.ctx, database, generation, extra)
        etag = _current.get(key) if generation is not None else None
        if etag is None:
            self._read_versions()
            etag = self._rows_etag
            if generation is not None:
                _current.put(key, etag, 200)
        self.etag = etag
        # Last-Modified is the last change to anything a feed shows, not max(updated) of
        # the events in it: an event that leaves the feed (a theme removed, a draft
        # deleted) changes the feed without raising any remaining event's `updated`, and a
        # client asking If-Modified-Since would get 304 for good.
        return Version(etag, *last_modified(changed_at, now))

    def content(self, encoding: str | None = None):
        """Like :meth:`body`, but a feed larger than the budget allows comes as an
        iterator of byte strings (see :meth:`stream`) instead of bytes."""
        if self.etag is not None and (
            _bodies.get((self.etag, encoding)) is not None or _plans.get(self.etag) is not None
        ):
            return self.body(encoding)
        if self._rows is None:
            self._read_versions()
        if len(self._rows) * _per_event[0] > _budget[0] // STREAM_FRACTION:
            return self.stream(encoding), self._rows_etag
        return self.body(encoding)

    def body(self, encoding: str | None = None) -> tuple[bytes, str]:
        """The calendar's bytes in ``encoding`` (None: identity) and the ETag of the
        identity bytes they encode (an event may have changed since :meth:`current`;
        :func:`variant_etag` gives the encoded bytes' own). Each coding is made once per
        version of the feed and kept beside the others."""
        plan = None
        if self.etag is not None:
            cached = _bodies.get((self.etag, encoding))
            if cached is not None:
                return cached, self.etag
            plan = _plans.get(self.etag)
        if plan is None:
            if self._rows is None:
                self._read_versions()
            plan, self.etag = self._assemble()
            _plans.put(self.etag, plan, 64 * len(plan) + 200)
        body = b"".join([piece.raw for piece in plan]) if encoding is None else _gzip(plan)
        if encoding is None and self._rows:
            _per_event[0] = max(256, len(body) // len(self._rows))
        _bodies.put((self.etag, encoding), body, len(body))
        return body, self.etag

    def stream(self, encoding: str | None = None):
        """The calendar's bytes as an iterator, the same bytes as :meth:`body` (identity
        or gzip, the same blocks compressed the same way), made ``STREAM_CHUNK`` events at
        a time: memory holds one chunk whatever the size of the feed, and nothing is
        cached but the stored renderings.

        Here, before the first byte: the events without a current stored rendering are
        found in SQL, rendered a chunk at a time and stored, and the zones the VTIMEZONEs
        must cover are aggregated in SQL. The iterator then reads the VEVENTs back a chunk
        at a time on a connection of its own (the request's session is closed by then,
        and on SQLite its snapshot would not see the renderings just stored); one that
        changed meanwhile, or could not be stored, is rendered from a session of its own.
        """
        ctx = self.ctx
        context = context_key(ctx)
        spans: dict[str, tuple[int, int]] = {}
        missing = self._missing_renderings(context)
        for start in range(0, len(missing), STREAM_CHUNK):
            loaded = self._load(missing[start : start + STREAM_CHUNK], by_id=True)
            fresh = []
            for event in loaded.values():
                r = ical.render_vevent(event, ctx)
                fresh.append(((event.id, event.uid, event.version), r))
            spans = ical.merge_spans([spans, ical.timezone_spans(r for _row, r in fresh)])
            self._keep(fresh)
            _release(self.session)
        spans = ical.merge_spans([spans, self._stored_spans(context)])
        # The extra VEVENTs (planned media in a private feed) after the events, as in
        # :meth:`_assemble`: few, so rendered here in one piece.
        extra = None
        if self.extra is not None:
            present, _versions = self.extra.render(self.session, ctx)
            extra = b"".join([r.vevent for r in present])
            spans = ical.merge_spans([spans, ical.timezone_spans(present)])
        head = self.head + ical.timezones_from_spans(spans)
        return self._chunks(head, encoding, context, self.session.get_bind(), extra)

    def _chunks(self, head: bytes, encoding: str | None, context: str, engine, extra=None):
        rows, ctx = self._rows, self.ctx

        def vevents():
            with engine.connect() as conn, Session(engine) as session:
                blocks = list(_blocks(rows))
                i = 0
                while i < len(blocks):
                    group = [blocks[i]]
                    i += 1
                    while i < len(blocks) and blocks[i][1] - group[0][0] <= STREAM_CHUNK:
                        group.append(blocks[i])
                        i += 1
                    members = rows[group[0][0] : group[-1][1]]
                    found = self._read_stored(conn, context, members)
                    conn.rollback()
                    todo = [row[0] for row in members if row[0] not in found]
                    if todo:
                        for event in self._load(todo, by_id=True, session=session).values():
                            found[event.id] = ical.render_vevent(event, ctx).vevent
                        session.rollback()
                        session.expunge_all()
                    for start, end in group:
                        yield b"".join(
                            [found[row[0]] for row in rows[start:end] if row[0] in found]
                        )

        if encoding is None:
            yield head
            yield from vevents()
            if extra:
                yield extra
            yield ical.CALENDAR_TAIL
            return
        yield _GZIP_HEADER
        crc = size = 0
        # The extra piece, even empty, is a deflate stream of its own, as in the plan.
        tail = (ical.CALENDAR_TAIL,) if extra is None else (extra, ical.CALENDAR_TAIL)
        for raw in itertools.chain((head,), vevents(), tail):
            crc = zlib.crc32(raw, crc)
            size += len(raw)
            yield deflate(raw)
        yield _DEFLATE_END + struct.pack("<II", crc, size & 0xFFFFFFFF)

    def _missing_renderings(self, context: str) -> list[int]:
        """Ids of the calendar's events without a current stored rendering."""
        r = EventRendering
        current = (
            (r.event_id == Event.id)
            & (r.context == context)
            & (r.uid == Event.uid)
            & (r.version == Event.version)
        )
        query = (
            select(Event.id)
            .outerjoin(r, current)
            .where(*self.flt.conditions(), r.event_id.is_(None))
            .order_by(Event.id)
        )
        return list(self.session.scalars(query))

    def _stored_spans(self, context: str) -> dict[str, tuple[int, int]]:
        """The zones the calendar's stored renderings name, with their years, in SQL."""
        r = EventRendering
        query = (
            select(r.tzid, func.min(r.first_year), func.max(r.last_year))
            .join(Event, Event.id == r.event_id)
            .where(r.context == context, r.tzid.is_not(None), *self.flt.conditions())
            .group_by(r.tzid)
        )
        return {tzid: (first, last) for tzid, first, last in self.session.execute(query)}

    @staticmethod
    def _read_stored(conn, context: str, members) -> dict[int, bytes]:
        wanted = {row[0]: row for row in members}
        result = conn.execute(
            select(
                EventRendering.event_id,
                EventRendering.uid,
                EventRendering.version,
                EventRendering.vevent,
            ).where(EventRendering.context == context, EventRendering.event_id.in_(list(wanted)))
        )
        found = {}
        for eid, uid, version, vevent in result.cursor.fetchall():
            row = wanted.get(eid)
            if row is not None and row[1] == uid and row[2] == version:
                found[eid] = bytes(vevent)
        result.close()
        return found

    def _read_versions(self) -> None:
        """The render key, and (id, uid, version) of every event of the calendar in order,
        and the ETag they make.

        The uid is there because SQLite may give a deleted draft's id to a new event.
        """
        # The driver's own tuples (an int, a string, an int: nothing to convert), none of
        # SQLAlchemy's per-row work: this is most of what a feed costs after an edit.
        result = self.session.connection().execute(
            self.flt.select().with_only_columns(Event.id, Event.uid, Event.version)
        )
        try:
            self._rows = [tuple(row) for row in result.cursor.fetchall()]
        finally:
            result.close()
        if self._epoch is None:  # body() without current(): the ICS export
            state = self.session.execute(
                select(FeedState.generation, FeedState.epoch).where(FeedState.id == 1)
            ).one_or_none()
            self._generation, epoch = state or (None, None)
            self._epoch = (epoch,)
        self._render_key = _render_key(self.session, self.ctx, self._epoch[0])
        if self.extra is not None:
            self._extra_versions = self.extra.versions(self.session)
        self._rows_etag = _etag(self._render_key, self.head + self._extra_versions, self._rows)

    def _assemble(self) -> tuple[list[_Piece], str]:
        """The feed's pieces for the rows and the ETag of their bytes.

        A block of rows whose piece is cached costs one look-up; the VEVENTs of other
        blocks come from the VEVENT cache, and only the ones missing there are rendered.
        """
        rows, render_key = self._rows, self._render_key
        blocks: list[_Piece | list] = []
        for start, end in _blocks(rows):
            members = tuple(rows[start:end])
            blocks.append(_pieces.get((render_key, members)) or list(members))
        todo = [b for b in blocks if isinstance(b, list)]
        rendered = {}
        for members in todo:
            for row in members:
                hit = _vevents.get((render_key, *row))
                if hit is not None:
                    rendered[row] = hit
        missing_rows = [row for members in todo for row in members if row not in rendered]
        if missing_rows:
            # What the database keeps: a restarted worker renders no unchanged event.
            for row, r in self._stored(missing_rows).items():
                _vevents.put((render_key, *row), r, len(r.vevent) + 200)
                rendered[row] = r
        missing = [row[0] for row in missing_rows if row not in rendered]
        dropped = False
        fresh: list[tuple[tuple[int, str, int], ical.RenderedEvent]] = []
        if missing:
            loaded = self._load(missing)
            for members in todo:
                for i, row in enumerate(members):
                    if row in rendered:
                        continue
                    event = loaded.get(row[0])
                    if event is None:  # a draft deleted between the two queries
                        members[i] = None
                        dropped = True
                        continue
                    r = ical.render_vevent(event, self.ctx)
                    now = (event.id, event.uid, event.version)
                    _vevents.put((render_key, *now), r, len(r.vevent) + 200)
                    rendered[now] = r
                    members[i] = now
                    fresh.append((now, r))
            self._keep(fresh)
        used = []
        for i, block in enumerate(blocks):
            if isinstance(block, _Piece):
                used.extend(block.rows)
                continue
            members = tuple(row for row in block if row is not None)
            present = [rendered[row] for row in members]
            piece = _Piece(
                b"".join([r.vevent for r in present]), ical.timezone_spans(present), members
            )
            _pieces.put((render_key, members), piece, 2 * len(piece.raw) + 200)
            blocks[i] = piece
            used.extend(members)
        extra_versions = self._extra_versions
        if self.extra is not None:
            present, extra_versions = self.extra.render(self.session, self.ctx)
            blocks.append(
                _Piece(b"".join([r.vevent for r in present]), ical.timezone_spans(present))
            )
        spans = ical.merge_spans(block.spans for block in blocks)
        plan = [_piece(self.head + ical.timezones_from_spans(spans)), *blocks]
        plan.append(_piece(ical.CALENDAR_TAIL))
        changed = dropped or used != rows or extra_versions != self._extra_versions
        etag = _etag(render_key, self.head + extra_versions, used) if changed else self._rows_etag
        return plan, etag

    def _stored(
        self, rows: list[tuple[int, str, int]]
    ) -> dict[tuple[int, str, int], ical.RenderedEvent]:
        """The stored renderings of ``rows`` that are still current (same uid, same
        version), in one query."""
        wanted = {row[0]: row for row in rows}
        query = select(
            EventRendering.event_id,
            EventRendering.uid,
            EventRendering.version,
            EventRendering.vevent,
            EventRendering.tzid,
            EventRendering.first_year,
            EventRendering.last_year,
        ).where(EventRendering.context == context_key(self.ctx))
        if len(rows) <= LOAD_BY_ID_LIMIT:
            query = query.where(EventRendering.event_id.in_(list(wanted)))
        else:
            query = query.join(Event, Event.id == EventRendering.event_id).where(
                *self.flt.conditions()
            )
        result = self.session.connection().execute(query)
        try:
            found = result.cursor.fetchall()
        finally:
            result.close()
        stored = {}
        for eid, uid, version, vevent, tzid, first, last in found:
            row = wanted.get(eid)
            if row is not None and row[1] == uid and row[2] == version:
                stored[row] = ical.RenderedEvent(bytes(vevent), tzid, (first, last))
        return stored

    def _keep(self, fresh: list[tuple[tuple[int, str, int], ical.RenderedEvent]]) -> None:
        """Store freshly rendered VEVENTs beside their events, in a transaction of their
        own, unless anything a feed shows changed since this request read the generation:
        a rename committed meanwhile may have deleted the rows (calendar.tracking) that
        this rendering, made from what was read before it, would bring back stale. The
        generation is read under a share lock (PostgreSQL) or after the write took
        SQLite's write lock, so no such rename can commit in between. Best effort: the
        feed is served either way."""
        if not fresh or self._generation is None:
            return
        context = context_key(self.ctx)
        values = [
            {
                "event_id": eid,
                "context": context,
                "uid": uid,
                "version": version,
                "vevent": r.vevent,
                "tzid": r.tzid,
                "first_year": r.years[0],
                "last_year": r.years[1],
            }
            for (eid, uid, version), r in fresh
        ]
        engine = self.session.get_bind()
        sqlite = engine.dialect.name == "sqlite"
        insert = sqlite_insert if sqlite else postgresql_insert
        stmt = insert(EventRendering)
        stmt = stmt.on_conflict_do_update(
            index_elements=[EventRendering.event_id, EventRendering.context],
            set_={
                name: stmt.excluded[name]
                for name in ("uid", "version", "vevent", "tzid", "first_year", "last_year")
            },
        )
        generation = (
            select(FeedState.generation).where(FeedState.id == 1).with_for_update(read=True)
        )
        try:
            with engine.connect() as conn, conn.begin() as transaction:
                if not sqlite and conn.scalar(generation) != self._generation:
                    transaction.rollback()
                    return
                for start in range(0, len(values), KEEP_BATCH):
                    conn.execute(stmt, values[start : start + KEEP_BATCH])
                if sqlite and conn.scalar(generation) != self._generation:
                    transaction.rollback()
        except SQLAlchemyError as exc:  # a deleted draft, a busy database: next time
            log.warning("feed.renderings_not_kept events=%d reason=%s", len(values), exc)

    def _load(
        self, ids: list[int], by_id: bool = False, session: Session | None = None
    ) -> dict[int, Event]:
        """Events to render, venue, themes and partners loaded in four queries whatever
        their number (``by_id``: by their ids however many), in ``session`` or the
        calendar's."""
        query = select(Event).options(
            joinedload(Event.venue),
            joinedload(Event.series),
            subqueryload(Event.themes),
            subqueryload(Event.partner_links).joinedload(EventPartner.partner),
        )
        if by_id or len(ids) <= LOAD_BY_ID_LIMIT:
            query = query.where(Event.id.in_(ids))
        else:
            query = query.where(*self.flt.conditions())
        wanted = set(ids)
        return {e.id: e for e in (session or self.session).scalars(query) if e.id in wanted}


def _release(session: Session) -> None:
    """Let the events a streamed feed rendered go: detached from the request's session
    and no longer held by it (see db.HELD_OBJECTS), so memory holds one chunk."""
    session.expunge_all()
    held = session.info.get(HELD_OBJECTS)
    if held:
        held.clear()


def feed_of(session: Session, flt: EventFilter, config, extra=None) -> Calendar:
    """The feed of ``flt`` with an app's settings (``config``): what /calendar.ics sends
    for that filter and what the ICS export writes. ``extra``: more VEVENTs after the
    events (a private feed's planned media items, calendar.planned_media)."""
    ctx = ical.RenderContext.from_config(config)
    presentation = feed_presentation(flt, ctx, i18n.campaign_name(), media=extra is not None)
    return Calendar(session, flt, ctx, presentation, extra)


@functools.lru_cache(maxsize=64)
def context_key(ctx: ical.RenderContext) -> str:
    """The key of stored renderings (calendar.models.EventRendering) for ``ctx``: the
    renderer's version and the zone database with the context (language, site address,
    organizer, catalogues). Names of themes, partners and venues are not part of it:
    every change to them raises the versions of the events that show them."""
    return hashlib.sha256(repr((ical.RENDERER_VERSION, _TZDATA, ctx)).encode()).hexdigest()[:32]


def _render_key(session: Session, ctx: ical.RenderContext, epoch: str | None) -> str:
    """Everything besides the event row that its VEVENT shows, hashed.

    The names of themes, partners, venues and series are part of the key (three small tables,
    read in three fixed queries), so that no cached VEVENT outlives a change to them even
    if the events' rows were not touched. So is the database's epoch: a restored backup
    gives back event rows with the ids, uids and versions that the lost database went on
    to use for other contents.
    """
    h = hashlib.sha256()
    h.update(repr((ical.RENDERER_VERSION, _TZDATA, ctx, epoch)).encode())
    names = union_all(
        select(literal("t").label("kind"), Theme.id, Theme.name, Theme.name_en),
        select(literal("s").label("kind"), Series.id, Series.title, Series.title_en),
    ).subquery()
    for rows in (
        # Names in CATEGORIES: themes', and each series' (on its occurrences), in one
        # statement so a feed costs the same queries with or without series.
        session.execute(select(names).order_by(names.c.kind, names.c.id)),
        session.execute(
            select(Partner.id, Partner.name, Partner.name_en, Partner.keep_script).order_by(
                Partner.id
            )
        ),
        session.execute(
            select(
                Venue.id,
                Venue.name,
                Venue.address,
                Venue.city,
                Venue.latitude,
                Venue.longitude,
                Venue.keep_script,
            ).order_by(Venue.id)
        ),
    ):
        h.update(repr(rows.all()).encode())
    return h.hexdigest()[:32]


def _etag(render_key: str, head: bytes, rows: list[tuple[int, str, int]]) -> str:
    h = hashlib.sha256()
    h.update(render_key.encode())
    h.update(head)
    # repr of plain (int, str, int) tuples: the same text everywhere, made in C.
    h.update(repr(rows).encode())
    return h.hexdigest()[:40]
