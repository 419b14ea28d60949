"""What the client raises: one root, :class:`RegistryClientError` (itself a
:class:`~fakeregistry.rules.errors.FakeRegistryError`), and the registry's error envelope
``{"errors": [{"code", "message", "detail"}]}`` read into :class:`ErrorDetail` entries.

>>> error = error_from_body("GET", "http://r/v2/", 404, b'{"errors": [{"code": "NAME_UNKNOWN",'
...                         b' "message": "repository name not known to registry"}]}')
>>> type(error).__name__, error.code
('NotFoundError', 'NAME_UNKNOWN')
>>> str(error)
'GET http://r/v2/: HTTP 404: NAME_UNKNOWN: repository name not known to registry'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from fakeregistry.rules.errors import FakeRegistryError

__all__ = [
    "AuthenticationError",
    "DigestMismatchError",
    "ErrorDetail",
    "NotFoundError",
    "RegistryClientError",
    "RegistryConnectionError",
    "RegistryHTTPError",
    "SizeMismatchError",
    "describe_errors",
    "error_from_body",
    "error_from_response",
    "parse_error_body",
    "read_error_body",
]

# How much of an error answer is read: enough for any envelope, never a whole blob.
_ERROR_BODY_LIMIT = 64 * 1024


class RegistryClientError(FakeRegistryError):
    """Anything the client could not do; the message is one readable line."""


class RegistryConnectionError(RegistryClientError):
    """The registry could not be reached, or the connection broke (DNS, TCP, TLS, timeout)."""


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of the registry's error envelope."""

    code: str
    message: str
    detail: Any = None


class RegistryHTTPError(RegistryClientError):
    """The registry answered with an unexpected status.

    ``errors`` holds the entries of the spec's error envelope (empty when the body was not
    one); ``code``, ``message`` and ``detail`` are those of the first entry.
    """

    def __init__(
        self,
        method: str,
        url: str,
        status: int,
        errors: Sequence[ErrorDetail] = (),
        *,
        body: str = "",
        summary: str | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.errors = tuple(errors)
        self.body = body
        text = summary or describe_errors(self.errors, body)
        super().__init__(f"{method} {url}: HTTP {status}" + (f": {text}" if text else ""))

    @property
    def code(self) -> str | None:
        return self.errors[0].code if self.errors else None

    @property
    def message(self) -> str | None:
        return self.errors[0].message if self.errors else None

    @property
    def detail(self) -> Any:
        return self.errors[0].detail if self.errors else None


class AuthenticationError(RegistryHTTPError):
    """401 after every way to authenticate was tried, or the token endpoint refused."""


class NotFoundError(RegistryHTTPError):
    """404: the repository, manifest, blob or endpoint does not exist."""


class DigestMismatchError(RegistryClientError):
    """Content that does not hash to the digest it was asked for by."""

    def __init__(self, what: str, expected: str, actual: str, *, size: int | None = None) -> None:
        self.what = what
        self.expected = expected
        self.actual = actual
        self.size = size
        got = f" ({size} bytes)" if size is not None else ""
        super().__init__(
            f"digest mismatch for {what}: expected {expected}, got content hashing to {actual}{got}"
        )


class SizeMismatchError(RegistryClientError):
    """Content whose digest is right but whose length differs from the descriptor's size."""

    def __init__(self, what: str, expected: int, actual: int) -> None:
        self.what = what
        self.expected = expected
        self.actual = actual
        super().__init__(f"size mismatch for {what}: expected {expected} bytes, got {actual}")


def describe_errors(errors: Sequence[ErrorDetail], body: str) -> str:
    """One line for an error answer: its entries, or the start of a body that had none."""
    if errors:
        parts = []
        for error in errors:
            text = f"{error.code}: {error.message}" if error.code else error.message
            if error.detail not in (None, "", {}, []):
                detail = error.detail if isinstance(error.detail, str) else json.dumps(error.detail)
                text += f" ({detail})"
            parts.append(text)
        return "; ".join(parts)
    return " ".join(body.split())[:200]


def parse_error_body(body: bytes) -> list[ErrorDetail]:
    """The error envelope of a registry, or the shapes token servers use."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(document, dict):
        return []
    entries = document.get("errors")
    if isinstance(entries, list):
        out = []
        for entry in entries:
            if isinstance(entry, dict):
                out.append(
                    ErrorDetail(
                        str(entry.get("code", "")),
                        str(entry.get("message", "")),
                        entry.get("detail"),
                    )
                )
        return out
    # Docker Hub's token server: {"details": "..."}; OAuth2: {"error", "error_description"}.
    if isinstance(document.get("details"), str):
        return [ErrorDetail("", document["details"])]
    if isinstance(document.get("error"), str):
        return [ErrorDetail(document["error"], str(document.get("error_description", "")))]
    return []


def error_from_body(
    method: str,
    url: str,
    status: int,
    body: bytes,
    kind: type[RegistryHTTPError] | None = None,
) -> RegistryHTTPError:
    """The error for an answer: *kind*, or by status (401 :class:`AuthenticationError`,
    404 :class:`NotFoundError`, else :class:`RegistryHTTPError`)."""
    if kind is None:
        kind = {401: AuthenticationError, 404: NotFoundError}.get(status, RegistryHTTPError)
    text = body.decode("utf-8", "replace") if body else ""
    return kind(method, url, status, parse_error_body(body), body=text)


def error_from_response(
    response: aiohttp.ClientResponse,
    body: bytes,
    kind: type[RegistryHTTPError] | None = None,
) -> RegistryHTTPError:
    """:func:`error_from_body` for an aiohttp response whose body was read."""
    return error_from_body(response.method, str(response.url), response.status, body, kind)


async def read_error_body(response: aiohttp.ClientResponse) -> bytes:
    """The start of an error answer (empty when the connection broke), releasing it."""
    try:
        return await response.content.read(_ERROR_BODY_LIMIT)
    except (TimeoutError, aiohttp.ClientError):
        return b""
    finally:
        response.release()
