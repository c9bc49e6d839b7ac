"""The planning experience in a real Chromium, driven by Playwright against the app served
on 127.0.0.1: an organizer plans, moves, clashes, cancels and reads the dashboard, and
axe-core finds no serious or critical accessibility problem on the main pages.

Chromium is Debian's (``apt-get install chromium``; ``.ci/run`` does it), never a browser
downloaded by ``playwright install``. Screenshots go to ``test-artifacts/screenshots/``;
with ``CAMPAIGN_UPDATE_SCREENSHOTS=1`` the README's four are also refreshed in
``docs/screenshots/``. These tests use SQLite only: they test the pages, not the database.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from conftest import PASSWORD, free_port
from sqlalchemy import select

from campaign import create_app
from campaign.auth import operations as user_ops
from campaign.catalog import operations as catalog_ops
from campaign.db import get_session
from campaign.demo import seed_demo_data
from campaign.events.filters import event_list_loading
from campaign.models import Event, EventStatus, Partner

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "vendor" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
README_SHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
ORGANIZER = "planer@ipap2.example.org"
VENUE = "Kulturni centar Vračar"
SCREENSHOT_MONTH = "2020-10"

expect.set_options(timeout=10_000)


# -- the app, served for real ----------------------------------------------------------


class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)
        self.app.extensions["campaign.engine"].dispose()


@pytest.fixture(scope="module")
def live_server(sqlite_template, tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "campaign.sqlite3"
    shutil.copy(sqlite_template, path)
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{path}",
            "SECRET_KEY": "browser-test-secret",
            "SITE_URL": "http://127.0.0.1",
        }
    )
    with app.app_context():
        session = get_session()
        user_ops.create_user(session, None, ORGANIZER, PASSWORD, "organizer", "Milica Petrović")
        seed_demo_data(session, 160, 2019)
        catalog_ops.save_venue(
            session,
            None,
            None,
            name=VENUE,
            city="Beograd",
            address="Krunska 51",
            latitude=None,
            longitude=None,
            capacity=120,
        )
    with LiveServer(app) as server:
        yield server


def _log_in(page):
    page.goto("/login")
    page.get_by_label("E-mail").fill(ORGANIZER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status").filter(has_text="Welcome, Milica Petrović")).to_be_visible()


class ConsoleWatch:
    """Console errors and page errors; a CSP violation shows up here."""

    def __init__(self, page):
        self.messages: list[str] = []
        page.on(
            "console",
            lambda m: self.messages.append(m.text) if m.type in ("error", "warning") else None,
        )
        page.on("pageerror", lambda e: self.messages.append(str(e)))


@pytest.fixture(scope="module")
def organizer_page(browser, live_server):
    """A logged-in organizer's tab, with the app's real Content-Security-Policy in force."""
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-GB")
    page = context.new_page()
    page.console = ConsoleWatch(page)
    _log_in(page)
    yield page
    context.close()


@pytest.fixture(scope="module")
def audit_contexts(browser, live_server):
    """Public and organizer tabs for axe-core, which is injected as a script: CSP bypassed."""
    public = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, bypass_csp=True)
    organizer = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, bypass_csp=True)
    _log_in(organizer.new_page())
    yield {"public": public, "organizer": organizer}
    public.close()
    organizer.close()


# -- helpers ---------------------------------------------------------------------------


def fill_event_form(
    page, *, title, start, end, theme, venue=None, host=None, status="confirmed", kind="Round table"
):
    """Fill the event form by its visible labels, as a person would."""
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Format", exact=True).select_option(label=kind)
    page.get_by_label("Status", exact=True).select_option(value=status)
    page.get_by_label("Start", exact=True).fill(start)
    page.get_by_label("End", exact=True).fill(end)
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Belgrade")
    if venue:
        page.get_by_label("Venue", exact=True).select_option(label=venue)
    page.get_by_label("Description").fill("Otvorena diskusija; ulaz slobodan.")
    page.get_by_role("group", name="Themes").get_by_label(theme).check()
    if host:
        # The partner picker: one group of role boxes per partner (issue 16).
        page.get_by_role("group", name=host).get_by_label("Host", exact=True).check()
    page.get_by_label("Expected audience").fill("80")


def save(page):
    page.get_by_role("button", name="Save event").click()


def event_link(page, title):
    return page.get_by_role("link", name=title, exact=True)


def month_cell(page, day: int):
    """The month grid's cell of ``day`` in the shown month."""
    return page.locator("table.month td:not(.other)").filter(
        has=page.locator("span.day", has_text=re.compile(rf"^\D*{day}$"))
    )


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def a_partner_name(app) -> str:
    with app.app_context():
        return get_session().scalar(select(Partner.name).order_by(Partner.slug).limit(1))


# -- the organizer's day ---------------------------------------------------------------


