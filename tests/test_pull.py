"""The simulated engine pull, end to end over HTTP: against our own registry and CNCF
distribution, for single images, Docker manifest lists, OCI indexes and nested indexes, as
several engines on several hosts.

Each row of ``PULLS`` names a layout (what is pushed), a host, an engine and an optional
``--platform``, and the entry the engine must end up with (or the error it must raise).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import ssl
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakeregistry import RegistryServer
from fakeregistry.client import (
    DigestMismatchError,
    HostConfig,
    NotFoundError,
    RegistryClient,
    RegistryClientError,
    SizeMismatchError,
)
from fakeregistry.engine.profiles import engine as engine_profile
from fakeregistry.engine.pull import (
    ENGINE_ACCEPT,
    PullError,
    PullProgress,
    PullResult,
    pull,
    pull_sync,
)
from fakeregistry.engine.selection import ENGINES, NoMatchingManifest, select_manifest
from fakeregistry.platforms.platform import Platform
from fakeregistry.registry.storage import Blob
from fakeregistry.rules import mediatypes as mt
from tests.conftest import RegistryFactory, require_tool
from tests.content import Pushed, canonical, digest_of, layer_bytes, push_image, push_index
from tests.distribution import Distribution, run_distribution

# -- what gets pushed -------------------------------------------------------------------------

PLATFORMS: dict[str, dict[str, Any]] = {
    "amd64": {"os": "linux", "architecture": "amd64"},
    "arm64": {"os": "linux", "architecture": "arm64", "variant": "v8"},
    "armv7": {"os": "linux", "architecture": "arm", "variant": "v7"},
    "windows": {"os": "windows", "architecture": "amd64", "os.version": "10.0.17763.5576"},
}


@dataclass
class Pushed_:
    """A pushed layout: the tag's top manifest and every image by key."""

    repo: str
    top: Pushed
    images: dict[str, Pushed]
    seeds: dict[str, tuple[str, str]]  # key -> (architecture, seed) of its layer


def _image(
    http: httpx.Client, repo: str, key: str, media_type: str, reference: str | None = None
) -> tuple[Pushed, tuple[str, str]]:
    platform = PLATFORMS.get(key, PLATFORMS["arm64"])
    pushed = push_image(
        http,
        repo,
        reference,
        media_type=media_type,
        architecture=platform["architecture"],
        os=platform["os"],
        variant=platform.get("variant", ""),
        seed=key,
    )
    return pushed, (platform["architecture"], key)


def _layout(
    http: httpx.Client,
    repo: str,
    keys: list[str | None],
    *,
    media_type: str = mt.OCI_INDEX,
    platformless: tuple[str, ...] = (),
) -> Pushed_:
    """An index over images (``None`` in ``keys`` is skipped); ``platformless`` keys get no
    ``platform`` in the index (their config still says what they are)."""
    child_type = mt.DOCKER_MANIFEST if media_type == mt.DOCKER_MANIFEST_LIST else mt.OCI_MANIFEST
    images: dict[str, Pushed] = {}
    seeds: dict[str, tuple[str, str]] = {}
    children: list[tuple[Pushed, dict[str, Any] | None]] = []
    for key in keys:
        assert key is not None
        images[key], seeds[key] = _image(http, repo, key, child_type)
        children.append((images[key], None if key in platformless else PLATFORMS[key]))
    top = push_index(http, repo, "latest", children, media_type=media_type)
    return Pushed_(repo, top, images, seeds)


def single_oci(http: httpx.Client, repo: str) -> Pushed_:
    image, seed = _image(http, repo, "image", mt.OCI_MANIFEST, "latest")
    return Pushed_(repo, image, {"image": image}, {"image": seed})


def single_docker(http: httpx.Client, repo: str) -> Pushed_:
    image, seed = _image(http, repo, "image", mt.DOCKER_MANIFEST, "latest")
    return Pushed_(repo, image, {"image": image}, {"image": seed})


def docker_list(http: httpx.Client, repo: str) -> Pushed_:
    return _layout(http, repo, ["amd64", "armv7", "arm64"], media_type=mt.DOCKER_MANIFEST_LIST)


def oci_index(http: httpx.Client, repo: str) -> Pushed_:
    return _layout(http, repo, ["windows", "amd64", "armv7", "arm64"])


def arm32_only(http: httpx.Client, repo: str) -> Pushed_:
    return _layout(http, repo, ["amd64", "armv7"])


