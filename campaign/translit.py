"""Serbian Cyrillic ↔ Latin (gajica) transliteration, for the interface and for event text.

Serbian has an exact letter-for-letter correspondence, except that three Cyrillic letters
are Latin digraphs (љ lj, њ nj, џ dž). Going to Cyrillic, the digraphs are read as one
letter, except in the few words where the two letters belong to different morphemes
(``injekcija`` → ``инјекција``, ``nadživeti`` → ``надживети``). Going to Latin, an
upper-case digraph is ``LJ`` inside an upper-case word and ``Lj`` otherwise.

Text that is not Serbian prose is left as written: URLs, e-mail addresses, HTML tags,
``%(name)s`` and ``{name}`` placeholders, words with letters Serbian Latin does not use
(q, w, x, y: foreign names such as ``Playwright``), what ``<code>`` elements hold, and
configured names and acronyms (``EADRCC``, ``KFOR``; with a case ending, ``EADRCC-a``
keeps the acronym and writes the ending in Cyrillic). Existing libraries (cyrtranslit) transliterate URLs and get the
upper-case digraphs wrong (``NJEGOŠ`` → ``НЈЕГОШ``), hence this module.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

_LAT_TO_CYR = {
    "a": "а", "b": "б", "c": "ц", "č": "ч", "ć": "ћ", "d": "д", "đ": "ђ", "e": "е",
    "f": "ф", "g": "г", "h": "х", "i": "и", "j": "ј", "k": "к", "l": "л", "m": "м",
    "n": "н", "o": "о", "p": "п", "r": "р", "s": "с", "š": "ш", "t": "т", "u": "у",
    "v": "в", "z": "з", "ž": "ж",
}  # fmt: skip
_DIGRAPHS = {"lj": "љ", "nj": "њ", "dž": "џ"}
# Unicode's one-character digraphs (ǉ ǌ ǆ and their title and upper forms).
_DIGRAPH_CHARS = {
    "ǉ": "љ", "ǈ": "Љ", "Ǉ": "Љ", "ǌ": "њ", "ǋ": "Њ", "Ǌ": "Њ", "ǆ": "џ", "ǅ": "Џ", "Ǆ": "Џ",
}  # fmt: skip
_CYR_TO_LAT = {c: lat for lat, c in _LAT_TO_CYR.items()} | {c: lat for lat, c in _DIGRAPHS.items()}
# Word beginnings where n+j, l+j or d+ž are two letters (prefix + root), lower case.
LATIN_EXCEPTIONS = (
    "injekc", "konjugac", "konjunk", "vanjezi", "nadživ", "nadžnj", "podžanr", "podžup",
    "predžel",
)  # fmt: skip

# Foreign acronyms written in Latin in Cyrillic text too (NATO, EU and IPAP have Cyrillic forms).
DEFAULT_KEEP = ("EADRCC", "KFOR", "SPS", "PfP")

_PROTECTED = re.compile(
    r"""
      <code>[^<]*</code>                         # code elements, with what they hold
    | `[^`\n]*`                                  # `code` in back-quotes (the API's texts)
    | <[^<>]*>                                   # HTML tags
    | %\([^)]*\)[sdif]                           # %(name)s placeholders
    | %[sd]
    | \{[^{}\s]*\}                               # {name} placeholders
    | [a-z][a-z0-9+.-]*://\S*                    # URLs with a scheme (or one alone)
    | www\.\S+
    | [\w.+-]+@[\w-]+(?:\.[\w-]+)+               # e-mail addresses
    | &[a-zA-Z]+;|&\#\d+;                        # HTML entities
    | [A-Za-z_]+(?:/[A-Za-z_+-]+)+               # time-zone names and paths: Europe/Belgrade
    | [\w-]+(?:\.[\w-]+)*\.(?:com|org|net|rs|eu|int|ics)\b  # domains, file names
    | \bU\+[0-9A-F]{4,6}\b                      # character codes: U+0000
    | (?<![\w.])\.[a-z][a-z0-9]{1,4}\b           # file extensions alone: .csv, .xlsx
    """,
    re.VERBOSE | re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_FOREIGN = re.compile(r"[qwxyQWXY]")
_CODE_LIKE = re.compile(r"\w*(?:\d\w*[^\W\d_]|[^\W\d_]\w*\d)\w*|\w+_\w+")


def _split(text: str, keep: Iterable[str]) -> list[tuple[bool, str]]:
    """Pieces of ``text``: (True, piece) to transliterate, (False, piece) to keep."""
    keep_set = set(keep)
    pieces: list[tuple[bool, str]] = []
    pos = 0
    for m in _PROTECTED.finditer(text):
        if m.start() > pos:
            pieces += _split_words(text[pos : m.start()], keep_set)
        pieces.append((False, m.group()))
        pos = m.end()
    if pos < len(text):
        pieces += _split_words(text[pos:], keep_set)
    return pieces


def _split_words(text: str, keep: set[str]) -> list[tuple[bool, str]]:
    pieces: list[tuple[bool, str]] = []
    pos = 0
    for m in _CODE_LIKE.finditer(text):
        pieces.append((True, text[pos : m.start()]))
        pieces.append((False, m.group()))
        pos = m.end()
    pieces.append((True, text[pos:]))
    out: list[tuple[bool, str]] = []
    for convert, piece in pieces:
        if not convert:
            out.append((False, piece))
            continue
        pos = 0
        for m in _WORD.finditer(piece):
            word = m.group()
            if word in keep or _FOREIGN.search(word):
                out.append((True, piece[pos : m.start()]))
                out.append((False, word))
                pos = m.end()
            elif (head := re.split(r"[-'’]", word, maxsplit=1)[0]) in keep:
                # A kept acronym with a Serbian case ending: API-ja → API-ја.
                out.append((True, piece[pos : m.start()]))
                out.append((False, head))
                pos = m.start() + len(head)
        out.append((True, piece[pos:]))
    return [p for p in out if p[1]]


# Pure functions of their arguments, and the same words and names come back in every
# event: a cold feed (thousands of VEVENTs in Cyrillic) spends most of its time here.
@functools.lru_cache(maxsize=65536)
def _word_to_cyrillic(word: str) -> str:
    lower = word.lower()
    exception_end = 0
    for prefix in LATIN_EXCEPTIONS:
        if lower.startswith(prefix):
            exception_end = len(prefix)
            break
    out: list[str] = []
    i = 0
    while i < len(word):
        ch = word[i]
        if ch in _DIGRAPH_CHARS:
            out.append(_DIGRAPH_CHARS[ch])
            i += 1
            continue
        pair = lower[i : i + 2]
        if pair in _DIGRAPHS and not (exception_end and i + 1 < exception_end):
            cyr = _DIGRAPHS[pair]
            out.append(cyr.upper() if ch.isupper() else cyr)
            i += 2
            continue
        low = ch.lower()
        if low in _LAT_TO_CYR:
            cyr = _LAT_TO_CYR[low]
            out.append(cyr.upper() if ch.isupper() else cyr)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def to_cyrillic(text: str, keep: Iterable[str] = DEFAULT_KEEP) -> str:
    """Serbian Latin → Cyrillic; Cyrillic and protected pieces pass through unchanged."""
    if not text:
        return text
    keep = tuple(keep)
    if len(text) <= 200:  # names and titles, which repeat
        return _short_to_cyrillic(text, keep)
    return _to_cyrillic(text, keep)


@functools.lru_cache(maxsize=16384)
def _short_to_cyrillic(text: str, keep: tuple[str, ...]) -> str:
    return _to_cyrillic(text, keep)


def _to_cyrillic(text: str, keep: tuple[str, ...]) -> str:
    out = []
    for convert, piece in _split(text, keep):
        if convert:
            piece = _WORD.sub(lambda m: _word_to_cyrillic(m.group()), piece)
        out.append(piece)
    return "".join(out)


def to_latin(text: str, keep: Iterable[str] = ()) -> str:
    """Serbian Cyrillic → Latin; ``Љ`` is ``LJ`` next to upper-case letters, else ``Lj``."""
    if not text:
        return text
    out: list[str] = []
    n = len(text)
    for i, ch in enumerate(text):
        low = ch.lower()
        lat = _CYR_TO_LAT.get(low)
        if lat is None:
            out.append(ch)
            continue
        if ch == low:
            out.append(lat)
        elif len(lat) == 1:
            out.append(lat.upper())
        else:
            before = text[i - 1] if i > 0 else ""
            after = text[i + 1] if i + 1 < n else ""
            shouting = (after.isalpha() and after.isupper()) or (
                before.isalpha() and before.isupper() and not after.isalpha()
            )
            out.append(lat.upper() if shouting else lat[0].upper() + lat[1:])
    return "".join(out)


_FOLD = str.maketrans({"č": "c", "ć": "c", "š": "s", "ž": "z", "đ": "dj"})


def search_key(text: str) -> str:
    """Script-, case- and diacritic-blind form for matching: ``Чачак`` = ``čačak`` = ``CACAK``.

    NFC first (a decomposed ``č`` is one letter), Cyrillic to Latin, casefolded (``ß`` →
    ``ss``), then the Serbian diacritics dropped (``đ`` → ``dj``, as people type it)."""
    if not text:
        return ""
    latin = to_latin(unicodedata.normalize("NFC", text)).casefold()
    return latin.replace("dž", "dz").translate(_FOLD)
