"""Reading what a request carries: path parts, query values and bodies."""

from __future__ import annotations

import asyncio
import queue
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TypeVar

from aiohttp import web

from fakeregistry.registry.http.bodies import BodyReader
from fakeregistry.registry.http.direct import DirectBody
from fakeregistry.registry.http.keys import STORAGE
from fakeregistry.registry.storage import BlobWriter, Buffer, Storage
from fakeregistry.rules.digest import Hasher
from fakeregistry.rules.errors import ErrorCode, RegistryError
from fakeregistry.rules.numbers import parse_decimal

T = TypeVar("T")

__all__ = [
    "content_length",
    "page_params",
    "parse_content_range",
    "read_body",
    "repository",
    "storage",
    "stream_body",
]


def storage(request: web.Request) -> Storage:
    return request.app[STORAGE]


def repository(request: web.Request) -> str:
    """The ``<name>`` path part, checked against the repository grammar (``NAME_INVALID``)."""
    name = request.match_info["name"]
    storage(request).check_name(name)
    return name


def content_length(request: web.Request) -> int | None:
    """The declared body length, or None when the body is chunked or absent."""
    value = request.headers.get("Content-Length")
    if value is None:
        return None
    length = parse_decimal(value)
    if length is None:
        raise RegistryError(ErrorCode.SIZE_INVALID, f"invalid Content-Length {value[:40]!r}")
    return length


# Large bodies are hashed on a worker thread (hashlib releases the GIL) while the event loop goes
# on receiving, so an upload runs at the hash rate rather than at hash plus receive. Pieces are
# handed over in batches of at least _HASH_BATCH bytes, as soon as the previous batch is done;
# receiving waits for the hasher only when _HASH_AHEAD bytes are waiting. Smaller bodies are
# hashed inline.
_HASH_BATCH = 1024 * 1024
_HASH_AHEAD = 8 * 1024 * 1024


def _hash_batch(hasher: Hasher, batch: Sequence[Buffer]) -> None:
    for data in batch:
        hasher.update(data)


async def stream_body(
    request: web.Request,
    writer: BlobWriter,
    *,
    after: Future[Hasher] | None = None,
    defer: bool = False,
) -> None:
    """Feed the whole request body into ``writer`` as it arrives.

    ``after``: the hash this body continues, which may still be being computed (an upload
    session's last chunk, :attr:`Upload.hashing`); its result, copied, replaces
    ``writer.hasher``.
    ``defer``: a body received directly may return once its bytes are all here, its hash
    still running (``writer.hashing``, which :meth:`Storage.append_upload` carries to the
    session): a ``PATCH`` is answered without waiting for its last megabytes to be hashed, and
    the next chunk's hash continues from it, on its own thread, while that chunk arrives.

    A body cut off before its declared length raises ``BLOB_UPLOAD_INVALID``; the caller then
    discards the writer, so nothing partial is stored. :class:`BodyReader` refuses encoded
    bodies, times out a stalled one and counts the bytes against the caps; a large body with
    a ``Content-Length`` lands directly in stored memory (:mod:`.direct`).
    """
    # A writer that puts bytes on disk streams them there; only memory writers take a body
    # received straight into stored memory.
    reader = BodyReader(
        request, upload=True, code=ErrorCode.BLOB_UPLOAD_INVALID, direct=writer.in_memory
    )
    try:
        if reader.direct is not None:
            await _stream_direct(reader, reader.direct, writer, after, defer=defer)
        else:
            if after is not None:
                writer.hasher = (await asyncio.wrap_future(after)).copy()
            await _stream_pieces(reader, writer)
    finally:
        # No await between here and the caller's commit: the bytes move from "receiving" to
        # stored atomically.
        reader.close()
    declared = content_length(request)
    if declared is not None and declared != writer.size:
        raise RegistryError(
            ErrorCode.BLOB_UPLOAD_INVALID,
            f"request body incomplete: got {writer.size} of {declared} bytes",
        )


