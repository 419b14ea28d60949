"""``python -m benchmarks``: fakeregistry beside its ceilings and beside CNCF distribution.

Every figure is printed next to the ceiling of the same work measured in the same run (the
one-core sha256 rate and a loopback server that only ``recv_into``'s for pushes, one that only
``sendall``'s or ``sendfile``'s for pulls, a bare aiohttp handler for manifest GETs), next to
distribution where it is measured, and with a pass or fail against issue 14's goals. Sections:
manifest GETs under wrk, 64 MiB and 256 MiB push and pull, chunked uploads in 5 MiB PATCHes,
4 pushers + 4 pullers at once with manifest GET latency meanwhile, whole workflows (skopeo,
oras, 1,000 tagged manifest PUTs, a 500-test pytest module) and resident memory. ``--quick``
runs a short version with smaller blobs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import version

from benchmarks.report import MIB, Goal, Row, format_table, markdown_table, median
from benchmarks.sections import BlobSource, MemoryResult, measure_manifest_gets, measure_memory
from benchmarks.servers import (
    Distribution,
    FakeRegistry,
    RegistryProcess,
    bare_aiohttp,
    distribution_version,
    instrumented_registry,
    raw_ceiling,
)
from benchmarks.transfer import (
    measure_chunked,
    measure_concurrency,
    measure_pulls,
    measure_pushes,
    percentile,
)
from benchmarks.wrk import WrkSettings, wrk_path

SECTIONS = ("manifest", "blobs", "large", "chunked", "concurrency", "workflows", "memory")


@dataclass(frozen=True, slots=True)
class Plan:
    wrk: WrkSettings
    wrk_rounds: int
    wrk_warmup: float
    blob_size: int
    blob_rounds: int
    distribution_pushes: int
    large_size: int
    large_rounds: int
    chunked_size: int
    chunked_rounds: int
    concurrency_size: int
    concurrency_clients: int
    concurrency_per_client: int
    skopeo_rounds: int
    oras_rounds: int
    oras_files: int
    manifest_puts: int
    pytest_tests: int
    memory_total: int
    memory_blob: int
    memory_small_blob: int
    memory_budget: float
    timeout: float


FULL = Plan(
    wrk=WrkSettings(threads=1, connections=16, duration=5.0),
    wrk_rounds=3,
    wrk_warmup=1.0,
    blob_size=64 * MIB,
    blob_rounds=5,
    distribution_pushes=1,
    large_size=256 * MIB,
    large_rounds=3,
    chunked_size=64 * MIB,
    chunked_rounds=5,
    concurrency_size=64 * MIB,
    concurrency_clients=4,
    concurrency_per_client=2,
    skopeo_rounds=2,
    oras_rounds=2,
    oras_files=50,
    manifest_puts=1000,
    pytest_tests=500,
    memory_total=1024 * MIB,
    memory_blob=64 * MIB,
    memory_small_blob=4 * MIB,
    memory_budget=120.0,
    timeout=600.0,
)

QUICK = Plan(
    wrk=WrkSettings(threads=1, connections=16, duration=2.0),
    wrk_rounds=2,
    wrk_warmup=1.0,
    blob_size=16 * MIB,
    blob_rounds=3,
    distribution_pushes=1,
    large_size=64 * MIB,
    large_rounds=2,
    chunked_size=32 * MIB,
    chunked_rounds=2,
    concurrency_size=16 * MIB,
    concurrency_clients=4,
    concurrency_per_client=1,
    skopeo_rounds=1,
    oras_rounds=1,
    oras_files=50,
    manifest_puts=300,
    pytest_tests=100,
    memory_total=256 * MIB,
    memory_blob=64 * MIB,
    memory_small_blob=4 * MIB,
    memory_budget=30.0,
    timeout=120.0,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="fakeregistry beside its ceilings and CNCF distribution (in-memory).",
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
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    return parser


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cpu_hash_features() -> str:
    """The CPU's model and its hashing features, from /proc/cpuinfo."""
    model, flags = "unknown CPU", set()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    present = [flag for flag in ("sha_ni", "avx2", "avx512f", "ssse3") if flag in flags]
    sha = "with SHA extensions (sha_ni)" if "sha_ni" in flags else "without SHA extensions"
    return f"{model}, {sha}; flags: {' '.join(present) or 'none of sha_ni/avx2/avx512f/ssse3'}"


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


