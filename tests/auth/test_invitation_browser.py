"""The invitation flow in a real Chromium (issue 16): an admin adds an account without a
password and gets a link; the new person opens it on a phone, chooses a password and is
logged in; the spent link answers with a clear page. axe-core clean, no sideways scrolling
at 390×844."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from campaign.auth import operations as user_ops
from campaign.db import get_session
from tests.app.test_browser import (  # noqa: F401  (fixtures)
    AXE,
    PASSWORD,
    VIEWPORT,
    expect,
    live_server,
    shoot,
)

pytestmark = pytest.mark.browser

ADMIN = "admin-pozivi@ipap2.example.org"
PHONE = {"width": 390, "height": 844}
CHOSEN = "jorgovan Kalemegdan sat 1521"


def _axe_clean(page) -> None:
    page.add_script_tag(path=AXE)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        {"rule": v["id"], "help": v["help"], "where": [n["target"] for n in v["nodes"][:5]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, json.dumps(bad, indent=2, ensure_ascii=False)


def _summary_leads_to(page, label: str, field_id: str) -> None:
    """The error summary at the top is announced, lists the field's mistake and its link
    brings the field into view."""
    summary = page.get_by_role("alert").filter(has_text="please correct the fields")
    expect(summary).to_be_visible()
    link = summary.get_by_role("link", name=label)
    expect(link).to_have_attribute("href", f"#{field_id}")
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    link.click()
    assert page.url.endswith(f"#{field_id}")
    expect(page.locator(f"#{field_id}")).to_be_in_viewport()


def _fits_a_phone(page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth") - PHONE["width"]
    assert overflow <= 0, f"{page.url} is {overflow}px wider than a 390px screen"


@pytest.fixture(scope="module")
def admin_account(live_server):  # noqa: F811
    with live_server.app.app_context():
        user_ops.create_user(get_session(), None, ADMIN, PASSWORD, "admin", "Admin Pozivi")
    return ADMIN


def _log_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status").filter(has_text="Welcome")).to_be_visible()


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["desktop", "phone"])
def test_an_invited_person_chooses_a_password_and_is_logged_in(
    browser,
    live_server,  # noqa: F811
    admin_account,
    viewport,
):
    phone = viewport == PHONE
    email = f"nova-{'phone' if phone else 'desktop'}@ipap2.example.org"
    admin = browser.new_context(
        base_url=live_server.url, viewport=viewport, is_mobile=phone, bypass_csp=True
    )
    person = browser.new_context(
        base_url=live_server.url, viewport=viewport, is_mobile=phone, bypass_csp=True
    )
    try:
        page = admin.new_page()
        _log_in(page, admin_account)
        page.goto("/users")
        if phone:
            _fits_a_phone(page)
        _axe_clean(page)
        # A mistake first: the summary at the top names it and leads to the field.
        page.get_by_label("E-mail").fill("nova-at-example")
        page.get_by_role("button", name="Add account").click()
        _summary_leads_to(page, "E-mail", "email")
        if phone:
            _fits_a_phone(page)
        _axe_clean(page)
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Name").fill("Nova Organizatorka")
        expect(page.get_by_label("Role")).to_have_value("organizer")
        page.get_by_role("button", name="Add account").click()
        expect(page.get_by_role("heading", name=f"Invitation link for {email}")).to_be_visible()
        link = page.get_by_role("textbox", name="Link").input_value()
        assert "/invitation?token=" in link
        if phone:
            _fits_a_phone(page)
        _axe_clean(page)
        shoot(page, f"invitation-issued-{'phone' if phone else 'desktop'}")
        page.reload()  # shown once
        expect(page.get_by_role("textbox", name="Link")).to_have_count(0)
        expect(page.get_by_role("button", name="Make a new invitation link")).to_be_visible()

        tab = person.new_page()
        parts = urlsplit(link)
        tab.goto(f"{parts.path}?{parts.query}")
        expect(tab.get_by_role("heading", name="Welcome: choose your password")).to_be_visible()
        if phone:
            _fits_a_phone(tab)
        _axe_clean(tab)
        tab.get_by_label("New password", exact=True).fill("short")
        tab.get_by_label("New password again").fill("short")
        tab.get_by_role("button", name="Set password and log in").click()
        expect(tab.locator(".field-error")).to_contain_text("at least 10 characters")
        _summary_leads_to(tab, "New password", "new_password")
        _axe_clean(tab)
        tab.get_by_label("New password", exact=True).fill(CHOSEN)
        tab.get_by_label("New password again").fill(CHOSEN)
        tab.get_by_role("button", name="Set password and log in").click()
        expect(
            tab.get_by_role("status").filter(has_text="Your password is set; welcome")
        ).to_be_visible()
        tab.goto("/account")
        expect(tab.get_by_text(email)).to_be_visible()

        spent = person.new_page()
        response = spent.goto(f"{parts.path}?{parts.query}")
        assert response.status == 410
        expect(spent.get_by_role("heading", name="This link cannot be used")).to_be_visible()
        expect(spent.get_by_text("already used")).to_be_visible()
        if phone:
            _fits_a_phone(spent)
        _axe_clean(spent)
    finally:
        admin.close()
        person.close()


def test_login_page_explains_a_forgotten_password(browser, live_server):  # noqa: F811
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, bypass_csp=True
    )
    try:
        page = context.new_page()
        page.goto("/login")
        expect(page.get_by_text("Forgot your password?")).to_be_visible()
        _fits_a_phone(page)
        _axe_clean(page)
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["desktop", "phone"])
def test_dashboard_numbers_open_their_events(
    browser,
    live_server,  # noqa: F811
    admin_account,
    viewport,
):
    """The dashboard (issue 16): a number opens the list of exactly those events; the
    dashboard and that list are axe-clean and fit a phone."""
    phone = viewport == PHONE
    context = browser.new_context(
        base_url=live_server.url, viewport=viewport, is_mobile=phone, bypass_csp=True
    )
    try:
        page = context.new_page()
        _log_in(page, admin_account)
        page.goto("/dashboard")
        if phone:
            _fits_a_phone(page)
        _axe_clean(page)
        shoot(page, f"dashboard-{'phone' if phone else 'desktop'}")
        total = page.locator("table.coverage tfoot tr").first.locator("td.total a").last
        number = total.inner_text()
        total.click()
        expect(page.locator("p.count")).to_contain_text(f"{number} events")
        expect(
            page.get_by_role("navigation", name="Upcoming or past events").get_by_role(
                "link", name="All events"
            )
        ).to_have_attribute("aria-current", "page")
        if phone:
            _fits_a_phone(page)
        _axe_clean(page)
    finally:
        context.close()
