"""Blob reads and deletes (distribution-spec "Pulling blobs", "Deleting blobs")."""

from __future__ import annotations

import asyncio
import re

from aiohttp import payload, web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_writer import StreamWriter

from fakeregistry.registry.disk import FileBlob
from fakeregistry.registry.http.requests import repository, storage
from fakeregistry.registry.storage import Blob
from fakeregistry.rules.errors import ErrorCode, RegistryError
from fakeregistry.rules.mediatypes import OCTET_STREAM
from fakeregistry.rules.numbers import parse_decimal

__all__ = ["delete_blob", "get_blob", "parse_range"]

# Why not aiohttp's ``request.http_range``: it folds ``bytes=-0`` (unsatisfiable, RFC 9110
# 14.1.1) into ``bytes=0-`` (the whole blob), and converts its digit strings with an unbounded
# ``int()``. Here only ASCII digits count and at most 19 of them (int64, like distribution):
# a longer number cannot name a byte of any blob, so it is unsatisfiable (416).
_RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$", re.IGNORECASE)


def parse_range(value: str, size: int) -> tuple[int, int]:
    """The byte range ``[start, end)`` a ``Range`` header asks of a blob of ``size`` bytes.

    ``bytes=a-b``, ``bytes=a-`` and ``bytes=-n`` (the last n bytes) are understood; the end is
    clamped to the size (RFC 9110 14.1.2). A start at or past the end, or after the end, a
    suffix of a zero-length blob, or a number past int64 is ``RANGE_INVALID`` (416), which
    carries ``Content-Range: bytes */size``.
    """
    match = _RANGE.match(value.strip())
    unsatisfiable = RegistryError(
        ErrorCode.RANGE_INVALID,
        f"range {value[:80]!r} not satisfiable for {size} bytes",
        headers={"Content-Range": f"bytes */{size}"},
    )
    if not match or (not match[1] and not match[2]):
        raise unsatisfiable
    if not match[1]:
        suffix = parse_decimal(match[2])
        # RFC 9110 14.1.3: a suffix of a zero-length representation is unsatisfiable.
        if suffix is None or suffix == 0 or size == 0:
            raise unsatisfiable
        return max(size - suffix, 0), size
    start = parse_decimal(match[1])
    last = parse_decimal(match[2]) if match[2] else size - 1
    if start is None or last is None:
        raise unsatisfiable
    end = last + 1
    if start >= size or start >= end:
        raise unsatisfiable
    return start, min(end, size)


# The largest piece handed to the transport at once.
_WRITE_SIZE = 1024 * 1024


class BlobPayload(payload.Payload):
    """Bytes ``[start, end)`` of a stored blob, written chunk by chunk straight from storage.

    A response body rather than a handler-driven stream, so middleware (fault injection) can
    still wrap it before anything is sent.
    """

    def __init__(self, blob: Blob, start: int, end: int) -> None:
        super().__init__(blob, content_type=OCTET_STREAM)
        self._blob = blob
        self._start = start
        self._end = end
        self._size = end - start

    async def write(self, writer: AbstractStreamWriter) -> None:
        for chunk in self._blob.iter_range(self._start, self._end):
            if len(chunk) <= _WRITE_SIZE:
                await writer.write(chunk)
                continue
            # A directly received chunk is a whole segment (up to 64 MiB): one write of it
            # would leave asyncio copying what the socket does not take at once.
            view = memoryview(chunk)
            for offset in range(0, len(view), _WRITE_SIZE):
                await writer.write(view[offset : offset + _WRITE_SIZE])

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return b"".join(self._blob.iter_range(self._start, self._end)).decode(encoding, errors)


class FilePayload(BlobPayload):
    """Bytes ``[start, end)`` of a blob in a file (the disk store), sent with ``sendfile``
    (``loop.sendfile``: the kernel copies file to socket; asyncio falls back to reads for TLS).
    A writer that is not the connection's (fault injection's truncating one) gets the bytes
    read in pieces on a worker thread."""

    def __init__(self, blob: FileBlob, start: int, end: int) -> None:
        super().__init__(blob, start, end)
        self._path = blob.path
        self._count = end - start

    async def write(self, writer: AbstractStreamWriter) -> None:
        if self._count == 0:
            return  # sendfile refuses a count of 0; the headers go out with the end
        loop = asyncio.get_running_loop()
        with open(self._path, "rb") as file:
            transport = writer.transport if isinstance(writer, StreamWriter) else None
            if isinstance(writer, StreamWriter) and transport is not None:
                writer.send_headers()
                await writer.drain()
                await loop.sendfile(transport, file, self._start, self._count)
                return
            file.seek(self._start)
            left = self._count
            while left > 0:
                piece = await loop.run_in_executor(None, file.read, min(left, 256 * 1024))
                if not piece:
                    break
                left -= len(piece)
                await writer.write(piece)


def _blob_headers(blob: Blob) -> dict[str, str]:
    return {
        "Docker-Content-Digest": blob.digest,
        "ETag": f'"{blob.digest}"',
        "Content-Type": OCTET_STREAM,
        "Accept-Ranges": "bytes",
    }


# end-2: GET/HEAD /v2/<name>/blobs/<digest> — the blob's bytes, whole or a byte range.
# https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
async def get_blob(request: web.Request) -> web.StreamResponse:
    name = repository(request)
    blob = storage(request).get_blob(name, request.match_info["digest"])
    headers = _blob_headers(blob)
    status, start, end = 200, 0, blob.size
    range_header = request.headers.get("Range")
    if range_header is not None:
        start, end = parse_range(range_header, blob.size)
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{blob.size}"
    headers["Content-Length"] = str(end - start)
    if request.method == "HEAD":
        return web.Response(status=status, headers=headers)
    del headers["Content-Length"]  # the payload sets it
    body = (
        FilePayload(blob, start, end)
        if isinstance(blob, FileBlob)
        else BlobPayload(blob, start, end)
    )
    return web.Response(status=status, headers=headers, body=body)


# end-10: DELETE /v2/<name>/blobs/<digest> — unlink the blob from this repository.
# https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
async def delete_blob(request: web.Request) -> web.Response:
    name = repository(request)
    storage(request).delete_blob(name, request.match_info["digest"])
    return web.Response(status=202, headers={"Content-Length": "0"})
