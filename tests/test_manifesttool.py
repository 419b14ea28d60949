"""``fakeregistry.tools.manifesttool``: manifest-tool's spec, platform rules, list bytes, push and
inspect, against our server and CNCF distribution, read back with skopeo and our simulated
pull."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from fakeregistry import build_artifact, build_image, build_index
from fakeregistry.client import HostConfig, RegistryClient
from fakeregistry.engine.pull import pull_sync
from fakeregistry.engine.selection import NoMatchingManifest
from fakeregistry.platforms.platform import Platform
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.reference import ImageReference
from fakeregistry.tools.manifesttool import (
    VARIANT_RULE,
    DuplicatePlatformError,
    ListEntry,
    ManifestToolError,
    MemberError,
    MemberSpec,
    PlatformRuleError,
    PushResult,
    SpecError,
    expand_template,
    format_inspect,
    inspect_sync,
    is_valid_os_arch,
    load_spec,
    parse_spec,
    platform_problem,
    push_manifest_list,
    push_manifest_list_sync,
    serialize_list,
    spec_from_args,
)
from tests.conftest import RegistryFactory, require_tool
from tests.distribution import Distribution, run_distribution
from tests.manifest_specs import (
    RELEASE_MEMBERS,
    RELEASE_TARGET,
    TALK_MEMBERS,
    TALK_TARGET,
    VERSION,
    WIN2016,
    WIN2019,
    aupload,
    build_members,
    release_spec,
    tag_exists,
    talk_spec,
    upload,
    upload_members,
)
from tests.skopeo import Skopeo

# -- the platform rules ------------------------------------------------------------------------

# manifest-tool's os_test.go, plus the cases docs/platform-rules.md A11 lists.
VALID = {
    True: [
        "darwin/amd64", "darwin/arm64", "dragonfly/amd64", "freebsd/386", "freebsd/amd64",
        "freebsd/arm", "linux/386", "linux/amd64", "linux/arm", "linux/arm/v5", "linux/arm/v6",
        "linux/arm/v7", "linux/arm64", "linux/arm64/v8", "linux/mips64", "linux/mips64le",
        "linux/ppc64", "linux/ppc64le", "linux/riscv64", "linux/s390x", "netbsd/386",
        "netbsd/amd64", "netbsd/arm", "openbsd/386", "openbsd/amd64", "openbsd/arm",
        "plan9/386", "plan9/amd64", "solaris/amd64", "windows/386", "windows/amd64",
        "windows/s390x", "wasip1/wasm", "linux/loong64",
    ],
    False: [
        "123/abc", "etc/xyz", "/", "linux/amd64/v2", "linux/arm/v8", "linux/arm64/v9",
        "windows/arm64/v8", "linux/arm/7", "linux/386/v1", "linux/x86_64", "linux/aarch64",
        "Linux/amd64", "linux/sparc64", "linux/arm64/armv8", "hurd/amd64",
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("specifier", "valid"),
    [pytest.param(s, valid, id=s or "empty") for valid, items in VALID.items() for s in items],
)
def test_is_valid_os_arch(specifier: str, valid: bool) -> None:
    os_name, architecture, *variant = specifier.split("/")
    assert is_valid_os_arch(os_name, architecture, *variant) is valid


@pytest.mark.parametrize(
    ("specifier", "message"),
    [
        pytest.param(
            "linux2/amd64", 'os "linux2" is not a Go GOOS value (aix, android,', id="unknown-os"
        ),
        pytest.param("macos/arm64", 'did you mean "darwin"?', id="os-alias"),
        pytest.param(
            "linux/sparc", 'architecture "sparc" is not a Go GOARCH value (386, amd64,', id="arch"
        ),
        pytest.param("linux/x86_64", 'did you mean "amd64"?', id="arch-alias"),
        pytest.param(
            "linux/amd64/v2",
            f'variant "v2" is not allowed for linux/amd64: {VARIANT_RULE}',
            id="variant-on-amd64",
        ),
        pytest.param("linux/arm64/armv8", 'did you mean "v8"?', id="talk-variant-armv8"),
        pytest.param("linux/arm/7", 'did you mean "v7"?', id="bare-number-variant"),
        pytest.param("/amd64", "os is empty", id="empty-os"),
    ],
)
def test_platform_problem_states_the_rule(specifier: str, message: str) -> None:
    os_name, architecture, *variant = specifier.split("/")
    problem = platform_problem(os_name, architecture, *variant)
    assert problem is not None
    assert message in problem


# -- the spec ----------------------------------------------------------------------------------


def test_parse_talk_spec() -> None:
    spec = parse_spec(talk_spec("reg.example:5000/"), source="talk.yaml")
    assert spec.image == "reg.example:5000/estesp/debian:jessie"
    assert [(m.image, m.platform.format()) for m in spec.manifests] == [
        ("reg.example:5000/s390x/debian:jessie", "linux/s390x"),
        ("reg.example:5000/debian:jessie", "linux/amd64"),
        ("reg.example:5000/ppc64le/debian:jessie", "linux/ppc64le"),
        ("reg.example:5000/aarch64/debian:jessie", "linux/arm64/v8"),
    ]
    assert spec.manifests[1].origin == "talk.yaml:9: manifests[1]"
    assert spec.tags == ()
    assert spec.warnings == ()


def test_parse_release_spec_reads_numbers_as_strings() -> None:
    spec = parse_spec(release_spec("r.example/"))
    assert len(spec.manifests) == 10
    assert spec.tags == ("latest",)
    assert spec.manifests[2].platform == Platform("linux", "386")  # `architecture: 386`


PLATFORM_CASES = [
    pytest.param("{os: linux, architecture: arm, variant: 7}", Platform("linux", "arm", "7"), 0,
                 id="integer-variant-is-text"),
    pytest.param("{os: linux, architecture: amd64, variant: ~}", Platform("linux", "amd64"), 0,
                 id="null-variant"),
    pytest.param("", Platform("", ""), 0, id="null-platform"),
    pytest.param(
        "{os: windows, architecture: amd64, osversion: 10.0.17763.1, osfeatures: [win32k]}",
        Platform("windows", "amd64", os_version="10.0.17763.1", os_features=("win32k",)), 0,
        id="manifest-tool-keys",
    ),
    pytest.param(
        "{os: windows, architecture: amd64, os.version: 10.0.17763.1, os.features: [win32k]}",
        Platform("windows", "amd64", os_version="10.0.17763.1", os_features=("win32k",)), 2,
        id="oci-spellings-honoured-with-warnings",
    ),
    pytest.param(
        "{os: windows, architecture: amd64, osversion: '1', os.version: '1'}",
        Platform("windows", "amd64", os_version="1"), 1, id="both-spellings-agreeing",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "expected", "warnings"), PLATFORM_CASES)
def test_parse_platform(platform: str, expected: Platform, warnings: int) -> None:
    spec = parse_spec(
        f"image: r.example/a:1\nmanifests:\n  - image: r.example/b:1\n    platform: {platform}\n"
    )
    assert spec.manifests[0].platform == expected
    assert len(spec.warnings) == warnings
    if warnings:
        assert (
            'manifest-tool reads "osversion" and silently ignores "os.version"'
            in (spec.warnings[0])
        )


@dataclass(frozen=True)
class BadSpec:
    text: str
    message: str


BAD_SPECS = [
    pytest.param(BadSpec("image: a/b:1\nmanifests: [\n", "<spec>:3:1: malformed YAML: expected"),
                 id="malformed-yaml"),
    pytest.param(BadSpec("image: a/b:1\n manifests: x\n",
                         "<spec>:2:11: malformed YAML: mapping values are not allowed here"),
                 id="malformed-indentation"),
    pytest.param(BadSpec("", "the spec is empty"), id="empty"),
    pytest.param(BadSpec("- a\n", "<spec>:1: the spec must be a mapping, not a list"),
                 id="not-a-mapping"),
    pytest.param(BadSpec("image: a/b:1\nmanifest:\n  - image: a/c:1\n",
                         '<spec>:2: unknown key "manifest" in the spec (known keys: image, tags, '
                         "annotations, manifests)"), id="unknown-top-level-key"),
    pytest.param(BadSpec("image: a/b:1\nmanifests:\n  - image: a/c:1\n    platfrom: {}\n",
                         '<spec>:4: unknown key "platfrom" in manifests[0]'),
                 id="unknown-member-key"),
    pytest.param(BadSpec("image: a/b:1\nmanifests:\n  - image: a/c:1\n    platform:\n"
                         "      os: linux\n      arch: amd64\n",
                         '<spec>:6: unknown key "arch" in manifests[0].platform (known keys: '
                         "architecture, os, variant, osversion, osfeatures)"),
                 id="unknown-platform-key"),
    pytest.param(BadSpec("Image: a/b:1\nmanifests:\n  - image: a/c:1\n",
                         '<spec>:1: unknown key "Image" in the spec (known keys: image, tags, '
                         'annotations, manifests); did you mean "image"? (manifest-tool reads '
                         "lower-case keys only"), id="camel-case-key"),
    pytest.param(BadSpec("image: a/b:1\nmanifests:\n  - image: a/c:1\n    platform:\n"
                         "      OSVersion: '1'\n", 'did you mean "osversion"?'),
                 id="camel-case-osversion"),
    pytest.param(BadSpec("image: a/b:1\nmanifests:\n  - image: a/c:1\n    platform:\n"
                         "      features: [sse4]\n",
                         '<spec>:5: unknown key "features" in manifests[0].platform'),
                 id="features-not-read-by-manifest-tool"),
    pytest.param(BadSpec("image: a/b:1\nmanifests:\n  - image: a/c:1\n    annotations: {}\n",
                         "manifest-tool has no per-manifest annotations"),
                 id="per-manifest-annotations"),
    pytest.param(BadSpec("image: a/b:1\ntags: v1\nmanifests:\n  - image: a/c:1\n",
                         '<spec>:2: tags must be a YAML list (e.g. [a, b]), not a scalar "v1"'),
                 id="tags-scalar"),
    pytest.param(BadSpec("image: a/b:1\ntags: [v1, -bad]\nmanifests:\n  - image: a/c:1\n",
                         '<spec>:2: tags[1]: "-bad" is not a valid tag'), id="invalid-tag"),
    pytest.param(BadSpec("image: a/b:1\n", "<spec>:1: the spec has no manifests:"),
                 id="no-manifests"),
    pytest.param(BadSpec("image: a/b:1\nmanifests: []\n", "<spec>:2: manifests is empty"),
                 id="empty-manifests"),
    pytest.param(BadSpec("manifests:\n  - image: a/c:1\n", "<spec>:1: the spec has no image:"),
                 id="no-target"),
    pytest.param(BadSpec("image: a/b@sha256:" + "0" * 64 + "\nmanifests:\n  - image: a/c:1\n",
                         "<spec>:1: image: the target must be name:tag, not a digest"),
                 id="target-digest"),
    pytest.param(BadSpec("image: A/B:1\nmanifests:\n  - image: a/c:1\n",
                         "<spec>:1: image: invalid reference format: repository name (A/B) must "
                         "be lowercase"), id="invalid-target"),
    pytest.param(BadSpec("image: a/b:1\nmanifests:\n  - platform: {os: linux}\n",
                         "<spec>:3: manifests[0] has no image:"), id="member-without-image"),
    pytest.param(BadSpec("image: a/b:1\nimage: a/c:1\nmanifests:\n  - image: a/c:1\n",
                         '<spec>:2: the spec: key "image" is given twice'), id="repeated-key"),
    pytest.param(BadSpec("image: a/b:1\nmanifests:\n  - image: a/c:1\n    platform:\n"
                         "      osfeatures: win32k\n",
                         "<spec>:5: manifests[0].platform.osfeatures must be a YAML list"),
                 id="osfeatures-scalar"),
    pytest.param(BadSpec("image: a/b:1\nmanifests:\n  - image: a/c:1\n    platform:\n"
                         "      osversion: '1'\n      os.version: '2'\n",
                         '<spec>:6: manifests[0].platform: "osversion" and "os.version" '
                         "disagree"), id="spellings-disagree"),
    pytest.param(BadSpec("image: [a]\nmanifests:\n  - image: a/c:1\n",
                         "<spec>:1: image must be a string, not a list"), id="image-not-a-string"),
]  # fmt: skip


@pytest.mark.parametrize("case", BAD_SPECS)
def test_bad_spec(case: BadSpec) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(case.text)
    assert case.message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_load_spec_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pushml.yaml"
    path.write_text("image: a/b:1\nmanifests:\n  - image: a/c:1\n    bogus: 1\n")
    with pytest.raises(SpecError, match=rf'^{path}:4: unknown key "bogus"'):
        load_spec(path)
    with pytest.raises(SpecError, match="cannot read spec"):
        load_spec(tmp_path / "absent.yaml")


# -- from-args ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "platform", "image"),
    [
        pytest.param("foo/bar-ARCHVARIANT:v1", "linux/amd64", "foo/bar-amd64:v1", id="readme-1"),
        pytest.param("foo/bar-ARCHVARIANT:v1", "linux/arm/v5", "foo/bar-armv5:v1", id="readme-2"),
        pytest.param("foo-ARCH-VARIANT", "linux/amd64", "foo-amd64-", id="missing-variant"),
        pytest.param("foo:OS-ARCH", "linux/s390x", "foo:linux-s390x", id="os-and-arch"),
        # Plain substrings, ARCH first: the OS inside "HOST" is replaced.
        pytest.param("HOST/ARCH:OS", "linux/arm64", "HlinuxT/arm64:OS", id="os-inside-a-word"),
        pytest.param("a-ARCH-ARCH", "linux/386", "a-386-ARCH", id="first-occurrence-only"),
        pytest.param("a-arch", "linux/386", "a-arch", id="case-sensitive"),
    ],
)
def test_expand_template(template: str, platform: str, image: str) -> None:
    os_name, architecture, *variant = platform.split("/")
    assert expand_template(template, os_name, architecture, *variant) == image


def test_spec_from_args() -> None:
    spec = spec_from_args(
        ["linux/amd64,linux/arm/v7", "linux/arm64/v8"],
        "r.example/foo:ARCHVARIANT",
        "r.example/foo:1.0",
        tags="1,latest",
        annotations=["a=b,c=d=e"],
    )
    assert spec.image == "r.example/foo:1.0"
    assert [(m.image, m.platform, m.origin) for m in spec.manifests] == [
        ("r.example/foo:amd64", Platform("linux", "amd64"), "--platforms linux/amd64"),
        ("r.example/foo:armv7", Platform("linux", "arm", "v7"), "--platforms linux/arm/v7"),
        ("r.example/foo:arm64v8", Platform("linux", "arm64", "v8"), "--platforms linux/arm64/v8"),
    ]
    assert spec.tags == ("1", "latest")
    assert spec.annotations == {"a": "b", "c": "d=e"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"platforms": "linux"},
            "the --platforms argument must be a string slice where one value is of the form "
            "'os/arch': got \"linux\"",
            id="platform-without-arch",
        ),
        pytest.param({"platforms": "linux/arm/v7/x"}, 'got "linux/arm/v7/x"', id="four-parts"),
        pytest.param(
            {"annotations": "novalue"},
            "the --annotations argument must be a string in the form 'key=value': novalue",
            id="annotation-without-value",
        ),
        pytest.param({"target": "r.example/a@sha256:" + "1" * 64}, "not a digest", id="digest"),
        pytest.param({"tags": "ok,no/slash"}, '"no/slash" is not a valid tag', id="bad-tag"),
        pytest.param(
            {"template": "r.example/UPPER-ARCH"},
            '--platforms linux/amd64: image "r.example/UPPER-amd64": invalid reference',
            id="template-gives-invalid-name",
        ),
    ],
)
def test_spec_from_args_errors(kwargs: dict[str, str], message: str) -> None:
    arguments = {
        "platforms": "linux/amd64",
        "template": "r.example/a:ARCH",
        "target": "r.example/a:1",
    }
    arguments.update(kwargs)
    with pytest.raises(SpecError) as caught:
        spec_from_args(
            arguments["platforms"],
            arguments["template"],
            arguments["target"],
            tags=kwargs.get("tags", ()),
            annotations=kwargs.get("annotations", ()),
        )
    assert message in str(caught.value)


# -- the list's bytes --------------------------------------------------------------------------


def _entry(media_type: str, n: int, platform: Platform) -> ListEntry:
    digest = f"sha256:{n:064x}"
    return ListEntry(
        {"mediaType": media_type, "digest": digest, "size": 528}, platform, MemberSpec("x")
    )


@pytest.mark.parametrize(
    ("list_type", "entries", "annotations", "length", "digest"),
    [
        pytest.param(
            "docker",
            [_entry(mt.DOCKER_MANIFEST, 1, Platform("linux", "amd64")),
             _entry(mt.DOCKER_MANIFEST, 2, Platform("linux", "arm", "v7"))],
            None, 706, "8519a1226384328bc8750247aa548031479d269a14fdb01f1e408789c32a5ace",
            id="docker-list",
        ),
        pytest.param(
            "oci",
            [_entry(mt.OCI_MANIFEST, 1, Platform("linux", "amd64")),
             _entry(mt.OCI_MANIFEST, 2, Platform("linux", "arm64", "v8"))],
            None, 670, "abc70785a71457e972e66383cfb9d26b51475d687a8a6249707fa739c71d7e03",
            id="oci-index",
        ),
    ],
)  # fmt: skip
def test_serialize_list_is_byte_exact(
    list_type: str,
    entries: list[ListEntry],
    annotations: dict[str, str] | None,
    length: int,
    digest: str,
) -> None:
    """The byte-exact vectors of docs/platform-rules.md A11, made with manifest-tool's Go types."""
    body = serialize_list(entries, "oci" if list_type == "oci" else "docker", annotations)
    assert len(body) == length
    assert hashlib.sha256(body).hexdigest() == digest


