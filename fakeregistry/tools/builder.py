"""Build image content for tests: layers, configs, image manifests, indexes and artifacts.

Everything is built in memory, deterministically (the same arguments give the same digests),
and returned as values that know their bytes, digest and descriptor; pushing them is the
caller's business (:class:`fakeregistry.testing.harness.FakeRegistry` pushes to our server or to any
registry over HTTP)::

    >>> image = build_image("linux/arm64/v8")
    >>> image.platform_json
    {'os': 'linux', 'architecture': 'arm64', 'variant': 'v8'}
    >>> index = build_index([image, build_image("linux/amd64")])
    >>> len(index.children)
    2
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from fakeregistry.platforms.platform import Platform
from fakeregistry.rules import mediatypes as mt

__all__ = [
    "BuiltBlob",
    "Image",
    "Index",
    "LayerSpec",
    "PlatformSpec",
    "build_artifact",
    "build_image",
    "build_index",
    "layer_from_files",
]

Kind = Literal["oci", "docker"]
PlatformSpec = str | Mapping[str, Any] | Platform
# A layer: raw blob bytes, or files to pack into a gzip tar ({path: content}).
LayerSpec = bytes | Mapping[str, bytes | str]

# A fixed timestamp keeps builds reproducible.
_EPOCH = "1970-01-01T00:00:00Z"


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class BuiltBlob:
    """A blob and its descriptor."""

    data: bytes
    media_type: str
    digest: str = ""
    size: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", _sha256(self.data))
        object.__setattr__(self, "size", len(self.data))

    def descriptor(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class Image:
    """An image (or artifact) manifest with its config and layers."""

    manifest: bytes
    media_type: str
    config: BuiltBlob
    layers: tuple[BuiltBlob, ...]
    platform_json: dict[str, Any] | None = None
    digest: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", _sha256(self.manifest))

    @property
    def blobs(self) -> tuple[BuiltBlob, ...]:
        """Config and layers: what must be pushed before the manifest."""
        return (self.config, *self.layers)

    def descriptor(self, *, with_platform: bool = True) -> dict[str, Any]:
        """The descriptor an index uses for this image (with its platform)."""
        entry: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": len(self.manifest),
        }
        if with_platform and self.platform_json is not None:
            entry["platform"] = self.platform_json
        return entry

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.manifest))


@dataclass(frozen=True)
class Index:
    """An OCI index or Docker manifest list and the manifests it lists."""

    manifest: bytes
    media_type: str
    children: tuple[Image | Index, ...] = field(default=())
    digest: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", _sha256(self.manifest))

    def descriptor(self, *, with_platform: bool = True) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.manifest)}

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.manifest))


def platform_json(platform: PlatformSpec) -> dict[str, Any]:
    """Platform JSON as written, not normalised: ``"linux/arm64/v8"`` keeps its ``v8``.

    Accepts ``os/arch[/variant]``, containerd's full specifier syntax for OS versions and
    features (``windows(10.0.17763)/amd64``), a mapping of platform JSON, or a ``Platform``.
    """
    if isinstance(platform, Platform):
        return platform.to_json()
    if isinstance(platform, Mapping):
        return dict(platform)
    if "(" in platform:
        return Platform.parse(platform).to_json()
    parts = platform.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"platform must be os/arch[/variant], got {platform!r}")
    out: dict[str, Any] = {"os": parts[0], "architecture": parts[1]}
    if len(parts) == 3:
        out["variant"] = parts[2]
    return out


def layer_from_files(files: Mapping[str, bytes | str]) -> bytes:
    """A gzip-compressed tar of ``files`` with fixed metadata, so equal input gives equal bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, content in sorted(files.items()):
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def _layer_bytes(layer: LayerSpec) -> tuple[bytes, str]:
    """The blob and its diff ID (the digest of the uncompressed tar)."""
    if isinstance(layer, bytes):
        try:
            return layer, _sha256(gzip.decompress(layer))
        except (OSError, EOFError):
            return layer, _sha256(layer)
    blob = layer_from_files(layer)
    return blob, _sha256(gzip.decompress(blob))


