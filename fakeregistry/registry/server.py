"""Running a registry: on its own thread (for sync and async tests alike) or in the caller's
event loop.

``RegistryServer`` owns an event loop on a daemon thread and serves ``create_app()`` on
127.0.0.1 and a free port::

    with RegistryServer() as registry:
        urllib.request.urlopen(registry.url + "/v2/")

State is reached through :meth:`RegistryServer.call`, which runs a function on the server's loop,
so seeding from the test thread never races a request being served.
"""

from __future__ import annotations

import logging
import shutil
import ssl
import weakref
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

from aiohttp import web

from fakeregistry.registry.app import create_app
from fakeregistry.registry.auth import AuthConfig
from fakeregistry.registry.disk import open_storage
from fakeregistry.registry.http.accesslog import JsonAccessLogger
from fakeregistry.registry.http.auth import AUTH
from fakeregistry.registry.http.blobhost import BLOB_HOST
from fakeregistry.registry.http.instrument import Instruments
from fakeregistry.registry.http.personality import PERSONALITY_STATE
from fakeregistry.registry.http.protocol import RegistryRunner
from fakeregistry.registry.options import RegistryOptions
from fakeregistry.registry.storage import Storage
from fakeregistry.registry.tls import TLSConfig, generate_tls
from fakeregistry.runtime.loopthread import LoopThread

__all__ = ["AsyncRegistryServer", "RegistryServer"]

T = TypeVar("T")

DEFAULT_HOST = "127.0.0.1"
# Seconds :meth:`AsyncRegistryServer.stop` waits for requests in flight.
DEFAULT_SHUTDOWN_TIMEOUT = 10.0
LogFormat = Literal["text", "json"]
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tfs'


def _tls_setup(
    ssl_context: ssl.SSLContext | None, tls: bool | TLSConfig, tls_dir: str | Path | None
) -> tuple[TLSConfig | None, ssl.SSLContext | None]:
    """The TLS configuration and the server-side context: from ``tls`` (True generates a
    throwaway CA into ``tls_dir``, or a temporary directory removed at exit), or from a bare
    server ``ssl_context`` (the older way, which gives clients nothing to trust)."""
    if ssl_context is not None:
        if tls is not False:
            raise ValueError("give either ssl_context or tls, not both")
        return None, ssl_context
    if tls is False:
        if tls_dir is not None:
            raise ValueError("tls_dir needs tls=True")
        return None, None
    if tls is True:
        config = generate_tls(tls_dir)
        return config, config.server_context
    return tls, tls.server_context


def _url(host: str, port: int, tls: bool) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


