"""Writes to themes, partners and venues. One transaction each, logged."""

from __future__ import annotations

from flask_babel import gettext, ngettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..auth.models import User
from ..core import validation as rules
from ..core.audit import log, who
from ..core.errors import NotAllowed, ValidationError
from ..events.models import Event, EventPartner, event_themes
from ..events.operations import catalog_entry_changed
from ..media.operations import outlet_renamed
from .models import Partner, PartnerKind, Theme, Venue


def _check_unique(session: Session, model, column, value, current_id, errors, name) -> None:
    q = select(func.count()).select_from(model).where(column == value)
    if current_id is not None:
        q = q.where(model.id != current_id)
    if session.scalar(q):
        errors[name] = {
            "theme": gettext("'%(value)s' is already used by another theme.", value=value),
            "partner": gettext("'%(value)s' is already used by another partner.", value=value),
        }.get(
            model.__name__.lower(),
            gettext("'%(value)s' is already used by another record.", value=value),
        )


def _check_texts(values: dict, lines: tuple, texts: tuple, errors: dict[str, str]) -> None:
    for name in lines + texts:
        if isinstance(values.get(name), str):
            rules.add(errors, name, rules.text(values[name], multiline=name in texts))


def _changed(obj, values: dict, fields: tuple[str, ...]) -> dict[str, list]:
    """{field: [old, new]} for the ``fields`` that ``values`` change on an existing
    ``obj``; empty for a new one."""
    if obj is None:
        return {}
    return {
        k: [getattr(obj, k), values[k]]
        for k in fields
        if k in values and values[k] != getattr(obj, k)
    }


def _coordinates(venue: Venue) -> str:
    if venue.latitude is None or venue.longitude is None:
        return ""
    return f"{venue.latitude}, {venue.longitude}"


def _save(session: Session, actor: User | None, obj, what: str) -> None:
    session.add(obj)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ValidationError(
            {"slug": gettext("That slug was taken a moment ago; choose another.")}
        ) from None
    log.info("%s.saved actor=%s id=%s", what, who(actor), obj.id)


def check_theme(session: Session, theme: Theme | None, **values) -> dict[str, str]:
    """Every mistake in a theme's values at once (field name → message); nothing saved."""
    return _theme_errors(session, theme, _theme_values(values))


def _theme_values(values: dict) -> dict:
    values = dict(values)
    values["slug"] = (values.get("slug") or "").strip()
    values["name"] = (values.get("name") or "").strip()
    values["colour"] = (values.get("colour") or "#1f5f99").lower()
    return values


def _theme_errors(session: Session, theme: Theme | None, values: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    rules.add(errors, "slug", rules.slug(values["slug"]))
    rules.add(errors, "name", rules.name(values["name"]))
    rules.add(errors, "colour", rules.colour(values["colour"]))
    _check_texts(
        values,
        ("name", "name_en"),
        ("description", "key_messages", "description_en", "key_messages_en"),
        errors,
    )
    if "slug" not in errors:
        _check_unique(
            session, Theme, Theme.slug, values["slug"], theme and theme.id, errors, "slug"
        )
    return errors


def save_theme(session: Session, actor: User | None, theme: Theme | None, **values) -> Theme:
    values = _theme_values(values)
    errors = _theme_errors(session, theme, values)
    if errors:
        raise ValidationError(errors)
    renamed = _changed(theme, values, ("name",))
    if renamed and theme is not None and "name_en" not in values:
        # An English name translates the old name: a rename that gives no new one (the
        # command line, older callers) drops it rather than keep showing the old name.
        values["name_en"] = ""
    # The English name is searched too (and is the English feeds' CATEGORIES).
    renamed_en = _changed(theme, values, ("name_en",))
    theme = theme or Theme()
    for k, v in values.items():
        setattr(theme, k, v)
    if renamed or renamed_en:
        # Theme names are the events' CATEGORIES and part of their DESCRIPTION.
        catalog_entry_changed(
            session,
            actor,
            Event.id.in_(
                select(event_themes.c.event_id).where(event_themes.c.theme_id == theme.id)
            ),
            "theme renamed",
            {"theme": renamed["name"]} if renamed else {"theme (English)": renamed_en["name_en"]},
            significant=False,
        )
    _save(session, actor, theme, "theme")
    return theme


def check_partner(session: Session, partner: Partner | None, **values) -> dict[str, str]:
    """Every mistake in a partner's values at once (field name → message); nothing saved."""
    return _partner_errors(session, partner, _stripped(values))


def _stripped(values: dict) -> dict:
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}


