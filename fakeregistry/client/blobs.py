"""The blob endpoints: ``/v2/<name>/blobs/<digest>`` (head, streamed get) and uploads to
``/v2/<name>/blobs/uploads/`` (monolithic, POST-then-PUT, chunked, cross-repository mounts)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Literal
from urllib.parse import quote, urljoin

import aiohttp

from fakeregistry.client.arguments import (
    RepositoryLike,
    as_reference,
    parse_digest,
    pull_scopes,
    push_scopes,
)
from fakeregistry.client.errors import DigestMismatchError, NotFoundError, RegistryClientError
from fakeregistry.client.results import BlobDownload
from fakeregistry.client.transport import Transport
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.digest import DEFAULT_ALGORITHM, compute
from fakeregistry.rules.model import Descriptor
from fakeregistry.rules.reference import ImageReference
from fakeregistry.rules.scope import PULL, Scope

__all__ = ["DEFAULT_CHUNK_SIZE", "BlobsAPI", "UploadMethod"]

UploadMethod = Literal["monolithic", "post-put", "chunked"]
DEFAULT_CHUNK_SIZE = 5 * 1024 * 1024


def _location(response: aiohttp.ClientResponse, previous: str | None = None) -> str:
    """The upload session's URL from ``Location`` (resolved against the request's URL)."""
    value = response.headers.get("Location") or previous
    if not value:
        raise RegistryClientError(
            f"{response.method} {response.url}: HTTP {response.status} without a Location"
        )
    return urljoin(str(response.url), value)


class BlobsAPI:
    """:class:`~fakeregistry.client.RegistryClient`'s blob and upload methods."""

    _transport: Transport

    async def head_blob(self, repo: RepositoryLike, digest: str) -> Descriptor:
        """``HEAD /v2/<name>/blobs/<digest>``: raises :class:`NotFoundError` when absent."""
        reference = as_reference(repo)
        parse_digest(digest)
        async with self._transport.request(
            "HEAD",
            reference.registry,
            f"/v2/{reference.repository}/blobs/{digest}",
            scopes=pull_scopes(reference),
        ) as response:
            return Descriptor(
                mt.base_type(response.headers.get("Content-Type", mt.OCTET_STREAM)),
                response.headers.get("Docker-Content-Digest") or digest,
                response.content_length or 0,
            )

    async def blob_exists(self, repo: RepositoryLike, digest: str) -> bool:
        """True when the repository has the blob."""
        try:
            await self.head_blob(repo, digest)
        except NotFoundError:
            return False
        return True

    @asynccontextmanager
    async def open_blob(
        self, repo: RepositoryLike, digest: str, *, size: int | None = None
    ) -> AsyncIterator[BlobDownload]:
        """``GET /v2/<name>/blobs/<digest>``, streamed: read with
        ``async for chunk in download.chunks()``; verified against *digest* (and *size*)."""
        reference = as_reference(repo)
        parsed = parse_digest(digest)
        async with self._transport.request(
            "GET",
            reference.registry,
            f"/v2/{reference.repository}/blobs/{digest}",
            scopes=pull_scopes(reference),
        ) as response:
            yield BlobDownload(
                response,
                f"blob {digest} of {reference.registry}/{reference.repository}",
                parsed,
                size,
            )

    async def get_blob(
        self, repo: RepositoryLike, digest: str, *, size: int | None = None
    ) -> bytes:
        """The whole blob, verified against *digest* (and *size* when given)."""
        async with self.open_blob(repo, digest, size=size) as download:
            return await download.read()

    async def push_blob(
        self,
        repo: RepositoryLike,
        data: bytes,
        *,
        digest: str | None = None,
        method: UploadMethod = "post-put",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        mount_from: str | None = None,
        skip_existing: bool = False,
    ) -> str:
        """Upload *data*; returns its digest (sha256 unless *digest* names another algorithm).

        - ``monolithic``: ``POST ?digest=`` with the body (a registry that answers 202, like
          CNCF distribution, gets the body again by ``PUT``);
        - ``post-put``: ``POST`` for a session, then ``PUT <location>?digest=`` with the body;
        - ``chunked``: ``POST``, ``PATCH`` per *chunk_size* bytes with ``Content-Range``, then an
          empty ``PUT ?digest=``.

        *mount_from* tries a cross-repository mount first (same registry); *skip_existing*
        checks with ``HEAD`` first.
        """
        reference = as_reference(repo)
        algorithm = parse_digest(digest).algorithm if digest else DEFAULT_ALGORITHM
        actual = str(compute(data, algorithm))
        if digest is not None and digest != actual:
            raise DigestMismatchError("blob to push", digest, actual, size=len(data))
        if skip_existing and await self.blob_exists(reference, actual):
            return actual
        host = reference.registry
        base = f"/v2/{reference.repository}/blobs/uploads/"
        scopes = push_scopes(reference)
        location: str | None = None
        if mount_from is not None:
            mounted, location = await self._mount(reference, actual, mount_from)
            if mounted:
                return actual
        if method == "monolithic" and location is None:
            async with self._transport.request(
                "POST",
                host,
                f"{base}?digest={quote(actual, safe='')}",
                scopes=scopes,
                headers={"Content-Type": mt.OCTET_STREAM},
                data=data,
                ok=(201, 202),
            ) as response:
                if response.status == 201:
                    return actual
                location = _location(response)
            await self._finish_upload(host, location, actual, scopes, data)
            return actual
        if location is None:
            location = await self._start_upload(host, base, scopes)
        if method == "chunked":
            for start in range(0, len(data), max(chunk_size, 1)):
                chunk = data[start : start + chunk_size]
                async with self._transport.request(
                    "PATCH",
                    host,
                    location,
                    scopes=scopes,
                    headers={
                        "Content-Type": mt.OCTET_STREAM,
                        "Content-Range": f"{start}-{start + len(chunk) - 1}",
                    },
                    data=chunk,
                    # ECR answers 201 (regclient: "AWS ECR returns a 201"), pulp 204.
                    ok=(201, 202, 204),
                ) as response:
                    location = _location(response, location)
            await self._finish_upload(host, location, actual, scopes, b"")
        else:
            await self._finish_upload(host, location, actual, scopes, data)
        return actual

    async def _start_upload(self, host: str, base: str, scopes: Sequence[Scope]) -> str:
        async with self._transport.request(
            "POST", host, base, scopes=scopes, data=b"", ok=(202,)
        ) as response:
            return _location(response)

    async def _finish_upload(
        self, host: str, location: str, digest: str, scopes: Sequence[Scope], data: bytes
    ) -> None:
        separator = "&" if "?" in location else "?"
        target = f"{location}{separator}digest={quote(digest, safe='')}"
        async with self._transport.request(
            "PUT",
            host,
            target,
            scopes=scopes,
            headers={"Content-Type": mt.OCTET_STREAM},
            data=data,
            ok=(201, 204),
        ):
            pass

    async def _mount(
        self, reference: ImageReference, digest: str, source: str
    ) -> tuple[bool, str | None]:
        target = (
            f"/v2/{reference.repository}/blobs/uploads/"
            f"?mount={quote(digest, safe='')}&from={quote(source, safe='/')}"
        )
        scopes = [*push_scopes(reference), Scope.repository(source, PULL)]
        async with self._transport.request(
            "POST", reference.registry, target, scopes=scopes, data=b"", ok=(201, 202)
        ) as response:
            if response.status == 201:
                return True, None
            return False, _location(response)

    async def mount_blob(self, repo: RepositoryLike, digest: str, from_repo: str) -> bool:
        """Cross-repository mount (``POST ?mount=<digest>&from=<repo>``): True when mounted
        (201); False when the registry opened an upload session instead (it is cancelled)."""
        reference = as_reference(repo)
        parse_digest(digest)
        mounted, location = await self._mount(reference, digest, from_repo)
        if not mounted and location is not None:
            await self.cancel_upload(reference, location)
        return mounted

    async def cancel_upload(self, repo: RepositoryLike, location: str) -> None:
        """``DELETE`` an upload session (best effort: a 404 is ignored)."""
        reference = as_reference(repo)
        try:
            async with self._transport.request(
                "DELETE",
                reference.registry,
                location,
                scopes=push_scopes(reference),
                ok=(200, 202, 204),
            ):
                pass
        except NotFoundError:
            pass
