"""What each engine would pull from a tag, for a host platform: the web page's engine view,
built from storage without HTTP.

For every profile of :data:`~fakeregistry.engine.profiles.ENGINES` it walks the manifest the
way :func:`fakeregistry.engine.pull.pull` does, with the same rules: the engine's ``Accept``
list, :func:`~fakeregistry.engine.selection.select_manifest` at each index (every entry with
the reason it won or lost), nested indexes, and the config check of engines that look at a
platform-less pick's config. The outcome is the entry pulled, or the engine's own refusal.

:data:`PRESETS` are the hosts the page offers; any containerd specifier works too
(``linux/arm/v6``, ``windows(10.0.20348)/amd64``, ``linux/amd64/v3``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fakeregistry.engine.profiles import ENGINES, ConfigCheck, Engine
from fakeregistry.engine.profiles import engine as engine_profile
from fakeregistry.engine.selection import NoMatchingManifest, select_manifest
from fakeregistry.platforms.platform import Platform, PlatformError
from fakeregistry.registry.storage import Storage, StoredManifest
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.errors import RegistryError

__all__ = [
    "DEFAULT_HOST",
    "PRESETS",
    "CandidateView",
    "EngineOutcome",
    "EnginesView",
    "Preset",
    "StepView",
    "describe_engines",
    "parse_host",
]

CONFIG_READ_LIMIT = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Preset:
    """A host the page offers: a name and its platform specifier."""

    name: str
    specifier: str


PRESETS: tuple[Preset, ...] = (
    Preset("Raspberry Pi Zero", "linux/arm/v6"),
    Preset("Raspberry Pi 4, 32-bit OS", "linux/arm/v7"),
    Preset("Raspberry Pi 4, 64-bit OS / Apple silicon Docker", "linux/arm64/v8"),
    Preset("x86-64-v3 server", "linux/amd64/v3"),
    Preset("Windows Server 2022 (build 20348)", "windows(10.0.20348)/amd64"),
    Preset("IBM Z (s390x)", "linux/s390x"),
)
DEFAULT_HOST = "linux/amd64"

Outcome = Literal["pull", "refuse", "error"]


def parse_host(specifier: str) -> Platform:
    """The host platform a specifier names; it must have an OS and an architecture (a lone
    word would take its other half from the machine the registry runs on).

    >>> parse_host("linux/arm/v6").format_all()
    'linux/arm/v6'
    >>> parse_host("arm64")
    Traceback (most recent call last):
    ...
    fakeregistry.platforms.platform.PlatformError: "arm64": expected OS/ARCHITECTURE[/VARIANT]
    """
    if "/" not in specifier:
        raise PlatformError(f'"{specifier}": expected OS/ARCHITECTURE[/VARIANT]')
    return Platform.parse(specifier)


@dataclass(frozen=True, slots=True)
class CandidateView:
    """One entry of an index as an engine saw it: ``rank`` 0 is the pick, None a rejection."""

    position: int
    digest: str
    media_type: str
    platform: str
    rank: int | None
    reason: str
    attestation: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "digest": self.digest,
            "mediaType": self.media_type,
            "platform": self.platform or None,
            "accepted": self.rank is not None,
            "rank": self.rank,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class StepView:
    """One index on the way down: its digest and every entry with the engine's verdict."""

    digest: str
    media_type: str
    wanted: str
    candidates: tuple[CandidateView, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.digest,
            "mediaType": self.media_type,
            "wanted": self.wanted,
            "candidates": [c.to_json() for c in self.candidates],
        }


@dataclass(frozen=True, slots=True)
class EngineOutcome:
    """What one engine does: ``pull`` (``digest``/``platform`` say what), ``refuse`` (no entry
    suits: ``message`` is the engine's own) or ``error`` (the pull would fail otherwise)."""

    engine: str
    summary: str
    outcome: Outcome
    message: str
    digest: str | None = None
    platform: str | None = None
    path: tuple[int, ...] = ()
    steps: tuple[StepView, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "summary": self.summary,
            "outcome": self.outcome,
            "message": self.message,
            "digest": self.digest,
            "platform": self.platform,
            "path": list(self.path),
            "notes": list(self.notes),
            "steps": [step.to_json() for step in self.steps],
        }


@dataclass(frozen=True, slots=True)
class EnginesView:
    """The engine view of ``repository:reference`` for ``host``."""

    repository: str
    reference: str
    digest: str
    media_type: str
    host: str
    engines: tuple[EngineOutcome, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "reference": self.reference,
            "digest": self.digest,
            "mediaType": self.media_type,
            "host": self.host,
            "engines": [e.to_json() for e in self.engines],
        }


def _label(platform: Platform | None) -> str:
    return platform.format_all() if platform is not None else ""


def _is_attestation(descriptor: Mapping[str, Any]) -> bool:
    annotations = descriptor.get("annotations")
    return isinstance(annotations, Mapping) and (
        annotations.get("vnd.docker.reference.type") == "attestation-manifest"
    )


def _candidates(candidates: Any) -> tuple[CandidateView, ...]:
    out = []
    for c in sorted(candidates, key=lambda c: c.position):
        digest = c.descriptor.get("digest")
        media_type = c.descriptor.get("mediaType")
        out.append(
            CandidateView(
                position=c.position,
                digest=digest if isinstance(digest, str) else "",
                media_type=media_type if isinstance(media_type, str) else "",
                platform=_label(c.platform),
                rank=c.rank,
                reason=c.reason,
                attestation=_is_attestation(c.descriptor),
            )
        )
    return tuple(out)


