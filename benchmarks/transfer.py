"""Push and pull throughput beside their ceilings, chunked uploads, and concurrent transfers.

Every round runs the ceilings and the registries back to back with the same client and bytes:
the one-core sha256 rate over a buffer of the blob's size, an upload to the loopback ceiling
server (``recv_into`` only), the push to fakeregistry (and to distribution while its budget
lasts); then for pulls the ceiling server's ``sendall`` and ``sendfile`` and the GETs. A round's
share is fakeregistry's rate over that round's ceiling, so a change in the machine's load (two
shared cores) weighs on both; the table shows the median share.
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from benchmarks.ceilings import MB, hash_rate
from benchmarks.ops import OCI_MANIFEST, make_image, pull_blob, push_blob, push_image
from benchmarks.rawhttp import Buffer, Connection, HTTPError
from benchmarks.report import MIB
from benchmarks.sections import BlobSource
from benchmarks.servers import RegistryProcess

__all__ = [
    "ConcurrencyResult",
    "PullRound",
    "PushRound",
    "measure_chunked",
    "measure_concurrency",
    "measure_pulls",
    "measure_pushes",
]

Log = Callable[[str], None]
CHUNK = 5 * MIB


@dataclass(slots=True)
class PushRound:
    sha256: float
    sha512: float
    receive: float  # the loopback ceiling: upload to a server that only recv_into's
    # The same into fresh memory it keeps, as an in-memory store does (the physical limit
    # of storing: on this VM untouched memory faults slowly once a process holds ~1 GB).
    receive_kept: float
    ours: float
    theirs: float | None = None

    @property
    def receive_ceiling(self) -> float:
        """The issue's ceiling: min(one-core sha256, loopback receive)."""
        return min(self.sha256, self.receive)

    @property
    def ceiling(self) -> float:
        """What any in-memory registry is bound by: that, and storing into fresh memory."""
        return min(self.sha256, self.receive, self.receive_kept)


def upload_ceiling(
    conn: Connection, parts: Sequence[Buffer], timeout: float, *, keep: bool = False
) -> float:
    """MB/s of POST + PUT of ``parts`` to the raw ceiling server (``keep``: into fresh memory
    that it keeps)."""
    size = sum(len(part) for part in parts)
    start = time.perf_counter()
    conn.request("POST", "/upload/", timeout=timeout).expect(202)
    target = "/upload/1?keep=1" if keep else "/upload/1"
    conn.request("PUT", target, {}, parts, timeout=timeout).expect(201)
    return size / (time.perf_counter() - start) / MB


def measure_pushes(
    ours: RegistryProcess,
    ceiling: RegistryProcess,
    theirs: RegistryProcess | None,
    source: BlobSource,
    rounds: int,
    their_rounds: int,
    timeout: float,
    log: Log,
) -> tuple[list[PushRound], list[str]]:
    """``rounds`` rounds; the digest of each blob pushed to fakeregistry, in order."""
    whole = memoryview(bytes(source.body) + bytes(source.TAIL))
    results: list[PushRound] = []
    digests: list[str] = []
    with contextlib.ExitStack() as stack:
        mine = stack.enter_context(ours.connect(timeout=timeout))
        raw = stack.enter_context(ceiling.connect(timeout=timeout))
        other = stack.enter_context(theirs.connect(timeout=timeout)) if theirs else None
        for index in range(rounds):
            parts, digest = source.blob(index)
            sha256 = hash_rate("sha256", whole)
            sha512 = hash_rate("sha512", whole)
            receive = upload_ceiling(raw, parts, timeout)
            receive_kept = upload_ceiling(raw, parts, timeout, keep=True)
            rate = source.size / push_blob(mine, "bench/blobs", parts, digest, timeout) / MB
            digests.append(digest)
            result = PushRound(sha256, sha512, receive, receive_kept, rate)
            # Distribution's pushes come last: its in-memory driver copies the buffer on every
            # write (~25 s a 64 MiB push) and its garbage collector went on using a core
            # afterwards, which halved our next round when it came first.
            if other is not None and index >= rounds - their_rounds:
                elapsed = push_blob(other, "bench/blobs", parts, digest, timeout)
                result.theirs = source.size / elapsed / MB
            results.append(result)
            log(
                f"  push {source.size // MIB} MiB: sha256 {sha256:,.0f}, receive ceiling "
                f"{receive:,.0f}, into kept memory {receive_kept:,.0f}, fakeregistry {rate:,.0f}"
                + (f", distribution {result.theirs:,.1f}" if result.theirs else "")
                + " MB/s"
            )
    return results, digests


