"""Blob reads and deletes (distribution-spec "Pulling blobs", "Deleting blobs")."""

from __future__ import annotations

import re

from aiohttp import payload, web
from aiohttp.abc import AbstractStreamWriter

from fakeregistry.registry.http.requests import repository, storage
from fakeregistry.registry.storage import Blob
from fakeregistry.rules.errors import ErrorCode, RegistryError
from fakeregistry.rules.mediatypes import OCTET_STREAM

__all__ = ["delete_blob", "get_blob", "parse_range"]

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(value: str, size: int) -> tuple[int, int]:
    """The byte range ``[start, end)`` a ``Range`` header asks of a blob of ``size`` bytes.

    ``bytes=a-b``, ``bytes=a-`` and ``bytes=-n`` (the last n bytes) are understood; the end is
    clamped to the size (RFC 9110 14.1.2). A start at or past the end, or after the end, is
    ``RANGE_INVALID`` (416), which carries ``Content-Range: bytes */size``.
    """
    match = _RANGE.match(value.strip())
    unsatisfiable = RegistryError(
        ErrorCode.RANGE_INVALID,
        f"range {value!r} not satisfiable for {size} bytes",
        headers={"Content-Range": f"bytes */{size}"},
    )
    if not match or (not match[1] and not match[2]):
        raise unsatisfiable
    if not match[1]:
        suffix = int(match[2])
        if suffix == 0:
            raise unsatisfiable
        return max(size - suffix, 0), size
    start = int(match[1])
    end = int(match[2]) + 1 if match[2] else size
    if start >= size or start >= end:
        raise unsatisfiable
    return start, min(end, size)


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
        for piece in self._blob.iter_range(self._start, self._end):
            await writer.write(piece)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return b"".join(self._blob.iter_range(self._start, self._end)).decode(encoding, errors)


def _blob_headers(blob: Blob) -> dict[str, str]:
    return {
        "Docker-Content-Digest": blob.digest,
        "ETag": f'"{blob.digest}"',
        "Content-Type": OCTET_STREAM,
        "Accept-Ranges": "bytes",
    }


# end-2: GET/HEAD /v2/<name>/blobs/<digest> — the blob's bytes, whole or a byte range.
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
    return web.Response(status=status, headers=headers, body=BlobPayload(blob, start, end))


# end-10: DELETE /v2/<name>/blobs/<digest> — unlink the blob from this repository.
async def delete_blob(request: web.Request) -> web.Response:
    name = repository(request)
    storage(request).delete_blob(name, request.match_info["digest"])
    return web.Response(status=202, headers={"Content-Length": "0"})
