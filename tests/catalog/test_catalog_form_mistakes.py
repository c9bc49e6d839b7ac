"""Catalog forms (themes, partners, venues) report every mistake at once (issue 16): the
operations' rules run in the same round as the form's own checks."""

from __future__ import annotations

from sqlalchemy import func, select

from campaign.models import Partner, Theme, Venue
from tests.conftest import summary_links


def count(db, model) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(model))


def test_partner_form_reports_every_mistake_at_once(client, auth, db):
    auth.login()
    data = {
        "slug": "Not A Slug",  # an operations rule
        "name": "",  # the form's own check
        "kind": "ngo",
        "website": "ftp://example.org",  # an operations rule
        "contact_email": "nobody",  # an operations rule
    }
    response = client.post("/partners/new", data)
    assert response.status_code == 400
    links = summary_links(response.get_data(as_text=True))
    assert set(links) == {"slug", "name", "website", "contact_email"}
    assert "lowercase letters" in links["slug"]
    assert "is not an e-mail address" in links["contact_email"]
    assert count(db, Partner) == 0


def test_theme_form_reports_every_mistake_at_once(client, auth, db):
    auth.login()
    before = count(db, Theme)
    response = client.post("/themes/new", {"slug": "Bad Slug", "name": "", "colour": "blue"})
    assert response.status_code == 400
    links = summary_links(response.get_data(as_text=True))
    assert set(links) == {"slug", "name", "colour"}
    assert "#rrggbb" in links["colour"]
    assert count(db, Theme) == before


def test_venue_form_reports_every_mistake_at_once(client, auth, db):
    auth.login()
    response = client.post(
        "/venues/new", {"name": "", "city": "Beograd", "latitude": "44.8", "capacity": "-3"}
    )
    assert response.status_code == 400
    links = summary_links(response.get_data(as_text=True))
    assert set(links) == {"name", "longitude", "capacity"}
    assert count(db, Venue) == 0
