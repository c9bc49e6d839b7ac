"""The series builders report every mistake at once (issue 16): the shared fields' rules
(themes, online link) in the same round as the form's and the rows' own checks."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from campaign.models import Event, Series
from tests.conftest import summary_links
from tests.series.test_series import _shared, _tour


def counts(db):
    db.rollback()
    return (
        db.scalar(select(func.count()).select_from(Series)),
        db.scalar(select(func.count()).select_from(Event)),
    )


@pytest.mark.parametrize("action", ["preview", "create"])
def test_tour_reports_every_mistake_at_once(client, auth, db, action):
    auth.login()
    data = _tour(
        db,
        [("2021-13-01", "18:00", "20:00")],
        action=action,
        title="",
        themes=None,
        online_url="ftp://example.org",
    )
    response = client.post("/series/new/tour", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    links = summary_links(page)
    assert "Give the event a title." in links["title"]
    assert "Choose at least one theme." in links["themes-0"]
    assert "must be a web address" in links["online_url"]
    assert "rows-0-day" in links
    fields = html.unescape(" ".join(re.findall(r'<p class="field-error"[^>]*>.*?</p>', page)))
    for message in ("Give the event a title.", "Choose at least one theme."):
        assert message in fields
    assert counts(db) == (0, 0)


def test_recurrence_reports_shared_and_rule_mistakes_at_once(client, auth, db):
    auth.login()
    data = _shared(db, title="", themes=None, action="preview")
    data.update(
        {"first_day": "", "start_time": "18:00", "end_time": "20:00", "frequency": "weekly"}
    )
    response = client.post("/series/new/recurrence", data=data)
    assert response.status_code == 400
    links = summary_links(response.get_data(as_text=True))
    assert "Give the event a title." in links["title"]
    assert "Choose at least one theme." in links["themes-0"]
    assert len(links) >= 3  # and the rule's own message(s)
    assert counts(db) == (0, 0)
