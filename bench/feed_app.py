"""The app as gunicorn serves it, plus two bench-only routes (never in the product):

- ``/_bench/static.ics``: a saved copy of the feed, served as Flask serves static files;
- ``/_bench/static.ics.gz``: a saved copy of the feed's gzip bytes, served the same way;
- ``/_bench/naive.ics``: the feed rebuilt with icalendar's object model on every request,
  the way peer projects (Indico, pretalx) build theirs: the comparison for edits and restarts.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import icalendar
from flask import Response, send_file
from sqlalchemy import select

from campaign import create_app
from campaign.db import get_session
from campaign.events.filters import PUBLIC_STATUSES, event_list_loading
from campaign.models import Event

app = create_app()
STATIC_COPY = os.environ["BENCH_STATIC_COPY"]
STATIC_GZIP = STATIC_COPY + ".gz"


@app.get("/_bench/ping")
def ping():
    return "ok"  # no database, no feed: tells the bench the worker has booted


@app.get("/_bench/static.ics")
def static_copy():
    return send_file(STATIC_COPY, mimetype="text/calendar", conditional=True, max_age=300)


@app.get("/_bench/static.ics.gz")
def static_gzip_copy():
    """The feed's gzip bytes as a static file (as nginx's gzip_static would send them)."""
    response = send_file(STATIC_GZIP, mimetype="text/calendar", conditional=True, max_age=300)
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    return response


@app.get("/_bench/naive.ics")
def naive():
    site = app.config["SITE_URL"].rstrip("/")
    events = get_session().scalars(
        select(Event)
        .where(Event.status.in_(PUBLIC_STATUSES))
        .order_by(Event.starts_at, Event.id)
        .options(*event_list_loading())
    )
    cal = icalendar.Calendar()
    cal.add("prodid", "-//naive//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", app.config["CAMPAIGN_NAME"])
    for e in events:
        v = icalendar.Event()
        v.add("uid", e.uid)
        v.add("dtstamp", datetime.now(UTC))
        v.add("created", e.created)
        v.add("last-modified", e.updated)
        v.add("sequence", e.sequence)
        v.add("dtstart", e.local_start)
        v.add("dtend", e.local_end)
        v.add("summary", e.title)
        partners = "; ".join(f"{lk.partner.name} ({lk.role_label})" for lk in e.partner_links)
        themes = ", ".join(t.name for t in e.themes)
        v.add("description", f"{e.description}\n\nThemes: {themes}\nPartners: {partners}")
        v.add("url", f"{site}/events/{e.id}")
        if e.venue:
            v.add("location", f"{e.venue.name}, {e.venue.address}, {e.venue.city}")
            if e.venue.latitude is not None:
                v.add("geo", (e.venue.latitude, e.venue.longitude))
        v.add("categories", [e.format_label, *(t.name for t in e.themes)])
        v.add("status", "CANCELLED" if e.is_cancelled else "CONFIRMED")
        cal.add_component(v)
    cal.add_missing_timezones()
    return Response(cal.to_ical(), mimetype="text/calendar")
