"""The measurements. Each section gets fresh server processes, so one section's blobs never
weigh on the next. Where two servers are compared they take turns (round by round, push by push,
pull by pull), so a change in the load of the machine (two cores, shared) weighs on both alike;
only one is ever busy. Every loop is bounded by a count and by a time budget.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from benchmarks.ops import OCI_MANIFEST, make_image, pull_blob, push_blob, push_image
from benchmarks.rawhttp import Buffer, HTTPError
from benchmarks.report import MIB
from benchmarks.servers import RegistryProcess
from benchmarks.wrk import WrkSettings, run_wrk

__all__ = [
    "BlobSource",
    "MemoryResult",
    "ThroughputResult",
    "measure_manifest_gets",
    "measure_memory",
    "measure_sha256",
    "measure_throughput",
]

MB = 1_000_000  # throughput is in MB/s, 10**6 bytes per second

ServerFactory = Callable[[], RegistryProcess]
Log = Callable[[str], None]


class BlobSource:
    """Distinct blobs of one size that share one random body and differ in their last 16
    bytes, so making blob ``i`` and its digest costs no copy and hashes 16 bytes."""

    TAIL = 16

    def __init__(self, size: int) -> None:
        if size <= self.TAIL:
            raise ValueError("blob size too small")
        self.size = size
        self.body = memoryview(os.urandom(size - self.TAIL))
        self._hasher = hashlib.sha256(self.body)

    def blob(self, index: int) -> tuple[list[Buffer], str]:
        tail = index.to_bytes(self.TAIL, "big")
        hasher = self._hasher.copy()
        hasher.update(tail)
        return [self.body, tail], f"sha256:{hasher.hexdigest()}"


# -- sha256 ------------------------------------------------------------------------------------


def measure_sha256(size: int, repeats: int) -> list[float]:
    """hashlib's sha256 on one core, MB/s: the ceiling of any registry that verifies digests
    as it receives (each upload is hashed sequentially, so it cannot use a second core)."""
    data = os.urandom(size)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        hashlib.sha256(data).digest()
        rates.append(size / (time.perf_counter() - start) / MB)
    return rates


# -- manifest GETs -----------------------------------------------------------------------------


def measure_manifest_gets(
    servers: Sequence[RegistryProcess],
    settings: WrkSettings,
    rounds: int,
    warmup: float,
    log: Log,
    fixed: Sequence[str] = (),
) -> dict[str, list[float]]:
    """Requests per second of ``GET /v2/<name>/manifests/<tag>`` with an OCI ``Accept`` header
    on each (running) server: a warm-up run each, then rounds that alternate between the
    servers, so a change in the machine's load weighs on both alike. Servers named in
    ``fixed`` answer a fixed manifest and get no image pushed."""
    urls = {}
    for server in servers:
        if server.name not in fixed:
            with server.connect(timeout=30) as conn:
                push_image(conn, "bench/image", "latest", make_image())
        urls[server.name] = f"http://127.0.0.1:{server.port}/v2/bench/image/manifests/latest"
        if warmup > 0:
            short = WrkSettings(settings.threads, settings.connections, warmup)
            run_wrk(urls[server.name], OCI_MANIFEST, short)
    rates: dict[str, list[float]] = {server.name: [] for server in servers}
    for _ in range(rounds):
        for server in servers:
            result = run_wrk(urls[server.name], OCI_MANIFEST, settings)
            if result.errors:
                raise RuntimeError(
                    f"{server.name}: {result.errors} failed requests under wrk:\n{result.output}"
                )
            rates[server.name].append(result.rate)
            log(f"  {server.name}: {result.rate:,.0f} req/s ({result.requests} requests)")
    return rates


# -- push and pull throughput ------------------------------------------------------------------


@dataclass(slots=True)
class ThroughputResult:
    push: list[float] = field(default_factory=list)  # MB/s, one per push
    pull: list[float] = field(default_factory=list)  # MB/s, one per timed pull
    note: str = ""


def measure_throughput(
    servers: Sequence[RegistryProcess],
    source: BlobSource,
    *,
    pushes: dict[str, int],
    pulls: int,
    budget: float,
    timeout: float,
    log: Log,
) -> dict[str, ThroughputResult]:
    """Monolithic pushes (POST, then PUT with the whole body and ``?digest=``) of distinct blobs
    of ``source.size`` bytes (``pushes[name]`` to each server), then pulls of the first one into
    a preallocated, pre-faulted buffer; every pulled body's digest is checked after the timed
    section. Servers take turns, push by push and pull by pull."""
    size = source.size
    name = "bench/blobs"
    deadline = time.monotonic() + budget
    results = {server.name: ThroughputResult() for server in servers}
    digests: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        conns = {s.name: stack.enter_context(s.connect(timeout=timeout)) for s in servers}
        for index in range(max(pushes.values(), default=0)):
            for server in servers:
                result = results[server.name]
                if index >= pushes.get(server.name, 0):
                    continue
                if index and time.monotonic() > deadline:
                    result.note = f"pushes stopped by the {budget:.0f}s budget after {index}"
                    continue
                parts, digest = source.blob(index)
                elapsed = push_blob(conns[server.name], name, parts, digest, timeout)
                digests.setdefault(server.name, digest)
                result.push.append(size / elapsed / MB)
                log(f"  {server.name}: push {size // MIB} MiB in {elapsed:.3f}s")
        # Touch every page now so the first timed pull does not pay for page faults.
        buffer = bytearray(b"\xff") * size
        view = memoryview(buffer)
        deadline = time.monotonic() + budget
        for index in range(pulls + 1):  # the first pull warms up and is not counted
            if index > 1 and time.monotonic() > deadline:
                for result in results.values():
                    result.note += f" pulls stopped by the {budget:.0f}s budget"
                break
            for server in servers:
                digest = digests[server.name]
                elapsed, received = pull_blob(conns[server.name], name, digest, buffer, timeout)
                if received != size:
                    raise HTTPError(f"{server.name}: pulled {received} bytes of {size}")
                actual = f"sha256:{hashlib.sha256(view[:received]).hexdigest()}"
                if actual != digest:
                    raise HTTPError(f"{server.name}: pulled bytes hash to {actual}, not {digest}")
                if index:
                    results[server.name].pull.append(size / elapsed / MB)
        for server in servers:
            rates = results[server.name].pull
            if rates:
                log(f"  {server.name}: pulls {', '.join(f'{r:,.0f}' for r in rates)} MB/s")
    return results


# -- memory ------------------------------------------------------------------------------------


@dataclass(slots=True)
class MemoryResult:
    blob_size: int
    blobs: int = 0
    baseline_rss: int = 0
    rss: int = 0  # VmRSS after the last push
    hwm: int = 0  # VmHWM: the peak over every upload
    upload_hwm: int = 0  # VmHWM reset before, and read after, the last upload alone
    push_rates: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def stored(self) -> int:
        return self.blobs * self.blob_size

    @staticmethod
    def limit(stored: int) -> float:
        """The goal: resident memory at most 1.15x the bytes stored plus 80 MiB."""
        return 1.15 * stored + 80 * MIB


def measure_memory(
    factory: ServerFactory,
    source: BlobSource,
    total: int,
    *,
    budget: float,
    timeout: float,
    log: Log,
) -> MemoryResult:
    """Push ``total`` bytes as distinct blobs to a fresh server and read its VmRSS and VmHWM."""
    count = total // source.size
    result = MemoryResult(blob_size=source.size)
    deadline = time.monotonic() + budget
    with factory() as server, server.connect(timeout=timeout) as conn:
        memory = server.memory
        result.baseline_rss = memory.rss
        for index in range(count):
            if time.monotonic() > deadline:
                result.note = f"stopped by the {budget:.0f}s budget after {index} blobs"
                break
            parts, digest = source.blob(index)
            last = index == count - 1
            if last:
                # The peak of one upload on top of everything already stored.
                peak_before = memory.hwm
                if not memory.reset_peak():
                    peak_before = 0
            elapsed = push_blob(conn, "bench/memory", parts, digest, timeout)
            if last:
                result.upload_hwm = memory.hwm
                result.hwm = max(peak_before, result.upload_hwm)
            result.push_rates.append(source.size / elapsed / MB)
            result.blobs += 1
        time.sleep(0.5)  # let a garbage-collected server settle
        result.rss = memory.rss
        result.hwm = max(result.hwm, memory.hwm)
        log(
            f"  {server.name}: {result.blobs} x {source.size // MIB} MiB stored, "
            f"RSS {result.rss / MIB:.1f} MiB, peak {result.hwm / MIB:.1f} MiB, "
            f"peak during the last upload {result.upload_hwm / MIB:.1f} MiB"
        )
    return result
