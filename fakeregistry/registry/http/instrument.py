"""Middleware for test harnesses: the request log and fault injection.

Installed only when asked for (``create_app(instrument=...)``), so a plain ``serve`` pays
nothing for it. It is the outermost middleware: it sees every request, logs the status the
client really got, and can answer before the registry does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from time import perf_counter
from typing import cast

from aiohttp import payload, web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.typedefs import Handler, Middleware

from fakeregistry.registry.faults import Fault, FaultPlan
from fakeregistry.registry.http.answers import withdraw_offer
from fakeregistry.registry.http.middleware import error_response
from fakeregistry.registry.requestlog import RequestLog
from fakeregistry.rules.errors import ErrorCode, RegistryError

__all__ = ["Instruments", "instrument_middleware"]

# The error code a fault's status most plausibly carries.
_CODE_FOR_STATUS = {
    400: ErrorCode.BLOB_UPLOAD_INVALID,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.DENIED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.UNSUPPORTED,
    416: ErrorCode.RANGE_INVALID,
    429: ErrorCode.TOOMANYREQUESTS,
}


@dataclass(frozen=True, slots=True)
class Instruments:
    """The log and the fault plan one application reports to and obeys."""

    log: RequestLog
    plan: FaultPlan


def _fault_response(fault: Fault, status: int) -> web.Response:
    """The answer of a fault that has a ``status`` (passed narrowed: ``fault.status``)."""
    if fault.body is not None:
        return web.Response(status=status, body=fault.body, headers=fault.headers)
    code = _CODE_FOR_STATUS.get(status, ErrorCode.UNKNOWN)
    error = RegistryError(code, "injected fault", status=status, headers=fault.headers)
    return error_response(error)


class _LimitedWriter:
    """Passes through the first ``limit`` bytes a payload writes, and drops the rest."""

    def __init__(self, response: web.StreamResponse, limit: int) -> None:
        self._response = response
        self._left = limit

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._left > 0:
            piece = data[: self._left]
            self._left -= len(piece)
            await self._response.write(piece)


async def _truncated(
    request: web.Request, response: web.Response, limit: int
) -> web.StreamResponse:
    """Send ``response``'s headers (with its full Content-Length) and only ``limit`` bytes of
    its body, then close the connection, as a proxy or server dying mid-response would."""
    body = response.body
    size = len(body) if isinstance(body, bytes | bytearray) else (body.size if body else 0)
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = size
    if response.content_type:
        stream.content_type = response.content_type
    await stream.prepare(request)
    if isinstance(body, bytes | bytearray):
        await stream.write(bytes(body[:limit]))
    elif isinstance(body, payload.Payload):
        await body.write(cast(AbstractStreamWriter, _LimitedWriter(stream, limit)))
    await stream.drain()
    _close(request)
    return stream


def _close(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()


def instrument_middleware(
    instruments: Instruments,
) -> Middleware:
    log, plan = instruments.log, instruments.plan

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = perf_counter()
        if plan.empty:
            response = await handler(request)
            if not plan.empty:  # planned meanwhile (from another thread)
                withdraw_offer(request)
        else:
            response = await _serve(request, handler, plan)
            # A response the plan shaped (or might have) is never replayed.
            withdraw_offer(request)
        log.record_request(
            request.method,
            request.path,
            request.query_string,
            request.headers,
            response.status,
            perf_counter() - started,
        )
        return response

    return middleware


async def _serve(request: web.Request, handler: Handler, plan: FaultPlan) -> web.StreamResponse:
    extra: dict[str, str] = {}
    for limit in plan.rate_limits:
        decision = limit.check(request.method, request.path)
        if decision is None:
            continue
        extra.update(decision.headers)
        if not decision.allowed:
            error = RegistryError(
                ErrorCode.TOOMANYREQUESTS,
                "You have reached your pull rate limit.",
                headers=decision.headers,
            )
            return _with_warnings(error_response(error), plan)
    fault = plan.fault_for(request.method, request.path)
    if fault is not None and fault.delay:
        await asyncio.sleep(fault.delay)
    if fault is not None and fault.drop_connection:
        _close(request)
        return web.Response(status=499)  # never sent: the connection is gone
    if fault is not None and fault.status is not None:
        response: web.StreamResponse = _fault_response(fault, fault.status)
    else:
        response = await handler(request)
        if fault is not None:
            response.headers.update(fault.headers)
    response.headers.update(extra)
    _with_warnings(response, plan)
    if fault is not None and fault.truncate_body is not None and isinstance(response, web.Response):
        return await _truncated(request, response, fault.truncate_body)
    return response


def _with_warnings(response: web.StreamResponse, plan: FaultPlan) -> web.StreamResponse:
    for text in plan.warnings:
        # distribution-spec "Warnings": code 299, agent "-", a quoted text.
        response.headers.add("Warning", f'299 - "{text}"')
    return response
