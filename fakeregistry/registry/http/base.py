"""The API version check."""

from __future__ import annotations

from aiohttp import web

__all__ = ["get_base"]

_EMPTY_JSON = b"{}"


# end-1: GET /v2/ — 200 tells a client this is a registry speaking the v2 API.
# https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
async def get_base(request: web.Request) -> web.Response:
    return web.Response(body=_EMPTY_JSON, content_type="application/json")
