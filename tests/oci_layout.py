"""OCI image layout directories for tests (image-spec "OCI Image Layout").

``write_image`` writes one image (an OCI config and gzip tar layers of random small files);
``write_index`` writes an OCI index over three platforms. Content is deterministic from a seed,
so the same seed always gives the same digests. Manifests are written indented, not in the
compact form Go clients produce, so a registry or client that re-serialises them would change
their digests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakeregistry.rules import mediatypes as mt

__all__ = [
    "PLATFORMS",
    "LayoutImage",
    "blob_path",
    "read_blob",
    "tagged",
    "write_image",
    "write_index",
]

REF_NAME = "org.opencontainers.image.ref.name"

# The platforms of the index: the common three of multi-arch images.
PLATFORMS: tuple[dict[str, str], ...] = (
    {"architecture": "amd64", "os": "linux"},
    {"architecture": "arm64", "os": "linux", "variant": "v8"},
    {"architecture": "arm", "os": "linux", "variant": "v7"},
)


@dataclass(frozen=True, slots=True)
class LayoutImage:
    """What a layout holds under ``tag``.

    ``digest`` and ``media_type`` are those of the manifest or index that ``index.json`` names;
    ``manifests`` are the image manifests (one, or one per platform), ``blobs`` their configs
    and layers, each digest once.
    """

    path: Path
    tag: str
    digest: str
    media_type: str
    manifests: tuple[str, ...]
    blobs: tuple[str, ...]


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob_path(layout: Path, digest: str) -> Path:
    algorithm, encoded = digest.split(":", 1)
    return layout / "blobs" / algorithm / encoded


def read_blob(layout: Path, digest: str) -> bytes:
    return blob_path(layout, digest).read_bytes()


def tagged(layout: Path, tag: str) -> dict[str, Any]:
    """The descriptor ``index.json`` of ``layout`` holds for ``tag`` (KeyError when none)."""
    index = json.loads((layout / "index.json").read_text())
    for descriptor in index.get("manifests", []):
        if descriptor.get("annotations", {}).get(REF_NAME) == tag:
            return dict(descriptor)
    raise KeyError(f"{layout} has no manifest tagged {tag!r}")


class _Writer:
    def __init__(self, layout: Path, rng: random.Random) -> None:
        self.layout = layout
        self.rng = rng
        (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))

    def blob(self, data: bytes, media_type: str, **extra: Any) -> dict[str, Any]:
        digest = _digest(data)
        blob_path(self.layout, digest).write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data), **extra}

    def json_blob(self, document: dict[str, Any], media_type: str, **extra: Any) -> dict[str, Any]:
        return self.blob(json.dumps(document, indent=3).encode(), media_type, **extra)

    def layer(self, name: str) -> tuple[dict[str, Any], str]:
        """A gzip tar layer of two or three random files; its descriptor and its diff ID."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for i in range(self.rng.randint(2, 3)):
                data = self.rng.randbytes(self.rng.randint(16, 2048))
                info = tarfile.TarInfo(f"{name}/file-{i}.bin")
                info.size, info.mtime, info.mode = len(data), 1_700_000_000, 0o644
                tar.addfile(info, io.BytesIO(data))
        tar_bytes = buffer.getvalue()
        compressed = gzip.compress(tar_bytes, mtime=0)
        return self.blob(compressed, mt.OCI_LAYER_GZIP), _digest(tar_bytes)

    def image(
        self, platform: dict[str, str], layers: list[tuple[dict[str, Any], str]]
    ) -> dict[str, Any]:
        config = {
            "created": "2024-01-01T00:00:00Z",
            **platform,
            "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id for _, diff_id in layers]},
        }
        manifest = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "config": self.json_blob(config, mt.OCI_CONFIG),
            "layers": [descriptor for descriptor, _ in layers],
        }
        return manifest

    def finish(self, top: dict[str, Any], tag: str) -> None:
        top.setdefault("annotations", {})[REF_NAME] = tag
        index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": [top]}
        (self.layout / "index.json").write_text(json.dumps(index, indent=2))


def _blobs_of(manifests: list[dict[str, Any]]) -> tuple[str, ...]:
    digests = [m["config"]["digest"] for m in manifests]
    digests += [layer["digest"] for m in manifests for layer in m["layers"]]
    return tuple(dict.fromkeys(digests))


def write_image(
    layout: Path, *, seed: int = 0, tag: str = "latest", layers: int = 2
) -> LayoutImage:
    """Write a single linux/amd64 image with ``layers`` (1 or 2) layers under ``tag``."""
    writer = _Writer(layout, random.Random(seed))
    manifest = writer.image(PLATFORMS[0], [writer.layer(f"layer{i}") for i in range(layers)])
    descriptor = writer.json_blob(manifest, mt.OCI_MANIFEST)
    writer.finish(dict(descriptor), tag)
    return LayoutImage(
        layout,
        tag,
        descriptor["digest"],
        mt.OCI_MANIFEST,
        (descriptor["digest"],),
        _blobs_of([manifest]),
    )


def write_index(layout: Path, *, seed: int = 0, tag: str = "latest") -> LayoutImage:
    """Write an OCI index of linux/amd64, linux/arm64/v8 and linux/arm/v7 images under ``tag``.

    Every image has a layer shared by all platforms and one of its own.
    """
    writer = _Writer(layout, random.Random(seed))
    shared = writer.layer("shared")
    manifests = [writer.image(p, [shared, writer.layer(p["architecture"])]) for p in PLATFORMS]
    children = [
        writer.json_blob(manifest, mt.OCI_MANIFEST, platform=platform)
        for manifest, platform in zip(manifests, PLATFORMS, strict=True)
    ]
    index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": children}
    descriptor = writer.json_blob(index, mt.OCI_INDEX)
    writer.finish(dict(descriptor), tag)
    return LayoutImage(
        layout,
        tag,
        descriptor["digest"],
        mt.OCI_INDEX,
        tuple(child["digest"] for child in children),
        _blobs_of(manifests),
    )