def platformless(http: httpx.Client, repo: str) -> Pushed_:
    """An OCI index whose arm64 entry has no platform (containerd reads the config)."""
    return _layout(http, repo, ["amd64", "arm64"], platformless=("arm64",))


def nested(http: httpx.Client, repo: str) -> Pushed_:
    """An index of [windows image, an index (no platform) of linux amd64 and arm64]."""
    windows, windows_seed = _image(http, repo, "windows", mt.OCI_MANIFEST)
    amd64, amd64_seed = _image(http, repo, "amd64", mt.OCI_MANIFEST)
    arm64, arm64_seed = _image(http, repo, "arm64", mt.OCI_MANIFEST)
    inner = push_index(http, repo, None, [(amd64, PLATFORMS["amd64"]), (arm64, PLATFORMS["arm64"])])
    top = push_index(http, repo, "latest", [(windows, PLATFORMS["windows"]), (inner, None)])
    return Pushed_(
        repo,
        top,
        {"windows": windows, "amd64": amd64, "arm64": arm64, "inner": inner},
        {"windows": windows_seed, "amd64": amd64_seed, "arm64": arm64_seed},
    )


LAYOUTS: dict[str, Callable[[httpx.Client, str], Pushed_]] = {
    "single-oci": single_oci,
    "single-docker": single_docker,
    "docker-list": docker_list,
    "oci-index": oci_index,
    "arm32-only": arm32_only,
    "platformless": platformless,
    "nested": nested,
}


# -- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    layout: str
    host: str
    engine: str
    expect: str  # the image key, or "error"
    requested: str | None = None
    error: type[Exception] | None = None
    message: str = ""  # the error's text (exact for NoMatchingManifest; else a substring)
    steps: int = 1
    platform: str | None = None  # the chosen platform, when not the index entry's


PULLS = [
    # Single images: pulled whatever the host (engines only pick among list entries).
    Row("single-oci", "linux/amd64", "moby", "image", steps=0, platform="linux/arm64/v8"),
    Row(
        "single-oci", "linux/amd64", "containers-image", "image", steps=0, platform="linux/arm64/v8"
    ),
    Row("single-docker", "linux/s390x", "docker-1.10", "image", steps=0, platform="linux/arm64/v8"),
    # Docker 1.10 never asks for OCI types: strict registries answer 404 (distribution v2.8
    # and v3 alike).
    Row(
        "single-oci",
        "linux/arm64/v8",
        "docker-1.10",
        "error",
        error=NotFoundError,
        message="OCI manifest found, but accept header does not support OCI manifests",
    ),
    Row(
        "oci-index",
        "linux/arm64/v8",
        "docker-1.10",
        "error",
        error=NotFoundError,
        message="OCI index found, but accept header does not support OCI indexes",
    ),
    # Docker manifest lists.
    Row("docker-list", "linux/amd64", "moby", "amd64"),
    Row("docker-list", "linux/arm64/v8", "moby", "arm64"),
    Row("docker-list", "linux/arm64/v8", "docker-1.10", "arm64"),
    Row("docker-list", "linux/arm/v7", "docker-18.09", "armv7"),
    Row("docker-list", "linux/arm64/v8", "containers-image", "arm64"),
    Row("docker-list", "linux/amd64", "moby", "armv7", requested="linux/arm/v7"),
    Row(
        "docker-list",
        "linux/s390x",
        "moby",
        "error",
        error=NoMatchingManifest,
        message="no matching manifest for linux/s390x in the manifest list entries",
    ),
    Row(
        "docker-list",
        "linux/amd64",
        "moby",
        "error",
        requested="linux/ppc64le",
        error=NoMatchingManifest,
        message="no matching manifest for linux/ppc64le in the manifest list entries",
    ),
    # OCI indexes.
    Row("oci-index", "linux/arm64/v8", "containerd", "arm64"),
    Row("oci-index", "linux/amd64/v3", "moby", "amd64"),
    Row("oci-index", "linux/amd64", "containerd-strict", "amd64"),
    Row("oci-index", "linux/arm/v7", "full", "armv7"),
    Row("oci-index", "linux/amd64", "docker-18.09", "arm64", requested="linux/arm64"),
    # Fallbacks differ per engine: arm64 hosts run arm/v7 for moby, not for OnlyStrict or
    # containers/image.
    Row("arm32-only", "linux/arm64/v8", "moby", "armv7"),
    Row("arm32-only", "linux/arm64/v8", "containerd", "armv7"),
    Row("arm32-only", "linux/arm64/v8", "containerd-strict", "error", error=NoMatchingManifest),
    Row(
        "arm32-only",
        "linux/arm64/v8",
        "containers-image",
        "error",
        error=NoMatchingManifest,
        message='no image found in image index for architecture "arm64", variant "v8", OS "linux"',
    ),
    Row(
        "arm32-only",
        "linux/arm/v6",
        "moby",
        "error",
        error=NoMatchingManifest,
        message="no matching manifest for linux/arm/v6 in the manifest list entries",
    ),
    # A platform-less entry: containerd checks the image config before taking it.
    Row("platformless", "linux/amd64", "containerd", "amd64"),
    Row("platformless", "linux/arm64/v8", "containerd", "arm64", platform="linux/arm64/v8"),
    Row(
        "platformless",
        "linux/s390x",
        "containerd",
        "error",
        error=NoMatchingManifest,
        message="no match for platform in manifest",
    ),
    # Nested indexes: the engine recurses with the same platform.
    Row("nested", "linux/arm64/v8", "moby", "arm64", steps=2),
    Row("nested", "linux/amd64", "containerd", "amd64", steps=2),
    Row("nested", "linux/amd64", "containers-image", "amd64", steps=2),
    Row("nested", "linux/arm64/v8", "full", "arm64", steps=2),
]


