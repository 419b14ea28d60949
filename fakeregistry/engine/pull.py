r"""The simulated engine pull: what ``docker pull`` (or ctr, podman…) would fetch, over HTTP.

:func:`pull` resolves a reference on any registry, negotiates the manifest with the ``Accept``
list the chosen engine sends, picks from (nested) image indexes with that engine's rules
(:func:`fakeregistry.engine.selection.select_manifest`), then fetches and verifies the config
and the layers::

    result = await pull("127.0.0.1:5000/demo:latest", platform="linux/arm64", engine="moby")
    result.manifest.digest, result.platform, [layer.descriptor.digest for layer in result.layers]

The :class:`PullResult` keeps the resolved and chosen digests, the chosen platform, the config,
every layer's bytes, the ranked candidates with the engine's reasons and the request trace.
:func:`pull_sync` is the same for synchronous code (it runs its own event loop on a thread).

Requests follow each engine's pattern, as its :class:`~fakeregistry.engine.profiles.Engine`
record says: the ``Accept`` list it sends, whether it ``HEAD``\s a tag before it ``GET``\s by
digest, and what it does with the config's platform (the table in
:mod:`fakeregistry.engine.profiles`, ``docs/platform-rules.md`` A8). Every manifest and blob is
verified against its digest; a corrupted blob raises
:class:`~fakeregistry.client.DigestMismatchError` naming both digests. The results are in
:mod:`fakeregistry.engine.results`, the OCI layout writer in :mod:`fakeregistry.engine.layout`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fakeregistry.client import (
    FetchedManifest,
    NotFoundError,
    RegistryClient,
    RegistryHTTPError,
    SizeMismatchError,
)
from fakeregistry.client.connection import Connection, connect, sync_twin
from fakeregistry.engine.layout import write_oci_layout
from fakeregistry.engine.profiles import ENGINE_ACCEPT, ConfigCheck, Engine, RequestSyntax
from fakeregistry.engine.profiles import engine as _engine
from fakeregistry.engine.results import (
    IndexStep,
    PulledLayer,
    PullError,
    PullProgress,
    PullResult,
)
from fakeregistry.engine.selection import NoMatchingManifest, select_manifest
from fakeregistry.engine.selectors.containers_image import literal_platform
from fakeregistry.platforms.platform import Platform, PlatformError
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.errors import RegistryError
from fakeregistry.rules.model import Descriptor, Manifest, parse_manifest
from fakeregistry.rules.reference import ImageReference, ImageReferenceError
from fakeregistry.trust.verify import PolicyLike, VerifyTarget, enforce

__all__ = [
    "ENGINE_ACCEPT",
    "IndexStep",
    "PullError",
    "PullProgress",
    "PullResult",
    "PulledLayer",
    "pull",
    "pull_sync",
    "write_oci_layout",
]

PlatformLike = Platform | str | Mapping[str, Any]


# -- inputs ------------------------------------------------------------------------------------


def _platform(
    value: PlatformLike | None,
    what: str,
    *,
    host: Platform | None = None,
    syntax: RequestSyntax = RequestSyntax.CONTAINERD,
) -> Platform | None:
    """A platform from a specifier (one-word ones completed from *host*, as the daemon
    does; ``os/arch[/variant]`` as given for the containers/image tools), a platform JSON
    object, or as is."""
    if value is None or isinstance(value, Platform):
        return value
    try:
        if isinstance(value, str) and syntax is RequestSyntax.FLAGS:
            return literal_platform(value)
        if isinstance(value, str):
            return Platform.parse(value, host=host)
        return Platform.from_json(value)
    except PlatformError as exc:
        raise PullError(f"invalid {what} platform: {exc}") from None


def _reference(ref: ImageReference | str) -> ImageReference:
    if isinstance(ref, ImageReference):
        return ref
    try:
        return ImageReference.parse(ref)
    except ImageReferenceError as exc:
        raise PullError(str(exc)) from None


def _parse(fetched: FetchedManifest) -> Manifest:
    try:
        return parse_manifest(fetched.body, fetched.media_type)
    except RegistryError as exc:
        raise PullError(f"manifest {fetched.digest} of {fetched.reference}: {exc}") from None


def _unsupported(engine: str, media_type: str) -> PullError:
    if engine.startswith("docker-") or engine == "moby":
        # distribution's UnmarshalManifest
        return PullError(f"unsupported manifest media type and no default available: {media_type}")
    return PullError(f"{engine} cannot pull manifests of type {media_type!r}")


# -- the pull ----------------------------------------------------------------------------------


@dataclass
class _Pull:
    client: RegistryClient
    reference: ImageReference
    profile: Engine
    host: Platform
    requested: Platform | None
    progress: Callable[[PullProgress], None] | None
    steps: list[IndexStep] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    configs: dict[str, bytes] = field(default_factory=dict)

    @property
    def accept(self) -> tuple[str, ...]:
        return self.profile.accept

    @property
    def engine(self) -> str:
        return self.profile.name

    def at(self, digest: str) -> ImageReference:
        return ImageReference(self.reference.registry, self.reference.repository, None, digest)

    async def resolve(self) -> FetchedManifest:
        """The manifest the reference names, fetched as the engine does."""
        ref = self.reference
        if ref.digest is None and self.profile.head_first:
            try:
                head = await self.client.head_manifest(ref, accept=self.accept)
            except RegistryHTTPError as exc:
                # A HEAD answer has no body to explain itself (and some registries refuse
                # HEAD): the GET by tag below gets the manifest or the error envelope.
                if exc.errors:
                    raise
            else:
                fetched = await self.client.get_manifest(self.at(head.digest), accept=self.accept)
                if head.size and head.size != fetched.size:
                    raise SizeMismatchError(
                        f"manifest {fetched.reference}", head.size, fetched.size
                    )
                return fetched
        return await self.client.get_manifest(ref, accept=self.accept)

    async def choose(
        self, fetched: FetchedManifest, depth: int = 0
    ) -> tuple[FetchedManifest, Platform | None]:
        """Walk (nested) indexes down to one image manifest, the engine's way."""
        if fetched.media_type not in mt.INDEX_TYPES:
            return fetched, None
        if depth >= mt.MAX_INDEX_DEPTH:
            raise PullError(
                f"indexes nested deeper than {mt.MAX_INDEX_DEPTH} levels at {fetched.digest}"
            )
        try:
            selection = select_manifest(
                fetched.body, self.host, self.engine, requested=self.requested
            )
        except ValueError as exc:
            raise PullError(f"index {fetched.digest}: {exc}") from None
        self.steps.append(IndexStep(fetched.digest, fetched.media_type, selection))
        accepted = [c for c in selection.candidates if c.accepted]
        for candidate in accepted:
            descriptor = candidate.descriptor
            digest = descriptor.get("digest")
            media_type = descriptor.get("mediaType", "")
            if not isinstance(digest, str):
                self.skipped.append(f"manifests[{candidate.position}]: no digest")
                continue
            if media_type and media_type not in mt.MANIFEST_TYPES:
                # moby: "OCI spec requires to skip unknown manifest types".
                self.skipped.append(f"{digest}: unknown manifest type {media_type!r}")
                continue
            child = await self.client.get_manifest(self.at(digest), accept=self.accept)
            size = descriptor.get("size")
            if isinstance(size, int) and size != child.size:
                raise SizeMismatchError(f"manifest {child.reference}", size, child.size)
            if child.media_type in mt.INDEX_TYPES:
                return await self.choose(child, depth + 1)
            if not self.profile.accepts(child.media_type):
                raise _unsupported(self.engine, child.media_type)
            platform = candidate.platform
            if platform is not None and not (platform.os or platform.architecture):
                platform = None  # "platform": {} says as little as no platform at all
            if platform is None and self.profile.config_check is ConfigCheck.CHECKED:
                config_platform = await self.config_platform(child)
                why = self.mismatch(config_platform, descriptor)
                if why is not None:
                    self.skipped.append(f"{digest} (no platform in the index): {why}")
                    continue
                return child, config_platform
            return child, platform
        raise NoMatchingManifest(
            f"no match for platform in manifest {fetched.digest}: not found",
            engine=self.engine,
            wanted=selection.wanted,
            candidates=selection.candidates,
        )

    async def config(self, image: FetchedManifest, descriptor: Descriptor) -> bytes:
        """The verified config blob, fetched once (an engine keeps it in its content store)."""
        cached = self.configs.get(descriptor.digest)
        if cached is None:
            where = self.at(image.digest)
            try:
                cached = await self.client.get_blob(where, descriptor.digest, size=descriptor.size)
            except NotFoundError as exc:
                raise PullError(f"config {descriptor.digest} of {where}: {exc}") from exc
            self.configs[descriptor.digest] = cached
        return cached

    async def config_platform(self, fetched: FetchedManifest) -> Platform | None:
        view = _parse(fetched)
        if view.config is None:
            return None
        raw = await self.config(fetched, view.config)
        return _config_platform(_json(raw, f"config {view.config.digest}"))

    def mismatch(self, platform: Platform | None, descriptor: Mapping[str, Any]) -> str | None:
        """Why an image whose config says *platform* is not what the engine looks for."""
        if platform is None:
            return "its config names no platform"
        entry = {**descriptor, "platform": platform.to_json()}
        try:
            select_manifest(
                {"manifests": [entry]}, self.host, self.engine, requested=self.requested
            )
        except NoMatchingManifest as exc:
            return f"its config says {platform.format_all()} ({exc})"
        return None

    async def layers(self, view: Manifest, image: ImageReference) -> list[PulledLayer]:
        pulled: list[PulledLayer] = []
        count = len(view.layers)
        for index, layer in enumerate(view.layers):
            if layer.is_external:
                pulled.append(PulledLayer(layer, None))
                continue
            parts: list[bytes] = []
            async with self.client.open_blob(image, layer.digest, size=layer.size) as download:
                self.report(layer, index, count, 0)
                async for chunk in download.chunks():
                    parts.append(chunk)
                    self.report(layer, index, count, download.received)
            self.report(layer, index, count, layer.size, finished=True)
            pulled.append(PulledLayer(layer, b"".join(parts)))
        return pulled

    def report(
        self, layer: Descriptor, index: int, count: int, done: int, *, finished: bool = False
    ) -> None:
        if self.progress is not None:
            self.progress(PullProgress(layer.digest, index, count, done, layer.size, finished))


