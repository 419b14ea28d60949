"""Putting content into a registry: OCI image layout directories and generated test images.

One implementation serves every way of seeding: :class:`fakeregistry.testing.harness.FakeRegistry`
(``load_layout``, ``push_image``, ``push_index`` and the pytest marker) and ``fakeregistry
serve --seed-layout DIR=REPO --seed-image REF[=PLATFORM,...]``. Content goes to a
:class:`SeedTarget`: our own storage (:class:`StorageTarget`) or any registry over HTTP (the
harness's client target)::

    target = StorageTarget(Storage())
    await load_layout(target, Path("./layout"), "demo")   # -> ["latest"]
    seed = ImageSeed.parse("multi:1=linux/amd64,linux/arm64/v8")
    await push_tree(target, seed.repository, seed.tag, seed.build())

Errors a user can fix (a missing directory, a bad reference or platform) are
:class:`SeedError` with a one-line message.
"""

from __future__ import annotations

import hashlib
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fakeregistry.engine.layout import LayoutError, OCILayout, read_descriptor
from fakeregistry.platforms.platform import Platform, PlatformError
from fakeregistry.registry.storage import Storage
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import CONTAINERD_IMAGE_NAME_ANNOTATION, REF_NAME_ANNOTATION
from fakeregistry.rules.errors import FakeRegistryError, RegistryError
from fakeregistry.rules.reference import (
    DEFAULT_TAG,
    is_valid_repository,
    is_valid_tag,
    split_reference,
)
from fakeregistry.tools.archives import (
    ArchiveError,
    DockerImage,
    archive_kind,
    read_docker_save,
    split_image_name,
)
from fakeregistry.tools.builder import BuiltBlob, Image, Index, build_image, build_index

__all__ = [
    "DEFAULT_SEED_PLATFORM",
    "REF_NAME_ANNOTATION",
    "ImageSeed",
    "SeedError",
    "SeedTarget",
    "StorageTarget",
    "load_archive",
    "load_layout",
    "parse_layout_seed",
    "parse_seed",
    "push_tree",
    "seed_storage",
]

# The platform of a seeded image when none is given (the builder's default too).
DEFAULT_SEED_PLATFORM = "linux/amd64"


class SeedError(FakeRegistryError, ValueError):
    """Content that cannot be seeded; the message is one line a user can act on."""


class SeedTarget(Protocol):
    """Where seeded content goes."""

    async def push_blob(self, repository: str, blob: BuiltBlob) -> None: ...

    async def push_manifest(
        self, repository: str, reference: str, body: bytes, media_type: str
    ) -> None: ...