def test_serialize_annotations_go_escaped_and_last() -> None:
    body = serialize_list(
        [_entry(mt.OCI_MANIFEST, 1, Platform("linux", "amd64"))],
        "oci",
        {"org.opencontainers.image.title": "A <b>&</b>", "a.key": "v"},
    )
    assert body.endswith(
        b'  "annotations": {\n    "a.key": "v",\n'
        b'    "org.opencontainers.image.title": "A \\u003cb\\u003e\\u0026\\u003c/b\\u003e"\n  }\n}'
    )
    with pytest.raises(ManifestToolError, match="does not support annotations; use --type oci"):
        serialize_list([], "docker", {"a": "b"})


# -- registries --------------------------------------------------------------------------------


@dataclass
class Target:
    """A registry to push to: ``prefix`` is ``HOST/NAMESPACE/`` for this test's names."""

    name: str
    host: str
    prefix: str


@pytest.fixture(scope="module")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Distribution]:
    with run_distribution(tmp_path_factory.mktemp("distribution")) as running:
        yield running


@pytest.fixture(params=["ours", pytest.param("distribution", marks=pytest.mark.interop)])
def target(request: pytest.FixtureRequest, make_registry: RegistryFactory) -> Target:
    namespace = f"t{uuid.uuid4().hex[:8]}/"
    if request.param == "ours":
        server = make_registry()
        return Target("ours", server.host, f"{server.host}/{namespace}")
    running: Distribution = request.getfixturevalue("distribution")
    return Target("distribution", running.host, f"{running.host}/{namespace}")


