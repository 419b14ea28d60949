"""The OCI image layouts in ``fixtures/layouts/`` (see ``fixtures/README.md``): each is a valid
layout with no stray blobs, the seeding code (``fakeregistry.tools.seed.load_layout``) pushes it
whole into a fresh registry, and skopeo, when installed, reads it as ``oci:DIR``."""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from fakeregistry.rules.model import parse_manifest
from fakeregistry.tools.builder import BuiltBlob
from fakeregistry.tools.seed import load_layout
from tests.conftest import require_tool
from tests.fixture_files import is_attestation, layout_dirs, sha256

DIRS = layout_dirs()
IDS = [d.name for d in DIRS]


@dataclass(frozen=True)
class LayoutCase:
    tags: tuple[str, ...]
    # "os/arch" of each image config reachable from index.json, in walk order
    platforms: tuple[str, ...]
    attestations: int = 0
    # skopeo --override-arch → the architecture it reports
    skopeo_arches: dict[str, str] = field(default_factory=dict)


CASES = {
    "single-image": LayoutCase(
        tags=("1.0",), platforms=("linux/amd64",), skopeo_arches={"amd64": "amd64"}
    ),
    "buildx-multi-platform": LayoutCase(
        tags=("latest",),
        platforms=("linux/amd64", "linux/arm64", "unknown/unknown", "unknown/unknown"),
        attestations=2,
        skopeo_arches={"amd64": "amd64", "arm64": "arm64"},
    ),
}


def test_every_layout_has_a_case() -> None:
    assert set(IDS) == set(CASES)


def _blob(root: Path, digest: str) -> bytes:
    return (root / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


@dataclass
class Walk:
    manifests: list[tuple[str, str]] = field(default_factory=list)  # (digest, media type)
    blobs: set[str] = field(default_factory=set)
    platforms: list[str] = field(default_factory=list)
    attestations: int = 0


def walk(root: Path) -> Walk:
    """Everything reachable from ``index.json``, parsed as the registry parses it."""
    out = Walk()

    def visit(digest: str, media_type: str, attestation: bool) -> None:
        body = _blob(root, digest)
        assert sha256(body) == digest
        manifest = parse_manifest(body, media_type)
        out.manifests.append((digest, media_type))
        out.attestations += attestation
        for child in manifest.manifests:
            visit(
                child.digest,
                child.media_type,
                child.annotations.get("vnd.docker.reference.type") == "attestation-manifest",
            )
        if manifest.config is not None:
            config = json.loads(_blob(root, manifest.config.digest))
            out.platforms.append(f"{config['os']}/{config['architecture']}")
            out.blobs.add(manifest.config.digest)
            out.blobs.update(layer.digest for layer in manifest.layers)

    index = json.loads((root / "index.json").read_bytes())
    for descriptor in index["manifests"]:
        visit(descriptor["digest"], descriptor["mediaType"], is_attestation(descriptor))
    return out


@pytest.mark.parametrize("root", DIRS, ids=IDS)
def test_layout_is_valid_and_complete(root: Path) -> None:
    case = CASES[root.name]
    assert json.loads((root / "oci-layout").read_bytes()) == {"imageLayoutVersion": "1.0.0"}
    found = walk(root)
    assert tuple(found.platforms) == case.platforms
    assert found.attestations == case.attestations
    files = {f"sha256:{p.name}" for p in (root / "blobs" / "sha256").iterdir()}
    for name in files:
        assert sha256(_blob(root, name)) == name, name
    # no stray blobs, nothing missing
    assert files == found.blobs | {digest for digest, _ in found.manifests}


class HttpTarget:
    """A :class:`fakeregistry.tools.seed.SeedTarget` that pushes over HTTP."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    async def push_blob(self, repository: str, blob: BuiltBlob) -> None:
        response = self.http.post(
            f"/v2/{repository}/blobs/uploads/", params={"digest": blob.digest}, content=blob.data
        )
        assert response.status_code == 201, response.text

    async def push_manifest(
        self, repository: str, reference: str, body: bytes, media_type: str
    ) -> None:
        response = self.http.put(
            f"/v2/{repository}/manifests/{reference}",
            content=body,
            headers={"Content-Type": media_type},
        )
        assert response.status_code == 201, response.text


@pytest.mark.parametrize("root", DIRS, ids=IDS)
def test_seeded(root: Path, http: httpx.Client) -> None:
    case = CASES[root.name]
    tags = asyncio.run(load_layout(HttpTarget(http), root, "fixtures/layout"))
    assert tuple(tags) == case.tags
    index = json.loads((root / "index.json").read_bytes())
    top = index["manifests"][0]
    for tag in tags:
        got = http.get(f"/v2/fixtures/layout/manifests/{tag}", headers={"Accept": top["mediaType"]})
        assert got.status_code == 200
        assert got.content == _blob(root, top["digest"])
    found = walk(root)
    for digest, media_type in found.manifests:
        got = http.get(f"/v2/fixtures/layout/manifests/{digest}", headers={"Accept": media_type})
        assert got.status_code == 200
        assert got.headers["Docker-Content-Digest"] == digest
    for digest in found.blobs:
        assert http.head(f"/v2/fixtures/layout/blobs/{digest}").status_code == 200, digest


SKOPEO = [
    pytest.param(root, arch, expected, id=f"{root.name}-{arch}")
    for root in DIRS
    for arch, expected in CASES[root.name].skopeo_arches.items()
]


@pytest.mark.parametrize(("root", "arch", "expected"), SKOPEO)
def test_skopeo_inspect(root: Path, arch: str, expected: str, tmp_path: Path) -> None:
    skopeo = require_tool("skopeo")
    answer = subprocess.run(
        [skopeo, "--override-os", "linux", "--override-arch", arch, "inspect", f"oci:{root}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert answer.returncode == 0, answer.stderr
    inspected = json.loads(answer.stdout)
    assert (inspected["Os"], inspected["Architecture"]) == ("linux", expected)
    index = json.loads((root / "index.json").read_bytes())
    assert inspected["Digest"] == index["manifests"][0]["digest"]
