"""Round trips with the real skopeo (containers/image): OCI layout -> registry -> OCI layout,
registry -> registry, ``inspect --raw``, ``list-tags`` and ``delete``, over plain HTTP.

skopeo runs with a HOME, registries.conf, registries.d and policy of its own under tmp_path,
with ``--debug`` so every request it makes is logged; each run checks it spoke to no host but the
registries of the test. HTTP(S)_PROXY point at a closed port, so a request to any other host would
fail the command (Go never proxies loopback addresses, so the registries are reached directly).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from fakeregistry import RegistryServer
from fakeregistry.rules import mediatypes as mt
from tests.conftest import RegistryFactory, require_tool
from tests.content import digest_of
from tests.oci_layout import LayoutImage, read_blob, tagged, write_image, write_index
from tests.skopeo import ALL_MANIFEST_TYPES, Skopeo

pytestmark = pytest.mark.interop


@pytest.fixture
def skopeo(tmp_path: Path, registry: RegistryServer) -> Skopeo:
    return Skopeo(require_tool("skopeo"), tmp_path / "skopeo", {registry.host})


def _manifest_head(http: httpx.Client, repo: str, reference: str) -> httpx.Response:
    return http.head(f"/v2/{repo}/manifests/{reference}", headers={"Accept": ALL_MANIFEST_TYPES})


def _assert_blobs_served(http: httpx.Client, repo: str, image: LayoutImage) -> None:
    """The registry serves every blob and child manifest of ``image`` with the layout's bytes."""
    for digest in image.blobs:
        response = http.get(f"/v2/{repo}/blobs/{digest}")
        assert response.status_code == 200, digest
        assert response.content == read_blob(image.path, digest), digest
    if image.media_type == mt.OCI_INDEX:
        for digest in image.manifests:
            response = http.get(
                f"/v2/{repo}/manifests/{digest}", headers={"Accept": ALL_MANIFEST_TYPES}
            )
            assert response.status_code == 200, digest
            assert response.content == read_blob(image.path, digest), digest


def _blob_files(layout: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in (layout / "blobs" / "sha256").iterdir()}


@dataclass(frozen=True)
class Case:
    write: Callable[[Path], LayoutImage]
    flags: tuple[str, ...]
    # The manifest skopeo pushes is the layout's, byte for byte (no conversion).
    unchanged: bool
    pushed_type: str


CASES = [
    pytest.param(Case(write_image, (), True, mt.OCI_MANIFEST), id="oci-image"),
    pytest.param(
        Case(write_image, ("--format", "v2s2"), False, mt.DOCKER_MANIFEST), id="v2s2-image"
    ),
    pytest.param(Case(write_index, ("--all",), True, mt.OCI_INDEX), id="oci-index-all"),
]


@pytest.mark.parametrize("case", CASES)
def test_layout_round_trip(
    case: Case, skopeo: Skopeo, registry: RegistryServer, http: httpx.Client, tmp_path: Path
) -> None:
    image = case.write(tmp_path / "source")
    repo = "interop/roundtrip"
    remote = f"docker://{registry.host}/{repo}:v1"

    pushed = skopeo.copy(f"oci:{image.path}:{image.tag}", remote, *case.flags)

    # The registry holds what skopeo says it pushed, under the tag.
    head = _manifest_head(http, repo, "v1")
    assert head.status_code == 200
    assert head.headers["Docker-Content-Digest"] == pushed
    assert head.headers["Content-Type"] == case.pushed_type
    raw = skopeo.inspect_raw(remote)
    assert digest_of(raw) == pushed
    if case.unchanged:
        assert pushed == image.digest
        assert raw == read_blob(image.path, image.digest)
    else:
        assert pushed != image.digest
        assert json.loads(raw)["mediaType"] == case.pushed_type
    # Layers and configs are never rewritten, whatever the manifest format.
    _assert_blobs_served(http, repo, image)

    back = tmp_path / "back"
    pulled = skopeo.copy(remote, f"oci:{back}:v1", *(f for f in case.flags if f == "--all"))
    assert tagged(back, "v1")["digest"] == pulled
    source_blobs, back_blobs = _blob_files(image.path), _blob_files(back)
    if case.unchanged:
        # Byte-identical round trip: the same manifest, index, configs and layers.
        assert pulled == image.digest
        assert back_blobs == source_blobs
    else:
        # An OCI layout cannot hold a schema2 manifest: skopeo converts it back to OCI (and
        # re-encodes the config); the layers come back as they were.
        layout_manifest = json.loads(read_blob(image.path, image.digest))
        for layer in layout_manifest["layers"]:
            encoded = layer["digest"].split(":", 1)[1]
            assert back_blobs[encoded] == source_blobs[encoded]


def test_list_tags(skopeo: Skopeo, registry: RegistryServer) -> None:
    image = write_image(skopeo.root / "source", seed=1)
    for tag in ("v2", "latest", "v1"):
        skopeo.copy(f"oci:{image.path}:latest", f"docker://{registry.host}/interop/tags:{tag}")
    listing = skopeo.list_tags(f"docker://{registry.host}/interop/tags")
    assert listing == {
        "Repository": f"{registry.host}/interop/tags",
        "Tags": ["latest", "v1", "v2"],
    }


@pytest.mark.parametrize("by", ["tag", "digest"])
def test_delete(by: str, skopeo: Skopeo, registry: RegistryServer, http: httpx.Client) -> None:
    image = write_image(skopeo.root / "source", seed=2, layers=1)
    repo = "interop/delete"
    for tag in ("v1", "v2"):
        skopeo.copy(f"oci:{image.path}:latest", f"docker://{registry.host}/{repo}:{tag}")
    reference = f"docker://{registry.host}/{repo}" + (":v1" if by == "tag" else f"@{image.digest}")

    skopeo.run("delete", "--tls-verify=false", reference)

    # skopeo deletes by digest, so the manifest and every tag naming it are gone.
    for gone in ("v1", "v2", image.digest):
        response = http.get(f"/v2/{repo}/manifests/{gone}", headers={"Accept": ALL_MANIFEST_TYPES})
        assert response.status_code == 404, gone
        assert response.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    assert skopeo.list_tags(f"docker://{registry.host}/{repo}")["Tags"] == []
    result = skopeo.try_run("inspect", "--tls-verify=false", "--raw", reference)
    assert result.returncode != 0
    assert b"manifest unknown" in result.stderr


@pytest.mark.parametrize(
    ("write", "flags"),
    [
        pytest.param(write_image, (), id="image"),
        pytest.param(write_index, ("--all",), id="index-all"),
    ],
)
def test_registry_to_registry(
    write: Callable[[Path], LayoutImage],
    flags: tuple[str, ...],
    make_registry: RegistryFactory,
    tmp_path: Path,
) -> None:
    source, destination = make_registry(), make_registry()
    skopeo = Skopeo(require_tool("skopeo"), tmp_path / "skopeo", {source.host, destination.host})
    image = write(tmp_path / "layout")
    origin = f"docker://{source.host}/interop/origin:v1"
    skopeo.copy(f"oci:{image.path}:{image.tag}", origin, *flags)

    copied = skopeo.copy(origin, f"docker://{destination.host}/interop/copy:v2", *flags)

    assert copied == image.digest
    assert skopeo.inspect_raw(f"docker://{destination.host}/interop/copy:v2") == read_blob(
        image.path, image.digest
    )
    with httpx.Client(base_url=destination.url, timeout=30) as http:
        _assert_blobs_served(http, "interop/copy", image)
