"""One repository directory as an OCI image layout (image-spec ``image-layout.md``), the way zot
keeps its repositories::

    <root>/<repository>/oci-layout        {"imageLayoutVersion": "1.0.0"}
    <root>/<repository>/index.json        every manifest; a tag is an
                                          org.opencontainers.image.ref.name annotation
    <root>/<repository>/blobs/<alg>/<hex> blobs and manifests, by digest

so ``skopeo copy oci:<root>/<repository>:<tag>``, umoci and zot read it as it is. Standard
library and the pure rules only: no storage, no HTTP.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakeregistry.registry.disk.files import TEMP_MARK, remove, write_atomic
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import REF_NAME_ANNOTATION
from fakeregistry.rules.digest import ALGORITHMS, Digest, DigestError

__all__ = [
    "LAYOUT_FILE",
    "RESERVED_SEGMENTS",
    "IndexEntry",
    "blob_file",
    "blob_files",
    "find_repositories",
    "index_document",
    "read_index",
    "reserved_segment",
    "write_index",
    "write_layout_file",
]

LAYOUT_FILE = "oci-layout"
INDEX_FILE = "index.json"
BLOBS_DIR = "blobs"
# A repository name segment that would land outside the root or on a layout's own files
# (``a/index.json`` beside repository ``a``'s) cannot be stored; nor can ``blobs/sha256`` (a
# repository ``a/blobs/x`` is fine: it lives beside ``a``'s algorithm directories).
RESERVED_SEGMENTS = frozenset({".", "..", LAYOUT_FILE, INDEX_FILE})
_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One ``index.json`` descriptor: a manifest, and the tag it carries if any."""

    media_type: str
    digest: str
    size: int
    tag: str | None = None


def reserved_segment(name: str) -> str | None:
    """The part of repository ``name`` that cannot be a directory of the store, or None.

    >>> reserved_segment("a/blobs/sha256"), reserved_segment("a/blobs/manifests")
    ('blobs/sha256', None)
    """
    if "\x00" in name or "\\" in name:
        return name  # no path may hold a NUL; a backslash is a separator on some systems
    segments = name.split("/")
    for i, segment in enumerate(segments):
        if segment in RESERVED_SEGMENTS or segment.startswith("."):
            return segment
        if segment == BLOBS_DIR and i + 1 < len(segments) and segments[i + 1] in ALGORITHMS:
            return f"{segment}/{segments[i + 1]}"
    return None


def blob_file(repository_dir: Path, digest: str) -> Path:
    """``<repository_dir>/blobs/<alg>/<hex>`` (``digest`` is already checked)."""
    algorithm, _, encoded = digest.partition(":")
    return repository_dir / BLOBS_DIR / algorithm / encoded


def write_layout_file(repository_dir: Path) -> None:
    """Make ``repository_dir`` a layout: ``oci-layout``, an empty ``index.json``, ``blobs/``."""
    if not (repository_dir / LAYOUT_FILE).is_file():
        write_atomic(repository_dir / INDEX_FILE, index_document([]))
        (repository_dir / BLOBS_DIR).mkdir(exist_ok=True)
        write_atomic(repository_dir / LAYOUT_FILE, _LAYOUT)


def index_document(entries: list[IndexEntry]) -> bytes:
    """The ``index.json`` bytes listing ``entries`` in order."""
    manifests: list[dict[str, Any]] = []
    for entry in entries:
        descriptor: dict[str, Any] = {
            "mediaType": entry.media_type,
            "digest": entry.digest,
            "size": entry.size,
        }
        if entry.tag is not None:
            descriptor["annotations"] = {REF_NAME_ANNOTATION: entry.tag}
        manifests.append(descriptor)
    document = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": manifests}
    return json.dumps(document, indent=1).encode() + b"\n"


def write_index(repository_dir: Path, entries: list[IndexEntry]) -> None:
    """Replace ``index.json`` atomically and durably."""
    write_atomic(repository_dir / INDEX_FILE, index_document(entries))


def read_index(repository_dir: Path) -> list[IndexEntry]:
    """The manifest descriptors of ``index.json`` that name a manifest type and a valid digest
    (others, and a damaged file, are skipped: the store serves what it can read)."""
    try:
        document = json.loads((repository_dir / INDEX_FILE).read_bytes())
    except (OSError, ValueError):
        return []
    manifests = document.get("manifests") if isinstance(document, Mapping) else None
    entries: list[IndexEntry] = []
    for descriptor in manifests if isinstance(manifests, list) else []:
        entry = _entry(descriptor)
        if entry is not None:
            entries.append(entry)
    return entries


def _entry(descriptor: Any) -> IndexEntry | None:
    if not isinstance(descriptor, Mapping):
        return None
    media_type, digest, size = (descriptor.get(k) for k in ("mediaType", "digest", "size"))
    if not isinstance(media_type, str) or media_type not in mt.MANIFEST_TYPES:
        return None
    if not isinstance(digest, str) or not isinstance(size, int):
        return None
    try:
        Digest.parse(digest)
    except DigestError:
        return None
    annotations = descriptor.get("annotations")
    tag = annotations.get(REF_NAME_ANNOTATION) if isinstance(annotations, Mapping) else None
    return IndexEntry(media_type, digest, size, tag if isinstance(tag, str) and tag else None)


def blob_files(repository_dir: Path) -> Iterator[tuple[str, Path]]:
    """``(digest, path)`` of every blob file; leftover temporary files are removed."""
    blobs = repository_dir / BLOBS_DIR
    for algorithm_dir in sorted(blobs.iterdir()) if blobs.is_dir() else []:
        if not algorithm_dir.is_dir():
            continue
        for path in sorted(algorithm_dir.iterdir()):
            if TEMP_MARK in path.name:
                remove(path)
                continue
            digest = f"{algorithm_dir.name}:{path.name}"
            try:
                Digest.parse(digest)
            except DigestError:
                continue
            if path.is_file():
                yield digest, path


def find_repositories(root: Path) -> Iterator[tuple[str, Path]]:
    """``(name, directory)`` of every layout under ``root`` (a directory with ``oci-layout``),
    nested ones included; hidden directories (the upload scratch) and the blob directories
    (``blobs/sha256``) are skipped.
    Temporary files an interrupted write left beside ``index.json`` are removed."""
    for directory, subdirs, files in os.walk(root):
        here = Path(directory)
        skip = ALGORITHMS if here.name == BLOBS_DIR else ()
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d not in skip)
        for name in files:
            if TEMP_MARK in name:
                remove(here / name)
        if here != root and LAYOUT_FILE in files:
            yield here.relative_to(root).as_posix(), here