def skopeo_raw(tmp_path: Path, host: str, ref: str) -> bytes:
    skopeo = Skopeo(require_tool("skopeo"), tmp_path / "skopeo", {host})
    return skopeo.inspect_raw(f"docker://{ref}")


def _pull(ref: str, host: str) -> str:
    """The digest of the manifest moby on *host* pulls for *ref*."""
    return pull_sync(
        ref, host=host, engine="moby", connection=HostConfig(plain_http=True)
    ).manifest.digest


def _no_layer_downloads(result: PushResult, layers: set[str]) -> None:
    fetched = {
        t.url.rsplit("/", 1)[1] for t in result.trace if t.method == "GET" and "/blobs/" in t.url
    }
    assert not fetched & layers


# -- pushing the talk's spec -------------------------------------------------------------------


@pytest.mark.parametrize("list_type", ["docker", "oci"])
def test_push_talk_spec(target: Target, list_type: str, tmp_path: Path) -> None:
    images = build_members(TALK_MEMBERS)
    upload_members(target.prefix, images)
    spec_path = tmp_path / "debian.yaml"
    spec_path.write_text(talk_spec(target.prefix))

    result = push_manifest_list_sync(
        spec_path, media_type="oci" if list_type == "oci" else "docker"
    )

    list_ref = f"{target.prefix}{TALK_TARGET}"
    assert result.tags == ("jessie",)
    assert result.length == len(result.manifest)
    assert result.digest == "sha256:" + hashlib.sha256(result.manifest).hexdigest()
    document = json.loads(result.manifest)
    expected_type = mt.OCI_INDEX if list_type == "oci" else mt.DOCKER_MANIFEST_LIST
    assert document["mediaType"] == result.media_type == expected_type
    assert [
        (e["mediaType"], e["digest"], e["size"], Platform.from_json(e["platform"]).format())
        for e in document["manifests"]
    ] == [
        (mt.DOCKER_MANIFEST, images[m.ref].digest, len(images[m.ref].manifest), m.listed_as)
        for m in TALK_MEMBERS
    ]
    # Every member lives in another repository: brought in by digest, blobs mounted.
    assert set(result.copied) == {image.digest for image in images.values()}
    blobs = {blob.digest for image in images.values() for blob in image.blobs}
    assert set(result.mounted) == blobs
    assert result.uploaded == ()
    _no_layer_downloads(result, {layer.digest for i in images.values() for layer in i.layers})
    # Read back: skopeo sees the exact bytes, and engines on each host pull their image.
    assert skopeo_raw(tmp_path, target.host, list_ref) == result.manifest
    for member in TALK_MEMBERS:
        assert _pull(list_ref, member.built_for) == images[member.ref].digest, member.built_for
    with pytest.raises(NoMatchingManifest, match="no matching manifest for linux/arm/v7"):
        _pull(list_ref, "linux/arm/v7")