def _manifest(bench: Bench) -> None:
    plan = bench.plan
    _log(f"manifest GET: {plan.wrk.describe()}, {plan.wrk_rounds} rounds")
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(bare_aiohttp()),
            stack.enter_context(bench.ours()),
            stack.enter_context(instrumented_registry()),
            stack.enter_context(instrumented_registry(answer_cache=False)),
        ]
        if bench.compare:
            servers.append(stack.enter_context(bench.theirs()))
        rates = measure_manifest_gets(
            servers, plan.wrk, plan.wrk_rounds, plan.wrk_warmup, _log, fixed=[servers[0].name]
        )
    bare = rates[servers[0].name]
    theirs = rates.get(Distribution.name, [])
    bench.rows.append(
        Row(
            "ceiling: bare aiohttp handler, fixed manifest",
            "req/s",
            ceiling=median(bare),
            ceiling_samples=bare,
            ceiling_name="aiohttp",
        )
    )
    labels = (
        "serve --quiet",
        "log+faults idle",
        "log+faults idle, web layer (no answer replay)",
    )
    for server, label in zip(servers[1:4], labels, strict=True):
        goals = label == "log+faults idle"
        samples = rates[server.name]
        row = Row(
            f"manifest GET by tag, {label}",
            "req/s",
            ours=median(samples),
            theirs=median(theirs),
            ours_samples=samples,
            theirs_samples=theirs,
            ceiling=median(bare),
            ceiling_name="aiohttp",
            shares=[ours / ceiling for ours, ceiling in zip(samples, bare, strict=False)],
        )
        if goals:
            row.goal = Goal("ratio_at_least", 10.0, ">= 10x distribution")
            row.more_goals = [Goal("share_at_least", 0.6, ">= 60% of bare aiohttp")]
        bench.rows.append(row)


def _blobs(bench: Bench, *, large: bool) -> None:
    plan = bench.plan
    size = plan.large_size if large else plan.blob_size
    rounds = plan.large_rounds if large else plan.blob_rounds
    compare = bench.compare and not large
    _log(f"blobs: {size // MIB} MiB push and pull, {rounds} rounds")
    source = BlobSource(size)
    with contextlib.ExitStack() as stack:
        ours = stack.enter_context(bench.ours())
        ceiling = stack.enter_context(raw_ceiling())
        theirs = stack.enter_context(bench.theirs()) if compare else None
        pushes, digests = measure_pushes(
            ours, ceiling, theirs, source, rounds, plan.distribution_pushes, plan.timeout, _log
        )
        pulls = measure_pulls(
            ours,
            ceiling,
            theirs,
            size,
            digests[0],
            digests[-1] if theirs is not None else None,  # the last round's went to both
            rounds,
            plan.timeout,
            _log,
        )
    label = f"{size // MIB} MiB"
    if not large:
        sha256 = [r.sha256 for r in pushes]
        sha512 = [r.sha512 for r in pushes]
        receive = [r.receive for r in pushes]
        send = [r.ceiling for r in pulls]
        sendall = median([r.sendall for r in pulls]) or 0.0
        sendfile = median([r.sendfile for r in pulls]) or 0.0
        best_send = "sendall" if sendall >= sendfile else "sendfile"
        for name, samples, short in (
            (f"ceiling: hashlib sha256, one core, {label}", sha256, "sha256"),
            (f"ceiling: hashlib sha512, one core, {label}", sha512, "sha512"),
            (f"ceiling: loopback receive, recv_into only, {label}", receive, "recv_into"),
            (f"ceiling: loopback send, max(sendall, sendfile), {label}", send, best_send),
        ):
            bench.rows.append(
                Row(
                    name,
                    "MB/s",
                    ceiling=median(samples),
                    ceiling_samples=samples,
                    ceiling_name=short,
                )
            )
        bench.notes.append(
            f"loopback send {label}: sendall {sendall:,.0f} MB/s, "
            f"sendfile from a memfd {sendfile:,.0f} MB/s"
        )
    kept = [r.receive_kept for r in pushes]
    bench.rows.append(
        Row(
            f"ceiling: loopback receive into fresh memory kept (as a store), {label}",
            "MB/s",
            ceiling=median(kept),
            ceiling_samples=kept,
            ceiling_name="recv kept",
        )
    )
    plain = median([r.ours / r.receive_ceiling for r in pushes]) or 0.0
    bench.notes.append(
        f"push {label}: {plain:.0%} of min(sha256, recv) alone, the issue's ceiling (per round: "
        + ", ".join(f"{r.ours / r.receive_ceiling:.0%}" for r in pushes)
        + "); the table's ceiling adds receiving into kept fresh memory"
    )
    push = Row(
        f"push {label} blob, POST+PUT",
        "MB/s",
        ours=median([r.ours for r in pushes]),
        theirs=median([r.theirs for r in pushes if r.theirs is not None]),
        ours_samples=[r.ours for r in pushes],
        theirs_samples=[r.theirs for r in pushes if r.theirs is not None],
        ceiling=median([r.ceiling for r in pushes]),
        ceiling_name="min(sha256, recv, kept)",
        ceiling_samples=[r.ceiling for r in pushes],
        shares=[r.ours / r.ceiling for r in pushes],
        goal=Goal("share_at_least", 0.7, ">= 70% of min(sha256, recv, recv kept)"),
    )
    pull = Row(
        f"pull {label} blob, GET",
        "MB/s",
        ours=median([r.ours for r in pulls]),
        theirs=median([r.theirs for r in pulls if r.theirs is not None]),
        ours_samples=[r.ours for r in pulls],
        theirs_samples=[r.theirs for r in pulls if r.theirs is not None],
        ceiling=median([r.ceiling for r in pulls]),
        ceiling_name="send",
        ceiling_samples=[r.ceiling for r in pulls],
        shares=[r.ours / r.ceiling for r in pulls],
        goal=Goal("share_at_least", 0.9, ">= 90% of send"),
    )
    if not large:
        pull.more_goals = [
            Goal(
                "ratio_at_least_where_ceiling_allows",
                2.0,
                ">= 2x distribution where the ceiling allows",
            )
        ]
    bench.rows.extend((push, pull))


