"""The real client: Debian's skopeo with gpg, signing into our registry and enforcing its own
``--policy`` on pulls from it.

skopeo 1.9 writes GPG "atomic" simple signatures to a lookaside directory (``registries.d``
``lookaside-staging``), not to the registry, so our registry's part is to store and serve the
image exactly as pushed (digests unchanged). The check is skopeo's own: with a ``signedBy``
policy, a pull of the signed image is accepted, of an unsigned one rejected ("A signature was
required, but no signature exists"), and of one whose signature was tampered with rejected.
Our simulated pull does not verify GPG; it refuses ``signedBy`` with a message saying so.
(Debian's skopeo has sigstore verification disabled, so cosign formats cannot be checked by it.)
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from fakeregistry import FakeRegistry
from fakeregistry.trust import PolicyRejected
from tests.conftest import require_tool
from tests.skopeo import Skopeo

pytestmark = pytest.mark.interop


def _gpg_key(gpg: str, home: Path) -> tuple[str, Path]:
    """A throwaway signing key in *home*; its fingerprint and exported public keyring."""
    home.mkdir(mode=0o700)
    env = {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [gpg, "--batch", "--passphrase", "", "--quick-gen-key",
         "fakeregistry test <test@example.invalid>", "ed25519", "sign", "never"],
        env=env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    listing = subprocess.run(
        [gpg, "--batch", "--with-colons", "--list-secret-keys"],
        env=env, check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    fingerprint = next(
        line.split(":")[9] for line in listing.stdout.splitlines() if line.startswith("fpr:")
    )
    public = home.parent / "pub.gpg"
    exported = subprocess.run(
        [gpg, "--batch", "--export", fingerprint],
        env=env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    public.write_bytes(exported.stdout)
    return fingerprint, public


def test_skopeo_gpg_signed_pull_from_our_registry(
    fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    gpg = require_tool("gpg")
    skopeo = Skopeo(require_tool("skopeo"), tmp_path / "skopeo", {fake_registry.host})
    fingerprint, public = _gpg_key(gpg, tmp_path / "gnupg")
    skopeo.env["GNUPGHOME"] = str(tmp_path / "gnupg")
    host = fake_registry.host
    sigs = tmp_path / "sigs"
    (skopeo.root / "registries.d" / "test.yaml").write_text(
        f"docker:\n  {host}:\n    lookaside: file://{sigs}\n    lookaside-staging: file://{sigs}\n"
    )
    source = fake_registry.push_image("source:1", platform="linux/amd64")

    digest = skopeo.copy(
        f"docker://{host}/source:1", f"docker://{host}/signed:1", "--sign-by", fingerprint
    )
    skopeo.copy(f"docker://{host}/source:1", f"docker://{host}/unsigned:1")
    assert digest == source.digest  # our registry kept the manifest bytes, so the digest holds
    signature = sigs / f"signed@{digest.replace(':', '=')}" / "signature-1"
    assert signature.exists()

    requirement = {"type": "signedBy", "keyType": "GPGKeys", "keyPath": str(public)}
    policy = {
        "default": [{"type": "reject"}],
        "transports": {
            "docker": {f"{host}/signed": [requirement], f"{host}/unsigned": [requirement]},
            "dir": {"": [{"type": "insecureAcceptAnything"}]},
        },
    }
    (skopeo.root / "policy.json").write_text(json.dumps(policy))

    def pull(name: str, destination: str) -> subprocess.CompletedProcess[bytes]:
        return skopeo.try_run(
            "copy", "--src-tls-verify=false", f"docker://{host}/{name}:1",
            f"dir:{tmp_path / destination}",
        )  # fmt: skip

    accepted = pull("signed", "out-signed")
    assert accepted.returncode == 0, accepted.stderr.decode(errors="replace")[-2000:]
    rejected = pull("unsigned", "out-unsigned")
    assert rejected.returncode != 0
    assert b"A signature was required, but no signature exists" in rejected.stderr
    data = bytearray(signature.read_bytes())
    data[-10] ^= 0x01
    signature.write_bytes(bytes(data))
    tampered = pull("signed", "out-tampered")
    assert tampered.returncode != 0
    assert b"Source image rejected" in tampered.stderr, tampered.stderr[-1500:]

    # Our simulated pull reads the same policy file and says it does not check GPG.
    with pytest.raises(PolicyRejected, match=r"signedBy .* is not verified by fakeregistry"):
        fake_registry.pull(f"{host}/signed:1", policy=skopeo.root / "policy.json")
