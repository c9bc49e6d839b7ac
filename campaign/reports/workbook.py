"""The reach report as a workbook: the page's tables, one sheet each, with native Excel
charts next to the tables they are drawn from (openpyxl)."""

from __future__ import annotations

import io

from flask_babel import gettext

from ..i18n import localized, script_text
from .reach import Reach


def reach_workbook(data: Reach, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.properties.title = title[:255]
    bold = Font(bold=True)

    def sheet(name: str, header: list[str], rows: list[list]):
        ws = workbook.create_sheet(name[:31])
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
        ws.freeze_panes = "A2"
        for row in rows:
            ws.append(row)
        ws.column_dimensions["A"].width = 40
        return ws

    def chart(ws, title: str, columns: list[int], rows: int, anchor: str, stacked=False):
        bar = BarChart()
        bar.type = "col"
        bar.title = title
        if stacked:
            bar.grouping, bar.overlap = "stacked", 100
        for column in columns:
            values = Reference(ws, min_col=column, min_row=1, max_row=rows + 1)
            bar.add_data(values, titles_from_data=True)
        bar.set_categories(Reference(ws, min_col=1, min_row=2, max_row=rows + 1))
        bar.width, bar.height = 24, 10
        ws.add_chart(bar, anchor)

    workbook.remove(workbook.active)
    cell_header = [
        gettext("Events"),
        gettext("Attendance"),
        gettext("Expected audience"),
        gettext("Media items"),
        gettext("Estimated reach"),
    ]

    def numbers(cell) -> list[int]:
        return [cell.events, cell.attendance, cell.expected, cell.media, cell.reach]

    themes = [localized(t, "name") for t in data.themes]
    ws = sheet(
        gettext("Themes"),
        [gettext("Theme"), *cell_header],
        [
            [name, *numbers(data.theme_totals[t.id])]
            for name, t in zip(themes, data.themes, strict=True)
        ],
    )
    chart(ws, gettext("Events and media items per theme"), [2, 5], len(themes), "H2")

    months = [m.strftime("%Y-%m") for m in data.months]
    ws = sheet(
        gettext("Reach by month"),
        [gettext("Month"), *themes],
        [
            [month, *(data.grid[t.id][i].reach for t in data.themes)]
            for i, month in enumerate(months)
        ],
    )
    chart(
        ws,
        gettext("Estimated media reach by month, stacked by theme"),
        list(range(2, 2 + len(themes))),
        len(months),
        "B" + str(len(months) + 4),
        stacked=True,
    )

    sheet(
        gettext("Theme × month"),
        [gettext("Theme"), gettext("Month"), *cell_header],
        [
            [name, month, *numbers(data.grid[t.id][i])]
            for name, t in zip(themes, data.themes, strict=True)
            for i, month in enumerate(months)
        ],
    )
    ws = sheet(
        gettext("Cities"),
        [gettext("City"), *cell_header],
        [
            [script_text(r.label) or gettext("Online or unknown"), *numbers(r.cell)]
            for r in data.cities
        ],
    )
    chart(ws, gettext("Events and media items per city"), [2, 5], len(data.cities), "H2")
    sheet(
        gettext("Partners"),
        [gettext("Partner"), *cell_header],
        [[script_text(r.label), *numbers(r.cell)] for r in data.partners],
    )
    sheet(
        gettext("Outlet kinds"),
        [gettext("Kind"), gettext("Media items"), gettext("Estimated reach")],
        [[r.label, r.cell.media, r.cell.reach] for r in data.kinds],
    )
    sheet(
        gettext("Gaps"),
        [gettext("Theme"), gettext("Month")],
        [[localized(t, "name"), m.strftime("%Y-%m")] for t, m in data.gaps],
    )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
