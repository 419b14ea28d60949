"""What the web page shows, built from storage without HTTP: per repository its tags, each
tag's type, sizes, referrers and platform rows (an index's entries, or an image's config
platform), and notes for attestations and odd content."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fakeregistry.platforms.platform import Platform, PlatformError
from fakeregistry.registry.storage import Repository, Storage, StoredManifest
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import (
    ATTESTATION_ANNOTATION,
    ATTESTATION_VALUE,
    ATTESTED_DIGEST_ANNOTATION,
)
from fakeregistry.rules.model import Descriptor, Manifest

__all__ = [
    "ATTESTATION_TYPE",
    "CONFIG_READ_LIMIT",
    "REFERENCE_DIGEST",
    "REFERENCE_TYPE",
    "EntryView",
    "ErrorHook",
    "ManifestView",
    "Note",
    "PlatformView",
    "RepositoryView",
    "describe_manifest",
    "describe_repository",
    "short_digest",
]

log = logging.getLogger("fakeregistry")

# BuildKit's provenance/SBOM manifests in an index (rules.annotations), under the names the page
# has used since 0.1.
ATTESTATION_TYPE = ATTESTATION_VALUE
REFERENCE_TYPE = ATTESTATION_ANNOTATION
REFERENCE_DIGEST = ATTESTED_DIGEST_ANNOTATION

# Config blobs larger than this are not read for the page (real ones are a few KiB).
CONFIG_READ_LIMIT = 1024 * 1024

_IMAGE_CONFIGS = frozenset({mt.OCI_CONFIG, mt.DOCKER_CONFIG})

ErrorHook = Callable[[BaseException], None]


@dataclass(frozen=True, slots=True)
class Note:
    """A badge on a row: ``kind`` is its CSS class (``attestation``, ``no-platform``,
    ``missing``, ``problem``, ``subject``), ``text`` what it says, ``title`` the hover text."""

    kind: str
    text: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class PlatformView:
    """A platform as the page prints it: ``label`` is ``os/architecture[/variant]``."""

    label: str
    os_version: str = ""
    os_features: tuple[str, ...] = ()
    features: tuple[str, ...] = ()

    @classmethod
    def of(cls, platform: Platform) -> PlatformView:
        parts = [platform.os or "?", platform.architecture or "?"]
        if platform.variant:
            parts.append(platform.variant)
        return cls("/".join(parts), platform.os_version, platform.os_features, platform.features)


@dataclass(frozen=True, slots=True)
class EntryView:
    """One platform row: an entry of an index or list, or an image itself (``position`` None,
    platform from its config)."""

    position: int | None
    digest: str
    media_type: str
    kind: str
    size: int | None
    platform: PlatformView | None
    notes: tuple[Note, ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    referrers: int = 0


@dataclass(frozen=True, slots=True)
class ManifestView:
    """A tag (or an untagged manifest) and what it points at."""

    tag: str | None
    digest: str
    media_type: str
    kind: str
    kind_class: str
    manifest_size: int
    size: int | None
    artifact_type: str | None
    rows: tuple[EntryView, ...]
    notes: tuple[Note, ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    referrers: int = 0

    @property
    def columns(self) -> frozenset[str]:
        """The optional columns of the platform table that some row fills: ``os.version``,
        ``os.features``, ``referrers``, ``notes``."""
        shown: set[str] = set()
        for row in self.rows:
            if row.platform and row.platform.os_version:
                shown.add("os.version")
            if row.platform and (row.platform.os_features or row.platform.features):
                shown.add("os.features")
            if row.referrers:
                shown.add("referrers")
            if row.notes:
                shown.add("notes")
        return frozenset(shown)


@dataclass(frozen=True, slots=True)
class RepositoryView:
    """A repository: its tags in order, and (when asked for) its untagged manifests."""

    name: str
    tags: tuple[ManifestView, ...]
    untagged_count: int
    untagged: tuple[ManifestView, ...] = ()


def _kind(view: Manifest) -> tuple[str, str]:
    """The type label and its CSS class."""
    if view.media_type == mt.DOCKER_MANIFEST_LIST:
        return "Docker manifest list", "list"
    if view.media_type == mt.OCI_INDEX:
        return ("OCI index (artifact)" if view.artifact_type else "OCI index"), "index"
    if view.artifact_type or (view.config and view.config.media_type not in _IMAGE_CONFIGS):
        return "artifact", "artifact"
    return "image", "image"


def _annotations(values: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


def short_digest(digest: str) -> str:
    """``sha256:0123456789ab…`` (the algorithm and 12 hex digits)."""
    algorithm, colon, encoded = digest.partition(":")
    if not colon or len(encoded) <= 12:
        return digest
    return f"{algorithm}:{encoded[:12]}…"


def _image_size(view: Manifest) -> int:
    config_size = view.config.size if view.config else 0
    return config_size + sum(layer.size for layer in view.layers)


class _Describer:
    """Builds the views of one repository from storage (runs on the server loop: atomic).

    Its work is bounded by the repository's distinct manifests and their entries, whatever
    the shape of the index graph: each manifest's content size is computed once (memoised by
    digest, without recursion), so 7 levels of indexes that each list all 8 of the level
    below cost 57 sizes, not 8**7 paths.
    """

    def __init__(self, storage: Storage, repo: Repository) -> None:
        self.storage = storage
        self.repo = repo
        self.show_referrers = storage.options.referrers
        self._sizes: dict[str, int | None] = {}

    def referrers(self, digest: str) -> int:
        return len(self.repo.referrers.get(digest, {})) if self.show_referrers else 0

    def content_size(self, view: Manifest) -> int | None:
        """Bytes of the blobs an image references, or of the distinct images under an index
        (None when a child is not in the repository)."""
        if not view.is_index:
            return _image_size(view)
        return self._children_size(view)

    def _children_size(self, view: Manifest) -> int | None:
        total = 0
        for digest in {child.digest: None for child in view.manifests}:
            size = self._size_of(digest)
            if size is None:
                return None
            total += size
        return total

    def _size_of(self, digest: str) -> int | None:
        """:meth:`content_size` of manifest ``digest`` of the repository, memoised; an
        explicit stack instead of recursion, so no chain of indexes is too deep."""
        sizes = self._sizes
        stack = [digest]
        expanded: set[str] = set()
        while stack:
            current = stack[-1]
            if current in sizes:
                stack.pop()
                continue
            stored = self.repo.manifests.get(current)
            if stored is None or not stored.view.is_index:
                sizes[current] = None if stored is None else _image_size(stored.view)
                stack.pop()
                continue
            pending = [c.digest for c in stored.view.manifests if c.digest not in sizes]
            if pending and current not in expanded:
                expanded.add(current)
                stack.extend(pending)
                continue
            # Children done (or, impossibly for content-addressed manifests, a cycle).
            sizes[current] = None if pending else self._children_size(stored.view)
            stack.pop()
        return sizes[digest]

    def config_platform(self, config: Descriptor) -> tuple[PlatformView | None, Note | None]:
        """The platform an image's config blob names, or a note saying why there is none."""
        if not self.storage.has_blob(self.repo.name, config.digest):
            return None, Note("problem", "config blob missing", config.digest)
        blob = self.storage.blobs.get(config.digest)
        if blob is None:
            return None, Note("problem", "config blob missing", config.digest)
        if blob.size > CONFIG_READ_LIMIT:
            return None, Note("problem", "config too large to read", f"{blob.size} bytes")
        try:
            document = json.loads(blob.read())
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None, Note("problem", "config is not JSON", config.digest)
        if not isinstance(document, dict):
            return None, Note("problem", "config is not a JSON object", config.digest)
        try:
            platform = Platform.from_json(document)
        except PlatformError as exc:
            return None, Note("problem", "config platform unreadable", str(exc))
        if not platform.os and not platform.architecture:
            return None, Note("no-platform", "no platform in config")
        return PlatformView.of(platform), None

    def entry(self, position: int, child: Descriptor) -> EntryView:
        notes: list[Note] = []
        stored = self.repo.manifests.get(child.digest)
        kind = _kind(stored.view)[0] if stored else _descriptor_kind(child)
        if child.annotations.get(REFERENCE_TYPE) == ATTESTATION_TYPE:
            described = child.annotations.get(REFERENCE_DIGEST, "")
            text = f"attestation of {short_digest(described)}" if described else "attestation"
            notes.append(Note("attestation", text, described))
        platform = None
        if child.platform is None:
            notes.append(Note("no-platform", "no platform"))
        else:
            try:
                platform = PlatformView.of(Platform.from_json(child.platform))
            except PlatformError as exc:  # model.py checks the types; this is belt and braces
                notes.append(Note("problem", "platform unreadable", str(exc)))
        if stored is None:
            notes.append(Note("missing", "not in this repository"))
        size = self.content_size(stored.view) if stored else None
        return EntryView(
            position=position,
            digest=child.digest,
            media_type=child.media_type,
            kind=kind,
            size=size,
            platform=platform,
            notes=tuple(notes),
            annotations=_annotations(child.annotations),
            referrers=self.referrers(child.digest),
        )

    def manifest(self, tag: str | None, stored: StoredManifest) -> ManifestView:
        view = stored.view
        kind, kind_class = _kind(view)
        notes: list[Note] = []
        rows: list[EntryView] = []
        if view.is_index:
            rows = [self.entry(i, child) for i, child in enumerate(view.manifests)]
            if not rows:
                notes.append(Note("no-platform", "empty index"))
        elif kind_class == "image" and view.config is not None:
            platform, note = self.config_platform(view.config)
            rows.append(
                EntryView(
                    position=None,
                    digest=view.config.digest,
                    media_type=view.config.media_type,
                    kind="config",
                    size=view.config.size,
                    platform=platform,
                    notes=(note,) if note else (),
                )
            )
        if view.subject is not None:
            subject = view.subject.digest
            notes.append(Note("subject", f"refers to {short_digest(subject)}", subject))
        # An artifact's type is its artifactType, else its config's media type (as the
        # referrers API reports it).
        artifact_type = (
            view.referrer_artifact_type() if kind_class == "artifact" else view.artifact_type
        )
        return ManifestView(
            tag=tag,
            digest=stored.digest,
            media_type=stored.media_type,
            kind=kind,
            kind_class=kind_class,
            manifest_size=len(stored.body),
            size=self.content_size(view),
            artifact_type=artifact_type,
            rows=tuple(rows),
            notes=tuple(notes),
            annotations=_annotations(view.annotations),
            referrers=self.referrers(stored.digest),
        )

    def untagged(self) -> list[StoredManifest]:
        """Manifests no tag names and no index of the repository lists."""
        tagged = set(self.repo.tags.values())
        listed = {
            child.digest
            for stored in self.repo.manifests.values()
            for child in stored.view.manifests
        }
        return [
            stored
            for digest, stored in sorted(self.repo.manifests.items())
            if digest not in tagged and digest not in listed
        ]


