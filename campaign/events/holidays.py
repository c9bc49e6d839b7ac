"""Public holidays in Serbia: the one place that says which dates are holidays.

The calendar comes from the maintained ``holidays`` package (country ``RS``): New Year,
Orthodox Christmas, Statehood Day, Labour Day, Armistice Day and Orthodox Easter from
Good Friday to Easter Monday, with the days off that replace a holiday falling on a
Sunday. A holiday is a warning for planners, never a refusal: the event form, the month
view, the series preview and the coverage dashboard all ask here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays as holiday_calendars
from flask_babel import gettext

from ..i18n import is_english, long_date, script_text

COUNTRY = "RS"


@dataclass(frozen=True)
class Holiday:
    day: date
    names_sr: tuple[str, ...]  # in Cyrillic, as the package writes them
    names_en: tuple[str, ...]

    @property
    def name(self) -> str:
        """The holiday's name in the interface's language and script."""
        if is_english():
            return "; ".join(self.names_en)
        return script_text("; ".join(self.names_sr))

    @property
    def warning(self) -> str:
        return holiday_warning([self]) or ""


@lru_cache(maxsize=256)
def _year(year: int) -> dict[date, Holiday]:
    sr = holiday_calendars.country_holidays(COUNTRY, years=year, language="sr")
    en = holiday_calendars.country_holidays(COUNTRY, years=year, language="en_US")
    return {
        day: Holiday(day, tuple(sr.get_list(day)), tuple(en.get_list(day))) for day in sorted(sr)
    }


def holiday_on(day: date | datetime) -> Holiday | None:
    """The public holiday on ``day`` (a local date, or an aware time read in its zone)."""
    if isinstance(day, datetime):
        day = day.date()
    return _year(day.year).get(day)


def holidays_between(first: date, last: date) -> dict[date, Holiday]:
    """Every public holiday from ``first`` to ``last``, both included."""
    found: dict[date, Holiday] = {}
    for year in range(first.year, last.year + 1):
        found.update((d, h) for d, h in _year(year).items() if first <= d <= last)
    return found


def holidays_during(start: datetime, end: datetime) -> list[Holiday]:
    """The holidays on the local dates an event spans (``start``/``end`` in its zone).

    An event ending at midnight does not touch the next day.
    """
    last = end.date()
    if end.time() == time(0) and last > start.date():
        last -= timedelta(days=1)
    return list(holidays_between(start.date(), last).values())


def holiday_warning(holidays: Iterable[Holiday]) -> str | None:
    """'Public holiday: 7 January — Orthodox Christmas Day' for warning lists."""
    listed = "; ".join(f"{long_date(h.day)} — {h.name}" for h in holidays)
    if not listed:
        return None
    return gettext("Public holiday in Serbia: %(holidays)s", holidays=listed)