def row_id(row: Row) -> str:
    asked = f"-asking-{row.requested}" if row.requested else ""
    outcome = row.expect if row.error is None else row.error.__name__
    return f"{row.layout}-{row.engine}-on-{row.host}{asked}-gets-{outcome}".replace("/", "_")


# -- registries -------------------------------------------------------------------------------


@dataclass
class Target:
    """A registry to push to and pull from."""

    name: str
    url: str
    host: str
    server: RegistryServer | None = None


@pytest.fixture(scope="module")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Distribution]:
    with run_distribution(tmp_path_factory.mktemp("distribution")) as running:
        yield running


@pytest.fixture(params=["ours", pytest.param("distribution", marks=pytest.mark.interop)])
def target(request: pytest.FixtureRequest, make_registry: RegistryFactory) -> Target:
    if request.param == "ours":
        server = make_registry()
        return Target("ours", server.url, server.host, server)
    running: Distribution = request.getfixturevalue("distribution")
    return Target("distribution", running.url, running.host)


def push(target: Target, layout: str) -> Pushed_:
    repo = f"pull/{layout}-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=target.url, timeout=30) as http:
        return LAYOUTS[layout](http, repo)


def check_result(result: PullResult, pushed: Pushed_, row: Row, target: Target) -> None:
    chosen = pushed.images[row.expect]
    assert result.digest == pushed.top.digest
    assert result.media_type == pushed.top.media_type
    assert result.manifest.digest == chosen.digest
    assert result.manifest.body == chosen.body
    architecture, seed = pushed.seeds[row.expect]
    assert [layer.data for layer in result.layers] == [layer_bytes(pushed.repo, architecture, seed)]
    assert result.config["architecture"] == architecture
    assert len(result.steps) == row.steps
    if row.platform is not None:
        assert result.platform is not None
        assert result.platform.format_all() == row.platform
    else:
        assert result.platform == Platform.from_json(PLATFORMS[row.expect])
    if row.steps:
        assert result.candidates[0].descriptor["digest"] == chosen.digest
        assert result.candidates[0].rank == 0
    # The request pattern: HEAD the tag then GET by digest, or GET the tag; then blobs.
    head_first = engine_profile(row.engine).head_first
    first = result.trace[0]
    assert (first.method, first.status) == ("HEAD" if head_first else "GET", 200)
    assert first.url == f"{target.url}/v2/{pushed.repo}/manifests/latest"
    assert all(t.status == 200 for t in result.trace)
    blobs = [t for t in result.trace if "/blobs/" in t.url]
    assert [t.url.rsplit("/", 1)[1] for t in blobs] == [
        result.config_descriptor.digest,
        *[layer.digest for layer in result.layers],
    ]


