"""The executions chart's geometry: stacked bars in an SVG drawn by the server, each
bar's counts kept readable (its <title> and data- attributes) for people and tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from .stats import CHART_STATES, Bucket, Period

WIDTH, HEIGHT = 1000, 220
LEFT, BOTTOM, TOP = 36, 22, 8  # room for the axes' labels
MAX_LABELS = 8


@dataclass
class Segment:
    state: str
    count: int
    y: float
    height: float


@dataclass
class Bar:
    start: datetime
    label: str  # the bucket as the reader reads it, zone named
    tick: str  # the short label under the axis; empty for most bars when there are many
    total: int
    counts: dict[str, int]
    x: float
    width: float
    segments: list[Segment] = field(default_factory=list)

    @property
    def title(self) -> str:
        if not self.total:
            return f"{self.label}: no executions"
        parts = ", ".join(f"{count} {state}" for state, count in self.by_state)
        return f"{self.label}: {self.total} — {parts}"

    @property
    def by_state(self) -> list[tuple[str, int]]:
        return [(state, self.counts[state]) for state in CHART_STATES if self.counts.get(state)]

    @property
    def tick_x(self) -> float:
        return self.x + self.width / 2


@dataclass
class Chart:
    bars: list[Bar]
    top: int  # the y axis' highest value
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    base: int = HEIGHT - BOTTOM
    top_y: int = TOP

    @property
    def plot_height(self) -> int:
        return self.base - self.top_y


def chart_draw(buckets: list[Bucket], period: Period) -> Chart:
    top = max((bucket.total for bucket in buckets), default=0) or 1
    slot = (WIDTH - LEFT) / max(len(buckets), 1)
    plot = HEIGHT - BOTTOM - TOP
    every = -(-len(buckets) // MAX_LABELS)  # a tick label on one bar in `every`
    bars = []
    for index, bucket in enumerate(buckets):
        local = timezone.localtime(bucket.start)
        bar = Bar(
            start=bucket.start,
            label=_label(local, period),
            tick=_tick(local, period) if index % every == 0 else "",
            total=bucket.total,
            counts=bucket.counts,
            x=round(LEFT + index * slot + slot * 0.15, 2),
            width=round(slot * 0.7, 2),
        )
        y = float(HEIGHT - BOTTOM)
        for state, count in bar.by_state:
            height = round(plot * count / top, 2)
            y = round(y - height, 2)
            bar.segments.append(Segment(state, count, y, height))
        bars.append(bar)
    return Chart(bars=bars, top=top)


def _label(local: datetime, period: Period) -> str:
    zone = local.tzname() or ""
    if period.bucket == "day":
        return f"{local:%a %Y-%m-%d} {zone}".strip()
    return f"{local:%Y-%m-%d %H:%M} {zone}".strip()


def _tick(local: datetime, period: Period) -> str:
    return f"{local:%b %d}" if period.bucket == "day" else f"{local:%H:%M}"
