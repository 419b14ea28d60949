"""``python -m benchmarks``: fakeregistry and CNCF distribution side by side.

Measures manifest GETs per second under wrk, monolithic push and pull throughput of a 64 MiB blob
(and of a 256 MiB blob for fakeregistry alone: distribution's in-memory driver copies its whole
buffer on every write, so its uploads slow down with the square of the size), resident memory
after storing 1 GiB of blobs and at the peak of an upload, and the single-core sha256 rate that
bounds any registry verifying digests as it receives. Prints one table with the goals of the
"Registry core" issue. ``--quick`` runs a short version with smaller blobs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import version

from benchmarks.report import MIB, Goal, Row, format_table, median
from benchmarks.sections import (
    BlobSource,
    MemoryResult,
    measure_manifest_gets,
    measure_memory,
    measure_sha256,
    measure_throughput,
)
from benchmarks.servers import Distribution, FakeRegistry, RegistryProcess, distribution_version
from benchmarks.wrk import WrkSettings, wrk_path

SECTIONS = ("sha256", "manifest", "blobs", "large", "memory")


@dataclass(frozen=True, slots=True)
class Plan:
    wrk: WrkSettings
    wrk_rounds: int
    wrk_warmup: float
    blob_size: int
    pushes: int
    distribution_pushes: int
    pulls: int
    distribution_budget: float
    large_size: int
    large_pushes: int
    large_pulls: int
    memory_total: int
    memory_blob: int
    memory_small_blob: int
    memory_budget: float
    sha_size: int
    sha_repeats: int
    timeout: float


FULL = Plan(
    wrk=WrkSettings(threads=1, connections=16, duration=10.0),
    wrk_rounds=3,
    wrk_warmup=2.0,
    blob_size=64 * MIB,
    pushes=7,
    distribution_pushes=3,
    pulls=7,
    distribution_budget=300.0,
    large_size=256 * MIB,
    large_pushes=3,
    large_pulls=5,
    memory_total=1024 * MIB,
    memory_blob=64 * MIB,
    memory_small_blob=4 * MIB,
    memory_budget=300.0,
    sha_size=64 * MIB,
    sha_repeats=5,
    timeout=600.0,
)

QUICK = Plan(
    wrk=WrkSettings(threads=1, connections=16, duration=3.0),
    wrk_rounds=2,
    wrk_warmup=1.0,
    blob_size=16 * MIB,
    pushes=3,
    distribution_pushes=2,
    pulls=3,
    distribution_budget=60.0,
    large_size=64 * MIB,
    large_pushes=2,
    large_pulls=2,
    memory_total=256 * MIB,
    memory_blob=64 * MIB,
    memory_small_blob=4 * MIB,
    memory_budget=60.0,
    sha_size=16 * MIB,
    sha_repeats=3,
    timeout=120.0,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="fakeregistry vs CNCF distribution (in-memory), side by side.",
    )
    parser.add_argument("--quick", action="store_true", help="a short run with smaller blobs")
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)",
    )
    parser.add_argument("--no-distribution", action="store_true", help="measure fakeregistry alone")
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for 'fakeregistry serve' (repeatable)",
    )
    parser.add_argument("--wrk-threads", type=int, help="wrk -t (default 1)")
    parser.add_argument("--wrk-connections", type=int, help="wrk -c (default 16)")
    parser.add_argument("--wrk-duration", type=float, help="seconds per wrk round")
    parser.add_argument("--wrk-rounds", type=int, help="wrk rounds per server")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return parser


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _memory_rows(label: str, ours: MemoryResult | None, theirs: MemoryResult | None) -> list[Row]:
    stored = ours.stored if ours else theirs.stored if theirs else 0
    limit = MemoryResult.limit(stored) / MIB
    goal = Goal("at_most", limit, f"<= {limit:,.0f} MiB (1.15x + 80 MiB)")
    rows = []
    for metric, attribute in (
        (f"RSS after storing {label}", "rss"),
        (f"peak RSS (VmHWM) over the uploads of {label}", "hwm"),
    ):
        row = Row(metric, "MiB", goal=goal)
        if ours is not None and ours.stored == stored:
            row.ours = getattr(ours, attribute) / MIB
        if theirs is not None:
            if theirs.stored == stored:
                row.theirs = getattr(theirs, attribute) / MIB
            else:
                row.note = f"distribution: {theirs.note}"
        rows.append(row)
    return rows


def _size_label(total: int, blob: int) -> str:
    amount = f"{total // 1024 // MIB} GiB" if total >= 1024 * MIB else f"{total // MIB} MiB"
    return f"{amount} ({total // blob} x {blob // MIB} MiB)"


@dataclass(slots=True)
class Bench:
    """One run: the plan, how to start each server, and the rows and notes so far."""

    plan: Plan
    compare: bool
    server_args: tuple[str, ...]
    rows: list[Row]
    notes: list[str]

    def ours(self) -> RegistryProcess:
        return FakeRegistry(self.server_args)

    def theirs(self) -> RegistryProcess:
        return Distribution()

    def start(self, stack: contextlib.ExitStack, *, alone: bool = False) -> list[RegistryProcess]:
        """Start fakeregistry (and distribution unless ``alone``) for the ``with`` block."""
        servers = [stack.enter_context(self.ours())]
        if self.compare and not alone:
            servers.append(stack.enter_context(self.theirs()))
        return servers


def _sha256(bench: Bench) -> None:
    plan = bench.plan
    _log("sha256: hashlib, one core")
    rates = measure_sha256(plan.sha_size, plan.sha_repeats)
    row = Row("hashlib sha256, one core (push ceiling)", "MB/s", median(rates))
    row.ours_samples = rates
    bench.rows.append(row)


def _manifest(bench: Bench) -> None:
    plan = bench.plan
    _log(f"manifest GET: {plan.wrk.describe()}, {plan.wrk_rounds} rounds")
    row = Row(
        "manifest GET by tag, OCI Accept",
        "req/s",
        goal=Goal("ratio_at_least", 5.0, ">= 5x distribution"),
    )
    with contextlib.ExitStack() as stack:
        servers = bench.start(stack)
        rates = measure_manifest_gets(servers, plan.wrk, plan.wrk_rounds, plan.wrk_warmup, _log)
    row.ours_samples = rates.get(FakeRegistry.name, [])
    row.theirs_samples = rates.get(Distribution.name, [])
    row.ours, row.theirs = median(row.ours_samples), median(row.theirs_samples)
    bench.rows.append(row)


def _blobs(bench: Bench, *, large: bool) -> None:
    plan = bench.plan
    size = plan.large_size if large else plan.blob_size
    pushes = {
        FakeRegistry.name: plan.large_pushes if large else plan.pushes,
        Distribution.name: plan.distribution_pushes,
    }
    pulls = plan.large_pulls if large else plan.pulls
    who = "fakeregistry alone" if large or not bench.compare else "both"
    _log(f"blobs: {size // MIB} MiB push and pull, {who}")
    source = BlobSource(size)
    with contextlib.ExitStack() as stack:
        servers = bench.start(stack, alone=large)
        results = measure_throughput(
            servers,
            source,
            pushes=pushes,
            pulls=pulls,
            budget=plan.distribution_budget,
            timeout=plan.timeout,
            log=_log,
        )
    push = Row(
        f"push {size // MIB} MiB blob, POST+PUT",
        "MB/s",
        goal=Goal("at_least", 600.0, ">= 600 MB/s"),
    )
    pull = Row(f"pull {size // MIB} MiB blob, GET", "MB/s")
    if not large:
        pull.goal = Goal("ratio_at_least", 2.0, ">= 2x distribution")
    for name, result in results.items():
        if result.note:
            bench.notes.append(f"{name} {size // MIB} MiB: {result.note.strip()}")
    mine, other = results.get(FakeRegistry.name), results.get(Distribution.name)
    if mine is not None:
        push.ours_samples, pull.ours_samples = mine.push, mine.pull
    if other is not None:
        push.theirs_samples, pull.theirs_samples = other.push, other.pull
    for row in (push, pull):
        row.ours, row.theirs = median(row.ours_samples), median(row.theirs_samples)
    bench.rows.extend((push, pull))


def _memory(bench: Bench) -> None:
    plan = bench.plan
    total = plan.memory_total
    _log(f"memory: {total // MIB} MiB of blobs")

    def measure(factory: Callable[[], RegistryProcess], source: BlobSource) -> MemoryResult:
        return measure_memory(
            factory, source, total, budget=plan.memory_budget, timeout=plan.timeout, log=_log
        )

    source = BlobSource(plan.memory_blob)
    big = measure(bench.ours, source)
    del source
    bench.rows.extend(_memory_rows(_size_label(total, plan.memory_blob), big, None))
    source = BlobSource(plan.memory_small_blob)
    small_ours = measure(bench.ours, source)
    small_theirs = None
    if bench.compare:
        small_theirs = measure(bench.theirs, source)
        if small_theirs.note:
            bench.notes.append(f"distribution memory: {small_theirs.note}")
    label = _size_label(total, plan.memory_small_blob)
    bench.rows.extend(_memory_rows(label, small_ours, small_theirs))
    bench.notes.append(
        f"fakeregistry RSS at start {big.baseline_rss / MIB:.1f} MiB; peak RSS during the "
        f"last {plan.memory_blob // MIB} MiB upload alone {big.upload_hwm / MIB:.1f} MiB"
    )


def run(args: argparse.Namespace) -> int:
    plan = QUICK if args.quick else FULL
    wrk = plan.wrk
    if args.wrk_threads:
        wrk = replace(wrk, threads=args.wrk_threads)
    if args.wrk_connections:
        wrk = replace(wrk, connections=args.wrk_connections)
    if args.wrk_duration:
        wrk = replace(wrk, duration=args.wrk_duration)
    plan = replace(plan, wrk=wrk, wrk_rounds=args.wrk_rounds or plan.wrk_rounds)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        print(f"unknown sections: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    compare = not args.no_distribution
    if compare and not Distribution.available():
        print(
            "distribution (/usr/bin/docker-registry) is not installed; --no-distribution "
            "measures fakeregistry alone",
            file=sys.stderr,
        )
        return 2
    if "manifest" in sections and wrk_path() is None:
        print("wrk is not installed (Debian package 'wrk')", file=sys.stderr)
        return 2

    bench = Bench(plan, compare, tuple(args.server_arg), [], [])
    started = time.monotonic()
    if "sha256" in sections:
        _sha256(bench)
    if "manifest" in sections:
        _manifest(bench)
    if "blobs" in sections:
        _blobs(bench, large=False)
    if "large" in sections:
        _blobs(bench, large=True)
    if "memory" in sections:
        _memory(bench)
    elapsed = time.monotonic() - started

    sha = next((row.ours for row in bench.rows if row.metric.startswith("hashlib")), None)
    if sha:
        for row in bench.rows:
            if row.metric.startswith("push") and row.ours is not None:
                bench.notes.append(
                    f"{row.metric}: fakeregistry at {row.ours / sha:.0%} of the one-core sha256 "
                    f"rate ({sha:,.0f} MB/s), the ceiling of a registry that verifies as it "
                    "receives"
                )
    settings = _settings(plan, sections, compare, bench.server_args)
    notes = bench.notes + [f"{row.metric}: {row.note}" for row in bench.rows if row.note]
    print()
    print(settings)
    print()
    print(format_table(bench.rows))
    if notes:
        print()
        for note in notes:
            print(f"note: {note}")
    print(f"\n(total {elapsed:.0f}s)")
    if args.json:
        with open(args.json, "w") as file:
            document = {
                "settings": settings,
                "rows": [row.as_dict() for row in bench.rows],
                "notes": notes,
                "seconds": elapsed,
            }
            json.dump(document, file, indent=2)
    return 0


def _settings(
    plan: Plan, sections: Sequence[str], compare: bool, server_args: tuple[str, ...]
) -> str:
    lines = [
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, aiohttp {version('aiohttp')}",
        "fakeregistry: python -m fakeregistry serve --port 0 --quiet"
        + "".join(f" {arg}" for arg in server_args),
    ]
    if compare:
        lines.append(
            f"distribution: {distribution_version()} (in-memory storage, access log off, "
            "log level warn)"
        )
    if "manifest" in sections:
        lines.append(
            f"manifest GET: {plan.wrk.describe()} (one wrk thread: a core for wrk, a core for "
            f"the server), {plan.wrk_rounds} rounds per server taking turns, after a "
            f"{plan.wrk_warmup:g}s warm-up; median req/s; Accept: OCI image manifest"
        )
    if "blobs" in sections or "large" in sections:
        lines.append(
            f"blobs: monolithic POST+PUT of distinct {plan.blob_size // MIB} MiB blobs "
            f"({plan.pushes} pushes to fakeregistry"
            + (f", {plan.distribution_pushes} to distribution" if compare else "")
            + f"; {plan.large_pushes} of {plan.large_size // MIB} MiB), then 1 warm-up + "
            f"{plan.pulls} timed pulls ({plan.large_pulls} of {plan.large_size // MIB} MiB) "
            "into a preallocated buffer, digest checked after each, servers taking turns; "
            "MB/s = 10^6 bytes/s, medians; one blocking-socket client"
        )
    if "memory" in sections:
        lines.append(
            "memory: VmRSS after the pushes and VmHWM (peak) over them, from /proc/PID/status "
            "of a fresh server; goal 1.15 x bytes stored + 80 MiB"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    return run(_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
