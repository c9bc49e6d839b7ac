"""What a calendar feed contains: an EventFilter and a render context in, an ETag and
bytes out. No HTTP here (see calendar.views); the ICS export calls this too.

Speed without shared state in memory, in five layers:

1. ``feed_state.generation`` (one row in the database) rises in the same transaction as
   every write to what a feed shows (see calendar.tracking), and its ``changed_at``
   gives the feeds' Last-Modified (see :func:`last_modified`). A request reads that row
   first: if this worker already answered the same calendar at the same generation, the
   ETag and body are known and an unchanged feed costs one small query.
2. Otherwise the request finds which events the feed holds. A worker keeps what it
   knows of each feed (a :class:`_Snapshot`: its events' (start, id, uid, version) in
   order, cut into segments) with the generation it was read at. Every write stamps
   the events it changes with the generation of its transaction
   (``events.feed_generation``, calendar.tracking), so a worker that knows the feed at
   generation N reads only the events stamped after N (an index), with whether each
   still matches the filter, and moves, adds or removes them in its snapshot: after
   one edit, one row. What such stamps cannot describe (a deleted event, a bulk
   statement, a theme, partner, venue or series written) raises
   ``feed_state.reset_generation``; a worker whose snapshot is older reads the feed
   whole (one query on a covering index). The uid is there because SQLite may give a
   deleted draft's id to a new event.
3. The body is made of pieces: the head (with its VTIMEZONEs), blocks of VEVENTs, the
   tail. A segment ends after an event whose id hashes to 0 modulo ``BLOCK_EVENTS`` (so
   it holds about that many), and a segment longer than ``BLOCK_MAX`` is cut into blocks
   of that size: the boundaries depend on the events themselves, not on their
   positions, so an edited, added or removed event changes its own segment only (and
   the next when it ended one). Each segment has a digest (the hash of its rows); the
   strong ETag is the hash of the render key (see :func:`_render_key`), the head and the
   segments' digests, so it depends on content only: the same in every worker and after
   a restart, untouched by a change to another theme's event, and a conditional request
   gets its 304 without any rendering. Pieces are cached per worker under (render key,
   digest), VEVENT bytes under (render key, id, uid, version); the row version rises on
   every write to an event (SQLAlchemy's optimistic-locking column, also when a theme,
   partner or venue it shows changes) and the render key covers the rest a VEVENT shows,
   so an entry can never be stale. After one edit, one event is rendered, one segment
   hashed and joined again, and the identity body is sent as its pieces, never joined
   into one string: no other event's text is copied before the socket. A new worker
   starts with empty memory and reads the stored renderings (5).
4. Content codings (gzip) are made from the same pieces, once per version of the feed:
   each piece has its own raw deflate stream, ended by a sync flush so that streams can
   be concatenated, that may refer back into the piece before it (compressed with the
   last 8 KiB of that piece as its dictionary, as pigz does: a decoder has those bytes,
   so small pieces compress as well as the whole body), and its CRC-32. A gzip body is
   a fixed header, the pieces' streams in order, an empty final block, and a CRC-32
   combined from the pieces' CRCs (zlib-ng's crc32_combine), run by run of about
   ``CRC_RUN`` pieces: after an edit only the changed block, and the one after it when
   the change is in the last WINDOW bytes its stream refers back to, are compressed
   again, and no other byte is read. The bytes are deterministic, so the gzip ETag (the
   identity ETag plus a suffix naming zlib-ng's version, level, block sizes and window,
   and its output on a sample) is strong and the same in every worker.

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

import bisect
import functools
import hashlib
import itertools
import logging
import struct
import threading
import weakref
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata

from flask import has_app_context, has_request_context, request
from flask_babel import gettext
from sqlalchemy import and_, case, func, literal, literal_column, select, union_all
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, joinedload, selectinload, subqueryload
from zlib_ng import zlib_ng
from zlib_ng.zlib_ng import crc32_combine

from .. import i18n
from ..catalog.models import Partner, Theme, Venue
from ..db import HELD_OBJECTS
from ..events.filters import EventFilter
from ..events.models import Event, EventPartner
from ..series.models import Series
from . import ical
from .models import EventRendering, FeedState, RenderContextRow

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

    def get_many(self, keys: list) -> list:
        """:meth:`get` of each key, under one lock."""
        with self._lock:
            data, found = self._data, []
            for key in keys:
                hit = data.get(key)
                if hit is None:
                    found.append(None)
                else:
                    data.move_to_end(key)
                    found.append(hit[0])
            return found

    def put(self, key, value, size: int) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._data[key] = (value, size)
            self._bytes += size
            while len(self._data) > self.max_items or self._bytes > self.max_bytes:
                _, (_, old) = self._data.popitem(last=False)
                self._bytes -= old

    def pop(self, key) -> None:
        with self._lock:
            hit = self._data.pop(key, None)
            if hit is not None:
                self._bytes -= hit[1]

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
# ETag -> the feed's pieces in order, from which each coding of the body is made, held
# weakly: the bytes are the piece cache's, within its share of the budget, and a plan
# whose pieces it let go is assembled again (see _live_plan).
_plans = _LRU(max_items=256, max_bytes=256 * 200_000)


def _live_plan(etag: str | None) -> list[_Piece] | None:
    """The pieces of the feed ``etag`` if they are all still held, else None."""
    refs = _plans.get(etag) if etag is not None else None
    if refs is None:
        return None
    plan = [ref() for ref in refs]
    return None if any(piece is None for piece in plan) else plan


# (filter key, database) -> _Snapshot: a feed's events as of a generation, so that after
# an edit a worker reads the events written since, not every event's version.
_snapshots = _LRU(max_items=256, max_bytes=32 * 2**20)
# (render context, database, reset generation) -> render key (see _render_key): the
# names it hashes change only with a reset (calendar.tracking).
_render_keys = _LRU(max_items=1024, max_bytes=1024 * 300)

# Runs of pieces (see _piece_runs), by the pieces' serials and their predecessor's: the
# CRC-32 of the run's bytes, its CRC shift, its length and its deflate streams joined.
_run_cache = _LRU(max_items=16384, max_bytes=16 * 2**20)
# The runs' zones, by the pieces' serials.
_run_spans = _LRU(max_items=16384, max_bytes=16384 * 300)

# The feed caches' byte budget (config FEED_CACHE_BYTES), shared by the VEVENT, piece and
# body caches (their shares below); a feed whose body would take more than
# 1/STREAM_FRACTION of it is never built whole in memory but streamed from the stored
# renderings (Calendar.stream).
DEFAULT_BUDGET = 128 * 2**20
STREAM_FRACTION = 5
_SHARES = ((_vevents, 20), (_pieces, 35), (_bodies, 25), (_run_cache, 10), (_snapshots, 10))
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
# How far back into the bytes before it a piece's deflate stream may refer (deflate
# allows 32 KiB). A piece's stream depends on those bytes only, so an edit recompresses
# the next piece only when it falls in the last WINDOW bytes of its own piece (a fifth of
# the time with the demo's ~40 KiB blocks): 8 KiB gives 0.120 of identity on a
# 10,000-event feed where 32 KiB gave 0.108, and an edit costs 1.2 compressed blocks
# instead of 2.
WINDOW = 8 * 1024
# A block ends after an event whose id hashes to 0 modulo BLOCK_EVENTS (so about that many
# events per block, and an inserted or removed event changes only its own block), or
# after BLOCK_MAX events.
BLOCK_EVENTS = 24
BLOCK_MAX = 2 * BLOCK_EVENTS
# RFC 1952 member header: deflate, no flags, no time stamp, no extra flags, OS unknown.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
# The last deflate block: final, fixed Huffman codes, empty.
_DEFLATE_END = b"\x03\x00"


def variant_etag(etag: str, encoding: str | None) -> str:
    """The ETag of the feed ``etag`` sent with Content-Encoding ``encoding`` (None:
    identity): each coding has its own, as RFC 9110 8.8.3 requires of different bytes."""
    return etag if encoding is None else etag + _GZIP_SUFFIX


def deflate(raw: bytes, before: bytes = b"") -> bytes:
    """``raw`` as a raw deflate stream of its own that ends on a byte boundary and is not
    final (a sync flush), so that such streams can be concatenated, and that may refer
    back into ``before``, the bytes just before it (the last WINDOW of them, as pigz does):
    a decoder has them, so small pieces compress about as well as the whole body."""
    if before:
        compressor = zlib_ng.compressobj(GZIP_LEVEL, zlib_ng.DEFLATED, -15, zdict=before[-WINDOW:])
    else:
        compressor = zlib_ng.compressobj(GZIP_LEVEL, zlib_ng.DEFLATED, -15)
    return compressor.compress(raw) + compressor.flush(zlib_ng.Z_SYNC_FLUSH)


# The gzip variant's ETag names the compressor too: a strong ETag promises the same bytes,
# and another zlib-ng (another host), level, block size or window may compress
# differently. So may the same library on another processor (zlib-ng picks its code by
# the CPU's features): a sample compressed here is part of the name.
_SAMPLE = b"".join(
    b"BEGIN:VEVENT\r\nUID:%d@sample\r\nSUMMARY:Okrugli sto %d\r\nEND:VEVENT\r\n"
    % (n, n * 7919 % 1000)
    for n in range(600)
)
_GZIP_SUFFIX = (
    "-gzip-"
    + hashlib.sha256(
        f"{zlib_ng.ZLIBNG_VERSION}:{GZIP_LEVEL}:{BLOCK_EVENTS}:{BLOCK_MAX}:{WINDOW}".encode()
        + deflate(_SAMPLE[WINDOW:], _SAMPLE[:WINDOW])
    ).hexdigest()[:8]
)


_serials = itertools.count()


class _Piece:
    """Bytes of a feed that are compressed on their own: the head with its VTIMEZONEs, a
    block of VEVENTs, the tail. Immutable but for the compressed forms, made on first use
    (two threads may both make one: the same value)."""

    __slots__ = (
        "raw",
        "spans",
        "rows",
        "serial",
        "ends_run",
        "_crc",
        "_streams",
        "_tail",
        "__weakref__",
    )

    def __init__(self, raw: bytes, spans: dict | None = None, rows: tuple = ()):
        self.raw, self.spans, self.rows = raw, spans or {}, rows
        # Names the piece in _run_cache without holding it (never reused in a process).
        self.serial = next(_serials)
        self.ends_run = bool(rows) and (_mix(rows[-1][0]) // BLOCK_EVENTS) % CRC_RUN == 0
        self._crc: int | None = None
        self._streams: tuple = ()
        self._tail: bytes | None = None

    def crc(self) -> int:
        """The CRC-32 of ``raw``."""
        if self._crc is None:
            self._crc = zlib.crc32(self.raw)
        return self._crc

    def tail(self) -> bytes:
        """The digest of the last WINDOW bytes of ``raw``: all of a piece that the
        stream of the piece after it depends on."""
        if self._tail is None:
            self._tail = hashlib.sha256(self.raw[-WINDOW:]).digest()
        return self._tail

    def stream(self, before: _Piece | None) -> bytes:
        """The deflate stream of ``raw`` after the piece ``before`` (None: first). The
        last few are kept, by the tail of their predecessor (:meth:`tail`; its identity
        first, held weakly, which saves hashing): a piece shared by several feeds
        follows different pieces, and after an edit to the piece before it, outside that
        piece's last WINDOW bytes, it is not compressed again."""
        for ref, _tail, stream in self._streams:
            if (ref() if ref is not None else None) is before:
                return stream
        after = before.tail() if before is not None else b""
        for i, (_ref, tail, stream) in enumerate(self._streams):
            if tail == after:
                # The same bytes before it: its stream, now found by the new predecessor.
                ref = weakref.ref(before) if before is not None else None
                self._streams = ((ref, tail, stream), *self._streams[:i], *self._streams[i + 1 :])
                return stream
        stream = deflate(self.raw, before.raw if before is not None else b"")
        ref = weakref.ref(before) if before is not None else None
        self._streams = ((ref, after, stream), *self._streams[:3])
        return stream


