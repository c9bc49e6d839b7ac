"""Atom (RFC 4287) feeds of newly published and changed public events, for news readers.

An entry per public event of the filter (the one EventFilter, never drafts), the most
recently changed first, at most ``ATOM_ENTRIES``. An entry's ``id`` is the event's page
(permanent), its ``updated`` the event's last change, so a reader shows a changed event
again. Written by feedgen; the same data give the same bytes (no request time in them).
"""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator
from flask_babel import gettext
from sqlalchemy.orm import Session

from ..events.filters import EventFilter
from ..events.models import Event
from ..exports.rows import event_url
from ..i18n import format_when, localized

ATOM_ENTRIES = 50
# The feed's <updated> when it has no entry: the day IPAP 2 was adopted, not "now".
EMPTY_FEED_UPDATED = datetime(2019, 11, 7, tzinfo=UTC)


def recent_events(session: Session, flt: EventFilter) -> list[Event]:
    stmt = (
        flt.select_loaded()
        .order_by(None)
        .order_by(Event.updated.desc(), Event.id.desc())
        .limit(ATOM_ENTRIES)
    )
    return session.scalars(stmt).unique().all()


def entry_text(event: Event) -> str:
    lines = [format_when(event)]
    if event.venue is not None:
        venue = event.venue
        lines.append(
            ", ".join(
                x
                for x in (
                    localized(venue, "name"),
                    localized(venue, "address"),
                    localized(venue, "city"),
                )
                if x
            )
        )
    if event.online_url:
        lines.append(event.online_url)
    themes = ", ".join(localized(t, "name") for t in event.themes_in_order)
    if themes:
        lines.append(themes)
    partners = ", ".join(
        f"{localized(link.partner, 'name')} ({link.role_label})" for link in event.partners_in_order
    )
    if partners:
        lines.append(partners)
    description = localized(event, "description")
    if description:
        lines += ["", description]
    return "\n".join(lines)


def atom_feed(
    events: list[Event],
    *,
    title: str,
    site_url: str,
    self_url: str,
    page_url: str,
    author: str,
    email: str,
) -> bytes:
    site_url = site_url.rstrip("/")
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(title)
    fg.author({"name": author, "email": email})
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=page_url, rel="alternate", type="text/html")
    fg.generator("campaign")
    fg.updated(max((e.updated for e in events), default=EMPTY_FEED_UPDATED))
    # feedgen writes entries in reverse order of adding them: add the oldest first.
    for event in reversed(events):
        entry = fg.add_entry()
        url = event_url(site_url, event)
        entry.id(url)
        name = localized(event, "title")
        if event.is_cancelled:
            name = gettext("%(title)s (cancelled)", title=name)
        entry.title(name)
        entry.link(href=url, rel="alternate", type="text/html")
        entry.published(event.created)
        entry.updated(event.updated)
        entry.content(entry_text(event), type="text")
        for theme in event.themes_in_order:
            entry.category(term=theme.slug, label=localized(theme, "name"))
    return fg.atom_str(pretty=True)
