"""Registry operations the benchmark times: blob push and pull, and pushing a small image."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.rawhttp import Buffer, Connection, HTTPError

__all__ = ["Image", "make_image", "pull_blob", "push_blob", "push_image", "sha256_digest"]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256_digest(parts: Sequence[Buffer]) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part)
    return f"sha256:{hasher.hexdigest()}"


def push_blob(
    conn: Connection, name: str, parts: Sequence[Buffer], digest: str, timeout: float
) -> float:
    """Monolithic upload, ``POST`` then ``PUT <location>?digest=`` with the whole body; the
    wall time of both requests in seconds."""
    start = time.perf_counter()
    started = conn.request("POST", f"/v2/{name}/blobs/uploads/", timeout=timeout).expect(202)
    target = conn.path_of(started.header("Location"))
    target += ("&" if "?" in target else "?") + f"digest={digest}"
    headers = {"Content-Type": "application/octet-stream"}
    finished = conn.request("PUT", target, headers, parts, timeout=timeout)
    elapsed = time.perf_counter() - start
    finished.expect(201)
    if finished.header("Docker-Content-Digest") not in ("", digest):
        raise HTTPError(
            f"pushed {digest}, registry says {finished.header('Docker-Content-Digest')}"
        )
    return elapsed


def pull_blob(
    conn: Connection, name: str, digest: str, into: bytearray, timeout: float
) -> tuple[float, int]:
    """``GET`` a blob into ``into``; the wall time in seconds and the bytes received."""
    start = time.perf_counter()
    response = conn.request("GET", f"/v2/{name}/blobs/{digest}", into=into, timeout=timeout)
    elapsed = time.perf_counter() - start
    response.expect(200)
    return elapsed, response.received


@dataclass(frozen=True, slots=True)
class Image:
    """A small but real single-layer image: gzip'd tar layer, OCI config and manifest."""

    layer: bytes
    config: bytes
    manifest: bytes

    @property
    def digest(self) -> str:
        return sha256_digest([self.manifest])


def make_image() -> Image:
    """A deterministic image whose layer holds one small file."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as tar:
        content = b"hello from the fakeregistry benchmark\n" * 64
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        info.mtime = 0
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(content))
    diff_id = sha256_digest([tar_bytes.getvalue()])
    layer = gzip.compress(tar_bytes.getvalue(), mtime=0)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "fakeregistry benchmark"}],
        },
        separators=(",", ":"),
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": sha256_digest([config]),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": OCI_LAYER_GZIP,
                    "digest": sha256_digest([layer]),
                    "size": len(layer),
                }
            ],
        },
        indent=3,
    ).encode()
    return Image(layer=layer, config=config, manifest=manifest)


def push_image(conn: Connection, name: str, tag: str, image: Image, timeout: float = 30.0) -> str:
    """Push the image's blobs and manifest under ``tag``; check a GET returns it; its digest."""
    for blob in (image.config, image.layer):
        push_blob(conn, name, [blob], sha256_digest([blob]), timeout)
    conn.request(
        "PUT",
        f"/v2/{name}/manifests/{tag}",
        {"Content-Type": OCI_MANIFEST},
        [image.manifest],
        timeout=timeout,
    ).expect(201)
    got = conn.request(
        "GET", f"/v2/{name}/manifests/{tag}", {"Accept": OCI_MANIFEST}, timeout=timeout
    ).expect(200)
    if got.body != image.manifest:
        raise HTTPError("the manifest read back differs from the one pushed")
    if got.header("Docker-Content-Digest") != image.digest:
        raise HTTPError(f"manifest digest {got.header('Docker-Content-Digest')} != {image.digest}")
    return image.digest
