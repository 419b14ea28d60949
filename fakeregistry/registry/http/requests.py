"""Reading what a request carries: path parts, query values and bodies."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web
from aiohttp.client_exceptions import ClientPayloadError
from aiohttp.http_exceptions import HttpProcessingError

from fakeregistry.registry.http.keys import STORAGE
from fakeregistry.registry.storage import BlobWriter, Storage
from fakeregistry.rules.digest import Hasher
from fakeregistry.rules.errors import ErrorCode, RegistryError

__all__ = [
    "content_length",
    "page_params",
    "parse_content_range",
    "read_body",
    "repository",
    "storage",
    "stream_body",
]

# Errors aiohttp raises when a client goes away or sends a broken body mid-request.
_BODY_ERRORS = (
    ClientPayloadError,
    HttpProcessingError,
    ConnectionError,
    asyncio.IncompleteReadError,
)


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
    if not value.isdigit():
        raise RegistryError(ErrorCode.SIZE_INVALID, f"invalid Content-Length {value!r}")
    return int(value)


# Large bodies are hashed on a worker thread (hashlib releases the GIL) while the event loop goes
# on receiving, so an upload runs at the hash rate rather than at hash plus receive. Pieces are
# handed over in batches of at least _HASH_BATCH bytes, as soon as the previous batch is done;
# receiving waits for the hasher only when _HASH_AHEAD bytes are waiting. Smaller bodies are
# hashed inline.
_HASH_BATCH = 1024 * 1024
_HASH_AHEAD = 8 * 1024 * 1024


def _hash_batch(hasher: Hasher, batch: list[bytes]) -> None:
    for data in batch:
        hasher.update(data)


async def stream_body(request: web.Request, writer: BlobWriter) -> None:
    """Feed the whole request body into ``writer`` as it arrives.

    A body cut off before its declared length raises ``BLOB_UPLOAD_INVALID``; the caller then
    discards the writer, so nothing partial is stored.
    """
    loop = asyncio.get_running_loop()
    batch: list[bytes] = []
    batch_size = 0
    # At most one batch of this body is being hashed at a time, so the pieces reach the hasher
    # in order.
    hashing: asyncio.Future[None] | None = None
    try:
        # Not iter_chunks: with a chunked request body aiohttp can yield (b"", True) at every
        # chunk boundary without end, which spun this loop forever on skopeo's uploads.
        async for data in request.content.iter_any():
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
    except _BODY_ERRORS as exc:
        raise RegistryError(
            ErrorCode.BLOB_UPLOAD_INVALID, f"request body incomplete: {exc}"
        ) from None
    if hashing is not None:
        await hashing
    _hash_batch(writer.hasher, batch)
    declared = content_length(request)
    if declared is not None and declared != writer.size:
        raise RegistryError(
            ErrorCode.BLOB_UPLOAD_INVALID,
            f"request body incomplete: got {writer.size} of {declared} bytes",
        )


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole (small) request body; 413 ``SIZE_INVALID`` past ``limit`` bytes."""
    declared = content_length(request)
    too_large = RegistryError(
        ErrorCode.SIZE_INVALID, f"body exceeds the limit of {limit} bytes", status=413
    )
    if declared is not None and declared > limit:
        raise too_large
    body = bytearray()
    try:
        async for data in request.content.iter_any():
            body += data
            if len(body) > limit:
                raise too_large
    except _BODY_ERRORS as exc:
        raise RegistryError(ErrorCode.MANIFEST_INVALID, f"request body incomplete: {exc}") from None
    return bytes(body)


_CONTENT_RANGE = re.compile(r"^(?:bytes )?(\d+)-(\d+)$")


def parse_content_range(value: str) -> tuple[int, int]:
    """``Content-Range: <start>-<end>`` of a chunk (inclusive); ``RANGE_INVALID`` otherwise."""
    match = _CONTENT_RANGE.match(value.strip())
    if not match:
        raise RegistryError(ErrorCode.RANGE_INVALID, f"malformed Content-Range {value!r}")
    start, end = int(match[1]), int(match[2])
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
        if not raw_n.isdigit() or len(raw_n) > 9:
            raise RegistryError(ErrorCode.PAGINATION_NUMBER_INVALID, f"n={raw_n!r}")
        n = int(raw_n)
    return n, request.query.get("last") or None
