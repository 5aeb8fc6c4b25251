"""A line chart of a script's table result (`Output(series=[...], x=...)`), drawn on the server as
SVG: no chart library, no inline script or style (the CSP forbids both), nothing to load offline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT, PAD = 600, 240, 32
MAX_POINTS = 2000


@dataclass(frozen=True)
class Line:
    name: str
    points: str  # "x,y x,y ..." for <polyline points=...>
    css_class: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    lines: list[Line]
    x_label: str
    x_min: str
    x_max: str
    y_min: str
    y_max: str


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def table_chart(result: Any) -> Chart | None:
    """The chart of a job result holding `{"kind": "table", "records", "series", "x"}` (maybe under
    "output"), or None when there is nothing numeric to draw."""
    table = result.get("output") if isinstance(result, dict) and isinstance(result.get("output"), dict) else result
    if not isinstance(table, dict) or table.get("kind") != "table" or not table.get("series"):
        return None
    records = [row for row in table.get("records", []) if isinstance(row, dict)][:MAX_POINTS]
    x_name = table.get("x")
    xs = [(_number(row.get(x_name)) if x_name else float(i)) for i, row in enumerate(records)]
    series = [(name, [_number(row.get(name)) for row in records]) for name in table["series"] if isinstance(name, str)]
    ys = [y for _, values in series for y in values if y is not None]
    known_x = [x for x in xs if x is not None]
    if len(known_x) < 2 or not ys:
        return None
    x_lo, x_hi, y_lo, y_hi = min(known_x), max(known_x), min(ys), max(ys)
    x_span, y_span = (x_hi - x_lo) or 1.0, (y_hi - y_lo) or 1.0

    def point(x: float, y: float) -> str:
        px = PAD + (x - x_lo) / x_span * (WIDTH - 2 * PAD)
        py = HEIGHT - PAD - (y - y_lo) / y_span * (HEIGHT - 2 * PAD)
        return f"{px:.1f},{py:.1f}"

    lines = [
        Line(
            name,
            " ".join(point(x, y) for x, y in zip(xs, values, strict=True) if x is not None and y is not None),
            f"vc-chart-line-{index % 4}",
        )
        for index, (name, values) in enumerate(series)
    ]
    return Chart(WIDTH, HEIGHT, lines, x_name or "row", f"{x_lo:g}", f"{x_hi:g}", f"{y_lo:g}", f"{y_hi:g}")
