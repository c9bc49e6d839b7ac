"""The partner picker in a real Chromium (issue 16): with JavaScript (search as you type,
chips with a remove button, announced changes, under the app's real CSP) and without it
(the "Filter partners" button), on a desktop and a 390×844 phone, axe-core clean."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.app.test_browser import (  # noqa: F401  (fixtures)
    AXE,
    README_SHOTS,
    VIEWPORT,
    ConsoleWatch,
    _log_in,
    expect,
    live_server,
    save,
    shoot,
)

pytestmark = pytest.mark.browser

UNS = "Univerzitet u Novom Sadu — Fakultet tehničkih nauka"
VINCA = "Institut za nuklearne nauke „Vinča”"
RTS = "Radio-televizija Srbije"
PHONE = {"width": 390, "height": 844}


def _axe_clean(page) -> None:
    page.add_script_tag(path=AXE)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        {"rule": v["id"], "help": v["help"], "where": [n["target"] for n in v["nodes"][:5]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, json.dumps(bad, indent=2, ensure_ascii=False)


def _fill_the_rest(page, title: str, day: str = "2032-04-14") -> None:
    """The other fields (a day of its own per test: one organizer's events must not clash)."""
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Start", exact=True).fill(f"{day}T11:00")
    page.get_by_label("End", exact=True).fill(f"{day}T13:00")
    page.get_by_role("group", name="Themes").get_by_label("Cyber security").check()


def _no_sideways_scroll(page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth") - PHONE["width"]
    assert overflow <= 0, f"{page.url} is {overflow}px wider than a 390px screen"


def test_picker_with_javascript_searches_as_you_type_and_shows_chips(browser, live_server):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-GB")
    page = context.new_page()
    console = ConsoleWatch(page)  # the app's real CSP is in force: no inline script
    failed = []
    page.on(
        "requestfinished", lambda r: failed.append(r.url) if r.response().status == 404 else None
    )
    try:
        _log_in(page)
        page.goto("/events/new")
        picker = page.get_by_role("group", name="Partners")
        expect(picker.get_by_role("button", name="Filter partners")).to_be_hidden()
        chips = picker.get_by_role("list", name="Chosen partners")
        expect(chips).to_have_text("No partner chosen yet.")

        # Search as you type, in any case and script, without diacritics.
        search = picker.get_by_label("Find a partner")
        search.press_sequentially("НОВОМ сад")
        expect(picker.get_by_role("group", name=UNS)).to_be_visible()
        expect(picker.get_by_role("group", name=RTS)).to_be_hidden()
        expect(picker.locator("#partner-count")).to_have_text(
            re.compile(r"^Shown: 1 of \d+ partners\.$")
        )
        search.press("Enter")  # filters, never saves
        expect(page).to_have_url(re.compile(r"/events/new$"))

        # One partner, two roles: two chips, each change announced.
        uns = picker.get_by_role("group", name=UNS)
        uns.get_by_label("Host", exact=True).check()
        uns.get_by_label("Speakers", exact=True).focus()
        page.keyboard.press("Space")  # the keyboard works as well as the mouse
        expect(chips.get_by_role("listitem")).to_have_count(2)
        expect(chips).to_contain_text(f"{UNS} — Host")
        expect(chips).to_contain_text(f"{UNS} — Speakers")
        status = picker.get_by_role("status")
        expect(status).to_have_text(f"Added: {UNS} as Speakers.")

        # A chosen partner stays listed when the search no longer matches it.
        search.fill("vinca")
        expect(picker.get_by_role("group", name=VINCA)).to_be_visible()
        expect(uns).to_be_visible()
        picker.get_by_role("group", name=VINCA).get_by_label("Media partner").check()
        expect(chips.get_by_role("listitem")).to_have_count(3)
        shoot(page, "partner-picker")
        if os.environ.get("CAMPAIGN_UPDATE_SCREENSHOTS"):
            picker.screenshot(path=README_SHOTS / "partner-picker.png")

        # Removing a chip unticks its box and moves the focus to the next chip.
        chips.get_by_role("button", name=f"Remove {VINCA} as Media partner").click()
        expect(
            picker.get_by_role("group", name=VINCA).get_by_label("Media partner")
        ).not_to_be_checked()
        expect(status).to_have_text(f"Removed: {VINCA} as Media partner.")
        expect(chips.get_by_role("listitem")).to_have_count(2)
        search.press("Escape")
        expect(picker.get_by_role("group", name=RTS)).to_be_visible()

        search.fill("novi")  # filtered in the page: Enter in a text box then saves
        _fill_the_rest(page, "Tribina: sajber bezbednost u Novom Sadu")
        page.get_by_label("Title", exact=True).press("Enter")
        expect(
            page.get_by_text("“Tribina: sajber bezbednost u Novom Sadu” was created.")
        ).to_be_visible()
        partners = page.locator("main")
        expect(partners).to_contain_text(f"{UNS} — Host")
        expect(partners).to_contain_text(f"{UNS} — Speakers")
        expect(partners).not_to_contain_text(VINCA)

        # Editing: the chosen partner and both roles in view at once.
        page.get_by_role("link", name="Edit", exact=True).click()
        expect(chips.get_by_role("listitem")).to_have_count(2)
        first = picker.locator("fieldset.partner").first
        expect(first).to_have_attribute("data-name", UNS)
        expect(first.get_by_label("Host", exact=True)).to_be_checked()
        expect(first.get_by_label("Speakers", exact=True)).to_be_checked()
        # No script error and no CSP refusal (the 404 of /favicon.ico is no error of ours).
        problems = [m for m in console.messages if "Failed to load resource" not in m]
        assert not problems, problems
        assert all(url.endswith("/favicon.ico") for url in failed), failed
    finally:
        context.close()


def test_picker_without_javascript_filters_with_a_button(browser, live_server):  # noqa: F811
    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, java_script_enabled=False
    )
    page = context.new_page()
    try:
        _log_in(page)
        page.goto("/events/new")
        _fill_the_rest(page, "Seminar bez JavaScripta: nuklearna bezbednost", "2032-05-19")
        picker = page.get_by_role("group", name="Partners")
        picker.get_by_label("Find a partner").fill("vinča")
        picker.get_by_role("button", name="Filter partners").click()
        expect(picker.get_by_role("group", name=VINCA)).to_be_visible()
        expect(picker.get_by_role("group", name=RTS)).to_have_count(0)
        expect(page.get_by_label("Title", exact=True)).to_have_value(
            "Seminar bez JavaScripta: nuklearna bezbednost"
        )
        picker.get_by_role("group", name=VINCA).get_by_label("Host", exact=True).check()
        picker.get_by_role("group", name=VINCA).get_by_label("Speakers", exact=True).check()
        # Typing another name and pressing Enter filters again (nothing is saved).
        picker.get_by_label("Find a partner").fill("srbije")
        picker.get_by_label("Find a partner").press("Enter")
        expect(picker.get_by_role("group", name=RTS)).to_be_visible()
        expect(picker.get_by_role("list", name="Chosen partners")).to_contain_text(
            f"{VINCA} — Host"
        )
        vinca = picker.get_by_role("group", name=VINCA)  # chosen: still listed, first
        expect(vinca.get_by_label("Speakers", exact=True)).to_be_checked()
        picker.get_by_role("group", name=RTS).get_by_label("Media partner").check()
        save(page)
        expect(
            page.get_by_text("“Seminar bez JavaScripta: nuklearna bezbednost” was created.")
        ).to_be_visible()
        main = page.locator("main")
        for role in ("Host", "Speakers"):
            expect(main).to_contain_text(f"{VINCA} — {role}")
        expect(main).to_contain_text(f"{RTS} — Media partner")
    finally:
        context.close()


@pytest.mark.parametrize("scripts", [True, False], ids=["javascript", "no-javascript"])
def test_picker_on_a_phone_fits_and_is_accessible(browser, live_server, scripts):  # noqa: F811
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        is_mobile=True,
        java_script_enabled=scripts,
    )
    page = context.new_page()
    # axe runs in a second tab with scripts on, on the same HTML (as the series tests do).
    auditor_context = browser.new_context(base_url=live_server.url, viewport=PHONE, bypass_csp=True)
    auditor = auditor_context.new_page()
    try:
        _log_in(page)
        page.goto("/events/new")
        picker = page.get_by_role("group", name="Partners")
        picker.get_by_role("group", name=UNS).get_by_label("Co-organizer").check()
        picker.get_by_role("group", name=UNS).get_by_label("Media partner").check()
        _no_sideways_scroll(page)
        if scripts:
            expect(
                picker.get_by_role("list", name="Chosen partners").get_by_role("button")
            ).to_have_count(2)
            shoot(page, "partner-picker-phone")
            if os.environ.get("CAMPAIGN_UPDATE_SCREENSHOTS"):
                picker.screenshot(path=README_SHOTS / "partner-picker-phone.png")
        else:
            picker.get_by_label("Find a partner").fill("novi sad")
            picker.get_by_role("button", name="Filter partners").click()
            _no_sideways_scroll(page)
        html = page.content()
        auditor.goto("/static/style.css")
        auditor.set_content(html)
        _axe_clean(auditor)
        # Every mistake at once, on the phone too: the summary fits and links to the fields.
        page.get_by_label("Title", exact=True).fill("")
        save(page)
        summary = page.get_by_role("alert").filter(has_text="mistakes")
        expect(summary.get_by_role("link", name=re.compile("^Title: "))).to_be_visible()
        expect(summary.get_by_role("link", name=re.compile("^Themes: "))).to_be_visible()
        _no_sideways_scroll(page)
    finally:
        auditor_context.close()
        context.close()