def _piece(raw: bytes) -> _Piece:
    """The head's or tail's piece, shared by every feed with the same bytes."""
    piece = _pieces.get(raw)
    if piece is None:
        piece = _Piece(raw)
        _pieces.put(raw, piece, 2 * len(raw) + 200)
    return piece


# A run of pieces ends after a piece whose last event's hash (other digits of it than
# the blocks use) is 0 modulo CRC_RUN: about CRC_RUN pieces, and the runs an edit leaves
# alone keep their combined CRC, streams and zones.
CRC_RUN = 16


def _piece_runs(pieces: list[_Piece]):
    run: list[_Piece] = []
    for piece in pieces:
        run.append(piece)
        if piece.ends_run:
            yield run
            run = []
    if run:
        yield run


def _gzip(plan: list[_Piece]) -> list[bytes]:
    """One gzip member whose deflate stream is the pieces' own streams one after another
    (each after its predecessor, see :func:`deflate`) and whose CRC is combined from
    theirs, run by run (runs an edit left alone are one look-up each): no byte of a
    piece is read again."""
    crc = size = 0
    streams = []
    runs = list(_piece_runs(plan))
    # After the same bytes, a run's streams are the same (see _Piece.stream).
    keys = [
        (tuple([piece.serial for piece in run]), before[-1].tail() if before else b"")
        for before, run in zip([None, *runs], runs, strict=False)
    ]
    before = None
    for run, key, hit in zip(runs, keys, _run_cache.get_many(keys), strict=True):
        if hit is None:
            run_crc, run_size, parts = 0, 0, []
            previous = before
            for piece in run:
                parts.append(piece.stream(previous))
                previous = piece
                run_crc = crc32_combine(run_crc, piece.crc(), len(piece.raw))
                run_size += len(piece.raw)
            hit = (run_crc, run_size, b"".join(parts))
            _run_cache.put(key, hit, len(hit[2]) + 8 * len(run) + 200)
        crc = crc32_combine(crc, hit[0], hit[1])
        size += hit[1]
        streams.append(hit[2])
        before = run[-1]
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return [_GZIP_HEADER, *streams, _DEFLATE_END + trailer]


