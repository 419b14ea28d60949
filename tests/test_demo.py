"""``fakeregistry serve --demo``: the same digests on every run, and what skopeo and the simulated
pull fetch from it, checked against :func:`select_manifest` computed here."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from fakeregistry.engine.pull import pull_sync
from fakeregistry.engine.selection import ENGINES, NoMatchingManifest, select_manifest
from fakeregistry.rules import mediatypes as mt
from fakeregistry.tools.demo import PLATFORMS, demo_content
from fakeregistry.trust import load_public_keys
from fakeregistry.trust.verify import signatures_for
from tests.conftest import require_tool
from tests.serve import serve
from tests.skopeo import Skopeo

ACCEPT = ", ".join(sorted(mt.MANIFEST_TYPES))
TAGGED = [
    ("demo/multi-arch", "oci-index"),
    ("demo/multi-arch", "manifest-list"),
    ("demo/nested", "latest"),
    ("demo/single", "latest"),
    ("demo/signed", "1.0"),
]


def served_digests(url: str) -> dict[str, str]:
    """``{repo:tag: digest}`` of every tag of every repository, as the registry answers."""
    out: dict[str, str] = {}
    with httpx.Client(base_url=url, headers={"Accept": ACCEPT}) as client:
        for repository in client.get("/v2/_catalog").json()["repositories"]:
            for tag in client.get(f"/v2/{repository}/tags/list").json()["tags"]:
                answer = client.get(f"/v2/{repository}/manifests/{tag}")
                assert answer.status_code == 200
                out[f"{repository}:{tag}"] = answer.headers["Docker-Content-Digest"]
    return out


def test_demo_has_the_same_digests_on_every_run(tmp_path: Path) -> None:
    with serve("--demo", "--demo-keys", str(tmp_path / "a")) as url:
        first = served_digests(url)
    with serve("--demo", "--demo-keys", str(tmp_path / "b")) as url:
        second = served_digests(url)
    assert first == second
    assert {f"{r}:{t}" for r, t in TAGGED} <= set(first)
    assert sum(tag.endswith(".sig") for tag in first) == 3  # the index and its two images
    assert (tmp_path / "a" / "cosign.pub").read_bytes() == (
        tmp_path / "b" / "cosign.pub"
    ).read_bytes()
    built = {f"{i.repository}:{i.tag}": i.item.digest for i in demo_content() if i.tag}
    assert built == first


def test_demo_content_covers_the_issue() -> None:
    items = {(i.repository, i.tag): i.item for i in demo_content()}
    oci = json.loads(items["demo/multi-arch", "oci-index"].manifest)
    docker = json.loads(items["demo/multi-arch", "manifest-list"].manifest)
    assert oci["mediaType"] == mt.OCI_INDEX
    assert docker["mediaType"] == mt.DOCKER_MANIFEST_LIST
    platforms = [e["platform"] for e in docker["manifests"]]
    assert [e["platform"] for e in oci["manifests"][0::2]] == platforms
    assert len(platforms) == len(PLATFORMS) == 7
    assert {"os": "windows", "architecture": "amd64", "os.version": "10.0.20348.2340"} in platforms
    attestations = oci["manifests"][1::2]
    assert all(
        e["annotations"]["vnd.docker.reference.type"] == "attestation-manifest"
        and e["annotations"]["vnd.docker.reference.digest"] == image["digest"]
        for e, image in zip(attestations, oci["manifests"][0::2], strict=True)
    )
    nested = json.loads(items["demo/nested", "latest"].manifest)
    assert {e["mediaType"] for e in nested["manifests"]} == {mt.OCI_INDEX}
    sbom = next(i.item for i in demo_content() if i.tag is None)
    assert json.loads(sbom.manifest)["subject"]["digest"] == items["demo/single", "latest"].digest


async def test_demo_signatures_verify_with_the_printed_key(tmp_path: Path) -> None:
    with serve("--demo", "--demo-keys", str(tmp_path)) as url:
        host = url.split("://")[1].rstrip("/")
        key = load_public_keys(tmp_path / "cosign.pub")
        rows = await signatures_for(f"{host}/demo/signed:1.0", keys=key)
        assert [(r.format, r.verified) for r in rows] == [("cosign", True)]
        index = httpx.get(
            f"{url}v2/demo/signed/manifests/1.0", headers={"Accept": mt.OCI_INDEX}
        ).json()
        for entry in index["manifests"]:
            rows = await signatures_for(f"{host}/demo/signed@{entry['digest']}", keys=key)
            assert [(r.verified, r.bound) for r in rows] == [(True, entry["digest"])]


def expected_pick(index: bytes, host: str, engine: str) -> str | None:
    """What select_manifest says *engine* pulls from a one-level index (None: refusal)."""
    try:
        return select_manifest(index, host, engine).digest
    except NoMatchingManifest:
        return None


HOSTS = ["linux/arm/v6", "linux/arm/v7", "linux/arm64/v8", "linux/amd64/v3", "linux/s390x"]


@pytest.mark.parametrize("tag", ["oci-index", "manifest-list"])
def test_simulated_pull_from_demo(tag: str) -> None:
    with serve("--demo") as url:
        host = url.split("://")[1].rstrip("/")
        accept = mt.OCI_INDEX if tag == "oci-index" else mt.DOCKER_MANIFEST_LIST
        index = httpx.get(
            f"{url}v2/demo/multi-arch/manifests/{tag}", headers={"Accept": accept}
        ).content
        for platform in HOSTS:
            for engine in ENGINES:
                if engine == "docker-1.10" and tag == "oci-index":
                    continue  # it sends no OCI types: 404 under strict negotiation
                wanted = expected_pick(index, platform, engine)
                ref = f"{host}/demo/multi-arch:{tag}"
                if wanted is None:
                    with pytest.raises(NoMatchingManifest):
                        pull_sync(ref, host=platform, engine=engine)
                    continue
                result = pull_sync(ref, host=platform, engine=engine)
                assert result.manifest.digest == wanted, (platform, engine)
                # The image really is that platform's: its config says so.
                assert result.config["architecture"] == platform.split("/")[1]


@pytest.mark.interop
def test_skopeo_pulls_from_demo(tmp_path: Path) -> None:
    with serve("--demo") as url:
        host = url.split("://")[1].rstrip("/")
        skopeo = Skopeo(require_tool("skopeo"), tmp_path / "skopeo", {host})
        index = skopeo.inspect_raw(f"docker://{host}/demo/multi-arch:oci-index")
        layout = tmp_path / "layout"
        # The whole index, attestations and all, byte for byte.
        digest = skopeo.copy(
            f"docker://{host}/demo/multi-arch:oci-index", f"oci:{layout}:all", "--all"
        )
        assert digest == demo_digest("demo/multi-arch", "oci-index")
        # One platform, as containers/image picks it for a Raspberry Pi Zero.
        flags = ("--override-os", "linux", "--override-arch", "arm", "--override-variant", "v6")
        for tag in ("oci-index", "manifest-list"):
            source = f"docker://{host}/demo/multi-arch:{tag}"
            listed = skopeo.inspect_raw(source)
            # dir: keeps a Docker manifest as it is (oci: would convert it to OCI).
            picked = skopeo.copy(source, f"dir:{tmp_path / tag}", *flags)
            assert picked == select_manifest(listed, "linux/arm/v6", "containers-image").digest
        assert json.loads(index)["mediaType"] == mt.OCI_INDEX
        # The single image and the signed index copy as they are.
        for repository, tag in (("demo/single", "latest"), ("demo/signed", "1.0")):
            copied = skopeo.copy(
                f"docker://{host}/{repository}:{tag}", f"oci:{layout}:{tag}", "--all"
            )
            assert copied == demo_digest(repository, tag)


def demo_digest(repository: str, tag: str) -> str:
    return next(i.item.digest for i in demo_content() if (i.repository, i.tag) == (repository, tag))
