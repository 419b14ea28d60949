"""``FakeRegistry``: a registry handle for tests, with builders, a request log and faults.

It is what the pytest fixture ``fake_registry`` returns, and it works without pytest too::

    with RegistryServer(instruments=Instruments(RequestLog(), FaultPlan())) as server:
        registry = FakeRegistry.for_server(server)
        image = registry.push_image("demo:latest", platform="linux/arm64/v8")

Pushes go to our own server's storage through its event loop (fast, atomic), or, for a
registry we do not run, over HTTP with :mod:`fakeregistry.client`. Every builder has an
awaitable twin named with an ``a`` prefix (``apush_image``) that never blocks the caller's loop.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import ssl
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from fakeregistry.client import HostConfig, RegistryClient
from fakeregistry.engine.pull import PullResult, pull, pull_sync
from fakeregistry.registry.faults import Fault, FaultPlan, RateLimit
from fakeregistry.registry.http.instrument import Instruments
from fakeregistry.registry.requestlog import RecordedRequest, RequestLog
from fakeregistry.registry.server import RegistryServer
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.errors import FeatureUnavailable
from fakeregistry.rules.reference import ImageReference, split_reference
from fakeregistry.tools.builder import (
    BuiltBlob,
    Image,
    Index,
    Kind,
    LayerSpec,
    PlatformSpec,
    build_artifact,
    build_image,
    build_index,
)
from fakeregistry.tools.clientenv import ClientEnv, write_client_env
from fakeregistry.tools.seed import StorageTarget, load_layout, push_tree
from fakeregistry.trust.sign import SignFormat, SignResult, sign, sign_sync

__all__ = ["FakeRegistry", "FeatureUnavailable", "Target"]

T = TypeVar("T")
P = ParamSpec("P")
BuiltT = TypeVar("BuiltT", bound="Image | Index")
_COROUTINE_OF = "Coroutine[Any, Any, "


class Target(Protocol):
    """Where pushes go. Its coroutines run on the handle's background loop."""

    async def push_blob(self, repository: str, blob: BuiltBlob) -> None: ...

    async def push_manifest(
        self, repository: str, reference: str, body: bytes, media_type: str
    ) -> None: ...

    async def get_blob(self, repository: str, digest: str) -> bytes: ...


class ClientTarget:
    """Pushes over HTTP with :class:`~fakeregistry.client.RegistryClient` (any registry)."""

    def __init__(self, client: RegistryClient, host: str) -> None:
        self.client = client
        self.host = host

    def _ref(self, repository: str, reference: str | None = None) -> ImageReference:
        if reference is None:
            return ImageReference(self.host, repository)
        if ":" in reference:
            return ImageReference(self.host, repository, digest=reference)
        return ImageReference(self.host, repository, tag=reference)

    async def push_blob(self, repository: str, blob: BuiltBlob) -> None:
        await self.client.push_blob(
            self._ref(repository), blob.data, digest=blob.digest, skip_existing=True
        )

    async def push_manifest(
        self, repository: str, reference: str, body: bytes, media_type: str
    ) -> None:
        await self.client.put_manifest(self._ref(repository, reference), body, media_type)

    async def get_blob(self, repository: str, digest: str) -> bytes:
        return await self.client.get_blob(self._ref(repository), digest)