class StorageTarget:
    """Pushes straight into a :class:`~fakeregistry.registry.storage.Storage` (call it on the loop
    that
    serves the storage, or before the server starts: each push is atomic)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def push_blob(self, repository: str, blob: BuiltBlob) -> None:
        self.storage.check_name(repository)
        if not self.storage.has_blob(repository, blob.digest):
            writer = self.storage.blob_writer()
            writer.write(blob.data)
            self.storage.put_blob(repository, blob.digest, writer)

    async def push_manifest(
        self, repository: str, reference: str, body: bytes, media_type: str
    ) -> None:
        self.storage.check_name(repository)
        self.storage.put_manifest(repository, reference, body, media_type)

    async def get_blob(self, repository: str, digest: str) -> bytes:
        return self.storage.get_blob(repository, digest).read()


# -- built content ----------------------------------------------------------------------------


async def push_tree(
    target: SeedTarget, repository: str, reference: str | None, item: Image | Index
) -> None:
    """Push a built image (its blobs, then its manifest) or index (its children first, by
    digest), under ``reference`` (a tag or None: by digest)."""
    if isinstance(item, Image):
        for blob in item.blobs:
            await target.push_blob(repository, blob)
    else:
        for child in item.children:
            await push_tree(target, repository, None, child)
    await target.push_manifest(repository, reference or item.digest, item.manifest, item.media_type)


@dataclass(frozen=True, slots=True)
class ImageSeed:
    """A generated test image to seed: ``REF[=PLATFORM,PLATFORM...]``.

    One platform gives one image manifest, several an OCI index over one image per platform
    (the same content ``FakeRegistry.push_image`` and ``push_index`` build).

    >>> seed = ImageSeed.parse("team/app:1.0=linux/amd64,linux/arm64/v8")
    >>> seed.repository, seed.tag, [p.format() for p in seed.platforms]
    ('team/app', '1.0', ['linux/amd64', 'linux/arm64/v8'])
    >>> ImageSeed.parse("demo").platforms[0].format(), ImageSeed.parse("demo").tag
    ('linux/amd64', 'latest')
    """

    repository: str
    tag: str
    platforms: tuple[Platform, ...]

    @classmethod
    def parse(cls, text: str, *, strict: bool = True) -> ImageSeed:
        """Read ``name[:tag][=PLATFORM,...]``. Platforms are containerd specifiers as
        ``docker --platform`` takes them (``linux/arm/v7``, ``windows(10.0.17763)/amd64``);
        ``strict`` checks names and tags against the distribution-spec grammar (the registry's
        ``validation`` option)."""
        ref, equals, platform_text = text.partition("=")
        name, tag, digest = split_reference(ref)
        if digest is not None:
            raise SeedError(f"{ref!r}: a seeded image is named by a tag, not a digest")
        tag = DEFAULT_TAG if tag is None else tag
        if not is_valid_repository(name, strict=strict):
            raise SeedError(f"{ref!r}: invalid repository name {name!r}")
        if not is_valid_tag(tag, strict=strict):
            raise SeedError(f"{ref!r}: invalid tag {tag!r}")
        specifiers = platform_text.split(",") if equals else [DEFAULT_SEED_PLATFORM]
        platforms: list[Platform] = []
        for specifier in specifiers:
            platform = _parse_platform(specifier.strip())
            if platform in platforms:
                raise SeedError(f"platform {platform.format_all()} is given twice")
            platforms.append(platform)
        return cls(name, tag, tuple(platforms))

    def build(self) -> Image | Index:
        """The image (one platform) or OCI index (several), built deterministically."""
        if len(self.platforms) == 1:
            return build_image(self.platforms[0])
        seed = f"{self.repository}:{self.tag}"
        return build_index(list(self.platforms), seed=seed)


def _parse_platform(specifier: str) -> Platform:
    if not specifier:
        raise SeedError("empty platform (expected e.g. linux/amd64,linux/arm64/v8)")
    if "/" not in specifier:
        # A lone OS or architecture would take its other half from this machine.
        raise SeedError(f"platform {specifier!r}: expected OS/ARCHITECTURE[/VARIANT]")
    try:
        return Platform.parse(specifier)
    except PlatformError as exc:
        raise SeedError(f"invalid platform {specifier!r}: {exc}") from None


# -- OCI image layouts --------------------------------------------------------------------------


async def load_layout(target: SeedTarget, root: Path, repository: str) -> list[str]:
    """Push an OCI image layout directory into ``repository``: every manifest reachable from
    ``index.json`` with its blobs (layers that carry ``urls`` stay outside), and a tag for each
    ``org.opencontainers.image.ref.name`` annotation. Returns the tags pushed, in order.

    Manifests of other types than images and indexes are left out. Raises :class:`SeedError`
    for a missing directory, a missing or damaged ``oci-layout``/``index.json`` or blob (read
    by :class:`fakeregistry.engine.layout.OCILayout`), and whatever the target refuses
    (``RegistryError``, e.g. an invalid tag)."""
    try:
        return await _load_layout(target, OCILayout.open(root), repository)
    except LayoutError as exc:
        raise SeedError(str(exc)) from None


async def _load_layout(
    target: SeedTarget,
    layout: OCILayout,
    repository: str | Callable[[Mapping[str, Any]], tuple[str, str | None]],
) -> list[str]:
    """Push ``layout``; ``repository`` is one name for every entry (tags from ``ref.name``), or
    a function naming each ``index.json`` entry's repository and tag. Returns ``TAG`` per tag
    pushed (``REPO:TAG`` when named by the function)."""

    async def push(descriptor: Any, where: str, repo: str) -> None:
        media_type, digest = read_descriptor(descriptor, where)
        if media_type not in mt.MANIFEST_TYPES:
            return
        body = layout.blob(digest)
        doc = layout.document(body, digest)
        if media_type in mt.INDEX_TYPES:
            children = doc.get("manifests", [])
            for i, child in enumerate(children if isinstance(children, list) else []):
                await push(child, f"{digest}: manifests[{i}]", repo)
        else:
            layers = doc.get("layers", [])
            blobs = [doc.get("config"), *(layers if isinstance(layers, list) else [])]
            for i, blob in enumerate(blobs):
                if isinstance(blob, Mapping) and blob.get("urls"):
                    continue
                blob_type, blob_digest = read_descriptor(blob, f"{digest}: blob {i}")
                await target.push_blob(repo, BuiltBlob(layout.blob(blob_digest), blob_type))
        await target.push_manifest(repo, digest, body, media_type)

    tags: list[str] = []
    index_json = layout.root / "index.json"
    for i, descriptor in enumerate(layout.manifests):
        if isinstance(repository, str):
            repo = repository
            annotations = descriptor.get("annotations") if isinstance(descriptor, Mapping) else None
            found = (
                annotations.get(REF_NAME_ANNOTATION) if isinstance(annotations, Mapping) else None
            )
            tag = found if isinstance(found, str) and found else None
        else:
            repo, tag = repository(descriptor if isinstance(descriptor, Mapping) else {})
        await push(descriptor, f"{index_json}: manifests[{i}]", repo)
        media_type, digest = read_descriptor(descriptor, "")
        if tag is not None and media_type in mt.MANIFEST_TYPES:
            await target.push_manifest(repo, tag, layout.blob(digest), media_type)
            tags.append(tag if isinstance(repository, str) else f"{repo}:{tag}")
    return tags


def _entry_name(default: str) -> Callable[[Mapping[str, Any]], tuple[str, str | None]]:
    """Names an ``index.json`` entry: from ``io.containerd.image.name`` (docker save and
    ``ctr export``), else from ``ref.name`` when it is a whole reference, else ``default`` and
    ``ref.name`` as the tag."""

    def name(descriptor: Mapping[str, Any]) -> tuple[str, str | None]:
        annotations = descriptor.get("annotations")
        if not isinstance(annotations, Mapping):
            return default, None
        full = annotations.get(CONTAINERD_IMAGE_NAME_ANNOTATION)
        ref_name = annotations.get(REF_NAME_ANNOTATION)
        try:
            if isinstance(full, str) and full:
                return split_image_name(full)
            if isinstance(ref_name, str) and ("/" in ref_name or ":" in ref_name):
                return split_image_name(ref_name)
        except ArchiveError as exc:
            raise SeedError(str(exc)) from None
        return default, ref_name if isinstance(ref_name, str) and ref_name else None

    return name


def _default_repository(path: Path) -> str:
    """A repository name from a file or directory name: ``alpine-3.19.tar`` -> ``alpine-3.19``."""
    stem = path.name.lower()
    for suffix in (".tar.gz", ".tgz", ".tar"):
        stem = stem.removesuffix(suffix)
    cleaned = "".join(c if c.isalnum() or c in "._-" else "-" for c in stem).strip("._-")
    return cleaned or "seed"


async def load_archive(target: SeedTarget, path: Path, repository: str | None = None) -> list[str]:
    """Push what ``path`` holds (an OCI layout directory or tarball, or a ``docker save``
    tarball: :mod:`fakeregistry.tools.archives`) and return ``REPO:TAG`` per tag pushed.

    Names come from the archive (``io.containerd.image.name``, a whole-reference ``ref.name``,
    ``RepoTags``/``repositories``); ``repository`` overrides them all, and names a layout whose
    entries carry only a tag (default: the file or directory name)."""
    try:
        kind = archive_kind(path)
        if kind == "docker-tar":
            return await _load_docker_save(target, read_docker_save(path), repository)
        if kind == "layout":
            return await _load_named_layout(target, OCILayout.open(path), path, repository)
        with tempfile.TemporaryDirectory(prefix="fakeregistry-seed-") as scratch:
            with tarfile.open(path) as archive:
                archive.extractall(scratch, filter="data")
            layout = OCILayout.open(Path(scratch))
            return await _load_named_layout(target, layout, path, repository)
    except (LayoutError, ArchiveError, tarfile.TarError, OSError) as exc:
        raise SeedError(one_line_error(exc)) from None


async def _load_named_layout(
    target: SeedTarget, layout: OCILayout, path: Path, repository: str | None
) -> list[str]:
    if repository is not None:
        return [f"{repository}:{tag}" for tag in await _load_layout(target, layout, repository)]
    return await _load_layout(target, layout, _entry_name(_default_repository(path)))


async def _load_docker_save(
    target: SeedTarget, images: list[DockerImage], repository: str | None
) -> list[str]:
    seeded: list[str] = []
    for image in images:
        names = list(image.repo_tags)
        if repository is not None:
            names = [(repository, tag) for _, tag in names] or [(repository, DEFAULT_TAG)]
        for repo in dict.fromkeys(name for name, _ in names):
            for blob in (image.config, *image.layers):
                await target.push_blob(repo, blob)
            digest = f"sha256:{hashlib.sha256(image.manifest).hexdigest()}"
            await target.push_manifest(repo, digest, image.manifest, mt.DOCKER_MANIFEST)
        for repo, tag in names:
            await target.push_manifest(repo, tag, image.manifest, mt.DOCKER_MANIFEST)
            seeded.append(f"{repo}:{tag}")
    return seeded


def one_line_error(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def parse_seed(text: str) -> tuple[Path, str | None]:
    """``PATH`` or ``PATH=REPO`` (``=`` splits only when ``PATH`` as a whole does not exist)."""
    path = Path(text)
    if path.exists() or "=" not in text:
        return path, None
    directory, _, repository = text.rpartition("=")
    return Path(directory), repository


def parse_layout_seed(text: str) -> tuple[Path, str]:
    """``DIR=REPO`` as ``(Path(DIR), REPO)`` (the last ``=`` splits: a name has none)."""
    directory, equals, repository = text.rpartition("=")
    if not equals or not directory or not repository:
        raise SeedError(f"{text!r}: expected DIR=REPO")
    return Path(directory), repository


# -- fakeregistry serve ---------------------------------------------------------------------------


async def seed_storage(
    storage: Storage,
    *,
    layouts: Iterable[str] = (),
    images: Iterable[str] = (),
    archives: Iterable[str] = (),
) -> list[str]:
    """Seed ``storage`` as ``fakeregistry serve --seed-layout DIR=REPO --seed PATH[=REPO]
    --seed-image REF[=PLATFORM,...]`` does; returns ``REPO:TAG`` of everything tagged, in
    order.

    The first failure raises :class:`SeedError` whose message names the flag and its value."""
    target = StorageTarget(storage)
    strict = storage.options.strict_names
    seeded: list[str] = []
    for text in layouts:
        try:
            directory, repository = parse_layout_seed(text)
            if not is_valid_repository(repository, strict=strict):
                raise SeedError(f"invalid repository name {repository!r}")
            tags = await load_layout(target, directory, repository)
        except (SeedError, RegistryError) as exc:
            raise SeedError(f"--seed-layout {text}: {exc}") from None
        seeded.extend(f"{repository}:{tag}" for tag in tags)
    for text in archives:
        try:
            path, named = parse_seed(text)
            if named is not None and not is_valid_repository(named, strict=strict):
                raise SeedError(f"invalid repository name {named!r}")
            seeded.extend(await load_archive(target, path, named))
        except (SeedError, RegistryError) as exc:
            raise SeedError(f"--seed {text}: {exc}") from None
    for text in images:
        try:
            seed = ImageSeed.parse(text, strict=strict)
            await push_tree(target, seed.repository, seed.tag, seed.build())
        except (SeedError, RegistryError) as exc:
            raise SeedError(f"--seed-image {text}: {exc}") from None
        seeded.append(f"{seed.repository}:{seed.tag}")
    return seeded
