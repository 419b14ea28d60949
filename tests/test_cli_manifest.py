"""``fakeregistry manifest push`` and ``inspect`` as a user runs them: real processes against
real registry ports, checking stdout, stderr and exit statuses."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakeregistry import RegistryServer, build_image, build_index
from fakeregistry.client import HostConfig
from fakeregistry.engine.pull import pull_sync
from fakeregistry.platforms.platform import Platform
from fakeregistry.rules import mediatypes as mt
from fakeregistry.tools.manifesttool import VARIANT_RULE, inspect_sync
from tests.conftest import require_tool
from tests.distribution import Distribution, run_distribution
from tests.manifest_specs import (
    TALK_MEMBERS,
    TALK_TARGET,
    build_members,
    tag_exists,
    talk_spec,
    upload,
    upload_members,
)
from tests.skopeo import Skopeo


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fakeregistry", "manifest", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


def digest_line(done: subprocess.CompletedProcess[str]) -> tuple[str, int]:
    """``Digest: <digest> <length>``, the only line on stdout."""
    assert done.returncode == 0, done.stderr
    label, digest, length = done.stdout.split(" ")
    assert label == "Digest:"
    assert done.stdout.endswith("\n")
    return digest, int(length)


@pytest.fixture(scope="module")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Distribution]:
    with run_distribution(tmp_path_factory.mktemp("distribution")) as running:
        yield running


@pytest.fixture(params=["ours", pytest.param("distribution", marks=pytest.mark.interop)])
def target(request: pytest.FixtureRequest, registry: RegistryServer) -> tuple[str, str]:
    """A registry host, and a name prefix ``HOST/NAMESPACE/`` for this test."""
    namespace = f"t{uuid.uuid4().hex[:8]}/"
    if request.param == "ours":
        return registry.host, f"{registry.host}/{namespace}"
    running: Distribution = request.getfixturevalue("distribution")
    return running.host, f"{running.host}/{namespace}"


# -- push from-spec ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_args", "list_type"),
    [
        pytest.param((), mt.DOCKER_MANIFEST_LIST, id="default-docker"),
        pytest.param(("--type", "oci"), mt.OCI_INDEX, id="type-after-from-spec"),
        pytest.param(("TYPE-FIRST",), mt.OCI_INDEX, id="type-before-from-spec"),
    ],
)
def test_push_from_spec(
    type_args: tuple[str, ...], list_type: str, target: tuple[str, str], tmp_path: Path
) -> None:
    host, prefix = target
    images = build_members(TALK_MEMBERS)
    upload_members(prefix, images)
    spec = tmp_path / "debian.yaml"
    spec.write_text(talk_spec(prefix))
    if type_args == ("TYPE-FIRST",):
        done = run("push", "--type", "oci", "from-spec", str(spec))
    else:
        done = run("push", "from-spec", str(spec), *type_args)

    digest, length = digest_line(done)
    assert done.stderr == ""
    skopeo = Skopeo(require_tool("skopeo"), tmp_path / "skopeo", {host})
    raw = skopeo.inspect_raw(f"docker://{prefix}{TALK_TARGET}")
    assert (len(raw), "sha256:" + hashlib.sha256(raw).hexdigest()) == (length, digest)
    assert json.loads(raw)["mediaType"] == list_type
    for member in TALK_MEMBERS:
        pulled = pull_sync(
            f"{prefix}{TALK_TARGET}", host=member.built_for, connection=HostConfig(plain_http=True)
        )
        assert pulled.manifest.digest == images[member.ref].digest


def test_push_from_args(registry: RegistryServer) -> None:
    prefix = f"{registry.host}/"
    for platform in ("linux/amd64", "linux/arm/v7", "linux/arm64/v8"):
        _, arch, *variant = platform.split("/")
        upload(f"{prefix}build/app:{arch}{''.join(variant)}", build_image(platform))

    done = run(
        "push",
        "--type",
        "oci",
        "from-args",
        "--platforms",
        "linux/amd64,linux/arm/v7",
        "--platforms",
        "linux/arm64/v8",
        "--template",
        f"{prefix}build/app:ARCHVARIANT",
        "--target",
        f"{prefix}app:1.0.0",
        "--tags",
        "1.0,1",
        "--tags",
        "latest",
        "--annotations",
        "org.opencontainers.image.title=App,org.opencontainers.image.version=1.0.0",
    )

    digest, _ = digest_line(done)
    for tag in ("1.0.0", "1.0", "1", "latest"):
        assert inspect_sync(f"{prefix}app:{tag}").digest == digest
    document = json.loads(inspect_sync(f"{prefix}app:1").raw)
    assert document["annotations"] == {
        "org.opencontainers.image.title": "App",
        "org.opencontainers.image.version": "1.0.0",
    }
    assert [Platform.from_json(e["platform"]).format() for e in document["manifests"]] == [
        "linux/amd64",
        "linux/arm/v7",
        "linux/arm64/v8",
    ]


def test_warnings_go_to_stderr(registry: RegistryServer, tmp_path: Path) -> None:
    prefix = f"{registry.host}/"
    upload(f"{prefix}win:1", build_image("windows(10.0.17763.1)/amd64"))
    spec = tmp_path / "win.yaml"
    spec.write_text(
        f"image: {prefix}win:list\nmanifests:\n  - image: {prefix}win:1\n    platform:\n"
        "      os: windows\n      architecture: amd64\n      os.version: 10.0.17763.1\n"
        f"  - image: {prefix}win:absent\n"
    )

    done = run("push", "from-spec", str(spec), "--ignore-missing")

    digest_line(done)
    lines = done.stderr.splitlines()
    assert lines[0].startswith(
        f'fakeregistry manifest push: warning: {spec}:7: manifests[0].platform: "os.version" '
        'is the OCI spelling; manifest-tool reads "osversion"'
    )
    assert lines[1].startswith(
        f"fakeregistry manifest push: warning: {spec}:8: manifests[1]: couldn't access image "
        f'"{prefix}win:absent"'
    )
    assert len(lines) == 2


# -- what is refused ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Arguments after ``manifest push`` (``{spec}`` is written from ``spec``; ``{p}`` is
    ``HOST/``) and the one line expected on stderr."""

    args: tuple[str, ...]
    message: str
    spec: str = ""


