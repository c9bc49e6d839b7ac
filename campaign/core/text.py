"""Text as the campaign compares it."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Text as the search compares it: NFC, then casefolded (Đ→đ, ß→ss)."""
    return unicodedata.normalize("NFC", text).casefold()
