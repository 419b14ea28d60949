"""What the client hands back: a fetched manifest (verified), an open blob download
(verified as it is read), the answer to a ping, and the trace of requests made."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

from fakeregistry.client.challenges import Challenge
from fakeregistry.client.errors import (
    DigestMismatchError,
    RegistryConnectionError,
    SizeMismatchError,
)
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.digest import DEFAULT_ALGORITHM, Digest, DigestError, compute
from fakeregistry.rules.model import Descriptor
from fakeregistry.rules.reference import ImageReference

__all__ = ["BlobDownload", "FetchedManifest", "PingResult", "TraceEntry"]

READ_SIZE = 64 * 1024
# Content types that say nothing about which manifest a body is.
_GENERIC_TYPES = {"", mt.JSON, mt.OCTET_STREAM, "text/plain"}


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One HTTP exchange: ``status`` is None when no answer came (connection failure).

    >>> str(TraceEntry("GET", "http://r/v2/", 200)), str(TraceEntry("GET", "http://r/v2/", None))
    ('GET http://r/v2/ -> 200', 'GET http://r/v2/ -> error')
    """

    method: str
    url: str
    status: int | None

    def __str__(self) -> str:
        return f"{self.method} {self.url} -> {self.status if self.status is not None else 'error'}"


@dataclass(frozen=True, slots=True)
class PingResult:
    """The answer to ``GET /v2/``."""

    url: str
    status: int
    api_version: str | None
    challenges: tuple[Challenge, ...]

    @property
    def requires_auth(self) -> bool:
        return self.status == 401


@dataclass(frozen=True, slots=True)
class FetchedManifest:
    """A manifest as the registry sent it: exact bytes, media type and verified digest."""

    reference: ImageReference
    media_type: str
    digest: str
    body: bytes

    @classmethod
    def verified(
        cls,
        reference: ImageReference,
        body: bytes,
        *,
        content_type: str = "",
        header_digest: str | None = None,
    ) -> FetchedManifest:
        """The manifest in *body*, checked: by digest it must hash to the reference's digest,
        and it must hash to the ``Docker-Content-Digest`` header when one came. The media
        type is the ``Content-Type``, or the body's ``mediaType`` when the header is generic.

        >>> body = b'{"mediaType": "application/vnd.oci.image.index.v1+json"}'
        >>> fetched = FetchedManifest.verified(ImageReference("r", "app", "1"), body,
        ...                                    content_type="application/json")
        >>> fetched.media_type, fetched.digest == str(compute(body))
        ('application/vnd.oci.image.index.v1+json', True)
        """
        digest = _verify_manifest(reference, body, header_digest)
        return cls(reference, _manifest_media_type(content_type, body), digest, body)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def size(self) -> int:
        return len(self.body)

    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.digest, len(self.body))

    @property
    def is_index(self) -> bool:
        return self.media_type in mt.INDEX_TYPES


def _manifest_media_type(content_type: str, body: bytes) -> str:
    """The manifest's media type: ``Content-Type``, or the body's ``mediaType`` when the
    header is generic (``application/json``) or missing."""
    media_type = mt.base_type(content_type)
    if media_type in _GENERIC_TYPES:
        try:
            declared = json.loads(body).get("mediaType")
        except (ValueError, UnicodeDecodeError, AttributeError):
            declared = None
        if isinstance(declared, str) and declared:
            return declared
    return media_type


def _verify_manifest(reference: ImageReference, body: bytes, header: str | None) -> str:
    """The manifest's digest, checked against the reference's digest and the header's."""
    expected = reference.digest
    header_digest: Digest | None = None
    if header:
        try:
            header_digest = Digest.parse(header)
        except DigestError:
            header_digest = None
    if expected is not None:
        algorithm = Digest.parse(expected).algorithm
    elif header_digest is not None:
        algorithm = header_digest.algorithm
    else:
        algorithm = DEFAULT_ALGORITHM
    actual = str(compute(body, algorithm))
    if expected is not None and actual != expected:
        raise DigestMismatchError(f"manifest {reference}", expected, actual, size=len(body))
    if header_digest is not None and header_digest.algorithm == algorithm and header != actual:
        raise DigestMismatchError(
            f"manifest {reference} (Docker-Content-Digest)",
            str(header_digest),
            actual,
            size=len(body),
        )
    return actual


class BlobDownload:
    """An open blob download; iterate :meth:`chunks` once to read and verify it."""

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        what: str,
        digest: Digest,
        expected_size: int | None,
    ) -> None:
        self._response = response
        self.what = what
        self.digest = str(digest)
        self._expected = digest
        self.expected_size = expected_size
        self.received = 0
        length = response.content_length
        self.size = expected_size if expected_size is not None else length

    async def chunks(self, chunk_size: int = READ_SIZE) -> AsyncIterator[bytes]:
        """The blob's bytes as they arrive. After the last chunk the content is verified:
        :class:`DigestMismatchError` or :class:`SizeMismatchError` is raised instead of the
        iteration ending, so a consumer never finishes with unverified bytes."""
        hasher = self._expected.hasher()
        try:
            async for data in self._response.content.iter_chunked(chunk_size):
                hasher.update(data)
                self.received += len(data)
                yield data
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise RegistryConnectionError(
                f"{self._response.method} {self._response.url}: download of {self.what} broke "
                f"after {self.received} bytes: {exc}"
            ) from exc
        actual = f"{self._expected.algorithm}:{hasher.hexdigest()}"
        if actual != self.digest:
            raise DigestMismatchError(self.what, self.digest, actual, size=self.received)
        if self.expected_size is not None and self.received != self.expected_size:
            raise SizeMismatchError(self.what, self.expected_size, self.received)

    async def read(self) -> bytes:
        """The whole verified blob."""
        parts = [chunk async for chunk in self.chunks()]
        return b"".join(parts)
