"""`/media/import` and `import-media` with CSV and XLSX files: the per-row report, each
refusal, a malformed file that writes nothing, and idempotence."""

from __future__ import annotations

import html
import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook

from tests.media.test_import import GOOD, HEADER, counts

BAD = (
    "1989-01-01,RTS,tv,Too old,https://x.rs/1,5,eadrcc\n"
    "2020-02-30,RTS,tv,No such day,https://x.rs/1b,5,eadrcc\n"
    "2020-01-01,RTS,telegraph,Bad kind,https://x.rs/2,5,eadrcc\n"
    "2020-01-01,RTS,tv,Absurd reach,https://x.rs/3,99999999999999999999,eadrcc\n"
    "2020-01-01,RTS,tv,Words for reach,https://x.rs/3b,many,eadrcc\n"
    "2020-01-01,RTS,tv,No link,,5,eadrcc\n"
    "2020-01-01,RTS,tv,Unknown theme,https://x.rs/4,5,no-such-theme\n"
    "2020-01-01,RTS,tv,No theme,https://x.rs/4b,5,\n"
    "2020-01-01,RTS,tv,,https://x.rs/4c,5,eadrcc\n"
    "2020-01-01,RTS,tv,Bidi \u202eheadline,https://x.rs/5,5,eadrcc\n"
    "2020-01-01,RTS,tv,Javascript link,javascript:alert(1),5,eadrcc\n"
    "2020-01-01,RTS,tv,Good one,https://x.rs/6,5,eadrcc\n"
)
# The line of each refused row (the header is line 1) and what its reason names.
REFUSED = {
    2: "date: Give a date between 1 January 1990",
    3: "date: '2020-02-30' is not a date",
    4: "kind:",
    5: "estimated_reach: Give a number, zero or more.",
    6: "reach: Give the reach as a whole number",
    7: "link: Give the link",
    8: "themes: Unknown themes: no-such-theme.",
    9: "themes: Choose at least one theme.",
    10: "headline: Give the headline.",
    11: "headline:",
    12: "link:",
}


def as_xlsx(csv_text: str) -> bytes:
    """The same rows as a workbook, dates as real date cells (as clipping services send
    them), numbers as numbers."""
    book = Workbook()
    sheet = book.active
    for line in csv_text.splitlines():
        values = line.split(",")
        cells = []
        for i, value in enumerate(values):
            if i == 0 and len(value) == 16 and value[4] == "-":
                cell = datetime.strptime(value, "%Y-%m-%d %H:%M")
            elif i == 0 and len(value) == 10 and value[4] == "-" and value != "2020-02-30":
                cell = datetime.strptime(value, "%Y-%m-%d")
            elif i == 5 and value.isdigit() and len(value) < 12:
                cell = int(value)
            else:
                cell = value or None
            cells.append(cell)
        sheet.append(cells)
    for row in sheet.iter_rows(min_row=2, max_col=1):
        if isinstance(row[0].value, datetime):
            has_time = row[0].value.hour or row[0].value.minute
            row[0].number_format = "yyyy-mm-dd hh:mm" if has_time else "yyyy-mm-dd"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


FORMATS = {
    "csv": lambda text: text.encode("utf-8"),
    "xlsx": as_xlsx,
}


@pytest.fixture(params=sorted(FORMATS))
def kind(request):
    return request.param


