"""The client's HTTP core: one aiohttp session per event loop, TLS settings per host, the
trace of requests, and :meth:`Transport.request`, which authenticates as the registry asks
(with a :class:`~fakeregistry.client.tokens.TokenFlow`) and turns unexpected answers into
:class:`~fakeregistry.client.errors.RegistryHTTPError`."""

from __future__ import annotations

import asyncio
import contextvars
import ssl
from collections.abc import AsyncIterator, Container, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from urllib.parse import urljoin

import aiohttp
from yarl import URL

from fakeregistry.client.challenges import parse_challenges
from fakeregistry.client.config import HostConfig, api_host
from fakeregistry.client.errors import (
    AuthenticationError,
    RegistryClientError,
    RegistryConnectionError,
    error_from_response,
    read_error_body,
)
from fakeregistry.client.results import TraceEntry
from fakeregistry.client.tokens import TokenFlow
from fakeregistry.rules.scope import Scope

__all__ = ["Transport"]

# A request is sent at most this many times while answering 401s (first try, credentials or a
# token, a scope upgrade).
_MAX_AUTH_ATTEMPTS = 4

_RECORDING: contextvars.ContextVar[list[TraceEntry] | None] = contextvars.ContextVar(
    "fakeregistry_client_recording", default=None
)


class Transport:
    """Sends the client's requests: settings per host (*hosts*, else *default*), one session
    bound to the event loop that first used it, and the trace of every exchange."""

    def __init__(
        self,
        hosts: Mapping[str, HostConfig] | None = None,
        *,
        default: HostConfig | None = None,
        user_agent: str = "fakeregistry-client/0.1",
        timeout: float = 300.0,
        connect_timeout: float = 30.0,
        trust_env: bool = False,
    ) -> None:
        self._hosts: dict[str, HostConfig] = dict(hosts or {})
        self._default = default or HostConfig()
        self._user_agent = user_agent
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=timeout
        )
        self._trust_env = trust_env
        self._http: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ssl: dict[str, ssl.SSLContext | bool] = {}
        self.tokens = TokenFlow(self)
        self.trace: list[TraceEntry] = []

    # The session.

    async def close(self) -> None:
        """Close the HTTP session (a new one is opened when it is used again)."""
        if self._http is not None:
            await self._http.close()
            self._http = None
            self._loop = None

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._http is not None and not self._http.closed:
            if self._loop is not loop:
                raise RuntimeError(
                    "this RegistryClient is in use by another event loop; make one client per loop"
                )
            return self._http
        self._http = aiohttp.ClientSession(
            timeout=self._timeout,
            auto_decompress=False,  # digests are of the bytes as stored
            headers={"User-Agent": self._user_agent, "Accept-Encoding": "identity"},
            trust_env=self._trust_env,
        )
        self._loop = loop
        return self._http

    # Settings per host.

    def configure(self, host: str, config: HostConfig) -> None:
        """Set how to reach *host* (replaces earlier settings and forgets its tokens)."""
        self._hosts[host] = config
        self.tokens.forget(host)
        self._ssl.pop(host, None)

    def host_config(self, host: str) -> HostConfig:
        """The settings used for *host*."""
        return self._hosts.get(host, self._default)

    def is_configured(self, host: str) -> bool:
        """True when *host* has settings of its own."""
        return host in self._hosts

    def base_url(self, host: str) -> str:
        """``scheme://host`` of the API for a registry host."""
        plain = self.host_config(host).uses_plain_http(host)
        return f"{'http' if plain else 'https'}://{api_host(host)}"

    def url(self, host: str, target: str) -> URL:
        """*target* (a path, or an absolute URL such as an upload location) on *host*."""
        if "://" in target:
            return URL(target, encoded=True)
        return URL(urljoin(self.base_url(host) + "/", target), encoded=True)

    def ssl_for(self, host: str) -> ssl.SSLContext | bool:
        """aiohttp's ``ssl=`` for *host*: False (``insecure``), a context with its CA file,
        or True (the system's CAs)."""
        cached = self._ssl.get(host)
        if cached is not None:
            return cached
        config = self.host_config(host)
        context: ssl.SSLContext | bool
        if config.insecure:
            context = False
        elif config.ca_file:
            try:
                context = ssl.create_default_context(cafile=config.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise RegistryClientError(f"cannot load CA file {config.ca_file}: {exc}") from None
        else:
            context = True
        self._ssl[host] = context
        return context

    # The trace.

    @contextmanager
    def recording(self) -> Iterator[list[TraceEntry]]:
        """Collect the requests made by the current task (and tasks it starts) in a list."""
        entries: list[TraceEntry] = []
        token = _RECORDING.set(entries)
        try:
            yield entries
        finally:
            _RECORDING.reset(token)

    def _record(self, method: str, url: str, status: int | None) -> None:
        entry = TraceEntry(method, url, status)
        self.trace.append(entry)
        active = _RECORDING.get()
        if active is not None:
            active.append(entry)

    # Requests.

    async def send(
        self,
        method: str,
        url: URL,
        *,
        ssl_setting: ssl.SSLContext | bool,
        headers: Mapping[str, str],
        data: bytes | None,
    ) -> aiohttp.ClientResponse:
        """One exchange, recorded (redirects too); no authentication, any status."""
        try:
            response = await self._session().request(
                method, url, headers=dict(headers), data=data, ssl=ssl_setting
            )
        except (TimeoutError, aiohttp.ClientError, ssl.SSLError, OSError) as exc:
            self._record(method, str(url), None)
            reason = str(exc) or type(exc).__name__
            raise RegistryConnectionError(
                f"{method} {url}: cannot reach registry: {reason}"
            ) from exc
        for hop in response.history:
            self._record(hop.method, str(hop.url), hop.status)
        self._record(method, str(response.url), response.status)
        return response

    @asynccontextmanager
    async def request(
        self,
        method: str,
        host: str,
        target: str,
        *,
        scopes: Sequence[Scope] = (),
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        ok: Container[int] = (200,),
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send a request, authenticating as the registry asks; yield the response when its
        status is in *ok*, raise :class:`RegistryHTTPError` otherwise."""
        url = self.url(host, target)
        ssl_setting = self.ssl_for(host)
        authorization = await self.tokens.authorization(host, scopes)
        sent_headers = dict(headers or {})
        attempts = 0
        while True:
            if authorization is not None:
                sent_headers["Authorization"] = authorization
            response = await self.send(
                method, url, ssl_setting=ssl_setting, headers=sent_headers, data=data
            )
            if response.status != 401:
                break
            body = await read_error_body(response)
            challenges = parse_challenges(response.headers.getall("WWW-Authenticate", ()))
            attempts += 1
            renewed = None
            if attempts < _MAX_AUTH_ATTEMPTS:
                renewed = await self.tokens.answer(host, challenges, scopes, authorization)
            if renewed is None or renewed == authorization:
                raise error_from_response(response, body, AuthenticationError)
            authorization = renewed
        try:
            if response.status not in ok:
                raise error_from_response(response, await read_error_body(response))
            yield response
        finally:
            response.release()