def test_talk_spec_as_on_the_slide_is_rejected(target: Target) -> None:
    """The slide's ``variant: armv8`` predates the v8 convention: refused, nothing pushed."""
    upload_members(target.prefix, build_members(TALK_MEMBERS))
    spec = parse_spec(talk_spec(target.prefix, variant="armv8"), source="slide.yaml")
    with pytest.raises(PlatformRuleError) as caught:
        push_manifest_list_sync(spec)
    assert str(caught.value) == (
        f"slide.yaml:19: manifests[3]: manifest entry for image {target.prefix}aarch64/debian:"
        "jessie has unsupported os/arch or os/arch/variant combination: linux/arm64/armv8: "
        f'variant "armv8" is not allowed for linux/arm64: {VARIANT_RULE}; did you mean "v8"?'
    )
    assert not tag_exists(f"{target.prefix}{TALK_TARGET}")


# -- pushing manifest-tool's release spec ------------------------------------------------------


def test_push_release_spec(target: Target, tmp_path: Path) -> None:
    images = build_members(RELEASE_MEMBERS)
    upload_members(target.prefix, images)

    result = push_manifest_list_sync(parse_spec(release_spec(target.prefix)))

    list_ref = f"{target.prefix}{RELEASE_TARGET}"
    assert result.tags == (VERSION, "latest")
    platforms = [e.platform.format_all() for e in result.entries if e.platform is not None]
    assert platforms == [m.listed_as for m in RELEASE_MEMBERS]
    # The windows entries' os.version came from their configs.
    assert [e["platform"].get("os.version") for e in json.loads(result.manifest)["manifests"]][
        -2:
    ] == [WIN2019, WIN2016]
    # All members are in the target's repository: nothing to copy or mount.
    assert (result.copied, result.mounted) == ((), ())
    assert skopeo_raw(tmp_path, target.host, list_ref) == result.manifest
    assert (
        skopeo_raw(
            tmp_path / "latest", target.host, f"{target.prefix}mplatform/manifest-tool:latest"
        )
        == result.manifest
    )
    hosts = {
        "linux/386": "linux/386",
        "linux/riscv64": "linux/riscv64",
        "linux/arm/v6": "linux/arm/v6",
        "linux/arm/v7": "linux/arm/v7",
        "linux/arm64/v8": "linux/arm64/v8",
        f"windows({WIN2019[:-5]}.1)/amd64": f"windows({WIN2019})/amd64",
        f"windows({WIN2016[:-5]}.1)/amd64": f"windows({WIN2016})/amd64",
    }
    by_platform = {m.built_for: images[m.ref].digest for m in RELEASE_MEMBERS}
    for host, expected in hosts.items():
        assert _pull(list_ref, host) == by_platform[expected], host


