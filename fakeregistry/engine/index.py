"""An image index (OCI index or Docker manifest list) read into the entries engines rank.

:func:`load_index` accepts the document as bytes, text or parsed JSON, checks only what every
engine needs (an object whose ``manifests`` is an array of objects, each ``platform`` an
object) and keeps each descriptor with its place in the list::

    >>> media_type, entries = load_index(b'{"manifests": [{"digest": "sha256:aa",'
    ...     b' "platform": {"os": "linux", "architecture": "arm64"}}, {"digest": "sha256:bb"}]}')
    >>> [entry.describe() for entry in entries]
    ['manifests[0] linux/arm64 (sha256:aa)', 'manifests[1] no platform (sha256:bb)']
    >>> load_index("[]")
    Traceback (most recent call last):
    ...
    ValueError: index must be a JSON object
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fakeregistry.platforms.platform import Platform
from fakeregistry.rules.annotations import ATTESTATION_ANNOTATION, ATTESTATION_VALUE

__all__ = ["Entry", "load_index"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One ``manifests[]`` descriptor at ``position``, with its parsed platform."""

    position: int
    descriptor: dict[str, Any]
    platform: Platform | None  # None: no "platform" key, or null (a nil pointer in Go)
    raw: Mapping[str, Any] | None

    @property
    def is_attestation(self) -> bool:
        """A BuildKit attestation manifest (``vnd.docker.reference.type``, A9)."""
        annotations = self.descriptor.get("annotations")
        return (
            isinstance(annotations, Mapping)
            and annotations.get(ATTESTATION_ANNOTATION) == ATTESTATION_VALUE
        )

    @property
    def zero_platform(self) -> bool:
        """moby's ``toOCIPlatform`` returns nil: no platform, or one with every field empty.

        Docker's ``manifestlist.PlatformSpec`` is a struct, so ``"platform": {}`` is as
        platform-less as no key at all — but ``"os.features": []`` is a non-nil slice.
        """
        if self.platform is None or self.raw is None:
            return True
        p = self.platform
        return (
            not (p.os or p.architecture or p.variant or p.os_version)
            and self.raw.get("os.features") is None
            and self.raw.get("features") is None
        )

    def platform_or_zero(self) -> Platform:
        """The platform, or Go's zero value (every field empty) for a platform-less entry."""
        return self.platform if self.platform is not None else Platform("", "")

    def describe(self) -> str:
        """``manifests[N] PLATFORM (DIGEST)``, for reasons and messages."""
        digest = self.descriptor.get("digest")
        where = f"manifests[{self.position}]"
        what = self.platform.format_all() if self.platform is not None else "no platform"
        return f"{where} {what}" + (f" ({digest})" if isinstance(digest, str) and digest else "")


def load_index(index: bytes | str | Mapping[str, Any]) -> tuple[str, list[Entry]]:
    """``(mediaType, entries)`` of an index document; :class:`ValueError` when malformed."""
    if isinstance(index, bytes | str):
        try:
            document = json.loads(index)
        except ValueError as exc:
            raise ValueError(f"index is not JSON: {exc}") from None
    else:
        document = index
    if not isinstance(document, Mapping):
        raise ValueError("index must be a JSON object")
    media_type = document.get("mediaType", "")
    manifests = document.get("manifests")
    if manifests is None:
        manifests = []
    if not isinstance(manifests, list):
        raise ValueError("index field 'manifests' must be an array")
    entries: list[Entry] = []
    for position, descriptor in enumerate(manifests):
        if not isinstance(descriptor, Mapping):
            raise ValueError(f"manifests[{position}] must be a JSON object")
        raw = descriptor.get("platform")
        if raw is not None and not isinstance(raw, Mapping):
            raise ValueError(f"manifests[{position}].platform must be a JSON object")
        platform = Platform.from_json(raw) if raw is not None else None
        entries.append(Entry(position, dict(descriptor), platform, raw))
    return media_type if isinstance(media_type, str) else "", entries