@pytest.mark.parametrize("row", PULLS, ids=row_id)
async def test_pull(row: Row, target: Target) -> None:
    pushed = push(target, row.layout)
    ref = f"{target.host}/{pushed.repo}:latest"
    if row.error is None:
        result = await pull(ref, host=row.host, engine=row.engine, platform=row.requested)
        check_result(result, pushed, row, target)
        return
    with pytest.raises(row.error) as caught:
        await pull(ref, host=row.host, engine=row.engine, platform=row.requested)
    if isinstance(caught.value, NoMatchingManifest):
        assert caught.value.engine == engine_profile(row.engine).name  # aliases: the profile
        if row.layout != "platformless":
            # Exactly what the engine's own rules say for that index.
            with pytest.raises(NoMatchingManifest) as direct:
                select_manifest(pushed.top.body, row.host, row.engine, requested=row.requested)
            assert str(caught.value) == str(direct.value)
    assert row.message in str(caught.value)


# -- verification -----------------------------------------------------------------------------


def _swap_blob(registry: RegistryServer, digest: str, data: bytes) -> None:
    def swap() -> None:
        registry.storage.blobs[digest] = Blob(digest, [data])

    registry.call(swap)


def _flip(data: bytes) -> bytes:
    """Same length, one byte different: only the digest can tell."""
    return data[:-1] + bytes([data[-1] ^ 1])


@pytest.mark.parametrize("what", ["layer", "config"])
async def test_corrupted_blob_fails_loudly(registry: RegistryServer, what: str) -> None:
    with httpx.Client(base_url=registry.url) as http:
        pushed = docker_list(http, "corrupt")
    image = json.loads(pushed.images["amd64"].body)
    descriptor = image["layers"][0] if what == "layer" else image["config"]
    with httpx.Client(base_url=registry.url) as http:
        original = http.get(f"/v2/corrupt/blobs/{descriptor['digest']}").content
    _swap_blob(registry, descriptor["digest"], _flip(original))
    with pytest.raises(DigestMismatchError) as caught:
        await pull(f"{registry.host}/corrupt:latest", host="linux/amd64")
    error = caught.value
    assert error.expected == descriptor["digest"]
    assert error.actual == digest_of(_flip(original))
    assert f"expected {error.expected}, got content hashing to {error.actual}" in str(error)


async def test_corrupted_child_manifest_fails_loudly(registry: RegistryServer) -> None:
    with httpx.Client(base_url=registry.url) as http:
        pushed = oci_index(http, "corrupt")
    child = pushed.images["arm64"]

    def swap() -> None:
        repo = registry.storage.repositories["corrupt"]
        stored = repo.manifests[child.digest]
        repo.manifests[child.digest] = type(stored)(
            stored.digest, stored.media_type, child.body + b" ", stored.view
        )

    registry.call(swap)
    with pytest.raises(DigestMismatchError, match=f"expected {child.digest}"):
        await pull(f"{registry.host}/corrupt:latest", host="linux/arm64/v8", engine="containerd")