class _DirectHasher:
    """Hashes a directly received body on a worker thread as its bytes land, without waiting
    for the event loop to hand each batch over (the loop is often busy receiving the next
    megabytes when a batch is done): the loop only wakes the thread when it waits for bytes.
    """

    def __init__(self, body: DirectBody, hasher: Hasher, after: Future[Hasher] | None) -> None:
        self._body = body
        self._hasher = hasher
        self._after = after
        self._ready = threading.Condition()
        self._waiting = False
        self._stopped = False
        self.hashed = 0

    def progress(self) -> None:
        """On the event loop: more bytes arrived, or the body failed."""
        # ``received`` is updated before this reads ``_waiting`` and the thread sets
        # ``_waiting`` before it reads ``received``, both under the GIL, so no wake-up is lost.
        # Only when the thread would go on: waking it for less than a batch made it check,
        # sleep again and cost the loop a lock per received piece (7% of its time, py-spy).
        if self._waiting and (self._body.error is not None or self._enough()):
            with self._ready:
                self._ready.notify()

    def stop(self) -> None:
        """Hash no further than what is being hashed now."""
        self._stopped = True
        with self._ready:
            self._ready.notify()

    def run(self) -> Hasher:
        """The worker thread: hash every byte of the body, in order, as it arrives (after the
        hash it continues is done); the hasher that has them."""
        if self._after is not None:
            self._hasher = self._after.result().copy()
        body = self._body
        while self.hashed < body.length:
            with self._ready:
                self._waiting = True
                while not self._stopped and body.error is None and not self._enough():
                    self._ready.wait()
                self._waiting = False
            if self._stopped or body.error is not None:
                return self._hasher
            received = body.received
            for view in body.views(self.hashed, received):
                self._hasher.update(view)
            self.hashed = received
        return self._hasher

    def _enough(self) -> bool:
        body = self._body
        return body.received >= min(self.hashed + _HASH_BATCH, body.length)