def test_organizer_plans_moves_clashes_cancels_and_reads_the_dashboard(organizer_page, live_server):
    page = organizer_page
    title = "Round table: floods and the EADRCC"
    partner = a_partner_name(live_server.app)

    # Create an event by its labels.
    page.get_by_role("link", name="New event").click()
    expect(page.get_by_role("heading", name="New event")).to_be_visible()
    fill_event_form(
        page,
        title=title,
        start="2031-05-12T18:00",
        end="2031-05-12T20:00",
        venue=f"{VENUE}, Beograd",
        theme="Civil emergency planning and natural-disaster response",
        host=partner,
    )
    save(page)
    expect(page.get_by_text(f"“{title}” was created.")).to_be_visible()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    event_url = page.url
    assert re.search(r"/events/\d+$", event_url)
    expect(page.get_by_role("link", name="Add to Google Calendar")).to_have_attribute(
        "href", re.compile(r"dates=20310512T160000Z%2F20310512T180000Z")
    )

    # See it in the list.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Events").click()
    page.get_by_label("Search").fill("floods and the EADRCC Vračar")  # theme names match too
    page.get_by_role("button", name="Show events").click()
    expect(event_link(page, title)).to_be_visible()
    expect(page.get_by_text("1 event.")).to_be_visible()

    # See it in the month view, on its day.
    page.goto("/events/calendar?month=2031-05")
    expect(page.get_by_role("heading", name="May 2031")).to_be_visible()
    expect(
        month_cell(page, 12).get_by_role("link", name=re.compile("floods and the EADRCC"))
    ).to_be_visible()

    # Move it a week later.
    page.goto(event_url)
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Start", exact=True).fill("2031-05-19T18:00")
    page.get_by_label("End", exact=True).fill("2031-05-19T20:00")
    save(page)
    expect(page.get_by_text(f"“{title}” was saved.")).to_be_visible()
    expect(page.locator("ol.history")).to_contain_text("Starts:")
    page.goto("/events/calendar?month=2031-05")
    expect(
        month_cell(page, 19).get_by_role("link", name=re.compile("floods and the EADRCC"))
    ).to_be_visible()
    expect(
        month_cell(page, 12).get_by_role("link", name=re.compile("floods and the EADRCC"))
    ).to_have_count(0)

    # A second event at the same venue, overlapping: the clash is shown before anything is
    # saved, and saved only on "Save anyway" (issue 16); then the warning stays.
    second = "Seminar: cyber security for municipalities"
    page.goto("/events/new")
    fill_event_form(
        page,
        title=second,
        start="2031-05-19T19:00",
        end="2031-05-19T21:00",
        venue=f"{VENUE}, Beograd",
        theme="Cyber security",
        kind="Seminar",
    )
    save(page)
    check = page.locator("section.clash-check")
    expect(check.get_by_role("heading", name="Clash check: not saved yet")).to_be_visible()
    expect(check).to_contain_text(f"same venue ({VENUE}, Beograd)")
    expect(check.get_by_role("link", name=title)).to_be_visible()
    shoot(page, "clash-check")
    if os.environ.get("CAMPAIGN_UPDATE_SCREENSHOTS"):
        check.screenshot(path=README_SHOTS / "clash-check.png")
    check.get_by_role("button", name="Save anyway").click()
    expect(page.get_by_text(f"“{second}” was created.")).to_be_visible()
    warning = page.get_by_role("status").filter(has_text="Clash warning")
    # Both are the same organizer's too, which is a clash of its own (issue 16).
    expect(warning).to_contain_text(
        f"“{title}” (same venue ({VENUE}, Beograd); same organizer: Milica Petrović)"
    )
    clashes = page.locator("section.clashes")
    expect(clashes.get_by_role("heading", name="Clash warning")).to_be_visible()
    second_url = page.url
    shoot(page, "clash-warning")
    clashes.get_by_role("link", name=title).click()
    expect(page).to_have_url(event_url)
    expect(page.locator("section.clashes").get_by_role("link", name=second)).to_be_visible()

    # The list marks both, and the Clashes page lists the pair with links to both.
    page.goto("/events?q=Vra%C4%8Dar")
    expect(page.locator("table.events a.badge.clash")).to_have_count(2)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clashes").click()
    pair = page.locator("ul.clash-list li", has=page.get_by_role("link", name=title, exact=True))
    expect(pair.get_by_role("link", name=second, exact=True)).to_be_visible()
    expect(pair.get_by_role("link", name=f"Edit “{second}”")).to_be_visible()

    # Cancel the first: struck through in the month view, and the clash is gone.
    # Cancelling asks first, with an optional reason shown on the page.
    page.goto(event_url)
    page.get_by_text("Cancel event…").click()
    page.get_by_label("Reason (optional, shown publicly)").fill("The hall is being renovated.")
    page.get_by_role("button", name="Yes, cancel this event").click()
    expect(page.get_by_text(f"“{title}” is cancelled.")).to_be_visible()
    expect(page.get_by_text("Reason: The hall is being renovated.")).to_be_visible()
    page.goto("/events/calendar?month=2031-05")
    expect(month_cell(page, 19).locator("del", has_text=title)).to_be_visible()
    shoot(page, "month-after-cancel")
    page.goto(second_url)
    expect(page.locator("section.clashes")).to_have_count(0)

    # Read the dashboard, narrowed to these two events by the list's own filter.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Themes by month")).to_be_visible()
    page.goto("/dashboard?q=Vra%C4%8Dar&from=2031-05-01&to=2031-05-31")
    expect(
        page.get_by_text("1 event from May 2031 to May 2031, not counting cancelled ones")
    ).to_be_visible()
    grid = page.locator("table.coverage")
    cyber = grid.locator("tbody tr", has=page.get_by_role("link", name="Cyber security"))
    expect(cyber.locator("td").first).to_have_text("1")
    floods = grid.locator(
        "tbody tr",
        has=page.get_by_role("link", name="Civil emergency planning and natural-disaster response"),
    )
    expect(floods.locator("td.gap")).to_have_count(1)
    cities = page.locator("section", has=page.get_by_role("heading", name="Events per city"))
    expect(cities.locator("tr", has_text="Beograd").locator("td.num")).to_have_text("1")

    assert not [m for m in page.console.messages if "Content Security Policy" in m], (
        page.console.messages
    )