def _json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PullError(f"{what} is not JSON: {exc}") from None


def _config_platform(config: Any) -> Platform | None:
    if not isinstance(config, dict) or not (config.get("os") or config.get("architecture")):
        return None
    try:
        return Platform.from_json(config)
    except PlatformError:
        return None


async def pull(
    ref: ImageReference | str,
    *,
    platform: PlatformLike | None = None,
    engine: str = "moby",
    host: PlatformLike | None = None,
    connection: Connection | None = None,
    output: str | os.PathLike[str] | None = None,
    progress: Callable[[PullProgress], None] | None = None,
    policy: PolicyLike | None = None,
    verify_target: VerifyTarget = "instance",
) -> PullResult:
    """Pull *ref* as *engine* would on *host*, over HTTP.

    - *ref*: an image reference, normalised as Docker does (``debian`` is
      ``docker.io/library/debian:latest``).
    - *platform*: what the user asked for (``docker pull --platform``): a specifier such as
      ``"linux/arm/v7"`` (for podman and skopeo ``os/arch[/variant]`` as their flags take it,
      not normalised), a platform JSON object or a
      :class:`~fakeregistry.platforms.platform.Platform`;
      ``None`` lets the engine use its host default.
    - *engine*: one of :data:`fakeregistry.engine.profiles.ENGINES` (default ``moby``).
    - *host*: the machine the engine runs on (default: this one, :meth:`Platform.host`).
    - *connection*: a :class:`~fakeregistry.client.HostConfig` for the reference's registry
      (plain HTTP, TLS, credentials), or a :class:`~fakeregistry.client.RegistryClient` to use
      as it is (not closed); see :mod:`fakeregistry.client.connection`.
    - *output*: write the pulled image as an OCI image layout in this directory.
    - *progress*: called with a :class:`PullProgress` as layers download.
    - *policy*: a trust policy checked after the image is chosen and before its config or
      layers are read (:func:`fakeregistry.trust.verify.enforce`): a containers
      ``policy.json`` or notation ``trustpolicy.oci.json`` (path, parsed JSON or object), or a
      list of them; *verify_target* is ``instance`` (the platform manifest, as skopeo/podman),
      ``index`` or ``both``. A refusal raises
      :class:`~fakeregistry.trust.errors.PolicyRejected`.

    Raises :class:`~fakeregistry.engine.selection.NoMatchingManifest` (the engine's message) when no
    entry suits, :class:`~fakeregistry.client.DigestMismatchError` for corrupted content,
    other :class:`~fakeregistry.client.RegistryClientError` subclasses for registry and
    network failures, :class:`PullError` for unusable content, :class:`ValueError` for an
    unknown engine.
    """
    profile = _engine(engine)
    reference = _reference(ref)
    host_platform = _platform(host, "host") or Platform.host()
    requested = _platform(platform, "requested", host=host_platform, syntax=profile.request_syntax)
    async with connect(reference.registry, connection) as client:
        return await _pull(
            reference, profile, host_platform, requested, client, output, progress,
            policy=policy, verify_target=verify_target,
        )  # fmt: skip


