"""The registry's error codes, defined once.

Every error a client can see is a row of :data:`CODES`: the wire code, the HTTP status and the
message the spec gives (distribution-spec, "Error Codes"; distribution ``registry/api/errcode``
and ``registry/api/v2/errors.go`` for the two it adds). Domain code raises
:class:`RegistryError`; one middleware in :mod:`fakeregistry.registry.http` writes it as the spec's
envelope ``{"errors": [{"code", "message", "detail"}]}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CODES", "ErrorCode", "FeatureUnavailable", "RegistryError", "error_body"]


@dataclass(frozen=True, slots=True)
class _Row:
    status: int
    message: str


class ErrorCode(StrEnum):
    """Wire values of the error codes (distribution-spec "Error Codes" table unless noted)."""

    BLOB_UNKNOWN = "BLOB_UNKNOWN"
    BLOB_UPLOAD_INVALID = "BLOB_UPLOAD_INVALID"
    BLOB_UPLOAD_UNKNOWN = "BLOB_UPLOAD_UNKNOWN"
    DIGEST_INVALID = "DIGEST_INVALID"
    MANIFEST_BLOB_UNKNOWN = "MANIFEST_BLOB_UNKNOWN"
    MANIFEST_INVALID = "MANIFEST_INVALID"
    MANIFEST_UNKNOWN = "MANIFEST_UNKNOWN"
    NAME_INVALID = "NAME_INVALID"
    NAME_UNKNOWN = "NAME_UNKNOWN"
    SIZE_INVALID = "SIZE_INVALID"
    UNAUTHORIZED = "UNAUTHORIZED"
    DENIED = "DENIED"
    UNSUPPORTED = "UNSUPPORTED"
    TOOMANYREQUESTS = "TOOMANYREQUESTS"
    # distribution's additions (registry/api/v2/errors.go).
    RANGE_INVALID = "RANGE_INVALID"
    PAGINATION_NUMBER_INVALID = "PAGINATION_NUMBER_INVALID"
    # distribution's errcode.ErrorCodeUnknown: a fault of the server itself.
    UNKNOWN = "UNKNOWN"
    # Ours, for requests no route answers; distribution sends a bare "404 page not found".
    NOT_FOUND = "NOT_FOUND"
    # Ours, for requests that are not valid HTTP (bad framing, headers, method); distribution
    # (Go's net/http) sends a bare "400 Bad Request".
    REQUEST_INVALID = "REQUEST_INVALID"


CODES: dict[ErrorCode, _Row] = {
    ErrorCode.BLOB_UNKNOWN: _Row(404, "blob unknown to registry"),
    ErrorCode.BLOB_UPLOAD_INVALID: _Row(400, "blob upload invalid"),
    ErrorCode.BLOB_UPLOAD_UNKNOWN: _Row(404, "blob upload unknown to registry"),
    ErrorCode.DIGEST_INVALID: _Row(400, "provided digest did not match uploaded content"),
    ErrorCode.MANIFEST_BLOB_UNKNOWN: _Row(
        400, "manifest references a manifest or blob unknown to registry"
    ),
    ErrorCode.MANIFEST_INVALID: _Row(400, "manifest invalid"),
    ErrorCode.MANIFEST_UNKNOWN: _Row(404, "manifest unknown to registry"),
    ErrorCode.NAME_INVALID: _Row(400, "invalid repository name"),
    ErrorCode.NAME_UNKNOWN: _Row(404, "repository name not known to registry"),
    ErrorCode.SIZE_INVALID: _Row(400, "provided length did not match content length"),
    ErrorCode.UNAUTHORIZED: _Row(401, "authentication required"),
    ErrorCode.DENIED: _Row(403, "requested access to the resource is denied"),
    ErrorCode.UNSUPPORTED: _Row(405, "the operation is unsupported"),
    ErrorCode.TOOMANYREQUESTS: _Row(429, "too many requests"),
    ErrorCode.RANGE_INVALID: _Row(416, "invalid content range"),
    ErrorCode.PAGINATION_NUMBER_INVALID: _Row(400, "invalid number of results requested"),
    ErrorCode.UNKNOWN: _Row(500, "unknown error"),
    ErrorCode.NOT_FOUND: _Row(404, "no such endpoint"),
    ErrorCode.REQUEST_INVALID: _Row(400, "malformed HTTP request"),
}


class RegistryError(Exception):
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
        row = CODES[code]
        self.code = code
        self.detail = detail
        self.message = message or row.message
        self.status = status or row.status
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


class FeatureUnavailable(RuntimeError):
    """A feature the registry behind a test handle cannot provide (the request log or fault
    injection on a registry we do not run). Kept here, in a module with no dependencies, so
    the pytest plugin can recognise it without importing the rest of the package."""
