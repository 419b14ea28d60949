"""Reading ``fixtures/`` (data only) and making its index fixtures pushable.

An index fixture (``fixtures/indexes/*.json``) keeps the shape a public image publishes, but
its child digests and sizes are replaced: each image entry points at a tiny child manifest that
:func:`child_for` generates from the entry itself (media type, platform, annotations), so a
registry that checks references accepts the fixture's exact bytes. Entries that are indexes
point at another fixture file by that file's own sha256. Attestation entries get a BuildKit-style
attestation manifest whose in-toto statements name the image they attest.

``python -m tests.fixture_files`` rewrites the digests and sizes of every index fixture after
an edit (inner indexes first), keeping each file's indentation. Standard library only, but
for :func:`push` (an ``httpx.Client`` on a registry).
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
INDEXES = FIXTURES / "indexes"
SPECS = FIXTURES / "specs"
LAYOUTS = FIXTURES / "layouts"

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_FOREIGN = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
IN_TOTO = "application/vnd.in-toto+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)

REFERENCE_TYPE = "vnd.docker.reference.type"
REFERENCE_DIGEST = "vnd.docker.reference.digest"
ZSTD = "io.github.containers.compression.zstd"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def index_files() -> list[Path]:
    return sorted(INDEXES.glob("*.json"))


def spec_files() -> list[Path]:
    return sorted(SPECS.glob("*.yaml"))


def layout_dirs() -> list[Path]:
    return sorted(p for p in LAYOUTS.iterdir() if (p / "oci-layout").is_file())


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_bytes())
    return document


def is_attestation(descriptor: dict[str, Any]) -> bool:
    annotations = descriptor.get("annotations") or {}
    return bool(annotations.get(REFERENCE_TYPE) == "attestation-manifest")


# -- deterministic tiny content ----------------------------------------------------------------


def _tar(files: dict[str, bytes]) -> bytes:
    """A ustar archive of regular files, mode 0644, mtime 0, owner root (byte-stable)."""
    out = bytearray()
    for name, data in files.items():
        header = bytearray(512)
        fields = [
            (0, 100, name.encode()),
            (100, 8, b"0000644\0"),
            (108, 8, b"0000000\0"),
            (116, 8, b"0000000\0"),
            (124, 12, b"%011o\0" % len(data)),
            (136, 12, b"00000000000\0"),
            (156, 1, b"0"),
            (257, 6, b"ustar\0"),
            (263, 2, b"00"),
        ]
        for offset, size, value in fields:
            header[offset : offset + len(value)] = value[:size]
        header[148:156] = b" " * 8
        header[148:156] = b"%06o\0 " % sum(header)
        out += header + data + b"\0" * (-len(data) % 512)
    return bytes(out + b"\0" * 1024)


def _gzip_stored(data: bytes) -> bytes:
    """gzip with stored (uncompressed) deflate blocks: no compressor, so byte-stable."""
    out = bytearray(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
    chunks = [data[i : i + 65535] for i in range(0, len(data), 65535)] or [b""]
    for i, chunk in enumerate(chunks):
        final = 1 if i == len(chunks) - 1 else 0
        out += bytes([final]) + struct.pack("<HH", len(chunk), 0xFFFF ^ len(chunk)) + chunk
    out += struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return bytes(out)


@dataclass(frozen=True)
class Blob:
    data: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return sha256(self.data)

    def descriptor(self, docker: bool, **extra: Any) -> dict[str, Any]:
        if docker:
            return {"mediaType": self.media_type, "size": len(self.data), "digest": self.digest}
        return {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": len(self.data),
            **extra,
        }


@dataclass(frozen=True)
class Child:
    """A generated child manifest and the blobs it needs in the repository."""

    media_type: str
    manifest: bytes
    blobs: tuple[Blob, ...]

    @property
    def digest(self) -> str:
        return sha256(self.manifest)


def _identity(descriptor: dict[str, Any]) -> str:
    """What a child is generated from: the descriptor minus digest and size."""
    rest = {k: v for k, v in descriptor.items() if k not in ("digest", "size")}
    return json.dumps(rest, sort_keys=True, separators=(",", ":"))


def child_for(descriptor: dict[str, Any]) -> Child:
    """The child manifest an image or attestation entry points at (see the module doc)."""
    media_type = descriptor["mediaType"]
    docker = media_type == DOCKER_MANIFEST
    if media_type not in (OCI_MANIFEST, DOCKER_MANIFEST):
        raise ValueError(f"no generated child for {media_type}")
    identity = _identity(descriptor)
    platform = dict(descriptor.get("platform") or {})
    layers: list[dict[str, Any]] = []
    blobs: list[Blob] = []
    diff_ids: list[str] = []
    if is_attestation(descriptor):
        subject = descriptor["annotations"][REFERENCE_DIGEST]
        for predicate in ("https://spdx.dev/Document", "https://slsa.dev/provenance/v0.2"):
            statement: dict[str, Any] = {
                "_type": "https://in-toto.io/Statement/v0.1",
                "predicateType": predicate,
                "subject": [{"name": "fixture", "digest": {"sha256": subject.split(":")[1]}}],
                "predicate": {},
            }
            blob = Blob(json.dumps(statement, separators=(",", ":")).encode(), IN_TOTO)
            blobs.append(blob)
            diff_ids.append(blob.digest)
            layers.append(
                blob.descriptor(docker, annotations={"in-toto.io/predicate-type": predicate})
            )
        config_doc: dict[str, Any] = {"architecture": "unknown", "os": "unknown"}
    else:
        if platform.get("os") == "windows":
            # Windows base layers are foreign: listed with urls, never pushed.
            base = f"foreign base layer {platform.get('os.version', '')}\n".encode()
            foreign = Blob(base, DOCKER_FOREIGN if docker else OCI_FOREIGN)
            url = f"https://mcr.microsoft.com/v2/windows/servercore/blobs/{foreign.digest}"
            entry = foreign.descriptor(docker)
            entry["urls"] = [url]
            layers.append(entry)
            diff_ids.append(sha256(b"uncompressed " + base))
        tar = _tar({"etc/fixture-entry.json": identity.encode() + b"\n"})
        layer = Blob(_gzip_stored(tar), DOCKER_LAYER if docker else OCI_LAYER)
        blobs.append(layer)
        diff_ids.append(sha256(tar))
        layers.append(layer.descriptor(docker))
        config_doc = {k: platform[k] for k in sorted(platform) if k != "features"}
    config_doc["config"] = {}
    config_doc["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    config = Blob(
        json.dumps(config_doc, sort_keys=True, separators=(",", ":")).encode(),
        DOCKER_CONFIG if docker else OCI_CONFIG,
    )
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": config.descriptor(docker),
        "layers": layers,
    }
    # docker/distribution writes schema 2 with MarshalIndent(3 spaces); BuildKit writes compact.
    body = (
        json.dumps(manifest, indent=3) if docker else json.dumps(manifest, separators=(",", ":"))
    ).encode()
    return Child(media_type, body, (config, *blobs))


# -- the fixture set -----------------------------------------------------------------------------


def index_by_digest() -> dict[str, Path]:
    """Every index fixture file by the sha256 of its bytes (for nested entries)."""
    return {sha256(path.read_bytes()): path for path in index_files()}


@dataclass(frozen=True)
class Node:
    """One manifest to push: its bytes, media type, blobs, and children (pushed first)."""

    media_type: str
    manifest: bytes
    blobs: tuple[Blob, ...] = ()
    children: tuple[Node, ...] = ()

    @property
    def digest(self) -> str:
        return sha256(self.manifest)


def tree(path: Path, known: dict[str, Path] | None = None, depth: int = 0) -> Node:
    """The index fixture at *path* with everything it references."""
    if depth > 8:
        raise ValueError(f"{path}: indexes nested too deep")
    known = index_by_digest() if known is None else known
    body = path.read_bytes()
    document = json.loads(body)
    children = []
    for descriptor in document["manifests"]:
        if descriptor["mediaType"] in INDEX_TYPES:
            children.append(tree(known[descriptor["digest"]], known, depth + 1))
        else:
            child = child_for(descriptor)
            children.append(Node(child.media_type, child.manifest, child.blobs))
    return Node(document["mediaType"], body, (), tuple(children))


def expected_descriptor(descriptor: dict[str, Any], known: dict[str, Path]) -> tuple[str, int]:
    """The digest and size *descriptor* must carry for the fixture to be self-consistent."""
    if descriptor["mediaType"] in INDEX_TYPES:
        path = known.get(descriptor["digest"])
        if path is None:
            raise ValueError(f"no index fixture has digest {descriptor['digest']}")
        return descriptor["digest"], path.stat().st_size
    child = child_for(descriptor)
    return child.digest, len(child.manifest)


def push(http: httpx.Client, repository: str, node: Node, reference: str | None = None) -> None:
    """Push *node* (children first, blobs as monolithic uploads) under *reference* (default:
    its digest) with the registry behind *http*."""
    for child in node.children:
        push(http, repository, child)
    for blob in node.blobs:
        response = http.post(
            f"/v2/{repository}/blobs/uploads/", params={"digest": blob.digest}, content=blob.data
        )
        if response.status_code != 201:
            raise AssertionError(f"blob {blob.digest}: {response.status_code} {response.text}")
    response = http.put(
        f"/v2/{repository}/manifests/{reference or node.digest}",
        content=node.manifest,
        headers={"Content-Type": node.media_type},
    )
    if response.status_code != 201 or response.headers["Docker-Content-Digest"] != node.digest:
        raise AssertionError(f"manifest {node.digest}: {response.status_code} {response.text}")


# -- rewriting after an edit ---------------------------------------------------------------------


def _indent(text: str) -> int:
    second = text.splitlines()[1]
    return len(second) - len(second.lstrip(" "))


def rewrite(path: Path, renamed: dict[str, str]) -> str:
    """Recompute *path*'s child digests and sizes (inner indexes already rewritten: *renamed*
    maps their old digests to new ones); returns the file's new digest."""
    text = path.read_text()
    document = json.loads(text)
    known = index_by_digest()
    moved: dict[str, str] = dict(renamed)
    ordered = sorted(document["manifests"], key=is_attestation)  # subjects first
    for descriptor in ordered:
        annotations = descriptor.get("annotations") or {}
        if REFERENCE_DIGEST in annotations:
            annotations[REFERENCE_DIGEST] = moved.get(
                annotations[REFERENCE_DIGEST], annotations[REFERENCE_DIGEST]
            )
        if descriptor["mediaType"] in INDEX_TYPES:
            descriptor["digest"] = moved.get(descriptor["digest"], descriptor["digest"])
        digest, size = expected_descriptor(descriptor, known)
        moved[descriptor["digest"]] = digest
        descriptor["digest"], descriptor["size"] = digest, size
    new = json.dumps(document, indent=_indent(text)) + ("\n" if text.endswith("\n") else "")
    path.write_text(new)
    return sha256(new.encode())


def rewrite_all() -> None:
    renamed: dict[str, str] = {}
    # Files others point at first: an index with index children goes after them.
    paths = sorted(
        index_files(),
        key=lambda p: any(m["mediaType"] in INDEX_TYPES for m in load(p)["manifests"]),
    )
    for path in paths:
        old = sha256(path.read_bytes())
        renamed[old] = rewrite(path, renamed)
        print(f"{path.name}: {renamed[old]}")


if __name__ == "__main__":
    rewrite_all()
    sys.exit(0)
