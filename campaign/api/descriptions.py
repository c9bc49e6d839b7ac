"""The OpenAPI document's descriptions: English in /api/openapi.json (a contract for
programs, the same bytes in every language), translated on /api/docs.

Each description is written as ``described(N_("English text %(n)s."), n=...)``: ``N_``
marks the message for the catalogue (``make messages``), ``described`` returns the English
text for the document and remembers the message and its values, and ``translated`` gives
the page's language when /api/docs renders. A description without values is its own
message id, so ``translated`` finds it even if it was never registered here.
"""

from __future__ import annotations

from flask_babel import gettext
from markupsafe import Markup, escape

from ..i18n import N_  # noqa: F401  (re-exported for the modules that describe)

_MESSAGES: dict[str, tuple[str, dict]] = {}


def described(message: str, **values) -> str:
    """``message`` with ``values``, in English; remembered for :func:`translated`."""
    english = message % values if values else message
    _MESSAGES[english] = (message, values)
    return english


def message_of(english: str) -> str:
    """The catalogue's message id of a description (its text before values went in)."""
    return _MESSAGES.get(english, (english, {}))[0]


def translated(english: str) -> str:
    """The description in the request's language (English when it has no translation).
    Values that are descriptions themselves are translated too."""
    if not english:
        return ""
    message, values = _MESSAGES.get(english, (english, {}))
    if not values:
        return gettext(message)
    return gettext(
        message, **{k: translated(v) if isinstance(v, str) else v for k, v in values.items()}
    )


def as_html(text: str) -> Markup:
    """Escaped, with `names` in back-quotes as code elements."""
    parts = str(escape(text)).split("`")
    if len(parts) % 2 == 0:  # a lone back-quote: no code
        return Markup("`".join(parts))
    return Markup(
        "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))
    )