_LIST = "image: {p}app:multi\nmanifests:\n"
REFUSALS = [
    pytest.param(Refusal(
        ("from-spec", "{spec}"),
        "{spec}:3: manifests[0]: manifest entry for image {p}src/amd64:1 has unsupported os/arch "
        'or os/arch/variant combination: linux/amd65/: architecture "amd65" is not a Go GOARCH '
        "value",
        _LIST + "  - image: {p}src/amd64:1\n    platform: {{os: linux, architecture: amd65}}\n",
    ), id="unknown-arch"),
    pytest.param(Refusal(
        ("from-spec", "{spec}"),
        'combination: beos/amd64/: os "beos" is not a Go GOOS value',
        _LIST + "  - image: {p}src/amd64:1\n    platform: {{os: beos, architecture: amd64}}\n",
    ), id="unknown-os"),
    pytest.param(Refusal(
        ("from-args", "--platforms", "linux/amd64,linux/386/v1", "--template", "{p}src/ARCH:1",
         "--target", "{p}app:multi"),
        "--platforms linux/386/v1: manifest entry for image {p}src/386:1 has unsupported os/arch "
        'or os/arch/variant combination: linux/386/v1: variant "v1" is not allowed for '
        f"linux/386: {VARIANT_RULE}",
    ), id="variant-where-none-is-allowed"),
    pytest.param(Refusal(
        ("from-spec", "{spec}"),
        "{spec}:4: manifests[1]: source image (registry.example/src/arm64:1) registry does not "
        "match target image ({p}app:multi) registry",
        _LIST + "  - image: {p}src/amd64:1\n  - image: registry.example/src/arm64:1\n",
    ), id="member-on-another-registry-host"),
    pytest.param(Refusal(
        ("from-spec", "{spec}"),
        '{spec}:4: manifests[1]: inspect of image "{p}src/absent:1" failed with error: GET ',
        _LIST + "  - image: {p}src/amd64:1\n  - image: {p}src/absent:1\n",
    ), id="missing-member"),
    pytest.param(Refusal(
        ("from-spec", "--ignore-missing", "{spec}"),
        "all entries were skipped due to missing source image references; no manifest list to "
        "push",
        _LIST + "  - image: {p}src/absent:1\n",
    ), id="every-member-missing-with-ignore-missing"),
    pytest.param(Refusal(
        ("from-spec", "{spec}"),
        "{spec}:4: manifests[1]: cannot include two manifests with the same platform; digest ",
        _LIST + "  - image: {p}src/amd64:1\n  - image: {p}src/amd64:copy\n",
    ), id="two-members-same-platform"),
    pytest.param(Refusal(
        ("from-args", "--platforms", "linux/amd64", "--template", "{p}src/ARCH:1", "--target",
         "{p}app:multi", "--annotations", "a=b"),
        "manifest list (Docker media type) does not support annotations; use --type oci instead",
    ), id="annotations-with-type-docker"),
    pytest.param(Refusal(
        ("from-spec", "{spec}"),
        "{spec}:3:3: malformed YAML: expected the node content, but found '-'",
        "image: {p}app:multi\nmanifests: [\n  - image: x\n",
    ), id="malformed-yaml"),
    pytest.param(Refusal(
        ("from-spec", "{spec}"),
        '{spec}:5: unknown key "arch" in manifests[0].platform (known keys: architecture, os, '
        "variant, osversion, osfeatures)",
        _LIST + "  - image: {p}src/amd64:1\n    platform:\n      arch: amd64\n",
    ), id="unknown-key"),
    pytest.param(Refusal(
        ("from-args", "--platforms", "linux", "--template", "{p}src/ARCH:1", "--target",
         "{p}app:multi"),
        "the --platforms argument must be a string slice where one value is of the form "
        "'os/arch'",
    ), id="platform-without-arch"),
    pytest.param(Refusal(("from-spec", "{spec}.absent"), "cannot read spec {spec}.absent: "),
                 id="no-such-spec-file"),
]  # fmt: skip