async def _pull(
    reference: ImageReference,
    profile: Engine,
    host: Platform,
    requested: Platform | None,
    client: RegistryClient,
    output: str | os.PathLike[str] | None,
    progress: Callable[[PullProgress], None] | None,
    *,
    policy: PolicyLike | None = None,
    verify_target: VerifyTarget = "instance",
) -> PullResult:
    engine = profile.name
    state = _Pull(client, reference, profile, host, requested, progress)
    with client.recording() as trace:
        top = await state.resolve()
        if not profile.accepts(top.media_type):
            raise _unsupported(engine, top.media_type)
        image, chosen_platform = await state.choose(top)
        decision = None
        if policy is not None:
            decision = await enforce(client, reference, top, image, policy, verify_target)
            state.warnings.extend(decision.warnings)
        view = _parse(image)
        if view.config is None:
            raise PullError(f"manifest {image.digest} is not an image manifest")
        image_ref = state.at(image.digest)
        config_bytes = await state.config(image, view.config)
        config = _json(config_bytes, f"config {view.config.digest}")
        config_platform = _config_platform(config)
        warns = profile.config_check is ConfigCheck.WARNED
        if requested is not None and warns and config_platform is not None:
            # moby daemon/images/image_pull.go: a single-platform image is pulled anyway.
            entry = {"mediaType": image.media_type, "digest": image.digest, "size": image.size}
            if state.mismatch(config_platform, entry) is not None:
                state.warnings.append(
                    f"image with reference {reference} was found but does not match the "
                    f"specified platform: wanted {requested.format_all()}, "
                    f"actual: {config_platform.format_all()}"
                )
        if chosen_platform is None:
            chosen_platform = config_platform
        layers = await state.layers(view, image_ref)
    result = PullResult(
        reference=reference,
        engine=engine,
        host=host,
        requested=requested,
        digest=top.digest,
        media_type=top.media_type,
        manifest=image,
        platform=chosen_platform,
        config_descriptor=view.config,
        config_bytes=config_bytes,
        config=config,
        layers=tuple(layers),
        steps=tuple(state.steps),
        trace=tuple(trace),
        warnings=tuple(state.warnings),
        skipped=tuple(state.skipped),
        trust=decision,
    )
    if output is not None:
        path = write_oci_layout(result, output)
        result = _with_output(result, path)
    return result


def _with_output(result: PullResult, path: Path) -> PullResult:
    return replace(result, output=path)


pull_sync = sync_twin(pull)
