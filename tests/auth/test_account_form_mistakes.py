"""Account forms report every mistake at once (issue 16): the e-mail and name rules of the
operations layer are the form's own checks too, so they show with the password's."""

from __future__ import annotations

import html

from sqlalchemy import func, select

from campaign.models import User


def test_new_account_reports_every_mistake_at_once(client, admin, db):
    client.login(admin.email)
    db.rollback()
    before = db.scalar(select(func.count()).select_from(User))
    response = client.post(
        "/users",
        {"email": "not-an-email", "name": "Ana\x07", "password": "short", "role": "organizer"},
    )
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "'not-an-email' is not an e-mail address" in page
    assert "The password must have at least 10 characters." in page
    assert "Remove the invisible control character U+0007" in page
    db.rollback()
    assert db.scalar(select(func.count()).select_from(User)) == before
