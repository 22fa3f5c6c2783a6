"""A small line chart of a number over dates, as SVG (for the page and `--plot x.svg`) or PNG (`--plot x.png`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from qa.errors import InputError
from qa.records import TimelineEntry

WIDTH, HEIGHT, MARGIN = 560, 240, 48


def chart_points(entries: Sequence[TimelineEntry]) -> list[tuple[str, float]]:
    """(date, number) of the timeline entries that give a number; empty unless two or more do."""
    points = [(e.published, e.value) for e in entries if e.value is not None]
    return points if len(points) >= 2 else []


def _layout(points: list[tuple[str, float]]) -> list[tuple[float, float, str, float]]:
    """(x, y, date, value) of each point on the canvas: x by date, y by value (zero at the bottom when all are positive)."""
    days = [date.fromisoformat(d).toordinal() for d, _ in points]
    values = [v for _, v in points]
    lo_day, hi_day = min(days), max(days)
    lo, hi = min(0.0, min(values)), max(values)
    span_day, span = max(1, hi_day - lo_day), (hi - lo) or 1.0
    out = []
    for (d, v), day in zip(points, days):
        x = MARGIN + (day - lo_day) / span_day * (WIDTH - 2 * MARGIN)
        y = HEIGHT - MARGIN - (v - lo) / span * (HEIGHT - 2 * MARGIN)
        out.append((x, y, d, v))
    return out


def _label(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def svg_chart(points: list[tuple[str, float]], title: str) -> str:
    """An SVG line chart of (YYYY-MM-DD, number) points, oldest first."""
    from qa.ui.render import escape

    laid = _layout(points)
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y, _, _) in enumerate(laid))
    marks = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4"/>'
        f'<text x="{x:.1f}" y="{y - 9:.1f}" text-anchor="middle" class="qa-chart-value">{_label(v)}</text>'
        f'<text x="{x:.1f}" y="{HEIGHT - MARGIN + 18}" text-anchor="middle" class="qa-chart-date">{d}</text>'
        for x, y, d, v in laid
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="qa-chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}" font-family="sans-serif" '
        f'font-size="11"><title>{escape(title)}</title>'
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}" stroke="#888"/>'
        f'<path d="{path}" fill="none" stroke="#2563eb" stroke-width="2"/>'
        f'<g fill="#2563eb">{marks}</g></svg>'
    )


def png_chart(points: list[tuple[str, float]], title: str, target: Path) -> None:
    """The same chart drawn as a PNG file."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, 12), title[:80], fill="black")
    draw.line([(MARGIN, HEIGHT - MARGIN), (WIDTH - MARGIN, HEIGHT - MARGIN)], fill="#888888")
    laid = _layout(points)
    draw.line([(x, y) for x, y, _, _ in laid], fill="#2563eb", width=2)
    for x, y, d, v in laid:
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill="#2563eb")
        draw.text((x - 12, y - 18), _label(v), fill="black")
        draw.text((x - 30, HEIGHT - MARGIN + 8), d, fill="black")
    image.save(target, format="PNG")


def chart_format(target: str | Path) -> str:
    """The chart format a file name asks for (".svg" or ".png"); InputError for any other."""
    suffix = Path(target).suffix.lower()
    if suffix not in (".svg", ".png"):
        raise InputError(f"--plot writes .svg or .png files, not {Path(target).name!r}")
    return suffix


def write_chart(points: list[tuple[str, float]], title: str, target: str | Path) -> Path:
    """Write the chart to `target`: SVG or PNG by its suffix."""
    target = Path(target)
    suffix = chart_format(target)
    if not points:
        raise InputError("no chart: fewer than two of the articles give a number for this subject")
    try:
        if suffix == ".svg":
            target.write_text(svg_chart(points, title), encoding="utf-8")
        else:
            png_chart(points, title, target)
    except OSError as exc:
        raise InputError(f"cannot write the chart to {target}: {exc.strerror or exc}") from None
    return target
