"""Languages: Serbian Cyrillic, Serbian Latin and English, through Flask-Babel.

The language of a request is chosen, in this order, by ``?lang=`` on the URL, the
``lang`` cookie set by the switcher on every page, ``Accept-Language`` (plain ``sr`` is
Cyrillic), then ``DEFAULT_LOCALE`` (``CAMPAIGN_DEFAULT_LOCALE``, default ``sr-Cyrl``).

Translators edit one Serbian catalogue, in Latin (``translations/sr_Latn``); the Cyrillic
one is generated from it when the catalogues are compiled (:mod:`campaign.catalogues`).
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from babel import Locale
from babel.dates import format_date, format_skeleton, get_day_names
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    has_app_context,
    has_request_context,
    redirect,
    request,
)
from flask_babel import Babel, force_locale, get_locale, gettext, lazy_gettext  # noqa: F401

from . import translit

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
# The transliterator's own code: a change to it changes Cyrillic texts as a new catalogue
# does.
TRANSLITERATOR = Path(translit.__file__)
# URL/HTML tag → Babel locale identifier.
LOCALES = {"sr-Cyrl": "sr_Cyrl", "sr-Latn": "sr_Latn", "en": "en"}
NATIVE_NAMES = {"sr-Cyrl": "Ћирилица", "sr-Latn": "Latinica", "en": "English"}
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

bp = Blueprint("i18n", __name__)


def N_(text: str) -> str:
    """Marks ``text`` for the catalogue where it is translated later (Flask-Login's message)."""
    return text


def parse_tag(value: str | None) -> str | None:
    """``sr-Latn``, ``sr_latn``, ``SR-CYRL``, ``sr`` → a tag of :data:`LOCALES`, else None."""
    if not value:
        return None
    parts = value.strip().replace("_", "-").lower().split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] in ("sr", "sh"):
        return "sr-Latn" if "latn" in parts[1:] or parts[0] == "sh" else "sr-Cyrl"
    # Croatian and Bosnian readers read Serbian Latin.
    if parts[0] in ("hr", "bs"):
        return "sr-Latn"
    return None


def url_tag() -> str | None:
    """The language ``?lang=`` names: exactly one of :data:`LOCALES` (a link names it as
    written; the lenient :func:`parse_tag` is for what browsers send)."""
    values = request.args.getlist("lang")
    return values[0] if values and values[0] in LOCALES else None


def _from_accept_language() -> str | None:
    for value, _quality in request.accept_languages:
        tag = parse_tag(value)
        if tag:
            return tag
    return None


def default_tag() -> str:
    return current_app.config["DEFAULT_LOCALE"] if has_app_context() else "en"


def current_tag() -> str:
    """The request's language as an HTML ``lang`` value: ``sr-Cyrl``, ``sr-Latn`` or ``en``.

    Outside a request (the CLI) it is the configured default, or what :func:`use_language`
    set; outside an application, English (what gettext answers there)."""
    if not has_app_context():
        return "en"  # as gettext without an application: the English msgids
    if not has_request_context():
        return g.get("lang_tag") or default_tag()
    if "lang_tag" not in g:
        g.lang_tag = (
            url_tag()
            or parse_tag(request.cookies.get(COOKIE))
            or _from_accept_language()
            or current_app.config["DEFAULT_LOCALE"]
        )
    return g.lang_tag


@contextmanager
def use_language(tag: str):
    """Speak ``tag`` inside the block (CLI exports; needs an application context)."""
    had = "lang_tag" in g
    old = g.get("lang_tag")
    g.lang_tag = tag
    try:
        with force_locale(LOCALES[tag]):
            yield
    finally:
        if had:
            g.lang_tag = old
        else:
            g.pop("lang_tag", None)


def _select_locale() -> str:
    return LOCALES[current_tag()]


DEFAULT_CAMPAIGN_NAME = "IPAP 2 campaign"


def campaign_name() -> str:
    """The built-in campaign name translated; a configured one in the page's script."""
    name = current_app.config["CAMPAIGN_NAME"]
    if name == DEFAULT_CAMPAIGN_NAME:
        # Per language, once per process (every feed request names the campaign).
        names = current_app.extensions.setdefault("campaign.names", {})
        tag = current_tag()
        if tag not in names:
            names[tag] = gettext("IPAP 2 campaign")
        return names[tag]
    return script_text(name)


def is_english() -> bool:
    return current_tag() == "en"


def script_text(value) -> str:
    """Organizer-entered Serbian text in the interface's script (unchanged in English)."""
    if value is None:
        return ""
    text = str(value)
    tag = current_tag()
    if tag == "sr-Cyrl":
        keep = current_app.config["TRANSLITERATION_KEEP"] if has_app_context() else None
        return translit.to_cyrillic(text, translit.DEFAULT_KEEP if keep is None else keep)
    if tag == "sr-Latn":
        return translit.to_latin(text)
    return text


