"""Registries for a test session: started once, handed out empty to each test.

:class:`RegistrySession` is the engine behind the pytest plugin, kept here so the plugin stays a
few fixtures and other test runners can reuse it. One server is started per distinct
configuration (TLS, auth) and reset between tests, which costs well under a millisecond; a
server-side exception raised while serving a test fails that test.
"""

from __future__ import annotations

import itertools
import secrets
import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakeregistry.client import HostConfig, RegistryClient
from fakeregistry.registry.auth import AccessPolicy, AuthConfig, AuthMode, Users
from fakeregistry.registry.faults import FaultPlan
from fakeregistry.registry.http.instrument import Instruments
from fakeregistry.registry.options import RegistryOptions
from fakeregistry.registry.personality import Personality, get_personality
from fakeregistry.registry.requestlog import RequestLog
from fakeregistry.registry.server import RegistryServer
from fakeregistry.rules.errors import FeatureUnavailable
from fakeregistry.runtime.loopthread import LoopThread
from fakeregistry.testing.harness import ClientTarget, FakeRegistry

__all__ = ["ExternalSession", "HandleConfig", "RegistrySession", "ServerError", "Session"]


class ServerError(AssertionError):
    """The registry raised while serving the test's requests (a bug in fakeregistry)."""


@dataclass(frozen=True)
class HandleConfig:
    """What a test asks of its registry (the ``fake_registry`` marker's arguments).

    ``images``: references to seed, each ``"repo:tag"`` (a linux/amd64 image) or
    ``("repo:tag", ["linux/amd64", "linux/arm64/v8"])`` (an index); ``layouts``: OCI image
    layout directories to load, ``{path: repository}``; ``options``: RegistryOptions fields.
    ``tls``: serve HTTPS with a throwaway CA; ``auth``: ``"basic"`` or ``"token"`` for
    ``users`` (``{name: password}``, default ``{"user": "password"}``), with
    ``anonymous_pull`` letting requests without credentials pull. ``personality``: answer
    like a hosted registry (docs/personalities.md); one that always authenticates brings its
    own auth (``auth`` is then not given) with ``users`` defaulting to ``{"user": "password"}``.
    """

    images: tuple[Any, ...] = ()
    layouts: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    tls: bool = False
    auth: AuthMode | None = None
    users: Mapping[str, str] = field(default_factory=dict)
    anonymous_pull: bool = False
    personality: str | Personality = "spec"

    @classmethod
    def from_marker(cls, kwargs: Mapping[str, Any]) -> HandleConfig:
        known = set(RegistryOptions.__dataclass_fields__)
        options = {k: v for k, v in kwargs.items() if k in known and k != "personality"}
        personality = kwargs.get("personality", "spec")
        try:
            persona = get_personality(personality)
        except ValueError as exc:
            raise TypeError(f"fake_registry marker: {exc}") from None
        if persona.authenticates and kwargs.get("auth") is not None:
            raise TypeError(
                f"fake_registry marker: personality {persona.name!r} brings its own auth; "
                "leave auth out"
            )
        security = {"tls", "auth", "users", "anonymous_pull"}
        unknown = set(kwargs) - known - security - {"images", "layout", "layouts"}
        if unknown:
            raise TypeError(f"fake_registry marker: unknown arguments {sorted(unknown)}")
        if kwargs.get("auth") not in (None, "basic", "token"):
            raise TypeError("fake_registry marker: auth must be 'basic' or 'token'")
        layouts = dict(kwargs.get("layouts", {}))
        if "layout" in kwargs:
            path, repository = kwargs["layout"]
            layouts[str(path)] = repository
        users = dict(kwargs.get("users", {}))
        if (kwargs.get("auth") or persona.authenticates) and not users:
            users = {"user": "password"}
        return cls(
            tuple(kwargs.get("images", ())),
            layouts,
            options,
            tls=bool(kwargs.get("tls", False)),
            auth=kwargs.get("auth"),
            users=users,
            anonymous_pull=bool(kwargs.get("anonymous_pull", False)),
            personality=personality,
        )

    @property
    def server_key(self) -> tuple[Any, ...]:
        """Tests whose configurations share this key share a server."""
        return (
            self.tls,
            self.auth,
            tuple(sorted(self.users.items())),
            self.anonymous_pull,
            self.personality,
        )


@dataclass
class _Server:
    server: RegistryServer
    errors: list[BaseException]


class Session(ABC):
    """Where a test session's registries come from: our own servers, or an external registry."""

    @abstractmethod
    def acquire(self, config: HandleConfig | None = None) -> FakeRegistry:
        """A registry for one test, empty (or, externally, under a fresh prefix)."""

    @abstractmethod
    def new_registry(self, **options: Any) -> FakeRegistry:
        """A further, independent registry (stopped by :meth:`release_extra`)."""

    @abstractmethod
    def check(self, handles: Iterable[FakeRegistry]) -> None:
        """Raise :class:`ServerError` if serving the test's requests failed."""

    @abstractmethod
    def release_extra(self) -> None:
        """Stop the registries :meth:`new_registry` made."""

    @abstractmethod
    def close(self) -> None:
        """Stop everything."""


