"""What a media export row says (CSV, XLSX, JSON), for the exports' one pipeline.

Notes are for organizers and are in no export."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from ..exports.rows import Table
from ..i18n import localized
from .models import MediaItem

COLUMNS = (
    "id",
    "headline",
    "outlet",
    "kind",
    "status",
    "published",
    "timezone",
    "link",
    "spokesperson",
    "themes",
    "events",
    "estimated_reach",
    "tone",
    "url",
    "updated",
)
WIDTHS = {
    "id": 8,
    "headline": 60,
    "outlet": 30,
    "kind": 10,
    "status": 11,
    "published": 17,
    "timezone": 17,
    "link": 40,
    "spokesperson": 26,
    "themes": 40,
    "events": 30,
    "estimated_reach": 12,
    "tone": 10,
    "url": 34,
    "updated": 17,
}
# The XLSX header row: as for events, the msgids are the column names.
LABELS = {
    "id": _l("id"),
    "headline": _l("headline"),
    "outlet": _l("outlet"),
    "kind": _l("kind"),
    "status": _l("status"),
    "published": _l("published"),
    "timezone": _l("timezone"),
    "link": _l("link"),
    "spokesperson": _l("spokesperson"),
    "themes": _l("themes"),
    "events": _l("events"),
    "estimated_reach": _l("estimated_reach"),
    "tone": _l("tone"),
    "url": _l("url"),
    "updated": _l("updated"),
}


def media_url(site_url: str, item: MediaItem) -> str:
    return f"{site_url.rstrip('/')}/media/{item.id}"


def public_events(item: MediaItem) -> list:
    """Related events an export may name: drafts are organizers' secrets, even in their own
    exports (a file travels further than a page)."""
    return [e for e in item.events if not e.is_draft]


def _event_urls(site_url: str, item: MediaItem) -> list[str]:
    return [f"{site_url.rstrip('/')}/events/{e.id}" for e in public_events(item)]


def _local(item: MediaItem, instant: datetime) -> datetime:
    try:
        return instant.astimezone(item.local_published.tzinfo).replace(microsecond=0)
    except (ValueError, OverflowError):
        return instant.replace(microsecond=0)


def media_row(item: MediaItem, site_url: str, *, for_people: bool = False) -> dict:
    text = localized if for_people else getattr
    return {
        "id": item.id,
        "headline": item.headline,
        "outlet": text(item.outlet, "name"),
        "kind": item.kind,
        "status": item.status,
        "published": item.local_published.replace(microsecond=0),
        "timezone": item.timezone,
        "link": item.link,
        "spokesperson": item.spokesperson,
        "themes": "; ".join(text(t, "name") for t in item.themes_in_order),
        "events": " ".join(_event_urls(site_url, item)),
        "estimated_reach": item.estimated_reach,
        "tone": item.tone or "",
        "url": media_url(site_url, item),
        "updated": _local(item, item.updated),
    }


def media_json(item: MediaItem, site_url: str) -> dict:
    return {
        "id": item.id,
        "url": media_url(site_url, item),
        "headline": item.headline,
        "outlet": {"slug": item.outlet.slug, "name": item.outlet.name},
        "kind": item.kind,
        "status": item.status,
        "published": item.local_published.replace(microsecond=0).isoformat(),
        "timezone": item.timezone,
        "link": item.link or None,
        "spokesperson": item.spokesperson or None,
        "themes": [t.slug for t in item.themes_in_order],
        "events": [e.id for e in public_events(item)],
        "estimated_reach": item.estimated_reach,
        "tone": item.tone,
        "updated": _local(item, item.updated).isoformat(),
    }


MEDIA = Table(
    name="media",
    columns=COLUMNS,
    widths=WIDTHS,
    labels=LABELS,
    datetime_columns=("published", "updated"),
    row=media_row,
    json=media_json,
)