def build_image(
    platform: PlatformSpec = "linux/amd64",
    *,
    layers: Sequence[LayerSpec] | int | None = None,
    config: Mapping[str, Any] | None = None,
    media_type: Kind = "oci",
    annotations: Mapping[str, str] | None = None,
    seed: str = "",
) -> Image:
    """An image for ``platform``.

    ``layers``: blobs or ``{path: content}`` file maps, or a count of generated layers (default
    one, whose file names the platform and ``seed`` so images differ). ``config`` is merged into
    the generated image config (``{"config": {"Env": [...]}}``).
    """
    plat = platform_json(platform)
    if layers is None or isinstance(layers, int):
        count = 1 if layers is None else layers
        name = "/".join(str(plat.get(k, "")) for k in ("os", "architecture", "variant"))
        layers = [{f"layer{i}.txt": f"{name} {seed} {i}\n"} for i in range(count)]
    built = [_layer_bytes(layer) for layer in layers]
    docker = media_type == "docker"
    layer_type = mt.DOCKER_LAYER if docker else mt.OCI_LAYER_GZIP
    config_doc: dict[str, Any] = {
        **plat,
        "created": _EPOCH,
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [diff for _, diff in built]},
    }
    config_doc.update(config or {})
    config_blob = BuiltBlob(_json(config_doc), mt.DOCKER_CONFIG if docker else mt.OCI_CONFIG)
    layer_blobs = tuple(BuiltBlob(data, layer_type) for data, _ in built)
    manifest_type = mt.DOCKER_MANIFEST if docker else mt.OCI_MANIFEST
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": config_blob.descriptor(),
        "layers": [layer.descriptor() for layer in layer_blobs],
    }
    if annotations:
        if docker:
            raise ValueError("Docker schema2 manifests have no annotations")
        document["annotations"] = dict(annotations)
    return Image(_json(document), manifest_type, config_blob, layer_blobs, plat)


def build_index(
    children: Sequence[Image | Index | PlatformSpec],
    *,
    media_type: Kind = "oci",
    annotations: Mapping[str, str] | None = None,
    seed: str = "",
) -> Index:
    """An OCI index (or Docker manifest list) over ``children``; a platform in the list builds an
    image for it (of the same kind as the index)."""
    built: list[Image | Index] = [
        child
        if isinstance(child, Image | Index)
        else build_image(child, media_type=media_type, seed=seed)
        for child in children
    ]
    docker = media_type == "docker"
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST_LIST if docker else mt.OCI_INDEX,
        "manifests": [child.descriptor() for child in built],
    }
    if annotations:
        if docker:
            raise ValueError("Docker manifest lists have no annotations")
        document["annotations"] = dict(annotations)
    return Index(_json(document), document["mediaType"], tuple(built))


def build_artifact(
    artifact_type: str,
    *,
    subject: Image | Index | Mapping[str, Any] | None = None,
    blobs: Sequence[bytes] = (b"",),
    blob_media_type: str = "application/octet-stream",
    annotations: Mapping[str, str] | None = None,
) -> Image:
    """An OCI 1.1 artifact: ``artifactType``, the empty config, ``blobs`` as layers and an
    optional ``subject`` (an image, index, or descriptor mapping)."""
    config = BuiltBlob(b"{}", mt.OCI_EMPTY)
    layers = tuple(BuiltBlob(data, blob_media_type) for data in blobs)
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": config.descriptor(),
        "layers": [layer.descriptor() for layer in layers],
    }
    if subject is not None:
        document["subject"] = (
            dict(subject)
            if isinstance(subject, Mapping)
            else subject.descriptor(with_platform=False)
        )
    if annotations:
        document["annotations"] = dict(annotations)
    return Image(_json(document), mt.OCI_MANIFEST, config, layers, None)