def _descriptor_kind(descriptor: Descriptor) -> str:
    return {
        mt.DOCKER_MANIFEST_LIST: "Docker manifest list",
        mt.OCI_INDEX: "OCI index",
    }.get(descriptor.media_type, "image")


def describe_repository(
    storage: Storage,
    name: str,
    *,
    with_untagged: bool = False,
    on_error: ErrorHook | None = None,
) -> RepositoryView | None:
    """What the page shows of repository ``name`` (None when it does not exist).

    A manifest whose view cannot be built (a bug: content is validated when pushed) is shown
    as a row saying so; ``on_error`` hears of the exception."""
    repo = storage.repository(name)
    if repo is None:
        return None
    describer = _Describer(storage, repo)

    def safely(tag: str | None, stored: StoredManifest) -> ManifestView:
        try:
            return describer.manifest(tag, stored)
        except Exception as exc:  # one odd manifest must not take the page down
            log.exception("web page: cannot describe %s %s", name, stored.digest)
            if on_error is not None:
                on_error(exc)
            return ManifestView(
                tag=tag,
                digest=stored.digest,
                media_type=stored.media_type,
                kind="unknown",
                kind_class="unknown",
                manifest_size=len(stored.body),
                size=None,
                artifact_type=None,
                rows=(),
                notes=(Note("problem", "cannot be shown", f"{type(exc).__name__}: {exc}"),),
            )

    tags = tuple(
        safely(tag, repo.manifests[digest])
        for tag, digest in sorted(repo.tags.items())
        if digest in repo.manifests
    )
    untagged = describer.untagged()
    return RepositoryView(
        name=name,
        tags=tags,
        untagged_count=len(untagged),
        untagged=tuple(safely(None, stored) for stored in untagged) if with_untagged else (),
    )


def describe_manifest(
    storage: Storage, name: str, tag: str | None, stored: StoredManifest
) -> ManifestView:
    """What the page shows of one manifest of repository ``name`` (which must exist)."""
    repo = storage.repository(name)
    if repo is None:
        raise KeyError(name)
    return _Describer(storage, repo).manifest(tag, stored)