def test_windows_builds_without_os_version_are_duplicates(make_registry: RegistryFactory) -> None:
    """Without an os.version in their configs the two Windows builds share a platform."""
    server = make_registry()
    prefix = f"{server.host}/"
    builds = {tag: build_image("windows/amd64", seed=tag) for tag in ("2019", "2016")}
    for tag, image in builds.items():
        upload(f"{prefix}win:{tag}", image)
    spec = parse_spec(
        f"image: {prefix}win:all\nmanifests:\n"
        f"  - image: {prefix}win:2019\n    platform: {{os: windows, architecture: amd64}}\n"
        f"  - image: {prefix}win:2016\n    platform: {{os: windows, architecture: amd64}}\n",
        source="win.yaml",
    )
    with pytest.raises(DuplicatePlatformError) as caught:
        push_manifest_list_sync(spec)
    assert str(caught.value) == (
        "win.yaml:5: manifests[1]: cannot include two manifests with the same platform; digest "
        f"{builds['2019'].digest} already provides platform windows/amd64 (this digest: "
        f"{builds['2016'].digest}); it came from {prefix}win:2019 (win.yaml:3: manifests[0])"
    )
    assert not tag_exists(f"{prefix}win:all")


# -- behaviour, on our server ------------------------------------------------------------------


def push_spec(text: str, **options: Any) -> PushResult:
    return push_manifest_list_sync(parse_spec(text, source="spec.yaml"), **options)