def _spans(blocks: list[_Piece]) -> dict[str, tuple[int, int]]:
    """The zones the blocks' VEVENTs name with their years, merged run by run."""
    parts = []
    for run in _piece_runs(blocks):
        key = tuple([piece.serial for piece in run])
        hit = _run_spans.get(key)
        if hit is None:
            hit = ical.merge_spans(piece.spans for piece in run)
            _run_spans.put(key, hit, 8 * len(key) + 100 * len(hit) + 100)
        parts.append(hit)
    return ical.merge_spans(parts)


def _mix(eid: int) -> int:
    """16 well-mixed bits of an event id (the top ones of Fibonacci hashing: the low bits
    of a product follow the id's own low bits)."""
    return ((eid * 0x9E3779B1) & 0xFFFFFFFF) >> 16


def _ends_block(eid: int) -> bool:
    """Whether a block ends after the event ``eid`` whatever its position."""
    return _mix(eid) % BLOCK_EVENTS == 0


def _blocks(rows: list[tuple[int, str, int]]):
    """(start, end) of each block of ``rows``."""
    start = 0
    for i, (eid, _uid, _version) in enumerate(rows):
        if _ends_block(eid) or i + 1 - start >= BLOCK_MAX:
            yield start, i + 1
            start = i + 1
    if start < len(rows):
        yield start, len(rows)


