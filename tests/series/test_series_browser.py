"""The tour builder in a real Chromium: without JavaScript (every step a form post) and
with it (rows added and removed in the page), axe-core clean on the preview."""

from __future__ import annotations

import json
import os

import pytest

from tests.app.test_browser import (  # noqa: F401  (fixtures)
    AXE,
    README_SHOTS,
    VIEWPORT,
    _log_in,
    expect,
    live_server,
)

pytestmark = pytest.mark.browser


def _axe_clean(page, auditor=None) -> None:
    """axe-core on the page; a page without JavaScript is audited as the same HTML loaded
    into ``auditor``, a tab that runs scripts, on the same origin (so with the same CSS)."""
    if auditor is not None:
        html = page.content()
        auditor.goto("/static/style.css")
        auditor.set_content(html)
        page = auditor
    page.add_script_tag(path=AXE)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        {"rule": v["id"], "help": v["help"], "where": [n["target"] for n in v["nodes"][:5]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, json.dumps(bad, indent=2, ensure_ascii=False)


def _fill_shared(page, title: str) -> None:
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Format").select_option("seminar")
    page.get_by_label("Cyber security").check()


def _fill_row(page, index: int, day: str, start: str, end: str) -> None:
    page.locator(f'[name="rows-{index}-day"]').fill(day)
    page.locator(f'[name="rows-{index}-start"]').fill(start)
    page.locator(f'[name="rows-{index}-end"]').fill(end)


@pytest.mark.parametrize("javascript", [False, True], ids=["without-js", "with-js"])
def test_build_a_tour(browser, live_server, javascript):  # noqa: F811
    context = browser.new_context(
        base_url=live_server.url,
        viewport=VIEWPORT,
        java_script_enabled=javascript,
        bypass_csp=True,  # for axe-core, injected as a script
        locale="en-GB",
    )
    page = context.new_page()
    audit_context = None
    auditor = None
    if not javascript:
        audit_context = browser.new_context(
            base_url=live_server.url, viewport=VIEWPORT, bypass_csp=True, locale="en-GB"
        )
        auditor = audit_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    title = f"Seminar tour {'with' if javascript else 'without'} JavaScript"
    try:
        _log_in(page)
        page.goto("/series/new/tour")
        rows = page.locator("tr.tour-row")
        expect(rows).to_have_count(4)
        _axe_clean(page, auditor)
        _fill_shared(page, title)
        _fill_row(page, 0, "2021-10-05", "18:00", "20:00")
        _fill_row(page, 1, "2021-10-12", "18:00", "20:00")
        page.get_by_role("button", name="More rows").click()
        expect(rows).to_have_count(5 if javascript else 7)
        # What was typed survives the round trip (or was never sent).
        expect(page.get_by_label("Title", exact=True)).to_have_value(title)
        _fill_row(page, 4, "2021-10-19", "12:00", "14:00")
        if javascript:
            page.get_by_label("Remove stop 2").click()
            expect(rows).to_have_count(4)  # gone at once, the rows renumbered
            expect(page.get_by_label("Remove stop 4")).to_be_attached()
        else:
            page.get_by_label("Remove stop 2").check()
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_role("heading", name="Preview: 2 dates")).to_be_visible()
        if javascript and os.environ.get("CAMPAIGN_UPDATE_SCREENSHOTS"):
            README_SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=README_SHOTS / "tour-builder.png", full_page=True)
        _axe_clean(page, auditor)
        page.get_by_role("button", name="Create the series").click()
        expect(page.get_by_text(f"The series “{title}” was created with 2 events.")).to_be_visible()
        expect(page.get_by_role("heading", name=title)).to_be_visible()
        _axe_clean(page, auditor)
        assert not errors
    finally:
        context.close()
        if audit_context is not None:
            audit_context.close()
