"""In a real Chromium: a plain page on another origin frames /embed/events and its scripts
read the API and the feed through CORS, while framing any other page of the planner is
refused. With CAMPAIGN_UPDATE_SCREENSHOTS=1 the README's screenshot of the embedded agenda
is refreshed (docs/screenshots/embed.png)."""

from __future__ import annotations

import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from campaign import create_app
from campaign.db import get_session
from campaign.demo import seed_demo_data
from tests.conftest import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]
playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
QUERY = "from=2020-10-01&to=2020-10-31"


class Thread:
    def __init__(self, server):
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="module")
def planner(sqlite_template, tmp_path_factory):
    path = tmp_path_factory.mktemp("embed") / "campaign.sqlite3"
    shutil.copy(sqlite_template, path)
    port = free_port()
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{path}",
            "SECRET_KEY": "embed-test-secret",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "DEFAULT_LOCALE": "en",
        }
    )
    with app.app_context():
        seed_demo_data(get_session(), 120, 2019)
    running = Thread(make_server("127.0.0.1", port, app, threaded=True))
    yield f"http://127.0.0.1:{port}"
    running.stop()
    app.extensions["campaign.engine"].dispose()


def partner_page(planner: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Belgrade Centre for Security Policy</title>
<style>body {{ font: 16px Georgia, serif; margin: 2rem; background: #f6f4ef; }}
main {{ display: grid; grid-template-columns: 1fr 420px; gap: 2rem; }}</style></head>
<body><h1>Belgrade Centre for Security Policy</h1>
<main><article><h2>Our work with the IPAP 2 campaign</h2>
<p>We host panels and round tables on disaster response and cyber security across Serbia.
The agenda on the right comes straight from the campaign planner.</p>
<p id="api">reading the API…</p><p id="feed">reading the feed…</p></article>
<iframe id="agenda" src="{planner}/embed/events?{QUERY}&amp;layout=expanded&amp;limit=3"
  title="IPAP 2 campaign agenda" width="420" height="640" style="border:1px solid #ccc;background:#fff"></iframe></main>
<iframe id="forbidden" src="{planner}/events" title="not frameable" width="10" height="10"></iframe>
<script>
fetch("{planner}/api/v1/events?{QUERY}&limit=3").then(r => r.json()).then(b =>
  document.getElementById("api").textContent = "API: " + b.events.length + " events, first " + b.events[0].uid,
  e => document.getElementById("api").textContent = "API failed: " + e);
fetch("{planner}/calendar.ics?{QUERY}").then(r => r.text()).then(t =>
  document.getElementById("feed").textContent = "feed: " + (t.startsWith("BEGIN:VCALENDAR") ? "ok" : "bad"),
  e => document.getElementById("feed").textContent = "feed failed: " + e);
</script></body></html>"""


@pytest.fixture(scope="module")
def partner_site(planner):
    body = partner_page(planner).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    running = Thread(ThreadingHTTPServer(("127.0.0.1", free_port()), Handler))
    yield f"http://127.0.0.1:{running.server.server_address[1]}/"
    running.stop()


def test_a_partner_site_frames_the_agenda_and_reads_the_api(browser, planner, partner_site):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.goto(partner_site)
    expect = playwright_api.expect
    expect(page.locator("#api")).to_contain_text("API: 3 events, first ", timeout=10_000)
    expect(page.locator("#feed")).to_have_text("feed: ok", timeout=10_000)
    agenda = page.frame_locator("#agenda")
    expect(agenda.locator("ol.agenda li").first).to_be_visible(timeout=10_000)
    assert agenda.locator("ol.agenda li").count() == 3
    expect(agenda.locator("p.subscribe a").first).to_have_attribute(
        "href", f"webcal://{planner.split('://')[1]}/calendar.ics?{QUERY}"
    )
    # Any other page of the planner refuses to be framed: Chromium shows its error page.
    page.wait_for_load_state("load")
    assert page.frame_locator("#forbidden").locator("header.site").count() == 0
    assert any(f.url.startswith("chrome-error://") for f in page.frames), [
        f.url for f in page.frames
    ]
    if os.environ.get("CAMPAIGN_UPDATE_SCREENSHOTS"):
        page.screenshot(path=ROOT / "docs" / "screenshots" / "embed.png")
    context.close()
