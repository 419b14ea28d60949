"""OCI layouts and archives in and out: ``fakeregistry export`` read back by skopeo and umoci,
and ``serve --seed`` from a layout skopeo wrote, from ``docker save``-format tarballs (one built
here by the format, one written by ``skopeo copy docker-archive:``) and from an OCI tarball."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import httpx
import pytest

from fakeregistry import RegistryServer
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import REF_NAME_ANNOTATION
from fakeregistry.tools.archives import DOCKER_TAR_LAYER
from tests.conftest import require_tool
from tests.content import digest_of, push_artifact, push_image, push_index
from tests.serve import serve
from tests.skopeo import Skopeo

ALL = {"Accept": ", ".join(sorted(mt.MANIFEST_TYPES))}


def _export(*args: str) -> str:
    command = [sys.executable, "-m", "fakeregistry", "export", "--plain-http", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _umoci(*args: str) -> str:
    result = subprocess.run(
        [require_tool("umoci"), *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def source(registry: RegistryServer) -> dict[str, str]:
    with httpx.Client(base_url=registry.url) as http:
        amd = push_image(http, "demo", None, architecture="amd64")
        arm = push_image(http, "demo", None, architecture="arm64", variant="v8")
        index = push_index(
            http,
            "demo",
            "multi",
            [
                (amd, {"os": "linux", "architecture": "amd64"}),
                (arm, {"os": "linux", "architecture": "arm64", "variant": "v8"}),
            ],
        )
        signature = push_artifact(http, "demo", index, "application/vnd.example.sig")
        single = push_image(http, "single", "v1", seed="single")
    return {
        "index": index.digest,
        "amd": amd.digest,
        "arm": arm.digest,
        "signature": signature.digest,
        "single": single.digest,
        "host": registry.host,
    }


def test_export_is_read_by_skopeo_and_umoci(
    tmp_path: Path, source: dict[str, str], registry: RegistryServer
) -> None:
    out = tmp_path / "layout"
    printed = _export(
        f"{registry.host}/demo:multi", f"{registry.host}/single:v1", "--referrers", "-o", str(out)
    )
    assert "Exported multi, v1" in printed
    index = json.loads((out / "index.json").read_bytes())["manifests"]
    names = {(m.get("annotations") or {}).get(REF_NAME_ANNOTATION): m["digest"] for m in index}
    assert names == {"multi": source["index"], "v1": source["single"], None: source["signature"]}
    for digest in (source["amd"], source["arm"], source["signature"]):
        assert (out / "blobs" / "sha256" / digest.split(":")[1]).is_file()
    skopeo = Skopeo(require_tool("skopeo"), tmp_path / "skopeo", set())
    raw = skopeo.run("inspect", "--raw", f"oci:{out}:multi").stdout
    assert digest_of(raw) == source["index"]
    copied = tmp_path / "copied"
    skopeo.run("copy", "--all", "--preserve-digests", f"oci:{out}:multi", f"oci:{copied}:x")
    assert sorted(_umoci("ls", "--layout", str(out)).split()) == ["multi", "v1"]
    stat = json.loads(_umoci("stat", "--image", f"{out}:v1", "--json"))
    assert stat["history"] is None or isinstance(stat["history"], list)


def test_export_to_a_tarball_seeds_a_registry(
    tmp_path: Path, source: dict[str, str], registry: RegistryServer
) -> None:
    archive = tmp_path / "demo.tar"
    _export(f"{registry.host}/demo:multi", "-o", str(archive))
    with tarfile.open(archive) as tar:
        assert {"oci-layout", "index.json"} <= set(tar.getnames())
    skopeo = Skopeo(require_tool("skopeo"), tmp_path / "skopeo", set())
    raw = skopeo.run("inspect", "--raw", f"oci-archive:{archive}:multi").stdout
    assert digest_of(raw) == source["index"]
    with serve("--seed", f"{archive}=again") as url:
        response = httpx.get(f"{url}v2/again/manifests/multi", headers=ALL)
        assert response.headers["Docker-Content-Digest"] == source["index"]
        child = httpx.get(f"{url}v2/again/manifests/{source['arm']}", headers=ALL)
        assert child.status_code == 200


def test_seed_from_a_layout_skopeo_wrote(
    tmp_path: Path, source: dict[str, str], registry: RegistryServer
) -> None:
    skopeo = Skopeo(require_tool("skopeo"), tmp_path / "skopeo", {registry.host})
    layout = tmp_path / "from-skopeo"
    skopeo.copy(
        f"docker://{registry.host}/demo:multi",
        f"oci:{layout}:multi",
        "--all",
        "--preserve-digests",
    )
    with serve("--seed", str(layout), "--seed", f"{layout}=named/copy") as url:
        for repo in ("from-skopeo", "named/copy"):
            response = httpx.get(f"{url}v2/{repo}/manifests/multi", headers=ALL)
            assert response.headers["Docker-Content-Digest"] == source["index"], repo
            child = httpx.get(f"{url}v2/{repo}/manifests/{source['amd']}", headers=ALL)
            assert child.status_code == 200


def _docker_save(path: Path) -> tuple[bytes, list[bytes]]:
    """A ``docker save`` tarball (the format before Docker 25): manifest.json, repositories, the
    config as ``<hex>.json`` and each layer as ``<id>/layer.tar``."""
    layers = []
    for name in ("hello.txt", "world.txt"):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as layer:
            info = tarfile.TarInfo(name)
            info.size = 5
            layer.addfile(info, io.BytesIO(b"hello"))
        layers.append(buffer.getvalue())
    diff_ids = [digest_of(layer) for layer in layers]
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    ).encode()
    config_hex = hashlib.sha256(config).hexdigest()
    ids = [digest.split(":")[1] for digest in diff_ids]
    manifest = [
        {
            "Config": f"{config_hex}.json",
            "RepoTags": ["app:1.0", "localhost:5000/team/app:latest"],
            "Layers": [f"{i}/layer.tar" for i in ids],
        }
    ]
    files = {
        "manifest.json": json.dumps(manifest).encode(),
        "repositories": json.dumps({"app": {"1.0": ids[-1]}}).encode(),
        f"{config_hex}.json": config,
        **{f"{i}/layer.tar": layer for i, layer in zip(ids, layers, strict=True)},
        **{f"{i}/VERSION": b"1.0" for i in ids},
    }
    with tarfile.open(path, "w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return config, layers


def test_seed_from_a_docker_save_tarball(tmp_path: Path) -> None:
    archive = tmp_path / "app.tar"
    config, layers = _docker_save(archive)
    with serve("--seed", str(archive)) as url:
        for repo, tag in (("app", "1.0"), ("team/app", "latest")):
            response = httpx.get(f"{url}v2/{repo}/manifests/{tag}", headers=ALL)
            assert response.status_code == 200, (repo, response.text)
            manifest = response.json()
            assert manifest["mediaType"] == mt.DOCKER_MANIFEST
            assert manifest["config"]["digest"] == digest_of(config)
            assert [x["digest"] for x in manifest["layers"]] == [digest_of(x) for x in layers]
            assert {x["mediaType"] for x in manifest["layers"]} == {DOCKER_TAR_LAYER}
            blob = httpx.get(f"{url}v2/{repo}/blobs/{digest_of(layers[0])}")
            assert blob.content == layers[0]


def test_seed_from_a_docker_archive_skopeo_wrote(
    tmp_path: Path, source: dict[str, str], registry: RegistryServer
) -> None:
    skopeo = Skopeo(require_tool("skopeo"), tmp_path / "skopeo", {registry.host})
    archive = tmp_path / "saved.tar"
    skopeo.copy(f"docker://{registry.host}/single:v1", f"docker-archive:{archive}:saved/app:v1")
    with serve("--seed", str(archive)) as url:
        response = httpx.get(f"{url}v2/saved/app/manifests/v1", headers=ALL)
        assert response.status_code == 200, response.text
        config = response.json()["config"]["digest"]
        assert httpx.get(f"{url}v2/saved/app/blobs/{config}").status_code == 200
        skopeo = Skopeo(require_tool("skopeo"), tmp_path / "skopeo2", {url.split("/")[2]})
        skopeo.copy(f"docker://{url.split('/')[2]}/saved/app:v1", f"oci:{tmp_path / 'back'}:v1")


def test_seed_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "not-a-layout").mkdir()
    command = [sys.executable, "-m", "fakeregistry", "serve", "--port", "0"]
    result = subprocess.run(
        [*command, "--seed", str(tmp_path / "not-a-layout")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "--seed" in result.stderr
    assert "oci-layout" in result.stderr
    assert "Traceback" not in result.stderr