def test_created_event_is_in_the_feed(organizer_page, live_server):
    page = organizer_page
    if page.request.get("/calendar.ics").status == 404:
        pytest.skip(
            "/calendar.ics is not on this branch yet (issue 3, the feeds): enable after merge"
        )
    title = "Panel: the feed shows what was planned"
    page.goto("/events/new")
    fill_event_form(
        page,
        title=title,
        start="2021-06-02T18:00",
        end="2021-06-02T19:30",
        venue=f"{VENUE}, Beograd",
        theme="Cooperation with KFOR",
        kind="Panel",
    )
    save(page)
    expect(page.get_by_text(f"“{title}” was created.")).to_be_visible()
    feed = page.request.get("/calendar.ics")
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    unfolded = feed.text().replace("\r\n ", "")
    assert f"SUMMARY:{title}" in unfolded


def test_everything_works_without_javascript(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, java_script_enabled=False
    )
    page = context.new_page()
    try:
        _log_in(page)
        page.goto("/events/new")
        fill_event_form(
            page,
            title="Seminar planned without JavaScript",
            start="2021-09-08T10:00",
            end="2021-09-08T13:00",
            theme="Security of nuclear materials",
            status="draft",
            kind="Seminar",
        )
        save(page)
        expect(
            page.get_by_text("“Seminar planned without JavaScript” was created.")
        ).to_be_visible()
        page.get_by_role("button", name="Delete draft").click()
        expect(
            page.get_by_text("The draft “Seminar planned without JavaScript” was deleted.")
        ).to_be_visible()
        page.goto("/events/calendar?month=2021-09")
        page.get_by_role("link", name="October 2021 →").click()
        expect(page.get_by_role("heading", name="October 2021")).to_be_visible()
    finally:
        context.close()


# -- accessibility and screenshots ------------------------------------------------------


def _demo_event_id(app) -> int:
    """A confirmed demo event with a venue and partners in the screenshot month."""
    with app.app_context():
        events = get_session().scalars(
            select(Event)
            .where(Event.status == EventStatus.confirmed.value, Event.venue_id.is_not(None))
            .options(*event_list_loading())
            .order_by(Event.starts_at)
        )
        for event in events:
            if event.local_start.strftime("%Y-%m") >= SCREENSHOT_MONTH and event.partner_links:
                return event.id
    raise AssertionError("the demo data has no confirmed event with a venue and partners")


PAGES = [
    # (name, who, path); the README shows home, month, event-form and dashboard.
    ("home", "public", "/"),
    ("events", "organizer", "/events"),
    ("events-public", "public", "/events?theme=eadrcc"),
    ("month", "organizer", f"/events/calendar?month={SCREENSHOT_MONTH}"),
    ("event", "organizer", "/events/{event_id}"),
    ("event-public", "public", "/events/{event_id}"),
    ("event-form", "organizer", "/events/new"),
    ("event-edit", "organizer", "/events/{event_id}/edit"),  # the picker with chips
    ("dashboard", "organizer", "/dashboard"),
    ("home-organizer", "organizer", "/"),
    ("events-past", "public", "/events?when=past&theme=kfor"),
    ("clashes", "organizer", "/clashes"),
]
README_PAGES = {"home", "month", "event-form", "dashboard"}


