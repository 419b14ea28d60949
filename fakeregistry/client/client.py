"""A registry client over HTTP that works against any OCI distribution / Docker v2 registry.

The client knows no storage: it speaks the distribution-spec to whatever answers, our own
:mod:`fakeregistry` server, CNCF distribution, or a hosted registry::

    async with RegistryClient() as client:
        fetched = await client.get_manifest("127.0.0.1:5000/demo:latest")
        config = await client.get_blob("127.0.0.1:5000/demo", fetched.json()["config"]["digest"])

What it does for you, and where:

- **References** are parsed and normalised as Docker does (:class:`ImageReference`:
  ``debian:jessie`` is ``docker.io/library/debian:jessie``; ``docker.io`` is served by
  ``registry-1.docker.io``). Wherever a repository is asked for, a reference string or an
  :class:`ImageReference` will do (its tag or digest is then ignored).
- **Transport** per registry host (:class:`~fakeregistry.client.config.HostConfig`): HTTPS by
  default, with a CA file or without verification (``insecure``), or plain HTTP. Loopback
  hosts (``localhost``, ``127.0.0.1``, ``[::1]``) default to plain HTTP, like a developer's
  local registry (:mod:`~fakeregistry.client.transport`).
- **Authentication** on demand: a ``401`` is answered with Basic credentials or with the
  Docker token flow; tokens are cached per scope and upgraded on ``insufficient_scope``
  (:mod:`~fakeregistry.client.tokens`, :mod:`~fakeregistry.client.challenges`).
- **Verification**: manifests and blobs are hashed as they arrive and checked against the
  digest asked for; a mismatch raises :class:`DigestMismatchError` naming both digests
  (:mod:`~fakeregistry.client.results`).
- **Errors** carry the registry's ``{"errors": [{"code", "message", "detail"}]}`` envelope
  and the HTTP status (:class:`RegistryHTTPError` and its subclasses,
  :mod:`~fakeregistry.client.errors`).
- **A trace**: every request (method, URL, status) is appended to :attr:`RegistryClient.trace`,
  and to the list of any :meth:`RegistryClient.recording` block active in the calling task.

The endpoints are grouped by resource: :class:`~fakeregistry.client.manifests.ManifestsAPI`,
:class:`~fakeregistry.client.blobs.BlobsAPI` and
:class:`~fakeregistry.client.listings.ListingsAPI`. One client holds one ``aiohttp`` session,
bound to the event loop that first used it.

>>> client = RegistryClient({"127.0.0.1:5000": HostConfig()}, default=HostConfig(insecure=True))
>>> client.base_url("127.0.0.1:5000"), client.base_url("docker.io")
('http://127.0.0.1:5000', 'https://registry-1.docker.io')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from types import TracebackType
from typing import Self

import aiohttp

from fakeregistry.client.blobs import BlobsAPI
from fakeregistry.client.challenges import bearer_challenge, parse_challenges
from fakeregistry.client.config import HostConfig
from fakeregistry.client.errors import error_from_response, read_error_body
from fakeregistry.client.listings import ListingsAPI
from fakeregistry.client.manifests import ManifestsAPI
from fakeregistry.client.results import PingResult, TraceEntry
from fakeregistry.client.transport import Transport

__all__ = ["RegistryClient"]


class RegistryClient(ManifestsAPI, BlobsAPI, ListingsAPI):
    """An asynchronous client for OCI distribution / Docker Registry v2 APIs.

    *hosts* maps a registry host (as written in references: ``ghcr.io``,
    ``127.0.0.1:5000``) to its :class:`HostConfig`; hosts not listed use *default*.
    Use it as ``async with RegistryClient(...) as client:`` or call :meth:`close`.
    """

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
        self._transport = Transport(
            hosts,
            default=default,
            user_agent=user_agent,
            timeout=timeout,
            connect_timeout=connect_timeout,
            trust_env=trust_env,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session (the client may be used again afterwards)."""
        await self._transport.close()

    # Settings.

    def configure(self, host: str, config: HostConfig) -> None:
        """Set how to reach *host* (replaces earlier settings and forgets its tokens)."""
        self._transport.configure(host, config)

    def set_credentials(self, host: str, username: str, password: str) -> None:
        """Credentials for *host*, keeping its transport settings."""
        self.configure(host, replace(self.host_config(host), username=username, password=password))

    def host_config(self, host: str) -> HostConfig:
        """The settings used for *host*."""
        return self._transport.host_config(host)

    def base_url(self, host: str) -> str:
        """``scheme://host`` of the API for a registry host (``docker.io`` is served by
        ``registry-1.docker.io``)."""
        return self._transport.base_url(host)

    # The trace.

    @property
    def trace(self) -> list[TraceEntry]:
        """Every request this client made, in order."""
        return self._transport.trace

    @contextmanager
    def recording(self) -> Iterator[list[TraceEntry]]:
        """Collect the requests made by the current task (and tasks it starts) in a list."""
        with self._transport.recording() as entries:
            yield entries

    # The base endpoint.

    async def ping(self, registry: str, *, authenticate: bool = False) -> PingResult:
        """``GET /v2/``. A 200 or a 401 both say "a registry lives here"; with
        *authenticate* a 401 is answered first, and only 200 is success."""
        transport = self._transport
        if authenticate:
            async with transport.request("GET", registry, "/v2/") as response:
                return _ping_result(response)
        response = await transport.send(
            "GET",
            transport.url(registry, "/v2/"),
            ssl_setting=transport.ssl_for(registry),
            headers={},
            data=None,
        )
        try:
            if response.status not in (200, 401):
                raise error_from_response(response, await read_error_body(response))
            result = _ping_result(response)
            bearer = bearer_challenge(result.challenges)
            if bearer is not None:
                transport.tokens.remember_bearer(registry, bearer)
            return result
        finally:
            response.release()


def _ping_result(response: aiohttp.ClientResponse) -> PingResult:
    return PingResult(
        str(response.url),
        response.status,
        response.headers.get("Docker-Distribution-API-Version"),
        tuple(parse_challenges(response.headers.getall("WWW-Authenticate", ()))),
    )
