"""Client set-up helpers: the files ``fakeregistry env`` and ``FakeRegistry.client_env`` write,
and real tools (skopeo, the docker CLI) using them against a TLS registry with token auth,
with no flags of their own for credentials, certificates or the registry's transport.

The docker CLI runs here without a daemon: ``docker manifest inspect`` and ``docker manifest
create`` read through the helpers' ``config.json`` and CA bundle. ``docker manifest push`` to
a loopback registry always speaks plain HTTP (the CLI counts 127.0.0.0/8 as an insecure
registry and pushes there without TLS), so pushes over TLS are skopeo's.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fakeregistry.testing.harness import FakeRegistry
from fakeregistry.tools.builder import Image
from fakeregistry.tools.clientenv import write_client_env
from fakeregistry.tools.demo import demo_content
from tests.conftest import require_tool
from tests.serve import serve


def test_files_for_tls_and_auth(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    setup = write_client_env(
        tmp_path / "env", "https://127.0.0.1:5443", ca_file=ca, username="al'ice", password="p:w"
    )
    auth = base64.b64encode(b"al'ice:p:w").decode()
    expected = {"auths": {"127.0.0.1:5443": {"auth": auth}}}
    assert json.loads(setup.docker_config.read_text()) == expected
    assert json.loads(setup.auth_file.read_text()) == expected
    assert setup.certs_dir is not None
    assert (setup.certs_dir / "127.0.0.1:5443" / "ca.crt").read_bytes() == ca.read_bytes()
    assert setup.ca_bundle is not None
    assert setup.ca_bundle.read_bytes().endswith(ca.read_bytes())
    assert 'location = "127.0.0.1:5443"\ninsecure = false' in setup.registries_conf.read_text()
    assert setup.env == {
        "DOCKER_CONFIG": str(setup.docker_config.parent),
        "REGISTRY_AUTH_FILE": str(setup.auth_file),
        "CONTAINERS_REGISTRIES_CONF": str(setup.registries_conf),
        "SSL_CERT_FILE": str(setup.ca_bundle),
    }
    assert oct(setup.auth_file.stat().st_mode & 0o777) == "0o600"
    shell = subprocess.run(
        ["sh", "-c", setup.shell() + 'printf %s "$DOCKER_CONFIG"'], capture_output=True, text=True
    )
    assert shell.stdout == str(setup.docker_config.parent)


def test_plain_http_is_insecure_and_needs_no_ca(tmp_path: Path) -> None:
    setup = write_client_env(tmp_path, "http://127.0.0.1:5000")
    assert "insecure = true" in setup.registries_conf.read_text()
    assert json.loads(setup.docker_config.read_text()) == {"auths": {}}
    assert "SSL_CERT_FILE" not in setup.env
    with pytest.raises(ValueError, match="plain HTTP"):
        write_client_env(tmp_path, "http://127.0.0.1:5000", ca_file=tmp_path / "x")
    with pytest.raises(ValueError, match="together"):
        write_client_env(tmp_path, "127.0.0.1:5000", username="a")
    with pytest.raises(ValueError, match="not a registry address"):
        write_client_env(tmp_path, "ftp://x")


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fakeregistry", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_env_command(tmp_path: Path) -> None:
    answer = run_cli("env", "http://127.0.0.1:5000", "--dir", str(tmp_path), "--json")
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["REGISTRY_AUTH_FILE"] == str(
        tmp_path / "containers" / "auth.json"
    )
    refused = run_cli("env", "http://127.0.0.1:5000", "--username", "a")
    assert refused.returncode == 2
    assert "--username needs --password-stdin" in refused.stderr


def tool_env(home: Path, setup: dict[str, str]) -> dict[str, str]:
    """A clean environment (own HOME: no user config) plus what the helper returned."""
    home.mkdir(parents=True, exist_ok=True)
    policy = home / ".config" / "containers" / "policy.json"
    policy.parent.mkdir(parents=True, exist_ok=True)
    policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    base["XDG_RUNTIME_DIR"] = str(home)
    return base | setup


def run_tool(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.interop
def test_skopeo_and_docker_with_tls_and_token_auth(tmp_path: Path) -> None:
    skopeo = require_tool("skopeo")
    docker = require_tool("docker")
    certs = tmp_path / "certs"
    args = ["--demo", "--tls", "--tls-dir", str(certs), "--auth", "token", "--user", "alice:pw"]
    with serve(*args) as url:
        host = url.split("://")[1].rstrip("/")
        answer = run_cli(
            "env", url, "--dir", str(tmp_path / "env"), "--ca-file", str(certs / "ca.crt"),
            "--username", "alice", "--password-stdin", "--json", stdin="pw\n",
        )  # fmt: skip
        assert answer.returncode == 0, answer.stderr
        env = tool_env(tmp_path / "home", json.loads(answer.stdout))
        # skopeo: push (copy within the registry, with token auth and TLS) and read back.
        single = next(i.item for i in demo_content() if i.repository == "demo/single" and i.tag)
        assert isinstance(single, Image)
        run_tool(
            env,
            skopeo,
            "copy",
            f"docker://{host}/demo/single:latest",
            f"docker://{host}/team/copy:1",
        )
        raw = run_tool(env, skopeo, "inspect", "--raw", f"docker://{host}/team/copy:1").stdout
        assert raw.encode() == single.manifest
        tags = json.loads(run_tool(env, skopeo, "list-tags", f"docker://{host}/team/copy").stdout)
        assert tags["Tags"] == ["1"]
        # docker CLI (no daemon): read a manifest list and an image, and build a list.
        listed = json.loads(
            run_tool(
                env, docker, "manifest", "inspect", f"{host}/demo/multi-arch:manifest-list"
            ).stdout
        )
        assert len(listed["manifests"]) == 7
        copied = json.loads(
            run_tool(env, docker, "manifest", "inspect", f"{host}/team/copy:1").stdout
        )
        assert copied["config"]["digest"] == single.config.digest
        run_tool(env, docker, "manifest", "create", f"{host}/team/list:1", f"{host}/team/copy:1")
        # And without the helper's files both refuse (proves they did the work).
        bare = tool_env(tmp_path / "bare", {})
        refused = subprocess.run(
            [skopeo, "inspect", "--raw", f"docker://{host}/team/copy:1"],
            env=bare, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert refused.returncode != 0


@pytest.mark.interop
@pytest.mark.fake_registry(tls=True, auth="basic", users={"bob": "secret"})
def test_plugin_handle_client_env(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    skopeo = require_tool("skopeo")
    fake_registry.push_image("app:1", platform="linux/arm64/v8")
    setup = fake_registry.client_env(tmp_path / "env")
    assert set(setup.env) == {
        "DOCKER_CONFIG",
        "REGISTRY_AUTH_FILE",
        "CONTAINERS_REGISTRIES_CONF",
        "SSL_CERT_FILE",
    }
    env = tool_env(tmp_path / "home", setup.env)
    ref = f"docker://{fake_registry.ref('app', '1')}"
    inspected = json.loads(run_tool(env, skopeo, "inspect", ref).stdout)
    assert inspected["Architecture"] == "arm64"
    run_tool(env, skopeo, "copy", ref, f"docker://{fake_registry.ref('copy', '2')}")
    assert fake_registry.pull("copy:2", host="linux/arm64/v8").platform is not None