def test_platform_from_config(make_registry: RegistryFactory) -> None:
    """No platform in the spec: os, architecture, variant, os.version and os.features come
    from the image's config. A spec that names os/arch keeps them, with a warning when the
    config disagrees."""
    server = make_registry()
    p = f"{server.host}/"
    upload(f"{p}app:arm", build_image("linux/arm/v6", media_type="docker"))
    upload(f"{p}app:win", build_image("windows(10.0.20348.1+win32k)/amd64"))
    upload(f"{p}app:x", build_image("linux/amd64"))
    result = push_spec(
        f"image: {p}app:multi\nmanifests:\n  - image: {p}app:arm\n  - image: {p}app:win\n"
        f"  - image: {p}app:x\n    platform: {{os: linux, architecture: s390x}}\n"
    )
    assert [e.platform for e in result.entries] == [
        Platform("linux", "arm", "v6"),
        Platform("windows", "amd64", os_version="10.0.20348.1", os_features=("win32k",)),
        Platform("linux", "s390x"),
    ]
    assert result.warnings == (
        f"spec.yaml:5: manifests[2]: the spec says linux/s390x for {p}app:x, but its config "
        "says linux/amd64; the spec's platform is listed",
    )


def test_flatten_index_members_attestations_last(make_registry: RegistryFactory) -> None:
    """A list member's entries each become an entry, platforms and annotations kept;
    attestation entries go after every image, and are brought in like the rest."""
    server = make_registry()
    p = f"{server.host}/"
    amd64, arm64 = build_image("linux/amd64"), build_image("linux/arm64/v8")
    attestation = build_artifact("application/vnd.in-toto+json", blobs=[b'{"predicate": 1}'])
    attested = {
        **attestation.descriptor(),
        "annotations": {
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": amd64.digest,
        },
        "platform": {"architecture": "unknown", "os": "unknown"},
    }
    built = build_index([amd64, arm64])
    document = built.json
    document["manifests"].append(attested)
    body = json.dumps(document).encode()

    async def push_buildx_index() -> None:
        async with RegistryClient() as client:
            ref = ImageReference.parse(f"{p}buildx/app:1")
            for child in (amd64, arm64, attestation):
                await aupload(client, replace(ref, tag=None, digest=child.digest), child)
            await client.put_manifest(ref, body, mt.OCI_INDEX)

    asyncio.run(push_buildx_index())
    s390x = build_image("linux/s390x", media_type="docker")
    upload(f"{p}other/app:s390x", s390x)

    result = push_spec(
        f"image: {p}app:1\nmanifests:\n  - image: {p}buildx/app:1\n  - image: {p}other/app:s390x\n",
        media_type="oci",
    )

    entries = json.loads(result.manifest)["manifests"]
    assert [e["digest"] for e in entries] == [
        amd64.digest,
        arm64.digest,
        s390x.digest,
        attestation.digest,
    ]
    assert entries[3]["annotations"] == attested["annotations"]
    assert entries[1]["platform"] == {"architecture": "arm64", "os": "linux", "variant": "v8"}
    assert [e.attestation for e in result.entries] == [False, False, False, True]
    assert set(result.copied) == {amd64.digest, arm64.digest, s390x.digest, attestation.digest}
    inspected = inspect_sync(f"{p}app:1")
    assert [(e.is_attestation, e.attests) for e in inspected.entries] == [
        (False, None),
        (False, None),
        (False, None),
        (True, amd64.digest),
    ]
    text = format_inspect(inspected)
    assert " * Contains 4 manifest references (3 images, 1 attestation):" in text
    assert (
        f"[4]     Type: {mt.OCI_MANIFEST} (vnd.docker.reference.type=attestation-manifest)\n"
        f"[4]   Digest: {attestation.digest}\n"
        f"[4]   Length: {len(attestation.manifest)}\n"
        f"[4]       >>> Attestation for digest: {amd64.digest}\n"
    ) in text


def test_ignore_missing(make_registry: RegistryFactory) -> None:
    server = make_registry()
    p = f"{server.host}/"
    upload(f"{p}app:amd64", build_image("linux/amd64"))
    text = (
        f"image: {p}app:multi\nmanifests:\n  - image: {p}app:amd64\n"
        f"  - image: {p}app:arm64\n    platform: {{os: linux, architecture: arm64}}\n"
    )
    with pytest.raises(MemberError) as caught:
        push_spec(text)
    assert str(caught.value).startswith(
        f'spec.yaml:4: manifests[1]: inspect of image "{p}app:arm64" failed with error: GET '
    )
    assert "404" in str(caught.value)
    assert not tag_exists(f"{p}app:multi")

    result = push_spec(text, ignore_missing=True)

    assert result.skipped == (f"{p}app:arm64",)
    assert len(result.entries) == 1
    assert result.warnings[0].startswith(
        f'spec.yaml:4: manifests[1]: couldn\'t access image "{p}app:arm64" ('
    )
    assert result.warnings[0].endswith("); skipping it because of --ignore-missing")
    with pytest.raises(MemberError, match=r"^all entries were skipped due to missing source"):
        push_spec(f"image: {p}app:none\nmanifests:\n  - image: {p}app:gone\n", ignore_missing=True)
    assert not tag_exists(f"{p}app:none")


