"""Charts as server-side SVG: pure, no Django.

No JavaScript and nothing fetched: the page carries its pictures inline, each with a <title>
(what screen readers announce) and every value also written on the chart or in a point's
tooltip. The caller passes translated texts in, and `fmt`, how a value reads (the dashboard
passes lending.formatting's, so the pictures and the tables say the same).
"""

from collections.abc import Callable, Sequence
from decimal import ROUND_CEILING, Decimal
from html import escape
from zlib import crc32

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 78, 16, 18, 42
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
PALETTE = ("#205493", "#c05600", "#2e8540", "#8c2d7e", "#4a4a4a", "#b8860b")
STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))

Number = Decimal | int


def nice_ticks(top: Number, count: int = 5) -> list[Decimal]:
    """Axis ticks from 0 in round steps (1, 2, 2.5, 5 × 10ⁿ), the last at or above `top`."""
    top = Decimal(top)
    if top <= 0:
        return [Decimal(0), Decimal(1)]
    raw = top / count
    magnitude = Decimal(1).scaleb(raw.adjusted())
    step = next(m * magnitude for m in STEPS if m * magnitude >= raw)
    n = int((top / step).to_integral_value(rounding=ROUND_CEILING))
    return [step * i for i in range(n + 1)]


def scale(value: Number, top: Number, length: float) -> float:
    """Where `value` falls on an axis of `length` pixels that ends at `top` (top > 0)."""
    return float(Decimal(value) / Decimal(top)) * length


def heat_colour(rate: Number | None) -> str:
    """Background for a share in a table cell: white at 0 to a strong red at 1 (dark text
    stays readable up to about 0.6; the caller switches to white text above)."""
    if rate is None:
        return "transparent"
    r = max(Decimal(0), min(Decimal(1), Decimal(rate)))
    green = int(255 - float(r) * 200)
    blue = int(255 - float(r) * 215)
    return f"rgb(255,{green},{blue})"


def _open(title: str, description: str) -> list[str]:
    ident = f"chart-{crc32(title.encode()):08x}"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="{ident}" class="portfolio-chart">',
        f'<title id="{ident}">{escape(title)}</title>',
        f"<desc>{escape(description)}</desc>",
    ]


def _y_axis(ticks: Sequence[Decimal], fmt: Callable[[Number], str]) -> list[str]:
    parts = []
    for tick in ticks:
        y = TOP + PLOT_H - scale(tick, ticks[-1], PLOT_H)
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#333">{escape(fmt(tick))}</text>'
        )
    return parts


def bar_chart(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[Number],
    fmt: Callable[[Number], str],
) -> str:
    """Vertical bars, each with its value written above it."""
    ticks = nice_ticks(max(values, default=0))
    parts = _open(title, description) + _y_axis(ticks, fmt)
    slot = PLOT_W / max(len(values), 1)
    for n, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = scale(max(Decimal(value), Decimal(0)), ticks[-1], PLOT_H)
        x, y = LEFT + n * slot + slot * 0.15, TOP + PLOT_H - height
        text = escape(fmt(value))
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {text}</title></rect>'
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
            f'font-size="10" fill="#222">{text}</text>'
            f'<text x="{x + slot * 0.35:.1f}" y="{TOP + PLOT_H + 16}" text-anchor="middle" '
            f'font-size="11" fill="#333">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def line_points(values: Sequence[Number | None], top: Number) -> list[tuple[float, float] | None]:
    """Pixel positions of a series across the plot (None: no value that day)."""
    step = PLOT_W / max(len(values) - 1, 1)
    return [
        None if v is None else (LEFT + n * step, TOP + PLOT_H - scale(v, top, PLOT_H))
        for n, v in enumerate(values)
    ]


def line_chart(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number | None]]],
    fmt: Callable[[Number], str],
    max_labels: int = 8,
) -> str:
    """One line per series over the same x labels; every point carries its value as a tooltip
    and the last point of each line is written on the chart."""
    everything = [v for _, values in series for v in values if v is not None]
    ticks = nice_ticks(max(everything, default=0))
    parts = _open(title, description) + _y_axis(ticks, fmt)
    every = max(1, -(-len(labels) // max_labels))
    step = PLOT_W / max(len(labels) - 1, 1)
    for n, label in enumerate(labels):
        if n % every == 0 or n == len(labels) - 1:
            parts.append(
                f'<text x="{LEFT + n * step:.1f}" y="{TOP + PLOT_H + 16}" text-anchor="middle" '
                f'font-size="10" fill="#333">{escape(label)}</text>'
            )
    for k, (name, values) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        points = line_points(values, ticks[-1])
        path = " ".join(f"{x:.1f},{y:.1f}" for p in points if p for x, y in [p])
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{escape(name)}</title></polyline>"
        )
        for label, value, point in zip(labels, values, points, strict=True):
            if point:
                parts.append(
                    f'<circle cx="{point[0]:.1f}" cy="{point[1]:.1f}" r="2.5" fill="{colour}">'
                    f"<title>{escape(name)} {escape(label)}: {escape(fmt(value))}</title></circle>"
                )
        pairs = zip(reversed(points), reversed(values), strict=True)
        last = next(((p, v) for p, v in pairs if p), None)
        if last:
            (x, y), value = last
            parts.append(
                f'<text x="{x - 4:.1f}" y="{y - 6:.1f}" text-anchor="end" font-size="10" '
                f'fill="{colour}">{escape(fmt(value))}</text>'
            )
        legend_x = LEFT + k * 150
        parts.append(
            f'<rect x="{legend_x}" y="{HEIGHT - 14}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{legend_x + 14}" y="{HEIGHT - 5}" font-size="11" fill="#333">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)
