"""Exports, the API and the embed carry no planning numbers (expected audience,
attendance) for anyone who is not logged in; organizers' exports still have them
(issue 16)."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest

INTERNAL = ("expected_audience", "attendance")
PUBLIC_HEADER = (
    "uid,title,format,status,start,end,timezone,venue,city,themes,partners,url,"
    "online_url,address,sequence,updated,description"
)


@pytest.fixture
def planned(create_event):
    return create_event(title="Panel", expected_audience=987654, attendance=876543)


def _csv_header(data: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _xlsx_header(data: bytes) -> list[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Events"]
    return [c.value for c in sheet[1]]


def test_anonymous_exports_leave_the_planning_numbers_out(client, planned):
    for fmt in ("csv", "xlsx", "json", "ics"):
        data = client.get(f"/events.{fmt}").data
        if fmt == "xlsx":
            header = _xlsx_header(data)
            values = [c.value for c in openpyxl.load_workbook(io.BytesIO(data))["Events"][2]]
            assert ",".join(header) == PUBLIC_HEADER
            assert 987654 not in values and 876543 not in values
        else:
            assert b"987654" not in data and b"876543" not in data, fmt
        if fmt == "csv":
            assert ",".join(_csv_header(data)) == PUBLIC_HEADER
        if fmt == "json":
            (event,) = json.loads(data)["events"]
            assert not set(INTERNAL) & set(event)


def test_organizers_exports_keep_them(client, auth, planned):
    auth.login()
    header = _csv_header(client.get("/events.csv").data)
    assert set(INTERNAL) <= set(header)
    row = next(csv.DictReader(io.StringIO(client.get("/events.csv").data.decode("utf-8-sig"))))
    assert (row["expected_audience"], row["attendance"]) == ("987654", "876543")
    assert set(INTERNAL) <= set(_xlsx_header(client.get("/events.xlsx").data))


def test_the_cli_public_export_is_the_anonymous_one(runner, planned):
    public = runner.invoke(args=["export", "--format", "csv", "--public"])
    assert ",".join(_csv_header(public.stdout_bytes)) == PUBLIC_HEADER
    staff = runner.invoke(args=["export", "--format", "csv"])
    assert set(INTERNAL) <= set(_csv_header(staff.stdout_bytes))


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events",
        "/api/v1/events/{id}",
        "/embed/events?when=past",
        "/embed/events",
        "/events/{id}",
        "/events/{id}.ics",
        "/calendar.ics",
        "/events.atom",
    ],
)
def test_nothing_public_shows_them(client, planned, path):
    response = client.get(path.format(id=planned.id))
    assert response.status_code == 200, path
    body = response.get_data(as_text=True)
    assert "987654" not in body and "876543" not in body and "987,654" not in body
    assert "expected_audience" not in body and "attendance" not in body.lower()
