"""Who may do what, on every route; drafts never leak; headers, cookies, throttling, logs."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

import pytest
from sqlalchemy import select

from campaign import create_app
from campaign.db import get_session
from campaign.models import Theme, User
from tests.conftest import PASSWORD, Client

ROLES = ("anonymous", "organizer", "admin", "deactivated")
LOGIN = "login"  # 302 to the login page

# Expected status per role, in the order of ROLES, for GET and POST on every route of
# app.url_map. POSTs carry a valid CSRF token and no other data, so a form that accepts
# the request answers 400 (nothing valid was sent). Edit forms keep the stored values of
# fields a POST leaves out (WTForms), so an empty edit saves (302) without a change.
# LOGIN is a redirect to the login page (a deactivated session counts as logged out).
# A new route must get its rows here: test_every_route_has_an_expectation fails until then.
ACCESS: dict[tuple[str, str], tuple[int | str, ...]] = {
    ("GET", "/static/<path:filename>"): (200, 200, 200, 200),
    ("GET", "/login"): (200, 302, 302, 200),
    ("POST", "/login"): (401, 302, 302, 401),
    ("POST", "/logout"): (LOGIN, 302, 302, LOGIN),
    ("GET", "/account"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/account"): (LOGIN, 302, 302, LOGIN),
    ("GET", "/account/password"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/account/password"): (LOGIN, 400, 400, LOGIN),
    ("GET", "/users"): (LOGIN, 403, 200, LOGIN),
    ("POST", "/users"): (LOGIN, 403, 400, LOGIN),
    ("GET", "/users/<id:user_id>"): (LOGIN, 403, 200, LOGIN),
    ("POST", "/users/<id:user_id>"): (LOGIN, 403, 302, LOGIN),
    ("POST", "/users/<id:user_id>/link"): (LOGIN, 403, 302, LOGIN),
    # Invitation and password-reset links: without a known token, a 404 page for everyone.
    ("GET", "/invitation"): (404, 404, 404, 404),
    ("POST", "/invitation"): (404, 404, 404, 404),
    ("GET", "/password-reset"): (404, 404, 404, 404),
    ("POST", "/password-reset"): (404, 404, 404, 404),
    ("GET", "/"): (200, 200, 200, 200),
    ("GET", "/events"): (200, 200, 200, 200),
    ("GET", "/events/calendar"): (200, 200, 200, 200),
    ("GET", "/events/<id:event_id>"): (200, 200, 200, 200),
    ("GET", "/events/new"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/events/new"): (LOGIN, 400, 400, LOGIN),
    ("GET", "/events/<id:event_id>/edit"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/events/<id:event_id>/edit"): (LOGIN, 400, 400, LOGIN),
    ("POST", "/events/<id:event_id>/cancel"): (LOGIN, 400, 400, LOGIN),
    ("POST", "/events/<id:event_id>/delete"): (LOGIN, 400, 400, LOGIN),
    ("POST", "/events/<id:event_id>/attendance"): (LOGIN, 400, 400, LOGIN),
    ("GET", "/themes"): (200, 200, 200, 200),
    ("GET", "/themes/<slug>"): (200, 200, 200, 200),
    ("GET", "/themes/new"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/themes/new"): (LOGIN, 400, 400, LOGIN),
    ("GET", "/themes/<slug>/edit"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/themes/<slug>/edit"): (LOGIN, 302, 302, LOGIN),
    # The theme, partner and venue in use cannot be deleted: back to their page.
    ("POST", "/themes/<slug>/delete"): (LOGIN, 302, 302, LOGIN),
    ("GET", "/partners"): (200, 200, 200, 200),
    ("GET", "/partners/<slug>"): (200, 200, 200, 200),
    ("GET", "/partners/new"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/partners/new"): (LOGIN, 400, 400, LOGIN),
    ("GET", "/partners/<slug>/edit"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/partners/<slug>/edit"): (LOGIN, 302, 302, LOGIN),
    ("POST", "/partners/<slug>/delete"): (LOGIN, 302, 302, LOGIN),
    ("GET", "/venues"): (LOGIN, 200, 200, LOGIN),
    ("GET", "/venues/new"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/venues/new"): (LOGIN, 400, 400, LOGIN),
    ("GET", "/venues/<id:venue_id>/edit"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/venues/<id:venue_id>/edit"): (LOGIN, 302, 302, LOGIN),
    ("POST", "/venues/<id:venue_id>/delete"): (LOGIN, 302, 302, LOGIN),
    ("GET", "/dashboard"): (LOGIN, 200, 200, LOGIN),
    ("GET", "/clashes"): (LOGIN, 200, 200, LOGIN),
    ("GET", "/calendar.ics"): (200, 200, 200, 200),
    ("GET", "/themes/<slug>/calendar.ics"): (200, 200, 200, 200),
    ("GET", "/partners/<slug>/calendar.ics"): (200, 200, 200, 200),
    ("GET", "/events/<id:event_id>.ics"): (200, 200, 200, 200),
    ("GET", "/events.<any(csv, xlsx, json):fmt>"): (200, 200, 200, 200),
    # The language switcher: sets its cookie and goes back (to / without ?next=).
    ("GET", "/language/<tag>"): (303, 303, 303, 303),
    # The read API, Atom feeds and the embeddable agenda: public, the same for every
    # cookie (drafts need a Bearer token, tests/api).
    ("GET", "/api/v1/events"): (200, 200, 200, 200),
    ("GET", "/api/v1/events/<id:event_id>"): (200, 200, 200, 200),
    ("GET", "/api/v1/themes"): (200, 200, 200, 200),
    ("GET", "/api/v1/partners"): (200, 200, 200, 200),
    ("GET", "/api/v1/venues"): (200, 200, 200, 200),
    ("GET", "/api/openapi.json"): (200, 200, 200, 200),
    ("GET", "/events.atom"): (200, 200, 200, 200),
    ("GET", "/themes/<slug>/events.atom"): (200, 200, 200, 200),
    ("GET", "/partners/<slug>/events.atom"): (200, 200, 200, 200),
    ("GET", "/embed/events"): (200, 200, 200, 200),
    # The API's docs are public. Its writes take a Bearer token with the write scope, never
    # the session cookie: 401 for every cookie (PATCH and DELETE: tests/api/test_writes.py).
    ("GET", "/api/docs"): (200, 200, 200, 200),
    ("POST", "/api/v1/events"): (401, 401, 401, 401),
    ("POST", "/api/v1/events/<id:event_id>/cancel"): (401, 401, 401, 401),
    # Personal API tokens: one's own on /account (the world's token is another user's, so
    # 404 there); admins revoke anyone's from the user's page.
    ("POST", "/account/tokens"): (LOGIN, 400, 400, LOGIN),
    ("POST", "/account/tokens/<id:token_id>/revoke"): (LOGIN, 404, 404, LOGIN),
    ("POST", "/users/<id:user_id>/tokens/<id:token_id>/revoke"): (LOGIN, 403, 302, LOGIN),
    # Media items: the published list and pages are public; writing is for organizers.
    ("GET", "/media"): (200, 200, 200, 200),
    ("GET", "/media/<id:item_id>"): (200, 200, 200, 200),
    ("GET", "/media.<any(csv, xlsx, json):fmt>"): (200, 200, 200, 200),
    ("GET", "/media/new"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/media/new"): (LOGIN, 400, 400, LOGIN),
    ("GET", "/media/<id:item_id>/edit"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/media/<id:item_id>/edit"): (LOGIN, 400, 400, LOGIN),
    ("POST", "/media/<id:item_id>/delete"): (LOGIN, 400, 400, LOGIN),
    ("POST", "/media/<id:item_id>/withdraw"): (LOGIN, 400, 400, LOGIN),
    # The press-clipping upload: a POST without a file is the form's 400.
    ("GET", "/media/import"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/media/import"): (LOGIN, 400, 400, LOGIN),
    ("GET", "/reports/reach"): (LOGIN, 200, 200, LOGIN),
    ("GET", "/reports/reach.xlsx"): (LOGIN, 200, 200, LOGIN),
    ("GET", "/reports/reach.pdf"): (LOGIN, 200, 200, LOGIN),
    # Series: the page and its feed are public; building and editing are for organizers.
    ("GET", "/series/new/tour"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/series/new/tour"): (LOGIN, 400, 400, LOGIN),
    ("GET", "/series/new/recurrence"): (LOGIN, 200, 200, LOGIN),
    ("POST", "/series/new/recurrence"): (LOGIN, 400, 400, LOGIN),
    ("GET", "/series/<id:series_id>"): (200, 200, 200, 200),
    ("GET", "/series/<id:series_id>/calendar.ics"): (200, 200, 200, 200),
    ("GET", "/series/<id:series_id>.<any(csv, xlsx, json):fmt>"): (200, 200, 200, 200),
    ("POST", "/events/<id:event_id>/detach"): (LOGIN, 400, 400, LOGIN),
    # The world's event is a single event, not one of the series' dates.
    ("GET", "/series/<id:series_id>/events/<id:event_id>/edit"): (LOGIN, 404, 404, LOGIN),
    ("POST", "/series/<id:series_id>/events/<id:event_id>/edit"): (LOGIN, 404, 404, LOGIN),
}

# Public URLs an anonymous visitor can reach; none may show a draft. One line per URL;
# {draft}, {theme} and {partner} are filled in. Feeds and exports join here after merge.
PUBLIC_URLS = [
    "/",
    "/events",
    "/events?q={word}",
    "/events?status=draft",
    "/events?status=draft&status=confirmed",
    "/events?theme={theme}&partner={partner}",
    "/events?from=2020-01-01&to=2020-12-31",
    "/events/calendar?month=2020-03",
    "/events/{draft}",
    "/events/{draft}/edit",
    "/themes",
    "/themes/{theme}",
    "/themes/{theme}?q={word}",
    "/partners",
    "/partners/{partner}",
    "/partners/{partner}?q={word}",
    "/calendar.ics",
    "/calendar.ics?q={word}",
    "/calendar.ics?status=draft",
    "/calendar.ics?token=",
    "/calendar.ics?token=not-a-token",
    "/themes/{theme}/calendar.ics",
    "/partners/{partner}/calendar.ics",
    "/events/{draft}.ics",
    "/events.csv",
    "/events.csv?q={word}",
    "/events.json",
    "/events.json?status=draft",
    "/events.xlsx",
    "/api/v1/events",
    "/api/v1/events?status=draft",
    "/api/v1/events/{draft}",
    "/events.atom",
    "/themes/{theme}/events.atom",
    "/embed/events",
    "/embed/events?from=2020-01-01",
]


@pytest.fixture
def world(
    app,
    create_event,
    create_partner,
    create_venue,
    create_user,
    create_media,
    make_api_token,
    organizer,
    admin,
):
    partner = create_partner(slug="fond-za-otvoreno-drustvo", name="Fond za otvoreno društvo")
    venue = create_venue()
    event = create_event(title="Public panel", venue=venue, partners=[partner])
    other = create_user(email="other@example.org")
    gone = create_user(email="gone@example.org")
    return {
        "event_id": event.id,
        "user_id": other.id,
        "venue_id": venue.id,
        "theme": "eadrcc",
        "partner": partner.slug,
        "filename": "style.css",
        "fmt": "csv",
        "tag": "sr-Latn",
        "gone": gone,
        "item_id": create_media(),
        "series_id": _make_series(app),
        "token_id": _token_of(app, make_api_token, other),
    }


def _token_of(app, make_api_token, user) -> int:
    from campaign.auth.models import ApiToken

    make_api_token(user, "write")
    with app.app_context():
        return get_session().scalar(select(ApiToken.id).where(ApiToken.user_id == user.id))


def _make_series(app) -> int:
    from datetime import date, time

    from campaign.series import operations as series_ops
    from campaign.series.models import SeriesKind

    with app.app_context():
        session = get_session()
        theme = session.scalar(select(Theme).where(Theme.slug == "eadrcc"))
        shared = series_ops.SharedData(
            title="Turneja: EADRCC", format="seminar", status="confirmed", themes=[theme]
        )
        stops = [series_ops.Stop(date(2030, 5, d), time(18), time(20), None) for d in (6, 13)]
        return series_ops.create_series(session, None, shared, stops, SeriesKind.tour).id


def _url(rule, world) -> str:
    def value(match):
        name = match.group(1).split(":")[-1]
        if name == "slug":
            return world["partner"] if rule.rule.startswith("/partners") else world["theme"]
        assert name in world, f"{rule.rule}: no test value for <{name}>; add one to `world`"
        return str(world[name])

    return re.sub(r"<([^>]+)>", value, rule.rule)


def _clients(app, world, db) -> dict[str, Client]:
    clients = {role: Client(app) for role in ROLES}
    for role, email in [
        ("organizer", "organizer@example.org"),
        ("admin", "admin@example.org"),
        ("deactivated", "gone@example.org"),
    ]:
        assert clients[role].login(email).status_code == 302
    # Deactivated after logging in: the session cookie must stop working at once.
    db.get(User, world["gone"].id).active = False
    db.commit()
    return clients


def test_every_route_has_an_expectation(app):
    missing = [
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in ("GET", "POST")
        if method in rule.methods and (method, rule.rule) not in ACCESS
    ]
    assert not missing, (
        "These routes have no expected statuses in tests/test_security.py ACCESS; add a row "
        "(anonymous, organizer, admin, deactivated) for each: " + ", ".join(missing)
    )
    stale = [f"{m} {r}" for (m, r) in ACCESS if r not in {x.rule for x in app.url_map.iter_rules()}]
    assert not stale, "ACCESS lists routes that no longer exist: " + ", ".join(stale)


def test_authorisation_matrix(app, world, db):
    clients = _clients(app, world, db)
    wrong = []
    # Logging out ends the session the other rows need: last.
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.logout")
    for rule in rules:
        url = _url(rule, world)
        for method in ("GET", "POST"):
            expected = ACCESS.get((method, rule.rule))
            if method not in rule.methods:
                if (method, rule.rule) in ACCESS:
                    continue  # another rule of the same address answers it (its own row)
                expected = (405,) * len(ROLES)
            if expected is None:
                continue  # reported by test_every_route_has_an_expectation
            for role, want in zip(ROLES, expected, strict=True):
                client = clients[role]
                if method == "GET":
                    response = client.get(url)
                else:
                    response = client.post(url, {"csrf_token": client.csrf_token()})
                response.get_data()  # read streamed bodies (exports) to the end, as clients do
                got = response.status_code
                if want == LOGIN:
                    location = response.headers.get("Location", "")
                    got = LOGIN if response.status_code == 302 and "/login" in location else got
                if got != want:
                    wrong.append(f"{method} {url} as {role}: {got}, expected {want}")
    assert not wrong, "\n".join(wrong)


def test_post_without_csrf_token_is_refused_everywhere(app, world, db):
    clients = _clients(app, world, db)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.logout"):
        if "POST" not in rule.methods:
            continue
        url = _url(rule, world)
        for role in ("organizer", "admin"):
            response = clients[role].http.post(url, data={"title": "x"})
            if rule.rule.startswith("/api/"):
                # Bearer-token writes: the cookie opens nothing there, so no CSRF to fear.
                assert response.status_code == 401, f"POST {url} as {role} with a cookie"
                continue
            assert response.status_code == 400, f"POST {url} as {role} without CSRF token"
            assert "CSRF" in response.get_data(as_text=True)


def _text_of(response) -> str:
    """What a person could read in the response; a workbook is read back cell by cell."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        import io

        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
        return "\n".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    return response.get_data().decode("utf-8", "replace")