def _unsupported(name: str, media_type: str, strict: bool) -> str:
    if strict:
        return (
            f"manifest unknown: the registry answers 404 MANIFEST_UNKNOWN, since {name}'s "
            f"Accept list does not name {media_type}"
        )
    if name.startswith("docker-") or name == "moby":
        return f"unsupported manifest media type and no default available: {media_type}"
    return f"{name} cannot pull manifests of type {media_type!r}"


class _Walk:
    """One engine going down from the tagged manifest, as the simulated pull does."""

    def __init__(self, storage: Storage, repository: str, profile: Engine, host: Platform):
        self.storage = storage
        self.repository = repository
        self.profile = profile
        self.host = host
        self.steps: list[StepView] = []
        self.path: list[int] = []
        self.notes: list[str] = []

    def outcome(
        self, outcome: Outcome, message: str, stored: StoredManifest | None = None, **kw: Any
    ) -> EngineOutcome:
        return EngineOutcome(
            engine=self.profile.name,
            summary=self.profile.summary,
            outcome=outcome,
            message=message,
            digest=stored.digest if stored else None,
            path=tuple(self.path),
            steps=tuple(self.steps),
            notes=tuple(self.notes),
            **kw,
        )

    def config_platform(self, stored: StoredManifest) -> Platform | None:
        config = stored.view.config
        if config is None or not self.storage.has_blob(self.repository, config.digest):
            return None
        blob = self.storage.get_blob(self.repository, config.digest)
        if config.size > CONFIG_READ_LIMIT:
            return None
        try:
            document = json.loads(blob.read())
            if not isinstance(document, dict) or not (
                document.get("os") or document.get("architecture")
            ):
                return None
            return Platform.from_json(document)
        except (ValueError, UnicodeDecodeError, RecursionError, PlatformError):
            return None

    def mismatch(self, platform: Platform | None, descriptor: Mapping[str, Any]) -> str | None:
        if platform is None:
            return "its config names no platform"
        entry = {**descriptor, "platform": platform.to_json()}
        try:
            select_manifest({"manifests": [entry]}, self.host, self.profile.name)
        except NoMatchingManifest as exc:
            return f"its config says {platform.format_all()} ({exc})"
        return None

    def walk(self, stored: StoredManifest, depth: int = 0) -> EngineOutcome:
        strict = self.storage.options.negotiation == "strict"
        if not self.profile.accepts(stored.media_type):
            return self.outcome("error", _unsupported(self.profile.name, stored.media_type, strict))
        if stored.media_type not in mt.INDEX_TYPES:
            platform = self.config_platform(stored)
            message = (
                "not an index: pulled as it is"
                if depth == 0
                else f"pulls {stored.digest} ({_label(platform) or 'no platform in config'})"
            )
            return self.outcome("pull", message, stored, platform=_label(platform) or None)
        if depth >= mt.MAX_INDEX_DEPTH:
            return self.outcome("error", f"indexes nested deeper than {mt.MAX_INDEX_DEPTH} levels")
        try:
            selection = select_manifest(stored.body, self.host, self.profile.name)
        except NoMatchingManifest as exc:
            self.steps.append(
                StepView(stored.digest, stored.media_type, _label(exc.wanted),
                         _candidates(exc.candidates))
            )  # fmt: skip
            return self.outcome("refuse", str(exc))
        except ValueError as exc:
            return self.outcome("error", f"index {stored.digest}: {exc}")
        self.steps.append(
            StepView(stored.digest, stored.media_type, _label(selection.wanted),
                     _candidates(selection.candidates))
        )  # fmt: skip
        for candidate in (c for c in selection.candidates if c.accepted):
            digest = candidate.descriptor.get("digest")
            media_type = candidate.descriptor.get("mediaType", "")
            if not isinstance(digest, str):
                self.notes.append(f"manifests[{candidate.position}]: no digest, skipped")
                continue
            if media_type and media_type not in mt.MANIFEST_TYPES:
                self.notes.append(f"{digest}: unknown manifest type {media_type!r}, skipped")
                continue
            child = self.storage.get_manifest_by_digest(self.repository, digest)
            if child is None:
                return self.outcome("error", f"manifest {digest} is not in this repository")
            self.path.append(candidate.position)
            platform = candidate.platform
            if platform is not None and not (platform.os or platform.architecture):
                platform = None
            if child.media_type in mt.INDEX_TYPES:
                return self.walk(child, depth + 1)
            if not self.profile.accepts(child.media_type):
                return self.outcome(
                    "error", _unsupported(self.profile.name, child.media_type, False)
                )
            if platform is None and self.profile.config_check is ConfigCheck.CHECKED:
                config_platform = self.config_platform(child)
                why = self.mismatch(config_platform, candidate.descriptor)
                if why is not None:
                    self.notes.append(f"{digest} (no platform in the index): {why}")
                    self.path.pop()
                    continue
                platform = config_platform
            return self.outcome(
                "pull",
                selection.reason,
                child,
                platform=_label(platform) or None,
            )
        return self.outcome(
            "refuse", f"no match for platform in manifest {stored.digest}: not found"
        )


def describe_engines(
    storage: Storage, repository: str, reference: str, host: Platform
) -> EnginesView | None:
    """The engine view of ``repository:reference`` (None when there is no such manifest)."""
    try:
        stored = storage.resolve(repository, reference)
    except RegistryError:
        return None
    outcomes = tuple(
        _Walk(storage, repository, engine_profile(name), host).walk(stored) for name in ENGINES
    )
    return EnginesView(
        repository=repository,
        reference=reference,
        digest=stored.digest,
        media_type=stored.media_type,
        host=host.format_all(),
        engines=outcomes,
    )
