"""The results table: one row per metric, fakeregistry beside its ceiling (the same work done by
the simplest thing that can do it, measured in the same run) and beside distribution, with the
goals and whether they pass."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Goal", "Row", "format_table", "markdown_table", "median"]

MIB = 1024 * 1024

GoalKind = Literal[
    "ratio_at_least",
    "ratio_at_least_where_ceiling_allows",
    "at_least",
    "at_most",
    "share_at_least",
    "share_at_most",
]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass(frozen=True, slots=True)
class Goal:
    """``ratio_at_least``: fakeregistry / distribution >= value;
    ``ratio_at_least_where_ceiling_allows``: the same when the ceiling itself is at least
    ``value`` x distribution, and "n/a" when it is not (no server could reach it then; the
    row's share goal says how near the ceiling we are); ``share_at_least`` /
    ``share_at_most``: fakeregistry / its ceiling against value; ``at_least`` / ``at_most``:
    fakeregistry's own figure against ``value`` (in the row's unit)."""

    kind: GoalKind
    value: float
    text: str

    def check(
        self,
        ours: float | None,
        theirs: float | None,
        share: float | None = None,
        ceiling: float | None = None,
    ) -> str:
        if ours is None:
            return "n/a"
        if self.kind == "ratio_at_least_where_ceiling_allows":
            if not theirs or ceiling is None:
                return "n/a"
            if ceiling / theirs < self.value:
                return f"n/a (ceiling {ceiling / theirs:.2f}x)"
            return "PASS" if ours / theirs >= self.value else "FAIL"
        if self.kind in ("share_at_least", "share_at_most"):
            if share is None:
                return "n/a"
            ok = share >= self.value if self.kind == "share_at_least" else share <= self.value
            return "PASS" if ok else "FAIL"
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
    # The ceiling: what the simplest possible server (or hashlib) does, measured in the same
    # run; ``shares`` are fakeregistry / ceiling per round (their median is the share shown).
    ceiling: float | None = None
    ceiling_name: str = ""
    ceiling_samples: list[float] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)
    more_goals: list[Goal] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.theirs:
            return None
        return self.ours / self.theirs

    @property
    def share(self) -> float | None:
        if self.shares:
            return median(self.shares)
        if self.ours is None or not self.ceiling:
            return None
        return self.ours / self.ceiling

    @property
    def goals(self) -> list[Goal]:
        return ([self.goal] if self.goal else []) + self.more_goals

    @property
    def result(self) -> str:
        results = [
            goal.check(self.ours, self.theirs, self.share, self.ceiling) for goal in self.goals
        ]
        if not results:
            return "-"
        for verdict in ("FAIL", "n/a"):
            if verdict in results:
                return verdict
        # A goal out of any server's reach here says so beside the others' PASS.
        return "; ".join(["PASS", *(r for r in results if r.startswith("n/a ("))])

    def as_dict(self) -> dict[str, object]:
        return {
            "metric": self.metric,
            "unit": self.unit,
            "fakeregistry": self.ours,
            "distribution": self.theirs,
            "ratio": self.ratio,
            "ceiling": self.ceiling,
            "ceiling_name": self.ceiling_name,
            "share_of_ceiling": self.share,
            "goal": "; ".join(goal.text for goal in self.goals) or None,
            "result": self.result,
            "fakeregistry_samples": self.ours_samples,
            "distribution_samples": self.theirs_samples,
            "ceiling_samples": self.ceiling_samples,
            "shares": self.shares,
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
    header = (
        "metric",
        "fakeregistry",
        "ceiling",
        "share",
        "distribution",
        "ratio",
        "goal",
        "pass/fail",
    )
    lines = [header, *map(_cells, rows)]
    left = (0, 2, 6, 7)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        cells = [
            cell.ljust(widths[i]) if i in left else cell.rjust(widths[i])
            for i, cell in enumerate(line)
        ]
        out.append(" | ".join(cells).rstrip())
        if index == 0:
            out.append("-+-".join("-" * width for width in widths))
    return "\n".join(out)


def _cells(row: Row) -> tuple[str, ...]:
    """One row's cells, as both tables show them."""
    ratio, share = row.ratio, row.share
    ceiling = _number(row.ceiling, row.unit)
    if row.ceiling_name and row.ceiling is not None:
        ceiling = f"{ceiling} ({row.ceiling_name})"
    return (
        f"{row.metric} ({row.unit})",
        _number(row.ours, row.unit),
        ceiling,
        "-" if share is None else f"{share:.0%}",
        _number(row.theirs, row.unit),
        "-" if ratio is None else f"{ratio:.2f}x",
        "; ".join(goal.text for goal in row.goals) or "-",
        row.result,
    )


def markdown_table(rows: Sequence[Row]) -> str:
    """The same table in Markdown, for the README."""
    out = [
        "| metric | fakeregistry | ceiling | share | distribution | ratio | goal | result |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    out.extend("| " + " | ".join(_cells(row)) + " |" for row in rows)
    return "\n".join(out)