class AsyncRegistryServer:
    """A registry served from the running event loop (for aiohttp users and the CLI).

    ``async with AsyncRegistryServer() as registry:`` binds, serves, and on exit stops.
    ``log_format="json"`` writes ``access_log`` as one JSON object per request
    (:mod:`fakeregistry.registry.http.accesslog`); :meth:`stop` stops accepting connections
    and gives requests in flight up to ``shutdown_timeout`` seconds to finish.
    ``storage_dir`` keeps the content on disk there (:mod:`fakeregistry.registry.disk`: one OCI
    image layout per repository, durable before each 201) instead of in memory.
    """

    def __init__(
        self,
        options: RegistryOptions | None = None,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        access_log: logging.Logger | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        instruments: Instruments | None = None,
        tls: bool | TLSConfig = False,
        tls_dir: str | Path | None = None,
        auth: AuthConfig | None = None,
        storage_dir: str | Path | None = None,
        log_format: LogFormat = "text",
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
    ) -> None:
        if log_format not in ("text", "json"):
            raise ValueError(f"log_format must be 'text' or 'json', not {log_format!r}")
        self.storage: Storage = open_storage(options, storage_dir)
        self._log_format = log_format
        self._shutdown_timeout = shutdown_timeout
        self.instruments = instruments
        self.app = create_app(
            storage=self.storage, on_error=on_error, instruments=instruments, auth=auth
        )
        # What create_app chose: the given auth, or the personality's.
        self.auth = self.app.get(AUTH)
        self.host = host
        self.port = port
        self.tls, self._server_ssl = _tls_setup(ssl_context, tls, tls_dir)
        if tls is True and tls_dir is None and self.tls is not None:
            # The CA went to a fresh temporary directory: remove it with the server.
            weakref.finalize(self, shutil.rmtree, self.tls.ca_path.parent, True)
        self._access_log = access_log
        self._runner: RegistryRunner | None = None
        self._blob_runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash: ``http://127.0.0.1:PORT``."""
        return _url(self.host, self.port, self._server_ssl is not None)

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """A client-side context that trusts this server's certificate (None without TLS, or
        when TLS came as a bare server ``ssl_context``)."""
        return self.tls.client_context if self.tls is not None else None

    @property
    def ca_path(self) -> Path | None:
        """The PEM file clients should trust (the generated CA's ``ca.crt``), if known."""
        return self.tls.ca_path if self.tls is not None else None

    @property
    def blob_host_url(self) -> str | None:
        """The storage host blob redirects point at (a personality's), once started."""
        blob_host = self.app.get(BLOB_HOST)
        return blob_host.base_url if blob_host is not None else None

    def reset_personality(self) -> None:
        """Forget what the personality counted (Docker Hub's pulls)."""
        state = self.app.get(PERSONALITY_STATE)
        if state is not None:
            state.reset()

    async def _start_blob_host(self) -> None:
        # docs/personalities.md "Blob redirects": a second listener, the CDN or storage host.
        blob_host = self.app.get(BLOB_HOST)
        if blob_host is None:
            return
        runner = RegistryRunner(blob_host.app(), access_log=None, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, self.host, 0, ssl_context=self._server_ssl).start()
        self._blob_runner = runner
        port = int(runner.addresses[0][1])
        # Another host name than the registry's, as a CDN has: clients that drop credentials on
        # a redirect to another host (Go compares host names, not ports) drop them here too.
        loopback = self.host in ("127.0.0.1", "0.0.0.0", "::1", "::", "localhost")
        name = "localhost" if loopback else self.host
        blob_host.base_url = _url(name, port, self._server_ssl is not None)

    async def start(self) -> None:
        """Bind and start serving; ``port`` then holds the real port."""
        logging_options: dict[str, Any] = (
            {"access_log_class": JsonAccessLogger}
            if self._log_format == "json"
            else {"access_log_format": ACCESS_LOG_FORMAT}
        )
        await self._start_blob_host()
        runner = RegistryRunner(
            self.app,
            access_log=self._access_log,
            handle_signals=False,
            shutdown_timeout=self._shutdown_timeout,
            **logging_options,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, ssl_context=self._server_ssl)
        await site.start()
        self._runner = runner
        # (host, port) for IPv4, (host, port, flowinfo, scope_id) for IPv6.
        addresses = runner.addresses
        if not addresses:
            await runner.cleanup()
            self._runner = None
            raise OSError(f"the server on {self.host}:{self.port} is listening on no socket")
        self.port = int(addresses[0][1])

    async def stop(self) -> None:
        """Stop accepting connections, let requests in flight finish (up to
        ``shutdown_timeout`` seconds), then close every connection."""
        if self._runner is not None:
            await self._runner.stop_gracefully(self._shutdown_timeout)
            self._runner = None
        if self._blob_runner is not None:
            await self._blob_runner.cleanup()
            self._blob_runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class RegistryServer:
    """A registry on its own thread and event loop, usable from any code, sync or async."""

    def __init__(
        self,
        options: RegistryOptions | None = None,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        access_log: logging.Logger | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        instruments: Instruments | None = None,
        tls: bool | TLSConfig = False,
        tls_dir: str | Path | None = None,
        auth: AuthConfig | None = None,
        storage_dir: str | Path | None = None,
    ) -> None:
        self._server = AsyncRegistryServer(
            options,
            host=host,
            port=port,
            ssl_context=ssl_context,
            access_log=access_log,
            on_error=on_error,
            instruments=instruments,
            tls=tls,
            tls_dir=tls_dir,
            auth=auth,
            storage_dir=storage_dir,
        )
        self._thread = LoopThread("fakeregistry")

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash: ``http://127.0.0.1:PORT``."""
        return self._server.url

    @property
    def host(self) -> str:
        """``HOST:PORT`` as image references spell it."""
        return self.url.split("://", 1)[1]

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """A client-side context trusting the server's certificate (None without TLS)."""
        return self._server.ssl_context

    @property
    def ca_path(self) -> Path | None:
        """The CA file clients should trust (``<tls_dir>/ca.crt``), None without TLS."""
        return self._server.ca_path

    @property
    def tls(self) -> TLSConfig | None:
        return self._server.tls

    @property
    def auth(self) -> AuthConfig | None:
        """The auth configuration (users, rules, token authority), None when open."""
        return self._server.auth

    @property
    def storage(self) -> Storage:
        """The registry's state. Touch it only through :meth:`call` while the server runs."""
        return self._server.storage

    @property
    def app(self) -> web.Application:
        """The aiohttp application served."""
        return self._server.app

    @property
    def instruments(self) -> Instruments | None:
        """The request log and fault plan, when the server was started with them."""
        return self._server.instruments

    @property
    def options(self) -> RegistryOptions:
        return self._server.storage.options

    @property
    def blob_host_url(self) -> str | None:
        """``http://127.0.0.1:PORT`` of the storage host blob redirects point at, when the
        personality redirects blob GETs."""
        return self._server.blob_host_url

    def start(self) -> Self:
        """Start the thread and wait until the server accepts connections."""
        self._thread.start(self._server.start)
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        self._thread.stop(self._server.stop)

    def call(self, function: Callable[..., T], /, *args: Any) -> T:
        """Run ``function(*args)`` on the server's loop and return its result (or raise its
        exception), so state is never touched while a request is being served. Calls made on
        the server's own thread, or before it starts, run at once."""
        if not self._thread.running or self._thread.in_thread():
            return function(*args)

        async def invoke() -> T:
            return function(*args)

        return self._thread.run(invoke())

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return self._thread.run(coroutine)

    async def arun(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Await a coroutine running on the server's loop, from another event loop."""
        return await self._thread.arun(coroutine)

    def reset(self) -> None:
        """Empty the registry."""
        self.call(self.storage.reset)
        self.call(self._server.reset_personality)

    def reset_personality(self) -> None:
        """Forget what the personality counted (call on the server's loop)."""
        self._server.reset_personality()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
