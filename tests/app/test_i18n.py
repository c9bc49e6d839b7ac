"""Languages: choosing one, the switcher, every template string translated, the catalogues.

The rest of the suite reads English (conftest sets CAMPAIGN_DEFAULT_LOCALE=en); here the
product's own default, Serbian Cyrillic, is tested too.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from babel.support import Translations

from campaign import catalogues, create_app
from campaign import config as default_config
from campaign.translit import to_latin

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
SOURCE_PO = catalogues.po_path(catalogues.TRANSLATIONS, "sr_Latn")


@pytest.fixture
def serbian_app(app):
    app.config["DEFAULT_LOCALE"] = "sr-Cyrl"
    return app


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


# -- choosing the language ----------------------------------------------------------------


def test_the_product_default_is_serbian_cyrillic(monkeypatch, database_url):
    assert default_config.DEFAULT_LOCALE == "sr-Cyrl"
    monkeypatch.delenv("CAMPAIGN_DEFAULT_LOCALE", raising=False)
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    try:
        response = app.test_client().get("/events")  # no Accept-Language at all
        assert response.status_code == 200
        assert html_lang(response) == "sr-Cyrl"
        page = response.get_data(as_text=True)
        assert "<h1>Догађаји" in page and "Прескочи на садржај" in page
    finally:
        app.extensions["campaign.engine"].dispose()


@pytest.mark.parametrize(
    ("headers", "query", "cookie", "expected"),
    [
        ({}, "", None, "sr-Cyrl"),
        ({"Accept-Language": "sr"}, "", None, "sr-Cyrl"),
        ({"Accept-Language": "sr-RS,sr;q=0.9"}, "", None, "sr-Cyrl"),
        ({"Accept-Language": "sr-Latn-RS"}, "", None, "sr-Latn"),
        ({"Accept-Language": "de-DE, en;q=0.5"}, "", None, "en"),
        ({"Accept-Language": "hr"}, "", None, "sr-Latn"),
        ({"Accept-Language": "de"}, "", None, "sr-Cyrl"),
        ({"Accept-Language": "en"}, "", "sr-Latn", "sr-Latn"),
        ({"Accept-Language": "en"}, "?lang=sr-Cyrl", "sr-Latn", "sr-Cyrl"),
        ({}, "?lang=en", "sr-Latn", "en"),
        ({}, "", "klingon", "sr-Cyrl"),
    ],
)
def test_language_order_query_cookie_accept_language_default(
    serbian_app, headers, query, cookie, expected
):
    client = serbian_app.test_client()
    if cookie:
        client.set_cookie("lang", cookie)
    response = client.get("/events" + query, headers=headers)
    assert response.status_code == 200
    assert html_lang(response) == expected


def test_unknown_lang_is_a_400_naming_the_parameter(serbian_app):
    client = serbian_app.test_client()
    page = client.get("/events?lang=de")
    assert page.status_code == 400
    assert "lang" in page.get_data(as_text=True) and "sr-Latn" in page.get_data(as_text=True)
    feed = client.get("/calendar.ics?lang=xx")
    assert feed.status_code == 400
    assert feed.headers["Content-Type"].startswith("text/plain")
    assert "lang" in feed.get_data(as_text=True)


def test_switcher_on_every_page_sets_the_cookie_and_goes_back(serbian_app):
    client = serbian_app.test_client()
    for path in ("/", "/events", "/events/calendar", "/themes", "/login", "/no-such-page"):
        page = client.get(path).get_data(as_text=True)
        assert 'aria-label="Језик"' in page, path
        assert 'hreflang="sr-Latn"' in page and 'hreflang="en"' in page, path
    response = client.get("/language/sr-Latn?next=/events%3Fcity%3DBeograd")
    assert response.status_code == 303
    assert response.headers["Location"] == "/events?city=Beograd"
    assert "lang=sr-Latn" in response.headers["Set-Cookie"]
    assert html_lang(client.get("/events")) == "sr-Latn"
    assert "Događaji" in client.get("/events").get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil", ""])
def test_switcher_never_redirects_off_site(serbian_app, target):
    response = serbian_app.test_client().get("/language/en", query_string={"next": target})
    assert response.headers["Location"] == "/"


def test_switcher_refuses_unknown_languages(serbian_app):
    assert serbian_app.test_client().get("/language/de").status_code == 404


def test_alternate_links_name_the_other_languages_of_this_page(serbian_app):
    page = serbian_app.test_client().get("/events?city=Beograd&lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert (
        '<link rel="alternate" hreflang="sr-Cyrl" '
        'href="http://campaign.test/events?city=Beograd&amp;lang=sr-Cyrl">'
    ) in page
    assert (
        'hreflang="sr-Latn" href="http://campaign.test/events?city=Beograd&amp;lang=sr-Latn"'
        in page
    )


def test_feed_links_carry_a_language_other_than_the_default(serbian_app):
    client = serbian_app.test_client()
    cyrillic = client.get("/").get_data(as_text=True)
    assert 'href="webcal://campaign.test/calendar.ics"' in cyrillic
    latin = client.get("/?lang=sr-Latn").get_data(as_text=True)
    assert "webcal://campaign.test/calendar.ics?lang=sr-Latn" in latin


# -- dates, numbers, plurals ----------------------------------------------------------------


def test_month_view_speaks_each_language(serbian_app, create_event):
    create_event(
        title="Panel o sajber bezbednosti", starts_at=datetime(2021, 12, 20, 17, 0, tzinfo=UTC)
    )
    client = serbian_app.test_client()
    cyr = client.get("/events/calendar?month=2021-12").get_data(as_text=True)
    assert "децембар 2021." in cyr
    assert '<abbr title="понедељак">пон</abbr>' in cyr
    assert "Панел о сајбер безбедности" in cyr
    assert "1 догађај – децембар 2021." in cyr
    lat = client.get("/events/calendar?month=2021-12&lang=sr-Latn").get_data(as_text=True)
    assert "decembar 2021." in lat and '<abbr title="ponedeljak">pon</abbr>' in lat
    assert "Panel o sajber bezbednosti" in lat
    en = client.get("/events/calendar?month=2021-12&lang=en").get_data(as_text=True)
    assert "December 2021" in en and '<abbr title="Monday">Mon</abbr>' in en


def test_event_dates_follow_the_locale(serbian_app, create_event):
    event = create_event(title="Okrugli sto", starts_at=datetime(2021, 12, 20, 17, 0, tzinfo=UTC))
    client = serbian_app.test_client()
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "понедељак, 20. децембар 2021. 18:00–" in page
    latin = client.get(f"/events/{event.id}?lang=sr-Latn").get_data(as_text=True)
    assert "ponedeljak, 20. decembar 2021. 18:00–" in latin
    english = client.get(f"/events/{event.id}?lang=en").get_data(as_text=True)
    assert "Mon 20 Dec 2021, 18:00–" in english


@pytest.mark.parametrize(
    ("n", "latin"),
    [(1, "1 događaj"), (2, "2 događaja"), (4, "4 događaja"), (5, "5 događaja"), (11, "11 događaja"),
     (21, "21 događaj"), (22, "22 događaja"), (25, "25 događaja")],
)  # fmt: skip
def test_serbian_plurals_use_cldr_three_forms(n, latin):
    for locale, expected in (("sr_Latn", latin), ("sr_Cyrl", None)):
        translations = Translations.load(str(catalogues.TRANSLATIONS), [locale])
        got = translations.ngettext("%(num)d event", "%(num)d events", n) % {"num": n}
        assert (to_latin(got) if expected is None else got) == latin


# -- every string a person reads is marked and translated ----------------------------------

# Text that is the same in every language: format names, symbols.
UNTRANSLATED_OK = {"CSV", "JSON", "ICS", "UID"}
HUMAN_ATTRIBUTES = re.compile(r'\b(?:title|placeholder|aria-label|alt)="([^"]*)"')


def unmarked_text(source: str) -> list[str]:
    """Words in a template's literal text (outside Jinja tags) that a person would read."""
    literal = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "\x00", source, flags=re.S)
    found = [v for v in HUMAN_ATTRIBUTES.findall(literal)]
    found += re.sub(r"<[^>]*>", "\x00", literal).split("\x00")
    words = []
    for chunk in found:
        for word in re.findall(r"[^\W\d_]{2,}", chunk):
            if word not in UNTRANSLATED_OK:
                words.append(word)
    return words


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))
)
def test_every_template_string_is_marked_for_translation(template):
    assert unmarked_text((TEMPLATES / template).read_text()) == []