def localized(obj, attribute: str) -> str:
    """``obj.<attribute>`` for this language: the ``<attribute>_en`` text in English when
    there is one, else the Serbian text in the interface's script, unless the record says
    to keep it as written (``keep_script``)."""
    if obj is None:
        return ""
    if is_english():
        english = getattr(obj, attribute + "_en", None)
        if english:
            return english
    value = getattr(obj, attribute, None)
    if value is None:
        return ""
    if getattr(obj, "keep_script", False):
        return value
    return script_text(value)


# -- dates and numbers --------------------------------------------------------------------


def _locale() -> Locale:
    return get_locale() or Locale.parse(LOCALES[current_app.config["DEFAULT_LOCALE"]])


def month_year(value: date) -> str:
    """``December 2021`` / ``децембар 2021.`` (standalone month name)."""
    return format_skeleton("yMMMM", value, locale=_locale())


def month_abbr(value: date) -> str:
    return format_date(value, "LLL", locale=_locale())


def long_date(value: date) -> str:
    """``29 March 2020`` / ``29. март 2020.``"""
    if is_english():
        return format_date(value, "dd MMMM y", locale=_locale())
    return format_date(value, "d. MMMM y.", locale=_locale())


def month_name(value: date) -> str:
    return format_date(value, "MMMM", locale=_locale())


def short_date(value: datetime) -> str:
    """``3 Mar 2020`` / ``3. мар 2020.``, in the campaign's zone."""
    local = value.astimezone(current_app.config["CAMPAIGN_ZONE"])
    if is_english():
        return f"{local.day} {format_date(local, 'MMM y', locale=_locale())}"
    return format_date(local, "d. MMM y.", locale=_locale())


def day_month(value: date) -> str:
    """``05 December`` / ``5. децембар``."""
    if is_english():
        return format_date(value, "dd MMMM", locale=_locale())
    return format_date(value, "d. MMMM", locale=_locale())


def weekday_name(value: date) -> str:
    return format_date(value, "EEEE", locale=_locale())


def weekday_names() -> list[tuple[str, str]]:
    """(abbreviated, full) names, Monday first, for the month view's header."""
    loc = _locale()
    short = get_day_names("abbreviated", locale=loc)
    full = get_day_names("wide", locale=loc)
    return [(short[i], full[i]) for i in range(7)]


def _day(value: datetime) -> str:
    if is_english():
        return format_date(value, "EEE d MMM y", locale=_locale())
    return format_date(value, "full", locale=_locale())


def format_when(event) -> str:
    """``Tue 3 Mar 2020, 18:00–20:00 CET`` / ``уторак, 3. март 2020. 18:00–20:00 CET``,
    in the event's own zone."""
    return format_span(event.local_start, event.local_end)


def format_span(start: datetime, end: datetime) -> str:
    """Two local times of one zone as a range. Each end carries its own abbreviation when
    the clock changes in between (``01:30 CEST – 03:30 CET`` on the autumn night)."""
    sep = ", " if is_english() else " "
    if start.date() == end.date():
        if start.tzname() == end.tzname():
            return f"{_day(start)}{sep}{start:%H:%M}–{end:%H:%M} {start:%Z}"
        return f"{_day(start)}{sep}{start:%H:%M} {start:%Z} – {end:%H:%M} {end:%Z}"
    return f"{_day(start)}{sep}{start:%H:%M} {start:%Z} – {_day(end)}{sep}{end:%H:%M} {end:%Z}"


def format_instant(value: datetime | None, zone=None) -> str:
    """A stored UTC instant in the campaign's zone (or the one given), in this language."""
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    if isinstance(zone, str):
        zone = ZoneInfo(zone)
    local = value.astimezone(zone or current_app.config["CAMPAIGN_ZONE"])
    if is_english():
        day = f"{local.day} {format_date(local, 'MMM y', locale=_locale())}"
        return f"{day}, {local:%H:%M} {local:%Z}"
    return f"{format_date(local, 'long', locale=_locale())} {local:%H:%M} {local:%Z}"


def format_number(value) -> str:
    from babel.numbers import format_decimal

    if value is None:
        return ""
    return format_decimal(value, locale=_locale())


# -- the switcher and alternate links -----------------------------------------------------


def _path_without_lang() -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return request.path + ("?" + urlencode(args) if args else "")


def language_links() -> list[dict]:
    """For the switcher and ``<link rel=alternate hreflang>``: one entry per language."""
    here = _path_without_lang()
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    current = current_tag()
    site = current_app.config["SITE_URL"].rstrip("/")
    links = []
    for tag in LOCALES:
        # On SITE_URL, never the request's Host header (which a client chooses).
        alternate = site + request.path + "?" + urlencode([*args, ("lang", tag)])
        links.append(
            {
                "tag": tag,
                "name": NATIVE_NAMES[tag],
                "current": tag == current,
                "switch": "/language/" + tag + "?" + urlencode({"next": here}),
                "alternate": alternate,
            }
        )
    return links


