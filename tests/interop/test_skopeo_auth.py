"""The real skopeo (containers/image) against ``fakeregistry serve --tls --auth token``.

skopeo verifies the server with ``--cert-dir`` (the directory ``--tls-dir`` filled with
``ca.crt``) and signs in with ``--creds``: it reads the Bearer challenge of ``/v2/``, fetches a
token from the realm with the scopes it needs, and sends it. The runs use the confined skopeo of
test_skopeo.py (its own HOME, policy and registries.conf; no host but ours).

Users and rules of the server (``--access``)::

    alice: everything everywhere; bob: pull only; anonymous: pull under public/
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.oci_layout import LayoutImage, read_blob, tagged, write_image, write_index
from tests.skopeo import Skopeo

pytestmark = pytest.mark.interop

ACCESS = {
    "anonymous_pull": ["public/*"],
    "rules": [
        {"user": "alice", "repositories": ["*"], "actions": ["*"], "catalog": True},
        {"user": "bob", "actions": ["pull"]},
    ],
}
ALICE = "alice:alice-secret"
BOB = "bob:bob-secret"


@dataclass
class Served:
    """A ``fakeregistry serve`` process: its ``host:port`` and the directory holding ca.crt."""

    process: subprocess.Popen[str]
    host: str
    cert_dir: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    access = tmp_path / "access.json"
    access.write_text(json.dumps(ACCESS))
    cert_dir = tmp_path / "certs"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "fakeregistry", "serve", "--port", "0", "--quiet"),
            *("--tls", "--tls-dir", str(cert_dir)),
            *("--auth", "token", "--user", ALICE, "--user", BOB, "--access", str(access)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.fullmatch(r"Serving on https://(127\.0\.0\.1:\d+)/\n", first)
        assert match, first
        assert process.stdout.readline() == f"CA certificate: {cert_dir / 'ca.crt'}\n"
        yield Served(process, match[1], cert_dir)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
        assert "Traceback" not in stderr, stderr


@pytest.fixture
def skopeo(tmp_path: Path, served: Served) -> Skopeo:
    return Skopeo(require_tool("skopeo"), tmp_path / "skopeo", {served.host})


def _push(skopeo: Skopeo, served: Served, image: LayoutImage, repo: str, *flags: str) -> str:
    digest_file = skopeo.root / "pushed-digest"
    skopeo.run(
        "copy",
        *("--dest-creds", ALICE, "--dest-cert-dir", str(served.cert_dir)),
        *("--digestfile", str(digest_file)),
        *flags,
        f"oci:{image.path}:{image.tag}",
        f"docker://{served.host}/{repo}:v1",
    )
    return digest_file.read_text().strip()


def _failure(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode != 0, result.stdout
    return result.stderr.decode(errors="replace")


@pytest.mark.parametrize(
    ("write", "flags"),
    [pytest.param(write_image, (), id="image"), pytest.param(write_index, ("--all",), id="index")],
)
def test_push_and_pull(
    skopeo: Skopeo, served: Served, tmp_path: Path, write: object, flags: tuple[str, ...]
) -> None:
    assert write in (write_image, write_index)
    image = (write_image if write is write_image else write_index)(tmp_path / "source")
    pushed = _push(skopeo, served, image, "team/app", *flags)
    assert pushed == image.digest

    # Pull back as bob (pull-only), verifying the server with the CA.
    skopeo.run(
        "copy",
        *("--src-creds", BOB, "--src-cert-dir", str(served.cert_dir)),
        *flags,
        f"docker://{served.host}/team/app:v1",
        f"oci:{tmp_path / 'pulled'}:v1",
    )
    assert tagged(tmp_path / "pulled", "v1")["digest"] == image.digest
    for digest in (*image.blobs, *image.manifests):
        assert read_blob(tmp_path / "pulled", digest) == read_blob(image.path, digest)

    raw = skopeo.run(
        "inspect",
        "--raw",
        *("--creds", BOB, "--cert-dir", str(served.cert_dir)),
        f"docker://{served.host}/team/app:v1",
    ).stdout
    assert raw == read_blob(image.path, image.digest)


def test_registry_to_registry_delete_and_tags(
    skopeo: Skopeo, served: Served, tmp_path: Path
) -> None:
    image = write_image(tmp_path / "source")
    _push(skopeo, served, image, "team/app")
    # A copy inside the registry: blobs come from (or are mounted from) team/app.
    skopeo.run(
        "copy",
        *("--src-creds", ALICE, "--src-cert-dir", str(served.cert_dir)),
        *("--dest-creds", ALICE, "--dest-cert-dir", str(served.cert_dir)),
        f"docker://{served.host}/team/app:v1",
        f"docker://{served.host}/team/copy:v1",
    )
    tags = skopeo.run(
        "list-tags",
        *("--creds", ALICE, "--cert-dir", str(served.cert_dir)),
        f"docker://{served.host}/team/copy",
    ).stdout
    assert json.loads(tags)["Tags"] == ["v1"]
    skopeo.run(
        "delete",
        *("--creds", ALICE, "--cert-dir", str(served.cert_dir)),
        f"docker://{served.host}/team/copy:v1",
    )
    gone = skopeo.try_run(
        "inspect",
        *("--creds", ALICE, "--cert-dir", str(served.cert_dir)),
        f"docker://{served.host}/team/copy:v1",
    )
    assert "manifest unknown" in _failure(gone)


def test_tls_verify_false_and_anonymous_pull(
    skopeo: Skopeo, served: Served, tmp_path: Path
) -> None:
    image = write_image(tmp_path / "source")
    skopeo.run(
        "copy",
        *("--dest-creds", ALICE, "--dest-tls-verify=false"),
        f"oci:{image.path}:{image.tag}",
        f"docker://{served.host}/public/lib:v1",
    )
    # No credentials: an anonymous token, enough to pull under public/.
    raw = skopeo.run(
        "inspect",
        "--raw",
        "--cert-dir",
        str(served.cert_dir),
        f"docker://{served.host}/public/lib:v1",
    ).stdout
    assert raw == read_blob(image.path, image.digest)


def test_refusals(skopeo: Skopeo, served: Served, tmp_path: Path) -> None:
    image = write_image(tmp_path / "source")
    _push(skopeo, served, image, "team/app")
    source = f"oci:{image.path}:{image.tag}"
    target = f"docker://{served.host}/team/app:v2"
    cert_dir = ("--dest-cert-dir", str(served.cert_dir))

    # The CA is not trusted without --cert-dir.
    untrusted = skopeo.try_run("copy", "--dest-creds", ALICE, source, target)
    assert "certificate" in _failure(untrusted)
    # Wrong password: the token endpoint refuses.
    wrong = skopeo.try_run("copy", "--dest-creds", "alice:guess", *cert_dir, source, target)
    assert "unauthorized" in _failure(wrong).lower()
    # No credentials: anonymous users may not pull (or push) team/.
    anonymous = skopeo.try_run("copy", *cert_dir, source, target)
    assert re.search("denied|unauthorized", _failure(anonymous).lower())
    # A reader may not push.
    reader = skopeo.try_run("copy", "--dest-creds", BOB, *cert_dir, source, target)
    assert re.search("denied|unauthorized", _failure(reader).lower())
    # ... nor delete.
    delete = skopeo.try_run(
        "delete",
        "--creds",
        BOB,
        "--cert-dir",
        str(served.cert_dir),
        f"docker://{served.host}/team/app:v1",
    )
    assert re.search("denied|unauthorized", _failure(delete).lower())
    # Nothing of it landed: v2 is unknown, v1 is still there.
    tags = skopeo.run(
        "list-tags",
        *("--creds", ALICE, "--cert-dir", str(served.cert_dir)),
        f"docker://{served.host}/team/app",
    ).stdout
    assert json.loads(tags)["Tags"] == ["v1"]
