"""Running a registry for people: read-only mode and CORS for browser clients.

One middleware, outside the error and auth middlewares, reads the options on every request
(so a test harness that swaps the options per test gets the new behaviour at once):

- **Read-only** (``RegistryOptions.read_only``): a ``/v2/`` request that would change content
  (POST, PUT, PATCH, DELETE) answers **405 UNSUPPORTED** before its body is read or its
  credentials are checked; pulls, listings and the token endpoint work as before. 405
  ``UNSUPPORTED`` ("the operation is unsupported") rather than 403 ``DENIED``: nobody could be
  allowed, so it is not an access decision, clients do not retry or ask for other credentials
  on it, and it is what distribution's read-only maintenance mode and our own ``deletes=False``
  answer.
- **CORS** (``RegistryOptions.cors_origins``): a request whose ``Origin`` is listed (or any,
  with ``*``) gets ``Access-Control-Allow-Origin`` (the origin itself, with ``Vary: Origin``
  and ``Allow-Credentials`` so browsers may send ``Authorization``) and the headers a registry
  client reads exposed: ``Docker-Content-Digest``, ``Location``, ``Range``, ... A preflight
  (``OPTIONS`` with ``Access-Control-Request-Method``) from such an origin answers 204 without
  credentials, allowing the methods and the request headers asked for.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from fakeregistry.registry.http.keys import STORAGE
from fakeregistry.registry.http.middleware import error_response
from fakeregistry.rules.errors import ErrorCode, RegistryError

__all__ = ["EXPOSED_HEADERS", "operations_middleware"]

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
_READ_METHODS = "GET, HEAD, OPTIONS"
# What a browser-based registry client needs to read from responses.
EXPOSED_HEADERS = ", ".join(
    (
        "Docker-Content-Digest",
        "Docker-Distribution-API-Version",
        "Docker-Upload-UUID",
        "Location",
        "Range",
        "Content-Range",
        "Content-Length",
        "ETag",
        "Link",
        "OCI-Subject",
        "OCI-Tag",
        "OCI-Filters-Applied",
        "WWW-Authenticate",
        "Warning",
    )
)


def _allowed_origin(request: web.Request, origins: tuple[str, ...]) -> str | None:
    origin = request.headers.get("Origin")
    if origin is None or not origins:
        return None
    return origin if "*" in origins or origin in origins else None


def _cors_headers(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": EXPOSED_HEADERS,
        "Vary": "Origin",
    }


@web.middleware
async def operations_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    options = request.app[STORAGE].options
    origin = _allowed_origin(request, options.cors_origins)
    if (
        origin is not None
        and request.method == "OPTIONS"
        and "Access-Control-Request-Method" in request.headers
    ):
        headers = _cors_headers(origin)
        headers["Access-Control-Allow-Methods"] = _READ_METHODS if options.read_only else _METHODS
        asked = request.headers.get("Access-Control-Request-Headers")
        if asked:
            headers["Access-Control-Allow-Headers"] = asked
        headers["Access-Control-Max-Age"] = "600"
        return web.Response(status=204, headers=headers)
    if options.read_only and request.method in _WRITES and request.path.startswith("/v2/"):
        response: web.StreamResponse = error_response(
            RegistryError(
                ErrorCode.UNSUPPORTED,
                "this registry is read-only: pushes and deletes are refused",
                headers={"Allow": "GET, HEAD", "Connection": "close"},
            )
        )
    else:
        response = await handler(request)
    if origin is not None and not response.prepared:
        response.headers.update(_cors_headers(origin))
    return response