def test_drafts_never_leak(world, create_event, make_client):
    draft = create_event(title="Nacrt zxqvdraft tajni-naslov", status="draft", description="tajna")
    values = {**world, "draft": draft.id, "word": "zxqvdraft"}
    anonymous = make_client()
    for pattern in PUBLIC_URLS:
        url = pattern.format(**values)
        response = anonymous.get(url)
        body = _text_of(response)
        assert response.status_code < 500, url
        assert "tajni-naslov" not in body, f"the draft leaks through {url}"
        assert draft.uid not in body, f"the draft's UID leaks through {url}"
    assert anonymous.get(f"/events/{draft.id}").status_code == 404


MEDIA_URLS = [
    "/media",
    "/media?q=zxqvplanned",
    "/media?theme={theme}",
    "/media/{planned}",
    "/media/{planned}/edit",
    "/media/import",
    "/media.csv",
    "/media.json",
    "/media.xlsx",
    "/reports/reach",
]


def test_planned_media_never_leak(world, create_media, make_client):
    """A planned appearance (and any item's notes) stays with organizers: on every public
    page, feed, export and API answer, and on the media pages themselves."""
    planned = create_media(
        headline="Gostovanje zxqvplanned tajno", status="planned", notes="beleška zxqvnote"
    )
    values = {**world, "draft": world["event_id"], "word": "zxqvplanned", "planned": planned}
    anonymous = make_client()
    for pattern in [*PUBLIC_URLS, *MEDIA_URLS]:
        url = pattern.format(**values)
        response = anonymous.get(url)
        body = _text_of(response)
        assert response.status_code < 500, url
        assert "zxqvplanned tajno" not in body, f"the planned item leaks through {url}"
        assert "zxqvnote" not in body, f"notes leak through {url}"
        assert f"UID:media-{planned}-" not in body, url
    assert anonymous.get(f"/media/{planned}").status_code == 404