def _chunked(bench: Bench) -> None:
    plan = bench.plan
    size = plan.chunked_size
    _log(f"chunked: {size // MIB} MiB in 5 MiB PATCHes vs monolithic, {plan.chunked_rounds} rounds")
    source = BlobSource(size)
    with bench.ours() as ours:
        rounds = measure_chunked(ours, source, plan.chunked_rounds, 0, plan.timeout, _log)
    bench.rows.append(
        Row(
            f"push {size // MIB} MiB in 5 MiB PATCHes (Content-Range)",
            "MB/s",
            ours=median([c for c, _ in rounds]),
            ours_samples=[c for c, _ in rounds],
            ceiling=median([m for _, m in rounds]),
            ceiling_samples=[m for _, m in rounds],
            ceiling_name="monolithic",
            shares=[c / m for c, m in rounds],
            goal=Goal("share_at_least", 0.8, ">= 80% of monolithic"),
        )
    )


def _concurrency(bench: Bench) -> None:
    plan = bench.plan
    clients, size = plan.concurrency_clients, plan.concurrency_size
    _log(f"concurrency: {clients} pushers + {clients} pullers of distinct {size // MIB} MiB blobs")
    source = BlobSource(size)
    with bench.ours() as ours:
        result = measure_concurrency(
            ours, source, clients, plan.concurrency_per_client, plan.timeout, _log
        )
    label = f"{clients} pushers + {clients} pullers, {size // MIB} MiB"
    bench.rows.extend(
        [
            Row(
                f"{label}: pushes, aggregate",
                "MB/s",
                ours=result.push_aggregate,
                ceiling=result.single_push,
                ceiling_name="1 client",
            ),
            Row(
                f"{label}: pulls, aggregate",
                "MB/s",
                ours=result.pull_aggregate,
                ceiling=result.single_pull,
                ceiling_name="1 client",
            ),
            Row(
                f"{label}: all bytes, aggregate",
                "MB/s",
                ours=result.total_aggregate,
                ceiling=(result.single_push + result.single_pull) / 2,
                ceiling_name="1 client, mean",
            ),
            Row(
                "manifest GET p50 during those transfers",
                "ms",
                ours=statistics.median(result.busy_latency),
                ceiling=statistics.median(result.idle_latency),
                ceiling_name="idle",
            ),
            Row(
                "manifest GET p99 during those transfers",
                "ms",
                ours=percentile(result.busy_latency, 0.99),
                ceiling=percentile(result.idle_latency, 0.99),
                ceiling_name="idle",
            ),
        ]
    )
    bench.notes.append(
        f"concurrency: share = aggregate / one client alone; {len(result.busy_latency)} "
        f"manifest GETs timed during the transfers, {len(result.idle_latency)} idle"
    )


