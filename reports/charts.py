"""Bar charts as plain geometry: counted bins and the rectangles an inline SVG draws.

The numbers are made here, where they can be tested; ``templates/_charts.html``
only draws them, so a report needs no plotting library and no network.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from reports.bonus import DIGITS, number

WIDTH, HEIGHT = 460, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 24, 36
MAX_LABELS = 14
"""More x labels than this would overlap: then only every n-th is written."""


@dataclass(frozen=True)
class Bin:
    """Values ``low <= v < high`` (the last bin also takes everything above)."""

    low: float
    high: float
    count: int


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    title: str
    """What a hover shows (an SVG <title>): the range and the count."""
    labelled: bool


@dataclass(frozen=True)
class Marker:
    """A vertical line at a value, e.g. the pass mark."""

    x: float
    label: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class BarChart:
    title: str
    unit: str
    bars: tuple[Bar, ...]
    top: int
    """The largest count: the y axis runs from 0 to this."""
    marker: Marker | None = None
    width: int = WIDTH
    height: int = HEIGHT
    ticks: tuple[Tick, ...] = ()
    """The y axis's labelled counts, each with a grid line: 0, the top, and round steps between."""

    @property
    def baseline(self) -> float:
        return self.height - BOTTOM


def nice_step(span: float, bars: int = 25) -> float:
    """The smallest of 1, 2, 5, 10, 20, ... that splits ``span`` into at most ``bars`` bins."""
    if span <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(span / bars))
    for factor in (1, 2, 5, 10):
        step = max(1.0, factor * magnitude)
        if span / step <= bars:
            return float(step)
    return float(10 * magnitude)


def histogram(values: Iterable[float | Fraction], *, low: float, high: float, step: float) -> list[Bin]:
    """Counts in bins of width ``step`` from ``low`` up to ``high`` (a value equal to ``high`` is counted)."""
    size = max(1, math.ceil(round((high - low) / step, DIGITS)))
    counts = [0] * size
    for value in values:
        index = math.floor(round((value - low) / step, DIGITS))
        counts[min(max(index, 0), size - 1)] += 1
    return [Bin(low + i * step, low + (i + 1) * step, n) for i, n in enumerate(counts)]


def bar_chart(bins: list[Bin], *, title: str, unit: str, marker: tuple[float, str] | None = None) -> BarChart:
    """Rectangles for ``bins``, labelled by each bin's low edge; ``marker`` draws a line at a value."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / len(bins)
    top = max((b.count for b in bins), default=0) or 1
    every = math.ceil(len(bins) / MAX_LABELS)
    bars = []
    for i, b in enumerate(bins):
        height = plot_height * b.count / top
        title_text = f"{number(b.low)} to under {number(b.high)} {unit}: {b.count}"
        bars.append(
            Bar(
                LEFT + i * slot + 1,
                TOP + plot_height - height,
                max(slot - 2, 1),
                height,
                number(b.low),
                title_text,
                labelled=i % every == 0,
            )
        )
    line = None
    if marker is not None and bins:
        value, label = marker
        span = bins[-1].high - bins[0].low
        line = Marker(LEFT + plot_width * (value - bins[0].low) / span, label)
    return BarChart(title, unit, tuple(bars), top, line, ticks=y_ticks(top, plot_height))


def y_ticks(top: int, plot_height: float, most: int = 6) -> tuple[Tick, ...]:
    """Counts from 0 in round steps (1, 2, 5, 10, 20, ...), at most ``most`` of them, and ``top``
    itself unless it would crowd the last round one; each at its height above the baseline."""
    step = next(m * 10**k for k in range(12) for m in (1, 2, 5) if top / (m * 10**k) <= most - 1)
    counts = list(range(0, top + 1, step))
    if top - counts[-1] > step / 2:
        counts.append(top)
    return tuple(Tick(TOP + plot_height * (1 - c / top), str(c)) for c in counts)
