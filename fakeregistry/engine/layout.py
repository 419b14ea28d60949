"""OCI image layouts on disk (image-spec ``image-layout.md``): written by a pull, read by seeding.

A layout is a directory with an ``oci-layout`` file (``{"imageLayoutVersion": "1.0.0"}``), an
``index.json`` naming the images (a tag as ``org.opencontainers.image.ref.name``) and every
blob at ``blobs/<algorithm>/<encoded>``::

    >>> blob_path(Path("out"), "sha256:abc").as_posix()
    'out/blobs/sha256/abc'

:func:`write_oci_layout` writes a :class:`~fakeregistry.engine.results.PullResult` (what
``pull(..., output=DIR)`` does); :class:`OCILayout` reads one back, checking the layout
version, the JSON, and each blob against its digest (what
:func:`fakeregistry.tools.seed.load_layout` pushes into a registry)::

    >>> OCILayout.open(Path("/nonexistent"))
    Traceback (most recent call last):
    ...
    fakeregistry.engine.layout.LayoutError: /nonexistent: no such directory
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakeregistry.engine.results import PullError, PullResult
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import CONTAINERD_IMAGE_NAME_ANNOTATION, REF_NAME_ANNOTATION
from fakeregistry.rules.digest import Digest, DigestError, compute
from fakeregistry.rules.errors import FakeRegistryError

__all__ = [
    "LAYOUT_VERSION",
    "LayoutError",
    "OCILayout",
    "blob_path",
    "read_descriptor",
    "write_oci_layout",
]

# The imageLayoutVersion of the oci-layout file, the only one image-spec defines.
LAYOUT_VERSION = "1.0.0"


class LayoutError(FakeRegistryError, ValueError):
    """A directory that is not a readable OCI image layout; the message is one line."""


def blob_path(root: Path, digest: str) -> Path:
    """Where the blob *digest* lives in the layout at *root*."""
    algorithm, _, encoded = digest.partition(":")
    return root / "blobs" / algorithm / encoded


# -- writing -----------------------------------------------------------------------------------


def _write_blob(root: Path, digest: str, data: bytes) -> None:
    path = blob_path(root, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size == len(data):
        return
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


def write_oci_layout(result: PullResult, directory: str | os.PathLike[str]) -> Path:
    """Write the pulled image into an OCI image layout (image-spec ``image-layout.md``).

    ``oci-layout``, ``blobs/<alg>/<hex>`` for the manifest, config and layers, and
    ``index.json`` naming the manifest (with its platform, and the tag as
    ``org.opencontainers.image.ref.name``). An existing layout is added to: an entry with the
    same ref name is replaced. A damaged ``index.json`` raises
    :class:`~fakeregistry.engine.results.PullError`.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    layout = root / "oci-layout"
    if not layout.exists():
        layout.write_text(json.dumps({"imageLayoutVersion": LAYOUT_VERSION}))
    _write_blob(root, result.manifest.digest, result.manifest.body)
    _write_blob(root, result.config_descriptor.digest, result.config_bytes)
    for layer in result.layers:
        if layer.data is not None:
            _write_blob(root, layer.descriptor.digest, layer.data)
    entry: dict[str, Any] = {
        "mediaType": result.manifest.media_type,
        "digest": result.manifest.digest,
        "size": result.manifest.size,
    }
    annotations = {CONTAINERD_IMAGE_NAME_ANNOTATION: str(result.reference)}
    if result.reference.tag:
        annotations[REF_NAME_ANNOTATION] = result.reference.tag
    entry["annotations"] = annotations
    if result.platform is not None:
        entry["platform"] = result.platform.to_json()
    index_path = root / "index.json"
    index: dict[str, Any] = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []}
    if index_path.exists():
        try:
            existing = json.loads(index_path.read_bytes())
        except ValueError as exc:
            raise PullError(f"{index_path} is not JSON: {exc}") from None
        if isinstance(existing, dict) and isinstance(existing.get("manifests"), list):
            index = existing
    name = annotations.get(REF_NAME_ANNOTATION)
    kept = [
        m
        for m in index["manifests"]
        if not (
            isinstance(m, dict)
            and (
                (name is not None and m.get("annotations", {}).get(REF_NAME_ANNOTATION) == name)
                or (name is None and m.get("digest") == entry["digest"])
            )
        )
    ]
    index["manifests"] = [*kept, entry]
    index_path.write_text(json.dumps(index, indent=2) + "\n")
    return root


