"""seed-demo's media items: Serbian outlets of every kind, planned and published, linked
to events and themes, deterministic, and a second run changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from campaign.media.models import MediaItem, MediaKind, media_item_events, media_item_themes
from campaign.models import Event, Partner


def test_seed_demo_adds_media_items_of_every_kind(runner, db):
    result = runner.invoke(args=["seed-demo", "--events", "200", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "200 events and 100 media items" in result.output
    items = db.scalars(select(MediaItem)).all()
    assert len(items) == 100
    assert {i.kind for i in items} == {k.value for k in MediaKind}
    assert {i.status for i in items} == {"planned", "published"}
    outlets = db.execute(
        select(Partner.name, Partner.kind).where(
            Partner.id.in_(select(MediaItem.outlet_id).distinct())
        )
    ).all()
    assert {kind for _name, kind in outlets} == {"media"}
    names = {name for name, _kind in outlets}
    assert {"Radio-televizija Srbije", "N1 Srbija", "Politika", "Tanjug"} <= names
    assert db.scalar(select(func.count()).select_from(media_item_events)) > 30
    assert db.scalar(select(func.count(func.distinct(media_item_themes.c.media_item_id)))) == 100
    # Serbian with its letters, and the search text made as by the form.
    assert any(any(c in i.headline for c in "čćšžđ") for i in items)
    assert all(i.search_text for i in items)
    published = [i for i in items if i.status == "published"]
    assert sum(i.estimated_reach or 0 for i in published) > 1_000_000
    # A second run leaves the campaign as it was.
    before = (
        db.scalar(select(func.count()).select_from(MediaItem)),
        db.scalar(select(func.count()).select_from(Partner)),
        db.scalar(select(func.count()).select_from(Event)),
    )
    again = runner.invoke(args=["seed-demo", "--events", "200", "--seed", "3"])
    assert "already has events" in again.output
    db.rollback()
    assert before == (
        db.scalar(select(func.count()).select_from(MediaItem)),
        db.scalar(select(func.count()).select_from(Partner)),
        db.scalar(select(func.count()).select_from(Event)),
    )


def test_the_reach_report_is_full_after_seed_demo(runner, client, auth):
    runner.invoke(args=["seed-demo", "--events", "200", "--seed", "3"])
    auth.login()
    page = client.get("/reports/reach?from=2019-11-01&to=2021-12-31").get_data(as_text=True)
    assert "N1 Srbija" in page or "Television" in page
    assert page.count("<svg") >= 3


def test_seed_demo_headlines_name_the_topic_not_a_python_tuple(runner, db):
    # The topic of a headline is the event title in Serbian, not the (Serbian, English)
    # pair it is stored as: "Živo sa tribine: ('Nauka za mir …', 'Science for …')" once.
    runner.invoke(args=["seed-demo", "--events", "200", "--seed", "3"])
    headlines = db.scalars(select(MediaItem.headline)).all()
    assert headlines
    assert not [h for h in headlines if "('" in h or "')" in h]
    assert any("Nauka za mir i bezbednost" in h for h in headlines)


@pytest.mark.parametrize("media", ["-1", "99999999999999999999", "many"])
def test_seed_demo_refuses_an_odd_media_count(runner, db, media):
    result = runner.invoke(args=["seed-demo", "--events", "5", "--media", media])
    assert result.exit_code == 2 and "--media" in result.output
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Event)) == 0
