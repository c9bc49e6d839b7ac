"""The media form reports every mistake at once (issue 16)."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from campaign.models import MediaItem
from tests.conftest import summary_links
from tests.media.test_media import form_data


def test_media_form_reports_every_mistake_at_once(client, auth, db, outlet):
    auth.login()
    data = form_data(
        db,
        outlet,
        headline="",  # the form's own check
        themes=None,  # an operations rule
        link="ftp://example.org/intervju",  # an operations rule
        events="99999",  # no such event
        estimated_reach="-1",  # the form's own check
    )
    response = client.post("/media/new", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    links = summary_links(page)
    assert set(links) == {"headline", "link", "themes-0", "events", "estimated_reach"}
    assert "Give the headline." in links["headline"]
    assert "Choose at least one theme." in links["themes-0"]
    assert "must be a web address" in links["link"]
    assert "There is no event number 99999." in links["events"]
    fields = html.unescape(" ".join(re.findall(r'<p class="field-error"[^>]*>.*?</p>', page)))
    assert "Choose at least one theme." in fields and "There is no event number" in fields
    db.rollback()
    assert db.scalar(select(func.count()).select_from(MediaItem)) == 0
