"""Tiny inline-SVG charts, so the report needs no plotting library and no files beside it. The geometry is computed
here; the markup is a template (``templates/line_chart.html.jinja``, ``interval_chart.html.jinja``), escaped by
Jinja2's autoescape like the rest of the report."""

from __future__ import annotations

from .render import render

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")


def line_chart(title: str, series: dict[str, list[tuple[float, float]]], *, x_label: str = "step",
               y_label: str = "", width: int = 520, height: int = 260, points_only: bool = False):
    """An SVG chart of named (x, y) series; ``points_only`` draws a scatter (e.g. a reward-vs-KL frontier)."""
    series = {name: [(float(x), float(y)) for x, y in pts if y is not None] for name, pts in series.items()}
    series = {name: pts for name, pts in series.items() if pts}
    if not series:
        return render("line_chart.html.jinja", title=title, series=[])
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

    ticks = [{"y": y0 + f * (y1 - y0), "y_at": sy(y0 + f * (y1 - y0)), "x": x0 + f * (x1 - x0),
              "x_at": sx(x0 + f * (x1 - x0))} for f in (0, 0.5, 1)]
    drawn = [{"name": name, "color": PALETTE[i % len(PALETTE)], "points": [(sx(x), sy(y)) for x, y in pts]}
             for i, (name, pts) in enumerate(series.items())]
    return render("line_chart.html.jinja", title=title, series=drawn, ticks=ticks, x_label=x_label, y_label=y_label,
                  width=width, height=height, left=left, top=top, pw=pw, ph=ph, points_only=points_only)


def interval_chart(title: str, rows: list[tuple[str, float, float | None, float | None]], *, width: int = 360,
                   row_height: int = 22):
    """Dot-and-whisker chart: one row per ``(label, value, lo, hi)`` (a 95% interval), on one shared axis."""
    rows = [r for r in rows if r[1] is not None]
    if not rows:
        return render("interval_chart.html.jinja", title=title, rows=[])
    ends = [v for _, m, lo, hi in rows for v in (m, lo, hi) if v is not None]
    x0, x1 = min(ends), max(ends)
    if x1 <= x0:
        x0, x1 = x0 - 1, x1 + 1
    left, right, top = 80, 16, 6
    height = top + row_height * len(rows) + 22
    pw = width - left - right

    def sx(x):
        return left + (x - x0) / (x1 - x0) * pw

    drawn = [{"label": label, "y": top + row_height * i + row_height / 2, "color": PALETTE[i % len(PALETTE)],
              "mean": sx(mean), "lo": sx(lo) if lo is not None and hi is not None else None,
              "hi": sx(hi) if lo is not None and hi is not None else None}
             for i, (label, mean, lo, hi) in enumerate(rows)]
    ticks = [{"value": x0 + f * (x1 - x0), "at": sx(x0 + f * (x1 - x0))} for f in (0, 0.5, 1)]
    return render("interval_chart.html.jinja", title=title, rows=drawn, ticks=ticks, width=width, height=height,
                  left=left, axis_y=top + row_height * len(rows) + 14)
