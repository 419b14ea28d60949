"""Blob uploads (distribution-spec "Pushing blobs", "Mounting a blob from another repository").

A session is opened with POST, fed by PATCH (chunked with ``Content-Range``, or streamed
without), and closed by PUT with ``?digest=``. Each request body is collected by a writer that
continues the session's hash and is committed only once complete, so an interrupted request
leaves the session as it was.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from fakeregistry.registry.http.requests import (
    content_length,
    parse_content_range,
    repository,
    storage,
    stream_body,
)
from fakeregistry.registry.storage import Blob, Upload
from fakeregistry.rules.digest import Digest, DigestError
from fakeregistry.rules.errors import ErrorCode, RegistryError

__all__ = ["cancel_upload", "finish_upload", "get_upload", "patch_upload", "start_upload"]


def _upload_location(request: web.Request, upload: Upload) -> str:
    # Absolute, so clients behind any base path can follow it (distribution does the same).
    return str(request.url.origin()) + f"/v2/{upload.repository}/blobs/uploads/{upload.id}"


def _upload_headers(request: web.Request, upload: Upload) -> dict[str, str]:
    return {
        "Location": _upload_location(request, upload),
        "Docker-Upload-UUID": upload.id,
        "Range": upload.range_header,
        "Content-Length": "0",
    }


def _created(name: str, blob: Blob) -> web.Response:
    return web.Response(
        status=201,
        headers={
            "Location": f"/v2/{name}/blobs/{blob.digest}",
            "Docker-Content-Digest": blob.digest,
            "Content-Length": "0",
        },
    )


def _digest_param(request: web.Request) -> str:
    digest = request.query.get("digest")
    if not digest:
        raise RegistryError(ErrorCode.DIGEST_INVALID, "the digest query parameter is required")
    try:
        Digest.parse(digest)
    except DigestError as exc:
        raise RegistryError(ErrorCode.DIGEST_INVALID, str(exc)) from None
    return digest


# end-4a, end-4b, end-11: POST /v2/<name>/blobs/uploads/ — open a session, upload a whole blob
# with ?digest=, or mount one with ?mount=<digest>&from=<repository>.
# https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
async def start_upload(request: web.Request) -> web.Response:
    name = repository(request)
    store = storage(request)
    mount = request.query.get("mount")
    if mount is not None:
        source = request.query.get("from")
        try:
            Digest.parse(mount)
        except DigestError as exc:
            raise RegistryError(ErrorCode.DIGEST_INVALID, str(exc)) from None
        if source:
            blob = store.mount_blob(name, mount, source)
            if blob is not None:
                return _created(name, blob)
        # Not mountable: fall back to an ordinary session, as the spec requires.
    elif "digest" in request.query:
        digest = _digest_param(request)
        writer = store.blob_writer(Digest.parse(digest).hasher())
        await stream_body(request, writer)
        await store.flush(writer)
        return _created(name, store.put_blob(name, digest, writer))
    upload = store.start_upload(name)
    return web.Response(status=202, headers=_upload_headers(request, upload))


def _session(request: web.Request) -> tuple[str, Upload]:
    name = repository(request)
    return name, storage(request).get_upload(name, request.match_info["upload_id"])


async def _append(request: web.Request, upload: Upload, *, defer: bool) -> None:
    """Read this request's body into the session, checking ``Content-Range`` if sent
    (``defer``: its hash may still run when this returns, see ``stream_body``)."""
    start = upload.size
    expected: int | None = None
    content_range = request.headers.get("Content-Range")
    if content_range is not None:
        first, last = parse_content_range(content_range)
        if first != upload.size:
            raise RegistryError(
                ErrorCode.RANGE_INVALID,
                f"chunk starts at {first}, the upload is at {upload.size}",
                headers={"Range": upload.range_header},
            )
        expected = last - first + 1
        declared = content_length(request)
        if declared is not None and declared != expected:
            raise RegistryError(
                ErrorCode.SIZE_INVALID,
                f"Content-Range covers {expected} bytes, Content-Length is {declared}",
            )
    writer = upload.writer()
    await stream_body(request, writer, after=upload.hashing, defer=defer)
    if expected is not None and writer.size != expected:
        raise RegistryError(
            ErrorCode.SIZE_INVALID, f"Content-Range covers {expected} bytes, got {writer.size}"
        )
    if writer.size:
        storage(request).append_upload(upload, writer, start)


# end-5: PATCH /v2/<name>/blobs/uploads/<reference> — append a chunk or a stream.
# https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
async def patch_upload(request: web.Request) -> web.Response:
    _, upload = _session(request)
    # Answered once the chunk is stored; its hash goes on meanwhile, and the next chunk's (or
    # the closing PUT) waits for it.
    await _append(request, upload, defer=True)
    return web.Response(status=202, headers=_upload_headers(request, upload))


# end-6: PUT /v2/<name>/blobs/uploads/<reference>?digest=<digest> — close the session, with an
# optional last chunk; the content must hash to the digest.
# https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
async def finish_upload(request: web.Request) -> web.Response:
    name, upload = _session(request)
    store = storage(request)
    try:
        digest = _digest_param(request)
    except RegistryError:
        store.drop_upload(upload.id)
        raise
    if upload.size == 0 and Digest.parse(digest).algorithm != upload.hasher.name:
        upload.hasher = Digest.parse(digest).hasher()
    await _append(request, upload, defer=False)
    if upload.hashing is not None:
        await asyncio.wrap_future(upload.hashing)
    await store.flush(upload)
    return _created(name, store.finish_upload(upload, digest))


# end-13: GET /v2/<name>/blobs/uploads/<reference> — how far the upload got.
# https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
async def get_upload(request: web.Request) -> web.Response:
    _, upload = _session(request)
    return web.Response(status=204, headers=_upload_headers(request, upload))


# end-14: DELETE /v2/<name>/blobs/uploads/<reference> — abandon the session.
# https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
async def cancel_upload(request: web.Request) -> web.Response:
    name = repository(request)
    storage(request).cancel_upload(name, request.match_info["upload_id"])
    return web.Response(status=204, headers={"Content-Length": "0"})