def upload(client, data: bytes, name: str):
    return client.post(
        "/media/import",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_the_page_has_a_labelled_file_field(client, auth):
    auth.login()
    page = client.get("/media/import").get_data(as_text=True)
    assert '<label for="file">Press-clipping file (CSV or XLSX)</label>' in page
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page
    assert 'accept=".csv,.xlsx"' in page
    assert 'name="csrf_token"' in page


def test_upload_reports_rows_and_is_idempotent(client, auth, db, create_partner, kind):
    create_partner(slug="rts", name="RTS", kind="media")
    auth.login()
    data = FORMATS[kind](HEADER + GOOD)
    response = upload(client, data, f"clips.{kind}")
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    page = response.get_data(as_text=True)
    assert "2 created, 0 updated, 0 unchanged, 0 refused." in page
    assert page.count('class="outcome-created"') == 2
    after = counts(db)
    assert after[0] == 2
    page = upload(client, data, f"clips.{kind}").get_data(as_text=True)
    assert "0 created, 0 updated, 2 unchanged, 0 refused." in page
    assert counts(db) == after
    # Same link, another reach: the item is updated, not doubled.
    changed = FORMATS[kind](HEADER + GOOD.replace("250000", "300000"))
    page = upload(client, changed, f"clips.{kind}").get_data(as_text=True)
    assert "0 created, 1 updated, 1 unchanged, 0 refused." in page
    assert counts(db)[0] == 2


def test_upload_refuses_each_bad_row_with_its_reason(client, auth, db, kind):
    auth.login()
    response = upload(client, FORMATS[kind](HEADER + BAD), f"bad.{kind}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 created, 0 updated, 0 unchanged, 11 refused." in page
    rows = page.split('<tr class="outcome-')[1:]
    assert len(rows) == 12
    for line, reason in REFUSED.items():
        row = rows[line - 2]
        assert row.startswith("refused"), (line, row)
        assert f"<td>{line}</td>" in row
        assert reason.replace("'", "&#39;") in row, (line, row)
    assert counts(db)[0] == 1


def test_cli_reads_xlsx_with_the_same_outcomes(runner, db, tmp_path):
    path = tmp_path / "clips.xlsx"
    path.write_bytes(as_xlsx(HEADER + BAD))
    result = runner.invoke(args=["import-media", str(path)])
    assert result.exit_code == 1
    for line, reason in REFUSED.items():
        assert f"line {line}: refused: {reason}" in result.output, line
    assert "line 13: created" in result.output
    assert "1 created, 0 updated, 0 unchanged, 11 refused." in result.output
    first = counts(db)
    result = runner.invoke(args=["import-media", str(path)])
    assert "0 created, 0 updated, 1 unchanged, 11 refused." in result.output
    assert counts(db) == first


def test_xlsx_dates_and_times_read_as_in_the_csv(client, auth, db):
    from sqlalchemy import select

    from campaign.media.models import MediaItem

    auth.login()
    upload(client, as_xlsx(HEADER + GOOD), "clips.xlsx")
    db.rollback()
    times = dict(db.execute(select(MediaItem.link, MediaItem.published_at)).all())
    # 08:30 and a date alone (noon) in Belgrade, in winter (UTC+1).
    assert times["https://rts.rs/a"].isoformat() == "2020-03-11T07:30:00+00:00"
    assert times["https://politika.rs/b"].isoformat() == "2020-03-12T11:00:00+00:00"


def zip_bomb_xlsx(unpacked_mb: int) -> bytes:
    """A workbook of a few hundred kilobytes whose sheet unpacks to ``unpacked_mb`` MB
    (one headline of that many letters)."""
    workbook = io.BytesIO(as_xlsx(HEADER + "2020-01-01,RTS,tv,BOMB,https://x.rs/b,1,eadrcc\n"))
    out = io.BytesIO()
    with zipfile.ZipFile(workbook) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if b"BOMB" not in data:
                dst.writestr(info, data)
                continue
            head, tail = data.split(b"BOMB")
            with dst.open(info.filename, "w", force_zip64=True) as part:
                part.write(head)
                for _ in range(unpacked_mb):
                    part.write(b"a" * 2**20)
                part.write(tail)
    return out.getvalue()


def far_cell_xlsx(row: int, column: int) -> bytes:
    """A workbook of one good row and a blank cell far away, which makes openpyxl fill
    every line and column up to it with empty cells."""
    book = Workbook()
    sheet = book.active
    for line in (HEADER + GOOD).splitlines():
        sheet.append(line.split(","))
    sheet.cell(row=row, column=column, value=" ")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


MALFORMED = {
    "workbook going on to line 300000": (
        far_cell_xlsx(300_000, 1),
        "The sheet goes on beyond line 200000; a file may have at most 100000 rows.",
    ),
    # Without limits 17 billion empty cells (hours); refused after 200,000 short lines.
    "workbook reaching cell XFD1048576": (
        far_cell_xlsx(1_048_576, 16_384),
        "The sheet goes on beyond line 200000",
    ),
    "workbook that unpacks to gigabytes (a ZIP bomb)": (
        zip_bomb_xlsx(170),
        "The workbook unpacks to more than 160 MB.",
    ),
    "no header columns": (b"date,outlet,headline\n2020-01-01,RTS,x\n", "lacks the columns"),
    "ragged row": ((HEADER + GOOD + "2020-01-01,RTS\n").encode(), "has 2 fields"),
    "empty": (b"", "The file is empty."),
    "not UTF-8": ((HEADER + GOOD).encode() + "Čačak".encode("cp1250"), "not UTF-8"),
    "broken workbook": (b"PK\x03\x04" + b"\x00" * 200, "not an XLSX workbook"),
    "workbook without the columns": (as_xlsx("date,outlet\n2020-01-01,RTS\n"), "lacks the columns"),
    "workbook with a ragged row": (
        as_xlsx(HEADER + GOOD + "2020-01-01,RTS,tv,x,https://x.rs/9,1,eadrcc,extra\n"),
        "fields; the header has 7",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_file_writes_nothing(client, auth, db, case):
    data, message = MALFORMED[case]
    auth.login()
    before = counts(db)
    response = upload(client, data, "clips")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page, page[-3000:]
    assert "Nothing was imported." in page
    assert 'id="report"' not in page
    assert counts(db) == before


def test_no_file_is_a_form_error(client, auth):
    auth.login()
    response = client.post("/media/import", {})
    assert response.status_code == 400
    assert "Choose a CSV or XLSX file to import." in response.get_data(as_text=True)


def test_import_is_for_organizers(client):
    assert client.get("/media/import").status_code == 302
    response = upload(client, (HEADER + GOOD).encode(), "clips.csv")
    assert response.status_code in (302, 400)


@pytest.mark.parametrize(
    ("data", "name"), [(b"hello", "notes.txt"), (b"", "empty.txt"), (b"\x00\x00", "x.csv")]
)
def test_a_text_file_or_nul_bytes_write_nothing(client, auth, db, data, name):
    auth.login()
    before = counts(db)
    response = upload(client, data, name)
    assert response.status_code == 400
    assert "Nothing was imported." in response.get_data(as_text=True)
    assert counts(db) == before


# -- the file's type: by its name and by its content -------------------------------------

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"

WRONG_TYPE = {
    # name, content: what the refusal says
    "a .txt file": (
        "clips.txt",
        (HEADER + GOOD).encode(),
        "Only .csv and .xlsx files can be imported; this is a .txt file.",
    ),
    "a .pdf file": (
        "report.PDF",
        PDF,
        "Only .csv and .xlsx files can be imported; this is a .pdf file.",
    ),
    "a .csv.txt file": (
        "clips.csv.txt",
        (HEADER + GOOD).encode(),
        "Only .csv and .xlsx files can be imported; this is a .txt file.",
    ),
    "an .xls workbook": (
        "clips.xls",
        bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504,
        "Only .csv and .xlsx files can be imported; this is a .xls file.",
    ),
    "an unnamed PDF": (
        "clips",
        PDF,
        "Only .csv and .xlsx files can be imported; this is a .pdf file.",
    ),
    "an .xlsx that is text": (
        "clips.xlsx",
        (HEADER + GOOD).encode(),
        "The name says .xlsx, but the file is not an XLSX workbook: it is text"
        " (if it is CSV, give it a .csv name).",
    ),
    "an .xlsx that is a PDF": (
        "clips.xlsx",
        PDF,
        "The name says .xlsx, but the file is not an XLSX workbook: it is a .pdf file"
        " (application/pdf).",
    ),
    "a .csv that is a workbook": (
        "clips.csv",
        as_xlsx(HEADER + GOOD),
        "The name says .csv, but the file is not CSV text: it is a .xlsx file",
    ),
    "a .csv with NUL bytes": (
        "clips.csv",
        b"\x00\x00",
        "The name says .csv, but the file is not CSV text: it is binary data of an unknown kind.",
    ),
    "a .csv that is a PNG": (
        "clips.csv",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
        "The name says .csv, but the file is not CSV text: it is a .png file (image/png).",
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG_TYPE))
def test_the_refusal_names_the_file_type(client, auth, db, case):
    name, data, message = WRONG_TYPE[case]
    auth.login()
    before = counts(db)
    response = upload(client, data, name)
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert message in page, page[-3000:]
    assert "Nothing was imported." in page
    assert 'id="report"' not in page
    assert counts(db) == before


def test_a_utf16_csv_is_named_as_such(client, auth, db):
    """Excel's "Unicode text" is UTF-16 (NUL bytes between letters): text, not binary."""
    auth.login()
    before = counts(db)
    response = upload(client, (HEADER + GOOD).encode("utf-16"), "clips.csv")
    assert response.status_code == 400
    assert "The file is not UTF-8 text (byte 1)." in response.get_data(as_text=True)
    assert counts(db) == before


@pytest.mark.parametrize("case", ["a .txt file", "an .xlsx that is text", "a .csv that is a PNG"])
def test_the_command_names_the_file_type(runner, db, tmp_path, case):
    name, data, message = WRONG_TYPE[case]
    path = tmp_path / name
    path.write_bytes(data)
    before = counts(db)
    result = runner.invoke(args=["import-media", str(path)])
    assert result.exit_code == 1
    assert f"{path}: {message}" in result.output
    assert "Nothing was imported." in result.output
    assert counts(db) == before


def test_upper_case_extensions_are_read(client, auth, db, create_partner, kind):
    create_partner(slug="rts", name="RTS", kind="media")
    auth.login()
    response = upload(client, FORMATS[kind](HEADER + GOOD), f"CLIPS.{kind.upper()}")
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    assert counts(db)[0] == 2
