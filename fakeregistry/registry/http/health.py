"""``GET /healthz``: the registry is up, and what it holds against its caps.

Not part of the distribution-spec (like ``/`` and ``/ui/``), so it sits outside ``/v2/`` and
needs no credentials: it names no repository, only byte and session counts
(:class:`fakeregistry.registry.limits.Usage`)::

    {"status": "ok", "usage": {"total_bytes": 1234, "blob_bytes": 1000, ...,
     "max_bytes": null, ...}}
"""

from __future__ import annotations

import json

from aiohttp import web

from fakeregistry.registry.http.keys import STORAGE

__all__ = ["HEALTH_PATH", "get_health"]

HEALTH_PATH = "/healthz"


# GET /healthz — ours, in no spec (see the module docstring and docs/hardening.md).
async def get_health(request: web.Request) -> web.Response:
    usage = request.app[STORAGE].usage()
    body = {"status": "ok", "usage": usage.as_json()}
    return web.Response(
        body=json.dumps(body).encode(),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
