"""Tiny inline-SVG charts, so the report needs no plotting library and no files beside it."""

from __future__ import annotations

from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")


def line_chart(title: str, series: dict[str, list[tuple[float, float]]], *, x_label: str = "step",
               y_label: str = "", width: int = 520, height: int = 260, points_only: bool = False) -> str:
    """An SVG chart of named (x, y) series; ``points_only`` draws a scatter (e.g. a reward-vs-KL frontier)."""
    series = {name: [(float(x), float(y)) for x, y in pts if y is not None] for name, pts in series.items()}
    series = {name: pts for name, pts in series.items() if pts}
    if not series:
        return f'<figure><figcaption>{escape(title)}</figcaption><p class="empty">no data</p></figure>'
    xs = [x for pts in series.values() for x, _ in pts]
    ys = [y for pts in series.values() for _, y in pts]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1
    left, right, top, bottom = 56, 12, 12, 36
    pw, ph = width - left - right, height - top - bottom

    def sx(x):
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y):
        return top + (1 - (y - y0) / (y1 - y0)) * ph

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#ccc"/>']
    for frac in (0, 0.5, 1):
        y = y0 + frac * (y1 - y0)
        parts.append(f'<text x="{left - 4}" y="{sy(y) + 4:.1f}" text-anchor="end" font-size="10">{y:.3g}</text>')
        x = x0 + frac * (x1 - x0)
        parts.append(f'<text x="{sx(x):.1f}" y="{height - 20}" text-anchor="middle" font-size="10">{x:.3g}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 4}" text-anchor="middle" font-size="11">'
                 f'{escape(x_label)}</text>')
    if y_label:
        parts.append(f'<text x="12" y="{top + ph / 2}" font-size="11" transform="rotate(-90 12 {top + ph / 2})" '
                     f'text-anchor="middle">{escape(y_label)}</text>')
    for i, (name, pts) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        if not points_only:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{coords}"/>')
        parts.extend(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="{3 if points_only else 1.5}" fill="{color}"/>'
                     for x, y in pts)
        parts.append(f'<text x="{left + 8}" y="{top + 14 + 13 * i}" font-size="11" fill="{color}">'
                     f'{escape(name)}</text>')
    parts.append("</svg>")
    return f'<figure><figcaption>{escape(title)}</figcaption>{"".join(parts)}</figure>'


def interval_chart(title: str, rows: list[tuple[str, float, float | None, float | None]], *, width: int = 360,
                   row_height: int = 22) -> str:
    """Dot-and-whisker chart: one row per ``(label, value, lo, hi)`` (a 95% interval), on one shared axis."""
    rows = [r for r in rows if r[1] is not None]
    if not rows:
        return f'<figure><figcaption>{escape(title)}</figcaption><p class="empty">no data</p></figure>'
    ends = [v for _, m, lo, hi in rows for v in (m, lo, hi) if v is not None]
    x0, x1 = min(ends), max(ends)
    if x1 <= x0:
        x0, x1 = x0 - 1, x1 + 1
    left, right, top = 80, 16, 6
    height = top + row_height * len(rows) + 22
    pw = width - left - right

    def sx(x):
        return left + (x - x0) / (x1 - x0) * pw

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">']
    for i, (label, mean, lo, hi) in enumerate(rows):
        y = top + row_height * i + row_height / 2
        color = PALETTE[i % len(PALETTE)]
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{escape(label)}</text>')
        if lo is not None and hi is not None:
            parts.append(f'<line x1="{sx(lo):.1f}" x2="{sx(hi):.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{color}" '
                         f'stroke-width="2"/>')
        parts.append(f'<circle cx="{sx(mean):.1f}" cy="{y:.1f}" r="4" fill="{color}"/>')
    axis_y = top + row_height * len(rows) + 14
    for frac in (0, 0.5, 1):
        x = x0 + frac * (x1 - x0)
        parts.append(f'<text x="{sx(x):.1f}" y="{axis_y}" text-anchor="middle" font-size="10">{x:.3g}</text>')
    parts.append("</svg>")
    return f'<figure><figcaption>{escape(title)}</figcaption>{"".join(parts)}</figure>'