def test_organizers_see_the_draft(client, auth, create_event):
    # The pages above do show drafts to organizers, so the leak test means something.
    draft = create_event(title="Nacrt zxqvdraft seminar", status="draft")
    auth.login()
    assert "zxqvdraft" in client.get("/events?q=zxqvdraft").get_data(as_text=True)
    assert client.get(f"/events/{draft.id}").status_code == 200


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def test_security_headers_on_every_kind_of_response(client, auth, create_event):
    event = create_event()
    responses = {
        "page": client.get("/"),
        "event": client.get(f"/events/{event.id}"),
        "static": client.get("/static/style.css"),
        "not found": client.get("/nowhere"),
        "bad filter": client.get("/events?from=yesterday"),
        "redirect": client.get("/dashboard"),
        "method": client.get("/logout"),
        "login failed": client.post("/login", {"email": "x@example.org", "password": "y"}),
    }
    auth.login()
    responses["organizer page"] = client.get("/dashboard")
    for name, response in responses.items():
        for header, value in SECURITY_HEADERS.items():
            assert response.headers.get(header) == value, f"{header} on {name}"
        assert "<script>" not in response.get_data(as_text=True)


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "no session cookie was set"
    return cookies[-1]


def test_session_cookie_flags(client, organizer):
    cookie = _session_cookie(client.login(organizer.email))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development runs on plain http://127.0.0.1


