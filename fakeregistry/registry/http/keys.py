"""Typed keys of the values an application carries."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from fakeregistry.registry.storage import Storage

__all__ = ["ON_ERROR", "STORAGE", "USER"]

STORAGE = web.AppKey("storage", Storage)
# Called with every exception a handler raised that is not a registry error (a server bug), so
# a test harness can fail the test that caused it.
ErrorHook = Callable[[BaseException], None]
ON_ERROR: web.AppKey[ErrorHook] = web.AppKey("on_error")
# The user a request was authenticated as (set by the auth middleware; read by the JSON
# access log).
USER: web.RequestKey[str] = web.RequestKey("user", str)
