"""The one place errors are written, and headers every response carries."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from fakeregistry.registry.http.keys import ON_ERROR
from fakeregistry.rules.errors import ErrorCode, RegistryError, error_body

__all__ = [
    "API_VERSION_HEADER",
    "error_response",
    "registry_middleware",
    "set_common_headers",
]

log = logging.getLogger("fakeregistry")

# distribution-spec "Legacy Docker support HTTP headers": clients probe for it on /v2/.
API_VERSION_HEADER = {"Docker-Distribution-API-Version": "registry/2.0"}
((_API_VERSION_NAME, _API_VERSION_VALUE),) = API_VERSION_HEADER.items()

_FROM_HTTP_STATUS = {
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.UNSUPPORTED,
    413: ErrorCode.SIZE_INVALID,
    415: ErrorCode.UNSUPPORTED,
    416: ErrorCode.RANGE_INVALID,
    417: ErrorCode.UNSUPPORTED,
}


def error_response(error: RegistryError) -> web.Response:
    """The spec's error envelope for ``error``; ``Connection: close`` among its headers ends
    the connection after the answer (the rest of a refused or broken body is never read)."""
    response = web.Response(
        status=error.status,
        body=error_body(error),
        content_type="application/json",
        headers=error.headers,
    )
    if error.headers.get("Connection", "").lower() == "close":
        response.force_close()
    return response


@web.middleware
async def registry_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into the spec's JSON error envelope; never a bare 500 or traceback."""
    try:
        response = await handler(request)
    except RegistryError as error:
        return error_response(error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _FROM_HTTP_STATUS.get(exc.status, ErrorCode.UNSUPPORTED)
        return error_response(RegistryError(code, exc.reason, status=exc.status))
    except Exception as exc:
        log.exception("error while serving %s %s", request.method, request.path)
        on_error = request.app.get(ON_ERROR)
        if on_error is not None:
            on_error(exc)
        return error_response(RegistryError(ErrorCode.UNKNOWN, f"{type(exc).__name__}: {exc}"))
    return response


def _status_code(status: int) -> ErrorCode:
    if status >= 500:
        return ErrorCode.UNKNOWN
    return _FROM_HTTP_STATUS.get(status, ErrorCode.REQUEST_INVALID)


def set_common_headers(response: web.StreamResponse) -> None:
    """Headers on every response, streamed ones included (called by the application's
    ``on_response_prepare`` hook).

    A plain-text error that aiohttp made outside the middlewares (``Expect`` other than
    ``100-continue`` answers 417 before any middleware runs) is rewritten here into the
    spec's envelope, so the application never answers text/plain.
    """
    response.headers[_API_VERSION_NAME] = _API_VERSION_VALUE
    if (
        response.status >= 400
        and isinstance(response, web.Response)
        and response.content_type == "text/plain"
    ):
        text = response.text or response.reason
        error = RegistryError(
            _status_code(response.status), " ".join(text.split())[:300], status=response.status
        )
        body = error_body(error)
        response.body = body
        response.charset = None
        response.content_type = "application/json"
        response.headers["Content-Length"] = str(len(body))
