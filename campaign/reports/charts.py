"""Charts as server-rendered SVG: no script, no style attribute (the CSP stays as it is),
readable without colour (each series has its own fill pattern and every bar its number
written next to it), each with a <title> and <desc> for screen readers. The page puts the
table each chart was drawn from next to it."""

from __future__ import annotations

from markupsafe import Markup, escape

# Fill patterns, one per series: solid, hatched, dotted, cross-hatched, … (then repeated).
PATTERNS = (
    "",
    '<path d="M0,6 L6,0" stroke="#fff" stroke-width="1.5"/>',
    '<circle cx="3" cy="3" r="1.3" fill="#fff"/>',
    '<path d="M0,0 L6,6 M0,6 L6,0" stroke="#fff" stroke-width="1"/>',
    '<path d="M0,3 L6,3" stroke="#fff" stroke-width="1.5"/>',
    '<path d="M3,0 L3,6" stroke="#fff" stroke-width="1.5"/>',
)
PALETTE = ("#1f5f99", "#b3541e", "#2e7d32", "#6a1b9a", "#8d6e00", "#00838f", "#ad1457")
FONT = 'font-family="DejaVu Sans, Arial, sans-serif" font-size="12"'


def _defs(prefix: str, colours: list[str]) -> str:
    parts = []
    for i, colour in enumerate(colours):
        pattern = PATTERNS[i % len(PATTERNS)]
        parts.append(
            f'<pattern id="{prefix}-p{i}" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="{escape(colour)}"/>{pattern}</pattern>'
        )
    return "<defs>" + "".join(parts) + "</defs>"


def _svg(prefix: str, width: int, height: int, title: str, desc: str, body: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" aria-labelledby="{prefix}-title {prefix}-desc" {FONT}>'
        f'<title id="{prefix}-title">{escape(title)}</title>'
        f'<desc id="{prefix}-desc">{escape(desc)}</desc>{body}</svg>'
    )


def _legend(prefix: str, names: list[str], y: int) -> str:
    parts = []
    for i, name in enumerate(names):
        x = 10 + (i % 3) * 250
        row = y + (i // 3) * 18
        parts.append(
            f'<rect x="{x}" y="{row}" width="14" height="14" fill="url(#{prefix}-p{i})" '
            f'stroke="#222"/><text x="{x + 20}" y="{row + 11}">{escape(name[:34])}</text>'
        )
    return "".join(parts)


def stacked_columns(
    prefix: str,
    title: str,
    desc: str,
    categories: list[str],
    series: list[tuple[str, str, list[int]]],
    number,
) -> Markup:
    """Columns per category (months), stacked by series (name, colour, values)."""
    width, top, plot_h, left = 760, 20, 220, 60
    n = max(1, len(categories))
    step = (width - left - 10) / n
    totals = [sum(s[2][i] for s in series) for i in range(len(categories))]
    peak = max(totals, default=0) or 1
    body = [_defs(prefix, [s[1] for s in series])]
    body.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        'stroke="#222"/>'
    )
    for i, category in enumerate(categories):
        x = left + i * step + step * 0.15
        y = top + plot_h
        for j, (name, _colour, values) in enumerate(series):
            h = values[i] / peak * plot_h
            if values[i]:
                y -= h
                body.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" '
                    f'fill="url(#{prefix}-p{j})" stroke="#222" stroke-width="0.5">'
                    f"<title>{escape(category)} — {escape(name)}: {escape(number(values[i]))}"
                    "</title></rect>"
                )
        if totals[i]:
            body.append(
                f'<text x="{x + step * 0.35:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                f'font-size="9">{escape(number(totals[i]))}</text>'
            )
        body.append(
            f'<text x="{x + step * 0.35:.1f}" y="{top + plot_h + 14}" text-anchor="end" '
            f'font-size="9" transform="rotate(-45 {x + step * 0.35:.1f} {top + plot_h + 14})">'
            f"{escape(category)}</text>"
        )
    legend_y = top + plot_h + 60
    body.append(_legend(prefix, [s[0] for s in series], legend_y))
    height = legend_y + 18 * ((len(series) + 2) // 3) + 10
    return _svg(prefix, width, height, title, desc, "".join(body))


def grouped_bars(
    prefix: str,
    title: str,
    desc: str,
    categories: list[str],
    series: list[tuple[str, str, list[int]]],
    number,
) -> Markup:
    """Horizontal bars per category, one per series, each with its number written."""
    width, left, bar, gap = 760, 260, 12, 10
    peak = max((v for s in series for v in s[2]), default=0) or 1
    per_category = bar * len(series) + gap
    body = [_defs(prefix, [s[1] for s in series])]
    y = 10
    for i, category in enumerate(categories):
        body.append(
            f'<text x="{left - 8}" y="{y + per_category / 2:.1f}" text-anchor="end">'
            f"{escape(category[:40])}</text>"
        )
        for j, (name, _colour, values) in enumerate(series):
            w = values[i] / peak * (width - left - 80)
            by = y + j * bar
            body.append(
                f'<rect x="{left}" y="{by}" width="{w:.1f}" height="{bar - 2}" '
                f'fill="url(#{prefix}-p{j})" stroke="#222" stroke-width="0.5">'
                f"<title>{escape(category)} — {escape(name)}: {escape(number(values[i]))}</title>"
                f'</rect><text x="{left + w + 4:.1f}" y="{by + bar - 3}" font-size="10">'
                f"{escape(name)}: {escape(number(values[i]))}</text>"
            )
        y += per_category
    body.append(_legend(prefix, [s[0] for s in series], y + 8))
    height = y + 8 + 18 * ((len(series) + 2) // 3) + 6
    return _svg(prefix, width, height, title, desc, "".join(body))
