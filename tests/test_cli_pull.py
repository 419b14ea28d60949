"""``fakeregistry pull`` and ``fakeregistry platforms`` as a user runs them: real processes
against a real registry port, checking output, JSON and exit statuses."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakeregistry import RegistryServer
from fakeregistry.engine.selection import ENGINES
from fakeregistry.platforms.platform import Platform
from fakeregistry.registry.storage import Blob
from fakeregistry.rules import mediatypes as mt
from tests.content import Pushed, push_image, push_index

AMD64 = {"os": "linux", "architecture": "amd64"}
ARMV7 = {"os": "linux", "architecture": "arm", "variant": "v7"}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fakeregistry", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


def push_list(url: str, repo: str = "demo") -> dict[str, Pushed]:
    """A Docker manifest list of linux/amd64 and linux/arm/v7, tagged ``latest``."""
    with httpx.Client(base_url=url) as http:
        amd64 = push_image(http, repo, None, media_type=mt.DOCKER_MANIFEST)
        armv7 = push_image(
            http, repo, None, media_type=mt.DOCKER_MANIFEST, architecture="arm", variant="v7"
        )
        top = push_index(
            http,
            repo,
            "latest",
            [(amd64, AMD64), (armv7, ARMV7)],
            media_type=mt.DOCKER_MANIFEST_LIST,
        )
    return {"top": top, "amd64": amd64, "armv7": armv7}


@pytest.fixture
def demo(registry: RegistryServer) -> dict[str, Any]:
    pushed = push_list(registry.url)
    return {"ref": f"{registry.host}/demo:latest", **pushed}


def test_pull_json(demo: dict[str, Any]) -> None:
    done = run("pull", demo["ref"], "--host-platform", "linux/arm/v7", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["digest"] == demo["top"].digest
    assert result["mediaType"] == mt.DOCKER_MANIFEST_LIST
    assert result["manifest"]["digest"] == demo["armv7"].digest
    assert result["manifest"]["platform"] == "linux/arm/v7"
    assert result["manifest"]["platformObject"] == ARMV7
    manifest = json.loads(demo["armv7"].body)
    assert result["layers"] == [
        {"mediaType": layer["mediaType"], "digest": layer["digest"], "size": layer["size"]}
        for layer in manifest["layers"]
    ]
    assert result["engine"] == "moby"
    assert [c["rank"] for c in result["steps"][0]["candidates"]] == [0, None]
    assert [t["method"] for t in result["trace"]] == ["HEAD", "GET", "GET", "GET", "GET"]
    assert done.stderr == ""  # no progress bar when stderr is not a terminal


def test_pull_summary(demo: dict[str, Any]) -> None:
    done = run("pull", demo["ref"], "--host-platform", "linux/amd64", "--plain-http")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"Pulled {demo['ref'].split('/')[0]}/demo:latest as moby on linux/amd64"
    assert f"Digest:   {demo['top'].digest} ({mt.DOCKER_MANIFEST_LIST})" in lines
    assert f"Manifest: {demo['amd64'].digest} ({mt.DOCKER_MANIFEST})" in lines
    assert "Platform: linux/amd64" in lines
    assert any(line.startswith("Chosen:   moby picks manifests[0]") for line in lines)
    assert any(line.startswith("Layers:   1 (") for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--platform", "linux/s390x"],
            "no matching manifest for linux/s390x in the manifest list entries",
            id="moby-asking-s390x",
        ),
        pytest.param(
            ["--host-platform", "linux/arm64/v8", "--engine", "docker-18.09"],
            "no matching manifest for linux/arm64/v8 in the manifest list entries",
            id="docker-18.09-on-arm64",
        ),
        pytest.param(
            ["--host-platform", "linux/arm64/v8", "--engine", "docker-1.10"],
            "no supported platform found in manifest list",
            id="docker-1.10-on-arm64",
        ),
        pytest.param(
            ["--host-platform", "linux/arm64/v8", "--engine", "containerd-strict"],
            "no match for platform in manifest: not found",
            id="containerd-strict-on-arm64",
        ),
        pytest.param(
            ["--host-platform", "linux/arm64/v8", "--engine", "containers-image"],
            'no image found in manifest list for architecture "arm64", variant "v8", OS "linux"',
            id="podman-on-arm64",
        ),
    ],
)
def test_no_match_prints_the_engines_message(
    demo: dict[str, Any], args: list[str], message: str
) -> None:
    done = run("pull", demo["ref"], *args)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", message + "\n")
    as_json = run("pull", demo["ref"], *args, "--json")
    assert as_json.returncode == 1
    document = json.loads(as_json.stdout)
    assert document["error"] == message
    assert len(document["candidates"]) == 2
    assert all(c["reason"] for c in document["candidates"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("ref", "args", "message"),
    [
        pytest.param("{host}/nothing:latest", [], "HTTP 404: NAME_UNKNOWN", id="unknown-repo"),
        pytest.param("{host}/demo:nope", [], "HTTP 404: MANIFEST_UNKNOWN", id="unknown-tag"),
        pytest.param("{host}/Demo:latest", [], "must be lowercase", id="bad-reference"),
        pytest.param(
            "{host}/demo:latest", ["--platform", "linux/*"], "wildcards not yet", id="bad-platform"
        ),
        pytest.param(
            "127.0.0.1:{free}/demo:latest", [], "cannot reach registry", id="connection-refused"
        ),
        pytest.param(
            "{host}/demo:latest",
            ["--ca-file", "/nonexistent/ca.pem"],
            "cannot load CA file",
            id="missing-ca-file",
        ),
        pytest.param(
            "{host}/demo:latest",
            ["--insecure"],
            "cannot reach registry",
            id="https-to-a-plain-http-registry",
        ),
    ],
)
def test_errors_are_one_line(
    demo: dict[str, Any], registry: RegistryServer, ref: str, args: list[str], message: str
) -> None:
    done = run("pull", ref.format(host=registry.host, free=_free_port()), *args)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("fakeregistry pull: ")
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_corrupted_layer_fails_loudly(demo: dict[str, Any], registry: RegistryServer) -> None:
    layer = json.loads(demo["amd64"].body)["layers"][0]["digest"]
    registry.call(lambda: registry.storage.blobs.__setitem__(layer, Blob(layer, [b"evil"])))
    done = run("pull", demo["ref"], "--host-platform", "linux/amd64")
    assert done.returncode == 1
    assert f"digest mismatch for blob {layer}" in done.stderr
    assert f"expected {layer}, got content hashing to sha256:" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--password-stdin"], id="password-without-username"),
        pytest.param(["--username", "alice"], id="username-without-password"),
        pytest.param(["--plain-http", "--insecure"], id="plain-http-and-insecure"),
        pytest.param(["--engine", "docker-2"], id="unknown-engine"),
    ],
)
def test_usage_errors(args: list[str]) -> None:
    done = run("pull", "127.0.0.1:1/demo:latest", *args, stdin="")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_output_layout(demo: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "image"
    done = run("pull", demo["ref"], "--host-platform", "linux/amd64", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert f"Output:   {out} (OCI image layout)" in done.stdout.splitlines()
    index = json.loads((out / "index.json").read_text())
    assert [m["digest"] for m in index["manifests"]] == [demo["amd64"].digest]
    assert (out / "blobs" / "sha256" / demo["amd64"].digest.split(":")[1]).read_bytes() == (
        demo["amd64"].body
    )


@pytest.mark.parametrize(
    ("password", "status"),
    [pytest.param("secret", 0, id="right-password"), pytest.param("guess", 1, id="wrong-password")],
)
def test_credentials_from_stdin(password: str, status: int) -> None:
    auth = pytest.importorskip("fakeregistry.registry.auth")
    config = auth.AuthConfig(mode="token", users=auth.Users({"alice": "secret"}))
    with RegistryServer(auth=config) as server:
        with httpx.Client(base_url=server.url) as http:
            token = http.get(
                "/token",
                params={"service": "fakeregistry", "scope": "repository:demo:pull,push"},
                auth=("alice", "secret"),
            ).json()["token"]
            http.headers["Authorization"] = f"Bearer {token}"
            amd64 = push_image(http, "demo", "latest")
        ref = f"{server.host}/demo:latest"
        done = run("pull", ref, "--json", "--username", "alice", "--password-stdin", stdin=password)
    assert done.returncode == status, done.stderr
    if status == 0:
        assert json.loads(done.stdout)["manifest"]["digest"] == amd64.digest
    else:
        assert "token endpoint refused the credentials" in done.stderr
        assert "Traceback" not in done.stderr


def test_tls_with_ca_file() -> None:
    with RegistryServer(tls=True) as server:
        with httpx.Client(base_url=server.url, verify=False) as http:
            image = push_image(http, "demo", "latest")
        ref = f"{server.host}/demo:latest"
        trusted = run("pull", ref, "--ca-file", str(server.ca_path), "--json")
        insecure = run("pull", ref, "--insecure", "--json")
        untrusted = run("pull", ref, "--plain-http")
    assert trusted.returncode == 0, trusted.stderr
    assert json.loads(trusted.stdout)["manifest"]["digest"] == image.digest
    assert insecure.returncode == 0, insecure.stderr
    assert untrusted.returncode == 1


def test_progress_bar_on_a_terminal(demo: dict[str, Any]) -> None:
    primary, secondary = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "fakeregistry", "pull", demo["ref"], "--json"],
            stdout=subprocess.PIPE,
            stderr=secondary,
            stdin=subprocess.DEVNULL,
        )
        os.close(secondary)
        stdout, _ = process.communicate(timeout=60)
        chunks = []
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: the other side is closed
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(primary)
    assert process.returncode == 0
    shown = b"".join(chunks).decode()
    assert "100%" in shown
    assert "#" * 30 in shown
    assert "(1/1)" in shown
    assert json.loads(stdout)["layers"]  # stdout stays clean JSON


def test_platforms_host() -> None:
    done = run("platforms", "--host")
    assert done.returncode == 0, done.stderr
    host = Platform.host()
    assert done.stdout.splitlines()[0] == f"This machine: {host.format_all()}"
    for engine in ENGINES:
        assert f"  {engine}" in done.stdout
    as_json = json.loads(run("platforms", "--host", "--json").stdout)
    assert as_json["host"]["platform"] == host.format_all()
    assert list(as_json["engines"]) == list(ENGINES)
    moby = as_json["engines"]["moby"]
    assert moby["wanted"] == Platform(host.os, host.architecture, _level(host)).format()
    assert moby["message"].startswith("no matching manifest for ")


def _level(host: Platform) -> str:
    """moby keeps the amd64 level (v1 is the baseline, written as nothing) and arm variants."""
    return "" if host.variant == "v1" else host.variant


def test_platforms_lists_engines() -> None:
    done = run("platforms")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[0 : 2 * len(ENGINES) : 2]] == list(ENGINES)
    assert all(line.startswith("    upstream: ") for line in lines[1 : 2 * len(ENGINES) : 2])
    assert lines[2 * len(ENGINES) :] == ["alias containers-image: skopeo"]


def test_platforms_prints_each_profiles_upstream_version() -> None:
    done = run("platforms")
    assert "containerd/platforms v1.0.0-rc.4" in done.stdout.split("containerd-strict:")[0]
    as_json = json.loads(run("platforms", "--json").stdout)
    assert list(as_json["engines"]) == list(ENGINES)
    upstream = {name: info["upstream"] for name, info in as_json["engines"].items()}
    assert upstream["containerd"].endswith("containerd/platforms v1.0.0-rc.4")
    assert upstream["moby"].endswith("containerd/platforms v1.0.0-rc.5")
    assert upstream["moby-containerd"].endswith("containerd/platforms v1.0.0-rc.5")
    assert upstream["skopeo-1.9"] == "containers/image v5.23.1"
    assert "v5.23.1" in upstream["podman-4.3"]
    assert "amd64 levels" in upstream["podman"]
    assert as_json["aliases"] == {"containers-image": "skopeo"}
    host = json.loads(run("platforms", "--host", "--json").stdout)
    assert host["engines"]["containerd"]["upstream"] == upstream["containerd"]