def test_session_cookie_is_secure_in_production(database_url, create_user, app):
    create_user()
    production = create_app(
        {
            "PRODUCTION": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "a-long-random-production-secret",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    try:
        browser = Client(production)
        cookie = _session_cookie(browser.login("organizer@example.org"))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        production.extensions["campaign.engine"].dispose()


def test_passwords_are_hashed_with_a_modern_algorithm(app, db):
    from campaign import config

    assert config.PASSWORD_HASH_METHOD == "scrypt"
    with app.app_context():
        from campaign.auth import operations as user_ops
        from campaign.db import get_session

        app.config["PASSWORD_HASH_METHOD"] = "scrypt"
        user_ops.create_user(get_session(), None, "new@example.org", PASSWORD, "organizer")
    user = db.scalar(select(User).where(User.email == "new@example.org"))
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


def test_failed_logins_are_throttled_per_account(client, make_client, organizer, create_user):
    create_user(email="colleague@example.org")
    for _ in range(5):
        assert client.login(organizer.email, "wrong password").status_code == 401
    # Even the right password waits now: the account is under attack.
    refused = client.login(organizer.email)
    assert refused.status_code == 429
    assert "Too many failed log-in attempts" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    # Another account from the same address is not affected.
    assert make_client().login("colleague@example.org").status_code == 302


def test_failed_logins_are_throttled_per_address(app, organizer):
    attacker = Client(app)
    attacker.http.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    for n in range(20):
        assert attacker.login(f"guess{n}@example.org", "password?").status_code == 401
    assert attacker.login("guess-again@example.org", "password?").status_code == 429
    assert attacker.login(organizer.email).status_code == 429
    elsewhere = Client(app)
    elsewhere.http.environ_base["REMOTE_ADDR"] = "198.51.100.2"
    assert elsewhere.login(organizer.email).status_code == 302


def test_successful_logins_are_not_counted(make_client, organizer):
    for _ in range(8):
        browser = make_client()
        assert browser.login(organizer.email).status_code == 302


def test_request_bodies_over_the_limit_get_413(client, auth):
    huge = "x" * (5 * 1024 * 1024)
    response = client.post("/login", {"email": "a@example.org", "password": huge})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    auth.login()
    response = client.post("/events/new", {"title": "Big", "description": huge})
    assert response.status_code == 413
    assert "at most 4 MB" in response.get_data(as_text=True)


def test_no_passwords_or_tokens_in_logs(client, make_client, admin, caplog, db):
    caplog.set_level(logging.INFO, logger="campaign")
    caplog.set_level(logging.INFO, logger="werkzeug")
    secrets = [PASSWORD, "wrong-Pa55word!", "Novo-Geslo-2020", admin.feed_token]
    client.login(admin.email, "wrong-Pa55word!")
    client.login(admin.email)
    client.post(
        "/users",
        {"email": "new@example.org", "name": "Nova", "role": "organizer", "password": secrets[2]},
    )
    new = db.scalar(select(User).where(User.email == "new@example.org"))
    secrets.append(new.feed_token)
    client.get(f"/events?token={admin.feed_token}&q=flood")
    client.get(f"/calendar.ics?token={new.feed_token}")
    # An API token put in the address by mistake, under a name of the client's choosing.
    api_token = "cpt_" + "k" * 43
    secrets.append(api_token)
    client.get(f"/api/v1/events?access_token={api_token}")
    client.post("/account")  # regenerates the token
    db.expire_all()
    secrets.append(db.get(User, admin.id).feed_token)
    text = caplog.text
    for secret in secrets:
        assert secret not in text, "a secret reached the log"
    assert "path=/events?token=redacted&q=flood status=200" in text
    assert "path=/calendar.ics?token=redacted status=200" in text
    assert "method=POST path=/users status=302 duration_ms=" in text
    assert "user.created actor=admin@example.org user=new@example.org" in text


def test_one_structured_line_per_request_and_per_write(client, auth, caplog, db):
    caplog.set_level(logging.INFO, logger="campaign")
    theme = db.scalar(select(Theme).where(Theme.slug == "eadrcc"))
    auth.login()
    client.csrf_token()  # fetched from a page, which would log its own line
    caplog.clear()
    response = client.post(
        "/events/new",
        {
            "title": "Okrugli sto: sajber bezbednost",
            "format": "round_table",
            "status": "draft",
            "starts_at": "2020-05-05T18:00",
            "ends_at": "2020-05-05T20:00",
            "timezone": "Europe/Belgrade",
            "venue": "",
            "themes": str(theme.id),
        },
    )
    requests = [r for r in caplog.records if r.name == "campaign.requests"]
    writes = [r for r in caplog.records if r.name == "campaign.operations"]
    assert len(requests) == 1
    line = requests[0].getMessage()
    assert re.fullmatch(
        rf"method=POST path=/events/new status={response.status_code} duration_ms=\d+\.\d "
        rf"user={auth.user.id}",
        line,
    ), line
    assert response.status_code == 302
    assert len(writes) == 1
    message = writes[0].getMessage()
    assert message.startswith(f"event.created actor={auth.user.email} actor_id={auth.user.id}")
    assert "title='Okrugli sto: sajber bezbednost'" in message


# --- The secret key of a development install -------------------------------------------


def _dev_app(monkeypatch, instance, database_url):
    monkeypatch.setenv("CAMPAIGN_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("CAMPAIGN_SECRET_KEY", raising=False)
    app = create_app({"DATABASE_URL": database_url})
    app.extensions["campaign.engine"].dispose()
    return app


def test_a_development_install_makes_its_own_secret_key_once(tmp_path, monkeypatch, database_url):
    from campaign.config import DEV_SECRET_KEY

    instance = tmp_path / "instance"
    first = _dev_app(monkeypatch, instance, database_url)
    second = _dev_app(monkeypatch, instance, database_url)
    key = first.config["SECRET_KEY"]
    assert key != DEV_SECRET_KEY and len(key) >= 64
    assert second.config["SECRET_KEY"] == key
    assert f'SECRET_KEY = "{key}"' in (instance / "config.py").read_text()
    # Another install gets another key.
    assert _dev_app(monkeypatch, tmp_path / "other", database_url).config["SECRET_KEY"] != key


def test_a_config_py_without_a_key_gets_one_and_keeps_its_settings(
    tmp_path, monkeypatch, database_url
):
    from campaign.config import DEV_SECRET_KEY

    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('CAMPAIGN_NAME = "Mine"')  # no final newline
    app = _dev_app(monkeypatch, instance, database_url)
    assert app.config["CAMPAIGN_NAME"] == "Mine"
    assert app.config["SECRET_KEY"] != DEV_SECRET_KEY
    again = _dev_app(monkeypatch, instance, database_url)
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    assert (instance / "config.py").read_text().count("SECRET_KEY") == 1


def test_the_public_default_key_signs_no_session(tmp_path, monkeypatch, database_url, admin):
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    from campaign.config import DEV_SECRET_KEY

    app = _dev_app(monkeypatch, tmp_path / "instance", database_url)
    signer = Flask("forger")
    signer.secret_key = DEV_SECRET_KEY
    serializer = SecureCookieSessionInterface().get_signing_serializer(signer)
    for user_id in (str(admin.id), f"{admin.id}:0"):
        client = app.test_client()
        client.set_cookie("session", serializer.dumps({"_user_id": user_id, "_fresh": True}))
        response = client.get("/users")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    app.extensions["campaign.engine"].dispose()


# --- Caching ----------------------------------------------------------------------------


def test_pages_for_a_logged_in_user_are_not_stored(client, auth, create_event):
    event = create_event(title="Nacrt", status="draft")
    public = create_event(title="Javni panel")
    auth.login()
    for url in [
        "/account",
        "/account/password",
        "/dashboard",
        "/",
        "/events",
        f"/events/{event.id}",
        f"/events/{public.id}",
        f"/events/{event.id}/edit",
        "/themes/eadrcc",
        "/venues",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers.get("Cache-Control") == "private, no-store", url


def test_public_feeds_do_not_vary_on_the_cookie(client, auth, create_event, make_client):
    event = create_event(title="Javni panel")
    urls = [
        "/calendar.ics",
        "/themes/eadrcc/calendar.ics",
        "/calendar.ics?theme=eadrcc",
        f"/events/{event.id}.ics",
    ]
    anonymous = make_client()
    auth.login()
    private = f"/calendar.ics?token={auth.user.feed_token}"
    for who, url in [(a, u) for a in (anonymous, client) for u in urls] + [(anonymous, private)]:
        response = who.get(url)
        assert response.status_code == 200, url
        assert "cookie" not in response.headers.get("Vary", "").lower(), url
        assert "Set-Cookie" not in response.headers, url
        expected = "private" if "token=" in url else "public"
        assert response.headers["Cache-Control"].startswith(expected), url


# --- Absolute addresses -----------------------------------------------------------------


def test_host_header_never_reaches_the_page(client, create_event):
    event = create_event(title="Javni panel")
    response = client.get(f"/events/{event.id}", headers={"Host": "evil.example"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "evil.example" not in page
    # The add-to-calendar links name the page on SITE_URL.
    assert f"http%3A%2F%2Fcampaign.test%2Fevents%2F{event.id}" in page


def _behind_proxy(database_url, **settings):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "LOGIN_LIMIT_PER_ADDRESS": "2 per minute",
            **settings,
        }
    )


@pytest.mark.parametrize("hops", [0, 1])
def test_forwarded_for_decides_the_throttled_address_only_behind_a_configured_proxy(
    database_url, hops
):
    app = _behind_proxy(database_url, PROXY_FIX_X_FOR=hops)
    try:

        def through_proxy(client_address):
            browser = Client(app)
            browser.http.environ_base["REMOTE_ADDR"] = "127.0.0.1"  # the proxy
            browser.http.environ_base["HTTP_X_FORWARDED_FOR"] = client_address
            return browser

        attacker = through_proxy("203.0.113.7")
        for n in range(2):
            assert attacker.login(f"guess{n}@example.org", "password?").status_code == 401
        assert attacker.login("guess@example.org", "password?").status_code == 429
        other = through_proxy("198.51.100.2").login("someone@example.org", "password?")
        # Without ProxyFix the header is the client's word: everyone is the proxy's address.
        assert other.status_code == (401 if hops else 429)
    finally:
        app.extensions["campaign.engine"].dispose()


def test_forwarded_proto_and_host_are_believed_only_behind_a_configured_proxy(
    database_url, create_event
):
    """ProxyFix makes the request what the client sent to the proxy; the pages' absolute
    links still come from SITE_URL alone (never from a header)."""
    from flask import request

    event = create_event()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "campaign.example.org"}
    for settings, root in [
        ({}, "http://localhost/"),
        ({"PROXY_FIX_X_PROTO": 1, "PROXY_FIX_X_HOST": 1}, "https://campaign.example.org/"),
    ]:  # fmt: skip
        app = _behind_proxy(database_url, **settings)
        app.add_url_rule("/_probe", "probe", lambda: request.host_url)
        try:
            client = app.test_client()
            assert client.get("/_probe", headers=headers).get_data(as_text=True) == root
            page = client.get(f"/events/{event.id}", headers=headers).get_data(as_text=True)
            site = quote(app.config["SITE_URL"].rstrip("/") + f"/events/{event.id}", safe="")
            assert site in page and "campaign.example.org" not in page
        finally:
            app.extensions["campaign.engine"].dispose()


@pytest.mark.parametrize("value", [-1, "two", True, 1.5])
def test_proxy_fix_setting_must_be_a_number_of_proxies(database_url, value):
    with pytest.raises(RuntimeError, match="CAMPAIGN_PROXY_FIX_X_FOR must be a number of proxies"):
        _behind_proxy(database_url, PROXY_FIX_X_FOR=value)