def _runs(rows):
    """``rows`` cut after every event that ends a block (:func:`_ends_block`): the
    segments of a feed. A segment is one block or, when longer than BLOCK_MAX, several,
    so the blocks of a feed are its segments' blocks, and a change to one event changes
    one segment (two when it ends one): the rest of the feed, its digests and its
    compressed pieces stay as they are."""
    start = 0
    for i, row in enumerate(rows):
        if _ends_block(row[0]):
            yield start, i + 1
            start = i + 1
    if start < len(rows):
        yield start, len(rows)


def _digest(rows) -> bytes:
    # repr of plain (int, str, int) tuples: the same text everywhere, made in C.
    return hashlib.sha256(repr(rows).encode()).digest()


class _Segment:
    """A segment of a feed (see :func:`_runs`): its events' sort keys (start, id), their
    rows (id, uid, version) and the digest of the rows, which names the segment's pieces
    in the piece cache and goes into the feed's ETag. Immutable."""

    __slots__ = ("keys", "rows", "digest")

    def __init__(self, keys: tuple, rows: tuple):
        self.keys, self.rows, self.digest = keys, rows, _digest(rows)


def _segments(keys: list | None, rows: list) -> list[_Segment]:
    """``rows`` and their ``keys`` (None: without keys) cut into segments."""
    return [
        _Segment(tuple(keys[a:b]) if keys is not None else (), tuple(rows[a:b]))
        for a, b in _runs(rows)
    ]


class _Snapshot:
    """What a worker knows of a feed's events at a feed generation: its segments in
    order, the first key of each (to find where a key belongs) and each event's key (to
    find where it was). Immutable: a newer generation makes a new snapshot that shares
    the unchanged segments."""

    __slots__ = ("generation", "segments", "firsts", "where", "count")

    def __init__(self, generation: int | None, segments: list[_Segment], where: dict | None):
        self.generation, self.segments, self.where = generation, segments, where
        if where is None:  # not to be followed: no keys
            self.firsts, self.count = [], sum(len(segment.rows) for segment in segments)
        else:
            self.firsts = [segment.keys[0] for segment in segments]
            self.count = len(where)

    @classmethod
    def read(cls, generation: int | None, found: list, follow: bool = True) -> _Snapshot:
        """From rows (start, id, uid, version) in feed order; without the keys that
        following the changes needs unless ``follow`` (a streamed feed is read whole on
        every request that is not a 304: memory holds its rows once)."""
        rows = [(eid, uid, version) for _start, eid, uid, version in found]
        if not follow:
            return cls(generation, _segments(None, rows), None)
        keys = [(start, eid) for start, eid, _uid, _version in found]
        return cls(generation, _segments(keys, rows), {key[1]: key for key in keys})

    def advance(self, generation: int, changes: list) -> _Snapshot:
        """This snapshot after ``changes``: rows (start, id, uid, version, member) of the
        events written since, ``member`` false for one that no longer matches. Only the
        segments where a changed event was or now belongs are cut again."""
        where = dict(self.where)
        gone, added, touched = set(), [], []
        # One row per event, its last (the query gives each event once anyway).
        latest = {change[1]: change for change in changes}
        for start, eid, uid, version, member in latest.values():
            old = where.pop(eid, None)
            if old is not None:
                gone.add(eid)
                touched.append(old)
            if member:
                key = where[eid] = (start, eid)
                added.append((key, (eid, uid, version)))
                touched.append(key)
        segments = self.segments
        if not touched:
            return _Snapshot(generation, segments, where)
        at = [max(0, bisect.bisect_right(self.firsts, key) - 1) for key in touched]
        low, high = min(at), max(at)
        run = [
            entry
            for segment in segments[low : high + 1]
            for entry in zip(segment.keys, segment.rows, strict=True)
            if entry[1][0] not in gone
        ]
        run.extend(added)
        run.sort(key=lambda entry: entry[0])
        # The run must end where a segment ends: if its last event no longer does (it
        # changed or left), the next segment joins it.
        while high + 1 < len(segments) and not (run and _ends_block(run[-1][1][0])):
            high += 1
            run.extend(zip(segments[high].keys, segments[high].rows, strict=True))
        keys = [key for key, _row in run]
        rows = [row for _key, row in run]
        cut = [*segments[:low], *_segments(keys, rows), *segments[high + 1 :]]
        return _Snapshot(generation, cut, where)

    @property
    def rows(self) -> list[tuple[int, str, int]]:
        return [row for segment in self.segments for row in segment.rows]


def clear_caches() -> None:
    """Forget every cached VEVENT and feed body (tests and benchmarks)."""
    _vevents.clear()
    _bodies.clear()
    _current.clear()
    _pieces.clear()
    _plans.clear()
    _snapshots.clear()
    _render_keys.clear()
    _recorded.clear()
    _run_cache.clear()
    _run_spans.clear()


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


@functools.lru_cache(maxsize=256)
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


@functools.lru_cache(maxsize=16)
def _url_text(engine) -> str:
    return str(engine.url)


@functools.lru_cache(maxsize=16)
def _state_sql(dialect) -> str:
    """The statement that reads the feed_state row, in ``dialect``'s SQL, no parameters."""
    query = select(
        FeedState.generation, FeedState.changed_at, FeedState.epoch, FeedState.reset_generation
    ).where(FeedState.id == literal_column("1"))
    return str(query.compile(dialect=dialect))