def test_the_check_catches_an_unmarked_string():
    assert unmarked_text('<p class="x">{{ _("Fine") }} Not marked</p>') == ["Not", "marked"]
    assert unmarked_text('<input placeholder="Search here">') == ["Search", "here"]
    assert unmarked_text('<a title="{{ _("ok") }}">{{ x }}</a> · →') == []


def extracted_messages() -> set:
    method_map = [("campaign/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "lazy_gettext": None,
        "_l": None,
        "N_": None,
    }
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords=keywords
    ):
        ids.add(message if isinstance(message, str) else tuple(message))
    return ids


def source_catalog():
    with SOURCE_PO.open("rb") as fh:
        return read_po(fh, locale="sr_Latn")


def test_the_serbian_catalogue_translates_every_marked_string():
    catalog = source_catalog()
    missing = []
    for msgid in sorted(extracted_messages(), key=str):
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = catalog.get(key)
        strings = (
            () if message is None else message.string if message.pluralizable else (message.string,)
        )
        if message is None or not all(strings) or (message.pluralizable and len(strings) != 3):
            missing.append(key)
    assert missing == []


def test_translations_keep_their_placeholders_and_markup():
    for message in source_catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"%\(\w+\)[sd]|<[^>]+>", ids[-1]))
        for string in strings:
            assert set(re.findall(r"%\(\w+\)[sd]|<[^>]+>", string)) == wanted, message.id


