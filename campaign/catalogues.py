"""Build the message catalogues: sr_Cyrl generated from sr_Latn, then every .po compiled.

Translators edit only ``translations/sr_Latn/LC_MESSAGES/messages.po`` (English msgids,
Serbian Latin msgstrs). The build (``setup.py``'s build_py, ``make install``) runs
``python -m campaign.catalogues`` which writes the Cyrillic catalogue by transliterating
every msgstr and compiles both to ``.mo``, so the wheel carries compiled catalogues.

This module needs only Babel and :mod:`campaign.translit`, so a build can load it by path.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

try:
    from . import translit
except ImportError:  # loaded by path from setup.py, before the package is installed
    import translit  # type: ignore[no-redef]

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
SOURCE = "sr_Latn"
GENERATED = "sr_Cyrl"
# Product, format, protocol and field names that stay in Latin letters in the Cyrillic
# catalogue (tests/app/test_i18n.py's TECHNICAL_WORDS checks the generated one). "token"
# is not among them: Serbian has the word (токен); the header that carries one is code.
CATALOGUE_KEEP = (
    *translit.DEFAULT_KEEP, "Google", "Calendar", "Outlook", "Apple", "Thunderbird", "Excel",
    "Ctrl", "Mac", "CSV", "JSON", "ICS", "XLSX", "IANA", "ics", "UID", "MB",
    "ETag", "OpenAPI", "UTF", "NUL", "PDF", "UTC",
    "API", "Atom", "iCalendar", "slug", "rrggbb", "null", "Bearer", "HTTP", "URL", "ISO",
)  # fmt: skip


def po_path(root: Path, locale: str) -> Path:
    return root / locale / "LC_MESSAGES" / "messages.po"


def cyrillic_catalog(latin_po: Path):
    """The sr_Latn catalogue with every msgstr transliterated to Cyrillic."""
    with latin_po.open("rb") as fh:
        catalog = read_po(fh, locale=SOURCE)
    catalog.locale = Locale.parse(GENERATED)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.string, tuple | list):
            message.string = tuple(translit.to_cyrillic(s, CATALOGUE_KEEP) for s in message.string)
        elif message.string:
            message.string = translit.to_cyrillic(message.string, CATALOGUE_KEEP)
    return catalog


def compile_catalogues(root: Path = TRANSLATIONS) -> list[Path]:
    """Generate sr_Cyrl from sr_Latn, then compile every ``messages.po`` to ``.mo``."""
    catalog = cyrillic_catalog(po_path(root, SOURCE))
    target = po_path(root, GENERATED)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as fh:
        fh.write(b"# GENERATED from sr_Latn by campaign.catalogues: edit sr_Latn instead.\n")
        write_po(fh, catalog, width=100, sort_output=True)
    written = []
    for po in sorted(root.glob("*/LC_MESSAGES/messages.po")):
        with po.open("rb") as fh:
            compiled = read_po(fh, locale=po.parent.parent.name)
        mo = po.with_suffix(".mo")
        with mo.open("wb") as fh:
            write_mo(fh, compiled)
        written.append(mo)
    return written


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else TRANSLATIONS
    for mo in compile_catalogues(root):
        print(f"compiled {mo}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
