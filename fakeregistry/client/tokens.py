"""Answering a registry's 401: Basic credentials, or the Docker token flow.

A ``Bearer realm=…,service=…,scope=…`` challenge is answered by ``GET
realm?service=…&scope=…`` (Basic credentials to the realm when configured, anonymous
otherwise; ``token`` or ``access_token`` accepted). Tokens are cached per host with the
scopes they were asked for, and reused while they cover what a request needs; an
``error="insufficient_scope"`` challenge upgrades the scope (``pull`` → ``pull,push``).

:class:`TokenFlow` keeps what each host taught us and sends the token requests through the
transport it is given (:class:`~fakeregistry.client.transport.Transport`).
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
from yarl import URL

from fakeregistry.client.challenges import Challenge, bearer_challenge
from fakeregistry.client.config import HostConfig
from fakeregistry.client.errors import (
    AuthenticationError,
    RegistryClientError,
    RegistryConnectionError,
    describe_errors,
    error_from_response,
)
from fakeregistry.rules.scope import Scope, covers, merge_scopes, parse_scopes

__all__ = ["HostAuth", "Token", "TokenFlow", "TokenTransport"]

# The spec's minimum token lifetime, assumed when the token endpoint names none.
_DEFAULT_LIFETIME = 60.0
# Renew a little before the token expires.
_RENEW_EARLY = 5.0


def _encode_basic_auth(login: str, password: str) -> str:
    """``Basic <base64 of login:password>`` (UTF-8), as aiohttp writes it: its
    ``encode_basic_auth`` (3.14+) or, before, the ``BasicAuth`` helper it replaces."""
    encode = getattr(aiohttp, "encode_basic_auth", None)
    if encode is not None:
        return str(encode(login, password, encoding="utf-8"))
    return aiohttp.BasicAuth(login, password, encoding="utf-8").encode()


class TokenTransport(Protocol):
    """What the token flow needs from the transport: settings, TLS and one request."""

    def host_config(self, host: str) -> HostConfig: ...

    def is_configured(self, host: str) -> bool: ...

    def ssl_for(self, host: str) -> ssl.SSLContext | bool: ...

    async def send(
        self,
        method: str,
        url: URL,
        *,
        ssl_setting: ssl.SSLContext | bool,
        headers: Mapping[str, str],
        data: bytes | None,
    ) -> aiohttp.ClientResponse: ...


@dataclass(slots=True)
class Token:
    """A bearer token, the scopes it was asked for, and when to stop using it."""

    value: str
    scopes: tuple[Scope, ...]
    expires_at: float

    @property
    def authorization(self) -> str:
        return f"Bearer {self.value}"


@dataclass(slots=True)
class HostAuth:
    """What we learned about a host's authentication."""

    bearer: Challenge | None = None
    basic: bool = False
    tokens: list[Token] = field(default_factory=list)

    def cached(self, wanted: Sequence[Scope], now: float) -> Token | None:
        """The newest unexpired token asked for at least *wanted*."""
        self.tokens = [t for t in self.tokens if t.expires_at > now]
        for token in reversed(self.tokens):
            if covers(token.scopes, wanted):
                return token
        return None


