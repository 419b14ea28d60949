"""The content of ``fakeregistry serve --demo``: the same bytes, and so the same digests, on
every run and every machine.

=========================================  ==================================================
``demo/multi-arch:oci-index``              OCI index over seven platforms (:data:`PLATFORMS`,
                                           Windows with an ``os.version``), each followed by
                                           a BuildKit attestation entry (``unknown/unknown``)
``demo/multi-arch:manifest-list``          the same seven platforms as a Docker manifest list
                                           of Docker schema2 images
``demo/nested:latest``                     an OCI index of two indexes (linux/amd64 +
                                           linux/arm64/v8; linux/arm/v7 + linux/arm/v6),
                                           entries without a platform, as some build tools
                                           push them
``demo/single:latest``                     one linux/amd64 image, and an SPDX SBOM artifact
                                           that refers to it through ``subject`` (untagged:
                                           the referrers API finds it)
``demo/signed:1.0``                        an OCI index (linux/amd64, linux/arm64/v8) whose
                                           index and platform manifests carry cosign
                                           signatures (``sha256-<hex>.sig`` tags) by
                                           :func:`demo_key`
=========================================  ==================================================

The signing key is a throwaway P-256 key derived from a fixed seed, and the signatures are
deterministic ECDSA (RFC 6979), so the signature manifests do not change between runs either
(their payloads claim :data:`DEMO_IDENTITY` whatever the address served on).
:func:`write_demo_keys` writes it as ``cosign.key`` (PEM, unencrypted) and ``cosign.pub``;
``fakeregistry verify HOST/demo/signed:1.0 --key cosign.pub`` checks the signatures.

>>> first, second = demo_content(), demo_content()
>>> [(item.repository, item.tag) for item in first][:2]
[('demo/multi-arch', 'oci-index'), ('demo/multi-arch', 'manifest-list')]
>>> [item.item.digest for item in first] == [item.item.digest for item in second]
True
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import (
    ATTESTATION_ANNOTATION,
    ATTESTATION_VALUE,
    ATTESTED_DIGEST_ANNOTATION,
)
from fakeregistry.tools.builder import BuiltBlob, Image, Index, build_artifact, build_image
from fakeregistry.tools.seed import SeedTarget, push_tree
from fakeregistry.trust import cosign

__all__ = [
    "DEMO_IDENTITY",
    "DEMO_KEY_SEED",
    "PLATFORMS",
    "DemoItem",
    "demo_content",
    "demo_key",
    "push_demo",
    "write_demo_keys",
]

WINDOWS_2022 = {"os": "windows", "architecture": "amd64", "os.version": "10.0.20348.2340"}

# The platforms of the multi-platform image, in index order.
PLATFORMS: tuple[str | dict[str, Any], ...] = (
    "linux/amd64",
    "linux/arm64/v8",
    "linux/arm/v7",
    "linux/arm/v6",
    "linux/s390x",
    "linux/ppc64le",
    WINDOWS_2022,
)

DEMO_KEY_SEED = b"fakeregistry serve --demo signing key"
# The docker-reference the cosign payloads claim: the README's address, whatever the port, so
# that the signatures' digests do not depend on it.
DEMO_IDENTITY = "127.0.0.1:5000/demo/signed"

_IN_TOTO = "application/vnd.in-toto+json"
_PREDICATE_ANNOTATION = "in-toto.io/predicate-type"
_SLSA = "https://slsa.dev/provenance/v0.2"
_SPDX = "https://spdx.dev/Document"


@dataclass(frozen=True, slots=True)
class DemoItem:
    """One thing ``--demo`` pushes: an image or index under a tag (None: by digest)."""

    repository: str
    tag: str | None
    item: Image | Index
    description: str


def _index(
    children: Sequence[Image | Index],
    entries: Sequence[dict[str, Any]],
    media_type: str,
    annotations: dict[str, str] | None = None,
) -> Index:
    document: dict[str, Any] = {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}
    if annotations:
        document["annotations"] = annotations
    body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return Index(body, media_type, tuple(children))


def _attestation(image: Image) -> Image:
    """A BuildKit attestation manifest for *image*: an OCI image manifest whose layers are
    in-toto statements (SLSA provenance and an SPDX SBOM)."""
    statements = []
    for predicate in (_SLSA, _SPDX):
        statement = {
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": predicate,
            "subject": [{"name": "demo", "digest": {"sha256": image.digest.split(":", 1)[1]}}],
            "predicate": {},
        }
        statements.append((predicate, json.dumps(statement, sort_keys=True).encode()))
    layers = tuple(BuiltBlob(data, _IN_TOTO) for _, data in statements)
    config = BuiltBlob(b'{"architecture":"unknown","os":"unknown","rootfs":{}}', mt.OCI_CONFIG)
    document = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": [
            layer.descriptor() | {"annotations": {_PREDICATE_ANNOTATION: predicate}}
            for layer, (predicate, _) in zip(layers, statements, strict=True)
        ],
    }
    body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return Image(body, mt.OCI_MANIFEST, config, layers, None)


def _multi_arch_oci() -> Index:
    children: list[Image] = []
    entries: list[dict[str, Any]] = []
    for platform in PLATFORMS:
        image = build_image(platform, seed="demo")
        attestation = _attestation(image)
        children += [image, attestation]
        entries.append(image.descriptor())
        entries.append(
            attestation.descriptor()
            | {
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {
                    ATTESTATION_ANNOTATION: ATTESTATION_VALUE,
                    ATTESTED_DIGEST_ANNOTATION: image.digest,
                },
            }
        )
    return _index(
        children,
        entries,
        mt.OCI_INDEX,
        {"org.opencontainers.image.title": "fakeregistry demo (OCI index with attestations)"},
    )


def _multi_arch_docker() -> Index:
    images = [build_image(platform, media_type="docker", seed="demo") for platform in PLATFORMS]
    return _index(images, [image.descriptor() for image in images], mt.DOCKER_MANIFEST_LIST)


def _nested() -> Index:
    groups = (("linux/amd64", "linux/arm64/v8"), ("linux/arm/v7", "linux/arm/v6"))
    inner: list[Index] = []
    for group in groups:
        images = [build_image(platform, seed="nested") for platform in group]
        inner.append(_index(images, [image.descriptor() for image in images], mt.OCI_INDEX))
    return _index(inner, [index.descriptor() for index in inner], mt.OCI_INDEX)


def demo_key() -> ec.EllipticCurvePrivateKey:
    """The demo's signing key: P-256, derived from :data:`DEMO_KEY_SEED` (never use it for
    anything but the demo: it is public)."""
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    scalar = int.from_bytes(hashlib.sha256(DEMO_KEY_SEED).digest(), "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def _signature(key: ec.EllipticCurvePrivateKey, repository: str, signed: Image | Index) -> Image:
    """The cosign legacy ``.sig`` manifest for *signed*, deterministically signed."""
    payload = cosign.simple_signing_payload(repository, signed.digest)
    raw = key.sign(payload, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    body, config = cosign.append_signature(None, payload, base64.b64encode(raw).decode())
    layer = BuiltBlob(payload, cosign.SIMPLE_SIGNING)
    return Image(body, mt.OCI_MANIFEST, config, (layer,), None)


def demo_content() -> list[DemoItem]:
    """What ``--demo`` pushes, in push order."""
    single = build_image("linux/amd64", seed="single")
    sbom = build_artifact(
        "application/spdx+json",
        subject=single,
        blobs=[b'{"spdxVersion":"SPDX-2.3","name":"demo/single","packages":[]}\n'],
        blob_media_type="application/spdx+json",
        annotations={"org.opencontainers.image.created": "1970-01-01T00:00:00Z"},
    )
    signed_children = [build_image(p, seed="signed") for p in ("linux/amd64", "linux/arm64/v8")]
    signed = _index(
        signed_children, [image.descriptor() for image in signed_children], mt.OCI_INDEX
    )
    key = demo_key()
    identity = DEMO_IDENTITY
    items = [
        DemoItem("demo/multi-arch", "oci-index", _multi_arch_oci(), "OCI index, 7 platforms"),
        DemoItem("demo/multi-arch", "manifest-list", _multi_arch_docker(), "Docker manifest list"),
        DemoItem("demo/nested", "latest", _nested(), "index of indexes"),
        DemoItem("demo/single", "latest", single, "single-platform image"),
        DemoItem("demo/single", None, sbom, "SBOM referring to demo/single:latest"),
        DemoItem("demo/signed", "1.0", signed, "signed OCI index"),
    ]
    subjects: list[Image | Index] = [signed, *signed_children]
    for subject in subjects:
        items.append(
            DemoItem(
                "demo/signed",
                cosign.signature_tag(subject.digest),
                _signature(key, identity, subject),
                f"cosign signature of {subject.digest}",
            )
        )
    return items


async def push_demo(target: SeedTarget) -> list[str]:
    """Push :func:`demo_content` to *target*; returns ``REPO:TAG`` of what was tagged."""
    tagged: list[str] = []
    for entry in demo_content():
        await push_tree(target, entry.repository, entry.tag, entry.item)
        if entry.tag is not None:
            tagged.append(f"{entry.repository}:{entry.tag}")
    return tagged


def write_demo_keys(directory: str | Path) -> tuple[Path, Path]:
    """Write the demo key as ``cosign.key`` (PKCS#8 PEM, unencrypted) and ``cosign.pub``
    (SubjectPublicKeyInfo PEM) in *directory*; returns their paths."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    key = demo_key()
    private = root / "cosign.key"
    public = root / "cosign.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public
