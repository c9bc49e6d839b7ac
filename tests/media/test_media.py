"""Media items: the form, the operations layer, the public list, its filter and exports."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from campaign.core.errors import NotAllowed, ValidationError
from campaign.db import get_session
from campaign.media import operations as media_ops
from campaign.media.models import MediaItem, MediaItemChange
from campaign.models import Partner, Theme
from tests.conftest import form_version

LABELS = [
    "Headline",
    "Outlet",
    "Kind",
    "Status",
    "Published",
    "Time zone",
    "Link",
    "Spokesperson",
    "Events",
    "Estimated reach",
    "Tone",
    "Notes",
]


def form_data(db, the_outlet, **overrides) -> dict:
    cyber = db.scalar(select(Theme.id).where(Theme.slug == "cyber-security"))
    data = {
        "headline": "Intervju: sajber bezbednost — Čačak, Šabac, Niš, Đerdap",
        "outlet": str(the_outlet.id),
        "new_outlet": "",
        "kind": "radio",
        "status": "published",
        "published_at": "2020-03-12T08:15",
        "timezone": "Europe/Belgrade",
        "link": "https://www.rts.rs/intervju",
        "spokesperson": "Јелена Ђорђевић",
        "themes": [str(cyber)],
        "events": "",
        "estimated_reach": "120000",
        "tone": "positive",
        "notes": "Ponoviti u aprilu.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def count_items(db) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(MediaItem))


def load(db, item_id) -> MediaItem:
    db.rollback()
    return db.scalar(
        select(MediaItem)
        .where(MediaItem.id == item_id)
        .options(
            selectinload(MediaItem.themes),
            selectinload(MediaItem.events),
            selectinload(MediaItem.changes),
            selectinload(MediaItem.outlet),
        )
    )


# -- the form ----------------------------------------------------------------------------


def test_form_has_every_label(client, auth):
    auth.login()
    page = client.get("/media/new").get_data(as_text=True)
    for label in LABELS:
        assert re.search(rf"<label for=\"\w+\">{re.escape(label)}</label>", page), label
    assert "<legend>Themes</legend>" in page


def test_create_through_the_form_with_history(client, auth, db, outlet):
    auth.login()
    response = client.post("/media/new", data=form_data(db, outlet))
    assert response.status_code == 302, response.get_data(as_text=True)
    item_id = int(response.headers["Location"].rsplit("/", 1)[1])
    item = load(db, item_id)
    assert item.headline.startswith("Intervju: sajber bezbednost — Čačak")
    assert item.outlet.slug == "rts"
    assert item.spokesperson == "Јелена Ђорђевић"
    # 08:15 in Belgrade in March is 07:15 UTC.
    assert item.published_at == datetime(2020, 3, 12, 7, 15, tzinfo=UTC)
    assert item.estimated_reach == 120_000 and item.tone == "positive"
    assert [c.action for c in item.changes] == ["created"]
    assert item.version == 1


def test_new_outlet_inline_becomes_a_media_partner(client, auth, db, outlet):
    auth.login()
    before = db.scalar(select(func.count()).select_from(Partner))
    response = client.post(
        "/media/new", data=form_data(db, outlet, outlet="", new_outlet="Нова С Телевизија")
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.rollback()
    created = db.scalar(select(Partner).where(Partner.name == "Нова С Телевизија"))
    assert created.kind == "media"
    assert created.slug == "nova-s-televizija"
    assert db.scalar(select(func.count()).select_from(Partner)) == before + 1
    # The same name again reuses that outlet.
    client.post("/media/new", data=form_data(db, outlet, outlet="", new_outlet="нова с телевизија"))
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Partner)) == before + 1


def test_events_field_takes_numbers_and_addresses(client, auth, db, outlet, create_event):
    first, second = create_event().id, create_event(title="Seminar").id
    auth.login()
    response = client.post(
        "/media/new",
        data=form_data(db, outlet, events=f"{first}, http://campaign.test/events/{second}"),
    )
    assert response.status_code == 302
    item = load(db, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert sorted(e.id for e in item.events) == sorted([first, second])


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"estimated_reach": "99999999999999999999999"}, "The largest allowed is"),
        ({"estimated_reach": "-5"}, "zero or more"),
        ({"estimated_reach": "١٢٣"}, "whole number in digits"),
        ({"published_at": "1989-12-31T10:00"}, "between 1 January 1990"),
        ({"published_at": "2101-01-01T10:00"}, "between 1 January 1990"),
        ({"published_at": "2020-03-29T02:30"}, "the clocks skip that hour"),
        ({"published_at": ""}, "date and time of publication"),
        ({"headline": "Exe\u202egpj.exe"}, "text-direction control character"),
        ({"headline": "Bell\x07"}, "invisible control character"),
        ({"headline": "\u200b\u200b"}, "only invisible characters"),
        ({"headline": "x" * 301}, ""),
        ({"spokesperson": "Ana\u2066Marija"}, "text-direction control character"),
        ({"link": "javascript:alert(1)"}, "must start with http:// or https://"),
        ({"link": "ftp://example.org/x"}, "must start with http:// or https://"),
        ({"timezone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"timezone": "posixrules"}, "names no place"),
        ({"themes": None}, "at least one theme"),
        ({"kind": "telegraph"}, "Not a valid choice"),
        ({"status": "rumoured"}, "Not a valid choice"),
        ({"tone": "furious"}, "Not a valid choice"),
        ({"outlet": "999999"}, "Not a valid choice"),
        ({"outlet": "", "new_outlet": ""}, "name a new one"),
        ({"outlet": "", "new_outlet": "Nova\u202eS"}, "text-direction control character"),
        ({"events": "12; DROP TABLE"}, "not an event number"),
        ({"events": "2147483600"}, "There is no event number"),
        ({"notes": "a\x01b"}, "invisible control character"),
    ],
)
def test_nonsense_input_is_refused_and_nothing_is_written(
    client, auth, db, outlet, overrides, field_message
):
    auth.login()
    before = count_items(db)
    partners = db.scalar(select(func.count()).select_from(Partner))
    response = client.post("/media/new", data=form_data(db, outlet, **overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The item was not saved" in page
    assert field_message in page
    assert count_items(db) == before
    assert db.scalar(select(func.count()).select_from(Partner)) == partners


def test_operations_refuse_an_outlet_that_is_not_media(app, create_partner, create_media):
    ngo = create_partner(kind="ngo")
    with pytest.raises(ValidationError) as caught:
        create_media(outlet_id=ngo.id)
    assert "not a media partner" in caught.value.errors["outlet"]


def test_operations_refuse_absurd_values(app, create_media):
    for overrides, field in [
        ({"estimated_reach": 10**12}, "estimated_reach"),
        ({"published_at": datetime(1900, 1, 1, tzinfo=UTC)}, "published_at"),
        ({"kind": "pigeon"}, "kind"),
        ({"tone": "angry"}, "tone"),
        ({"themes": []}, "themes"),
    ]:
        with pytest.raises(ValidationError) as caught:
            create_media(**overrides)
        assert field in caught.value.errors


# -- editing, withdrawing, deleting ------------------------------------------------------


def test_edit_records_history_and_refuses_a_stale_version(
    client, make_client, auth, db, outlet, create_media
):
    item_id = create_media()
    auth.login()
    page = client.get(f"/media/{item_id}/edit").get_data(as_text=True)
    version = form_version(page)
    data = form_data(db, outlet, version=version, headline="Novi naslov")
    response = client.post(f"/media/{item_id}/edit", data=data)
    assert response.status_code == 302
    item = load(db, item_id)
    assert item.headline == "Novi naslov"
    assert item.version == 2
    assert item.changes[0].action == "updated"
    assert item.changes[0].changes["headline"][1] == "Novi naslov"
    # The same form again, at the old version: refused, nothing written.
    stale = dict(data, headline="Stari naslov")
    response = client.post(f"/media/{item_id}/edit", data=stale)
    assert response.status_code == 409
    assert load(db, item_id).headline == "Novi naslov"


def test_published_items_are_withdrawn_not_deleted(client, auth, db, create_media):
    item_id = create_media()
    auth.login()
    item = load(db, item_id)
    response = client.post(f"/media/{item_id}/delete", data={"version": item.version})
    assert response.status_code == 302
    assert "Only planned items can be deleted" in client.get(f"/media/{item_id}").get_data(
        as_text=True
    )
    assert count_items(db) == 1
    response = client.post(f"/media/{item_id}/withdraw", data={"version": item.version})
    assert response.status_code == 302
    item = load(db, item_id)
    assert item.status == "planned"
    assert item.changes[0].action == "withdrawn"
    response = client.post(f"/media/{item_id}/delete", data={"version": item.version})
    assert response.status_code == 302
    assert count_items(db) == 0


def test_delete_refused_by_the_operations_layer(app, create_media):
    item_id = create_media()
    with app.app_context():
        session = get_session()
        item = session.get(MediaItem, item_id)
        with pytest.raises(NotAllowed):
            media_ops.delete_media(session, None, item, item.version)
        assert session.get(MediaItem, item_id) is not None


def test_changes_are_deleted_with_a_planned_item(app, db, create_media):
    item_id = create_media(status="planned")
    with app.app_context():
        session = get_session()
        item = session.get(MediaItem, item_id)
        media_ops.delete_media(session, None, item, item.version)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(MediaItemChange)) == 0


# -- the public list and pages -----------------------------------------------------------


def test_public_list_shows_published_items_newest_first(client, create_media):
    create_media(headline="Older", published_at=datetime(2020, 1, 5, 9, tzinfo=UTC))
    create_media(headline="Newer", published_at=datetime(2020, 6, 5, 9, tzinfo=UTC))
    create_media(headline="Booked", status="planned")
    page = client.get("/media").get_data(as_text=True)
    assert page.index("Newer") < page.index("Older")
    assert "Booked" not in page
    assert "2 media items" in page


def test_planned_items_and_notes_are_for_organizers(client, auth, create_media):
    planned = create_media(headline="Booked", status="planned", notes="Tajna beleška")
    published = create_media(notes="Interna napomena")
    assert client.get(f"/media/{planned}").status_code == 404
    page = client.get(f"/media/{published}").get_data(as_text=True)
    assert "Interna napomena" not in page
    assert client.get("/media?status=planned").status_code == 400
    auth.login()
    assert "Tajna beleška" in client.get(f"/media/{planned}").get_data(as_text=True)
    assert "Booked" in client.get("/media?status=planned").get_data(as_text=True)


def test_filters(client, create_partner, create_media):
    n1 = create_partner(slug="n1", name="N1", kind="media")
    create_media(headline="Flood on TV", themes=["eadrcc"], kind="tv")
    create_media(headline="Cyber op-ed", themes=["cyber-security"], kind="print", outlet_id=n1.id)
    create_media(headline="Old clip", published_at=datetime(2019, 12, 1, 12, tzinfo=UTC))

    def shown(query):
        response = client.get("/media?" + query)
        assert response.status_code == 200, query
        page = response.get_data(as_text=True)
        return {h for h in ("Flood on TV", "Cyber op-ed", "Old clip") if h in page}

    assert shown("theme=cyber-security") == {"Cyber op-ed"}
    assert shown("partner=n1") == {"Cyber op-ed"}
    assert shown("kind=tv") == {"Flood on TV", "Old clip"}
    assert shown("kind=tv&kind=print") == {"Flood on TV", "Cyber op-ed", "Old clip"}
    assert shown("from=2020-01-01") == {"Flood on TV", "Cyber op-ed"}
    assert shown("to=2019-12-31") == {"Old clip"}
    assert shown("q=op-ed") == {"Cyber op-ed"}
    assert shown("q=OP-ED") == {"Cyber op-ed"}


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("theme=no-such-theme", "theme"),
        ("partner=nobody", "partner"),
        ("kind=telegraph", "kind"),
        ("status=rumoured", "status"),
        ("from=2020-13-01", "from"),
        ("from=1989-01-01", "from"),
        ("to=2101-01-01", "to"),
        ("from=2020-02-01&to=2020-01-01", "from"),
        ("q=a&q=b", "q"),
        ("page=0", "page"),
        ("page=١", "page"),
    ],
)
def test_unknown_values_are_400_naming_the_parameter(client, create_media, query, param):
    create_media()
    for url in ("/media", "/media.csv", "/media.json", "/media.xlsx"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400, (url, query)
        assert param in response.get_data(as_text=True)


def test_list_runs_a_fixed_number_of_statements(client, count_queries, create_media):
    def statements():
        with count_queries() as n:
            assert client.get("/media").status_code == 200
        return n.count

    create_media()
    small = statements()
    for i in range(25):
        create_media(headline=f"Item {i}", themes=["eadrcc", "kfor"])
    assert statements() == small


# -- coverage on event, theme and partner pages -------------------------------------------


def test_event_theme_and_partner_pages_show_coverage(client, auth, create_event, create_media):
    event_id = create_event().id
    create_media(headline="Covered the round table", event_ids=[event_id], themes=["kfor"])
    create_media(headline="Booked appearance", status="planned", event_ids=[event_id])
    for url in (f"/events/{event_id}", "/themes/kfor", "/partners/rts"):
        page = client.get(url).get_data(as_text=True)
        assert "Covered the round table" in page, url
        assert "Booked appearance" not in page, url
    assert "Covered the round table" not in client.get("/themes/eadrcc").get_data(as_text=True)
    auth.login()
    assert "Booked appearance" in client.get(f"/events/{event_id}").get_data(as_text=True)


# -- exports -----------------------------------------------------------------------------


def test_csv_export(client, create_media, create_event):
    draft = create_event(status="draft").id
    public = create_event().id
    create_media(headline='=HYPERLINK("http://evil")', event_ids=[draft, public])
    create_media(headline="Booked", status="planned")
    response = client.get("/media.csv?kind=tv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["headline"].startswith("'=HYPERLINK")
    assert rows[0]["outlet"] == "Радио-телевизија Србије"
    assert rows[0]["published"] == "2020-03-11T08:30:00+01:00"
    assert rows[0]["events"] == f"http://campaign.test/events/{public}"
    assert "notes" not in rows[0]


def test_json_export(client, auth, create_media):
    create_media()
    create_media(headline="Booked", status="planned")
    data = json.loads(client.get("/media.json").get_data())
    assert data["count"] == 1
    [item] = data["media"]
    assert item["outlet"] == {"slug": "rts", "name": "Радио-телевизија Србије"}
    assert item["themes"] == ["eadrcc"]
    assert item["estimated_reach"] == 250_000
    assert "notes" not in item
    auth.login()
    assert json.loads(client.get("/media.json").get_data())["count"] == 2


def test_json_export_reads_in_batches(app, client, create_media):
    app.config["EXPORT_CHUNK_SIZE"] = 2
    ids = [
        create_media(headline=f"Item {i}", published_at=datetime(2020, 1, 1 + i, tzinfo=UTC))
        for i in range(5)
    ]
    data = json.loads(client.get("/media.json").get_data())
    assert [m["id"] for m in data["media"]] == list(reversed(ids))


def test_xlsx_export(client, create_media):
    create_media()
    response = client.get("/media.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("id", "headline", "outlet")
    row = dict(zip(header, rows[1], strict=True))
    assert row["published"] == datetime(2020, 3, 11, 8, 30)
    assert row["estimated_reach"] == 250_000


def test_themes_and_outlets_in_use_by_media_are_not_deleted(client, auth, db, create_media):
    create_media(themes=["kfor"])
    auth.login()
    client.post("/themes/kfor/delete")
    client.post("/partners/rts/delete")
    db.rollback()
    assert db.scalar(select(Theme).where(Theme.slug == "kfor")) is not None
    assert db.scalar(select(Partner).where(Partner.slug == "rts")) is not None
    page = client.get("/themes/kfor").get_data(as_text=True)
    assert "still use this" in page


def test_planned_appearances_in_the_organizers_month_view(client, auth, create_media):
    create_media(
        headline="Booked on Radio Beograd",
        status="planned",
        published_at=datetime(2020, 3, 20, 9, tzinfo=UTC),
    )
    create_media(headline="Already out", published_at=datetime(2020, 3, 21, 9, tzinfo=UTC))
    page = client.get("/events/calendar?month=2020-03").get_data(as_text=True)
    assert "Booked on Radio Beograd" not in page
    auth.login()
    page = client.get("/events/calendar?month=2020-03").get_data(as_text=True)
    assert "Booked on Radio Beograd" in page
    assert "(planned media appearance)" in page
    assert "Already out" not in page
    assert "Booked on Radio Beograd" not in client.get("/events/calendar?month=2020-04").get_data(
        as_text=True
    )


def test_renaming_the_outlet_refreshes_what_q_finds(client, db, app, create_media):
    from campaign.catalog import operations as catalog_ops

    create_media(headline="Jutarnji program")
    assert "Jutarnji program" in client.get("/media?q=televizija").get_data(as_text=True)
    with app.app_context():
        session = get_session()
        rts = session.scalar(select(Partner).where(Partner.slug == "rts"))
        catalog_ops.save_partner(session, None, rts, slug="rts", name="Javni servis", kind="media")
    assert "Jutarnji program" in client.get("/media?q=javni+servis").get_data(as_text=True)
    assert "Jutarnji program" not in client.get("/media?q=televizija").get_data(as_text=True)
    # The JSON export's q agrees.
    assert json.loads(client.get("/media.json?q=servis").get_data())["count"] == 1


def test_media_exports_stream_like_event_exports(client, auth, create_media):
    """The one export response: public files may be read by other sites (CORS), an
    organizer's (planned items) are never cached or shared."""
    create_media(headline="Objavljeno", status="published")
    for fmt in ("csv", "xlsx", "json"):
        public = client.get(f"/media.{fmt}")
        assert public.status_code == 200
        assert public.headers["Access-Control-Allow-Origin"] == "*"
        assert public.headers["Cache-Control"] == "public, max-age=0, must-revalidate"
        assert public.headers["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in public.headers["Content-Disposition"]
    auth.login()
    private = client.get("/media.csv")
    assert private.headers["Cache-Control"] == "private, no-store"
    assert "Access-Control-Allow-Origin" not in private.headers