class _HashThreads:
    """Threads for the hashers of direct bodies, reused: starting a thread per body waited on
    the loop for the new thread to be scheduled, which on two busy cores cost a chunked upload
    each of its PATCHes. Never bounded, unlike the loop's default executor: a hasher waits for
    its client's bytes, and a few stalled clients would hold every thread of a bounded pool
    until their body timeout. A thread idle for :data:`_IDLE_SECONDS` ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[Callable[[], None]]] = []

    def run(self, function: Callable[[], T]) -> Future[T]:
        """Run ``function`` on one of the threads; a future of its result (one the next
        chunk's hashing thread can wait on, and the loop through ``asyncio.wrap_future``)."""
        future: Future[T] = Future()

        def task() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(function())
            except BaseException as exc:  # handed to whoever waits for the result
                future.set_exception(exc)

        with self._lock:
            tasks = self._idle.pop() if self._idle else None
        if tasks is None:
            tasks = queue.SimpleQueue()
            threading.Thread(
                target=self._work, args=(tasks,), name="fakeregistry-hash", daemon=True
            ).start()
        tasks.put(task)
        return future

    def _work(self, tasks: queue.SimpleQueue[Callable[[], None]]) -> None:
        while True:
            try:
                task = tasks.get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if tasks in self._idle:
                        self._idle.remove(tasks)
                        return
                continue  # handed a task just now: it is in the queue
            task()
            with self._lock:
                self._idle.append(tasks)


_IDLE_SECONDS = 30.0
_HASH_THREADS = _HashThreads()


async def _stream_direct(
    reader: BodyReader,
    body: DirectBody,
    writer: BlobWriter,
    after: Future[Hasher] | None,
    *,
    defer: bool,
) -> None:
    """Hash the directly received body on a worker thread as it arrives."""
    hasher = _DirectHasher(body, writer.hasher, after)
    body.on_progress = hasher.progress
    hashing = _HASH_THREADS.run(hasher.run)
    complete = False
    try:
        await reader.wait_direct(body.length)
        complete = body.received == body.length and body.error is None
    finally:
        body.on_progress = None
        if body.received < body.length:
            hasher.stop()
        if not (defer and complete):
            # The hasher must not be used (or the writer committed) while a thread updates it.
            writer.hasher = await asyncio.shield(asyncio.wrap_future(hashing))
    for segment in body.segments:
        writer.keep(segment)
    if defer:
        writer.hashing = hashing


async def _stream_pieces(reader: BodyReader, writer: BlobWriter) -> None:
    loop = asyncio.get_running_loop()
    batch: list[Buffer] = []
    batch_size = 0
    # At most one batch of this body is being hashed at a time, so the pieces reach the hasher
    # in order.
    hashing: asyncio.Future[None] | None = None
    # readany, not iter_chunks: with a chunked request body aiohttp can yield (b"", True)
    # at every chunk boundary without end, which spun this loop forever on skopeo's uploads.
    try:
        while data := await reader.read():
            writer.keep(data)
            batch.append(data)
            batch_size += len(data)
            if batch_size >= _HASH_BATCH:
                if hashing is not None:
                    if not hashing.done() and batch_size < _HASH_AHEAD:
                        continue
                    await hashing  # at once when done
                hashing = loop.run_in_executor(None, _hash_batch, writer.hasher, batch)
                batch, batch_size = [], 0
    finally:
        if hashing is not None:
            await asyncio.shield(hashing)
    _hash_batch(writer.hasher, batch)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole (small) request body; 413 ``SIZE_INVALID`` past ``limit`` bytes."""
    declared = content_length(request)
    too_large = RegistryError(
        ErrorCode.SIZE_INVALID, f"body exceeds the limit of {limit} bytes", status=413
    )
    if declared is not None and declared > limit:
        raise too_large
    body = bytearray()
    reader = BodyReader(request, upload=False, code=ErrorCode.MANIFEST_INVALID)
    try:
        while data := await reader.read():
            body += data
            if len(body) > limit:
                raise too_large
    finally:
        reader.close()
    if declared is not None and declared != len(body):
        raise RegistryError(
            ErrorCode.MANIFEST_INVALID, f"request body incomplete: got {len(body)} of {declared}"
        )
    return bytes(body)


# ASCII digits only ([0-9], not \d, which matches every script's digits); the numbers are
# read with parse_decimal, so a value past int64 is refused without converting it.
_CONTENT_RANGE = re.compile(r"^(?:bytes )?([0-9]+)-([0-9]+)$")


def parse_content_range(value: str) -> tuple[int, int]:
    """``Content-Range: <start>-<end>`` of a chunk (inclusive); ``RANGE_INVALID`` otherwise
    (416, also for offsets past int64: no upload gets there)."""
    match = _CONTENT_RANGE.match(value.strip())
    first = parse_decimal(match[1]) if match else None
    last = parse_decimal(match[2]) if match else None
    if first is None or last is None:
        raise RegistryError(ErrorCode.RANGE_INVALID, f"malformed Content-Range {value[:80]!r}")
    start, end = first, last
    if start > end:
        raise RegistryError(
            ErrorCode.RANGE_INVALID, f"Content-Range {value!r} ends before it starts"
        )
    return start, end


def page_params(
    request: web.Request, default_n: int | None = None
) -> tuple[int | None, str | None]:
    """The ``n`` and ``last`` query values of a listing (``PAGINATION_NUMBER_INVALID``)."""
    raw_n = request.query.get("n")
    n = default_n
    if raw_n is not None and raw_n != "":
        parsed = parse_decimal(raw_n, max_digits=9)
        if parsed is None:
            raise RegistryError(ErrorCode.PAGINATION_NUMBER_INVALID, f"n={raw_n[:40]!r}")
        n = parsed
    return n, request.query.get("last") or None
