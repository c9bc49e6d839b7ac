"""Forms report every mistake at once (issue 16): the form's own checks and the operations'
rules run in the same round, each message sits next to its field and a summary at the top
links to every field; nothing is saved. The other areas' forms: tests/<area>/."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from campaign.models import Event
from tests.conftest import event_form_data, form_version, summary_links

MISTAKES = {
    "title": "",  # the form's own check
    "starts_at": "2020-03-10T20:00",
    "ends_at": "2020-03-10T18:00",  # an operations rule: the end after the start
    "themes": None,  # an operations rule: at least one theme
    "online_url": "ftp://example.org/stream",  # an operations rule
    "attendance": "-5",  # the form's own check
}
MESSAGES = {
    "title": "Give the event a title.",
    "ends_at": "The end must be after the start.",
    "themes-0": "Choose at least one theme.",
    "online_url": "The online link must be a web address starting with https://",
    "attendance": "Give a number, zero or more.",
}


def assert_every_mistake_reported(page: str) -> None:
    links = summary_links(page)
    assert set(links) == set(MESSAGES)
    for target, message in MESSAGES.items():
        assert message in links[target]
        assert f'id="{target}"' in page  # the link leads somewhere
    fields = re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', page)
    for message in MESSAGES.values():
        assert any(message in html.unescape(f) for f in fields), message
    assert "5 mistakes:" in page


def count(db) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(Event))


def test_new_event_reports_every_mistake_in_one_round(client, auth, db):
    auth.login()
    response = client.post("/events/new", event_form_data(db, **MISTAKES))
    assert response.status_code == 400
    assert_every_mistake_reported(response.get_data(as_text=True))
    assert count(db) == 0


def test_edit_reports_every_mistake_in_one_round_and_keeps_the_event(
    client, auth, db, create_event
):
    event = create_event()
    auth.login()
    version = form_version(client.get(f"/events/{event.id}/edit").get_data(as_text=True))
    response = client.post(
        f"/events/{event.id}/edit", event_form_data(db, version=version, **MISTAKES)
    )
    assert response.status_code == 400
    assert_every_mistake_reported(response.get_data(as_text=True))
    db.rollback()
    same = db.get(Event, event.id)
    assert (same.title, same.version, same.ends_at) == (event.title, 1, event.ends_at)


def test_a_time_zone_mistake_is_not_reported_as_missing_times(client, auth, db):
    auth.login()
    response = client.post("/events/new", event_form_data(db, timezone="Europe/Novi_Sad"))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Give the start date and time." not in page
    assert set(summary_links(response.get_data(as_text=True))) == {"timezone"}
    assert count(db) == 0
