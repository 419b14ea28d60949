"""The results table: one row per metric, the two registries side by side, and the goal."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Goal", "Row", "format_table", "median"]

MIB = 1024 * 1024

GoalKind = Literal["ratio_at_least", "at_least", "at_most"]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass(frozen=True, slots=True)
class Goal:
    """``ratio_at_least``: fakeregistry / distribution >= value; ``at_least`` / ``at_most``:
    fakeregistry's own figure against ``value`` (in the row's unit)."""

    kind: GoalKind
    value: float
    text: str

    def check(self, ours: float | None, theirs: float | None) -> str:
        if ours is None:
            return "n/a"
        if self.kind == "ratio_at_least":
            if not theirs:
                return "n/a"
            return "PASS" if ours / theirs >= self.value else "FAIL"
        if self.kind == "at_least":
            return "PASS" if ours >= self.value else "FAIL"
        return "PASS" if ours <= self.value else "FAIL"


@dataclass(slots=True)
class Row:
    metric: str
    unit: str
    ours: float | None = None
    theirs: float | None = None
    goal: Goal | None = None
    # Each measurement behind the medians, for the JSON output.
    ours_samples: list[float] = field(default_factory=list)
    theirs_samples: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.theirs:
            return None
        return self.ours / self.theirs

    @property
    def result(self) -> str:
        return self.goal.check(self.ours, self.theirs) if self.goal else "-"

    def as_dict(self) -> dict[str, object]:
        return {
            "metric": self.metric,
            "unit": self.unit,
            "fakeregistry": self.ours,
            "distribution": self.theirs,
            "ratio": self.ratio,
            "goal": self.goal.text if self.goal else None,
            "result": self.result,
            "fakeregistry_samples": self.ours_samples,
            "distribution_samples": self.theirs_samples,
            "note": self.note,
        }


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "MiB":
        return f"{value:,.1f}"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def format_table(rows: Sequence[Row]) -> str:
    header = ("metric", "fakeregistry", "distribution", "ratio", "goal", "pass/fail")
    lines: list[tuple[str, ...]] = [header]
    for row in rows:
        ratio = row.ratio
        lines.append(
            (
                f"{row.metric} ({row.unit})",
                _number(row.ours, row.unit),
                _number(row.theirs, row.unit),
                "-" if ratio is None else f"{ratio:.2f}x",
                row.goal.text if row.goal else "-",
                row.result,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        cells = [
            cell.ljust(widths[i]) if i in (0, 4, 5) else cell.rjust(widths[i])
            for i, cell in enumerate(line)
        ]
        out.append(" | ".join(cells).rstrip())
        if index == 0:
            out.append("-+-".join("-" * width for width in widths))
    return "\n".join(out)
