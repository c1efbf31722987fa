"""The benchmark's tables: one row per measure, its median, its target and a verdict."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


def signed_ms(seconds: float) -> str:
    return f"{seconds * 1000:+.1f} ms"


@dataclass
class Row:
    name: str
    value: str
    spread: str = ""
    target: str = ""
    verdict: str = ""


@dataclass
class Report:
    title: str
    rows: list[Row] = field(default_factory=list)
    breakdowns: list[tuple[str, dict[str, list[float]], Callable[[float], str]]] = field(
        default_factory=list
    )
    notes: list[str] = field(default_factory=list)

    def measured(
        self,
        name: str,
        values: Sequence[float],
        fmt: Callable[[float], str] = ms,
        target: str = "",
        ok: bool | None = None,
    ) -> float:
        median = statistics.median(values)
        spread = f"min {fmt(min(values))}, max {fmt(max(values))}, n={len(values)}"
        self.rows.append(Row(name, fmt(median), spread, target, verdict(ok)))
        return median

    def derived(
        self, name: str, value: str, target: str = "", ok: bool | None = None, spread: str = ""
    ) -> None:
        self.rows.append(Row(name, value, spread, target, verdict(ok)))

    def skipped(self, name: str, reason: str) -> None:
        self.rows.append(Row(name, "skipped", reason))

    def section(self, name: str) -> None:
        self.rows.append(Row(f"-- {name}", ""))

    def print(self) -> None:
        width = max(len(r.name) for r in self.rows)
        print()
        print(self.title)
        print("=" * len(self.title))
        header = f"{'measure':<{width}}  {'median':>12}  {'target':<12} {'':<6}  spread"
        print(header)
        print("-" * len(header))
        for r in self.rows:
            if r.name.startswith("-- "):
                print(r.name)
                continue
            print(f"{r.name:<{width}}  {r.value:>12}  {r.target:<12} {r.verdict:<6}  {r.spread}")
        for title, stages, fmt in self.breakdowns:
            print()
            print(f"{title}, from the rows' own timestamps")
            name_width = max(len(n) for n in stages)
            print(f"  {'stage':<{name_width}}  {'median':>10}  {'max':>10}")
            for name, values in stages.items():
                median, top = fmt(statistics.median(values)), fmt(max(values))
                print(f"  {name:<{name_width}}  {median:>10}  {top:>10}")
        for note in self.notes:
            print(f"note: {note}")


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("MET" if ok else "MISSED")
