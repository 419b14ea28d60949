"""``fakeregistry keygen``, ``sign``, ``verify``, ``pull --policy`` and ``manifest inspect
--signatures`` as a user runs them: real processes against a running registry."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fakeregistry import FakeRegistry


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fakeregistry", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    result = run("keygen", str(tmp_path / "keys"), "--notation")
    assert result.returncode == 0, result.stderr
    assert "cosign.pub" in result.stdout
    return tmp_path / "keys"


def test_sign_and_verify_every_format(fake_registry: FakeRegistry, keys: Path) -> None:
    index = fake_registry.push_index("app:1", ["linux/amd64", "linux/arm64/v8"])
    ref = f"{fake_registry.host}/app:1"
    signed = run("sign", ref, "--key", str(keys / "cosign.key"), "--recursive")
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.count("Signed sha256:") == 3
    assert f"tag sha256-{index.digest.split(':')[1]}.sig" in signed.stdout
    bundle = run("sign", ref, "--key", str(keys / "cosign.key"), "--format", "cosign-bundle")
    assert "(referrers API)" in bundle.stdout, bundle.stderr
    notation = run(
        "sign", ref, "--format", "notation", "--key", str(keys / "notation.key"),
        "--cert", str(keys / "notation.crt"),
    )  # fmt: skip
    assert notation.returncode == 0, notation.stderr

    verified = run(
        "verify", ref, "--key", str(keys / "cosign.pub"),
        "--trust-store", str(keys / "notation-root.crt"), "--json",
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    document = json.loads(verified.stdout)
    (top,) = document["manifests"]
    assert top["digest"] == index.digest
    formats = {s["format"]: s for s in top["signatures"]}
    assert set(formats) == {"cosign", "cosign-bundle", "notation"}
    assert all(s["holds"] for s in formats.values())
    assert formats["cosign"]["identity"] == f"{fake_registry.host}/app"
    assert formats["cosign"]["bound"] == index.digest
    assert formats["notation"]["identity"].endswith("ST=WA,C=US")

    text = run("verify", ref, "--key", str(keys / "cosign.pub"), "--recursive")
    assert text.returncode == 0, text.stderr
    assert text.stdout.count("=> verified") == 3  # the index and both images (--recursive)
    assert "holds:    yes" in text.stdout
    assert "not checked (no trust store given)" in text.stdout


def test_verify_with_the_wrong_key_fails(
    fake_registry: FakeRegistry, keys: Path, tmp_path: Path
) -> None:
    fake_registry.push_image("app:1")
    ref = f"{fake_registry.host}/app:1"
    assert run("sign", ref, "--key", str(keys / "cosign.key")).returncode == 0
    other = run("keygen", str(tmp_path / "other"))
    assert other.returncode == 0
    result = run("verify", ref, "--key", str(tmp_path / "other" / "cosign.pub"))
    assert result.returncode == 1
    assert "holds:    NO (cryptographic signature verification failed" in result.stdout
    assert "=> no signature holds" in result.stdout


def test_pull_policy(fake_registry: FakeRegistry, keys: Path, tmp_path: Path) -> None:
    fake_registry.push_index("app:1", ["linux/amd64", "linux/arm64/v8"])
    fake_registry.push_image("unsigned:1")
    host = fake_registry.host
    assert (
        run("sign", f"{host}/app:1", "--key", str(keys / "cosign.key"), "--recursive").returncode
        == 0
    )
    policy = tmp_path / "policy.json"
    policy.write_text(
        json.dumps(
            {
                "default": [{"type": "reject"}],
                "transports": {
                    "docker": {
                        f"{host}/app": [
                            {
                                "type": "sigstoreSigned",
                                "keyPath": str(keys / "cosign.pub"),
                                "signedIdentity": {"type": "matchRepository"},
                            }
                        ]
                    }
                },
            }
        )
    )
    allowed = run(
        "pull", f"{host}/app:1", "--host-platform", "linux/arm64", "--policy", str(policy)
    )
    assert allowed.returncode == 0, allowed.stderr
    assert f"Trust:    allowed ({policy}: {host}/app; instance)" in allowed.stdout
    as_json = run(
        "pull", f"{host}/app:1", "--policy", str(policy), "--json", "--host-platform", "linux/amd64"
    )
    assert json.loads(as_json.stdout)["trust"]["signatures"][0]["holds"] is True
    rejected = run("pull", f"{host}/unsigned:1", "--policy", str(policy))
    assert rejected.returncode == 1
    assert rejected.stderr.strip() == (
        f"fakeregistry pull: Source image rejected: Running image docker://{host}/unsigned:1 "
        "is rejected by policy."
    )


def test_manifest_inspect_signatures(fake_registry: FakeRegistry, keys: Path) -> None:
    image = fake_registry.push_image("app:1")
    ref = f"{fake_registry.host}/app:1"
    assert run("sign", ref, "--key", str(keys / "cosign.key")).returncode == 0
    text = run("manifest", "inspect", ref, "--key", str(keys / "cosign.pub"))
    assert text.returncode == 0, text.stderr
    assert f"Signatures of {image.digest}:" in text.stdout
    assert "holds:    yes" in text.stdout
    listed = run("manifest", "inspect", ref, "--signatures", "--json")
    (signature,) = json.loads(listed.stdout)["signatures"]
    assert signature["holds"] is None
    assert signature["bound"] == image.digest
    plain = run("manifest", "inspect", ref)
    assert "Signatures" not in plain.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["verify", "127.0.0.1:1/app:1"], "give --key", id="verify-without-key"),
        pytest.param(
            ["sign", "127.0.0.1:1/app:1", "--key", "k", "--username", "u"],
            "--username needs --password-stdin",
            id="sign-username-alone",
        ),
        pytest.param(
            ["sign", "127.0.0.1:1/app:1", "--key", "/nonexistent.key"],
            "cannot read /nonexistent.key",
            id="sign-missing-key",
        ),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode in (1, 2)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
