"""The ``oras`` Python client (PyPI ``oras``) against the registry: artifacts pushed with
annotations and a config, pulled back byte-identical, tags listed and deleted, and a referrer
pushed with a subject."""

from __future__ import annotations

import hashlib
import importlib
import json
import random
from dataclasses import asdict
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from fakeregistry import RegistryServer
from fakeregistry.rules import mediatypes as mt
from tests.conftest import REQUIRE_CLIENTS

pytestmark = pytest.mark.interop

CONFIG_TYPE = "application/vnd.example.config.v1+json"
SBOM_CONFIG_TYPE = "application/vnd.example.sbom.v1+json"
TITLE = "org.opencontainers.image.title"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _require_module(name: str) -> ModuleType:
    """Import ``name``, or skip (fail under FAKEREGISTRY_REQUIRE_CLIENTS=1) when missing."""
    try:
        return importlib.import_module(name)
    except ImportError:
        message = f"the {name} package is not installed (PyPI; pip install -e '.[test]')"
        if REQUIRE_CLIENTS:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def oras(registry: RegistryServer) -> Any:
    """An ``oras.client.OrasClient`` on the registry over plain HTTP."""
    client_module = _require_module("oras.client")
    return client_module.OrasClient(hostname=registry.host, insecure=True)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory: oras pushes only files below it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _files(directory: Path, seed: int) -> dict[str, bytes]:
    """A small text file and a binary one in ``directory``; name -> content."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    contents = {
        "notes.txt": f"artifact {seed}\n".encode() * 20,
        "data.bin": rng.randbytes(5000),
    }
    for name, content in contents.items():
        (directory / name).write_bytes(content)
    return contents


def _manifest(http: httpx.Client, repo: str, reference: str) -> httpx.Response:
    response = http.get(f"/v2/{repo}/manifests/{reference}", headers={"Accept": mt.OCI_MANIFEST})
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize(
    "chunked",
    [pytest.param(False, id="monolithic"), pytest.param(True, id="chunked")],
)
def test_push_pull_files(
    chunked: bool, oras: Any, registry: RegistryServer, http: httpx.Client, workdir: Path
) -> None:
    contents = _files(workdir / "in", seed=1)
    paths = [str(workdir / "in" / name) for name in contents]
    config = workdir / "config.json"
    config.write_bytes(b'{"kind": "example"}')
    annotation_file = workdir / "annotations.json"
    annotation_file.write_text(
        json.dumps(
            {
                "$manifest": {"from-file": "yes"},
                "$config": {"config-note": "hello"},
                paths[1]: {"layer-note": "binary"},
            }
        )
    )
    target = f"{registry.host}/interop/files:v1"

    response = oras.push(
        files=paths,
        target=target,
        manifest_config=f"{config}:{CONFIG_TYPE}",
        manifest_annotations={"holiday": "Halloween"},
        annotation_file=str(annotation_file),
        do_chunked=chunked,
        chunk_size=1024,
    )

    assert response.status_code == 201
    stored = _manifest(http, "interop/files", "v1")
    assert stored.headers["Docker-Content-Digest"] == response.headers["Docker-Content-Digest"]
    assert _digest(stored.content) == response.headers["Docker-Content-Digest"]
    manifest = stored.json()
    assert manifest["mediaType"] == mt.OCI_MANIFEST
    assert manifest["annotations"] == {"from-file": "yes", "holiday": "Halloween"}
    assert manifest["config"]["mediaType"] == CONFIG_TYPE
    assert manifest["config"]["digest"] == _digest(config.read_bytes())
    assert manifest["config"]["annotations"] == {"config-note": "hello"}
    assert [layer[TITLE] for layer in (m["annotations"] for m in manifest["layers"])] == list(
        contents
    )
    assert manifest["layers"][1]["annotations"]["layer-note"] == "binary"
    for layer, content in zip(manifest["layers"], contents.values(), strict=True):
        assert layer["digest"] == _digest(content)
        assert http.get(f"/v2/interop/files/blobs/{layer['digest']}").content == content
    config_blob = http.get(f"/v2/interop/files/blobs/{manifest['config']['digest']}")
    assert config_blob.content == config.read_bytes()

    pulled = oras.pull(target=target, outdir=str(workdir / "out"))
    assert sorted(pulled) == sorted(str(workdir / "out" / name) for name in contents)
    for name, content in contents.items():
        assert (workdir / "out" / name).read_bytes() == content


def test_push_pull_directory(oras: Any, registry: RegistryServer, workdir: Path) -> None:
    contents = _files(workdir / "tree" / "nested", seed=2)
    target = f"{registry.host}/interop/directory:v1"

    assert oras.push(files=[str(workdir / "tree")], target=target).status_code == 201

    manifest = oras.get_manifest(target)
    assert manifest["layers"][0]["mediaType"] == mt.OCI_LAYER_GZIP
    pulled = oras.pull(target=target, outdir=str(workdir / "out"))
    assert pulled == [str(workdir / "out" / "tree")]
    for name, content in contents.items():
        assert (workdir / "out" / "tree" / "nested" / name).read_bytes() == content


def test_pull_by_digest(oras: Any, registry: RegistryServer, workdir: Path) -> None:
    contents = _files(workdir / "in", seed=3)
    response = oras.push(
        files=[str(workdir / "in" / name) for name in contents],
        target=f"{registry.host}/interop/bydigest:v1",
    )
    digest = response.headers["Docker-Content-Digest"]

    pulled = oras.pull(target=f"{registry.host}/interop/bydigest@{digest}", outdir="out")

    assert len(pulled) == len(contents)
    for name, content in contents.items():
        assert (workdir / "out" / name).read_bytes() == content


def test_tags(oras: Any, registry: RegistryServer, workdir: Path) -> None:
    _files(workdir / "in", seed=4)
    repo = f"{registry.host}/interop/tags"
    tags = [f"v{i}" for i in range(1, 6)]
    for tag in tags:
        # Distinct manifests, so deleting one tag's manifest leaves the others.
        oras.push(
            files=[str(workdir / "in" / "notes.txt")],
            target=f"{repo}:{tag}",
            manifest_annotations={"tag": tag},
        )

    assert oras.get_tags(repo) == tags
    # N asks for ?n=N (oras follows Link headers only while it has fewer tags than asked).
    assert oras.get_tags(repo, N=2) == tags[:2]
    assert oras.get_tags(repo, N=4) == tags[:4]

    assert oras.delete_tags(repo, "v3") == ["v3"]
    assert oras.delete_tags(repo, "nope") == []
    assert oras.get_tags(repo) == ["v1", "v2", "v4", "v5"]


def test_subject(oras: Any, registry: RegistryServer, http: httpx.Client, workdir: Path) -> None:
    oci = _require_module("oras.oci")
    contents = _files(workdir / "in", seed=5)
    repo = "interop/subject"
    image = oras.push(files=[str(workdir / "in" / "data.bin")], target=f"{registry.host}/{repo}:v1")
    subject_digest = image.headers["Docker-Content-Digest"]
    subject_bytes = _manifest(http, repo, subject_digest).content
    subject = oci.Subject(mt.OCI_MANIFEST, subject_digest, len(subject_bytes))
    # oras computes a subject by re-serialising the manifest: it only matches because the
    # registry returns the exact bytes oras pushed.
    assert oci.Subject.from_manifest(oras.get_manifest(f"{registry.host}/{repo}:v1")) == subject

    config = workdir / "sbom-config.json"
    config.write_bytes(b"{}")
    referrer = oras.push(
        files=[str(workdir / "in" / "notes.txt")],
        target=f"{registry.host}/{repo}:sbom",
        manifest_config=f"{config}:{SBOM_CONFIG_TYPE}",
        manifest_annotations={"kind": "sbom"},
        subject=subject,
    )

    assert referrer.status_code == 201
    referrer_digest = referrer.headers["Docker-Content-Digest"]
    assert referrer.headers["OCI-Subject"] == subject_digest
    assert oras.get_manifest(f"{registry.host}/{repo}:sbom")["subject"] == asdict(subject)
    listing = http.get(f"/v2/{repo}/referrers/{subject_digest}")
    assert listing.status_code == 200
    assert listing.headers["Content-Type"].startswith(mt.OCI_INDEX)
    [descriptor] = listing.json()["manifests"]
    assert descriptor["digest"] == referrer_digest
    assert descriptor["artifactType"] == SBOM_CONFIG_TYPE
    assert descriptor["annotations"] == {"kind": "sbom"}
    filtered = http.get(
        f"/v2/{repo}/referrers/{subject_digest}", params={"artifactType": "application/other"}
    )
    assert filtered.json()["manifests"] == []

    pulled = oras.pull(target=f"{registry.host}/{repo}@{referrer_digest}", outdir="out")
    assert pulled == [str(workdir / "out" / "notes.txt")]
    assert (workdir / "out" / "notes.txt").read_bytes() == contents["notes.txt"]
