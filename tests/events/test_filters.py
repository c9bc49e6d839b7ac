"""The one EventFilter on the list page: every parameter, bad values, drafts, search, pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest


def titles(client, query=""):
    """Every matching event in start order: the list shows upcoming events in start order
    and, one click away, past ones newest first (issue 16), so the past side is reversed."""
    sides = []
    for when in ("past", "upcoming"):
        url = "/events" + query + ("&" if query else "?") + "when=" + when
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        sides.append(
            re.findall(r'<a href="/events/\d+">([^<]+)</a>', response.get_data(as_text=True))
        )
    return sides[0][::-1] + sides[1]


@pytest.fixture
def seeded(create_event, create_partner, create_venue):
    bcbp = create_partner(slug="bcbp", name="Beogradski centar za bezbednosnu politiku")
    rts = create_partner(slug="rts", name="Radio-televizija Srbije", kind="media")
    ns = create_venue(name="Kulturni centar Novog Sada", city="Novi Sad")
    cacak = create_venue(name="Dom kulture Čačak", city="Čačak")
    t0 = datetime(2020, 3, 10, 17, 0, tzinfo=UTC)
    create_event(
        title="Flood panel",
        format="panel",
        themes=["civil-emergencies"],
        venue=ns,
        partners=[(bcbp, "host")],
        starts_at=t0,
        description="Poplave 2014.",
    )
    create_event(
        title="Cyber seminar",
        format="seminar",
        themes=["cyber-security", "eadrcc"],
        venue=cacak,
        partners=[(rts, "media_partner")],
        starts_at=t0 + timedelta(days=40),
    )
    create_event(
        title="KFOR round table",
        themes=["kfor"],
        starts_at=t0 + timedelta(days=400),
        online_url="https://meet.example.org/kfor",
    )
    create_event(
        title="Secret draft",
        status="draft",
        themes=["cyber-security"],
        venue=ns,
        starts_at=t0 + timedelta(days=5),
    )
    create_event(
        title="Cancelled panel",
        format="panel",
        status="cancelled",
        themes=["eadrcc"],
        venue=cacak,
        starts_at=t0 + timedelta(days=7),
    )


def test_list_in_start_order_without_drafts(client, seeded):
    assert titles(client) == ["Flood panel", "Cancelled panel", "Cyber seminar", "KFOR round table"]


def test_organizers_see_drafts(client, auth, seeded):
    auth.login()
    assert "Secret draft" in titles(client)
    assert titles(client, "?status=draft") == ["Secret draft"]


@pytest.mark.parametrize(
    "query,expected",
    [
        ("?theme=cyber-security", ["Cyber seminar"]),
        ("?theme=kfor&theme=civil-emergencies", ["Flood panel", "KFOR round table"]),
        ("?partner=rts", ["Cyber seminar"]),
        ("?format=panel", ["Flood panel", "Cancelled panel"]),
        ("?format=panel&format=seminar", ["Flood panel", "Cancelled panel", "Cyber seminar"]),
        ("?city=novi+sad", ["Flood panel"]),
        ("?city=%C4%8CA%C4%8CAK", ["Cancelled panel", "Cyber seminar"]),  # ČAČAK
        ("?status=cancelled", ["Cancelled panel"]),
        ("?from=2020-03-11", ["Cancelled panel", "Cyber seminar", "KFOR round table"]),
        ("?to=2020-03-10", ["Flood panel"]),
        ("?from=2020-03-10&to=2020-03-10", ["Flood panel"]),
        ("?q=flood", ["Flood panel"]),
        ("?q=POPLAVE", ["Flood panel"]),  # description
        ("?q=%C4%8Da%C4%8Dak", ["Cancelled panel", "Cyber seminar"]),  # venue name, any case
        ("?q=televizija", ["Cyber seminar"]),  # partner name
        ("?q=cyber+seminar", ["Cyber seminar"]),  # every word must match
        ("?q=100%25", []),  # LIKE wildcards are literal
        ("?q=_", []),
        ("?theme=eadrcc&format=seminar", ["Cyber seminar"]),
    ],
)
def test_each_filter_parameter(client, seeded, query, expected):
    assert titles(client, query) == expected


@pytest.mark.parametrize(
    "query,param",
    [
        ("?theme=no-such-theme", "theme"),
        ("?partner=nobody", "partner"),
        ("?format=lecture", "format"),
        ("?city=Atlantis", "city"),
        ("?status=published", "status"),
        ("?status=draft", "status"),  # drafts are for organizers only
        ("?from=2020-02-30", "from"),
        ("?from=10.03.2020", "from"),
        ("?to=yesterday", "to"),
        ("?to=2020-1-1", "to"),
        ("?from=2021-01-01&to=2020-01-01", "from"),
        ("?page=0", "page"),
        ("?page=-1", "page"),
        ("?page=two", "page"),
        ("?page=%C2%B2", "page"),  # superscript two is a digit to str.isdigit
        ("?page=99999999999999999999", "page"),
        ("?q=" + "x" * 201, "q"),
        ("?q=a&q=b", "q"),
        ("?theme=" + "&theme=".join(["eadrcc"] * 51), "theme"),
    ],
)
def test_bad_filter_values_answer_400_naming_the_parameter(client, seeded, query, param):
    response = client.get("/events" + query)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(rf'role="alert">{param}: ', page), page
    # The page still offers the filter form to fix the mistake.
    assert '<form class="filters"' in page


def test_empty_values_are_ignored(client, seeded):
    assert len(titles(client, "?theme=&city=&q=")) == 4


def test_drafts_invisible_to_anonymous_everywhere(client, seeded, db):
    from sqlalchemy import select

    from campaign.models import Event

    draft = db.scalar(select(Event).where(Event.title == "Secret draft"))
    assert client.get(f"/events/{draft.id}").status_code == 404
    for url in [
        "/",
        "/events",
        "/events?theme=cyber-security",
        "/themes/cyber-security",
        "/events/calendar?month=2020-03",
        "/partners",
        "/themes",
        "/events?q=secret",
        "/events?city=Novi+Sad",
    ]:
        page = client.get(url).get_data(as_text=True)
        assert "Secret draft" not in page, url
    # Theme counts on /themes do not count drafts either.
    themes_page = client.get("/themes").get_data(as_text=True)
    assert re.search(
        r"Cyber security</a></h2>\s*<p>[^<]*</p><p class=\"meta\">1 event<", themes_page
    )


def test_pagination_keeps_filter(app, client, create_event):
    app.config["EVENTS_PER_PAGE"] = 2
    t0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)  # upcoming
    for n in range(5):
        create_event(title=f"Seminar {n}", format="seminar", starts_at=t0 + timedelta(days=n))
    create_event(title="A panel", format="panel", starts_at=t0)
    page = client.get("/events?format=seminar").get_data(as_text=True)
    assert "5 events" in page and "Page 1 of 3" in page
    assert 'href="/events?format=seminar&amp;page=2"' in page
    assert titles(client, "?format=seminar&page=3") == ["Seminar 4"]
    beyond = client.get("/events?format=seminar&page=9").get_data(as_text=True)
    assert "There is no page 9" in beyond


def test_empty_state_suggests_removing_filters(client, seeded):
    page = client.get("/events?theme=nuclear-security").get_data(as_text=True)
    assert "No events match this filter" in page


def test_theme_and_partner_pages_list_their_events(client, seeded):
    theme_page = client.get("/themes/eadrcc").get_data(as_text=True)
    assert "Cyber seminar" in theme_page and "Cancelled panel" in theme_page
    assert "Flood panel" not in theme_page
    partner_page = client.get("/partners/bcbp").get_data(as_text=True)
    assert "Flood panel" in partner_page and "Cyber seminar" not in partner_page
    assert client.get("/themes/nope").status_code == 404
    assert client.get("/partners/nope").status_code == 404
    assert client.get("/themes/eadrcc?from=garbage").status_code == 400


def test_month_view(client, seeded):
    page = client.get("/events/calendar?month=2020-03").get_data(as_text=True)
    assert "March 2020" in page and "Flood panel" in page
    assert "<del>" in page  # the cancelled panel is struck through
    assert "Cyber seminar" not in page  # April
    assert client.get("/events/calendar?month=2020-13").status_code == 400
    assert client.get("/events/calendar?month=March").status_code == 400
    assert "Cyber seminar" not in client.get("/events/calendar?month=2020-04&theme=kfor").get_data(
        as_text=True
    )


def test_search_follows_renamed_partner_and_venue(client, auth, seeded, db):
    from sqlalchemy import select

    from campaign.models import Venue

    auth.login()
    client.post(
        "/partners/rts/edit", {"slug": "rts", "name": "Javni servis Ђурђевак", "kind": "media"}
    )
    assert titles(client, "?q=%D1%92%D1%83%D1%80%D1%92%D0%B5%D0%B2%D0%B0%D0%BA") == [
        "Cyber seminar"
    ]  # ђурђевак
    assert titles(client, "?q=televizija") == []
    venue = db.scalar(select(Venue).where(Venue.city == "Novi Sad"))
    client.post(f"/venues/{venue.id}/edit", {"name": "Sinagoga", "city": "Novi Sad"})
    assert titles(client, "?q=sinagoga") == ["Flood panel", "Secret draft"]


def test_busy_day_in_month_view_links_to_the_rest(client, create_event):
    t0 = datetime(2020, 6, 3, 6, 0, tzinfo=UTC)
    for n in range(6):
        create_event(title=f"Session {n}", starts_at=t0 + timedelta(hours=n))
    page = client.get("/events/calendar?month=2020-06&format=round_table").get_data(as_text=True)
    assert page.count('<a class="cal-event') == 4
    assert "+ 2 more" in page
    assert "format=round_table&amp;from=2020-06-03&amp;to=2020-06-03" in page
    assert titles(client, "?format=round_table&from=2020-06-03&to=2020-06-03")[4:] == [
        "Session 4",
        "Session 5",
    ]


def test_a_query_without_filter_parameters_is_the_plain_filter_and_any_one_is_checked(app):
    """parse() takes a short cut when no parameter it reads is there (most feed requests):
    the same filter as parsing, and each parameter alone still goes through its checks."""
    from werkzeug.datastructures import MultiDict

    from campaign.db import get_session
    from campaign.events.filters import PARSED_PARAMS, EventFilter, FilterError
    from campaign.web import campaign_zone

    with app.test_request_context("/calendar.ics"):
        zone = campaign_zone()
        for drafts in (False, True):
            plain = EventFilter(include_drafts=drafts, campaign_zone=zone)
            for args in (MultiDict(), MultiDict([("lang", "sr-Latn"), ("token", "x")])):
                parsed = EventFilter.parse(
                    args, get_session(), include_drafts=drafts, campaign_zone=zone
                )
                assert parsed == plain
            for name in PARSED_PARAMS:
                with pytest.raises(FilterError) as caught:
                    EventFilter.parse(
                        MultiDict([(name, "a\u202eb")]),
                        get_session(),
                        include_drafts=drafts,
                        campaign_zone=zone,
                    )
                assert caught.value.param == name
