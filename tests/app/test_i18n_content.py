"""Content in three languages: feeds and XLSX per language, English names, "keep as
written", search across scripts, translated forms and messages."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import icalendar
import pytest
from conftest import event_form_data
from openpyxl import load_workbook
from sqlalchemy import select

from campaign.catalog.models import Theme
from campaign.db import get_session
from campaign.events.forms import EventForm
from campaign.translit import to_latin


@pytest.fixture
def serbian_app(app):
    app.config["DEFAULT_LOCALE"] = "sr-Cyrl"
    return app


@pytest.fixture
def panel(create_event, create_venue, create_partner):
    venue = create_venue(
        name="Kulturni centar Novi Sad", city="Novi Sad", address="Katolička porta 5"
    )
    brand = create_partner(slug="rts", name="Radio-televizija Srbije")
    latin_brand = create_partner(slug="b92", name="B92 Studio", keep_script=True)
    return create_event(
        title="Panel o sajber bezbednosti",
        format="panel",
        title_en="Panel on cyber security",
        description="Razgovor o zaštiti mreža; više na https://ipap2.example.org/sajber.",
        starts_at=datetime(2021, 12, 20, 17, 0, tzinfo=UTC),
        themes=["cyber-security", "eadrcc"],
        venue=venue,
        partners=[(brand, "host"), (latin_brand, "media_partner")],
    )


def vevent(text: str):
    cal = icalendar.Calendar.from_ical(text)
    (event,) = [c for c in cal.walk("VEVENT")]
    return cal, event


# -- feeds ------------------------------------------------------------------------------------


def test_feed_speaks_the_lang_parameter_and_keeps_uids(serbian_app, panel):
    client = serbian_app.test_client()
    cyr = client.get("/calendar.ics")  # no ?lang=: the default language, sr-Cyrl
    lat = client.get("/calendar.ics?lang=sr-Latn")
    en = client.get("/calendar.ics?lang=en")
    cal, ev = vevent(cyr.get_data(as_text=True))
    assert str(cal["X-WR-CALNAME"]) == "Кампања ИПАП 2"
    assert str(ev["SUMMARY"]) == "Панел о сајбер безбедности"
    assert str(ev["LOCATION"]) == "Културни центар Нови Сад, Католичка порта 5, Нови Сад"
    assert [str(c) for c in ev["CATEGORIES"].cats] == [
        "Панел",
        "Евроатлантски координациони центар за реаговање у катастрофама (EADRCC)",
        "Сајбер безбедност",
    ]
    description = str(ev["DESCRIPTION"])
    assert description.startswith(
        "Разговор о заштити мрежа; више на https://ipap2.example.org/sajber."
    )
    assert "B92 Studio (Медијски партнер)" in description  # kept as written
    assert "Радио-телевизија Србије (Домаћин)" in description

    cal, ev_lat = vevent(lat.get_data(as_text=True))
    assert str(cal["X-WR-CALNAME"]) == "Kampanja IPAP 2"
    assert str(ev_lat["SUMMARY"]) == "Panel o sajber bezbednosti"
    assert to_latin(str(ev["DESCRIPTION"])) == str(ev_lat["DESCRIPTION"])

    cal, ev_en = vevent(en.get_data(as_text=True))
    assert str(cal["X-WR-CALNAME"]) == "IPAP 2 campaign"
    assert str(ev_en["SUMMARY"]) == "Panel on cyber security"
    assert [str(c) for c in ev_en["CATEGORIES"].cats] == [
        "Panel",
        "Cyber security",
        "Euro-Atlantic Disaster Response Coordination Centre (EADRCC)",
    ]
    assert "Themes: Cyber security, Euro-Atlantic" in str(ev_en["DESCRIPTION"])
    # One event, one UID in every language; three variants, three ETags.
    assert str(ev["UID"]) == str(ev_lat["UID"]) == str(ev_en["UID"])
    etags = {r.headers["ETag"] for r in (cyr, lat, en)}
    assert len(etags) == 3


def test_each_feed_variant_is_deterministic_and_answers_304(serbian_app, panel):
    client = serbian_app.test_client()
    for lang in ("sr-Cyrl", "sr-Latn", "en"):
        first = client.get(f"/themes/cyber-security/calendar.ics?lang={lang}")
        second = client.get(f"/themes/cyber-security/calendar.ics?lang={lang}")
        assert first.get_data() == second.get_data()
        assert first.headers["ETag"] == second.headers["ETag"]
        again = client.get(
            f"/themes/cyber-security/calendar.ics?lang={lang}",
            headers={"If-None-Match": first.headers["ETag"]},
        )
        assert again.status_code == 304


def test_feed_language_ignores_cookie_and_accept_language(serbian_app, panel):
    client = serbian_app.test_client()
    plain = client.get("/calendar.ics").get_data()
    client.set_cookie("lang", "en")
    assert client.get("/calendar.ics", headers={"Accept-Language": "en"}).get_data() == plain


# -- XLSX and CSV -----------------------------------------------------------------------------


def test_xlsx_headers_and_names_follow_lang_csv_stays_as_entered(serbian_app, panel):
    client = serbian_app.test_client()
    book = load_workbook(io.BytesIO(client.get("/events.xlsx?lang=sr-Cyrl").get_data()))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["UID", "назив", "формат"]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["назив"] == "Панел о сајбер безбедности"
    assert row["град"] == "Нови Сад"
    english = load_workbook(io.BytesIO(client.get("/events.xlsx?lang=en").get_data())).active
    assert [c.value for c in english[1]][:3] == ["uid", "title", "format"]
    assert english["B2"].value == "Panel on cyber security"
    csv_text = client.get("/events.csv").get_data().decode("utf-8-sig")
    assert "Panel o sajber bezbednosti" in csv_text and "Novi Sad" in csv_text


# -- pages: English names, keep as written, search -------------------------------------------


def test_the_nine_themes_have_serbian_and_english_names(serbian_app):
    with serbian_app.app_context():
        themes = get_session().scalars(select(Theme)).all()
    assert len(themes) == 9 and all(t.name and t.name_en for t in themes)
    client = serbian_app.test_client()
    assert "Сајбер безбедност" in client.get("/themes").get_data(as_text=True)
    assert "Sajber bezbednost" in client.get("/themes?lang=sr-Latn").get_data(as_text=True)
    assert "Cyber security" in client.get("/themes?lang=en").get_data(as_text=True)


def test_english_title_in_english_serbian_in_either_script(serbian_app, panel):
    client = serbian_app.test_client()
    assert "Панел о сајбер безбедности" in client.get(f"/events/{panel.id}").get_data(as_text=True)
    assert "Panel on cyber security" in client.get(f"/events/{panel.id}?lang=en").get_data(
        as_text=True
    )


def test_keep_as_written_and_urls_survive_the_cyrillic_interface(serbian_app, panel):
    page = serbian_app.test_client().get(f"/events/{panel.id}").get_data(as_text=True)
    assert ">B92 Studio</a>" in page
    assert ">Радио-телевизија Србије</a>" in page
    assert "https://ipap2.example.org/sajber" in page


@pytest.mark.parametrize("query", ["Нови Сад", "novi sad", "NOVI SAD", "нови сад", "Novi Sad"])
def test_search_matches_across_scripts_and_case(serbian_app, panel, query):
    page = serbian_app.test_client().get("/events", query_string={"q": query, "lang": "en"})
    assert "Panel on cyber security" in page.get_data(as_text=True)


@pytest.mark.parametrize("query", ["čačak", "cacak", "Чачак", "ČAČAK"])
def test_search_is_blind_to_diacritics(serbian_app, create_event, create_venue, query):
    venue = create_venue(name="Dom kulture Čačak", city="Čačak")
    create_event(title="Seminar u Čačku", venue=venue)
    page = serbian_app.test_client().get("/events", query_string={"q": query, "lang": "sr-Latn"})
    assert "Seminar u Čačku" in page.get_data(as_text=True)


# -- forms and messages -----------------------------------------------------------------------


def test_event_form_labels_choices_and_messages_are_translated(serbian_app, auth, client):
    auth.login()
    client.set_cookie("lang", "sr-Latn")
    page = client.get("/events/new").get_data(as_text=True)
    for label in ("Naziv", "Format", "Status", "Početak", "Kraj", "Vremenska zona"):
        assert re.search(rf"<label[^>]*>{label}</label>", page), label
    assert ">Okrugli sto</option>" in page and ">Nacrt</option>" in page
    with serbian_app.app_context():
        data = event_form_data(get_session(), title="", ends_at="2020-03-10T17:00")
    response = client.post("/events/new", data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Događaj nije sačuvan" in text and "Unesite naziv događaja." in text
    client.set_cookie("lang", "sr-Cyrl")
    text = client.post("/events/new", data=data).get_data(as_text=True)
    assert "Унесите назив догађаја." in text


def test_every_form_label_and_message_is_marked_for_translation(serbian_app):
    """A label or validator message written as a plain string stays English in Serbian."""
    from campaign.auth import forms as auth_forms
    from campaign.catalog import forms as catalog_forms

    forms = [
        EventForm,
        catalog_forms.ThemeForm,
        catalog_forms.PartnerForm,
        catalog_forms.VenueForm,
        auth_forms.LoginForm,
        auth_forms.NewUserForm,
        auth_forms.UserForm,
    ]
    with serbian_app.test_request_context("/?lang=en"):
        english = {f: {n: str(x.label.text) for n, x in f(meta={"csrf": False})._fields.items()}
                   for f in forms}  # fmt: skip
    with serbian_app.test_request_context("/?lang=sr-Latn"):
        for form_class in forms:
            form = form_class(meta={"csrf": False})
            for name, field in form._fields.items():
                if name in ("csrf_token", "version"):
                    continue
                label = str(field.label.text)
                assert label != english[form_class][name] or label in ("Format", "Status"), (
                    form_class.__name__,
                    name,
                    label,
                )
                for validator in field.validators:
                    message = getattr(validator, "message", None)
                    assert message is None or not isinstance(message, str), (
                        form_class.__name__,
                        name,
                        "validator message is a plain string",
                    )
