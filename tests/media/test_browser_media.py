"""The media pages and the reach report in a real Chromium (Debian's, never one that
``playwright install`` downloads): an organizer fills the media form by its visible
labels, finds the item in the list, uploads a clipping file and reads the report; axe-core
finds no serious or critical problem on any of these pages. With
``CAMPAIGN_UPDATE_SCREENSHOTS=1`` the README's media and reach-report screenshots are
refreshed in ``docs/screenshots/``. SQLite only: these test pages, not the database."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from campaign import create_app
from campaign.auth import operations as user_ops
from campaign.db import get_session
from campaign.demo import seed_demo_data
from campaign.media.models import MediaItem
from tests.app.test_browser import ConsoleWatch, LiveServer
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "vendor" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
README_SHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
ORGANIZER = "mediji@ipap2.example.org"
PERIOD = "from=2019-11-01&to=2021-12-31"


@pytest.fixture(scope="module")
def live_server(sqlite_template, tmp_path_factory):
    path = tmp_path_factory.mktemp("media-browser") / "campaign.sqlite3"
    shutil.copy(sqlite_template, path)
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{path}",
            "SECRET_KEY": "media-browser-secret",
            "SITE_URL": "http://127.0.0.1",
            "DEFAULT_LOCALE": "en",
        }
    )
    with app.app_context():
        session = get_session()
        user_ops.create_user(session, None, ORGANIZER, PASSWORD, "organizer", "Jelena Marković")
        seed_demo_data(session, 240, 2019)
    with LiveServer(app) as server:
        yield server


def log_in(page):
    page.goto("/login")
    page.get_by_label("E-mail").fill(ORGANIZER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status").filter(has_text="Welcome, Jelena Marković")).to_be_visible()


@pytest.fixture(scope="module")
def contexts(browser, live_server):
    """Public and organizer tabs. The organizer's keeps the app's CSP; the audit tabs
    bypass it to inject axe-core."""
    made = {
        "organizer": browser.new_context(
            base_url=live_server.url, viewport=VIEWPORT, locale="en-GB"
        ),
        "audit-public": browser.new_context(
            base_url=live_server.url, viewport=VIEWPORT, bypass_csp=True
        ),
        "audit-organizer": browser.new_context(
            base_url=live_server.url, viewport=VIEWPORT, bypass_csp=True
        ),
    }
    log_in(made["organizer"].new_page())
    log_in(made["audit-organizer"].new_page())
    yield made
    for context in made.values():
        context.close()


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def test_organizer_adds_an_item_and_finds_it_in_the_list(contexts, live_server):
    page = contexts["organizer"].new_page()
    console = ConsoleWatch(page)
    page.goto("/media/new")
    page.get_by_label("Headline").fill("Gostovanje u Jutarnjem programu: EADRCC i poplave")
    page.get_by_label("Outlet", exact=True).select_option(label="N1 Srbija")
    page.get_by_label("Kind").select_option(label="Television")
    page.get_by_label("Status").select_option(label="Published")
    page.get_by_label("Published").fill("2020-10-14T08:30")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Belgrade")
    page.get_by_label("Link").fill("https://n1info.rs/vesti/eadrcc-poplave")
    page.get_by_label("Spokesperson").fill("Nikola Stojanović")
    page.get_by_role("group", name="Themes").get_by_label(
        "Euro-Atlantic Disaster Response Coordination Centre (EADRCC)"
    ).check()
    # Nonsense first: a negative reach is refused by the field, nothing is saved.
    page.get_by_label("Estimated reach").fill("-5")
    page.get_by_label("Tone").select_option(label="Positive")
    page.get_by_label("Notes").fill("Dogovoreno preko press službe.")
    page.get_by_role("button", name="Save media item").click()
    reach = page.get_by_label("Estimated reach")
    expect(reach).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#estimated_reach-error")).to_be_visible()
    # The refused form was answered with 400 (the browser notes that, nothing else).
    assert all("400" in m for m in console.messages), console.messages
    console.messages.clear()
    reach.fill("320000")
    page.get_by_role("button", name="Save media item").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Gostovanje u Jutarnjem programu: EADRCC i poplave"
    )
    expect(page.get_by_text("Dogovoreno preko press službe.")).to_be_visible()
    page.goto("/media?q=jutarnjem+eadrcc+poplave")
    link = page.get_by_role("link", name="Gostovanje u Jutarnjem programu: EADRCC i poplave")
    expect(link).to_be_visible()
    page.goto("/media?partner=n1&kind=tv&from=2020-10-14&to=2020-10-14")
    expect(link).to_be_visible()
    assert console.messages == []
    with live_server.app.app_context():
        item = get_session().scalar(
            select(MediaItem).where(MediaItem.link == "https://n1info.rs/vesti/eadrcc-poplave")
        )
        assert item.estimated_reach == 320_000
        assert item.tone == "positive"
    page.close()


def test_organizer_uploads_a_clipping_file_and_reads_the_report(contexts, tmp_path):
    page = contexts["organizer"].new_page()
    console = ConsoleWatch(page)
    clips = tmp_path / "kliping.csv"
    clips.write_text(
        "date,outlet,kind,headline,link,reach,themes\n"
        "2020-10-20 19:30,RTS,tv,Dnevnik 2: sajber bezbednost,https://www.rts.rs/k/1,"
        "400000,cyber-security\n"
        "2020-10-21,Politika,print,Intervju: KFOR,https://www.politika.rs/k/2,many,kfor\n",
        encoding="utf-8",
    )
    page.goto("/media")
    page.get_by_role("link", name="Import media items").click()
    page.get_by_label("Press-clipping file (CSV or XLSX)").set_input_files(str(clips))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="1 created")).to_contain_text(
        "1 created, 0 updated, 0 unchanged, 1 refused."
    )
    expect(page.locator("tr.outcome-refused")).to_contain_text("reach: Give the reach")
    assert console.messages == []
    shoot(page, "media-import")
    if os.environ.get("CAMPAIGN_UPDATE_SCREENSHOTS"):
        page.screenshot(path=README_SHOTS / "media-import.png", full_page=True)
    page.goto(f"/reports/reach?{PERIOD}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reach")
    assert page.locator("svg").count() >= 3
    assert console.messages == []
    page.close()


PAGES = [
    # (name, who, path, README screenshot or None)
    ("media-list", "audit-public", "/media", "media-list.png"),
    ("media-list-organizer", "audit-organizer", "/media?status=planned", None),
    ("media-item", "audit-public", "/media/{item_id}", None),
    ("media-form", "audit-organizer", "/media/new", "media-form.png"),
    ("media-edit", "audit-organizer", "/media/{item_id}/edit", None),
    ("media-import-form", "audit-organizer", "/media/import", None),
    ("reach-report", "audit-organizer", f"/reports/reach?{PERIOD}", "reach-report.png"),
    ("month-with-media", "audit-organizer", "/events/calendar?month=2021-11", None),
]


def _item_id(app) -> int:
    with app.app_context():
        return get_session().scalar(
            select(MediaItem.id)
            .where(MediaItem.status == "published", MediaItem.spokesperson != "")
            .order_by(MediaItem.id)
            .limit(1)
        )


@pytest.mark.parametrize(("name", "who", "path", "readme"), PAGES, ids=[p[0] for p in PAGES])
def test_media_pages_have_no_serious_accessibility_violations(
    contexts, live_server, name, who, path, readme
):
    page = contexts[who].new_page()
    try:
        response = page.goto(path.format(item_id=_item_id(live_server.app)))
        assert response.status == 200
        shoot(page, name)
        if readme and os.environ.get("CAMPAIGN_UPDATE_SCREENSHOTS"):
            README_SHOTS.mkdir(parents=True, exist_ok=True)
            # The report's first screen and a half: totals and the first chart with its legend.
            clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": 1500}
            if name == "reach-report":
                page.screenshot(path=README_SHOTS / readme, full_page=True, clip=clip)
            else:
                page.screenshot(path=README_SHOTS / readme)
        page.add_script_tag(path=AXE)
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
        report = [
            {
                "rule": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "where": [n["target"] for n in v["nodes"][:5]],
            }
            for v in bad
        ]
        assert not bad, f"axe-core on {path}:\n" + json.dumps(report, indent=2, ensure_ascii=False)
    finally:
        page.close()


def test_media_tables_fit_a_phone(browser, live_server):
    """At 390 px the media list and a theme's coverage are cards: no sideways scroll."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    try:
        for path in ("/media", "/themes/kfor", "/partners/rts"):
            page.goto(path)
            overflow = page.evaluate("() => document.documentElement.scrollWidth") - 390
            assert overflow <= 0, f"{path} is {overflow}px wider than a 390px screen"
            row = page.locator("table.media tbody tr").first
            assert row.evaluate("r => getComputedStyle(r).display") == "block", path
    finally:
        context.close()
