"""Text as the campaign compares it."""

from __future__ import annotations

from ..translit import search_key


def fold(text: str) -> str:
    """Text as the search compares it: NFC, in Latin letters, casefolded, without Serbian
    diacritics (Нови Сад → novi sad, Čačak → cacak, Đ → dj, ß → ss)."""
    return search_key(text)
