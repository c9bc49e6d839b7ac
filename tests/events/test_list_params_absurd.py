"""Absurd values of the list parameters added in issue 16 (``when=all``, ``dates=start``),
of ``online=only`` and ``attendance=recorded``, and of the month view's ``month``: a 400 naming the parameter on every surface that
takes them (list, month view, feed, exports)."""

from __future__ import annotations

import pytest

SURFACES = ["/events", "/events/calendar", "/calendar.ics", "/events.csv", "/events.json"]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("when=ALL", "when"),
        ("when=all&when=past", "when"),
        ("when=all%E2%80%8B", "when"),  # a zero-width space after it
        ("when=%E2%80%AEall", "when"),  # a right-to-left override before it
        ("when=99999999999999999999", "when"),
        ("dates=foo", "dates"),
        ("dates=start&dates=end", "dates"),
        ("dates=START", "dates"),
        ("dates=%E2%80%AEstart", "dates"),
        ("online=only%E2%80%8B", "online"),  # a zero-width space after it
        ("online=%E2%80%AEonly", "online"),
        ("online=99999999999999999999", "online"),
        ("online=ONLY", "online"),
        ("attendance=%E2%80%AErecorded", "attendance"),
        ("attendance=99999999999999999999", "attendance"),
    ],
)
def test_odd_when_and_dates_are_400_naming_the_parameter(client, surface, query, name):
    response = client.get(f"{surface}?{query}")
    assert response.status_code == 400, (surface, query)
    assert f"{name}:" in response.get_data(as_text=True), (surface, query)


@pytest.mark.parametrize("surface", SURFACES)
def test_a_nul_in_when_is_400(client, surface):
    response = client.get(f"{surface}?when=a%00ll")
    assert response.status_code == 400
    assert "U+0000" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "month",
    [
        "0001-01",
        "9999-12",
        "1-01",
        "99999999999999999999-01",
        "2020-99999999999999999999",
        "%E2%80%AE2020-03",
        "2020-03%E2%80%8B",
        "2020-00",
    ],
)
def test_odd_months_are_400_naming_month(client, month):
    response = client.get(f"/events/calendar?month={month}")
    assert response.status_code == 400, month
    assert "month:" in response.get_data(as_text=True), month
