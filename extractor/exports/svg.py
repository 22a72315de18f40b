"""Horizontal bar charts as inline SVG, for the HTML report.

Written by hand rather than with matplotlib: the report must be one self-contained file that
loads nothing (its Content-Security-Policy allows no outside resource), a bar chart is a few
rectangles and labels, and matplotlib would add ~40 MB of dependencies, a font cache built on
first use and a second or more of import time to every export. Text is escaped; every bar links to
the claim's highlighted evidence in the same page.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Optional


@dataclass
class Bar:
    label: str  # the system
    value: float  # > 0
    text: str  # what the bar says ("4.07x lower cold-start latency ...")
    href: Optional[str] = None  # "#claim-..." in the same page


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    if log:
        out = []
        for decade in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
            for m in (1, 2, 5):
                t = m * 10**decade
                if lo <= t <= hi:
                    out.append(float(t))
        return out or [lo, hi]
    step = 10 ** math.floor(math.log10(hi or 1))
    if hi / step < 3:
        step /= 2
    return [i * step for i in range(0, int(hi / step) + 1)]


def _fmt(t: float) -> str:
    return f"{t:g}"


def bar_chart(bars: list[Bar], title: str, unit: str = "x", log: bool = True, width: int = 760) -> str:
    """An SVG bar chart, one bar per entry in the given order. With `log`, bars grow from 1 on a
    log axis (improvement factors from 1.02x to 209x side by side; a factor below 1, a change for
    the worse, has no bar: the leaderboard under the chart lists it)."""
    e = html.escape
    bars = [b for b in bars if b.value > 0 and math.isfinite(b.value) and (b.value > 1 or not log)]
    if not bars:
        return ""
    label_w, right_pad, row_h, top, bottom = 170, 70, 24, 30, 26
    plot_w = width - label_w - right_pad
    hi = max(b.value for b in bars)
    if log:
        lo = 1.0
        hi = max(hi, 2.0)
        span = math.log10(hi) - math.log10(lo)

        def x(v: float) -> float:
            return label_w + plot_w * (math.log10(max(v, lo)) - math.log10(lo)) / span
    else:
        lo = 0.0
        hi = hi * 1.05

        def x(v: float) -> float:
            return label_w + plot_w * v / hi

    height = top + row_h * len(bars) + bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{e(title)}</title>',
        f'<text x="0" y="16" class="chart-title">{e(title)}</text>',
    ]
    for t in _ticks(lo if log else 0.0, hi, log):
        tx = x(t)
        parts.append(
            f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{height - bottom}" class="grid"/>'
            f'<text x="{tx:.1f}" y="{height - 8}" class="tick" text-anchor="middle">{e(_fmt(t))}{e(unit)}</text>'
        )
    for i, b in enumerate(bars):
        y = top + i * row_h
        x0, x1 = x(lo if log else 0.0), x(b.value)
        bar = (
            f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1.5):.1f}" height="{row_h - 7}" class="bar">'
            f"<title>{e(b.label)}: {e(b.text)}</title></rect>"
        )
        if b.href:
            bar = f'<a href="{e(b.href, quote=True)}">{bar}</a>'
        label = b.label if len(b.label) <= 24 else b.label[:23] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row_h / 2 + 4:.1f}" class="label" text-anchor="end">{e(label)}</text>'
            + bar
            + f'<text x="{x1 + 5:.1f}" y="{y + row_h / 2 + 4:.1f}" class="value">{e(f"{b.value:.3g}")}{e(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
