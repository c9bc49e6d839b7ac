"""Links into people's calendars: feed addresses, subscribe links and one-click
"add this event" links."""

from __future__ import annotations

from datetime import UTC
from urllib.parse import quote, urlencode

from flask import current_app, url_for

from ..auth.models import User
from .ical import description_text, location_text


def feed_url(path: str, args=None) -> str:
    """An absolute feed address on SITE_URL (a calendar server fetches it, not a browser)."""
    url = current_app.config["SITE_URL"].rstrip("/") + path
    pairs = [(k, v) for k, v in (args or []) if k != "page"]
    return url + ("?" + urlencode(pairs) if pairs else "")


def subscribe_links(url: str, name: str) -> dict[str, str]:
    """webcal, https, Google and Outlook links for one feed address."""
    webcal = "webcal://" + url.split("://", 1)[1]
    return {
        "https": url,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe=""),
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?"
        + urlencode({"url": url, "name": name}),
        "office": "https://outlook.office.com/calendar/0/addfromweb?"
        + urlencode({"url": url, "name": name}),
    }


def private_feed_url(user: User) -> str | None:
    return feed_url("/calendar.ics", [("token", user.feed_token)]) if user.feed_token else None


def add_to_calendar_links(event) -> dict[str, str]:
    """One-click "add this event" links for Google Calendar and Outlook (web and work).

    These services take the event in the URL. Times go in UTC with a Z, the only form
    both accept unambiguously; Google also gets ``ctz`` so it shows the event's own zone.
    Exchange and Google ignore a separate URL field, so the page address goes in the text.
    """
    page = url_for("events.show", event_id=event.id, _external=True)
    location = location_text(event)
    body = description_text(event, page, limit=1500)
    start, end = event.starts_at.astimezone(UTC), event.ends_at.astimezone(UTC)
    google = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}",
        "details": body,
        "location": location,
        "ctz": event.timezone,
    }
    outlook = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": event.title,
        "startdt": f"{start:%Y-%m-%dT%H:%M:%SZ}",
        "enddt": f"{end:%Y-%m-%dT%H:%M:%SZ}",
        "body": body,
        "location": location,
    }
    return {
        "google": "https://calendar.google.com/calendar/render?" + urlencode(google),
        "outlook": "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(outlook),
        "office365": "https://outlook.office.com/calendar/0/deeplink/compose?" + urlencode(outlook),
        # Served by the calendar blueprint; the same VEVENT as in the feeds.
        "ics": url_for("events.show", event_id=event.id) + ".ics",
    }