# -- reading -----------------------------------------------------------------------------------


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise LayoutError(f"{path.parent}: not an OCI image layout (no {what})") from None
    except OSError as exc:
        raise LayoutError(f"{path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise LayoutError(f"{path}: not JSON: {exc}") from None


def read_descriptor(value: Any, where: str) -> tuple[str, str]:
    """``(mediaType, digest)`` of a descriptor found at *where*; :class:`LayoutError` if it
    is not an object with both, or the digest is malformed.

    >>> read_descriptor({"mediaType": "a/b", "digest": "sha256:" + "0" * 64}, "x")[0]
    'a/b'
    >>> read_descriptor({"digest": "sha256:0"}, "manifests[0]")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fakeregistry.engine.layout.LayoutError: manifests[0]: a descriptor needs a mediaType and ...
    """
    if not isinstance(value, Mapping):
        raise LayoutError(f"{where}: a descriptor must be a JSON object")
    media_type, digest = value.get("mediaType"), value.get("digest")
    if not isinstance(media_type, str) or not isinstance(digest, str):
        raise LayoutError(f"{where}: a descriptor needs a mediaType and a digest")
    try:
        Digest.parse(digest)
    except DigestError as exc:
        raise LayoutError(f"{where}: {exc}") from None
    return media_type, digest


@dataclass(frozen=True, slots=True)
class OCILayout:
    """An OCI image layout directory opened for reading: its ``index.json`` entries, and
    verified blobs on demand."""

    root: Path
    manifests: tuple[Any, ...]
    """The ``manifests`` of ``index.json`` as written (each checked when it is read)."""

    @classmethod
    def open(cls, root: Path) -> OCILayout:
        """Check ``oci-layout`` (version 1.0.0) and read ``index.json``; :class:`LayoutError`
        for a missing directory or file, bad JSON or another version."""
        if not root.is_dir():
            raise LayoutError(f"{root}: no such directory")
        layout = _read_json(root / "oci-layout", "oci-layout file")
        if not isinstance(layout, Mapping) or layout.get("imageLayoutVersion") != LAYOUT_VERSION:
            raise LayoutError(f"{root}: not an OCI image layout {LAYOUT_VERSION}")
        index = _read_json(root / "index.json", "index.json")
        if not isinstance(index, Mapping) or not isinstance(index.get("manifests", []), list):
            raise LayoutError(f"{root / 'index.json'}: 'manifests' must be a list")
        return cls(root, tuple(index.get("manifests", [])))

    def blob(self, digest: str) -> bytes:
        """The bytes of blob *digest*, verified; :class:`LayoutError` if missing or damaged."""
        algorithm = digest.partition(":")[0]
        try:
            data = blob_path(self.root, digest).read_bytes()
        except OSError:
            raise LayoutError(f"{self.root}: blob {digest} is missing") from None
        if str(compute(data, algorithm)) != digest:
            raise LayoutError(f"{self.root}: blob {digest} does not match its digest")
        return data

    def document(self, body: bytes, digest: str) -> Mapping[str, Any]:
        """Manifest *body* (blob *digest*) as a JSON object; :class:`LayoutError` otherwise."""
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            value = None
        if not isinstance(value, Mapping):
            raise LayoutError(f"{self.root}: manifest {digest} is not a JSON object")
        return value