def test_extra_tags_and_repeated_push(make_registry: RegistryFactory) -> None:
    """Extra tags get the same bytes; pushing again writes nothing that is already there."""
    server = make_registry()
    p = f"{server.host}/"
    upload(f"{p}src/a:1", build_image("linux/amd64"))
    upload(f"{p}src/b:1", build_image("linux/arm/v7"))
    text = (
        f"image: {p}app:1.0.0\ntags: ['1.0', '1', latest]\nannotations:\n"
        "  org.opencontainers.image.title: Demo\n"
        f"manifests:\n  - image: {p}src/a:1\n  - image: {p}src/b:1\n"
    )
    first = push_spec(text, media_type="oci")
    assert first.tags == ("1.0.0", "1.0", "1", "latest")
    assert json.loads(first.manifest)["annotations"] == {"org.opencontainers.image.title": "Demo"}
    for tag in first.tags:
        assert inspect_sync(f"{p}app:{tag}").raw == first.manifest

    again = push_spec(text, media_type="oci")

    assert again.digest == first.digest
    assert (again.copied, again.mounted) == ((), ())
    assert not [t for t in again.trace if t.method in ("PUT", "POST", "PATCH", "DELETE")]


def test_async_api_with_a_client(make_registry: RegistryFactory) -> None:
    server = make_registry()
    p = f"{server.host}/"
    upload(f"{p}app:a", build_image("linux/amd64"))
    spec = spec_from_args("linux/amd64", f"{p}app:a", f"{p}app:list")

    async def main() -> PushResult:
        async with RegistryClient() as client:
            return await push_manifest_list(spec, connection=client)

    result = asyncio.run(main())
    assert json.loads(result.manifest)["manifests"][0]["platform"] == {
        "architecture": "amd64",
        "os": "linux",
    }


# -- what is refused, and that nothing is pushed then -------------------------------------------


@dataclass(frozen=True)
class Refused:
    """A spec (``{p}`` is ``HOST/``, ``{other}`` another name for the same registry) that
    must fail with ``error`` and ``message``, before anything is written."""

    spec: str
    error: type[ManifestToolError]
    message: str
    media_type: str = "docker"
    ignore_missing: bool = False


_HEAD = "image: {p}app:multi\nmanifests:\n"
REFUSED = [
    pytest.param(Refused(
        _HEAD + "  - image: {p}src/amd64:1\n    platform: {{os: linux2, architecture: amd64}}\n",
        PlatformRuleError,
        "spec.yaml:3: manifests[0]: manifest entry for image {p}src/amd64:1 has unsupported "
        'os/arch or os/arch/variant combination: linux2/amd64/: os "linux2" is not a Go GOOS '
        "value (aix, android, darwin,"), id="unknown-os"),
    pytest.param(Refused(
        _HEAD + "  - image: {p}src/amd64:1\n    platform: {{os: linux, architecture: x86_64}}\n",
        PlatformRuleError,
        'combination: linux/x86_64/: architecture "x86_64" is not a Go GOARCH value (386, '
        'amd64, arm, arm64, loong64, mips, mips64, mips64le, mipsle, ppc64, ppc64le, riscv64, '
        's390x, wasm); did you mean "amd64"?'), id="unknown-arch"),
    pytest.param(Refused(
        _HEAD + "  - image: {p}src/amd64:1\n"
        "    platform: {{os: linux, architecture: amd64, variant: v2}}\n",
        PlatformRuleError,
        f'combination: linux/amd64/v2: variant "v2" is not allowed for linux/amd64: '
        f"{VARIANT_RULE}"), id="variant-where-none-is-allowed"),
    pytest.param(Refused(
        _HEAD + "  - image: {p}src/amd64v3:1\n",
        PlatformRuleError,
        "spec.yaml:3: manifests[0]: manifest entry for image {p}src/amd64v3:1 has unsupported "
        'os/arch or os/arch/variant combination: linux/amd64/v3: variant "v3"'),
        id="variant-from-the-config"),
    pytest.param(Refused(
        _HEAD + "  - image: {p}src/amd64:1\n  - image: {other}src/arm64:1\n",
        MemberError,
        "spec.yaml:4: manifests[1]: source image ({other}src/arm64:1) registry does not match "
        "target image ({p}app:multi) registry: every member must be on {host}, the target's "
        "registry host"), id="member-on-another-registry-host"),
    pytest.param(Refused(
        _HEAD + "  - image: {p}src/amd64:1\n  - image: {p}src/absent:1\n",
        MemberError,
        'spec.yaml:4: manifests[1]: inspect of image "{p}src/absent:1" failed with error: '),
        id="missing-member"),
    pytest.param(Refused(
        _HEAD + "  - image: {p}src/amd64:1\n  - image: {p}src/amd64:again\n",
        DuplicatePlatformError,
        "spec.yaml:4: manifests[1]: cannot include two manifests with the same platform; "
        "digest {amd64} already provides platform linux/amd64 (this digest: {amd64})"),
        id="two-members-same-platform"),
    pytest.param(Refused(
        _HEAD + "  - image: {p}src/list:1\n  - image: {p}src/arm64:1\n",
        DuplicatePlatformError,
        "spec.yaml:4: manifests[1]: cannot include two manifests with the same platform; "
        "digest "), id="list-entry-and-member-same-platform"),
    pytest.param(Refused(
        "image: {p}app:multi\nannotations: {{a: b}}\nmanifests:\n  - image: {p}src/amd64:1\n",
        SpecError,
        "manifest list (Docker media type) does not support annotations; use --type oci "
        "instead"), id="annotations-with-docker-type"),
]  # fmt: skip