async def test_wrong_size_in_index_fails(registry: RegistryServer) -> None:
    with httpx.Client(base_url=registry.url) as http:
        image, _ = _image(http, "sizes", "amd64", mt.OCI_MANIFEST)
        descriptor = {
            **image.descriptor(),
            "size": len(image.body) + 1,
            "platform": PLATFORMS["amd64"],
        }
        body = canonical({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": [descriptor]})
        http.put(
            "/v2/sizes/manifests/latest", content=body, headers={"Content-Type": mt.OCI_INDEX}
        ).raise_for_status()
    with pytest.raises(SizeMismatchError, match=f"expected {len(image.body) + 1} bytes"):
        await pull(f"{registry.host}/sizes:latest", host="linux/amd64")


async def test_unknown_manifest_types_are_skipped(registry: RegistryServer) -> None:
    with httpx.Client(base_url=registry.url) as http:
        first, _ = _image(http, "skip", "amd64", mt.OCI_MANIFEST)
        second = push_image(http, "skip", None, seed="second")
        odd = {**first.descriptor(), "mediaType": "application/vnd.example.unknown+json"}
        body = canonical(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_INDEX,
                "manifests": [
                    {**odd, "platform": PLATFORMS["amd64"]},
                    {**second.descriptor(), "platform": PLATFORMS["amd64"]},
                ],
            }
        )
        http.put(
            "/v2/skip/manifests/latest", content=body, headers={"Content-Type": mt.OCI_INDEX}
        ).raise_for_status()
    result = await pull(f"{registry.host}/skip:latest", host="linux/amd64")
    assert result.manifest.digest == second.digest
    assert result.skipped == (
        f"{first.digest}: unknown manifest type 'application/vnd.example.unknown+json'",
    )


# -- negotiation ------------------------------------------------------------------------------


def test_engine_accept_lists() -> None:
    assert set(ENGINE_ACCEPT) == set(ENGINES)
    oci = {mt.OCI_MANIFEST, mt.OCI_INDEX}
    assert not oci & set(ENGINE_ACCEPT["docker-1.10"])
    for engine in ENGINES:
        assert mt.DOCKER_MANIFEST in ENGINE_ACCEPT[engine]
        assert mt.DOCKER_MANIFEST_LIST in ENGINE_ACCEPT[engine]
        if engine != "docker-1.10":
            assert oci <= set(ENGINE_ACCEPT[engine])


async def test_docker_1_10_refuses_oci_from_a_lenient_registry(
    make_registry: RegistryFactory,
) -> None:
    registry = make_registry(negotiation="lenient")
    with httpx.Client(base_url=registry.url) as http:
        oci_index(http, "lenient")
    with pytest.raises(
        PullError,
        match="unsupported manifest media type and no default available: "
        + mt.OCI_INDEX.replace("+", r"\+"),
    ):
        await pull(f"{registry.host}/lenient:latest", engine="docker-1.10", host="linux/amd64")


async def test_strict_registry_gives_docker_1_10_the_amd64_child(registry: RegistryServer) -> None:
    # distribution's old-client rule: a Docker list asked for by tag without accepting lists.
    # Docker 1.10 accepts lists, so it gets the list; the rule is checked in test_api.
    with httpx.Client(base_url=registry.url) as http:
        pushed = docker_list(http, "old")
    result = await pull(f"{registry.host}/old:latest", engine="docker-1.10", host="linux/arm/v7")
    assert result.media_type == mt.DOCKER_MANIFEST_LIST
    # Docker 1.10 compares os/architecture literally and ignores variants: arm is arm.
    assert result.manifest.digest == pushed.images["armv7"].digest


# -- warnings, options, layouts ---------------------------------------------------------------


async def test_single_image_for_another_platform_warns(registry: RegistryServer) -> None:
    with httpx.Client(base_url=registry.url) as http:
        single_docker(http, "single")
    result = await pull(
        f"{registry.host}/single:latest", host="linux/amd64", platform="linux/amd64"
    )
    assert result.warnings == (
        f"image with reference {registry.host}/single:latest was found but does not match the "
        "specified platform: wanted linux/amd64, actual: linux/arm64/v8",
    )


async def test_progress(registry: RegistryServer) -> None:
    with httpx.Client(base_url=registry.url) as http:
        pushed = oci_index(http, "progress")
    events: list[PullProgress] = []
    result = await pull(
        f"{registry.host}/progress:latest", host="linux/amd64", progress=events.append
    )
    assert events[0].done == 0
    assert events[-1].finished
    assert events[-1].done == events[-1].total == result.layers[0].descriptor.size
    assert {e.digest for e in events} == {result.layers[0].digest}
    assert result.manifest.digest == pushed.images["amd64"].digest


def _sha(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


async def test_oci_layout_output(registry: RegistryServer, tmp_path: Path) -> None:
    with httpx.Client(base_url=registry.url) as http:
        pushed = docker_list(http, "layout")
    out = tmp_path / "layout"
    result = await pull(f"{registry.host}/layout:latest", host="linux/arm64/v8", output=out)
    assert result.output == out
    assert json.loads((out / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((out / "index.json").read_text())
    assert index["schemaVersion"] == 2
    [entry] = index["manifests"]
    assert entry["digest"] == pushed.images["arm64"].digest
    assert entry["mediaType"] == mt.DOCKER_MANIFEST
    assert entry["platform"] == PLATFORMS["arm64"]
    assert entry["annotations"]["org.opencontainers.image.ref.name"] == "latest"
    blobs = sorted((out / "blobs" / "sha256").iterdir())
    assert {_sha(path) for path in blobs} == {
        result.manifest.digest,
        result.config_descriptor.digest,
        *(layer.digest for layer in result.layers),
    }
    assert all(_sha(path) == "sha256:" + path.name for path in blobs)
    # Pulling another platform under another tag adds to the layout.
    second = await pull(
        f"{registry.host}/layout@{pushed.top.digest}", host="linux/amd64", output=out
    )
    manifests = json.loads((out / "index.json").read_text())["manifests"]
    assert [m["digest"] for m in manifests] == [
        pushed.images["arm64"].digest,
        second.manifest.digest,
    ]
    # umoci reads what we wrote.
    umoci = require_tool("umoci")
    listed = subprocess.run(
        [umoci, "ls", "--layout", str(out)], capture_output=True, text=True, check=True
    )
    assert listed.stdout.split() == ["latest"]


def test_pull_sync_from_sync_code(registry: RegistryServer) -> None:
    with httpx.Client(base_url=registry.url) as http:
        pushed = nested(http, "sync")
    result = pull_sync(f"{registry.host}/sync:latest", host="linux/arm64/v8", engine="moby")
    assert result.manifest.digest == pushed.images["arm64"].digest
    assert [step.digest for step in result.steps] == [
        pushed.top.digest,
        pushed.images["inner"].digest,
    ]


async def test_pull_sync_inside_a_running_loop(registry: RegistryServer) -> None:
    with httpx.Client(base_url=registry.url) as http:
        docker_list(http, "sync")
    # Blocks this loop, but runs on its own: no "loop already running".
    result = pull_sync(f"{registry.host}/sync:latest", host="linux/amd64")
    assert result.platform == Platform("linux", "amd64")
    assert asyncio.get_running_loop().is_running()


def test_pull_sync_with_a_client(registry: RegistryServer) -> None:
    with httpx.Client(base_url=registry.url) as http:
        docker_list(http, "sync")
    client = RegistryClient()
    first = pull_sync(f"{registry.host}/sync:latest", host="linux/amd64", connection=client)
    second = pull_sync(f"{registry.host}/sync:latest", host="linux/arm/v7", connection=client)
    assert first.manifest.digest != second.manifest.digest
    assert len(client.trace) == len(first.trace) + len(second.trace)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        pytest.param({"engine": "docker-2"}, ValueError, "unknown engine 'docker-2'", id="engine"),
        pytest.param(
            {"platform": "linux/*"}, PullError, "wildcards not yet supported", id="platform"
        ),
        pytest.param({"host": "a/b/c/d"}, PullError, "cannot parse platform specifier", id="host"),
    ],
)
async def test_bad_options(
    registry: RegistryServer, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        await pull(f"{registry.host}/x:latest", **options)


async def test_bad_reference() -> None:
    with pytest.raises(PullError, match="must be lowercase"):
        await pull("127.0.0.1:1/Upper:latest")


async def test_missing_tag(registry: RegistryServer) -> None:
    with pytest.raises(NotFoundError) as caught:
        await pull(f"{registry.host}/nothing:latest", engine="containers-image")
    assert caught.value.code == "NAME_UNKNOWN"
    assert isinstance(caught.value, RegistryClientError)


# -- TLS and authentication -------------------------------------------------------------------


async def test_pull_over_tls() -> None:
    with RegistryServer(tls=True) as server:
        trust = ssl.create_default_context(cafile=str(server.ca_path))
        with httpx.Client(base_url=server.url, verify=trust) as http:
            pushed = docker_list(http, "tls")
        result = await pull(
            f"{server.host}/tls:latest",
            host="linux/amd64",
            connection=HostConfig(ca_file=str(server.ca_path)),
        )
        insecure = await pull(
            f"{server.host}/tls:latest", host="linux/amd64", connection=HostConfig(insecure=True)
        )
    assert result.manifest.digest == insecure.manifest.digest == pushed.images["amd64"].digest
    assert result.trace[0].url.startswith("https://")


@pytest.mark.parametrize("mode", ["token", "basic"])
async def test_pull_with_credentials(mode: str) -> None:
    auth = pytest.importorskip("fakeregistry.registry.auth")
    config = auth.AuthConfig(mode=mode, users=auth.Users({"alice": "secret"}))
    with RegistryServer(auth=config) as server:
        with httpx.Client(base_url=server.url) as http:
            if mode == "token":
                token = http.get(
                    "/token",
                    params={"service": "fakeregistry", "scope": "repository:private:pull,push"},
                    auth=("alice", "secret"),
                ).json()["token"]
                http.headers["Authorization"] = f"Bearer {token}"
            else:
                http.auth = ("alice", "secret")
            pushed = docker_list(http, "private")
        with pytest.raises(RegistryClientError) as caught:
            await pull(f"{server.host}/private:latest", host="linux/amd64")
        assert getattr(caught.value, "status", None) == 401
        result = await pull(
            f"{server.host}/private:latest",
            host="linux/amd64",
            connection=HostConfig(username="alice", password="secret"),
        )
    assert result.manifest.digest == pushed.images["amd64"].digest
    statuses = [t.status for t in result.trace]
    assert statuses[0] == 401
    assert all(s == 200 for s in statuses[1:])
