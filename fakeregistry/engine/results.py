"""What a simulated pull returns (:class:`PullResult` and its parts) or raises (:class:`PullError`).

:func:`fakeregistry.engine.pull.pull` builds these; they are plain frozen records, so tests and
the CLI read them without a registry::

    >>> PullProgress("sha256:aa", index=0, count=2, done=512, total=1024)
    PullProgress(digest='sha256:aa', index=0, count=2, done=512, total=1024, finished=False)
    >>> issubclass(PullError, RegistryClientError)
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fakeregistry.client import FetchedManifest, RegistryClientError, TraceEntry
from fakeregistry.engine.selection import Candidate, Selection
from fakeregistry.platforms.platform import Platform
from fakeregistry.rules.model import Descriptor
from fakeregistry.rules.reference import ImageReference

if TYPE_CHECKING:
    from fakeregistry.trust.verify import PolicyDecision

__all__ = ["IndexStep", "PullError", "PullProgress", "PullResult", "PulledLayer"]


class PullError(RegistryClientError):
    """The pull could not go on: an unusable manifest or config, or nothing left to try."""


@dataclass(frozen=True, slots=True)
class PullProgress:
    """A layer download's progress: ``done`` of ``total`` bytes of layer ``index``/``count``."""

    digest: str
    index: int
    count: int
    done: int
    total: int
    finished: bool = False


@dataclass(frozen=True, slots=True)
class PulledLayer:
    """A layer: its descriptor and verified bytes (``None`` for an external layer with
    ``urls``, which engines do not fetch from the registry)."""

    descriptor: Descriptor
    data: bytes | None

    @property
    def digest(self) -> str:
        return self.descriptor.digest


@dataclass(frozen=True, slots=True)
class IndexStep:
    """One index on the way to the image: what it was, and how the engine chose from it."""

    digest: str
    media_type: str
    selection: Selection


@dataclass(frozen=True, slots=True)
class PullResult:
    """Everything a simulated pull saw and chose.

    - ``digest``/``media_type``: what the reference resolved to (an index or an image);
    - ``manifest``: the chosen image manifest (verified bytes, digest, media type);
    - ``platform``: the chosen platform — from the index entry, or the config when the image
      was not picked from an index (or its entry had no platform);
    - ``config``: the parsed image config; ``layers``: descriptors and bytes;
    - ``steps``: each index level with the engine's
      :class:`~fakeregistry.engine.selection.Selection`
      (``candidates`` are the innermost level's, ranked, with reasons);
    - ``trace``: every request made, in order; ``warnings``: what the engine would print.
    """

    reference: ImageReference
    engine: str
    host: Platform
    requested: Platform | None
    digest: str
    media_type: str
    manifest: FetchedManifest
    platform: Platform | None
    config_descriptor: Descriptor
    config_bytes: bytes
    config: Any
    layers: tuple[PulledLayer, ...]
    steps: tuple[IndexStep, ...] = ()
    trace: tuple[TraceEntry, ...] = ()
    warnings: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    output: Path | None = None
    trust: PolicyDecision | None = None

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        """The innermost index's entries, best first, with the engine's reasons."""
        return self.steps[-1].selection.candidates if self.steps else ()

    @property
    def selections(self) -> tuple[Selection, ...]:
        return tuple(step.selection for step in self.steps)

    @property
    def size(self) -> int:
        """Bytes of config and layers."""
        return self.config_descriptor.size + sum(layer.descriptor.size for layer in self.layers)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (what ``fakeregistry pull --json`` prints)."""
        return {
            "reference": str(self.reference),
            "engine": self.engine,
            "host": self.host.format_all(),
            "requested": self.requested.format_all() if self.requested else None,
            "digest": self.digest,
            "mediaType": self.media_type,
            "manifest": {
                "digest": self.manifest.digest,
                "mediaType": self.manifest.media_type,
                "size": self.manifest.size,
                "platform": self.platform.format_all() if self.platform else None,
                "platformObject": self.platform.to_json() if self.platform else None,
            },
            "config": _descriptor_json(self.config_descriptor),
            "layers": [_descriptor_json(layer.descriptor) for layer in self.layers],
            "steps": [
                {
                    "digest": step.digest,
                    "mediaType": step.media_type,
                    "wanted": step.selection.wanted.format_all(),
                    "reason": step.selection.reason,
                    "candidates": [_candidate_json(c) for c in step.selection.candidates],
                }
                for step in self.steps
            ],
            "warnings": list(self.warnings),
            "skipped": list(self.skipped),
            "trace": [{"method": t.method, "url": t.url, "status": t.status} for t in self.trace],
            "output": str(self.output) if self.output is not None else None,
            "trust": self.trust.to_json() if self.trust is not None else None,
        }


def _descriptor_json(descriptor: Descriptor) -> dict[str, Any]:
    out: dict[str, Any] = {
        "mediaType": descriptor.media_type,
        "digest": descriptor.digest,
        "size": descriptor.size,
    }
    if descriptor.urls:
        out["urls"] = list(descriptor.urls)
    if descriptor.annotations:
        out["annotations"] = dict(descriptor.annotations)
    return out


def _candidate_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "position": candidate.position,
        "digest": candidate.descriptor.get("digest"),
        "platform": candidate.platform.format_all() if candidate.platform else None,
        "rank": candidate.rank,
        "reason": candidate.reason,
    }