def test_the_cyrillic_catalogue_is_the_latin_one_transliterated():
    generated = catalogues.po_path(catalogues.TRANSLATIONS, "sr_Cyrl")
    with generated.open("rb") as fh:
        cyrillic = read_po(fh, locale="sr_Cyrl")
    latin = source_catalog()
    assert {m.id for m in cyrillic} == {m.id for m in latin}
    expected = catalogues.cyrillic_catalog(SOURCE_PO)
    for message in latin:
        if not message.id:
            continue
        assert cyrillic[message.id].string == expected[message.id].string
        strings = cyrillic[message.id].string
        for cyr, lat in zip(
            strings if isinstance(strings, tuple) else (strings,),
            message.string if isinstance(message.string, tuple) else (message.string,),
            strict=True,
        ):
            assert to_latin(cyr) == lat
    for locale in ("sr_Latn", "sr_Cyrl"):
        assert catalogues.po_path(catalogues.TRANSLATIONS, locale).with_suffix(".mo").exists()


@pytest.mark.slow
def test_the_wheel_carries_compiled_catalogues(tmp_path):
    # Copy the tree without build products, so the build itself must compile them.
    source = tmp_path / "src"
    subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], check=True, capture_output=True
    )  # the tracked files only
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files"], check=True, capture_output=True, text=True
    ).stdout.split()
    for name in files:
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    assert not list(source.rglob("*.mo"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("campaign-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for locale in ("sr_Latn", "sr_Cyrl"):
        assert f"campaign/translations/{locale}/LC_MESSAGES/messages.mo" in names


@pytest.mark.parametrize("code", ["UTF-8", "NUL", "U+0000", "PDF", "UTC"])
def test_codes_stay_latin_in_the_cyrillic_catalogue(code):
    """Encodings, character codes and format names are read as written, not as Serbian."""
    generated = catalogues.po_path(catalogues.TRANSLATIONS, "sr_Cyrl")
    with generated.open("rb") as fh:
        cyrillic = read_po(fh, locale="sr_Cyrl")
    found = [m for m in cyrillic if m.id and code in str(m.id)]
    assert found, code
    for message in found:
        assert code in str(message.string), (code, message.string)


# Names of formats, protocols, fields and values that a program reads as written.
TECHNICAL_WORDS = [
    "slug", "API", "Atom", "iCalendar", "rrggbb", "null", "limit", "CSV", "XLSX", "JSON",
    ".ics", ".csv", ".xlsx", "ETag", "IANA", "UTF-8", "Excel", "Europe/Belgrade", "ISO",
    "SEQUENCE", "UID", "`If-Match`", "`Authorization`", "`GET /api/v1/events/{event_id}`",
]  # fmt: skip


def _whole(word: str, text: str) -> int:
    return len(re.findall(rf"(?<![\w.-]){re.escape(word)}(?![\w])", text))


@pytest.mark.parametrize("word", TECHNICAL_WORDS)
def test_technical_words_stay_latin_in_the_cyrillic_catalogue(word):
    """``(slug)`` became ``(слуг)``, ``API-ja`` ``АПИ-ја``, ``iCalendar`` ``иЦалендар``:
    every Latin message with such a word has it, as written, in Cyrillic too."""
    generated = catalogues.po_path(catalogues.TRANSLATIONS, "sr_Cyrl")
    with generated.open("rb") as fh:
        cyrillic = read_po(fh, locale="sr_Cyrl")
    found = 0
    for message in source_catalog():
        if not message.id:
            continue
        latin = message.string if isinstance(message.string, tuple) else (message.string,)
        strings = cyrillic[message.id].string
        strings = strings if isinstance(strings, tuple) else (strings,)
        for lat, cyr in zip(latin, strings, strict=True):
            if _whole(word, lat):
                found += 1
                assert _whole(word, cyr) == _whole(word, lat), (word, cyr)
    assert found, word


def test_date_patterns_are_in_one_script_in_cyrillic():
    """The import's date hint was half Latin, half Cyrillic (YYYY-MM-DD ХХ:ММ)."""
    generated = catalogues.po_path(catalogues.TRANSLATIONS, "sr_Cyrl")
    with generated.open("rb") as fh:
        cyrillic = read_po(fh, locale="sr_Cyrl")
    for message in cyrillic:
        string = str(message.string)
        assert not ("YYYY" in string and re.search("[А-Яа-я]{2}:[А-Яа-я]{2}", string)), string