def _partner_errors(session: Session, partner: Partner | None, values: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    rules.add(errors, "slug", rules.slug(values.get("slug", "")))
    rules.add(errors, "name", rules.name(values.get("name") or ""))
    if values.get("kind") not in PartnerKind.__members__:
        errors["kind"] = gettext("Choose what kind of partner this is.")
    if values.get("website"):
        rules.add(errors, "website", rules.web_url(values["website"], gettext("The website")))
    _check_texts(
        values,
        ("name", "name_en", "city", "contact_name", "contact_phone", "website"),
        ("notes",),
        errors,
    )
    if values.get("contact_email"):
        rules.add(errors, "contact_email", rules.email(values["contact_email"]))
    if "slug" not in errors:
        _check_unique(
            session, Partner, Partner.slug, values["slug"], partner and partner.id, errors, "slug"
        )
    return errors


def save_partner(
    session: Session, actor: User | None, partner: Partner | None, **values
) -> Partner:
    values = _stripped(values)
    errors = _partner_errors(session, partner, values)
    if errors:
        raise ValidationError(errors)
    renamed = _changed(partner, values, ("name",))
    if renamed and partner is not None and "name_en" not in values:
        values["name_en"] = ""  # as for themes: no stale English name after a rename
    renamed_en = _changed(partner, values, ("name_en",))
    partner = partner or Partner()
    for k, v in values.items():
        setattr(partner, k, v)
    if renamed or renamed_en:
        # Partner names are part of the events' DESCRIPTION and of their search text.
        catalog_entry_changed(
            session,
            actor,
            Event.id.in_(
                select(EventPartner.event_id).where(EventPartner.partner_id == partner.id)
            ),
            "partner renamed",
            {"partner": renamed["name"]}
            if renamed
            else {"partner (English)": renamed_en["name_en"]},
            significant=False,
        )
        # And of the search text of the media items it published (an outlet).
        outlet_renamed(session, partner)
    _save(session, actor, partner, "partner")
    return partner


def check_venue(session: Session, venue: Venue | None, **values) -> dict[str, str]:
    """Every mistake in a venue's values at once (field name → message); nothing saved."""
    return _venue_errors(_stripped(values))


def _venue_errors(values: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    rules.add(errors, "name", rules.name(values.get("name") or ""))
    if not values.get("city") or len(values["city"]) > 100:
        errors["city"] = gettext("Give the city (1 to 100 characters).")
    lat, lon = values.get("latitude"), values.get("longitude")
    rules.add(errors, "latitude", rules.latitude(lat))
    rules.add(errors, "longitude", rules.longitude(lon))
    if (lat is None) != (lon is None):
        errors["longitude" if lon is None else "latitude"] = (
            "Give both latitude and longitude, or neither."
        )
    _check_texts(values, ("name", "city", "address"), (), errors)
    rules.add(errors, "capacity", rules.people(values.get("capacity")))
    return errors


def save_venue(session: Session, actor: User | None, venue: Venue | None, **values) -> Venue:
    values = _stripped(values)
    errors = _venue_errors(values)
    if errors:
        raise ValidationError(errors)
    existing = venue is not None
    moved = _changed(venue, values, ("name", "address", "city"))
    was_at = _coordinates(venue) if existing else ""
    venue = venue or Venue()
    for k, v in values.items():
        setattr(venue, k, v)
    changes = {f"venue {k}": pair for k, pair in moved.items()}
    if existing and _coordinates(venue) != was_at:
        changes["venue coordinates"] = [was_at, _coordinates(venue)]
    if changes:
        # Name, address and city are the events' LOCATION: a new place, which calendar
        # clients must not miss (a higher SEQUENCE). Coordinates are only their GEO.
        catalog_entry_changed(
            session, actor, Event.venue_id == venue.id, "venue changed", changes,
            significant=bool(moved),
        )  # fmt: skip
    _save(session, actor, venue, "venue")
    return venue


def delete_catalog_entry(session: Session, actor: User | None, obj) -> None:
    """Delete a theme, partner or venue that no event uses."""
    if isinstance(obj, Theme):
        used = (
            select(func.count()).select_from(event_themes).where(event_themes.c.theme_id == obj.id)
        )
    elif isinstance(obj, Partner):
        used = (
            select(func.count()).select_from(EventPartner).where(EventPartner.partner_id == obj.id)
        )
    else:
        used = select(func.count()).select_from(Event).where(Event.venue_id == obj.id)
    n = session.scalar(used)
    if n:
        what = type(obj).__name__.lower()
        raise NotAllowed(
            {
                "theme": ngettext(
                    "%(num)d event uses this theme; it cannot be deleted.",
                    "%(num)d events use this theme; it cannot be deleted.",
                    n,
                ),
                "partner": ngettext(
                    "%(num)d event uses this partner; it cannot be deleted.",
                    "%(num)d events use this partner; it cannot be deleted.",
                    n,
                ),
            }.get(
                what,
                ngettext(
                    "%(num)d event uses this venue; it cannot be deleted.",
                    "%(num)d events use this venue; it cannot be deleted.",
                    n,
                ),
            )
        )
    session.delete(obj)
    try:
        session.commit()
    except IntegrityError:
        # Something besides events still names it (a media item's theme or outlet): the
        # database refuses, and so do we, with nothing changed.
        session.rollback()
        raise NotAllowed(
            gettext("Other records (such as media items) still use this; it cannot be deleted.")
        ) from None
    log.info("%s.deleted actor=%s id=%s", type(obj).__name__.lower(), who(actor), obj.id)
