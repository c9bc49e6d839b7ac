"""The coverage dashboard: its numbers, its filter, its access rule and its query count."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from campaign.dashboard.coverage import coverage
from campaign.events.filters import EventFilter, FilterError
from campaign.models import Theme

ZONE_NOTE = "Europe/Belgrade"


def _coverage(app, db, **args):
    flt = EventFilter.parse(
        args, db, include_drafts=True, campaign_zone=app.config["CAMPAIGN_ZONE"]
    )
    return coverage(db, flt)


def _theme(db, slug):
    return db.scalar(select(Theme).where(Theme.slug == slug))


def _cell(data, theme, month: date) -> int:
    return data.grid[theme.id][data.months.index(month)]


def test_default_period_is_the_campaign(app, db):
    data = _coverage(app, db)
    assert data.months[0] == date(2019, 11, 1)
    assert data.months[-1] == date(2021, 12, 1)
    assert len(data.months) == 26
    assert data.years == [(2019, 2), (2020, 12), (2021, 12)]
    assert len(data.themes) == 9
    assert data.total == 0
    assert data.gaps == 9 * 26


def test_theme_month_counts_and_gaps(app, db, create_event):
    create_event(themes=["eadrcc", "kfor"], starts_at=datetime(2020, 3, 10, 17, tzinfo=UTC))
    create_event(themes=["eadrcc"], starts_at=datetime(2020, 3, 20, 17, tzinfo=UTC))
    create_event(themes=["eadrcc"], starts_at=datetime(2020, 4, 1, 9, tzinfo=UTC))
    create_event(themes=["cyber-security"], starts_at=datetime(2018, 4, 1, 9, tzinfo=UTC))
    data = _coverage(app, db)
    eadrcc, kfor, cyber = _theme(db, "eadrcc"), _theme(db, "kfor"), _theme(db, "cyber-security")
    assert _cell(data, eadrcc, date(2020, 3, 1)) == 2
    assert _cell(data, eadrcc, date(2020, 4, 1)) == 1
    assert _cell(data, kfor, date(2020, 3, 1)) == 1
    assert sum(data.grid[cyber.id]) == 0  # 2018 is outside the campaign period
    assert data.total == 3
    assert data.month_totals[data.months.index(date(2020, 3, 1))] == 2
    assert data.gaps == 9 * 26 - 3


def test_months_are_counted_in_the_campaign_zone(app, db, create_event):
    # 23:30 UTC on 29 February is 00:30 on 1 March in Belgrade (CET, UTC+1).
    create_event(starts_at=datetime(2020, 2, 29, 23, 30, tzinfo=UTC))
    # 21:30 UTC on 31 May is 23:30 on 31 May in Belgrade (CEST, UTC+2): still May.
    create_event(starts_at=datetime(2020, 5, 31, 21, 30, tzinfo=UTC))
    # 22:30 UTC on 31 May is 00:30 on 1 June in Belgrade.
    create_event(starts_at=datetime(2020, 5, 31, 22, 30, tzinfo=UTC))
    data = _coverage(app, db)
    eadrcc = _theme(db, "eadrcc")
    assert _cell(data, eadrcc, date(2020, 2, 1)) == 0
    assert _cell(data, eadrcc, date(2020, 3, 1)) == 1
    assert _cell(data, eadrcc, date(2020, 5, 1)) == 1
    assert _cell(data, eadrcc, date(2020, 6, 1)) == 1


def test_cancelled_events_cover_nothing_unless_asked_for(app, db, create_event):
    create_event(status="cancelled")
    create_event(status="draft")
    assert _coverage(app, db).total == 1
    only_cancelled = _coverage(app, db, status=["cancelled"])
    assert only_cancelled.total == 1 and only_cancelled.includes_cancelled


def test_cities_partners_and_attendance(app, db, create_event, create_venue, create_partner):
    bg, ns = create_venue(city="Beograd"), create_venue(name="Kulturni centar", city="Novi Sad")
    create_venue(name="Dom kulture", city="Čačak")
    ngo, media, _idle = (
        create_partner(name="Beogradski centar"),
        create_partner(name="RTS", kind="media"),
        create_partner(name="Idle"),
    )
    t = datetime(2020, 3, 10, 17, tzinfo=UTC)
    create_event(
        venue=bg, starts_at=t, expected_audience=100, attendance=80, partners=[(ngo, "host")]
    )
    create_event(
        venue=bg,
        starts_at=t + timedelta(days=30),
        expected_audience=50,
        partners=[(ngo, "host"), (ngo, "speakers"), (media, "media_partner")],
    )
    create_event(
        venue=ns,
        themes=["kfor"],
        starts_at=t + timedelta(days=60),
        expected_audience=40,
        attendance=60,
    )
    create_event(venue=None, online_url="https://meet.example.org/a", starts_at=t)
    data = _coverage(app, db)

    assert data.cities == [("Beograd", 2), ("Novi Sad", 1), (None, 1), ("Čačak", 0)]

    engagement = [(p.partner.name, p.events, p.last_start) for p in data.partners]
    assert engagement == [
        ("Beogradski centar", 2, t + timedelta(days=30)),
        ("RTS", 1, t + timedelta(days=30)),
        ("Idle", 0, None),
    ]
    assert data.partners[0].last_start.tzinfo is not None

    by_theme = {row.theme.slug: row for row in data.attendance}
    eadrcc = by_theme["eadrcc"]
    assert (eadrcc.events, eadrcc.expected) == (3, 150)
    assert (eadrcc.reported_events, eadrcc.reported_expected, eadrcc.attendance) == (1, 100, 80)
    assert eadrcc.ratio == pytest.approx(0.8)
    kfor = by_theme["kfor"]
    assert (kfor.events, kfor.reported_expected, kfor.attendance) == (1, 40, 60)
    assert by_theme["cyber-security"].ratio is None


def test_list_filters_apply(app, db, create_event, create_venue):
    ns = create_venue(name="Kulturni centar", city="Novi Sad")
    create_event(themes=["eadrcc"], venue=ns, format="panel")
    create_event(themes=["eadrcc"], format="seminar")
    create_event(themes=["kfor"], venue=ns, starts_at=datetime(2021, 6, 1, 10, tzinfo=UTC))
    assert _coverage(app, db, city=["novi sad"]).total == 2
    assert _coverage(app, db, format=["seminar"]).total == 1
    only_kfor = _coverage(app, db, theme=["kfor"])
    assert [t.slug for t in only_kfor.themes] == ["kfor"] and only_kfor.total == 1
    ranged = _coverage(app, db, **{"from": "2021-01-01", "to": "2021-06-30"})
    assert ranged.months[0] == date(2021, 1, 1) and len(ranged.months) == 6
    assert ranged.total == 1
    with pytest.raises(FilterError) as exc:
        _coverage(app, db, **{"from": "2000-01-01", "to": "2030-01-01"})
    assert exc.value.param == "to"


def test_dashboard_page_for_organizers_only(client, auth, create_event):
    create_event(title="Panel u Čačku", expected_audience=30)
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    auth.login()
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Themes by month" in page
    assert "Events per city" in page
    assert "Expected and actual attendance per theme" in page
    assert 'href="/dashboard"' in page  # the organizers' navigation


def test_dashboard_bad_filter_names_the_parameter(client, auth):
    auth.login()
    response = client.get("/dashboard?theme=nope")
    assert response.status_code == 400
    assert "theme: unknown theme" in response.get_data(as_text=True)
    response = client.get("/dashboard?from=2021-01-01&to=2020-01-01")
    assert response.status_code == 400
    assert "from:" in response.get_data(as_text=True)


def test_dashboard_runs_a_fixed_number_of_queries(
    client, auth, create_event, create_venue, create_partner, count_queries
):
    auth.login()
    venue, partner = create_venue(), create_partner()
    create_event(venue=venue, partners=[(partner, "host")])
    client.get("/dashboard")
    with count_queries() as few:
        assert client.get("/dashboard").status_code == 200
    for i in range(15):
        create_event(
            venue=create_venue(city=f"Grad {i}"),
            partners=[(create_partner(), "host")],
            themes=["kfor", "eadrcc"],
            starts_at=datetime(2020, 1 + i % 12, 5, 10, tzinfo=UTC),
        )
    with count_queries() as many:
        assert client.get("/dashboard").status_code == 200
    assert many.count == few.count
