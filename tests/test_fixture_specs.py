"""The manifest-tool specs in ``fixtures/specs/`` (see ``fixtures/README.md``): each loads with
``load_spec`` as manifest-tool v2 reads it (docs/platform-rules.md A11), and each loadable one
is pushed to a fresh registry (``myprivreg:5000`` replaced by it) and pulls back per platform."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from fakeregistry import build_image
from fakeregistry.engine.selection import select_manifest
from fakeregistry.rules.model import parse_manifest
from fakeregistry.tools.manifesttool import (
    ManifestToolError,
    SpecError,
    load_spec,
    push_manifest_list_sync,
)
from tests.conftest import RegistryFactory
from tests.fixture_files import SPECS, spec_files

README_HOST = "myprivreg:5000"
WIN2019 = "10.0.17763.6414"
WIN2016 = "10.0.14393.7428"

# What a member image is built for when its config, not the spec, supplies (part of) the
# platform: manifest-tool copies os.version/os.features/variant from the config (A11 step 5).
BUILT_FOR = {
    "windows-amd64-ltsc2019-v2.1.9": f"windows({WIN2019})/amd64",
    "windows-amd64-ltsc2016-v2.1.9": f"windows({WIN2016})/amd64",
    "2.0-amd64": "linux/amd64",
    "2.0-arm64": "linux/arm64/v8",
}


@dataclass(frozen=True)
class SpecCase:
    """What loading and pushing a spec file gives: the spec's platforms, the listed platforms,
    the tags, or the error of loading (``refused``) or of a Docker-type push (``docker_error``)."""

    spec_platforms: tuple[str, ...] = ()
    listed: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    list_types: tuple[str, ...] = ("docker", "oci")
    refused: str = ""
    docker_error: str = ""
    annotations: dict[str, str] = field(default_factory=dict)


LINUX_RELEASE = (
    "linux/ppc64le", "linux/amd64", "linux/386", "linux/s390x", "linux/riscv64",
    "linux/arm64/v8", "linux/arm/v7", "linux/arm/v6",
)  # fmt: skip

CASES = {
    "manifest-tool-readme.yaml": SpecCase(
        spec_platforms=("linux/arm64", "linux/amd64"),
        listed=("linux/arm64", "linux/amd64"),
        tags=("latest", "1.0.0", "1.0", "1"),
    ),
    # v2 decodes into image-spec's Platform, which has no `features`: manifest-tool drops it
    # silently; we refuse the key (ours, see manifesttool._NOT_READ).
    "manifest-tool-readme-v1-features.yaml": SpecCase(refused='unknown key "features"'),
    # The two Windows entries differ only by the os.version their configs carry.
    "manifest-tool-pushml.yaml": SpecCase(
        spec_platforms=(*LINUX_RELEASE, "windows/amd64", "windows/amd64"),
        listed=(*LINUX_RELEASE, f"windows({WIN2019})/amd64", f"windows({WIN2016})/amd64"),
        tags=("v2.1.9", "latest"),
    ),
    "windows-osversion.yaml": SpecCase(
        spec_platforms=(
            "linux/amd64",
            "windows(10.0.17763.6893)/amd64",
            "windows(10.0.20348.3207)/amd64",
            "windows(10.0.26100.3194+win32k)/amd64",
        ),
        listed=(
            "linux/amd64",
            "windows(10.0.17763.6893)/amd64",
            "windows(10.0.20348.3207)/amd64",
            "windows(10.0.26100.3194+win32k)/amd64",
        ),
        tags=("1.0",),
    ),
    # Members without platform: taken from their configs. Annotations need --type oci.
    "oci-index-annotations.yaml": SpecCase(
        spec_platforms=("unknown", "unknown"),
        listed=("linux/amd64", "linux/arm64/v8"),
        tags=("2.0", "2", "latest"),
        list_types=("oci",),
        docker_error="does not support annotations; use --type oci",
        annotations={
            "org.opencontainers.image.title": "Some Image",
            "org.opencontainers.image.source": "https://github.com/example/someimage",
        },
    ),
}

FILES = spec_files()


def test_every_spec_has_a_case() -> None:
    assert {p.name for p in FILES} == set(CASES)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_load(path: Path) -> None:
    case = CASES[path.name]
    if case.refused:
        with pytest.raises(SpecError, match=case.refused) as caught:
            load_spec(path)
        assert str(caught.value).startswith(f"{path}:")
        return
    spec = load_spec(path)
    assert spec.source == str(path)
    assert spec.warnings == ()
    assert tuple(m.platform.format_all() for m in spec.manifests) == case.spec_platforms
    assert spec.image.startswith(README_HOST + "/")
    assert all(m.image.startswith(README_HOST + "/") for m in spec.manifests)
    assert dict(spec.annotations) == case.annotations


def _upload(http: httpx.Client, ref: str, platform: str) -> str:
    """Build a small image for *platform* and push it to *ref* (``host/repo:tag``)."""
    _, _, path = ref.partition("/")
    repository, _, tag = path.rpartition(":")
    image = build_image(platform, seed=ref)
    for blob in image.blobs:
        response = http.post(
            f"/v2/{repository}/blobs/uploads/", params={"digest": blob.digest}, content=blob.data
        )
        assert response.status_code == 201, response.text
    response = http.put(
        f"/v2/{repository}/manifests/{tag}",
        content=image.manifest,
        headers={"Content-Type": image.media_type},
    )
    assert response.status_code == 201, response.text
    return image.digest


PUSHES = [
    pytest.param(path, list_type, id=f"{path.name}-{list_type}")
    for path in FILES
    if not CASES[path.name].refused
    for list_type in ("docker", "oci")
]


@pytest.mark.parametrize(("path", "list_type"), PUSHES)
def test_push(path: Path, list_type: str, make_registry: RegistryFactory, tmp_path: Path) -> None:
    case = CASES[path.name]
    server = make_registry()
    local = tmp_path / path.name
    local.write_text(path.read_text().replace(README_HOST, server.host))
    spec = load_spec(local)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        digests = []
        for member in spec.manifests:
            tag = member.image.rpartition(":")[2]
            platform = BUILT_FOR.get(tag, member.platform.format_all())
            digests.append(_upload(http, member.image, platform))

        if list_type not in case.list_types:
            with pytest.raises(ManifestToolError, match=case.docker_error):
                push_manifest_list_sync(local, media_type="docker")
            return
        result = push_manifest_list_sync(
            local, media_type="oci" if list_type == "oci" else "docker"
        )

        assert result.tags == case.tags
        listed = tuple(e.platform.format_all() for e in result.entries if e.platform is not None)
        assert listed == case.listed
        assert [e.descriptor["digest"] for e in result.entries] == digests
        document = json.loads(result.manifest)
        assert document.get("annotations", {}) == case.annotations
        parse_manifest(result.manifest, result.media_type)
        repository = spec.image.partition("/")[2].rpartition(":")[0]
        for tag in result.tags:
            got = http.get(
                f"/v2/{repository}/manifests/{tag}", headers={"Accept": result.media_type}
            )
            assert got.content == result.manifest

    # Every listed platform, as a host, pulls its own member (moby, Only(host), A4/A8).
    for platform, digest in zip(case.listed, digests, strict=True):
        host = platform.replace("+win32k", "")
        assert select_manifest(result.manifest, host, "moby").digest == digest, platform


def test_specs_folder_is_data_only() -> None:
    assert not list(SPECS.parent.rglob("*.py"))
