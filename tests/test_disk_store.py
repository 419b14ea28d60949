"""The disk store (``RegistryServer(storage_dir=...)``, ``serve --storage``): what is on disk, and
that it survives a restart and reads as an OCI image layout for skopeo and umoci.

The API itself is tested over both stores by tests/test_api.py, tests/test_robustness.py and
the conformance suite; the kill-and-restart test is tests/test_disk_crash.py.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from fakeregistry import RegistryServer
from fakeregistry.registry.disk import DiskStorage, FileBlob
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import REF_NAME_ANNOTATION
from tests.conftest import require_tool
from tests.content import digest_of, push_artifact, push_blob, push_image, push_index, push_manifest
from tests.skopeo import Skopeo


def _server(root: Path) -> RegistryServer:
    return RegistryServer(storage_dir=root).start()


def _index(root: Path, repo: str) -> list[dict[str, Any]]:
    document = json.loads((root / repo / "index.json").read_bytes())
    manifests: list[dict[str, Any]] = document["manifests"]
    return manifests


def test_each_repository_is_an_oci_layout(tmp_path: Path) -> None:
    server = _server(tmp_path)
    try:
        with httpx.Client(base_url=server.url) as http:
            pushed = push_image(http, "team/app", "v1")
            push_manifest(http, "team/app", "stable", pushed.body, pushed.media_type)
            untagged = push_image(http, "team/app", None, seed="other")
    finally:
        server.stop()
    layout = tmp_path / "team" / "app"
    assert json.loads((layout / "oci-layout").read_bytes()) == {"imageLayoutVersion": "1.0.0"}
    entries = _index(tmp_path, "team/app")
    by_tag = {(e.get("annotations") or {}).get(REF_NAME_ANNOTATION): e["digest"] for e in entries}
    assert by_tag["v1"] == by_tag["stable"] == pushed.digest
    assert len(entries) == 3  # one entry per tag, one for the untagged manifest
    assert by_tag[None] == untagged.digest
    for digest in (pushed.digest, *pushed.blobs):
        algorithm, _, encoded = digest.partition(":")
        assert digest_of((layout / "blobs" / algorithm / encoded).read_bytes()) == digest
    assert list((tmp_path / ".uploads").iterdir()) == []


def test_content_survives_a_restart(tmp_path: Path) -> None:
    server = _server(tmp_path)
    try:
        with httpx.Client(base_url=server.url) as http:
            amd = push_image(http, "multi", None, architecture="amd64")
            arm = push_image(http, "multi", None, architecture="arm64")
            index = push_index(
                http,
                "multi",
                "latest",
                [
                    (amd, {"os": "linux", "architecture": "amd64"}),
                    (arm, {"os": "linux", "architecture": "arm64"}),
                ],
            )
            signature = push_artifact(http, "multi", index, "application/vnd.example.sig")
            blob = push_blob(http, "only-blobs", b"a lone blob")
            http.delete(f"/v2/multi/manifests/{arm.digest}").raise_for_status()
    finally:
        server.stop()
    server = _server(tmp_path)
    try:
        with httpx.Client(base_url=server.url) as http:
            assert http.get("/v2/_catalog").json() == {"repositories": ["multi", "only-blobs"]}
            response = http.get("/v2/multi/manifests/latest", headers={"Accept": mt.OCI_INDEX})
            assert response.content == index.body
            assert response.headers["Docker-Content-Digest"] == index.digest
            assert http.get(f"/v2/multi/manifests/{arm.digest}").status_code == 404
            for digest in amd.blobs:
                assert digest_of(http.get(f"/v2/multi/blobs/{digest}").content) == digest
            referrers = http.get(f"/v2/multi/referrers/{index.digest}").json()["manifests"]
            assert [r["digest"] for r in referrers] == [signature.digest]
            assert http.get(f"/v2/only-blobs/blobs/{blob}").content == b"a lone blob"
            ranged = http.get(f"/v2/only-blobs/blobs/{blob}", headers={"Range": "bytes=2-5"})
            assert (ranged.status_code, ranged.content) == (206, b"lone")
    finally:
        server.stop()


def test_blobs_are_stored_once_and_never_held_in_memory(tmp_path: Path) -> None:
    server = _server(tmp_path)
    try:
        with httpx.Client(base_url=server.url) as http:
            digest = push_blob(http, "a", b"shared bytes")
            push_blob(http, "b", b"shared bytes")
            mounted = http.post(
                "/v2/c/blobs/uploads/", params={"mount": digest, "from": "a"}
            ).status_code
        assert mounted == 201
        assert isinstance(server.storage, DiskStorage)
        assert all(isinstance(b, FileBlob) for b in server.storage.blobs.values())
        assert server.call(server.storage.usage).blob_bytes == len(b"shared bytes")
    finally:
        server.stop()
    encoded = digest.split(":")[1]
    inodes = {(tmp_path / r / "blobs" / "sha256" / encoded).stat().st_ino for r in "abc"}
    assert len(inodes) == 1


def test_deletes_reach_the_disk(tmp_path: Path) -> None:
    server = _server(tmp_path)
    try:
        with httpx.Client(base_url=server.url) as http:
            pushed = push_image(http, "repo", "v1")
            assert http.delete("/v2/repo/manifests/v1").status_code == 202
            assert _index(tmp_path, "repo") == [
                {"mediaType": pushed.media_type, "digest": pushed.digest, "size": len(pushed.body)}
            ]
            assert http.delete(f"/v2/repo/manifests/{pushed.digest}").status_code == 202
            assert http.delete(f"/v2/repo/blobs/{pushed.blobs[1]}").status_code == 202
    finally:
        server.stop()
    assert _index(tmp_path, "repo") == []
    files = {p.name for p in (tmp_path / "repo" / "blobs" / "sha256").iterdir()}
    assert files == {pushed.blobs[0].split(":")[1]}


def test_upload_sessions_do_not_survive_a_restart(tmp_path: Path) -> None:
    server = _server(tmp_path)
    try:
        with httpx.Client(base_url=server.url) as http:
            location = http.post("/v2/repo/blobs/uploads/").headers["Location"]
            assert http.patch(location, content=b"half").status_code == 202
    finally:
        server.stop()
    assert len(list((tmp_path / ".uploads").iterdir())) == 1
    server = _server(tmp_path)
    try:
        assert list((tmp_path / ".uploads").iterdir()) == []
        with httpx.Client(base_url=server.url) as http:
            path = httpx.URL(location).path
            assert http.get(path).status_code == 404
    finally:
        server.stop()


@pytest.mark.parametrize("name", ["a/blobs/sha256", "a/index.json", "a/oci-layout"])
def test_names_that_would_land_on_layout_files_are_refused(tmp_path: Path, name: str) -> None:
    server = _server(tmp_path)
    try:
        with httpx.Client(base_url=server.url) as http:
            response = http.post(f"/v2/{name}/blobs/uploads/")
    finally:
        server.stop()
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "NAME_INVALID"


def test_a_layout_written_by_another_tool_is_served(tmp_path: Path) -> None:
    """A layout whose index.json lists only the top-level index (as skopeo writes it): the
    children are found through the index and served by digest."""
    server = _server(tmp_path / "first")
    try:
        with httpx.Client(base_url=server.url) as http:
            child = push_image(http, "repo", None)
            index = push_index(
                http, "repo", "v1", [(child, {"os": "linux", "architecture": "amd64"})]
            )
    finally:
        server.stop()
    index_json = tmp_path / "first" / "repo" / "index.json"
    document = json.loads(index_json.read_bytes())
    document["manifests"] = [m for m in document["manifests"] if m["digest"] == index.digest]
    index_json.write_text(json.dumps(document))
    server = _server(tmp_path / "first")
    try:
        with httpx.Client(base_url=server.url) as http:
            response = http.get(
                f"/v2/repo/manifests/{child.digest}", headers={"Accept": mt.OCI_MANIFEST}
            )
            assert response.content == child.body
    finally:
        server.stop()


def test_skopeo_and_umoci_read_the_store(tmp_path: Path) -> None:
    root = tmp_path / "store"
    server = _server(root)
    try:
        with httpx.Client(base_url=server.url) as http:
            child = push_image(http, "team/app", None)
            index = push_index(
                http, "team/app", "v1", [(child, {"os": "linux", "architecture": "amd64"})]
            )
            single = push_image(http, "team/app", "single", seed="single")
    finally:
        server.stop()
    skopeo = Skopeo(require_tool("skopeo"), tmp_path / "skopeo", set())
    raw = skopeo.run("inspect", "--raw", f"oci:{root / 'team/app'}:v1").stdout
    assert raw == index.body
    out = tmp_path / "copied"
    source = f"oci:{root / 'team/app'}:v1"
    skopeo.run("copy", "--all", "--preserve-digests", source, f"oci:{out}:v1")
    assert digest_of(skopeo.run("inspect", "--raw", f"oci:{out}:v1").stdout) == index.digest
    umoci = require_tool("umoci")
    listed = subprocess.run(
        [umoci, "ls", "--layout", str(root / "team/app")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(listed) == ["single", "v1"]
    stat = subprocess.run(
        [umoci, "stat", "--image", f"{root / 'team/app'}:single", "--json"],
        capture_output=True,
        text=True,
    )
    assert stat.returncode == 0, stat.stderr
    assert single.digest


def test_blob_pulls_use_sendfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int | None]] = []
    original = asyncio.BaseEventLoop.sendfile

    async def counting(
        self: asyncio.BaseEventLoop,
        transport: asyncio.WriteTransport,
        file: IO[bytes],
        offset: int = 0,
        count: int | None = None,
        *,
        fallback: bool = True,
    ) -> int:
        calls.append((offset, count))
        return await original(self, transport, file, offset, count, fallback=fallback)

    monkeypatch.setattr(asyncio.BaseEventLoop, "sendfile", counting)
    data = bytes(range(256)) * 4096  # 1 MiB
    server = _server(tmp_path)
    try:
        with httpx.Client(base_url=server.url) as http:
            digest = push_blob(http, "repo", data)
            assert http.get(f"/v2/repo/blobs/{digest}").content == data
            ranged = http.get(f"/v2/repo/blobs/{digest}", headers={"Range": "bytes=1000-"})
            assert ranged.content == data[1000:]
    finally:
        server.stop()
    assert calls == [(0, len(data)), (1000, len(data) - 1000)]