class RegistrySession(Session):
    """Our registries for one test session (one per pytest-xdist worker)."""

    def __init__(self) -> None:
        self._servers: dict[tuple[Any, ...], _Server] = {}
        self._extra: list[_Server] = []

    def _start(self, config: HandleConfig | None = None) -> _Server:
        config = config or HandleConfig()
        errors: list[BaseException] = []
        instruments = Instruments(RequestLog(), FaultPlan())
        auth = None
        policy = AccessPolicy(anonymous_pull=config.anonymous_pull)
        persona = get_personality(config.personality)
        if persona.authenticates:
            auth = AuthConfig.for_personality(persona, users=Users(config.users), policy=policy)
        elif config.auth is not None:
            auth = AuthConfig(mode=config.auth, users=Users(config.users), policy=policy)
        server = RegistryServer(
            RegistryOptions(personality=config.personality),
            instruments=instruments,
            on_error=errors.append,
            tls=config.tls,
            auth=auth,
        ).start()
        return _Server(server, errors)

    def server(self, config: HandleConfig | None = None) -> RegistryServer:
        """The session's server for a configuration, started on first use."""
        key = (config or HandleConfig()).server_key
        if key not in self._servers:
            self._servers[key] = self._start(config)
        return self._servers[key].server

    def acquire(self, config: HandleConfig | None = None) -> FakeRegistry:
        """An empty registry for one test, set up as ``config`` asks."""
        config = config or HandleConfig()
        server = self.server(config)
        entry = self._servers[config.server_key]
        server.call(_reset, server, RegistryOptions(personality=config.personality))
        entry.errors.clear()
        handle = _handle(server, config)
        seed(handle, config)
        return handle

    def new_registry(self, **options: Any) -> FakeRegistry:
        """A further, independent registry (stopped by :meth:`release_extra`)."""
        config = HandleConfig.from_marker({"personality": options.get("personality", "spec")})
        entry = self._start(config)
        if options:
            entry.server.call(_reset, entry.server, RegistryOptions(**options))
        self._extra.append(entry)
        return _handle(entry.server, config)

    def check(self, handles: Iterable[FakeRegistry]) -> None:
        """Raise :class:`ServerError` with the server's traceback if serving failed."""
        for entry in [*self._servers.values(), *self._extra]:
            if entry.errors:
                error = entry.errors[0]
                entry.errors.clear()
                text = "".join(traceback.format_exception(error))
                raise ServerError(f"fakeregistry raised while serving this test:\n{text}")

    def release_extra(self) -> None:
        for entry in self._extra:
            entry.server.stop()
        self._extra.clear()

    def close(self) -> None:
        self.release_extra()
        for entry in self._servers.values():
            entry.server.stop()
        self._servers.clear()


class ExternalSession(Session):
    """Tests pointed at a registry we do not run (distribution, zot, a hosted one).

    Builders push over HTTP; instead of a reset, each test gets its own repository prefix
    (``fakeregistry-<run>/t<n>/``), so tests never see each other's content. What only our
    server can do (the request log, faults, options, TLS or auth settings, more registries)
    raises :class:`~fakeregistry.testing.harness.FeatureUnavailable`, which the plugin reports as a
    skip.
    """

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
        insecure: bool = False,
    ) -> None:
        url = url.rstrip("/")
        scheme, _, host = url.partition("://")
        if scheme not in ("http", "https") or not host or "/" in host:
            raise ValueError(f"registry URL must be http(s)://HOST[:PORT], not {url!r}")
        self.url = url
        self.host = host
        self._credentials = (username, password) if username and password else None
        self._ca_file = ca_file
        self._client = RegistryClient(
            {
                host: HostConfig(
                    plain_http=scheme == "http",
                    insecure=insecure,
                    ca_file=ca_file,
                    username=username,
                    password=password,
                )
            }
        )
        self._loop = LoopThread("fakeregistry-client")
        self._loop.start()
        self._run = secrets.token_hex(4)
        self._count = itertools.count(1)

    def acquire(self, config: HandleConfig | None = None) -> FakeRegistry:
        config = config or HandleConfig()
        if config.personality != "spec":
            raise FeatureUnavailable(
                f"personalities need fakeregistry's own server; {self.url} is what it is"
            )
        if config.tls or config.auth or config.users or config.anonymous_pull:
            raise FeatureUnavailable(
                "the fake_registry marker's tls/auth settings need fakeregistry's own server; "
                f"the external registry {self.url} has its own"
            )
        handle = FakeRegistry(
            url=self.url,
            target=ClientTarget(self._client, self.host),
            runner=self._loop,
            prefix=f"fakeregistry-{self._run}/t{next(self._count)}/",
            credentials=self._credentials,
            ca_path=self._ca_file,
        )
        seed(handle, config)
        return handle

    def new_registry(self, **options: Any) -> FakeRegistry:
        raise FeatureUnavailable(
            "fake_registry_factory needs fakeregistry's own servers; tests run against "
            f"the external registry {self.url}"
        )

    def check(self, handles: Iterable[FakeRegistry]) -> None:
        # An external registry's faults reach the test as HTTP errors; nothing is kept here.
        return None

    def release_extra(self) -> None:
        return None  # new_registry never makes one

    def close(self) -> None:
        if self._loop.running:
            self._loop.stop(self._client.close)


def _handle(server: RegistryServer, config: HandleConfig) -> FakeRegistry:
    credentials = next(iter(config.users.items()), None)
    return FakeRegistry.for_server(
        server,
        credentials=credentials,
        users=dict(config.users),
        ca_path=str(server.ca_path) if server.ca_path else None,
        ssl_context=server.ssl_context,
    )


def _reset(server: RegistryServer, options: RegistryOptions) -> None:
    """Runs on the server's loop: empty storage, log and faults, restore options."""
    server.storage.reset()
    server.storage.options = options
    server.reset_personality()
    instruments = server.instruments
    if instruments is not None:
        instruments.log.clear()
        instruments.plan.clear()


def seed(handle: FakeRegistry, config: HandleConfig) -> None:
    """Apply a marker's options and push its images and layouts."""
    if config.options:
        handle.configure(**config.options)
    for image in config.images:
        if isinstance(image, str):
            handle.push_image(image)
        else:
            ref, platforms = image
            handle.push_index(ref, list(platforms))
    for path, repository in config.layouts.items():
        handle.load_layout(Path(path), repository)
