"""The storage host that blob redirects point at: a second listener on 127.0.0.1 standing in
for Docker Hub's CDN, quay.io's CloudFront or ACR's data endpoint.

It serves blobs by signed URLs that expire (an HMAC of the path, repository, digest and expiry
time, keyed by a secret of this server), and, like S3, refuses a request that carries an
``Authorization`` header besides the signature: a client that forwards the registry's
credentials across the redirect fails here as it would in production. Errors are S3-style XML.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from urllib.parse import quote

from aiohttp import web

from fakeregistry.registry.http.blobs import BlobPayload, parse_range
from fakeregistry.registry.storage import Storage
from fakeregistry.rules.errors import RegistryError
from fakeregistry.rules.mediatypes import OCTET_STREAM

__all__ = ["BLOB_HOST", "BlobHost"]

# S3's answer to a presigned URL that also carries an Authorization header.
AUTH_REFUSED = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
    "query string parameter or the Authorization header should be specified"
)


def _xml_error(status: int, code: str, message: str) -> web.Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return web.Response(status=status, text=body, content_type="application/xml")


class BlobHost:
    """Signs blob URLs for the registry and serves them on its own listener.

    ``base_url`` is set by the server once the listener is bound; until then (an application
    run without :class:`~fakeregistry.registry.server.AsyncRegistryServer`) the registry
    serves blobs itself instead of redirecting.
    """

    def __init__(self, storage: Storage, *, clock: Callable[[], float] = time.time) -> None:
        self.storage = storage
        self.base_url: str | None = None
        self._secret = secrets.token_bytes(32)
        self._clock = clock

    def _signature(self, path: str, repository: str, digest: str, expires: int) -> str:
        message = f"{path}\n{repository}\n{digest}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def sign(self, repository: str, digest: str, *, expiry: int, template: str) -> str:
        """A URL on this host serving ``digest`` of ``repository`` for ``expiry`` seconds."""
        if self.base_url is None:
            raise RuntimeError("the storage host is not listening")
        algorithm, _, hex_part = digest.partition(":")
        path = template.format(algorithm=algorithm, prefix=hex_part[:2], hex=hex_part)
        expires = int(self._clock()) + expiry
        signature = self._signature(path, repository, digest, expires)
        return (
            f"{self.base_url}{path}?repository={quote(repository, safe='')}"
            f"&digest={quote(digest, safe='')}&expires={expires}&signature={signature}"
        )

    async def serve(self, request: web.Request) -> web.StreamResponse:
        if "Authorization" in request.headers:
            return _xml_error(400, "InvalidArgument", AUTH_REFUSED)
        query = request.query
        repository = query.get("repository", "")
        digest = query.get("digest", "")
        raw_expires = query.get("expires", "")
        expires = int(raw_expires) if raw_expires.isdigit() and len(raw_expires) < 19 else -1
        wanted = self._signature(request.path, repository, digest, expires)
        if not hmac.compare_digest(wanted, query.get("signature", "")):
            return _xml_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        if expires < self._clock():
            return _xml_error(403, "AccessDenied", "Request has expired")
        try:
            blob = self.storage.get_blob(repository, digest)
        except RegistryError:
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
        headers = {"Content-Type": OCTET_STREAM, "Accept-Ranges": "bytes", "ETag": f'"{digest}"'}
        status, start, end = 200, 0, blob.size
        if "Range" in request.headers:
            try:
                start, end = parse_range(request.headers["Range"], blob.size)
            except RegistryError:
                return _xml_error(416, "InvalidRange", "The requested range is not satisfiable")
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{blob.size}"
        if request.method == "HEAD":
            headers["Content-Length"] = str(end - start)
            return web.Response(status=status, headers=headers)
        return web.Response(status=status, headers=headers, body=BlobPayload(blob, start, end))

    def app(self) -> web.Application:
        """The storage host's application (every path is a signed blob URL or an error)."""
        app = web.Application()
        app.router.add_get("/{path:.*}", self.serve)  # also answers HEAD
        return app


BLOB_HOST = web.AppKey("blob_host", BlobHost)
