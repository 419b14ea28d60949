"""Image archives for ``fakeregistry serve --seed PATH``: what kind of thing PATH is, and the
images in a ``docker save`` tarball.

- An **OCI image layout directory** (it has ``oci-layout``) or an **OCI layout tarball**
  (``oci-layout`` at the top of the tar; unpacked into a temporary directory) is loaded as a
  layout (:func:`fakeregistry.tools.seed.load_layout`).
- A **``docker save`` tarball** without ``oci-layout`` (Docker before 25, ``skopeo copy
  docker-archive:``) has ``manifest.json``: one entry per image with its config file
  (``<hex>.json``), its layer tars in order and its ``RepoTags``; ``repositories`` maps names to
  tags for older archives. Each image becomes a Docker schema 2 manifest over the config and
  the layers as they are in the tar (uncompressed,
  ``application/vnd.docker.image.rootfs.diff.tar``), as docker itself pushes a loaded image
  (digests of the layers are their tar's, which is what the config's ``diff_ids`` name).

Docker 25 and later write an OCI layout *and* ``manifest.json`` into the same tarball; the
layout is preferred, since it keeps the original manifests byte for byte.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.errors import FakeRegistryError
from fakeregistry.rules.reference import DEFAULT_TAG, is_valid_repository, is_valid_tag
from fakeregistry.tools.builder import BuiltBlob

__all__ = [
    "DOCKER_TAR_LAYER",
    "ArchiveError",
    "DockerImage",
    "archive_kind",
    "read_docker_save",
    "split_image_name",
]

# The media type of an uncompressed layer tar (distribution's schema 2 list of layer types).
DOCKER_TAR_LAYER = "application/vnd.docker.image.rootfs.diff.tar"


class ArchiveError(FakeRegistryError, ValueError):
    """A file that is not an archive we can seed from; the message is one line."""


@dataclass(frozen=True, slots=True)
class DockerImage:
    """One image of a ``docker save`` tarball, ready to push."""

    repo_tags: tuple[tuple[str, str], ...]
    """``(repository, tag)`` pairs from ``RepoTags`` (or ``repositories``)."""
    config: BuiltBlob
    layers: tuple[BuiltBlob, ...]
    manifest: bytes


def _names(archive: tarfile.TarFile) -> set[str]:
    return {member.name.removeprefix("./") for member in archive.getmembers()}


def archive_kind(path: Path) -> str:
    """``"layout"`` (a layout directory), ``"oci-tar"`` or ``"docker-tar"``; ArchiveError
    for anything else."""
    if path.is_dir():
        if (path / "oci-layout").is_file():
            return "layout"
        raise ArchiveError(f"{path}: a directory without oci-layout is not an OCI image layout")
    if not path.is_file():
        raise ArchiveError(f"{path}: no such file or directory")
    try:
        with tarfile.open(path) as archive:
            names = _names(archive)
    except (tarfile.TarError, OSError) as exc:
        raise ArchiveError(f"{path}: not a tar archive: {exc}") from None
    if "oci-layout" in names and "index.json" in names:
        return "oci-tar"
    if "manifest.json" in names:
        return "docker-tar"
    raise ArchiveError(f"{path}: neither an OCI layout tarball nor a docker save tarball")


def split_image_name(name: str) -> tuple[str, str]:
    """``(repository, tag)`` of a ``RepoTags`` or ``io.containerd.image.name`` value, with the
    registry host dropped (the seeded registry is the host now). A name written without a host
    keeps its path as written: ``docker save app:1`` seeds ``app``, not ``library/app``.

    >>> split_image_name("docker.io/library/alpine:3.19"), split_image_name("app")
    (('library/alpine', '3.19'), ('app', 'latest'))
    >>> split_image_name("localhost:5000/team/app:v1")
    ('team/app', 'v1')
    """
    remainder = name.split("@", 1)[0]
    path, colon, tag = remainder.rpartition(":")
    if not colon or "/" in tag:
        path, tag = remainder, DEFAULT_TAG
    first, slash, rest = path.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        path = rest
    if not is_valid_repository(path) or not is_valid_tag(tag):
        raise ArchiveError(f"image name {name!r} is not a valid repository:tag")
    return path, tag


def _member_bytes(archive: tarfile.TarFile, name: str, path: Path) -> bytes:
    for candidate in (name, f"./{name}"):
        try:
            file = archive.extractfile(candidate)
        except KeyError:
            continue
        if file is not None:
            with file:
                return file.read()
    raise ArchiveError(f"{path}: {name} is missing from the archive")


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"{what}: not JSON: {exc}") from None


def _repositories_file(archive: tarfile.TarFile, path: Path) -> dict[str, list[tuple[str, str]]]:
    """Older archives' ``repositories``: ``{name: {tag: top layer id}}`` by layer id."""
    if "repositories" not in _names(archive):
        return {}
    document = _json(_member_bytes(archive, "repositories", path), f"{path}: repositories")
    found: dict[str, list[tuple[str, str]]] = {}
    if isinstance(document, Mapping):
        for name, tags in document.items():
            for tag, layer_id in tags.items() if isinstance(tags, Mapping) else ():
                repository, _ = split_image_name(f"{name}:{tag}")
                found.setdefault(str(layer_id), []).append((repository, str(tag)))
    return found


def read_docker_save(path: Path) -> list[DockerImage]:
    """The images of a ``docker save`` tarball at ``path`` (ArchiveError if damaged)."""
    try:
        with tarfile.open(path) as archive:
            return _read_docker_save(archive, path)
    except (tarfile.TarError, OSError) as exc:
        raise ArchiveError(f"{path}: {exc}") from None


def _read_docker_save(archive: tarfile.TarFile, path: Path) -> list[DockerImage]:
    entries = _json(_member_bytes(archive, "manifest.json", path), f"{path}: manifest.json")
    if not isinstance(entries, list):
        raise ArchiveError(f"{path}: manifest.json must be a list")
    by_layer = _repositories_file(archive, path)
    images: list[DockerImage] = []
    for i, entry in enumerate(entries):
        where = f"{path}: manifest.json[{i}]"
        if not isinstance(entry, Mapping):
            raise ArchiveError(f"{where}: must be an object")
        config_name, layer_names = entry.get("Config"), entry.get("Layers")
        if not isinstance(config_name, str) or not isinstance(layer_names, list):
            raise ArchiveError(f"{where}: needs Config and Layers")
        config = BuiltBlob(_member_bytes(archive, config_name, path), mt.DOCKER_CONFIG)
        layers = tuple(
            BuiltBlob(_member_bytes(archive, str(name), path), DOCKER_TAR_LAYER)
            for name in layer_names
        )
        repo_tags = [split_image_name(str(t)) for t in entry.get("RepoTags") or ()]
        if not repo_tags and layer_names:
            layer_id = str(layer_names[-1]).removesuffix("/layer.tar").split("/")[0]
            repo_tags = by_layer.get(layer_id, [])
        manifest = {
            "schemaVersion": 2,
            "mediaType": mt.DOCKER_MANIFEST,
            "config": _descriptor(config),
            "layers": [_descriptor(layer) for layer in layers],
        }
        body = json.dumps(manifest, indent=3).encode()
        images.append(DockerImage(tuple(repo_tags), config, layers, body))
    return images


def _descriptor(blob: BuiltBlob) -> dict[str, Any]:
    return {"mediaType": blob.media_type, "size": blob.size, "digest": blob.digest}
