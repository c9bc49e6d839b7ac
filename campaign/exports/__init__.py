"""Event-list exports (CSV, XLSX, JSON, ICS): rows → writer → response or file."""

from .rows import neutralise
from .writers import export


def export_for_app(fmt, session, flt, progress=None):
    """:func:`export` with the current app's settings (the web and ``flask export``)."""
    from flask import current_app

    return export(fmt, session, flt, current_app.config, progress)


__all__ = ["export", "export_for_app", "neutralise"]
