"""The access log as JSON lines (``fakeregistry serve --log-format json``): one object per
request, for scripts and log collectors::

    {"time": "2025-01-01T12:00:00.123Z", "remote": "127.0.0.1", "method": "GET",
     "path": "/v2/demo/manifests/latest", "status": 200, "bytes": 1234,
     "duration": 0.0012, "user": "alice"}

``bytes`` is the body sent (0 for HEAD; a blob sent with ``sendfile`` counts by its
``Content-Length``); ``duration`` is seconds; ``user`` is who the auth middleware let in, null
when anonymous or when the registry has no auth.
"""

from __future__ import annotations

import json
import time

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from fakeregistry.registry.http.keys import USER

__all__ = ["JsonAccessLogger"]


class JsonAccessLogger(AbstractAccessLogger):
    """An aiohttp access logger writing one JSON object per request to its logger."""

    def log(self, request: BaseRequest, response: StreamResponse, time_taken: float) -> None:
        if request.method == "HEAD":
            sent = 0
        elif response.content_length is not None:
            sent = response.content_length
        else:
            sent = response.body_length
        user = request.get(USER) if isinstance(request, web.Request) else None
        now = time.time()
        stamp = (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
        )
        line = {
            "time": stamp,
            "remote": request.remote,
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "bytes": sent,
            "duration": round(time_taken, 6),
            "user": user,
        }
        self.logger.info(json.dumps(line, separators=(",", ":")))