def _workflows(bench: Bench) -> None:
    from benchmarks.workflows import (
        manifest_puts,
        oras_push,
        pytest_module,
        skopeo_copies,
        skopeo_path,
    )

    plan = bench.plan
    _log("workflows: skopeo copy --all (7 platforms), oras push, manifest PUTs, pytest module")
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(bench.ours())]
        if bench.compare:
            servers.append(stack.enter_context(bench.theirs()))
        names = [s.name for s in servers]

        def time_row(metric: str, results: dict[str, list[float]]) -> Row:
            ours = results.get(names[0], [])
            theirs = results.get(Distribution.name, [])
            return Row(
                metric,
                "s",
                ours=median(ours),
                theirs=median(theirs),
                ours_samples=ours,
                theirs_samples=theirs,
            )

        if skopeo_path() is not None:
            copies = skopeo_copies(servers, plan.skopeo_rounds, plan.timeout, _log)
            bench.rows.append(
                time_row(
                    "skopeo copy --all 7-platform image into the registry",
                    {k: v[0] for k, v in copies.items()},
                )
            )
            bench.rows.append(
                time_row(
                    "skopeo copy --all 7-platform image out of it",
                    {k: v[1] for k, v in copies.items()},
                )
            )
        else:
            bench.notes.append("skopeo is not installed: the skopeo workflow was skipped")
        pushes = oras_push(servers, plan.oras_rounds, plan.oras_files, _log)
        bench.rows.append(
            time_row(f"oras push of {plan.oras_files} small files (python client)", pushes)
        )
        puts = manifest_puts(servers, plan.manifest_puts, plan.timeout, _log)
        bench.rows.append(
            Row(
                f"{plan.manifest_puts} manifest PUTs, each with its own tag",
                "PUT/s",
                ours=puts.get(names[0]),
                theirs=puts.get(Distribution.name),
            )
        )
    runs = pytest_module(plan.pytest_tests, bench.compare, plan.timeout, _log)
    bench.rows.append(
        Row(
            f"pytest module of {plan.pytest_tests} tests using fake_registry",
            "s",
            ours=runs.get("fakeregistry"),
            theirs=runs.get("distribution"),
        )
    )
    bench.notes.append(
        "workflow times in seconds (lower is better; ratio < 1: fakeregistry is faster); the "
        "distribution pytest run uses the plugin's external mode (--fake-registry-url) and "
        "includes starting one distribution process for the session"
    )


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
    steps: dict[str, Callable[[], None]] = {
        "manifest": lambda: _manifest(bench),
        "blobs": lambda: _blobs(bench, large=False),
        "large": lambda: _blobs(bench, large=True),
        "chunked": lambda: _chunked(bench),
        "concurrency": lambda: _concurrency(bench),
        "workflows": lambda: _workflows(bench),
        "memory": lambda: _memory(bench),
    }
    for section in SECTIONS:
        if section in sections:
            steps[section]()
    elapsed = time.monotonic() - started
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
    if args.markdown:
        print()
        print(markdown_table(bench.rows))
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
        f"cpu: {cpu_hash_features()}",
        "fakeregistry: python -m fakeregistry serve --port 0 --quiet"
        + "".join(f" {arg}" for arg in server_args)
        + "; 'log+faults idle': the same with the request log and fault middleware installed",
        "share: fakeregistry / the ceiling measured in the same rounds (median of per-round "
        "shares); ratio: fakeregistry / distribution",
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
            f"blobs: per round sha256/sha512 of a {plan.blob_size // MIB} MiB buffer, an "
            "upload to the ceiling server, a monolithic POST+PUT of a distinct blob "
            f"({plan.blob_rounds} rounds; {plan.large_rounds} of {plan.large_size // MIB} MiB"
            + (f"; {plan.distribution_pushes} to distribution" if compare else "")
            + "), then the pulls (sendall, sendfile, GETs) into a preallocated buffer, digest "
            "checked after each; MB/s = 10^6 bytes/s; one blocking-socket client"
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
