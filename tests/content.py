"""Test content pushed over plain HTTP: blobs, images, indexes and artifacts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from fakeregistry.rules import mediatypes as mt


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def push_blob(http: httpx.Client, repo: str, data: bytes, algorithm: str = "sha256") -> str:
    """Monolithic upload; returns the digest.

    A registry that answers the ``POST ?digest=`` with 202 instead of 201 (CNCF distribution
    does not take a blob in the POST, which the spec allows) gets the body by ``PUT``. Our own
    server's 201 is asserted by tests/test_api.py.
    """
    digest = digest_of(data, algorithm)
    response = http.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=data)
    if response.status_code == 202:
        location = response.headers["Location"]
        separator = "&" if "?" in location else "?"  # keep distribution's _state parameter
        response = http.put(
            f"{location}{separator}digest={digest}",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
    assert response.status_code == 201, response.text
    return digest


def push_manifest(
    http: httpx.Client, repo: str, reference: str, body: bytes, media_type: str
) -> httpx.Response:
    response = http.put(
        f"/v2/{repo}/manifests/{reference}", content=body, headers={"Content-Type": media_type}
    )
    assert response.status_code == 201, response.text
    return response


def descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest_of(data), "size": len(data), **extra}


@dataclass(frozen=True)
class Pushed:
    """What a builder pushed: the manifest bytes, its digest and media type."""

    body: bytes
    digest: str
    media_type: str
    blobs: tuple[str, ...] = ()

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": len(self.body),
            **extra,
        }


def image_manifest(
    config: bytes,
    layers: list[bytes],
    *,
    media_type: str = mt.OCI_MANIFEST,
    **extra: Any,
) -> bytes:
    docker = media_type == mt.DOCKER_MANIFEST
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": descriptor(mt.DOCKER_CONFIG if docker else mt.OCI_CONFIG, config),
        "layers": [descriptor(mt.DOCKER_LAYER if docker else mt.OCI_LAYER_GZIP, x) for x in layers],
        **extra,
    }
    return canonical(document)


def push_image(
    http: httpx.Client,
    repo: str,
    reference: str | None = "latest",
    *,
    media_type: str = mt.OCI_MANIFEST,
    architecture: str = "amd64",
    os: str = "linux",
    seed: str = "",
    variant: str = "",
    **extra: Any,
) -> Pushed:
    """Push a config and one layer, then an image manifest (by tag, or by digest when
    ``reference`` is None). The layer's bytes are :func:`layer_bytes` of the same values."""
    document: dict[str, Any] = {
        "architecture": architecture,
        "os": os,
        "rootfs": {"type": "layers"},
    }
    if variant:
        document["variant"] = variant
    config = canonical(document)
    layer = layer_bytes(repo, architecture, seed)
    blobs = (push_blob(http, repo, config), push_blob(http, repo, layer))
    body = image_manifest(config, [layer], media_type=media_type, **extra)
    digest = digest_of(body)
    push_manifest(http, repo, reference or digest, body, media_type)
    return Pushed(body, digest, media_type, blobs)


def layer_bytes(repo: str, architecture: str, seed: str = "") -> bytes:
    """The one layer :func:`push_image` pushes."""
    return f"layer {repo} {architecture} {seed}".encode()


def push_index(
    http: httpx.Client,
    repo: str,
    reference: str | None,
    children: Sequence[tuple[Pushed, Mapping[str, Any] | None]],
    *,
    media_type: str = mt.OCI_INDEX,
    **extra: Any,
) -> Pushed:
    manifests = []
    for child, platform in children:
        entry = child.descriptor()
        if platform is not None:
            entry["platform"] = dict(platform)
        manifests.append(entry)
    body = canonical({"schemaVersion": 2, "mediaType": media_type, "manifests": manifests, **extra})
    digest = digest_of(body)
    push_manifest(http, repo, reference or digest, body, media_type)
    return Pushed(body, digest, media_type)


EMPTY_CONFIG = b"{}"


def push_artifact(
    http: httpx.Client,
    repo: str,
    subject: Pushed | None,
    artifact_type: str,
    *,
    payload: bytes = b"signature",
    annotations: dict[str, str] | None = None,
    reference: str | None = None,
) -> Pushed:
    """An OCI 1.1 artifact manifest (empty config, ``artifactType``, optional ``subject``)."""
    push_blob(http, repo, EMPTY_CONFIG)
    push_blob(http, repo, payload)
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": descriptor(mt.OCI_EMPTY, EMPTY_CONFIG),
        "layers": [descriptor("application/octet-stream", payload)],
    }
    if subject is not None:
        document["subject"] = subject.descriptor()
    if annotations:
        document["annotations"] = annotations
    body = canonical(document)
    digest = digest_of(body)
    push_manifest(http, repo, reference or digest, body, mt.OCI_MANIFEST)
    return Pushed(body, digest, mt.OCI_MANIFEST)
