"""Request bodies read safely: exactly as sent, bounded in time, counted against the caps.

- **Only identity.** A body with any ``Content-Encoding`` but ``identity`` is refused with
  415 ``UNSUPPORTED`` (and ``Accept-Encoding: identity``, RFC 7694) before a byte of it is
  read. distribution stores what the client sent; aiohttp would inflate ``gzip``/``deflate``
  bodies (a 65 KB request became a 64 MiB session) and answer 500 for a body that is not the
  encoding it claims, or text/plain for ``br``. No registry client compresses what it pushes,
  so a refusal is clearer than storing bytes whose digest the client may not expect. Our own
  servers also turn aiohttp's decompression off (:mod:`fakeregistry.registry.http.protocol`), so
  nothing is ever inflated, not even a refused body being drained.
- **Inactivity timeout.** Each read waits at most ``RegistryOptions.body_timeout`` seconds
  (default 60) for the next piece; then the request is answered 408 and the connection closed.
  A stalled client, or a chunked body whose framing broke (our servers report that at once,
  see :mod:`fakeregistry.registry.http.protocol`), never pins a handler.
- **Caps.** Bytes are counted in the storage ledger as they arrive, so a body that would not fit
  is refused mid-way (413) and nothing of it is kept.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.client_exceptions import ClientPayloadError
from aiohttp.http_exceptions import HttpProcessingError

from fakeregistry.registry.http.direct import DirectBody
from fakeregistry.registry.http.keys import STORAGE
from fakeregistry.registry.http.protocol import claim_body, close_without_lingering, release_body
from fakeregistry.rules.errors import ErrorCode, RegistryError

__all__ = ["BODY_ERRORS", "BodyReader", "read_form", "refuse_content_encoding"]

# Errors aiohttp raises when a client goes away or sends a broken body mid-request.
BODY_ERRORS = (
    ClientPayloadError,
    HttpProcessingError,
    web.RequestPayloadError,
    ConnectionError,
    asyncio.IncompleteReadError,
)

_IDENTITY = frozenset({"", "identity"})
# The rest of a refused or broken body is not read: the connection ends with the answer.
CLOSE = {"Connection": "close"}


def refuse_content_encoding(request: web.Request) -> None:
    """Raise 415 unless the body is sent as is (no ``Content-Encoding`` or ``identity``)."""
    encodings = [
        part.strip().lower()
        for value in request.headers.getall("Content-Encoding", ())
        for part in value.split(",")
    ]
    refused = [encoding for encoding in encodings if encoding not in _IDENTITY]
    if refused:
        close_without_lingering(request)
        raise RegistryError(
            ErrorCode.UNSUPPORTED,
            f"Content-Encoding {', '.join(refused)[:80]!r} is not accepted: send the body "
            "as is; it is stored exactly as sent",
            status=415,
            headers={"Accept-Encoding": "identity", **CLOSE},
        )


class BodyReader:
    """Reads one request body piece by piece; call :meth:`close` when done (always).

    ``upload`` says whose cap the bytes count against (upload sessions, or manifests);
    ``code`` is the error code of a broken or stalled body. With ``direct``, a large body our
    connection handler held is received straight into stored segments (:attr:`direct`, read
    with :meth:`wait_direct`; see :mod:`fakeregistry.registry.http.direct`); otherwise, and
    when it was not held, the body is read piece by piece with :meth:`read`.
    """

    def __init__(
        self, request: web.Request, *, upload: bool, code: ErrorCode, direct: bool = False
    ) -> None:
        refuse_content_encoding(request)
        storage = request.app[STORAGE]
        self._request = request
        self._content = request.content
        self._ledger = storage.ledger
        self._timeout = storage.options.body_timeout
        self._upload = upload
        self._code = code
        self._counted = 0
        self._closed = False
        self.size = 0
        self.direct: DirectBody | None = claim_body(request, self._count) if direct else None
        if self.direct is None:
            release_body(request)

    def _count(self, size: int) -> None:
        if self._closed:
            raise RegistryError(self._code, "body no longer read", headers=dict(CLOSE))
        self._ledger.receive(size, upload=self._upload)
        self._counted += size
        self.size += size

    async def wait_direct(self, wanted: int) -> int:
        """Wait until ``wanted`` bytes of the direct body arrived (or all of it); the number
        received. 408 when no byte arrives for the body timeout; the error of a body that
        broke off or does not fit."""
        body = self.direct
        assert body is not None
        while not body.done and body.received < wanted:
            before = body.received
            try:
                async with asyncio.timeout(self._timeout):
                    await body.wait(wanted)
            except TimeoutError:
                if body.received == before:
                    body.abandon()
                    close_without_lingering(self._request)
                    raise self._stalled(body.received) from None
        if body.error is not None:
            close_without_lingering(self._request)
            if isinstance(body.error, RegistryError):
                raise body.error
            raise RegistryError(
                self._code, f"request body incomplete: {body.error}", headers=dict(CLOSE)
            )
        return body.received

    def _stalled(self, received: int) -> RegistryError:
        """408: no byte arrived for the body timeout (and the connection closes)."""
        return RegistryError(
            self._code,
            f"no body data for {self._timeout:g} s (got {received} bytes)",
            status=408,
            headers=dict(CLOSE),
        )

    async def read(self) -> bytes:
        """The next piece of the body; ``b""`` at its end."""
        try:
            return await self._read()
        except RegistryError:
            close_without_lingering(self._request)
            raise

    async def _read(self) -> bytes:
        try:
            async with asyncio.timeout(self._timeout):
                data = await self._content.readany()
        except TimeoutError:
            raise self._stalled(self.size) from None
        except BODY_ERRORS as exc:
            raise RegistryError(
                self._code, f"request body incomplete: {exc}", headers=dict(CLOSE)
            ) from None
        if data:
            self._ledger.receive(len(data), upload=self._upload)
            self._counted += len(data)
            self.size += len(data)
        return data

    def close(self) -> None:
        """Stop counting the bytes read (they are committed to storage or dropped now)."""
        self._closed = True
        if self.direct is not None and not self.direct.done:
            self.direct.abandon()
        self._ledger.received(self._counted, upload=self._upload)
        self._counted = 0


_FORM = "application/x-www-form-urlencoded"
# A token request is a few short fields.
FORM_LIMIT = 64 * 1024
_FORM_FIELDS = 100


def _bad_form(detail: str) -> RegistryError:
    return RegistryError(ErrorCode.REQUEST_INVALID, detail)


async def read_form(request: web.Request) -> dict[str, str]:
    """The fields of an ``application/x-www-form-urlencoded`` UTF-8 body (OAuth2's only form
    encoding, RFC 6749 4.3.2); 400 for anything else: another type (multipart too), another
    charset, bytes that are not UTF-8, more than 64 KiB or 100 fields.

    Not ``request.post()``: it answers 500 for an unknown charset, invalid UTF-8, and
    multipart bodies without a boundary, without names, or cut short.
    """
    if request.content_type != _FORM:
        raise RegistryError(
            ErrorCode.UNSUPPORTED,
            f"the token form must be {_FORM}, not {request.content_type[:80]!r}",
            status=400,
        )
    charset = request.charset
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise _bad_form(f"the token form must be UTF-8, not charset={charset[:40]!r}")
    body = bytearray()
    reader = BodyReader(request, upload=False, code=ErrorCode.REQUEST_INVALID)
    try:
        while data := await reader.read():
            body += data
            if len(body) > FORM_LIMIT:
                raise _bad_form(f"the token form is larger than {FORM_LIMIT} bytes")
    finally:
        reader.close()
    try:
        text = body.decode("utf-8")
        fields = parse_qsl(
            text, keep_blank_values=True, errors="strict", max_num_fields=_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad_form(f"the token form is malformed: {exc}") from None
    return dict(fields)