def _twins(
    core: Callable[Concatenate[FakeRegistry, P], Coroutine[Any, Any, T]],
) -> tuple[
    Callable[Concatenate[FakeRegistry, P], T],
    Callable[Concatenate[FakeRegistry, P], Coroutine[Any, Any, T]],
]:
    """A builder and its awaitable twin from one *core*: a method (``_push_image``) that
    builds at once and returns the coroutine that pushes. The builder (``push_image``) runs
    that coroutine on the registry's loop and waits; the twin (``apush_image``) awaits it
    there from the caller's loop. Both keep *core*'s parameters and docstring."""
    name = core.__name__.lstrip("_")

    @functools.wraps(core)
    def builder(self: FakeRegistry, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._run(core(self, *args, **kwargs))

    @functools.wraps(core)
    async def awaitable(self: FakeRegistry, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._arun(core(self, *args, **kwargs))

    for method, method_name in ((builder, name), (awaitable, f"a{name}")):
        method.__name__ = method_name
        method.__qualname__ = f"FakeRegistry.{method_name}"
    # Both return what the coroutine does (the core's annotation says "Coroutine[...]").
    signature = inspect.signature(core)
    returned = str(signature.return_annotation)
    if returned.startswith(_COROUTINE_OF) and returned.endswith("]"):
        signature = signature.replace(return_annotation=returned[len(_COROUTINE_OF) : -1])
    builder.__signature__ = awaitable.__signature__ = signature  # type: ignore[attr-defined]
    return builder, awaitable


class FakeRegistry:
    """A registry for one test: its address, builders that push, the request log and faults.

    Use :meth:`for_server` for our own server (everything available) or construct it with a
    :class:`Target` and a loop runner for any registry (no log, no faults).
    """

    def __init__(
        self,
        *,
        url: str,
        target: Target,
        runner: RegistryServer | Any,
        server: RegistryServer | None = None,
        instruments: Instruments | None = None,
        prefix: str = "",
        credentials: tuple[str, str] | None = None,
        users: Mapping[str, str] | None = None,
        ca_path: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url
        self.host = url.split("://", 1)[1]
        self._target = target
        self._runner = runner
        self.server = server
        self._instruments = instruments
        self.prefix = prefix
        #: ``(username, password)`` of the first user when the registry asks for credentials.
        self.credentials = credentials
        #: Every user of the registry, ``{name: password}``.
        self.users = dict(users or {})
        #: The CA certificate file clients must trust, when the registry serves HTTPS.
        self.ca_path = ca_path
        #: A client ``ssl.SSLContext`` that trusts the registry's CA (None over plain HTTP).
        self.ssl_context = ssl_context

    @property
    def connection(self) -> HostConfig:
        """How a client reaches this registry (plain HTTP or its CA, and the first user's
        credentials): the *connection* that :func:`~fakeregistry.engine.pull.pull`,
        manifest-tool and signing take."""
        username, password = self.credentials or (None, None)
        return HostConfig(
            plain_http=self.url.startswith("http://"),
            ca_file=self.ca_path,
            username=username,
            password=password,
        )

    def client_env(self, directory: str | Path) -> ClientEnv:
        """Write Docker ``config.json``, containers ``auth.json`` and ``registries.conf`` (and
        over TLS ``certs.d/HOST/ca.crt`` and a CA bundle) for this registry into *directory*;
        ``.env`` has the variables that point docker, skopeo, podman, buildah and oras at them
        (:func:`fakeregistry.tools.clientenv.write_client_env`)::

            setup = fake_registry.client_env(tmp_path)
            subprocess.run(["skopeo", "inspect", f"docker://{fake_registry.ref('app')}"],
                           env={**os.environ, **setup.env}, check=True)
        """
        username, password = self.credentials or (None, None)
        return write_client_env(
            directory, self.url, ca_file=self.ca_path, username=username, password=password
        )

    @classmethod
    def for_server(cls, server: RegistryServer, **kwargs: Any) -> FakeRegistry:
        """A handle on our own server (started, with instruments for the log and faults)."""
        return cls(
            url=server.url,
            target=StorageTarget(server.storage),
            runner=server,
            server=server,
            instruments=server.instruments,
            **kwargs,
        )

    # -- names -------------------------------------------------------------------------------

    def repository(self, name: str) -> str:
        """The repository name as pushed (with this test's prefix on an external registry)."""
        return f"{self.prefix}{name}"

    def ref(self, repository: str, tag: str = "latest") -> str:
        """A full image reference: ``127.0.0.1:PORT/<repository>:<tag>`` (or ``@digest``)."""
        separator = "@" if ":" in tag else ":"
        return f"{self.host}/{self.repository(repository)}{separator}{tag}"

    def _split(self, ref: str) -> tuple[str, str | None]:
        """(repository, tag or digest) of ``repo[:tag|@digest]`` or a full reference on this
        registry; the tag is None when ``ref`` names only a repository."""
        prefixed = ref.startswith(self.host + "/")
        if prefixed:
            ref = ref[len(self.host) + 1 :]
        name, tag, digest = split_reference(ref)
        if not name:
            raise ValueError(f"not a reference on this registry: {ref!r}")
        return (name if prefixed else self.repository(name)), digest or tag

    # -- running -----------------------------------------------------------------------------

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        result: T = self._runner.run(coroutine)
        return result

    async def _arun(self, coroutine: Coroutine[Any, Any, T]) -> T:
        result: T = await self._runner.arun(coroutine)
        return result

    # -- builders ----------------------------------------------------------------------------

    async def _push_tree(self, repository: str, reference: str | None, item: Image | Index) -> None:
        await push_tree(self._target, repository, reference, item)

    async def _push_blob(self, repository: str, data: bytes) -> BuiltBlob:
        """Push ``data`` as a blob of ``repository``; returns its digest and size."""
        blob = BuiltBlob(data, mt.OCTET_STREAM)
        await self._target.push_blob(self.repository(repository), blob)
        return blob

    push_blob, apush_blob = _twins(_push_blob)

    def _push_image(
        self,
        ref: str,
        *,
        platform: PlatformSpec = "linux/amd64",
        layers: Sequence[LayerSpec] | int | None = None,
        config: Mapping[str, Any] | None = None,
        media_type: Kind = "oci",
        annotations: Mapping[str, str] | None = None,
    ) -> Coroutine[Any, Any, Image]:
        """Build and push an image: ``push_image("app:1.0", platform="linux/arm/v7")``.

        ``ref`` is ``repo[:tag]`` (``latest`` when there is no tag) or a full reference from
        :meth:`ref`. Returns the :class:`~fakeregistry.tools.builder.Image` (bytes, digests,
        descriptor)."""
        image = build_image(
            platform, layers=layers, config=config, media_type=media_type, annotations=annotations
        )
        return self._push_built(ref, image)

    push_image, apush_image = _twins(_push_image)

    async def _push_built(
        self, ref: str, item: BuiltT, *, default_tag: str | None = "latest"
    ) -> BuiltT:
        repository, reference = self._split(ref)
        await self._push_tree(repository, reference or default_tag, item)
        return item

    def _push_index(
        self,
        ref: str,
        images_or_platforms: Sequence[Image | Index | PlatformSpec],
        *,
        media_type: Kind = "oci",
        annotations: Mapping[str, str] | None = None,
    ) -> Coroutine[Any, Any, Index]:
        """Build and push a multi-platform index (``media_type="docker"``: a manifest list):
        ``push_index("app:1.0", ["linux/amd64", "linux/arm64/v8"])``. Images given as values
        are pushed too; platforms build one image each."""
        index = build_index(
            images_or_platforms, media_type=media_type, annotations=annotations, seed=ref
        )
        return self._push_built(ref, index)

    push_index, apush_index = _twins(_push_index)

    def _push_artifact(
        self,
        ref: str,
        *,
        subject: Image | Index | Mapping[str, Any] | None = None,
        artifact_type: str = "application/vnd.example+type",
        blobs: Sequence[bytes] = (b"",),
        annotations: Mapping[str, str] | None = None,
    ) -> Coroutine[Any, Any, Image]:
        """Push an OCI 1.1 artifact (``artifactType``, empty config, ``subject``). With only a
        repository in ``ref`` it is pushed by digest, untagged, as referrers usually are."""
        artifact = build_artifact(
            artifact_type, subject=subject, blobs=blobs, annotations=annotations
        )
        return self._push_built(ref, artifact, default_tag=None)

    push_artifact, apush_artifact = _twins(_push_artifact)

    def _load_layout(self, path: str | Path, repository: str) -> Coroutine[Any, Any, list[str]]:
        """Push an OCI image layout directory into ``repository``: every blob, every manifest
        reachable from ``index.json``, and a tag for each ``org.opencontainers.image.ref.name``
        annotation. Returns the tags pushed."""
        return load_layout(self._target, Path(path), self.repository(repository))

    load_layout, aload_layout = _twins(_load_layout)

    # -- the simulated pull ------------------------------------------------------------------

    def pull(
        self,
        ref: str,
        *,
        platform: PlatformSpec | None = None,
        engine: str = "moby",
        requested: str | None = None,
        **trust: Any,
    ) -> PullResult:
        """Pull ``ref`` as ``engine`` running on a ``platform`` host (default: this machine),
        optionally with ``docker pull --platform``'s ``requested`` platform; see
        :func:`fakeregistry.engine.pull.pull`. ``pull("app:1", platform="linux/arm/v6")`` is a
        Raspberry Pi Zero pulling ``app:1``; ``policy=`` and ``verify_target=`` check a
        trust policy first."""
        options = self._pull_options(platform, engine, requested)
        return pull_sync(self._full_ref(ref), **options, **trust)

    async def apull(
        self,
        ref: str,
        *,
        platform: PlatformSpec | None = None,
        engine: str = "moby",
        requested: str | None = None,
        **trust: Any,
    ) -> PullResult:
        options = self._pull_options(platform, engine, requested)
        return await pull(self._full_ref(ref), **options, **trust)

    # -- signing -----------------------------------------------------------------------------

    def sign(
        self, ref: str, *, key: Any, format: SignFormat = "cosign", **options: Any
    ) -> SignResult:
        """Sign ``ref`` on this registry: ``sign("app:1", key=generate_key())``, or
        ``format="cosign-bundle"``, or ``format="notation"`` with a certificate chain as the
        key; ``recursive=True`` signs an index and its manifests (see
        :func:`fakeregistry.trust.sign.sign`)."""
        return sign_sync(
            self._full_ref(ref), key, format=format, connection=self.connection, **options
        )

    async def asign(
        self, ref: str, *, key: Any, format: SignFormat = "cosign", **options: Any
    ) -> SignResult:
        return await sign(
            self._full_ref(ref), key, format=format, connection=self.connection, **options
        )

    def _full_ref(self, ref: str) -> str:
        if ref.startswith(self.host + "/"):
            return ref
        repository, reference = self._split(ref)
        separator = "@" if reference and ":" in reference else ":"
        return f"{self.host}/{repository}{separator}{reference or 'latest'}"

    def _pull_options(
        self, platform: PlatformSpec | None, engine: str, requested: str | None
    ) -> dict[str, Any]:
        options: dict[str, Any] = {"engine": engine}
        if platform is not None:
            options["host"] = platform
        if requested is not None:
            options["platform"] = requested
        options["connection"] = self.connection
        return options

    # -- the request log ---------------------------------------------------------------------

    def _require(self, feature: str) -> Instruments:
        if self._instruments is None:
            raise FeatureUnavailable(
                f"{feature} needs fakeregistry's own server; this handle points at {self.url}"
            )
        return self._instruments

    @property
    def requests(self) -> RequestLog:
        """Every request the registry answered during this test, in order."""
        return self._require("the request log").log

    def assert_requested(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        count: int | None = None,
        status: int | None = None,
    ) -> list[RecordedRequest]:
        """Assert requests matching ``method`` and the regex ``path`` were made (exactly
        ``count`` when given): ``assert_requested("GET", r"/manifests/latest$", count=1)``."""
        return self.requests.assert_requested(method, path, count=count, status=status)

    # -- faults ------------------------------------------------------------------------------

    def _plan(self, feature: str) -> FaultPlan:
        return self._require(feature).plan

    def _mutate(self, function: Any, *args: Any) -> None:
        if self.server is None:
            raise FeatureUnavailable(
                f"changing the registry's state needs fakeregistry's own server; "
                f"this handle points at {self.url}"
            )
        self.server.call(function, *args)

    def fail(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        status: int | None = 500,
        times: int | None = None,
        after: int = 0,
        headers: Mapping[str, str] | None = None,
        body: bytes | str | None = None,
        delay: float = 0.0,
        drop_connection: bool = False,
        truncate_body: int | None = None,
    ) -> Fault:
        """Make matching requests fail: ``fail("GET", r"/blobs/", status=503, times=2)``.

        ``times`` (None: always) after letting ``after`` through; ``delay`` seconds first;
        ``drop_connection`` closes without answering; ``truncate_body`` serves the real
        response cut after N bytes. Returns the rule, whose ``matched``/``fired`` count."""
        if drop_connection or truncate_body is not None:
            status = None
        fault = Fault(
            method=method,
            path=path,
            status=status,
            times=times,
            after=after,
            headers=dict(headers or {}),
            body=body.encode() if isinstance(body, str) else body,
            delay=delay,
            drop_connection=drop_connection,
            truncate_body=truncate_body,
        )
        self._mutate(self._plan("fault injection").faults.append, fault)
        return fault

    def delay(self, seconds: float, method: str | None = None, path: str | None = None) -> Fault:
        """Answer matching requests normally, ``seconds`` late."""
        return self.fail(method, path, status=None, delay=seconds)

    def rate_limit(
        self,
        limit: int,
        window: float = 21600.0,
        *,
        method: str | None = "GET",
        path: str | None = r"/manifests/",
        source: str = "127.0.0.1",
    ) -> RateLimit:
        """Docker Hub's pull limit: after ``limit`` matching requests in ``window`` seconds,
        429 ``TOOMANYREQUESTS`` with ``Retry-After`` and the ``ratelimit-*`` headers."""
        rule = RateLimit(limit, window, method, path, source)
        self._mutate(self._plan("rate limiting").rate_limits.append, rule)
        return rule

    def warn(self, text: str) -> None:
        """Add ``Warning: 299 - "<text>"`` to every response (distribution-spec "Warnings")."""
        self._mutate(self._plan("warnings").add_warning, text)

    # -- settings ----------------------------------------------------------------------------

    def configure(self, **options: Any) -> None:
        """Change server options for this test: ``configure(deletes=False, referrers=False)``
        (fields of :class:`~fakeregistry.registry.options.RegistryOptions`)."""
        if self.server is None:
            raise FeatureUnavailable(f"options cannot be changed on {self.url}")
        storage = self.server.storage
        if options.get("personality", storage.options.personality) != storage.options.personality:
            raise ValueError("a server's personality is fixed: use the marker's personality=")
        self.server.call(
            setattr, storage, "options", dataclasses.replace(storage.options, **options)
        )