@dataclass(slots=True)
class PullRound:
    sendall: float
    sendfile: float
    ours: float
    theirs: float | None = None

    @property
    def ceiling(self) -> float:
        return max(self.sendall, self.sendfile)


def measure_pulls(
    ours: RegistryProcess,
    ceiling: RegistryProcess,
    theirs: RegistryProcess | None,
    size: int,
    digest: str,
    their_digest: str | None,
    rounds: int,
    timeout: float,
    log: Log,
) -> list[PullRound]:
    """Pulls of a stored blob into a preallocated, pre-faulted buffer (one warm-up each)."""
    import hashlib

    buffer = bytearray(b"\xff") * size
    view = memoryview(buffer)
    results: list[PullRound] = []
    with contextlib.ExitStack() as stack:
        mine = stack.enter_context(ours.connect(timeout=timeout))
        raw = stack.enter_context(ceiling.connect(timeout=timeout))
        other = stack.enter_context(theirs.connect(timeout=timeout)) if theirs else None

        def timed_get(conn: Connection, target: str) -> float:
            start = time.perf_counter()
            response = conn.request("GET", target, into=buffer, timeout=timeout).expect(200)
            elapsed = time.perf_counter() - start
            if response.received != size:
                raise HTTPError(f"{target}: got {response.received} of {size} bytes")
            return size / elapsed / MB

        def registry_get(conn: Connection, blob: str) -> float:
            rate = timed_get(conn, f"/v2/bench/blobs/blobs/{blob}")
            actual = f"sha256:{hashlib.sha256(view).hexdigest()}"
            if actual != blob:
                raise HTTPError(f"pulled bytes hash to {actual}, not {blob}")
            return rate

        for index in range(rounds + 1):  # the first round warms up and is not counted
            result = PullRound(
                sendall=timed_get(raw, f"/blob/{size}?via=sendall"),
                sendfile=timed_get(raw, f"/blob/{size}?via=sendfile"),
                ours=registry_get(mine, digest),
            )
            if other is not None and their_digest is not None:
                result.theirs = registry_get(other, their_digest)
            if index:
                results.append(result)
                log(
                    f"  pull {size // MIB} MiB: sendall {result.sendall:,.0f}, sendfile "
                    f"{result.sendfile:,.0f}, fakeregistry {result.ours:,.0f}"
                    + (f", distribution {result.theirs:,.0f}" if result.theirs else "")
                    + " MB/s"
                )
    return results


def push_chunked(
    conn: Connection, name: str, parts: Sequence[Buffer], digest: str, timeout: float
) -> float:
    """POST, PATCH with ``Content-Range`` in 5 MiB chunks, PUT ``?digest=``; seconds."""
    whole = memoryview(b"".join(parts)) if len(parts) > 1 else memoryview(parts[0])
    start = time.perf_counter()
    started = conn.request("POST", f"/v2/{name}/blobs/uploads/", timeout=timeout).expect(202)
    target = conn.path_of(started.header("Location"))
    for offset in range(0, len(whole), CHUNK):
        chunk = whole[offset : offset + CHUNK]
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
        }
        response = conn.request("PATCH", target, headers, [chunk], timeout=timeout).expect(202)
        target = conn.path_of(response.header("Location"))
    target += ("&" if "?" in target else "?") + f"digest={digest}"
    conn.request("PUT", target, {"Content-Length": "0"}, timeout=timeout).expect(201)
    return time.perf_counter() - start


def measure_chunked(
    ours: RegistryProcess, source: BlobSource, rounds: int, offset: int, timeout: float, log: Log
) -> list[tuple[float, float]]:
    """(chunked, monolithic) MB/s per round, back to back on one connection."""
    out = []
    with ours.connect(timeout=timeout) as conn:
        for index in range(rounds):
            parts, digest = source.blob(offset + 2 * index)
            # The blob is joined once outside the timing: the client sends slices of it.
            joined = [memoryview(b"".join(parts))]
            chunked = source.size / push_chunked(conn, "bench/chunked", joined, digest, timeout)
            parts, digest = source.blob(offset + 2 * index + 1)
            whole = source.size / push_blob(conn, "bench/chunked", parts, digest, timeout)
            out.append((chunked / MB, whole / MB))
            log(f"  chunked 5 MiB PATCHes {chunked / MB:,.0f} MB/s, monolithic {whole / MB:,.0f}")
    return out


