"""The real clients against our engine profiles: podman, buildah, skopeo, the docker CLI, ctr.

Each test builds multi-platform lists *with the real tools* in a registry of its own, pulls
from them with the real tools for many requested platforms, and checks that our profile picks
what the tool picked (``docs/platform-rules.md`` A5, A9):

- podman and buildah (Debian 12: podman 4.3.1, buildah 1.28.2; rootful, vfs storage under
  tmp_path) ``manifest create/add/push`` the lists; ``podman pull --os/--arch/--variant``
  must get what ``podman-4.3`` picks (podman reports the instance digest in ``RepoDigests``);
- ``skopeo copy --override-os/--override-arch/--override-variant`` (skopeo 1.9.3) must copy
  what ``skopeo-1.9`` picks;
- the docker CLI (no daemon needed) ``manifest create/annotate/push/inspect --insecure``,
  read back by ``fakeregistry manifest inspect``;
- ``ctr content fetch --platform`` (Debian's containerd 1.6, started here with its own root,
  state and socket) must fetch what the ``containerd`` profile picks, for the platforms where
  containerd 1.6's fetch (``platforms.Any``: every exact match) and today's pull
  (``platforms.Only``: the best one) agree.

Every case runs on this machine, so the engines' host is ``Platform.host()``; what varies is
the platform asked for.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakeregistry import RegistryOptions, RegistryServer
from fakeregistry.engine.selection import NoMatchingManifest, select_manifest
from fakeregistry.platforms.platform import Platform
from fakeregistry.rules import mediatypes as mt
from fakeregistry.testing.harness import FakeRegistry
from tests.conftest import require_tool
from tests.skopeo import Skopeo

pytestmark = pytest.mark.interop

# The index of issue 13: podman picks arm/v6 for armhf, skopeo nothing.
LIST_A = (
    "linux/arm",
    "linux/arm/v6",
    "linux/arm64/v8",
    "linux/arm64",
    "linux/amd64/v3",
    "linux/amd64",
)
# No arm/v6, no s390x; amd64 levels; 386.
LIST_B = (
    "linux/amd64",
    "linux/amd64/v2",
    "linux/arm/v5",
    "linux/arm/v7",
    "linux/arm64/v8",
    "linux/386",
)

# (os, arch, variant) as typed on the command line: the subtle ones of issue 13.
REQUESTS = [
    ("linux", "arm", ""),  # arm with no variant: skopeo wants "", podman arm/v7
    ("linux", "arm", "v6"),  # on LIST_B: no v6 -> v5
    ("linux", "arm", "v8"),
    ("linux", "arm64", ""),
    ("linux", "arm64", "v8"),
    ("linux", "arm64", "8"),  # podman: arm64/v8
    ("linux", "aarch64", ""),  # podman: arm64; skopeo: nothing
    ("linux", "armhf", ""),  # podman: arm/v7 (-> v6 on LIST_A); skopeo: nothing
    ("linux", "armel", ""),
    ("linux", "386", ""),
    ("linux", "s390x", ""),  # nothing anywhere
    ("linux", "amd64", ""),
    ("linux", "amd64", "v3"),  # 5.23.1: v3, then the baseline (no v2 step)
    ("linux", "amd64", "v2"),
    ("linux", "amd64", "v1"),  # 5.23.1 compares strings: v1 is not ""
]


def _name(request: tuple[str, str, str]) -> str:
    return "/".join(part for part in request if part) or "default"


def _env(root: Path) -> dict[str, str]:
    """A containers configuration of its own: no search registries, no system files."""
    conf = root / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "registries.conf").write_text("unqualified-search-registries = []\n")
    (conf / "containers.conf").write_text('[engine]\nevents_logger = "file"\n')
    (conf / "policy.json").write_text('{"default": [{"type": "insecureAcceptAnything"}]}')
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "CONTAINERS_REGISTRIES_CONF": str(conf / "registries.conf"),
        "CONTAINERS_CONF": str(conf / "containers.conf"),
        "TMPDIR": str(root),
    }


class Containers:
    """podman or buildah, rootful, with vfs storage under *root* (the run root in a short
    temporary directory of its own: podman refuses one longer than 50 characters)."""

    def __init__(self, binary: str, root: Path) -> None:
        self.binary = binary
        self.root = root
        self.env = _env(root)
        self.policy = str(root / "conf" / "policy.json")
        self.runroot = Path(tempfile.mkdtemp(prefix="fr-run-"))

    def close(self) -> None:
        shutil.rmtree(self.runroot, ignore_errors=True)

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [
            self.binary,
            "--root",
            str(self.root / "storage"),
            "--runroot",
            str(self.runroot),
            "--storage-driver",
            "vfs",
            *args,
        ]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=120)
        if check:
            assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
        return done


@pytest.fixture(scope="module")
def registry_server() -> Iterator[RegistryServer]:
    server = RegistryServer(RegistryOptions()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sources(registry_server: RegistryServer) -> dict[str, str]:
    """One single-platform image per platform in ``engines/src:<tag>``; {platform: tag}."""
    fake = FakeRegistry.for_server(registry_server)
    tags = {}
    for platform in sorted(set(LIST_A) | set(LIST_B)):
        tag = platform.replace("/", "-")
        fake.push_image(f"engines/src:{tag}", platform=platform)
        tags[platform] = tag
    return tags


def _index(server: RegistryServer, repo: str, tag: str) -> dict[str, Any]:
    """The list as our registry stores it (what every client then pulls)."""
    accept = f"{mt.OCI_INDEX}, {mt.DOCKER_MANIFEST_LIST}"
    response = httpx.get(f"{server.url}/v2/{repo}/manifests/{tag}", headers={"Accept": accept})
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def _platforms(document: dict[str, Any]) -> list[str]:
    return [
        "/".join(
            m["platform"].get(k, "")
            for k in ("os", "architecture", "variant")
            if m["platform"].get(k)
        )
        for m in document["manifests"]
    ]


def _expected(
    document: dict[str, Any], engine: str, request: tuple[str, str, str] | Platform
) -> str:
    """The digest *engine* picks on this machine for *request*, or "" for no match."""
    requested = request if isinstance(request, Platform) else Platform(*request)
    try:
        return select_manifest(document, Platform.host(), engine, requested=requested).digest
    except NoMatchingManifest:
        return ""


def _make_list(
    tool: Containers, host: str, sources: dict[str, str], platforms: tuple[str, ...], target: str
) -> None:
    """``<tool> manifest create/add/push``: a list of *platforms* pushed to *target*."""
    tool("manifest", "create", "made")
    for platform in platforms:
        os_name, arch, *variant = platform.split("/")
        flags = ["--os", os_name, "--arch", arch]
        if variant:
            flags += ["--variant", variant[0]]
        tool(
            "manifest",
            "add",
            "--tls-verify=false",
            *flags,
            "made",
            f"docker://{host}/engines/src:{sources[platform]}",
        )
    tool(
        "manifest",
        "push",
        "--all",
        "--tls-verify=false",
        "--format",
        "oci",
        "made",
        f"docker://{target}",
    )


def _check_made(document: dict[str, Any], platforms: tuple[str, ...]) -> None:
    assert _platforms(document) == list(platforms)


@pytest.fixture(scope="module")
def lists(
    tmp_path_factory: pytest.TempPathFactory,
    registry_server: RegistryServer,
    sources: dict[str, str],
) -> dict[str, dict[str, Any]]:
    """LIST_A made by podman, LIST_B by buildah; {repo: document}."""
    host = registry_server.host
    podman = Containers(require_tool("podman"), tmp_path_factory.mktemp("podman-make"))
    try:
        _make_list(podman, host, sources, LIST_A, f"{host}/engines/podman-made:latest")
    finally:
        podman.close()
    buildah = Containers(require_tool("buildah"), tmp_path_factory.mktemp("buildah-make"))
    try:
        _make_list(buildah, host, sources, LIST_B, f"{host}/engines/buildah-made:latest")
    finally:
        buildah.close()
    made = {
        "engines/podman-made": _index(registry_server, "engines/podman-made", "latest"),
        "engines/buildah-made": _index(registry_server, "engines/buildah-made", "latest"),
    }
    _check_made(made["engines/podman-made"], LIST_A)
    _check_made(made["engines/buildah-made"], LIST_B)
    return made


def test_podman_and_buildah_push_the_lists_as_built(lists: dict[str, dict[str, Any]]) -> None:
    for document in lists.values():
        assert document["mediaType"] == "application/vnd.oci.image.index.v1+json"


@pytest.mark.parametrize("repo", ["engines/podman-made", "engines/buildah-made"])
def test_podman_pull_picks_what_the_podman_profile_picks(
    repo: str, lists: dict[str, dict[str, Any]], registry_server: RegistryServer, tmp_path: Path
) -> None:
    podman = Containers(require_tool("podman"), tmp_path)
    disagreements = _pull_all(podman, lists[repo], f"{registry_server.host}/{repo}:latest")
    assert not disagreements, "\n".join(disagreements)


def _pull_all(podman: Containers, document: dict[str, Any], ref: str) -> list[str]:
    try:
        return _pulls(podman, document, ref)
    finally:
        podman.close()


def _pulls(podman: Containers, document: dict[str, Any], ref: str) -> list[str]:
    children = {m["digest"] for m in document["manifests"]}
    disagreements = []
    for request in REQUESTS:
        flags = ["--os", request[0], "--arch", request[1]]
        if request[2]:
            flags += ["--variant", request[2]]
        done = podman(
            "pull",
            "-q",
            "--tls-verify=false",
            "--signature-policy",
            podman.policy,
            *flags,
            ref,
            check=False,
        )
        want = _expected(document, "podman-4.3", request)
        if done.returncode != 0:
            got = ""
            assert "no image found in image index" in done.stderr, done.stderr
        else:
            image_id = done.stdout.strip().splitlines()[-1]
            inspected = podman("image", "inspect", "--format", "{{json .RepoDigests}}", image_id)
            digests = {d.split("@", 1)[1] for d in json.loads(inspected.stdout)} & children
            assert len(digests) == 1, digests
            got = digests.pop()
        if got != want:
            disagreements.append(
                f"{_name(request)}: podman {got or 'nothing'}, profile {want or 'nothing'}"
            )
    return disagreements


@pytest.mark.parametrize("repo", ["engines/podman-made", "engines/buildah-made"])
def test_skopeo_copy_picks_what_the_skopeo_profile_picks(
    repo: str, lists: dict[str, dict[str, Any]], registry_server: RegistryServer, tmp_path: Path
) -> None:
    skopeo = Skopeo(require_tool("skopeo"), tmp_path / "skopeo", {registry_server.host})
    document = lists[repo]
    source = f"docker://{registry_server.host}/{repo}:latest"
    disagreements = []
    for i, request in enumerate(REQUESTS):
        flags = ["--override-os", request[0], "--override-arch", request[1]]
        if request[2]:
            flags += ["--override-variant", request[2]]
        want = _expected(document, "skopeo-1.9", request)
        digest_file = tmp_path / f"digest-{i}"
        done = skopeo.try_run(
            "copy",
            "--src-tls-verify=false",
            "--digestfile",
            str(digest_file),
            *flags,
            source,
            f"dir:{tmp_path / f'copy-{i}'}",
        )
        if done.returncode != 0:
            got = ""
            assert b"no image found in image index" in done.stderr, done.stderr
        else:
            got = digest_file.read_text().strip()
        if got != want:
            disagreements.append(
                f"{_name(request)}: skopeo {got or 'nothing'}, profile {want or 'nothing'}"
            )
    assert not disagreements, "\n".join(disagreements)


def test_profiles_tell_podman_from_skopeo_on_the_issue_index(
    lists: dict[str, dict[str, Any]],
) -> None:
    """The case of issue 13: armhf on [arm, arm/v6, arm64/v8, arm64, amd64/v3, amd64]."""
    document = lists["engines/podman-made"]
    by_platform = dict(
        zip(_platforms(document), (m["digest"] for m in document["manifests"]), strict=True)
    )
    armhf = ("linux", "armhf", "")
    assert _expected(document, "podman-4.3", armhf) == by_platform["linux/arm/v6"]
    assert _expected(document, "podman", armhf) == by_platform["linux/arm/v6"]
    assert _expected(document, "skopeo-1.9", armhf) == ""
    assert _expected(document, "skopeo", armhf) == ""
    arm = ("linux", "arm", "")
    assert _expected(document, "skopeo", arm) == by_platform["linux/arm"]


def test_docker_manifest_create_annotate_push_inspect(
    registry_server: RegistryServer, sources: dict[str, str], tmp_path: Path
) -> None:
    docker = require_tool("docker")
    host = registry_server.host
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DOCKER_CONFIG": str(tmp_path / "docker"),
    }
    target = f"{host}/engines/docker-made:latest"
    members = {
        platform: f"{host}/engines/src:{sources[platform]}"
        for platform in ("linux/arm/v5", "linux/arm64/v8", "linux/amd64")
    }

    def run(*args: str) -> str:
        done = subprocess.run([docker, *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"docker {' '.join(args)}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    run("manifest", "create", "--insecure", target, *members.values())
    # Re-label the arm/v5 image as arm/v7 and the amd64 one as amd64/v2: what was annotated is
    # what must be pushed.
    run("manifest", "annotate", target, members["linux/arm/v5"], "--variant", "v7")
    run("manifest", "annotate", target, members["linux/amd64"], "--variant", "v2")
    pushed = run("manifest", "push", "--insecure", target).strip().splitlines()[-1]
    document = _index(registry_server, "engines/docker-made", "latest")
    # The CLI writes the entries in an order of its own; what was annotated is what it pushed.
    assert sorted(_platforms(document)) == ["linux/amd64/v2", "linux/arm/v7", "linux/arm64/v8"]
    inspected = json.loads(run("manifest", "inspect", "--insecure", target))
    assert inspected["manifests"] == document["manifests"]
    ours = subprocess.run(
        [
            sys.executable,
            "-m",
            "fakeregistry",
            "manifest",
            "inspect",
            "--plain-http",
            "--json",
            target,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ours.returncode == 0, ours.stderr
    shown = json.loads(ours.stdout)
    assert shown["digest"] == pushed
    text = json.dumps(shown)
    for platform in ("linux/arm/v7", "linux/arm64/v8", "linux/amd64/v2"):
        assert all(part in text for part in platform.split("/"))


# -- ctr (containerd 1.6) -----------------------------------------------------------------------

# Platforms whose exact (normalised) matches in LIST_B are none or exactly one: there
# containerd 1.6's Fetch (Any: every exact match) and today's Pull (Only: the best) agree.
CTR_REQUESTS = [
    "linux/amd64",
    "linux/amd64/v2",
    "linux/arm/v7",
    "linux/arm",  # Parse: arm/v7
    "linux/arm/v5",
    "linux/arm64",
    "linux/arm64/v8",
    "linux/aarch64",
    "linux/armhf",  # containerd normalises: arm/v7
    "linux/386",
    "linux/s390x",  # nothing
]


@pytest.fixture
def containerd(tmp_path: Path) -> Iterator[str]:
    """A containerd 1.6 of our own: root, state, socket and config under tmp_path."""
    binary = require_tool("containerd")
    require_tool("ctr")
    socket = tmp_path / "containerd.sock"
    config = tmp_path / "config.toml"
    disabled = [
        "io.containerd.grpc.v1.cri",
        "io.containerd.snapshotter.v1.btrfs",
        "io.containerd.snapshotter.v1.aufs",
        "io.containerd.snapshotter.v1.zfs",
        "io.containerd.snapshotter.v1.devmapper",
        "io.containerd.internal.v1.opt",
        "io.containerd.tracing.processor.v1.otlp",
    ]
    config.write_text(
        "version = 2\n"
        f'root = "{tmp_path / "root"}"\n'
        f'state = "{tmp_path / "state"}"\n'
        f"disabled_plugins = {json.dumps(disabled)}\n"
        f'[grpc]\n  address = "{socket}"\n'
        f'[ttrpc]\n  address = "{socket}.ttrpc"\n'
        '[debug]\n  address = ""\n[metrics]\n  address = ""\n'
    )
    log = (tmp_path / "containerd.log").open("w")
    process = subprocess.Popen(
        [binary, "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not socket.exists():
            assert process.poll() is None, (tmp_path / "containerd.log").read_text()
            assert time.monotonic() < deadline, "containerd did not start"
            time.sleep(0.05)
        yield str(socket)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_ctr_content_fetch_fetches_what_the_containerd_profile_picks(
    containerd: str, lists: dict[str, dict[str, Any]], registry_server: RegistryServer
) -> None:
    ctr = require_tool("ctr")
    document = lists["engines/buildah-made"]
    children = {m["digest"] for m in document["manifests"]}
    ref = f"{registry_server.host}/engines/buildah-made:latest"
    disagreements = []
    for i, platform in enumerate(CTR_REQUESTS):
        exact = _expected(document, "containerd-strict", Platform.parse(platform))
        want = _expected(document, "containerd", Platform.parse(platform))
        assert exact == want, f"{platform}: containerd 1.6 and today differ here; not a ctr case"
        namespace = f"case{i}"
        base = [ctr, "--address", containerd, "--namespace", namespace]
        fetch = subprocess.run(
            [*base, "content", "fetch", "--plain-http", "--platform", platform, ref],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert fetch.returncode == 0, fetch.stderr
        listed = subprocess.run(
            [*base, "content", "ls", "-q"], capture_output=True, text=True, timeout=30
        )
        assert listed.returncode == 0, listed.stderr
        fetched = set(listed.stdout.split()) & children
        got = fetched.pop() if len(fetched) == 1 else ("" if not fetched else f"{sorted(fetched)}")
        if got != want:
            disagreements.append(f"{platform}: ctr {got or 'nothing'}, profile {want or 'nothing'}")
    assert not disagreements, "\n".join(disagreements)