def with_lang(url: str) -> str:
    """``url`` carrying the page's language (for feed and export links people share).

    Feeds without ``lang`` speak the default language, so the default needs no parameter."""
    if current_tag() == current_app.config["DEFAULT_LOCALE"]:
        return url
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}lang={current_tag()}"


def _safe_next(target: str | None) -> str:
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target:
        return "/"
    return target


@bp.get("/language/<tag>")
def switch(tag: str):
    chosen = parse_tag(tag)
    if chosen is None or chosen != tag:
        abort(404)
    response = redirect(_safe_next(request.args.get("next")), code=303)
    response.set_cookie(
        COOKIE,
        chosen,
        max_age=COOKIE_MAX_AGE,
        samesite="Lax",
        httponly=True,
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )
    return response


MACHINE_SUFFIXES = ("ics", "csv", "xlsx", "json", "atom")


def _check_lang_parameter():
    """``?lang=`` must name a language; feeds and exports speak it or the default language,
    never the cookie's or the client's, so a given URL always gives the same bytes."""
    values = request.args.getlist("lang")
    machine = _url_decides_language()
    bad = [v for v in values if v not in LOCALES]
    if bad or len(set(values)) > 1:
        message = gettext(
            "%(param)s must be one of %(choices)s, not %(value)s",
            param="lang",
            choices=", ".join(LOCALES),
            value=repr((bad or values)[-1][:40]),
        )
        if machine:
            return (message, 400, {"Content-Type": "text/plain; charset=utf-8"})
        abort(400, description=message)
    if machine:
        g.lang_tag = url_tag() or default_tag()
    return None


def _url_decides_language() -> bool:
    """Feeds, exports and the embeddable agenda: the URL alone decides (never the cookie
    or the browser), so a given URL always gives the same bytes."""
    return request.path.rsplit(".", 1)[-1] in MACHINE_SUFFIXES or request.path.startswith("/embed/")


def _vary_on_language(response):
    """A page without ``?lang=`` speaks the cookie's or the browser's language: shared
    caches must keep one copy per Accept-Language (the cookie is covered by Vary: Cookie
    wherever the session is read, and added here for the lang cookie)."""
    if not _url_decides_language() and url_tag() is None and response.mimetype == "text/html":
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response


def texts_fingerprint() -> str:
    """What the words of a feed depend on besides its data and language: the compiled
    catalogues, the transliterator and its settings. Part of the feeds' render context,
    so a new catalogue, transliterator or setting (a deploy, or hosts mid-rollout) gives
    new ETags and stored renderings."""
    cfg = current_app.config
    cache = current_app.extensions.setdefault("campaign.texts_fingerprint", {})
    keep = repr(cfg.get("TRANSLITERATION_KEEP"))
    if keep not in cache:
        h = hashlib.sha256(keep.encode())
        h.update(TRANSLITERATOR.read_bytes())
        for mo in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.mo")):
            h.update(mo.relative_to(TRANSLATIONS).as_posix().encode())
            h.update(mo.read_bytes())
        cache[keep] = h.hexdigest()[:16]
    return cache[keep]


def init_app(app: Flask) -> None:
    tag = parse_tag(app.config.get("DEFAULT_LOCALE"))
    if tag is None or tag != app.config.get("DEFAULT_LOCALE"):
        raise RuntimeError(
            f"CAMPAIGN_DEFAULT_LOCALE {app.config.get('DEFAULT_LOCALE')!r} must be one of "
            + ", ".join(LOCALES)
        )
    app.config["BABEL_DEFAULT_LOCALE"] = LOCALES[tag]
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["TIMEZONE"]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=_select_locale)
    app.before_request(_check_lang_parameter)
    app.after_request(_vary_on_language)
    app.register_blueprint(bp)

    env = app.jinja_env
    env.filters["when"] = format_when
    env.globals["time_span"] = format_span
    env.filters["datetime"] = format_instant
    env.filters["month_year"] = month_year
    env.filters["month_abbr"] = month_abbr
    env.filters["day_month"] = day_month
    env.filters["long_date"] = long_date
    env.filters["month_name"] = month_name
    env.filters["short_date"] = short_date
    env.filters["weekday"] = weekday_name
    env.filters["number"] = format_number
    env.filters["script"] = script_text
    env.filters["loc"] = localized
    env.globals["weekday_names"] = weekday_names
    env.globals["language_links"] = language_links
    env.globals["current_lang"] = current_tag
    env.globals["with_lang"] = with_lang

    @app.context_processor
    def _language_globals():
        return {"campaign_name": campaign_name()}