class TokenFlow:
    """Per-host authentication state and the ``Authorization`` values it leads to."""

    def __init__(self, transport: TokenTransport) -> None:
        self._transport = transport
        self._hosts: dict[str, HostAuth] = {}

    def forget(self, host: str) -> None:
        """Drop what *host* taught us (its settings changed)."""
        self._hosts.pop(host, None)

    def remember_bearer(self, host: str, challenge: Challenge) -> None:
        """Note where *host*'s tokens come from (a ping's challenge), before being asked."""
        self._state(host).bearer = challenge

    def _state(self, host: str) -> HostAuth:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = HostAuth()
        return state

    def basic(self, host: str) -> str | None:
        """``Basic …`` for *host*'s credentials, or None without any."""
        config = self._transport.host_config(host)
        if config.username is None:
            return None
        try:
            return _encode_basic_auth(config.username, config.password or "")
        except ValueError as exc:  # a ':' in the username cannot be sent
            raise RegistryClientError(f"credentials for {host}: {exc}") from None

    async def authorization(self, host: str, scopes: Sequence[Scope]) -> str | None:
        """The ``Authorization`` to send before being asked: what this host wanted last time."""
        state = self._hosts.get(host)
        if state is None:
            return None
        if state.basic:
            return self.basic(host)
        if state.bearer is None:
            return None
        wanted = merge_scopes(scopes)
        token = state.cached(wanted, time.monotonic())
        if token is None:
            token = await self._fetch_token(host, state.bearer, wanted)
        return token.authorization

    async def answer(
        self,
        host: str,
        challenges: Sequence[Challenge],
        scopes: Sequence[Scope],
        sent: str | None,
    ) -> str | None:
        """A new ``Authorization`` value answering a 401, or None when we have none."""
        state = self._state(host)
        bearer = bearer_challenge(challenges)
        if bearer is not None:
            state.bearer = bearer
            state.basic = False
            wanted = merge_scopes([*scopes, *parse_scopes(bearer.scope or "")])
            previous = next((t for t in state.tokens if t.authorization == sent), None)
            if bearer.error == "insufficient_scope" and previous is not None:
                # Upgrade: keep what the previous token was for, add what the registry asks.
                wanted = merge_scopes([*wanted, *previous.scopes])
                if set(wanted) == set(previous.scopes):
                    return None  # that scope was asked for and not granted: no use asking again
            token = await self._fetch_token(host, bearer, wanted)
            return token.authorization
        if any(c.scheme == "basic" for c in challenges):
            basic = self.basic(host)
            if basic is not None:
                state.basic = True
            return basic
        return None

    async def _fetch_token(self, host: str, challenge: Challenge, scopes: Sequence[Scope]) -> Token:
        """The Docker token flow: ``GET realm?service=…&scope=…`` (Basic auth if configured)."""
        url = self._token_url(host, challenge, scopes)
        realm_host = url.host or ""
        if url.port is not None and not url.is_default_port():
            realm_host = f"{realm_host}:{url.port}"
        transport = self._transport
        ssl_setting = transport.ssl_for(realm_host if transport.is_configured(realm_host) else host)
        basic = self.basic(host)
        headers = {"Authorization": basic} if basic is not None else {}
        response = await transport.send(
            "GET", url, ssl_setting=ssl_setting, headers=headers, data=None
        )
        try:
            body = await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise RegistryConnectionError(f"GET {url}: token response broke: {exc}") from exc
        finally:
            response.release()
        if response.status != 200:
            error = error_from_response(response, body, AuthenticationError)
            raise AuthenticationError(
                error.method,
                error.url,
                error.status,
                error.errors,
                body=error.body,
                summary="token endpoint refused"
                + (" the credentials" if basic else " an anonymous token")
                + (f": {describe_errors(error.errors, error.body)}" if error.body else ""),
            )
        token = _token_from_body(str(url), response.status, body, scopes)
        self._state(host).tokens.append(token)
        return token

    def _token_url(self, host: str, challenge: Challenge, scopes: Sequence[Scope]) -> URL:
        query: list[tuple[str, str]] = []
        if challenge.service:
            query.append(("service", challenge.service))
        username = self._transport.host_config(host).username
        if username:
            query.append(("account", username))
        query.extend(("scope", str(scope)) for scope in scopes)
        realm = URL(challenge.realm or "")
        return realm.extend_query(query) if query else realm


def _token_from_body(url: str, status: int, body: bytes, scopes: Sequence[Scope]) -> Token:
    """The token endpoint's answer: ``token`` or ``access_token``, and ``expires_in``."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        document = None
    value = None
    if isinstance(document, dict):
        value = document.get("token") or document.get("access_token")
    if not isinstance(document, dict) or not isinstance(value, str) or not value:
        raise AuthenticationError(
            "GET",
            url,
            status,
            body=body.decode("utf-8", "replace"),
            summary="token endpoint answered without a token or access_token",
        )
    expires_in = document.get("expires_in")
    lifetime = float(expires_in) if isinstance(expires_in, int | float) else _DEFAULT_LIFETIME
    expires_at = time.monotonic() + max(lifetime - _RENEW_EARLY, 1.0)
    return Token(value, tuple(scopes), expires_at)