@pytest.fixture
def sources(make_registry: RegistryFactory) -> dict[str, str]:
    """A registry with member images under ``src/``; names for formatting the cases."""
    server = make_registry()
    p = f"{server.host}/"
    amd64 = build_image("linux/amd64", media_type="docker")
    upload(f"{p}src/amd64:1", amd64)
    upload(f"{p}src/amd64:again", amd64)
    upload(f"{p}src/arm64:1", build_image("linux/arm64/v8"))
    upload(
        f"{p}src/amd64v3:1", build_image({"os": "linux", "architecture": "amd64", "variant": "v3"})
    )
    upload(f"{p}src/list:1", build_index(["linux/arm64/v8", "linux/arm/v7"]))
    port = server.host.rsplit(":", 1)[1]
    return {"p": p, "other": f"localhost:{port}/", "host": server.host, "amd64": amd64.digest}


@pytest.mark.parametrize("case", REFUSED)
def test_refused_before_anything_is_pushed(case: Refused, sources: dict[str, str]) -> None:
    spec = parse_spec(case.spec.format(**sources), source="spec.yaml")

    async def main() -> RegistryClient:
        async with RegistryClient() as client:
            with pytest.raises(case.error) as caught:
                await push_manifest_list(
                    spec,
                    connection=client,
                    media_type="oci" if case.media_type == "oci" else "docker",
                    ignore_missing=case.ignore_missing,
                )
            message = str(caught.value)
            assert case.message.format(**sources) in message
            assert "\n" not in message
            return client

    client = asyncio.run(main())
    assert {t.method for t in client.trace} <= {"GET", "HEAD"}
    assert not tag_exists(f"{sources['p']}app:multi")


# -- inspect -----------------------------------------------------------------------------------


def test_inspect_image(make_registry: RegistryFactory) -> None:
    server = make_registry()
    image = build_image("windows(10.0.17763.1+win32k)/amd64", layers=2)
    upload(f"{server.host}/win:1", image)

    result = inspect_sync(f"{server.host}/win:1")

    assert not result.is_index
    assert result.platform == Platform(
        "windows", "amd64", os_version="10.0.17763.1", os_features=("win32k",)
    )
    assert result.config is not None
    assert result.config.digest == image.config.digest
    assert [layer.digest for layer in result.layers] == [layer.digest for layer in image.layers]
    assert result.raw == image.manifest
    assert format_inspect(result).splitlines() == [
        f"Name: {server.host}/win:1 (Type: {mt.OCI_MANIFEST})",
        f"      Digest: {image.digest}",
        f"        Size: {len(image.manifest)}",
        "          OS: windows",
        "  OS Version: 10.0.17763.1",
        " OS Features: [win32k]",
        "        Arch: amd64",
        "    # Layers: 2",
        f"      layer 01: digest = {image.layers[0].digest}",
        f"      layer 02: digest = {image.layers[1].digest}",
    ]
    document = result.to_json()
    assert document["platform"] == image.platform_json
    assert document["layerCount"] == 2


def test_inspect_list(make_registry: RegistryFactory) -> None:
    server = make_registry()
    features = {"os": "linux", "architecture": "amd64", "features": ["sse4", "aes"]}
    amd64, armv7 = (
        build_image(features, media_type="docker"),
        build_image("linux/arm/v7", media_type="docker"),
    )
    index = build_index([amd64, armv7], media_type="docker")
    upload(f"{server.host}/app:1", index)

    result = inspect_sync(f"{server.host}/app:1")

    assert result.is_index
    assert result.digest == index.digest
    assert format_inspect(result).splitlines() == [
        f"Name:   {server.host}/app:1 (Type: {mt.DOCKER_MANIFEST_LIST})",
        f"Digest: {index.digest}",
        " * Contains 2 manifest references (2 images, 0 attestation):",
        f"[1]     Type: {mt.DOCKER_MANIFEST}",
        f"[1]   Digest: {amd64.digest}",
        f"[1]   Length: {len(amd64.manifest)}",
        "[1] Platform:",
        "[1]    -      OS: linux",
        "[1]    -    Arch: amd64",
        "[1]    - Feature: [sse4 aes]",
        "[1] # Layers: 1",
        f"     layer 01: digest = {amd64.layers[0].digest}",
        f"                 type = {mt.DOCKER_LAYER}",
        "",
        f"[2]     Type: {mt.DOCKER_MANIFEST}",
        f"[2]   Digest: {armv7.digest}",
        f"[2]   Length: {len(armv7.manifest)}",
        "[2] Platform:",
        "[2]    -      OS: linux",
        "[2]    -    Arch: arm",
        "[2]    - Variant: v7",
        "[2] # Layers: 1",
        f"     layer 01: digest = {armv7.layers[0].digest}",
        f"                 type = {mt.DOCKER_LAYER}",
    ]
    document = result.to_json()
    assert [e["platform"] for e in document["manifests"]] == [features, armv7.platform_json]
    assert [e["layerCount"] for e in document["manifests"]] == [1, 1]
    assert (document["images"], document["attestations"]) == (2, 0)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        pytest.param(
            "{host}/app",
            "image reference must include a tag or a digest; manifest-tool does not default to "
            "'latest'",
            id="no-tag",
        ),
        pytest.param("{host}/absent:1", "error fetching {host}/absent:1: ", id="absent"),
    ],
)
def test_inspect_errors(ref: str, message: str, make_registry: RegistryFactory) -> None:
    server = make_registry()
    with pytest.raises(ManifestToolError) as caught:
        inspect_sync(ref.format(host=server.host))
    assert message.format(host=server.host) in str(caught.value)
