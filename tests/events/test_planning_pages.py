"""The planning pages as an organizer and the public use them: month view, event page,
clash warnings on save, clash marks in the list, and the strict-CSP promise."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from campaign.db import get_session
from campaign.models import Theme
from tests.conftest import event_form_data, form_version

T0 = datetime(2020, 3, 10, 17, 0, tzinfo=UTC)  # 18:00 in Belgrade


def _form(app, venue=None, **overrides):
    # Its own app context: the ``db`` fixture's would be shared with the client's requests.
    with app.app_context():
        session = get_session()
        theme_id = session.scalar(select(Theme.id).where(Theme.slug == "eadrcc"))
        overrides = {
            "title": "Panel: floods",
            "format": "panel",
            "themes": [str(theme_id)],
        } | overrides
        return event_form_data(session, venue=str(venue.id) if venue else "", **overrides)


# -- month view ------------------------------------------------------------------------


def test_month_grid_links_events_and_strikes_cancelled(client, create_event):
    kept = create_event(title="Okrugli sto u Nišu", starts_at=T0)
    gone = create_event(title="Otkazan panel", starts_at=T0 + timedelta(days=2), status="cancelled")
    create_event(title="April event", starts_at=T0 + timedelta(days=40))
    response = client.get("/events/calendar?month=2020-03")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>March 2020" in page
    assert f'href="/events/{kept.id}"' in page
    assert re.search(
        rf'href="/events/{gone.id}">\s*<del><time[^>]*>18:00</time> Otkazan panel</del>', page
    )
    assert "April event" not in page
    assert "2 events in March 2020" in page


def test_month_navigation_keeps_the_filter(client, create_event):
    create_event(themes=["kfor"], title="KFOR panel")
    create_event(themes=["eadrcc"], title="EADRCC panel")
    page = client.get("/events/calendar?month=2020-03&theme=kfor&format=round_table").get_data(
        as_text=True
    )
    assert "KFOR panel" in page and "EADRCC panel" not in page
    links = {
        m.group(1): m.group(2)
        for m in re.finditer(r'rel="(prev|next)" href="([^"]+)"', page.replace("&amp;", "&"))
    }
    assert parse_qs(urlsplit(links["prev"]).query) == {
        "theme": ["kfor"],
        "format": ["round_table"],
        "month": ["2020-02"],
    }
    assert parse_qs(urlsplit(links["next"]).query)["month"] == ["2020-04"]
    assert ">Today</a>" in page
    # The filter form keeps the month and shows the chosen values.
    assert '<input type="hidden" name="month" value="2020-03">' in page
    assert '<option value="kfor" selected>' in page


def test_month_across_the_year_end_and_default_month(client):
    page = client.get("/events/calendar?month=2020-12").get_data(as_text=True)
    assert "month=2021-01" in page and "month=2020-11" in page
    assert client.get("/events/calendar").status_code == 200


def test_bad_month_is_400_naming_month(client):
    for bad in ("2020-13", "2020-3", "March", "9999-12", "2020-03&month=2020-04"):
        response = client.get(f"/events/calendar?month={bad}")
        assert response.status_code == 400, bad
        assert "month:" in response.get_data(as_text=True)
    response = client.get("/events/calendar?month=2020-03&from=2020-31-01")
    assert response.status_code == 400 and "from:" in response.get_data(as_text=True)
    response = client.get("/events/calendar?month=2020-03&theme=nope")
    assert response.status_code == 400 and "theme: unknown theme" in response.get_data(as_text=True)


def test_month_takes_from_and_to_as_a_further_narrowing(client, create_event):
    create_event(title="Early March", starts_at=T0 - timedelta(days=8))
    create_event(title="Mid March", starts_at=T0)
    page = client.get("/events/calendar?month=2020-03&from=2020-03-05").get_data(as_text=True)
    assert "Mid March" in page and "Early March" not in page
    assert "?from=2020-03-05&amp;month=2020-04" in page  # the next month keeps the range
    assert 'href="/events?from=2020-03-05&amp;to=2020-03-31"' in page
    # A list URL with only from/to opens on the month of "from".
    page = client.get("/events/calendar?from=2020-03-01&to=2020-03-31").get_data(as_text=True)
    assert "<h1>March 2020" in page and "Early March" in page
    # A range outside the month shows nothing, not the events that span it.
    page = client.get("/events/calendar?month=2020-02&from=2020-03-01").get_data(as_text=True)
    assert "0 events in February 2020" in page


def test_month_shows_drafts_to_organizers_only(client, auth, create_event):
    create_event(title="Secret draft", status="draft")
    assert "Secret draft" not in client.get("/events/calendar?month=2020-03").get_data(as_text=True)
    auth.login()
    assert "Secret draft" in client.get("/events/calendar?month=2020-03").get_data(as_text=True)


def test_month_view_runs_a_fixed_number_of_queries(client, create_event, count_queries):
    create_event()
    client.get("/events/calendar?month=2020-03")
    with count_queries() as few:
        client.get("/events/calendar?month=2020-03")
    for day in range(1, 20):
        create_event(starts_at=T0 + timedelta(days=day % 15, hours=day))
    with count_queries() as many:
        client.get("/events/calendar?month=2020-03")
    assert many.count == few.count


# -- event page ------------------------------------------------------------------------


def test_event_page_add_to_calendar_links(client, create_event, create_venue, create_partner):
    venue = create_venue(name="Dom omladine", city="Beograd", address="Makedonska 22")
    partner = create_partner(name="Beogradski centar", slug="bcbp")
    event = create_event(
        title="Panel: Čačak & floods",
        description="Kako EADRCC pomaže.",
        venue=venue,
        partners=[(partner, "co_organizer")],
    )
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    hrefs = [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', page)]

    [google] = [h for h in hrefs if h.startswith("https://calendar.google.com/")]
    q = parse_qs(urlsplit(google).query)
    assert q["action"] == ["TEMPLATE"]
    assert q["text"] == ["Panel: Čačak & floods"]
    assert q["dates"] == ["20200310T170000Z/20200310T190000Z"]
    assert q["location"] == ["Dom omladine, Makedonska 22, Beograd"]
    assert "Kako EADRCC pomaže." in q["details"][0]
    # The page address comes from SITE_URL (the app fixture's), never from the Host header.
    assert f"http://campaign.test/events/{event.id}" in q["details"][0]
    assert "Beogradski centar (Co-organizer)" in q["details"][0]

    [outlook] = [h for h in hrefs if h.startswith("https://outlook.live.com/")]
    q = parse_qs(urlsplit(outlook).query)
    assert q["subject"] == ["Panel: Čačak & floods"]
    assert q["startdt"] == ["2020-03-10T17:00:00Z"] and q["enddt"] == ["2020-03-10T19:00:00Z"]
    assert q["location"] == ["Dom omladine, Makedonska 22, Beograd"]

    assert f"/events/{event.id}.ics" in hrefs
    assert 'href="/themes/eadrcc"' in page
    assert 'href="/partners/bcbp"' in page and "Co-organizer" in page
    # The public sees no organizer tools.
    assert "Edit" not in page and "Change history" not in page


def test_cancelled_event_offers_only_the_ics(client, create_event):
    event = create_event(status="cancelled")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "calendar.google.com" not in page
    assert f"/events/{event.id}.ics" in page


def test_event_page_organizer_tools(client, auth, create_event):
    auth.login()
    published = create_event(owner=auth.user, starts_at=datetime.now(UTC) + timedelta(days=9))
    draft = create_event(status="draft", owner=auth.user)
    page = client.get(f"/events/{published.id}").get_data(as_text=True)
    assert f'href="/events/{published.id}/edit"' in page
    assert f'action="/events/{published.id}/cancel"' in page
    assert "Delete draft" not in page
    assert "Change history" in page and "created" in page
    page = client.get(f"/events/{draft.id}").get_data(as_text=True)
    assert f'action="/events/{draft.id}/delete"' in page and "Cancel event" not in page


# -- clash warnings --------------------------------------------------------------------


def test_saving_a_clashing_event_asks_then_saves_anyway(
    client, auth, app, create_event, create_venue
):
    auth.login()
    venue = create_venue()
    first = create_event(title="Prvi panel", venue=venue)
    # Checked before saving: the clash is shown and nothing is saved until the organizer
    # chooses "Save anyway" (issue 16).
    response = client.post("/events/new", _form(app, venue, title="Drugi panel"))
    assert response.status_code == 409
    assert "Clash check: not saved yet" in response.get_data(as_text=True)
    response = client.post("/events/new", _form(app, venue, title="Drugi panel", clashes="accept"))
    assert response.status_code == 302  # saved
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "“Drugi panel” was created." in page
    assert "Clash warning" in page
    assert "“Prvi panel” (same venue (Dom omladine, Beograd))" in page
    assert f'<a href="/events/{first.id}">Prvi panel</a>' in page

    # Moving it away saves without a warning, and the clash is gone from the page.
    second_url = response.headers["Location"]
    edit = client.get(second_url + "/edit").get_data(as_text=True)
    assert "Clash warning" in edit  # the form shows the clash before the move
    response = client.post(
        second_url + "/edit",
        _form(
            app,
            venue,
            title="Drugi panel",
            starts_at="2020-03-10T20:00",
            ends_at="2020-03-10T22:00",
            version=form_version(edit),
        ),
    )
    assert response.status_code == 302
    page = client.get(second_url).get_data(as_text=True)
    assert "“Drugi panel” was saved." in page and "Clash warning" not in page


def test_partner_clash_is_named(client, auth, app, create_event, create_partner, create_venue):
    auth.login()
    partner = create_partner(name="Mreža „Žene u bezbednosti”")
    create_event(
        title="Elsewhere", partners=[(partner, "speakers")], venue=create_venue(city="Niš")
    )
    response = client.post(
        "/events/new",
        _form(
            app,
            None,
            online_url="https://meet.example.org/x",
            partners_host=[str(partner.id)],
            clashes="accept",
        ),
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "same partner: Mreža „Žene u bezbednosti”" in page


def test_list_marks_clashing_events_for_organizers(
    client, auth, create_event, create_venue, count_queries
):
    venue = create_venue()
    a = create_event(title="A", venue=venue)
    create_event(title="B", venue=venue)
    lonely = create_event(title="C", venue=venue, starts_at=T0 + timedelta(days=3))
    assert "Clash" not in client.get("/events").get_data(as_text=True)
    auth.login()
    page = client.get("/events").get_data(as_text=True)
    assert page.count('class="badge clash"') == 2
    assert f'href="/events/{a.id}#clashes"' in page
    assert f'href="/events/{lonely.id}#clashes"' not in page

    with count_queries() as few:
        client.get("/events")
    for i in range(10):
        create_event(title=f"More {i}", venue=venue, starts_at=T0 + timedelta(days=5, hours=i))
    with count_queries() as many:
        client.get("/events")
    assert many.count == few.count


# -- layout promises -------------------------------------------------------------------


def test_pages_allow_a_strict_csp(client, auth, create_event):
    event = create_event()
    auth.login()
    for url in (
        "/",
        "/events",
        "/events/calendar?month=2020-03",
        f"/events/{event.id}",
        f"/events/{event.id}/edit",
        "/events/new",
        "/dashboard",
        "/themes",
        "/partners",
        "/venues",
        "/account",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        page = response.get_data(as_text=True)
        assert not re.search(r"\sstyle=", page), url
        assert not re.search(r"<script(?![^>]*\ssrc=)", page), url
        assert not re.search(r"\son[a-z]+=", page), url
        assert not re.search(r'(src|href)="(https?:)?//[^"]*\.(css|js)"', page), url


def test_change_history_speaks_the_page_language(client, auth, create_event):
    """Actions, field names and coded values in the history are shown translated; the
    stored keys stay as written."""
    from campaign.db import get_session
    from campaign.events import operations as event_ops
    from campaign.events.filters import event_list_loading
    from campaign.events.models import Event

    event = create_event(title="Okrugli sto o EADRCC", status="draft")
    with client.application.app_context():
        session = get_session()
        loaded = session.scalar(
            select(Event).where(Event.id == event.id).options(*event_list_loading())
        )
        data = event_ops.event_data(loaded)
        data.status = "confirmed"
        data.starts_at = data.starts_at.replace(hour=16, minute=0)
        data.ends_at = data.starts_at.replace(hour=18, minute=0)
        assert event_ops.update_event(session, None, loaded, data, loaded.version)
    auth.login()
    english = client.get(f"/events/{event.id}?lang=en").get_data(as_text=True)
    assert "<strong>Changed</strong>" in english
    assert "Status: <del>Draft</del> → <ins>Confirmed</ins>" in english
    # Times as people read them, in the campaign's zone, not stored UTC ISO strings.
    assert "→ <ins>" in english and "+00:00" not in english.split("Change history")[1]
    assert re.search(r"Starts: <del>[^<]*</del> → <ins>\d+ \w+ \d{4}, 17:00 CE[S]?T</ins>", english)
    latin = client.get(f"/events/{event.id}?lang=sr-Latn").get_data(as_text=True)
    assert "<strong>Izmenjeno</strong>" in latin and "<strong>Napravljeno</strong>" in latin
    assert "<strong>updated</strong>" not in latin and "<strong>created</strong>" not in latin
    cyrillic = client.get(f"/events/{event.id}?lang=sr-Cyrl").get_data(as_text=True)
    assert "<strong>Измењено</strong>" in cyrillic
