"""The iCalendar writer on its own: escaping, folding and VTIMEZONEs, read back by parsers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign.calendar import ical

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _calendar(*lines: str, timezones: str = "") -> str:
    body = "".join(ical.fold(line) for line in lines)
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    return head + timezones + body + "END:VCALENDAR\r\n"


def _expected(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return CONTROL.sub("", text)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=300))
def test_any_text_survives_escaping_and_folding(text):
    cal = _calendar(
        "BEGIN:VEVENT",
        "UID:x@test",
        "DTSTAMP:20200101T000000Z",
        f"SUMMARY:{ical.escape_text(text)}",
        "END:VEVENT",
    )
    for line in cal.encode().split(b"\r\n"):
        assert len(line) <= 75
        line.decode()  # a fold never splits a UTF-8 sequence
    assert "\n" not in cal.replace("\r\n", "")
    parsed = icalendar.Calendar.from_ical(cal).walk("VEVENT")[0]
    assert str(parsed["SUMMARY"]) == _expected(text)


@pytest.mark.parametrize(
    "text",
    [
        "Panel, round table; seminar \\ backslash",
        "Two\nlines\n\nand a paragraph",
        "Čačak, Šabac, Užice, Đerdap, Žabalj — ćevapi",
        "Београд, Ниш; Крагујевац — Ђорђе",
        "Emoji 🎉🇷🇸👩‍💻 in the middle",
        "č" * 200,
        "🇷🇸" * 60,
        "x" * 74 + "č" + "y" * 80,
    ],
)
def test_vobject_reads_the_same_text(text):
    cal = _calendar(
        "BEGIN:VEVENT",
        "UID:x@test",
        "DTSTAMP:20200101T000000Z",
        "DTSTART:20200101T100000Z",
        f"SUMMARY:{ical.escape_text(text)}",
        f"DESCRIPTION:{ical.escape_text(text)}",
        "END:VEVENT",
    )
    event = vobject.readOne(cal, validate=True).vevent
    assert event.summary.value == text
    assert event.description.value == text


def test_fold_keeps_multibyte_characters_whole():
    line = "SUMMARY:" + "a" * 66 + "ž" * 10
    folded = ical.fold(line).encode()
    assert folded.endswith(b"\r\n")
    parts = folded[:-2].split(b"\r\n")
    assert all(len(p) <= 75 for p in parts)
    assert all(p.startswith(b" ") for p in parts[1:])
    assert b"".join([parts[0], *(p[1:] for p in parts[1:])]).decode() == line


def test_belgrade_vtimezone_is_written_with_yearly_rules():
    text = ical.render_vtimezone("Europe/Belgrade", 2020, 2021)
    assert "RDATE" not in text
    assert text == (
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Belgrade\r\n"
        "BEGIN:DAYLIGHT\r\nDTSTART:20190331T020000\r\n"
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
        "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT\r\n"
        "BEGIN:STANDARD\r\nDTSTART:20191027T030000\r\n"
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
        "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD\r\n"
        "END:VTIMEZONE\r\n"
    )


def test_zone_without_daylight_saving_has_one_standard_observance():
    text = ical.render_vtimezone("Asia/Tokyo", 2020, 2021)
    assert text.count("BEGIN:STANDARD") == 1
    assert "DAYLIGHT" not in text and "RRULE" not in text
    assert "TZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900" in text


@pytest.mark.parametrize(
    ("tzid", "first", "last"),
    [
        ("Europe/Belgrade", 2019, 2021),
        ("Europe/Brussels", 2019, 2021),
        ("America/New_York", 2005, 2009),  # the US rules changed in 2007
        ("Australia/Sydney", 2019, 2021),  # southern hemisphere
        ("America/Sao_Paulo", 2017, 2020),  # daylight saving abolished in 2019
        ("Asia/Tokyo", 2020, 2021),
        ("Asia/Kolkata", 2020, 2020),
    ],
)
def test_vtimezone_agrees_with_zoneinfo(tzid, first, last):
    """vobject reads times through our VTIMEZONE (not its own database): every hour of
    the years, and the hours around each change, land where zoneinfo puts them."""
    zone = ZoneInfo(tzid)
    instants = []
    at = datetime(first, 1, 1, 12, tzinfo=UTC)
    while at.year <= last:
        instants.append(at)
        at += timedelta(hours=61)  # walks through every hour of the day over the years
    for t in ical._transitions(zone, first, last):
        instants += [t.at + timedelta(minutes=m) for m in (-90, -30, 30, 90)]
    events = []
    for n, instant in enumerate(instants):
        local = instant.astimezone(zone)
        if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
            continue  # the repeated hour is written in UTC by the renderer
        events += [
            "BEGIN:VEVENT",
            f"UID:{n}@test",
            "DTSTAMP:20200101T000000Z",
            f"DTSTART;TZID={tzid}:{local:%Y%m%dT%H%M%S}",
            "END:VEVENT",
        ]
    text = _calendar(*events, timezones=ical.render_vtimezone(tzid, first, last))
    parsed = vobject.readOne(text, validate=True)
    assert "RDATE" not in text
    by_uid = {int(e.uid.value.split("@")[0]): e.dtstart.value for e in parsed.vevent_list}
    assert len(by_uid) > 100
    for n, value in by_uid.items():
        assert value.astimezone(UTC) == instants[n], (n, instants[n])


def test_icalendar_plain_setters_get_refresh_interval_wrong():
    """Why the calendar head is written by hand: the tests of the feed pin the exact lines."""
    cal = icalendar.Calendar()
    cal.add("refresh-interval", timedelta(hours=1))
    cal.add("x-published-ttl", timedelta(hours=1))
    naive = cal.to_ical().decode()
    ours = ical.calendar_head("n", "d", subscription=True).decode()
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in ours
    assert "X-PUBLISHED-TTL:PT1H\r\n" in ours
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" not in naive
    assert "X-PUBLISHED-TTL:PT1H\r\n" not in naive
