"""What the registry stores, as data: blob bytes and the writer that collects them, upload
sessions, stored manifests, repositories and listing pages.

:class:`~fakeregistry.registry.storage.Storage` holds these and keeps the rules (links,
sessions, tags, caps); this module only says what each one is. It knows no HTTP.
"""

from __future__ import annotations

import bisect
import mmap
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import ClassVar

from fakeregistry.rules.digest import Hasher, new_hasher
from fakeregistry.rules.model import Manifest

__all__ = [
    "SEGMENT_SIZE",
    "Blob",
    "BlobWriter",
    "Buffer",
    "Page",
    "Repository",
    "StoredManifest",
    "Upload",
    "new_segment",
]

# A stored chunk: bytes as received by aiohttp, or a view into a segment a body was received
# into directly (never written to once stored).
Buffer = bytes | bytearray | memoryview

# Network reads arrive in pieces of a few KiB to a few hundred KiB. Pieces below this size are
# coalesced so a large blob is a few thousand chunks, not millions of tiny objects.
_COALESCE_BELOW = 64 * 1024

# Bodies received directly into memory (fakeregistry.registry.http.direct) go to segments of at
# most this size, allocated as the bytes arrive (a declared length alone allocates nothing).
SEGMENT_SIZE = 64 * 1024 * 1024


def new_segment(size: int) -> mmap.mmap:
    """``size`` bytes of private anonymous memory for a body to be received into.

    An ``mmap`` rather than a ``bytearray``: the kernel hands out zeroed pages as the bytes
    land, where ``bytearray(size)`` would first write zeros over all of it. Not with
    ``MADV_HUGEPAGE``: transparent huge pages cut the page faults 512-fold, but on this VM each
    fresh 2 MiB page is zeroed at a fraction of the speed (``clear_page_erms`` was half of
    the pushes' CPU; the loop thread received at 0.37 GB/s of CPU with them and 1.6 without).
    """
    return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)


class Blob:
    """Immutable blob content as a sequence of chunks, served without joining them."""

    __slots__ = ("_offsets", "chunks", "digest", "size")

    def __init__(self, digest: str, chunks: list[Buffer]) -> None:
        self.digest = digest
        self.chunks = tuple(chunks)
        self._offsets: list[int] = []
        total = 0
        for chunk in self.chunks:
            self._offsets.append(total)
            total += len(chunk)
        self.size = total

    def iter_range(self, start: int = 0, end: int | None = None) -> Iterator[Buffer]:
        """Yield the bytes ``[start, end)`` as views into the stored chunks (no copies)."""
        stop = self.size if end is None else min(end, self.size)
        if start >= stop:
            return
        index = bisect.bisect_right(self._offsets, start) - 1
        while index < len(self.chunks) and self._offsets[index] < stop:
            chunk = self.chunks[index]
            offset = self._offsets[index]
            lo = max(start - offset, 0)
            hi = min(stop - offset, len(chunk))
            yield chunk if lo == 0 and hi == len(chunk) else memoryview(chunk)[lo:hi]
            index += 1

    def read(self) -> bytes:
        """The whole blob as one bytes object (a copy; for small blobs and tests)."""
        return b"".join(self.chunks)


class BlobWriter:
    """Collects one request body: hashes each piece as it arrives and keeps it without copying
    (small pieces are coalesced). Nothing is visible to storage until the writer is committed.
    """

    __slots__ = ("_pending", "chunks", "hasher", "hashing", "size")

    #: The bytes stay in memory, so a large body may be received straight into the memory that
    #: stores it (registry/http/direct.py); writers that put bytes on disk say False.
    in_memory: ClassVar[bool] = True

    def __init__(self, hasher: Hasher | None = None) -> None:
        self.hasher: Hasher = hasher or new_hasher()
        # Set when a thread still hashes the body (registry/http/requests.py): its result is
        # the writer's hasher; ``hasher`` is not to be read until then.
        self.hashing: Future[Hasher] | None = None
        self.chunks: list[Buffer] = []
        self._pending = bytearray()
        self.size = 0

    def write(self, data: Buffer) -> None:
        """Add the next piece of the body."""
        if not data:
            return
        self.hasher.update(data)
        self.keep(data)

    def keep(self, data: Buffer) -> None:
        """Add the next piece of the body without hashing it: the caller feeds :attr:`hasher`
        the same pieces in the same order before the writer is committed (``stream_body``
        hashes on a worker thread while the next pieces arrive)."""
        if not data:
            return
        self.size += len(data)
        if len(data) >= _COALESCE_BELOW and not self._pending:
            self.chunks.append(data)
            return
        self._pending += data
        if len(self._pending) >= _COALESCE_BELOW:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.chunks.append(bytes(self._pending))
            self._pending = bytearray()

    def finish(self) -> list[Buffer]:
        """The collected chunks, once the body is complete."""
        self._flush()
        return self.chunks


@dataclass(slots=True)
class Upload:
    """An upload session (distribution-spec "Pushing blobs": POST, PATCH..., PUT)."""

    id: str
    repository: str
    chunks: list[Buffer] = field(default_factory=list)
    size: int = 0
    hasher: Hasher = field(default_factory=new_hasher)
    touched: float = field(default_factory=time.monotonic)
    # The last chunk's hash, while a thread still computes it (a PATCH is answered once its
    # bytes are stored; the next chunk's hash continues from this one): the session's hasher
    # is its result. See :meth:`settled_hasher`.
    hashing: Future[Hasher] | None = None

    def settled_hasher(self) -> Hasher:
        """The session's hasher, once :attr:`hashing` is done (the HTTP layer waits for it)."""
        if self.hashing is not None:
            if not self.hashing.done():
                raise RuntimeError("the upload's last chunk is still being hashed")
            self.hasher, self.hashing = self.hashing.result(), None
        return self.hasher

    def writer(self) -> BlobWriter:
        """A writer that continues this session's hash; commit it with
        :meth:`Storage.append_upload`. While the last chunk has a hash of its own
        (:attr:`hashing`), the writer's hasher is a stand-in: the body's reader continues that
        one instead (``stream_body(after=upload.hashing)``)."""
        if self.hashing is not None:
            return BlobWriter(new_hasher(self.hasher.name))
        return BlobWriter(self.hasher.copy())

    @property
    def range_header(self) -> str:
        """The ``Range`` value: ``0-<last byte>``, and ``0-0`` while empty (never ``0--1``)."""
        return f"0-{max(self.size - 1, 0)}"


@dataclass(frozen=True, slots=True)
class StoredManifest:
    """A manifest as pushed: exact bytes, its digest and media type, and its parsed view."""

    digest: str
    media_type: str
    body: bytes
    view: Manifest


@dataclass(slots=True)
class Repository:
    """One repository: its blob links, manifests by digest, tags and the referrers index."""

    name: str
    blobs: set[str] = field(default_factory=set)
    manifests: dict[str, StoredManifest] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # subject digest -> digests of manifests naming it as subject (insertion-ordered set).
    referrers: dict[str, dict[str, None]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a sorted listing, and the ``last`` value of the next page if there is one."""

    items: list[str]
    next_last: str | None