@pytest.fixture
def sources(registry: RegistryServer) -> str:
    prefix = f"{registry.host}/"
    amd64 = build_image("linux/amd64")
    upload(f"{prefix}src/amd64:1", amd64)
    upload(f"{prefix}src/amd64:copy", amd64)
    upload(f"{prefix}src/386:1", build_image({"os": "linux", "architecture": "386"}))
    return prefix


@pytest.mark.parametrize("case", REFUSALS)
def test_refused(case: Refusal, sources: str, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    if case.spec:
        spec.write_text(case.spec.format(p=sources))
    args = [arg.format(p=sources, spec=spec) for arg in case.args]

    done = run("push", *args)

    assert done.returncode == 1, done.stdout
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("fakeregistry manifest push: ")
    assert case.message.format(p=sources, spec=spec) in done.stderr
    assert not tag_exists(f"{sources}app:multi")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("push", "from-spec", "x.yaml", "--username", "u"),
            "--username needs --password-stdin",
            id="username-without-password",
        ),
        pytest.param(
            ("inspect", "r.example/a:1", "--password-stdin"),
            "--password-stdin needs --username",
            id="password-without-username",
        ),
        pytest.param(
            ("push", "--type", "oci", "from-spec", "x.yaml", "--type", "docker"),
            "--type oci and --type docker disagree",
            id="two-types",
        ),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    done = run(*args, stdin="secret\n")
    assert done.returncode == 2
    assert message in done.stderr


def test_bad_type_is_a_usage_error() -> None:
    done = run("push", "--type", "v2s2", "from-spec", "x.yaml")
    assert done.returncode == 2
    assert "invalid choice: 'v2s2'" in done.stderr


# -- inspect -----------------------------------------------------------------------------------


@pytest.fixture
def pushed_list(registry: RegistryServer) -> dict[str, str]:
    prefix = f"{registry.host}/"
    amd64 = build_image("linux/amd64", media_type="docker")
    armv7 = build_image("linux/arm/v7", media_type="docker")
    index = build_index([amd64, armv7], media_type="docker")
    upload(f"{prefix}app:1", index)
    return {
        "ref": f"{prefix}app:1",
        "digest": index.digest,
        "amd64": amd64.digest,
        "armv7": armv7.digest,
        "raw": index.manifest.decode(),
    }


def test_inspect_text(pushed_list: dict[str, str]) -> None:
    done = run("inspect", pushed_list["ref"])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == [
        f"Name:   {pushed_list['ref']} (Type: {mt.DOCKER_MANIFEST_LIST})",
        f"Digest: {pushed_list['digest']}",
        " * Contains 2 manifest references (2 images, 0 attestation):",
    ]
    assert f"[1]   Digest: {pushed_list['amd64']}" in lines
    assert f"[2]   Digest: {pushed_list['armv7']}" in lines
    assert "[2]    - Variant: v7" in lines
    assert done.stdout.endswith("\n\n")


def test_inspect_json(pushed_list: dict[str, str]) -> None:
    done = run("inspect", pushed_list["ref"], "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["digest"] == pushed_list["digest"]
    assert [(e["digest"], e["platform"], e["layerCount"]) for e in document["manifests"]] == [
        (pushed_list["amd64"], {"architecture": "amd64", "os": "linux"}, 1),
        (pushed_list["armv7"], {"architecture": "arm", "os": "linux", "variant": "v7"}, 1),
    ]


def test_inspect_raw(pushed_list: dict[str, str]) -> None:
    done = run("inspect", pushed_list["ref"], "--raw", "--plain-http")
    assert done.returncode == 0, done.stderr
    assert done.stdout == pushed_list["raw"]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        pytest.param(
            "{host}/app",
            "fakeregistry manifest inspect: image reference must include a tag or a digest; "
            "manifest-tool does not default to 'latest'",
            id="no-tag",
        ),
        pytest.param(
            "{host}/absent:1",
            "fakeregistry manifest inspect: error fetching {host}/absent:1: GET ",
            id="absent",
        ),
    ],
)
def test_inspect_errors(ref: str, message: str, registry: RegistryServer) -> None:
    done = run("inspect", ref.format(host=registry.host))
    assert done.returncode == 1
    assert done.stderr.startswith(message.format(host=registry.host))
    assert done.stderr.count("\n") == 1