@pytest.mark.parametrize(("name", "who", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_page_has_no_serious_accessibility_violations(audit_contexts, live_server, name, who, path):
    page = audit_contexts[who].new_page()
    try:
        response = page.goto(path.format(event_id=_demo_event_id(live_server.app)))
        assert response.status == 200
        shoot(page, name)
        if name in README_PAGES and os.environ.get("CAMPAIGN_UPDATE_SCREENSHOTS"):
            README_SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=README_SHOTS / f"{name}.png")
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


def test_small_screens_need_no_sideways_scrolling(browser, live_server):
    """On a phone the page fits its width; wide tables scroll inside their own box."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    try:
        event_id = _demo_event_id(live_server.app)
        for path in (
            "/",
            "/events",
            f"/events/calendar?month={SCREENSHOT_MONTH}",
            f"/events/{event_id}",
            "/login",
        ):
            page.goto(path)
            overflow = page.evaluate("() => document.documentElement.scrollWidth") - 390
            assert overflow <= 0, f"{path} is {overflow}px wider than a 390px screen"
        page.goto(f"/events/calendar?month={SCREENSHOT_MONTH}")
        shoot(page, "month-phone")
    finally:
        context.close()


# -- everyday use (issue 16) -----------------------------------------------------------


def test_lists_open_on_upcoming_with_the_past_one_click_away(browser, live_server):
    """The demo campaign is over: the list says so, shows the newest first, and the
    Past events switch keeps the filter."""
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto("/themes/eadrcc")
        tabs = page.get_by_role("navigation", name="Upcoming or past events")
        expect(tabs.get_by_role("link", name=re.compile("Past events"))).to_have_attribute(
            "aria-current", "page"
        )
        page.goto("/events")
        page.get_by_label("Theme").select_option(label="Cyber security")
        page.get_by_role("button", name="Show events").click()
        tabs = page.get_by_role("navigation", name="Upcoming or past events")
        tabs.get_by_role("link", name=re.compile("Past events")).click()
        expect(page).to_have_url(re.compile(r"theme=cyber-security.*when=past"))
        whens = page.locator("table.events td.when").all_inner_texts()
        assert whens, "no past cyber-security events in the demo data"
        # A phone-free check of order: the page's own first row is the newest.
        expect(page.get_by_text("Nothing is coming up")).to_have_count(0)
    finally:
        context.close()


def test_public_event_page_hides_the_planning_numbers(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(f"/events/{_demo_event_id(live_server.app)}")
        expect(page.locator("dl.facts")).not_to_contain_text("Expected audience")
        expect(page.locator("dl.facts")).not_to_contain_text("Attendance")
    finally:
        context.close()


def test_attendance_is_recorded_in_place_from_the_home_page(organizer_page):
    page = organizer_page
    page.goto("/")
    panel = page.locator("section#awaiting-attendance")
    expect(panel.get_by_role("heading", name="Awaiting attendance")).to_be_visible()
    row = panel.locator("li").first
    title = row.get_by_role("link").inner_text()
    row.get_by_label(re.compile("^Attendance")).fill("64")
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Attendance of “{title}” saved: 64.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#awaiting-attendance$"))


def test_phone_layout_cards_and_a_filter_button(browser, live_server):
    """At 390 px: no sideways scroll, the filter behind a "Filter" button, event rows as
    cards, and axe-core clean (issue 16)."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        bypass_csp=True,  # axe is injected as a script
    )
    page = context.new_page()
    try:
        for path in ("/events", "/events?when=past", "/themes/kfor"):
            page.goto(path)
            overflow = page.evaluate("() => document.documentElement.scrollWidth") - 390
            assert overflow <= 0, f"{path} is {overflow}px wider than a 390px screen"
            row = page.locator("table.events tbody tr").first
            assert row.evaluate("r => getComputedStyle(r).display") == "block", path
        page.goto("/events?when=past")
        search = page.get_by_label("Search")
        expect(search).to_be_hidden()
        shoot(page, "events-phone")
        if os.environ.get("CAMPAIGN_UPDATE_SCREENSHOTS"):
            page.screenshot(path=README_SHOTS / "events-phone.png")
        page.locator("summary", has_text="Filter").click()
        expect(search).to_be_visible()
        search.fill("KFOR")
        page.get_by_role("button", name="Show events").click()
        expect(page).to_have_url(re.compile(r"q=KFOR"))
        for path in ("/events?when=past", f"/events/{_demo_event_id(live_server.app)}"):
            page.goto(path)
            page.add_script_tag(path=AXE)
            result = page.evaluate(
                "async () => await axe.run(document, {resultTypes: ['violations']})"
            )
            bad = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
            assert not bad, (path, bad)
    finally:
        context.close()