@functools.lru_cache(maxsize=16)
def _changed_at_value(dialect):
    """feed_state.changed_at as the driver gives it to the value the ORM would (an aware
    datetime in UTC)."""
    column_type = FeedState.__table__.c.changed_at.type
    process = column_type.dialect_impl(dialect).result_processor(dialect, None)
    return process or (lambda value: value)


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
        # The events as read (see _Snapshot), None until read.
        self._snap: _Snapshot | None = None
        self._render_key: str | None = None
        self._rows_etag: str | None = None
        # feed_state.epoch, once read (None: the row is missing), the generation and the
        # generation of the last reset (see FeedState.reset_generation).
        self._epoch: tuple[str | None] | None = None
        # Whether they were read outside the session's transaction (_peek_state).
        self._outside = False
        self._generation: int | None = None
        self._reset: int = 0
        self.etag: str | None = None

    def current(self) -> Version:
        # Read before the state row: a change the row does not show yet was stamped later.
        now = datetime.now(UTC)
        extra = self.extra.key if self.extra is not None else None
        # First outside the session (see _peek_state): an unchanged feed and its 304 then
        # start no transaction at all.
        changed_at = self._peek_state()
        generation = self._generation
        key = (self.flt.cache_key, self.head, self.ctx, self._database, generation, extra)
        etag = _current.get(key) if generation is not None else None
        if etag is None:
            # The rows are read in the session's transaction: the state too, so that the
            # generation names what they show.
            changed_at = self._read_state()
            generation = self._generation
            key = (self.flt.cache_key, self.head, self.ctx, self._database, generation, extra)
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

    def _peek_state(self) -> datetime | None:
        """Read the feed_state row on a connection of its own, outside the session: no
        BEGIN, ORM or statement compilation for one row, which is most of what an
        unchanged feed and its 304 cost. What it read serves only to find the answer
        cached for that generation; anything read from the events reads the row again in
        the session's transaction (``_outside``). Falls back to :meth:`_read_state`.

        When the session already holds a connection (a theme or partner feed looked its
        slug up, a private feed its token), on that one, in the session's transaction: a
        request must never wait for a second connection while it holds one, or as many
        concurrent requests as the pool has connections hold them all and wait for each
        other until the pool's timeout."""
        bind = self.session.get_bind()
        held = self.session.in_transaction()
        try:
            raw = self.session.connection().connection if held else bind.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute(_state_sql(bind.dialect))
                state = cursor.fetchone()
                cursor.close()
            finally:
                if not held:
                    raw.close()
        except (SQLAlchemyError, bind.dialect.loaded_dbapi.Error):
            if held:  # the session's transaction may be unusable: as a failed statement
                raise
            state = None
        if state is None:
            return self._read_state()
        generation, changed_at, epoch, reset = state
        self._epoch = (epoch,)
        self._generation, self._reset = generation, reset
        self._outside = True
        return _changed_at_value(bind.dialect)(changed_at) if changed_at is not None else None

    def _read_state(self) -> datetime | None:
        """Read the feed_state row in the session's transaction; gives its changed_at."""
        # The statement's text, made once: no ORM or statement compilation for one row.
        connection = self.session.connection()
        dialect = connection.dialect
        state = connection.exec_driver_sql(_state_sql(dialect)).one_or_none()
        # Without the row (a schema made by hand, not by init-db) feeds still work, slower.
        generation, changed_at, epoch, reset = state or (None, None, None, 0)
        self._epoch = (epoch,)
        self._generation, self._reset = generation, reset
        self._outside = False
        return _changed_at_value(dialect)(changed_at) if changed_at is not None else None

    @property
    def _database(self) -> tuple:
        # The database's URL and epoch: generation numbers of two databases (tests, a
        # restored backup) say nothing about each other.
        return (_url_text(self.session.get_bind()), self._epoch[0])

    def content(self, encoding: str | None = None):
        """The calendar's bytes as HTTP sends them, and the ETag of the identity bytes:
        identity as the list of its pieces' bytes (never joined: after an edit no other
        event's text is copied before the socket), gzip as bytes, and a feed larger than
        the budget allows as an iterator of byte strings (see :meth:`stream`)."""
        if self.etag is None or (
            _live_plan(self.etag) is None and _bodies.get((self.etag, encoding)) is None
        ):
            if self._snap is None:
                self._read_versions()
            if _streamed(self._snap.count):
                return self.stream(encoding), self._rows_etag
        if encoding is None:
            return [piece.raw for piece in self._plan()], self.etag
        return self._parts(encoding)

    def body(self, encoding: str | None = None) -> tuple[bytes, str]:
        """The calendar's bytes in ``encoding`` (None: identity) and the ETag of the
        identity bytes they encode (an event may have changed since :meth:`current`;
        :func:`variant_etag` gives the encoded bytes' own)."""
        if encoding is None:
            return b"".join([piece.raw for piece in self._plan()]), self.etag
        parts, etag = self._parts(encoding)
        return b"".join(parts), etag

    def _parts(self, encoding: str) -> tuple[list[bytes], str]:
        """The compressed bytes as the list of their parts (never joined: the runs an
        edit left alone are sent as cached), made once per version of the feed and kept."""
        if self.etag is not None:
            cached = _bodies.get((self.etag, encoding))
            if cached is not None:
                return list(cached), self.etag
        parts = _gzip(self._plan())
        _bodies.put((self.etag, encoding), tuple(parts), sum(map(len, parts)))
        return parts, self.etag

    def _plan(self) -> list[_Piece]:
        """The feed's pieces in order, from which each coding of the body is made."""
        plan = _live_plan(self.etag)
        if plan is None:
            if self._snap is None:
                self._read_versions()
            plan, self.etag = self._assemble()
            _plans.put(self.etag, tuple(weakref.ref(p) for p in plan), 64 * len(plan) + 200)
            if self._snap.count:
                size = sum(len(piece.raw) for piece in plan)
                _per_event[0] = max(256, size // self._snap.count)
        return plan

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
        engine = self.session.get_bind()
        # The iterator reads on a connection of its own: the request's goes back first.
        _end_read(self.session)
        return self._chunks(head, encoding, context, engine, extra)

    def _chunks(self, head: bytes, encoding: str | None, context: str, engine, extra=None):
        rows, ctx = self._snap.rows, self.ctx

        def vevents():
            # One connection for both (see _end_read): the session joins it to render.
            with engine.connect() as conn, Session(bind=conn) as session:
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
        before = b""
        for raw in itertools.chain((head,), vevents(), tail):
            crc = zlib.crc32(raw, crc)
            size += len(raw)
            yield deflate(raw, before)
            before = raw
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
        """The zones the calendar's current stored renderings name, with their years, in
        SQL. Only renderings of the events' current versions: one kept for an older
        version (the new one not stored: that is best effort) may name other years, and
        the VTIMEZONEs would differ from what any other worker sends under that ETag."""
        r = EventRendering
        query = (
            select(r.tzid, func.min(r.first_year), func.max(r.last_year))
            .join(Event, (Event.id == r.event_id) & (r.uid == Event.uid))
            .where(
                r.context == context,
                r.version == Event.version,
                r.tzid.is_not(None),
                *self.flt.conditions(),
            )
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
        """The render key, the calendar's events (:class:`_Snapshot`) and the ETag
        they make.

        A worker that read this feed at an earlier generation, with no reset since (see
        FeedState.reset_generation), reads only the events stamped after it (an index on
        events.feed_generation): after one edit, one row. Otherwise every event's (start,
        id, uid, version), from a covering index. The uid is there because SQLite may give
        a deleted draft's id to a new event.
        """
        if self._epoch is None or self._outside:  # body() without current(): an export
            self._read_state()
        generation, reset = self._generation, self._reset
        where = (self.flt.cache_key, self._database)
        known = _snapshots.get(where) if generation is not None else None
        if known is not None and reset <= known.generation <= generation:
            snap = known
            if known.generation < generation:
                snap = known.advance(generation, self._changes(known.generation))
                _snapshots.put(where, snap, _snapshot_size(snap.count))
        else:
            found = self._fetch(self.flt.select())
            follow = generation is not None and not _streamed(len(found))
            snap = _Snapshot.read(generation, found, follow)
            del found
            if follow:
                _snapshots.put(where, snap, _snapshot_size(snap.count))
        self._snap = snap
        context = (self.ctx, self._database, reset)
        render_key = _render_keys.get(context) if generation is not None else None
        if render_key is None:
            render_key = _render_key(self.session, self.ctx, self._epoch[0])
            if generation is not None:
                _render_keys.put(context, render_key, 300)
        self._render_key = render_key
        if self.extra is not None:
            self._extra_versions = self.extra.versions(self.session)
        self._rows_etag = _etag(
            render_key, self.head + self._extra_versions, [g.digest for g in snap.segments]
        )

    def _fetch(self, query, *columns) -> list[tuple]:
        """(start, id, uid, version, *columns) of the events ``query`` selects: the
        driver's own tuples, none of SQLAlchemy's per-row work (most of what a full read
        costs), the start as the driver gives it (compared only with its like)."""
        result = self.session.connection().execute(
            query.with_only_columns(Event.starts_at, Event.id, Event.uid, Event.version, *columns)
        )
        try:
            return result.cursor.fetchall()
        finally:
            result.close()

    def _changes(self, since: int) -> list[tuple]:
        """The events written after generation ``since``, each with whether it matches
        the filter now (an event that left the feed is among them)."""
        conditions = self.flt.conditions()
        member = case((and_(*conditions), 1), else_=0) if conditions else literal(1)
        return self._fetch(select(Event).where(Event.feed_generation > since), member)

    def _assemble(self) -> tuple[list[_Piece], str]:
        """The feed's pieces and the ETag of their bytes.

        A segment whose pieces are cached costs one look-up; the VEVENTs of the others
        come from the VEVENT cache or the stored renderings, and only the ones missing
        there are rendered.
        """
        render_key = self._render_key
        segments = self._snap.segments
        found = _pieces.get_many([(render_key, segment.digest) for segment in segments])
        plan: list[tuple[_Piece, ...] | _Segment] = [
            pieces or segment for pieces, segment in zip(found, segments, strict=True)
        ]
        todo = [part for part in plan if isinstance(part, _Segment)]
        rendered = {}
        for segment in todo:
            for row in segment.rows:
                hit = _vevents.get((render_key, *row))
                if hit is not None:
                    rendered[row] = hit
        missing_rows = [row for seg in todo for row in seg.rows if row not in rendered]
        if missing_rows:
            # What the database keeps: a restarted worker renders no unchanged event.
            for row, r in self._stored(missing_rows).items():
                _vevents.put((render_key, *row), r, len(r.vevent) + 200)
                rendered[row] = r
        missing = [row[0] for row in missing_rows if row not in rendered]
        # Rows whose event changed or went between the two queries (PostgreSQL reads each
        # statement's own snapshot): the row it was rendered as, or None.
        replaced: dict[tuple[int, str, int], tuple[int, str, int] | None] = {}
        if missing:
            loaded = self._load(missing)
            fresh: list[tuple[tuple[int, str, int], ical.RenderedEvent]] = []
            for row in missing_rows:
                if row in rendered:
                    continue
                event = loaded.get(row[0])
                if event is None:  # a draft deleted between the two queries
                    replaced[row] = None
                    continue
                r = ical.render_vevent(event, self.ctx)
                now = (event.id, event.uid, event.version)
                _vevents.put((render_key, *now), r, len(r.vevent) + 200)
                rendered[now] = r
                if now != row:
                    replaced[row] = now
                fresh.append((now, r))
            self._keep(fresh)
        for i, part in enumerate(plan):
            if not isinstance(part, _Segment):
                continue
            rows = part.rows
            if replaced:
                rows = tuple(r for r in (replaced.get(row, row) for row in rows) if r)
            pieces = []
            for start in range(0, len(rows), BLOCK_MAX):
                members = rows[start : start + BLOCK_MAX]
                # A long segment's other blocks are as they were (and compressed).
                key = (render_key, _digest(members), BLOCK_MAX)
                piece = _pieces.get(key)
                if piece is None:
                    present = [rendered[row] for row in members]
                    raw = b"".join([r.vevent for r in present])
                    piece = _Piece(raw, ical.timezone_spans(present), members)
                    if len(rows) > BLOCK_MAX:
                        _pieces.put(key, piece, 2 * len(raw) + 200)
                pieces.append(piece)
            plan[i] = tuple(pieces)
            if rows is part.rows:
                size = sum(2 * len(piece.raw) + 200 for piece in pieces)
                _pieces.put((render_key, part.digest), plan[i], size)
        blocks = [piece for pieces in plan for piece in pieces]
        extra_versions = self._extra_versions
        if self.extra is not None:
            present, extra_versions = self.extra.render(self.session, self.ctx)
            blocks.append(
                _Piece(b"".join([r.vevent for r in present]), ical.timezone_spans(present))
            )
        spans = _spans(blocks)
        if self.extra is not None:
            # Held by the piece cache, like the head (plans hold their pieces weakly).
            blocks[-1] = _piece(blocks[-1].raw)
        pieces = [_piece(self.head + ical.timezones_from_spans(spans)), *blocks]
        pieces.append(_piece(ical.CALENDAR_TAIL))
        if replaced:
            # Not the rows read: the ETag of what was rendered, and no snapshot of rows
            # that were not current (the next request reads the feed whole).
            _snapshots.pop((self.flt.cache_key, self._database))
            used = [row for piece in blocks for row in piece.rows]
            digests = [_digest(used[a:b]) for a, b in _runs(used)]
            return pieces, _etag(render_key, self.head + extra_versions, digests)
        if extra_versions != self._extra_versions:
            digests = [segment.digest for segment in self._snap.segments]
            return pieces, _etag(render_key, self.head + extra_versions, digests)
        return pieces, self._rows_etag

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
        engine = self.session.get_bind()
        _end_read(self.session)
        sqlite = engine.dialect.name == "sqlite"
        generation = (
            select(FeedState.generation).where(FeedState.id == 1).with_for_update(read=True)
        )
        recorded = (self._database, context_key(self.ctx))
        try:
            with engine.connect() as conn, conn.begin() as transaction:
                if not sqlite and conn.scalar(generation) != self._generation:
                    transaction.rollback()
                    return
                _store(conn, context_key(self.ctx), fresh)
                if recorded not in _recorded:
                    _record_context(conn, self.ctx)
                if sqlite and conn.scalar(generation) != self._generation:
                    transaction.rollback()
                    return
            _recorded.add(recorded)
        except SQLAlchemyError as exc:  # a deleted draft, a busy database: next time
            log.warning("feed.renderings_not_kept events=%d reason=%s", len(fresh), exc)

    def _load(
        self, ids: list[int], by_id: bool = False, session: Session | None = None
    ) -> dict[int, Event]:
        """Events to render, venue, themes and partners loaded in four queries whatever
        their number (``by_id``: by their ids however many), in ``session`` or the
        calendar's."""
        few = by_id or len(ids) <= LOAD_BY_ID_LIMIT
        # A few by their ids (after an edit: one); many with the filter's own query.
        collection = selectinload if few else subqueryload
        query = select(Event).options(
            joinedload(Event.venue),
            joinedload(Event.series),
            collection(Event.themes),
            collection(Event.partner_links).joinedload(EventPartner.partner),
        )
        query = query.where(Event.id.in_(ids)) if few else query.where(*self.flt.conditions())
        # Every object as this statement reads it, also one the session already holds: a
        # theme feed's theme, loaded when its slug was looked up, has its old name if a
        # rename committed since (PostgreSQL reads each statement's own snapshot), and
        # the events read now have the rename's versions.
        query = query.execution_options(populate_existing=True)
        wanted = set(ids)
        return {e.id: e for e in (session or self.session).scalars(query) if e.id in wanted}


def _upsert(conn, table, keys: list, values: list[dict], update: tuple = ()) -> None:
    insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    stmt = insert(table)
    if update:
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={name: stmt.excluded[name] for name in update}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    for start in range(0, len(values), KEEP_BATCH):
        conn.execute(stmt, values[start : start + KEEP_BATCH])


def _store(conn, context: str, fresh: list[tuple[tuple[int, str, int], ical.RenderedEvent]]):
    """Store renderings made for ``context``, by event id whatever order the feed has:
    every worker (and writer) locks the rows it writes in the same order, so two storing
    the same events at once wait for each other instead of deadlocking (PostgreSQL would
    kill one of them)."""
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
        for (eid, uid, version), r in sorted(fresh, key=lambda item: item[0][0])
    ]
    _upsert(
        conn,
        EventRendering,
        [EventRendering.event_id, EventRendering.context],
        values,
        ("uid", "version", "vevent", "tzid", "first_year", "last_year"),
    )


# (database, context key) of the render contexts this worker has recorded.
_recorded: set[tuple] = set()
# A write that touches more events than this leaves their rendering to the feeds.
RENDER_ON_WRITE = 20


def _record_context(conn, ctx: ical.RenderContext) -> None:
    """Record ``ctx`` (calendar.models.RenderContextRow) for the write path."""
    _upsert(
        conn,
        RenderContextRow,
        [RenderContextRow.key],
        [
            {
                "key": context_key(ctx),
                "site_url": ctx.site_url,
                "organizer_name": ctx.organizer_name,
                "organizer_email": ctx.organizer_email,
                "language": ctx.language,
                "texts": ctx.texts,
            }
        ],
    )


def keep_written(session: Session, events: list[Event]) -> None:
    """Render the events a transaction wrote for every context the feed workers use and
    store them in that transaction (calendar.tracking calls it before the commit), so the
    first feed request after an edit renders nothing. Only contexts this process renders
    exactly as the workers do (the same key: renderer, zone database, catalogues,
    transliterator); a larger write is left to the feeds. Best effort, in a savepoint:
    whatever fails is the feeds' to make, and the write goes on."""
    ids = sorted({event.id for event in events if event.id is not None})
    if not ids or len(ids) > RENDER_ON_WRITE or not has_app_context():
        return
    try:
        with session.begin_nested():
            _render_for_contexts(session, ids)
    except Exception:  # noqa: BLE001 - the feeds render and store it themselves
        log.exception("feed.render_on_write_failed events=%s", ids)


def _render_for_contexts(session: Session, ids: list[int]) -> None:
    conn = session.connection()
    texts = i18n.texts_fingerprint()
    contexts = []
    for row in conn.execute(select(RenderContextRow).where(RenderContextRow.texts == texts)):
        ctx = ical.RenderContext(
            site_url=row.site_url,
            organizer_name=row.organizer_name,
            organizer_email=row.organizer_email,
            language=row.language,
            texts=row.texts,
        )
        if context_key(ctx) == row.key:
            contexts.append(ctx)
    if not contexts:
        return
    loaded = session.scalars(
        select(Event)
        .where(Event.id.in_(ids))
        .options(
            joinedload(Event.venue),
            joinedload(Event.series),
            selectinload(Event.themes),
            selectinload(Event.partner_links).joinedload(EventPartner.partner),
        )
        .execution_options(populate_existing=True)
    ).all()
    for ctx in contexts:
        with i18n.use_language(ctx.language):
            fresh = [
                ((event.id, event.uid, event.version), ical.render_vevent(event, ctx))
                for event in loaded
            ]
        _store(conn, context_key(ctx), fresh)


def _end_read(session: Session) -> None:
    """End the request's read transaction, so that its connection goes back to the pool
    before the feed takes another (to store renderings, to stream): a request that holds
    one connection and waits for a second deadlocks the pool once as many requests do
    it at once as the pool has connections (each waits for the others until the pool's
    timeout, and requests behind them fail). Only for GET and HEAD, which write nothing
    (see db.make_engine), on a session with nothing pending; otherwise the caller's
    transaction is left alone (a command-line export: one at a time)."""
    if (
        has_request_context()
        and request.method in ("GET", "HEAD")
        and session.in_transaction()
        and not session.in_nested_transaction()
        and not (session.new or session.dirty or session.deleted)
    ):
        session.commit()


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


def _etag(render_key: str, head: bytes, digests: list[bytes]) -> str:
    """The ETag of a feed's bytes: the render key, the head and its segments' digests
    (each the hash of its rows), so that an edit hashes one segment again, not 10,000
    rows."""
    h = hashlib.sha256()
    h.update(render_key.encode())
    h.update(head)
    h.update(b"".join(digests))
    return h.hexdigest()[:40]


def _streamed(count: int) -> bool:
    """Whether a feed of ``count`` events is too large for the caches' budget to be built
    whole in memory (it is streamed, see Calendar.stream)."""
    return count * _per_event[0] > _budget[0] // STREAM_FRACTION


def _snapshot_size(count: int) -> int:
    # Two tuples and a dict entry per event, roughly.
    return 250 * count + 500
