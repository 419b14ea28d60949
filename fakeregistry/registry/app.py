"""The application factory: a registry is ``create_app()``; threads, ports, TLS, the CLI and the
pytest plugin wrap it.

It composes the API (:func:`~fakeregistry.registry.http.app.create_api_app`) with the optional
web page, so the ``/v2/`` handlers never depend on the page (import-linter holds that).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from fakeregistry.registry.auth import AuthConfig
from fakeregistry.registry.http.app import create_api_app
from fakeregistry.registry.http.instrument import Instruments
from fakeregistry.registry.options import RegistryOptions
from fakeregistry.registry.storage import Storage

__all__ = ["create_app"]


def create_app(
    options: RegistryOptions | None = None,
    *,
    storage: Storage | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    instruments: Instruments | None = None,
    auth: AuthConfig | None = None,
    web_ui: bool = False,
) -> web.Application:
    """A registry application serving ``storage`` (a fresh one with ``options`` by default).

    ``on_error`` is called with any unexpected exception a handler raises (the client gets a
    500 ``UNKNOWN`` error), so test harnesses can fail the test that caused it.
    ``instruments`` turns on the request log and fault injection.
    ``auth`` asks for credentials or tokens (:class:`fakeregistry.registry.auth.AuthConfig`) and
    serves the token endpoint in token mode; None (the default) adds no auth middleware at all.
    ``web_ui`` serves the HTML page of :mod:`fakeregistry.registry.webui` at ``/`` and
    ``/ui/<name>`` (under the same auth as the API); ``/v2/`` is the same either way.
    """
    app = create_api_app(
        options, storage=storage, on_error=on_error, instruments=instruments, auth=auth
    )
    if web_ui:
        # Imported here so a registry without the page never loads Jinja2.
        from fakeregistry.registry.webui import add_web_ui

        add_web_ui(app)
    return app