@dataclass(slots=True)
class ConcurrencyResult:
    single_push: float = 0.0
    single_pull: float = 0.0
    push_aggregate: float = 0.0
    pull_aggregate: float = 0.0
    total_aggregate: float = 0.0
    idle_latency: list[float] = field(default_factory=list)  # ms
    busy_latency: list[float] = field(default_factory=list)  # ms


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure_concurrency(
    server: RegistryProcess,
    source: BlobSource,
    clients: int,
    per_client: int,
    timeout: float,
    log: Log,
) -> ConcurrencyResult:
    """``clients`` pushers of distinct blobs and ``clients`` pullers of distinct stored blobs at
    once (``per_client`` transfers each), against one client alone doing the same; a loop of
    manifest GETs on its own connection measures latency while they run and while idle."""
    result = ConcurrencyResult()
    size = source.size
    with server.connect(timeout=timeout) as conn:
        push_image(conn, "bench/image", "latest", make_image())
        stored = []
        for index in range(clients):
            parts, digest = source.blob(10_000 + index)
            push_blob(conn, "bench/pull", parts, digest, timeout)
            stored.append(digest)
        buffer = bytearray(b"\xff") * size
        pull_blob(conn, "bench/pull", stored[0], buffer, timeout)  # warm-up
        parts, digest = source.blob(20_000)
        result.single_push = size / push_blob(conn, "bench/push", parts, digest, timeout) / MB
        result.single_pull = (
            size / pull_blob(conn, "bench/pull", stored[0], buffer, timeout)[0] / MB
        )

    stop = threading.Event()

    def latency_loop(out: list[float]) -> None:
        with server.connect(timeout=timeout) as conn:
            while not stop.is_set():
                start = time.perf_counter()
                conn.request(
                    "GET", "/v2/bench/image/manifests/latest", {"Accept": OCI_MANIFEST}
                ).expect(200)
                out.append((time.perf_counter() - start) * 1000)
                time.sleep(0.002)

    # Idle latency first, for comparison.
    idle = threading.Thread(target=latency_loop, args=(result.idle_latency,))
    idle.start()
    time.sleep(1.0)
    stop.set()
    idle.join()
    stop.clear()

    errors: list[BaseException] = []
    pushed = [0] * clients
    pulled = [0] * clients
    push_ends = [0.0] * clients
    pull_ends = [0.0] * clients

    def pusher(slot: int) -> None:
        try:
            with server.connect(timeout=timeout) as conn:
                for index in range(per_client):
                    parts, digest = source.blob(30_000 + slot * 100 + index)
                    push_blob(conn, "bench/push", parts, digest, timeout)
                    pushed[slot] += size
        except BaseException as exc:  # reported after the join
            errors.append(exc)
        push_ends[slot] = time.perf_counter()

    def puller(slot: int) -> None:
        try:
            into = bytearray(b"\xff") * size
            with server.connect(timeout=timeout) as conn:
                for _ in range(per_client):
                    _, received = pull_blob(conn, "bench/pull", stored[slot], into, timeout)
                    if received != size:
                        raise HTTPError(f"pulled {received} of {size}")
                    pulled[slot] += size
        except BaseException as exc:
            errors.append(exc)
        pull_ends[slot] = time.perf_counter()

    threads = [threading.Thread(target=pusher, args=(slot,)) for slot in range(clients)]
    threads += [threading.Thread(target=puller, args=(slot,)) for slot in range(clients)]
    watcher = threading.Thread(target=latency_loop, args=(result.busy_latency,))
    watcher.start()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    stop.set()
    watcher.join()
    if errors:
        raise RuntimeError(f"concurrent transfers failed: {errors[0]!r}")
    result.push_aggregate = sum(pushed) / (max(push_ends) - started) / MB
    result.pull_aggregate = sum(pulled) / (max(pull_ends) - started) / MB
    result.total_aggregate = (
        (sum(pushed) + sum(pulled)) / (max(push_ends + pull_ends) - started) / MB
    )
    log(
        f"  {clients}+{clients} clients: pushes {result.push_aggregate:,.0f} MB/s "
        f"(one alone {result.single_push:,.0f}), pulls {result.pull_aggregate:,.0f} "
        f"(one alone {result.single_pull:,.0f}), all {result.total_aggregate:,.0f} MB/s; GET "
        f"p50/p99 {statistics.median(result.busy_latency):.2f}/"
        f"{_percentile(result.busy_latency, 0.99):.2f} ms busy, "
        f"{statistics.median(result.idle_latency):.2f}/"
        f"{_percentile(result.idle_latency, 0.99):.2f} idle"
    )
    return result


def percentile(values: Sequence[float], fraction: float) -> float:
    return _percentile(values, fraction)
