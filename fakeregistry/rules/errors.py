"""The registry's error codes, defined once.

Every error a client can see is a member of :class:`ErrorCode`: the wire code, the HTTP
status and the message the spec gives (distribution-spec, "Error Codes"; distribution
``registry/api/errcode`` and ``registry/api/v2/errors.go`` for the two it adds). Domain code
raises :class:`RegistryError`; one middleware in :mod:`fakeregistry.registry.http` writes it as
the spec's envelope ``{"errors": [{"code", "message", "detail"}]}``.
"""

from __future__ import annotations

import json
from enum import StrEnum

__all__ = ["ErrorCode", "FakeRegistryError", "FeatureUnavailable", "RegistryError", "error_body"]


class FakeRegistryError(Exception):
    """The root of every error fakeregistry raises on purpose: the registry's own
    (:class:`RegistryError`), the client's (``RegistryClientError``), the tools' (manifest-tool,
    seeding, signing) and the simulated engines' refusals, so ``except FakeRegistryError``
    catches what the library means to raise and nothing that is a bug."""


class ErrorCode(StrEnum):
    """The error table: each code's wire value, HTTP status and message, registered once as in
    distribution's ``registry/api/errcode`` (distribution-spec "Error Codes" unless noted).

    >>> ErrorCode.BLOB_UNKNOWN.status, ErrorCode.BLOB_UNKNOWN.message
    (404, 'blob unknown to registry')
    >>> ErrorCode("MANIFEST_INVALID") is ErrorCode.MANIFEST_INVALID
    True
    """

    status: int
    message: str

    def __new__(cls, value: str, status: int, message: str) -> ErrorCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = status
        member.message = message
        return member

    # https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes
    BLOB_UNKNOWN = ("BLOB_UNKNOWN", 404, "blob unknown to registry")
    BLOB_UPLOAD_INVALID = ("BLOB_UPLOAD_INVALID", 400, "blob upload invalid")
    BLOB_UPLOAD_UNKNOWN = ("BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry")
    DIGEST_INVALID = ("DIGEST_INVALID", 400, "provided digest did not match uploaded content")
    MANIFEST_BLOB_UNKNOWN = (
        "MANIFEST_BLOB_UNKNOWN",
        400,
        "manifest references a manifest or blob unknown to registry",
    )
    MANIFEST_INVALID = ("MANIFEST_INVALID", 400, "manifest invalid")
    MANIFEST_UNKNOWN = ("MANIFEST_UNKNOWN", 404, "manifest unknown to registry")
    NAME_INVALID = ("NAME_INVALID", 400, "invalid repository name")
    NAME_UNKNOWN = ("NAME_UNKNOWN", 404, "repository name not known to registry")
    SIZE_INVALID = ("SIZE_INVALID", 400, "provided length did not match content length")
    UNAUTHORIZED = ("UNAUTHORIZED", 401, "authentication required")
    DENIED = ("DENIED", 403, "requested access to the resource is denied")
    UNSUPPORTED = ("UNSUPPORTED", 405, "the operation is unsupported")
    TOOMANYREQUESTS = ("TOOMANYREQUESTS", 429, "too many requests")
    # distribution's additions (registry/api/v2/errors.go).
    RANGE_INVALID = ("RANGE_INVALID", 416, "invalid content range")
    PAGINATION_NUMBER_INVALID = (
        "PAGINATION_NUMBER_INVALID",
        400,
        "invalid number of results requested",
    )
    # distribution's errcode.ErrorCodeUnknown: a fault of the server itself.
    UNKNOWN = ("UNKNOWN", 500, "unknown error")
    # Ours, for requests no route answers; distribution sends a bare "404 page not found".
    NOT_FOUND = ("NOT_FOUND", 404, "no such endpoint")
    # Quay's answer to a token request it cannot parse (endpoints/v2/errors.py), used by the
    # quay personality's token endpoint.
    INVALID_REQUEST = ("INVALID_REQUEST", 400, "invalid request")
    # Ours, for requests that are not valid HTTP (bad framing, headers, method); distribution
    # (Go's net/http) sends a bare "400 Bad Request".
    REQUEST_INVALID = ("REQUEST_INVALID", 400, "malformed HTTP request")


class RegistryError(FakeRegistryError):
    """An error a client sees as one entry of the spec's error envelope.

    ``status`` overrides the code's usual status where the spec asks for another one with the
    same code (a manifest over the size limit is ``SIZE_INVALID`` with 413).
    """

    def __init__(
        self,
        code: ErrorCode,
        detail: str | None = None,
        *,
        message: str | None = None,
        status: int | None = None,
        more: tuple[RegistryError, ...] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        self.code = code
        self.detail = detail
        self.message = message or code.message
        self.status = status or code.status
        self.more = more
        self.headers = headers or {}
        super().__init__(f"{code.value}: {self.message}" + (f" ({detail})" if detail else ""))

    def entries(self) -> list[dict[str, str]]:
        """This error and any it carries, as envelope entries."""
        out: list[dict[str, str]] = []
        for error in (self, *self.more):
            entry = {"code": error.code.value, "message": error.message}
            if error.detail is not None:
                entry["detail"] = error.detail
            out.append(entry)
        return out


def error_body(error: RegistryError) -> bytes:
    """The JSON envelope for ``error``."""
    return json.dumps({"errors": error.entries()}).encode()


class FeatureUnavailable(FakeRegistryError, RuntimeError):
    """A feature the registry behind a test handle cannot provide (the request log or fault
    injection on a registry we do not run). Kept here, in a module with no dependencies, so
    the pytest plugin can recognise it without importing the rest of the package."""
