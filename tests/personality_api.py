"""A small HTTP helper for personality tests: one registry per personality, and requests that
authenticate the way the personality asks (Basic, or a token from its realm with its fields)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from fakeregistry import RegistryOptions, RegistryServer
from fakeregistry.registry.personality import Personality, get_personality
from fakeregistry.rules import mediatypes as mt
from fakeregistry.testing.harness import FakeRegistry

USER = ("user", "password")
ACCEPT = ", ".join(sorted(mt.MANIFEST_TYPES))

_PARAM = re.compile(r'(\w+)="([^"]*)"')
_REPOSITORY = re.compile(r"^/v2/(.+?)/(?:manifests|blobs|tags|referrers)/")


def challenge_params(header: str) -> dict[str, str]:
    return dict(_PARAM.findall(header))


@dataclass
class Api:
    """Requests to one personality's registry, signed in as ``user`` unless told not to."""

    server: RegistryServer
    personality: Personality
    http: httpx.Client = field(init=False)
    handle: FakeRegistry = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.server.url, timeout=30)
        self.handle = FakeRegistry.for_server(self.server, credentials=USER)

    @property
    def auth(self) -> Any:
        return self.server.auth

    def token(self, *scopes: str, user: tuple[str, str] | None = USER) -> httpx.Response:
        """The token endpoint's answer for ``scopes`` (GET, Basic ``user``)."""
        config = self.auth
        assert config is not None
        assert config.mode == "token"
        query = [("service", config.service), *(("scope", s) for s in scopes)]
        return self.http.get(config.token_path, params=query, auth=user)

    def authorization(self, *scopes: str, user: tuple[str, str] | None = USER) -> dict[str, str]:
        config = self.auth
        if config is None:
            return {}
        if config.mode == "basic":
            assert user is not None
            return {"Authorization": httpx.BasicAuth(*user)._auth_header}
        answer = self.token(*scopes, user=user)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return {"Authorization": f"Bearer {body.get('token') or body['access_token']}"}

    def request(
        self,
        method: str,
        path: str,
        *scopes: str,
        user: tuple[str, str] | None = USER,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """``method path`` with a token for ``scopes`` (all actions on the path's repository
        when none are named)."""
        match = _REPOSITORY.match(httpx.URL(path).path)
        if not scopes and match:
            scopes = (f"repository:{match[1]}:*",)
        sent = {**self.authorization(*scopes, user=user), **(headers or {})}
        if "/manifests/" in path and method in ("GET", "HEAD"):
            sent.setdefault("Accept", ACCEPT)
        return self.http.request(method, path, headers=sent, **kwargs)

    def close(self) -> None:
        self.http.close()


def start(personality: str | Personality, **options: Any) -> Api:
    persona = get_personality(personality)
    server = RegistryServer(RegistryOptions(personality=persona, **options)).start()
    return Api(server, persona)
