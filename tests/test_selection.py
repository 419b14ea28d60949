"""fakeregistry.engine.selection: which manifest each engine pulls (docs/platform-rules.md A3-A9).

Match tables follow containerd's compare_test.go ({True: [...], False: [...]} per wanted
platform); choice tables give one index, one host and what every engine picks. Expected
values come from the engines' code and tests: containerd/platforms compare_test.go and
platform_windows_compat_test.go, moby daemon/containerd/platform_matchers_test.go and
distribution/pull_v2_{unix,windows}.go, containers/image platform_matcher.go and
internal/manifest/*.go.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from fakeregistry.engine.profiles import ALIASES
from fakeregistry.engine.selection import (
    ATTESTATION_ANNOTATION,
    ENGINES,
    NoMatchingManifest,
    Selection,
    describe_engine,
    select_manifest,
    windows_compatible,
)
from fakeregistry.platforms.platform import Platform, PlatformError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
ZSTD = "io.github.containers.compression.zstd"
SENTINEL = "io.github.containers.zstd-chunked.sentinel"

_RAW = re.compile(r"^([^/(]*)(?:\(([^+)]*)((?:\+[^+)]+)*)\))?(?:/([^/]*))?(?:/([^/]*))?$")


def raw(spec: str) -> dict[str, Any]:
    """A platform object written exactly as *spec* says (no normalization):
    ``os[(version[+feature]*)][/arch[/variant]]``."""
    match = _RAW.match(spec)
    assert match is not None, spec
    os_name, version, features, arch, variant = match.groups()
    out: dict[str, Any] = {"architecture": arch or "", "os": os_name}
    if version:
        out["os.version"] = version
    if features:
        out["os.features"] = features[1:].split("+")
    if variant:
        out["variant"] = variant
    return out


def entry(
    spec: str | dict[str, Any] | None,
    name: str = "",
    *,
    annotations: dict[str, str] | None = None,
    media_type: str = OCI_MANIFEST,
) -> dict[str, Any]:
    """A manifest descriptor; *name* becomes a readable fake digest (``sha256:<name>``)."""
    descriptor: dict[str, Any] = {
        "mediaType": media_type,
        "digest": f"sha256:{name or (spec if isinstance(spec, str) else 'x')}",
        "size": 528,
    }
    if isinstance(spec, str):
        descriptor["platform"] = raw(spec)
    elif spec is not None:
        descriptor["platform"] = spec
    if annotations:
        descriptor["annotations"] = annotations
    return descriptor


def index(*entries: dict[str, Any], media_type: str | None = OCI_INDEX) -> dict[str, Any]:
    document: dict[str, Any] = {"schemaVersion": 2, "manifests": list(entries)}
    if media_type:
        document["mediaType"] = media_type
    return document


def attestation(for_name: str) -> dict[str, Any]:
    return entry(
        "unknown/unknown",
        f"att-{for_name}",
        annotations={
            ATTESTATION_ANNOTATION: "attestation-manifest",
            "vnd.docker.reference.digest": f"sha256:{for_name}",
        },
    )


def pick(
    document: dict[str, Any],
    host: str | Platform,
    engine: str,
    requested: str | Platform | None = None,
) -> str:
    """The picked digest's name, or ``"!" + the engine's error message``."""
    try:
        selection = select_manifest(document, host, engine, requested=requested)
    except NoMatchingManifest as exc:
        return "!" + str(exc)
    return selection.digest.removeprefix("sha256:")


def assert_pick(got: str, expected: str) -> None:
    """*expected* is a digest name, or ``"!"`` for "this engine finds no match"."""
    if expected == "!":
        assert got.startswith("!"), f"expected no match, got {got}"
    else:
        assert got == expected


# The columns of the choice tables below: the profiles that existed when they were written
# (``containers-image`` is now an alias of ``skopeo``). The profiles added since (podman,
# skopeo-1.9, podman-4.3, moby-containerd) have tables of their own in
# tests/test_engine_versions.py.
TABLE_ENGINES = (
    "docker-1.10",
    "docker-18.09",
    "moby",
    "containerd",
    "containerd-strict",
    "containers-image",
    "full",
)


def per_engine(cases: list[Any]) -> list[Any]:
    """Expand ``pytest.param(document, host, picks)`` rows (*picks* in :data:`TABLE_ENGINES` order)
    into one test per engine."""
    out = []
    for case in cases:
        document, host, picks = case.values
        for engine, want in zip(TABLE_ENGINES, picks, strict=True):
            out.append(pytest.param(document, host, engine, want, id=f"{case.id}-{engine}"))
    return out


def param_table(table: dict[str, dict[bool, list[str]]]) -> list[Any]:
    return [
        pytest.param(wanted, candidate, ok, id=f"{wanted}-{'takes' if ok else 'skips'}-{candidate}")
        for wanted, outcomes in table.items()
        for ok, candidates in outcomes.items()
        for candidate in candidates
    ]


def accepts(engine: str, wanted: str, candidate: str, host: str = "linux/amd64") -> bool:
    """Does *engine*, asked for *wanted*, accept an entry whose platform parses from
    *candidate* (both sides parsed like containerd's tests do)?"""
    platform = Platform.parse(candidate, host=Platform.parse(host)).to_json()
    document = index(entry(platform, "only"))
    return pick(document, host, engine, requested=wanted) == "only"


# -- A4: Only / OnlyStrict match tables ---------------------------------------------------------

ONLY = {
    # containerd/platforms compare_test.go TestOnly
    "linux/amd64": {
        True: ["linux/amd64", "linux/386", "linux/amd64/v1", "linux/x86_64", "linux/i386"],
        False: ["linux/amd64/v2", "linux/arm/v7", "linux/arm64", "windows/amd64", "windows/arm"],
    },
    "linux/amd64/v2": {
        True: ["linux/amd64", "linux/amd64/v1", "linux/amd64/v2", "linux/386"],
        False: ["linux/amd64/v3", "linux/amd64/v4", "linux/arm/v7", "linux/arm64", "windows/amd64"],
    },
    "linux/amd64/v4": {
        True: ["linux/amd64/v4", "linux/amd64/v3", "linux/amd64/v2", "linux/amd64", "linux/386"],
        False: ["linux/amd64/v5", "linux/arm64"],
    },
    "linux/386": {
        True: ["linux/386", "linux/i386"],
        False: ["linux/amd64", "linux/arm/v7", "linux/arm64", "windows/amd64", "linux/386/v1"],
    },
    "windows/amd64": {
        True: ["windows/amd64", "windows(10.0.17763)/amd64", "windows/386"],
        False: ["linux/amd64", "linux/arm/v7", "linux/arm64", "windows/arm"],
    },
    "linux/arm/v8": {
        True: ["linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7", "linux/arm/v8"],
        False: ["linux/amd64", "linux/arm/v4", "linux/arm64", "windows/amd64", "windows/arm"],
    },
    "linux/arm/v7": {
        True: ["linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7", "linux/armhf"],
        False: ["linux/amd64", "linux/arm/v4", "linux/arm/v8", "linux/arm64", "windows/arm"],
    },
    "linux/arm/v6": {
        True: ["linux/arm/v5", "linux/arm/v6", "linux/armel"],
        False: ["linux/amd64", "linux/arm", "linux/arm/v4", "linux/arm/v7", "linux/arm/v8"],
    },
    "linux/arm/v5": {
        True: ["linux/arm/v5"],
        False: ["linux/amd64", "linux/arm", "linux/arm/v4", "linux/arm/v6", "linux/arm64"],
    },
    "linux/arm/v4": {
        True: ["linux/arm/v4"],
        False: ["linux/amd64", "linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v8"],
    },
    "linux/arm64/v9": {
        True: [
            "linux/arm",
            "linux/arm/v5",
            "linux/arm/v6",
            "linux/arm/v7",
            "linux/arm/v8",
            "linux/arm64",
            "linux/arm64/v8",
            "linux/arm64/v8.1",
            "linux/arm64/v8.2",
            "linux/arm64/v8.3",
            "linux/arm64/v8.4",
            "linux/arm64/v8.5",
            "linux/arm64/v9",
            "linux/arm64/v9.0",
        ],
        False: ["linux/amd64", "linux/arm/v4", "windows/amd64", "linux/arm64/v8.6"],
    },
    "linux/arm64/v9.2": {
        True: ["linux/arm64/v9.2", "linux/arm64/v9.1", "linux/arm64/v9", "linux/arm64/v8.7"],
        False: ["linux/arm64/v9.3", "linux/arm64/v8.8", "linux/arm64/v10"],
    },
    "linux/arm64/v9.5": {
        True: ["linux/arm64/v8.9", "linux/arm64/v9.4", "linux/arm/v8"],
        False: ["linux/arm64/v9.6", "linux/arm64/v8.10"],
    },
    "linux/arm64/v8.1": {
        True: ["linux/arm", "linux/arm/v8", "linux/arm64", "linux/arm64/v8", "linux/arm64/v8.1"],
        False: ["linux/amd64", "linux/arm/v4", "linux/arm/v9", "linux/arm64/v9", "windows/arm"],
    },
    "linux/arm64": {
        True: ["linux/arm", "linux/arm/v5", "linux/arm/v8", "linux/arm64", "linux/arm64/v8"],
        False: [
            "linux/amd64",
            "linux/arm/v4",
            "linux/arm/v9",
            "linux/arm64/v9",
            "linux/arm64/v8.1",
        ],
    },
    # containerd knows arm64 variants v8..v8.9 and v9..v9.7 only: anything else matches nothing
    "linux/arm64/v8.10": {True: [], False: ["linux/arm64", "linux/arm64/v8.10", "linux/arm/v7"]},
    "linux/arm64/v10": {True: [], False: ["linux/arm64", "linux/arm64/v10", "linux/arm/v5"]},
    "linux/arm64/8.0": {True: [], False: ["linux/arm64", "linux/arm64/8.0"]},
    # architectures without a vector: only themselves
    "linux/s390x": {True: ["linux/s390x"], False: ["linux/amd64", "linux/386"]},
    "linux/ppc64le": {True: ["linux/ppc64le"], False: ["linux/ppc64", "linux/ppc64le/power9"]},
    "linux/riscv64/rva23u64": {
        True: ["linux/riscv64/rva23u64"],
        False: ["linux/riscv64", "linux/riscv64/rva20u64"],
    },
    # os.version is only a constraint for Windows (A3)
    "linux(5.15)/amd64": {True: ["linux/amd64", "linux(6.1)/amd64"], False: ["linux/arm64"]},
    "windows(10.0.17763)/amd64": {
        True: [
            "windows/amd64",
            "windows(10.0.17763)/amd64",
            "windows(10.0.17763.5576)/amd64",
            "windows(10.0.17763)/386",
        ],
        False: ["windows(10.0.20348)/amd64", "windows(10.0.14393)/amd64", "linux/amd64"],
    },
    "windows(10.0.26100)/amd64": {
        True: ["windows(10.0.20348.1)/amd64", "windows(10.0.22621)/amd64", "windows()/amd64"],
        False: [
            "windows(10.0)/amd64",  # unparsable image version: zero value, incompatible
            "windows(10.0.17763)/amd64",
            "windows(10.0.26200)/amd64",
            "windows(6.3.9600)/amd64",
        ],
    },
    # os.features must be a subset of the wanted platform's (rc.3+)
    "linux(+gpu)/amd64": {
        True: ["linux/amd64", "linux(+gpu)/amd64", "linux(+gpu+gpu)/amd64", "linux(+gpu)/386"],
        False: ["linux(+gpu+tdx)/amd64", "linux(+tdx)/amd64"],
    },
    "linux(+gpu+tdx)/amd64": {
        True: ["linux(+tdx)/amd64", "linux(+tdx+gpu)/amd64", "linux/amd64"],
        False: ["linux(+sev)/amd64"],
    },
    "linux/arm64/v8": {
        True: ["linux/arm64"],
        False: ["linux(+gpu)/arm64", "linux(+win32k)/arm64"],
    },
    # win32k is ignored on Windows (Nano Server lacks it)
    "windows/arm64": {
        True: ["windows(+win32k)/arm64", "windows(10.0.1+win32k)/arm64"],
        False: ["windows(+gpu)/arm64", "windows(+gpu+win32k)/arm64"],
    },
}


@pytest.mark.parametrize(("wanted", "candidate", "expected"), param_table(ONLY))
def test_only(wanted: str, candidate: str, expected: bool) -> None:
    assert accepts("containerd", wanted, candidate) is expected


ONLY_STRICT = {
    # containerd/platforms compare_test.go TestOnlyStrict
    "linux/amd64": {
        True: ["linux/amd64", "linux/amd64/v1", "linux/x86_64"],
        False: ["linux/386", "linux/amd64/v2", "linux/arm/v7", "linux/arm64", "windows/amd64"],
    },
    "linux/amd64/v3": {True: ["linux/amd64/v3"], False: ["linux/amd64/v2", "linux/amd64"]},
    "linux/386": {True: ["linux/386"], False: ["linux/amd64", "linux/arm/v7", "windows/amd64"]},
    "windows/amd64": {
        True: ["windows/amd64", "windows(10.0.17763)/amd64"],
        False: ["linux/amd64", "linux/arm/v7", "linux/arm64", "windows/arm", "windows/386"],
    },
    "windows(10.0.17763)/amd64": {
        True: ["windows/amd64", "windows(10.0.17763)/amd64"],
        False: ["linux/amd64", "linux/arm/v7", "linux/arm64", "windows/arm"],
    },
    "linux/arm/v8": {
        True: ["linux/arm/v8"],
        False: ["linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7", "linux/arm64"],
    },
    "linux/arm/v7": {
        True: ["linux/arm", "linux/arm/v7", "linux/armhf"],
        False: ["linux/arm/v5", "linux/arm/v6", "linux/amd64", "linux/arm/v4", "linux/arm/v8"],
    },
    "linux/arm/v6": {
        True: ["linux/arm/v6", "linux/armel"],
        False: ["linux/arm/v5", "linux/amd64", "linux/arm", "linux/arm/v4", "linux/arm/v7"],
    },
    "linux/arm/v5": {True: ["linux/arm/v5"], False: ["linux/arm", "linux/arm/v4", "linux/arm/v6"]},
    "linux/arm/v4": {True: ["linux/arm/v4"], False: ["linux/arm", "linux/arm/v5"]},
    "linux/arm64/v9": {
        True: ["linux/arm64/v9", "linux/arm64/v9.0"],
        False: ["linux/arm", "linux/arm/v8", "linux/arm/v9", "linux/arm64/v8", "linux/arm64/v8.1"],
    },
    "linux/arm64/v8.1": {
        True: ["linux/arm64/v8.1"],
        False: ["linux/arm", "linux/arm/v8", "linux/arm64/v8", "linux/arm64/v9", "windows/arm"],
    },
    "linux/arm64": {
        True: ["linux/arm64", "linux/arm64/v8", "linux/aarch64"],
        False: ["linux/arm", "linux/arm/v5", "linux/arm/v8", "linux/amd64", "linux/arm64/v9"],
    },
    "linux/arm64/v8.10": {True: ["linux/arm64/v8.10"], False: ["linux/arm64"]},
}


@pytest.mark.parametrize(("wanted", "candidate", "expected"), param_table(ONLY_STRICT))
def test_only_strict(wanted: str, candidate: str, expected: bool) -> None:
    assert accepts("containerd-strict", wanted, candidate) is expected


# -- A6: Windows OS-version compatibility --------------------------------------------------------

WINDOWS_COMPAT = [
    # containerd/platforms platform_windows_compat_test.go Test_PlatformCompat
    ("10.0.17763", "10.0.17763", True),
    ("10.0.17763", "10.0.20348", False),
    ("10.0.20348", "10.0.17763", False),
    ("10.0.20348", "10.0.20348", True),
    ("10.0.22621", "10.0.17763", False),
    ("10.0.22621", "10.0.20348", True),
    ("10.0.25398", "10.0.17763", False),
    ("10.0.25398", "10.0.20348", True),
    ("10.0.26100", "10.0.20348", True),
    ("10.0.20348", "10.0.26100", False),
    ("10.0.20348", "10.0.22621", False),
    ("10.0.26100", "10.0.22621", True),
    # more of the same rules
    ("10.0.26100", "10.0.26100", True),
    ("10.0.26100", "10.0.17763", False),
    ("10.0.26200", "10.0.20348", True),  # rc.5 floor: rc.2/rc.4 would say False
    ("10.0.26200", "10.0.26100", True),
    ("10.0.26200", "10.0.26300", False),
    ("10.0.17763", "10.0.17763.5576", True),  # revision (UBR) never matters
    ("10.0.17763.1", "10.0.17763.9999", True),
    ("10.0.14393", "10.0.17763", False),
    ("10.0.14393", "10.0.14393", True),
    ("10.0.17763", "6.3.17763", False),  # major.minor must agree
    ("10.0.17763", "10.1.17763", False),
    ("10.0.17763", "10.0", False),  # unparsable image version: zero value, never compatible
    ("10.0.17763", "10.0.x", False),
    ("10.0.17763", "10.0.70000", False),  # build overflows uint16
    ("10.0.17763", "", True),  # empty image version: no constraint
    ("", "10.0.20348", True),  # empty host version: no constraint
    ("10.0", "10.0.20348", True),  # fewer than two dots: empty
    ("10.0.70000", "10.0.20348", True),  # host build overflows uint16: empty
    ("256.0.17763", "10.0.17763", True),  # major overflows uint8: empty
    ("0.0.0", "10.0.17763", True),  # the zero version is "empty"
    ("+10.0.17763", "10.0.17763", True),  # ParseUint rejects signs: empty
]


@pytest.mark.parametrize(
    ("host", "image", "expected"),
    [
        pytest.param(h, i, e, id=f"host-{h or 'none'}-image-{i or 'none'}")
        for h, i, e in WINDOWS_COMPAT
    ],
)
def test_windows_compatible(host: str, image: str, expected: bool) -> None:
    assert windows_compatible(host, image) is expected


# -- what every engine picks ---------------------------------------------------------------------

# Docker Hub's alpine, trimmed: a Docker manifest list in the official images' order.
ALPINE = index(
    entry("linux/amd64", "amd64"),
    entry("linux/arm/v6", "armv6"),
    entry("linux/arm/v7", "armv7"),
    entry("linux/arm64/v8", "arm64v8"),
    entry("linux/386", "i386"),
    entry("linux/ppc64le", "ppc64le"),
    entry("linux/riscv64", "riscv64"),
    entry("linux/s390x", "s390x"),
    media_type=DOCKER_LIST,
)

ALPINE_PICKS = {
    # host: (docker-1.10, docker-18.09, moby, containerd, containerd-strict, containers-image, full)
    "linux/amd64": ("amd64",) * 7,
    "linux/amd64/v3": ("amd64",) * 7,
    "linux/arm64/v8": ("arm64v8",) * 7,
    "linux/arm/v7": ("armv6", "armv7", "armv7", "armv7", "armv7", "armv7", "armv7"),
    "linux/arm/v6": ("armv6",) * 7,
    "linux/arm/v8": ("armv6", "armv6", "armv7", "armv7", "!", "armv7", "armv7"),
    "linux/arm/v5": ("armv6", "armv6", "!", "!", "!", "!", "!"),
    "linux/386": ("i386",) * 7,
    "linux/s390x": ("s390x",) * 7,
    "linux/riscv64": ("riscv64",) * 7,
    "linux/mips64le": ("!",) * 7,
    "windows(10.0.17763)/amd64": ("!",) * 7,
}


@pytest.mark.parametrize(
    ("host", "engine", "expected"),
    [
        pytest.param(host, engine, want, id=f"{host}-{engine}")
        for host, wants in ALPINE_PICKS.items()
        for engine, want in zip(TABLE_ENGINES, wants, strict=True)
    ],
)
def test_alpine_pick(host: str, engine: str, expected: str) -> None:
    assert_pick(pick(ALPINE, host, engine), expected)


# Hosts on which the engines disagree, with an index each (ids say why).
DISAGREEMENTS = [
    pytest.param(
        index(entry("linux/amd64/v3", "v3"), entry("linux/amd64", "v1")),
        "linux/amd64/v3",
        ("v3", "v1", "v3", "v1", "v1", "v1", "v3"),
        id="amd64-level-only-moby-and-full-use-it",
    ),
    pytest.param(
        index(entry("linux/amd64", "v1"), entry("linux/amd64/v2", "v2")),
        "linux/amd64/v4",
        ("v1", "v1", "v2", "v1", "v1", "v1", "v2"),
        id="amd64-v4-host-falls-to-v2",
    ),
    pytest.param(
        index(entry("linux/amd64/v2", "v2"), entry("linux/amd64/v3", "v3")),
        "linux/amd64/v1",
        ("v2", "!", "!", "!", "!", "!", "!"),
        id="no-baseline-image-docker-1.10-ignores-variants",
    ),
    pytest.param(
        index(entry("linux/386", "i386"), entry("linux/arm64", "arm64")),
        "linux/amd64/v3",
        ("!", "!", "i386", "i386", "!", "!", "i386"),
        id="386-fallback-only-in-only",
    ),
    pytest.param(
        index(entry("linux/amd64", "amd64"), entry("linux/arm/v7", "armv7")),
        "linux/arm64/v8",
        ("!", "!", "armv7", "armv7", "!", "!", "armv7"),
        id="arm64-runs-arm32",
    ),
    pytest.param(
        index(entry("linux/arm64", "plain"), entry("linux/arm64/v8", "v8")),
        "linux/arm64/v8",
        ("plain", "plain", "plain", "plain", "plain", "v8", "plain"),
        id="containers-image-prefers-the-exact-v8-string",
    ),
    pytest.param(
        index(entry("linux/arm64/v8", "v8"), entry("linux/arm64", "plain")),
        "linux/arm64/v8",
        ("v8", "v8", "v8", "v8", "v8", "v8", "v8"),
        id="equal-rank-list-order",
    ),
    pytest.param(
        index(entry("linux/arm/v6", "v6"), entry("linux/arm", "novariant")),
        "linux/arm/v7",
        ("v6", "novariant", "novariant", "novariant", "novariant", "v6", "novariant"),
        id="arm-without-variant-is-v7-except-for-containers-image",
    ),
    pytest.param(
        index(entry("linux/arm/v5", "v5"), entry("linux/arm/v6", "v6")),
        "linux/arm/v7",
        ("v5", "v5", "v6", "v6", "!", "v6", "v6"),
        id="nearest-older-arm-wins",
    ),
    pytest.param(
        index(entry("linux/arm64/v8.0", "v8.0")),
        "linux/arm64/v8",
        ("v8.0", "!", "v8.0", "v8.0", "v8.0", "!", "v8.0"),
        id="v8.0-folded-since-containerd-1.6",
    ),
    pytest.param(
        index(entry("linux/amd64/v1", "v1")),
        "linux/amd64",
        ("v1", "!", "v1", "v1", "v1", "v1", "v1"),
        id="amd64-v1-is-baseline-since-containerd-1.6",
    ),
    pytest.param(
        index(entry("linux/x86_64", "x86_64")),
        "linux/amd64",
        ("!", "x86_64", "x86_64", "x86_64", "x86_64", "!", "x86_64"),
        id="x86_64-alias-not-literal",
    ),
    pytest.param(
        index(entry("linux/aarch64", "aarch64")),
        "linux/arm64/v8",
        ("!", "aarch64", "aarch64", "aarch64", "aarch64", "!", "aarch64"),
        id="aarch64-alias",
    ),
    pytest.param(
        index(entry("Linux/amd64", "Linux")),
        "linux/amd64",
        ("!", "Linux", "Linux", "Linux", "Linux", "!", "Linux"),
        id="os-case-folded-by-normalize",
    ),
    pytest.param(
        index(entry("linux/armhf", "armhf")),
        "linux/arm/v7",
        ("!", "armhf", "armhf", "armhf", "armhf", "!", "armhf"),
        id="armhf-alias",
    ),
    pytest.param(
        index(entry("linux/arm64/v8.2", "v8.2"), entry("linux/arm64/v8.1", "v8.1")),
        "linux/arm64/v8.1",
        ("v8.2", "v8.1", "v8.1", "v8.1", "v8.1", "!", "v8.1"),
        id="arm64-minor-versions-containers-image-detects-only-v8",
    ),
    pytest.param(
        index(entry("linux/arm64", "arm64")),
        "linux/arm64/v8.10",
        ("arm64", "!", "!", "!", "!", "arm64", "!"),
        id="unknown-arm64-variant-matches-nothing-in-containerd",
    ),
    pytest.param(
        index(entry("linux/arm64/v8.5", "v8.5"), entry("linux/arm64/v8.6", "v8.6")),
        "linux/arm64/v9",
        ("v8.5", "!", "v8.5", "v8.5", "!", "!", "v8.5"),
        id="v9-covers-v8.5",
    ),
    pytest.param(
        index(entry("linux/arm/v7", "v7")),
        "linux/arm/v5",
        ("v7", "v7", "!", "!", "!", "!", "!"),
        id="docker-18.09-arm-fallback-ignores-variant",
    ),
    pytest.param(
        index(entry("linux/armhf", "armhf")),
        "linux/arm/v5",
        ("!", "!", "!", "!", "!", "!", "!"),
        id="arm-fallback-compares-raw-strings",
    ),
]


@pytest.mark.parametrize(("document", "host", "engine", "expected"), per_engine(DISAGREEMENTS))
def test_engines_disagree(document: dict[str, Any], host: str, engine: str, expected: str) -> None:
    assert_pick(pick(document, host, engine), expected)


# -- error messages ------------------------------------------------------------------------------

AMD64_ONLY = index(entry("linux/amd64", "amd64"), media_type=DOCKER_LIST)
AMD64_ONLY_OCI = index(entry("linux/amd64", "amd64"))

ERRORS = [
    pytest.param(
        AMD64_ONLY,
        "linux/arm64/v8",
        "docker-1.10",
        None,
        "no supported platform found in manifest list",
        id="docker-1.10",
    ),
    pytest.param(
        AMD64_ONLY,
        "linux/arm64/v8",
        "docker-18.09",
        None,
        "no matching manifest for linux/arm64/v8 in the manifest list entries",
        id="docker-18.09-default-spec-has-v8",
    ),
    pytest.param(
        AMD64_ONLY,
        "linux/arm64",
        "docker-18.09",
        None,
        "no matching manifest for linux/arm64/v8 in the manifest list entries",
        id="docker-18.09-arm64-always-detects-v8",
    ),
    pytest.param(
        AMD64_ONLY,
        "linux/amd64",
        "docker-18.09",
        "linux/arm64",
        "no matching manifest for linux/arm64 in the manifest list entries",
        id="docker-18.09-requested",
    ),
    pytest.param(
        AMD64_ONLY,
        "linux/arm64/v8",
        "moby",
        None,
        "no matching manifest for linux/arm64/v8 in the manifest list entries",
        id="moby-arm64",
    ),
    pytest.param(
        index(entry("linux/arm64", "a")),
        "linux/amd64/v3",
        "moby",
        None,
        "no matching manifest for linux/amd64 in the manifest list entries",
        id="moby-message-has-no-amd64-level",
    ),
    pytest.param(
        AMD64_ONLY,
        "linux/amd64",
        "moby",
        "linux/arm64",
        "no matching manifest for linux/arm64 in the manifest list entries",
        id="moby-requested-as-parsed",
    ),
    pytest.param(
        AMD64_ONLY,
        "linux/amd64",
        "moby",
        "windows(10.0.17763)/arm64/v8",
        "no matching manifest for windows(10.0.17763)/arm64/v8 in the manifest list entries",
        id="moby-requested-format-all",  # moby pull_v2_test.go
    ),
    pytest.param(
        AMD64_ONLY,
        Platform("windows", "amd64", os_version="10.0.17763.5576"),
        "moby",
        None,
        "no matching manifest for windows(10.0.17763)/amd64 in the manifest list entries",
        id="moby-windows-daemon",
    ),
    pytest.param(
        index(entry("windows(10.0.20348.1)/amd64", "ltsc2022")),
        Platform("windows", "amd64", os_version="10.0.17763"),
        "docker-18.09",
        None,
        "no matching manifest for windows/amd64 in the manifest list entries",
        id="docker-18.09-windows-format-without-version",
    ),
    pytest.param(
        AMD64_ONLY,
        "linux/arm64/v8",
        "containerd",
        None,
        "no match for platform in manifest: not found",
        id="containerd",
    ),
    pytest.param(
        AMD64_ONLY,
        "linux/amd64",
        "containerd-strict",
        "linux/386",
        "no match for platform in manifest: not found",
        id="containerd-strict",
    ),
    pytest.param(
        AMD64_ONLY,
        "linux/arm64/v8",
        "containers-image",
        None,
        'no image found in manifest list for architecture "arm64", variant "v8", OS "linux"',
        id="containers-image-list",
    ),
    pytest.param(
        AMD64_ONLY_OCI,
        "linux/arm64/v8",
        "containers-image",
        None,
        'no image found in image index for architecture "arm64", variant "v8", OS "linux"',
        id="containers-image-index",
    ),
    pytest.param(
        AMD64_ONLY_OCI,
        "linux/amd64/v3",
        "containers-image",
        "linux/s390x",
        'no image found in image index for architecture "s390x", variant "", OS "linux"',
        id="containers-image-override",
    ),
    pytest.param(
        AMD64_ONLY_OCI,
        "linux/arm/v7",
        "containers-image",
        None,
        'no image found in image index for architecture "arm", variant "v7", OS "linux"',
        id="containers-image-wanted-0",
    ),
    pytest.param(
        AMD64_ONLY_OCI,
        "linux/arm64/v8",
        "full",
        None,
        "no matching manifest for linux/arm64 in the manifest list entries",
        id="full",
    ),
    pytest.param(
        index(),
        "linux/amd64",
        "moby",
        None,
        "no matching manifest for linux/amd64 in the manifest list entries",
        id="empty-index",
    ),
]


@pytest.mark.parametrize(("document", "host", "engine", "requested", "message"), ERRORS)
def test_error_message(
    document: dict[str, Any],
    host: str | Platform,
    engine: str,
    requested: str | None,
    message: str,
) -> None:
    with pytest.raises(NoMatchingManifest) as caught:
        select_manifest(document, host, engine, requested=requested)
    assert str(caught.value) == message
    assert caught.value.message == message
    assert caught.value.engine == ALIASES.get(engine, engine)  # an alias answers as its profile


@pytest.mark.parametrize(
    ("engine", "requested", "key", "message"),
    [
        pytest.param(
            "moby",
            None,
            "docker-cli",
            "Error response from daemon: no matching manifest for linux/arm64/v8 in the "
            "manifest list entries",
            id="docker-cli-prefix",
        ),
        pytest.param(
            "moby",
            None,
            "containerd-store",
            "no matching manifest for linux/arm64/v8 in the manifest list entries: no match "
            "for platform in manifest: not found",
            id="moby-containerd-image-store",
        ),
        pytest.param(
            "docker-1.10",
            None,
            "docker-17.04",
            "no matching manifest for linux/arm64 in the manifest list entries",
            id="docker-17.04-text",
        ),
        pytest.param(
            "containers-image",
            None,
            "containers-image-5.0",
            'no image found in manifest list for architecture arm64, variant "v8", OS linux',
            id="containers-image-older-text",
        ),
    ],
)
def test_other_messages(engine: str, requested: str | None, key: str, message: str) -> None:
    with pytest.raises(NoMatchingManifest) as caught:
        select_manifest(AMD64_ONLY, "linux/arm64/v8", engine, requested=requested)
    assert caught.value.messages[key] == message


def test_moby_containerd_store_message_keeps_amd64_level() -> None:
    with pytest.raises(NoMatchingManifest) as caught:
        select_manifest(index(entry("linux/arm64", "a")), "linux/amd64/v3", "moby")
    assert caught.value.messages["containerd-store"] == (
        "no matching manifest for linux/amd64/v3 in the manifest list entries: no match for "
        "platform in manifest: not found"
    )


def test_no_match_exception_lists_every_rejection() -> None:
    document = index(entry("linux/amd64", "amd64"), attestation("amd64"), entry("windows/arm64"))
    with pytest.raises(NoMatchingManifest) as caught:
        select_manifest(document, "linux/arm64/v8", "moby")
    error = caught.value
    assert error.wanted == Platform("linux", "arm64")
    assert [c.position for c in error.candidates] == [0, 1, 2]
    assert all(not c.accepted for c in error.candidates)
    assert error.candidates[1].reason.startswith("attestation manifest")
    assert "os windows is not linux" in error.candidates[2].reason


# -- ranking and candidates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "host", "order"),
    [
        pytest.param(
            "moby",
            "linux/arm64/v8",
            ["arm64", "armv7", "armv6", "nothing"],
            id="moby-vector-order-platformless-last",
        ),
        pytest.param(
            "containerd",
            "linux/arm64/v8",
            ["arm64", "armv7", "armv6", "nothing"],
            id="containerd-same-order",
        ),
        pytest.param(
            "containers-image",
            "linux/arm64/v8",
            ["arm64", "nothing"],
            id="containers-image-no-arm-fallback",
        ),
        pytest.param(
            "moby",
            "linux/amd64/v4",
            ["v3", "v2", "amd64", "i386", "nothing"],
            id="moby-amd64-levels-then-386",
        ),
        pytest.param(
            "containerd",
            "linux/amd64/v4",
            ["amd64", "i386", "nothing"],
            id="containerd-no-levels",
        ),
        pytest.param(
            "full",
            "linux/amd64/v4",
            ["v3", "v2", "amd64", "i386", "nothing"],
            id="full-like-moby",
        ),
    ],
)
def test_accepted_order(engine: str, host: str, order: list[str]) -> None:
    document = index(
        entry(None, "nothing"),
        entry("linux/arm/v6", "armv6"),
        entry("linux/386", "i386"),
        entry("linux/amd64", "amd64"),
        entry("linux/arm/v7", "armv7"),
        entry("linux/amd64/v2", "v2"),
        entry("linux/arm64", "arm64"),
        entry("linux/amd64/v3", "v3"),
        attestation("arm64"),
    )
    selection = select_manifest(document, host, engine)
    accepted = [c.descriptor["digest"].removeprefix("sha256:") for c in selection.candidates]
    assert accepted[: len(order)] == order
    assert [c.rank for c in selection.candidates[: len(order)]] == list(range(len(order)))
    assert all(c.rank is None for c in selection.candidates[len(order) :])
    rejected = [c.position for c in selection.candidates[len(order) :]]
    assert rejected == sorted(rejected)  # rejected ones in document order


def test_selection_fields_and_reasons() -> None:
    document = index(
        entry("linux/amd64", "amd64"), entry("linux/arm/v6", "armv6"), attestation("amd64")
    )
    selection = select_manifest(json.dumps(document), "linux/arm64/v8", "moby")
    assert isinstance(selection, Selection)
    assert selection.engine == "moby"
    assert selection.digest == "sha256:armv6"
    assert selection.platform == Platform("linux", "arm", "v6")
    assert selection.chosen.position == 1
    assert selection.chosen.accepted
    assert selection.wanted == Platform("linux", "arm64")
    assert "fallback #3 (arm/v6)" in selection.chosen.reason
    assert selection.reason.startswith("moby picks manifests[1] linux/arm/v6 (sha256:armv6)")
    assert "1 of 3 entries acceptable" in selection.reason
    assert "arm64 → arm/v8 → arm/v7 → arm/v6 → arm/v5" in selection.reason
    reasons = {c.position: c.reason for c in selection.candidates}
    assert "amd64 is not one of arm64" in reasons[0]
    assert reasons[2].startswith("attestation manifest (vnd.docker.reference.type=")


def test_long_vectors_are_computed_not_enumerated() -> None:
    document = index(entry("linux/amd64/v2", "v2"), entry("linux/386", "i386"))
    selection = select_manifest(document, "linux/amd64/v999999999", "moby")
    assert selection.digest == "sha256:v2"
    assert [c.rank for c in selection.candidates] == [0, 1]
    assert "fallback #999999997 (amd64/v2)" in selection.chosen.reason


# -- platform-less entries, attestations, duplicates --------------------------------------------

PLATFORMLESS = index(entry(None, "nothing"), entry("linux/arm64", "arm64"))


SPECIAL = [
    pytest.param(
        PLATFORMLESS,
        "linux/amd64",
        ("!", "!", "nothing", "nothing", "nothing", "nothing", "nothing"),
        id="oci-index-platformless-is-the-last-resort",
    ),
    pytest.param(
        index(entry(None, "nothing"), entry("linux/arm64", "arm64"), media_type=DOCKER_LIST),
        "linux/amd64",
        ("!", "!", "nothing", "nothing", "nothing", "!", "nothing"),
        id="docker-list-platformless-rejected-by-containers-image",
    ),
    pytest.param(
        PLATFORMLESS,
        "linux/arm64/v8",
        ("arm64",) * 7,
        id="platformless-sorted-after-a-match",
    ),
    pytest.param(
        index(entry({}, "empty")),
        "linux/s390x",
        ("!", "!", "empty", "!", "!", "!", "!"),
        id="empty-platform-object-is-platformless-only-for-moby",
    ),
    pytest.param(
        index(entry({"os.features": []}, "empty-list")),
        "linux/s390x",
        ("!", "!", "!", "!", "!", "!", "!"),
        id="empty-features-list-is-a-platform-for-moby",
    ),
    pytest.param(
        index(entry({"os": "", "architecture": "s390x"}, "no-os")),
        "linux/s390x",
        ("!", "no-os", "no-os", "no-os", "no-os", "!", "no-os"),
        id="empty-os-normalizes-to-the-host-os",
    ),
    pytest.param(
        index(
            entry(
                None,
                "att",
                annotations={ATTESTATION_ANNOTATION: "attestation-manifest"},
            )
        ),
        "linux/amd64",
        ("!", "!", "att", "att", "att", "att", "!"),
        id="platformless-attestation-only-full-skips-it",
    ),
    pytest.param(
        index(entry("linux/amd64", "amd64"), attestation("amd64")),
        "linux/arm64/v8",
        ("!",) * 7,
        id="attestations-never-match-a-host",
    ),
    pytest.param(
        index(attestation("amd64"), entry("linux/amd64", "amd64")),
        "linux/amd64",
        ("amd64",) * 7,
        id="attestation-before-its-image",
    ),
    pytest.param(
        index(entry("linux/amd64", "first"), entry("linux/amd64", "second")),
        "linux/amd64",
        ("first",) * 7,
        id="duplicates-first-wins",
    ),
    pytest.param(
        index(entry("linux/arm/v7", "a"), entry("linux/arm/7", "b"), entry("linux/arm", "c")),
        "linux/arm/v7",
        ("a", "a", "a", "a", "a", "a", "a"),
        id="normalized-duplicates-first-wins",
    ),
]


@pytest.mark.parametrize(("document", "host", "engine", "expected"), per_engine(SPECIAL))
def test_special_entries(document: dict[str, Any], host: str, engine: str, expected: str) -> None:
    assert_pick(pick(document, host, engine), expected)


def test_platformless_candidate_reason() -> None:
    selection = select_manifest(PLATFORMLESS, "linux/amd64", "moby")
    assert selection.platform is None
    assert selection.chosen.reason == "no platform: kept by the filter, tried last"


def test_nested_index_is_returned_for_the_caller_to_recurse() -> None:
    inner = entry("linux/amd64", "inner-index", media_type=OCI_INDEX)
    selection = select_manifest(index(inner), "linux/amd64", "containerd")
    assert selection.descriptor["mediaType"] == OCI_INDEX
    assert selection.digest == "sha256:inner-index"


# -- os.features and CPU features ----------------------------------------------------------------

FEATURES = index(entry("linux/amd64", "plain"), entry("linux(+gpu)/amd64", "gpu"))


@pytest.mark.parametrize(
    ("host", "engine", "requested", "expected"),
    [
        pytest.param("linux/amd64", "moby", None, "plain", id="moby-host-has-no-os-features"),
        pytest.param(
            "linux/amd64", "moby", "linux(+gpu)/amd64", "gpu", id="moby-requested-more-features"
        ),
        pytest.param(
            "linux/amd64",
            "containerd",
            "linux(+gpu)/amd64",
            "gpu",
            id="containerd-more-features-first",
        ),
        pytest.param(
            "linux/amd64",
            "containerd-strict",
            "linux(+gpu)/amd64",
            "gpu",
            id="strict-more-features-first",
        ),
        pytest.param("linux(+gpu)/amd64", "full", None, "gpu", id="full-host-offers-the-feature"),
        pytest.param("linux/amd64", "full", None, "plain", id="full-host-without-feature"),
        pytest.param(
            "linux/amd64",
            "containers-image",
            Platform("linux", "amd64", os_features=("gpu",)),
            "plain",
            id="containers-image-ignores-features",
        ),
        pytest.param("linux/amd64", "docker-1.10", None, "plain", id="docker-1.10-first"),
    ],
)
def test_os_features(host: str, engine: str, requested: str | None, expected: str) -> None:
    assert pick(FEATURES, host, engine, requested) == expected


def test_os_features_tie_break_counts_raw_entries() -> None:
    # orderedPlatformComparer.Less compares len(OSFeatures) as written, duplicates included.
    document = index(entry("linux(+gpu)/amd64", "one"), entry("linux(+gpu+gpu)/amd64", "dup"))
    assert pick(document, "linux/amd64", "moby", "linux(+gpu)/amd64") == "dup"


def test_features_only_gpu_entries_fail_without_request() -> None:
    document = index(entry("linux(+gpu)/amd64", "gpu"))
    assert pick(document, "linux/amd64", "moby") == (
        "!no matching manifest for linux/amd64 in the manifest list entries"
    )


CPU = index(
    entry({"os": "linux", "architecture": "amd64", "features": ["avx512f"]}, "avx512"),
    entry("linux/amd64", "plain"),
)


@pytest.mark.parametrize(
    ("host", "engine", "expected"),
    [
        pytest.param(Platform("linux", "amd64", features=("sse2",)), "full", "plain", id="full"),
        pytest.param(
            Platform("linux", "amd64", features=("avx512f", "sse2")),
            "full",
            "avx512",
            id="full-host-has-flag",
        ),
        pytest.param(Platform("linux", "amd64"), "moby", "avx512", id="moby-ignores-features"),
        pytest.param(Platform("linux", "amd64"), "containerd", "avx512", id="containerd-ignores"),
        pytest.param(Platform("linux", "amd64"), "containers-image", "avx512", id="c-i-ignores"),
    ],
)
def test_cpu_features(host: Platform, engine: str, expected: str) -> None:
    assert pick(CPU, host, engine) == expected


def test_full_rejects_unoffered_cpu_features_with_reason() -> None:
    selection = select_manifest(CPU, Platform("linux", "amd64"), "full")
    assert selection.candidates[1].reason == "CPU features ['avx512f'] are not offered by the host"


@pytest.mark.parametrize(
    ("host_version", "entry_version", "expected"),
    [
        pytest.param("", "6.1", True, id="host-without-version"),
        pytest.param("6.8", "6.1", True, id="older-kernel-image"),
        pytest.param("6.8", "6.8", True, id="same"),
        pytest.param("6.8", "6.10", False, id="newer-numeric"),
        pytest.param("6.8-rt", "6.8-rt", True, id="non-numeric-equal"),
        pytest.param("6.8-rt", "6.8", False, id="non-numeric-different"),
    ],
)
def test_full_non_windows_os_version(host_version: str, entry_version: str, expected: bool) -> None:
    document = index(entry(f"linux({entry_version})/amd64", "e"))
    host = Platform("linux", "amd64", os_version=host_version)
    assert (pick(document, host, "full") == "e") is expected
    assert pick(document, host, "moby") == "e"  # containerd ignores non-Windows os.version


# -- Windows -------------------------------------------------------------------------------------

WIN_26100 = Platform("windows", "amd64", os_version="10.0.26100.2605")
WINDOWS_IMAGE = index(
    entry("windows(10.0.26100.10)/amd64", "26100.10"),
    entry("windows(10.0.26100.2605)/amd64", "26100.2605"),
    entry("windows(10.0.20348.100)/amd64", "20348"),
    entry("windows(10.0.17763.1)/amd64", "17763"),
    entry("linux/amd64", "linux"),
    media_type=DOCKER_LIST,
)


@pytest.mark.parametrize(
    ("engine", "order"),
    [
        # pull_v2_windows.go: the host's build first (in list order), then the rest in list order
        pytest.param("moby", ["26100.10", "26100.2605", "20348", "17763"], id="moby-daemon"),
        pytest.param("docker-18.09", ["26100.10", "26100.2605", "20348", "17763"], id="18.09"),
        # windowsMatchComparer: greatest os.version *string* first; 17763 is below the floor
        pytest.param("containerd", ["26100.2605", "26100.10", "20348"], id="containerd"),
        pytest.param("containerd-strict", ["26100.10", "26100.2605", "20348"], id="strict"),
        # full: newest compatible build and revision first
        pytest.param("full", ["26100.2605", "26100.10", "20348"], id="full"),
        # containers/image ignores os.version entirely
        pytest.param(
            "containers-image", ["26100.10", "26100.2605", "20348", "17763"], id="containers-image"
        ),
        pytest.param("docker-1.10", ["26100.10", "26100.2605", "20348", "17763"], id="docker-1.10"),
    ],
)
def test_windows_order(engine: str, order: list[str]) -> None:
    selection = select_manifest(WINDOWS_IMAGE, WIN_26100, engine)
    accepted = [c.descriptor["digest"].removeprefix("sha256:") for c in selection.candidates]
    assert accepted[: len(order)] == order
    assert all(not c.accepted for c in selection.candidates[len(order) :])


LTSC = index(
    entry("windows(10.0.26100.1)/amd64", "ltsc2025"),
    entry("windows(10.0.20348.5)/amd64", "ltsc2022"),
    entry("windows(10.0.17763.9)/amd64", "ltsc2019"),
)
RS1 = index(entry("windows(10.0.14393.5)/amd64", "rs1"))


@pytest.mark.parametrize(
    ("document", "host_version", "engine", "expected"),
    [
        pytest.param(LTSC, "10.0.20348.2340", "moby", "ltsc2022", id="moby-newer-build-dropped"),
        pytest.param(LTSC, "10.0.20348.2340", "containerd", "ltsc2022", id="containerd-ltsc2022"),
        pytest.param(LTSC, "10.0.17763", "moby", "ltsc2019", id="moby-ltsc2019-host"),
        pytest.param(LTSC, "10.0.17763", "containerd", "ltsc2019", id="containerd-ltsc2019-host"),
        pytest.param(LTSC, "10.0.26100", "moby", "ltsc2025", id="moby-ltsc2025-host"),
        pytest.param(LTSC, "10.0.26100", "containerd", "ltsc2025", id="containerd-ltsc2025-host"),
        pytest.param(LTSC, "10.0.26100", "full", "ltsc2025", id="full-newest-build"),
        pytest.param(LTSC, "10.0.22621", "containerd", "ltsc2022", id="win11-host-runs-ltsc2022"),
        pytest.param(LTSC, "10.0.22621", "moby", "ltsc2022", id="moby-win11-host"),
        pytest.param(LTSC, "10.0.14393", "moby", "!", id="moby-drops-newer-builds"),
        pytest.param(RS1, "10.0.17763", "moby", "rs1", id="moby-keeps-older-builds"),
        pytest.param(RS1, "10.0.17763", "containerd", "!", id="containerd-needs-exact-build"),
        pytest.param(RS1, "10.0.17763", "full", "!", id="full-needs-exact-build"),
    ],
)
def test_windows_ltsc(
    document: dict[str, Any], host_version: str, engine: str, expected: str
) -> None:
    host = Platform("windows", "amd64", os_version=host_version)
    assert_pick(pick(document, host, engine), expected)


def test_moby_windows_daemon_explains_newer_builds() -> None:
    document = index(entry("windows(10.0.26100.1)/amd64", "new"))
    with pytest.raises(NoMatchingManifest) as caught:
        select_manifest(document, Platform("windows", "amd64", os_version="10.0.20348"), "moby")
    assert caught.value.candidates[0].reason == (
        "a Windows version 10.0.26100-based image is incompatible with a 10.0.20348 host"
    )


def test_moby_windows_daemon_requested_os_overrides_check() -> None:
    # pull_v2_windows.go: "Explicit user request for an OS" replaces the entry's OS in CheckOS.
    document = index(entry("linux/amd64", "linux"))
    host = Platform("windows", "amd64", os_version="10.0.20348")
    assert pick(document, host, "moby").startswith("!")
    assert pick(document, host, "moby", requested="windows/amd64") == "linux"


def test_moby_windows_daemon_ignores_requested_architecture() -> None:
    document = index(entry("windows(10.0.20348.1)/amd64", "amd64"))
    host = Platform("windows", "amd64", os_version="10.0.20348")
    assert pick(document, host, "moby", requested="windows/arm64") == "amd64"


@pytest.mark.parametrize(
    ("host", "engine", "expected"),
    [
        pytest.param(
            Platform("windows", "amd64", os_version="10.0.20348"),
            "containerd",
            "w",
            id="containerd-strips-win32k",
        ),
        pytest.param(
            Platform("windows", "amd64", os_version="10.0.20348"),
            "full",
            "!",
            id="full-counts-win32k",
        ),
        pytest.param(
            Platform("windows", "amd64", os_version="10.0.20348", os_features=("win32k",)),
            "full",
            "w",
            id="full-host-declares-win32k",
        ),
    ],
)
def test_win32k(host: Platform, engine: str, expected: str) -> None:
    document = index(entry("windows(10.0.20348.1+win32k)/amd64", "w"))
    assert_pick(pick(document, host, engine), expected)


def test_containerd_windows_has_no_386_fallback_but_only_does() -> None:
    document = index(entry("windows/386", "i386"))
    host = Platform("windows", "amd64", os_version="10.0.20348")
    assert pick(document, host, "containerd").startswith("!")
    assert pick(document, host, "containerd", requested="windows/amd64") == "i386"
    assert pick(document, host, "full") == "i386"


# -- other host operating systems ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("darwin/arm64", "linux-arm64", id="darwin-falls-back-to-linux-same-arch"),
        pytest.param("freebsd/arm64", "linux-arm64", id="freebsd-falls-back-to-linux"),
        pytest.param("freebsd/amd64", "!", id="freebsd-linux-fallback-is-exact"),
        pytest.param("netbsd/arm64", "!", id="other-unix-only"),
    ],
)
def test_containerd_default_on_other_oses(host: str, expected: str) -> None:
    document = index(entry("linux/arm64", "linux-arm64"), entry("linux/386", "linux-386"))
    assert_pick(pick(document, host, "containerd"), expected)


def test_containerd_darwin_prefers_native() -> None:
    document = index(entry("linux/arm64", "linux"), entry("darwin/arm64", "darwin"))
    assert pick(document, "darwin/arm64", "containerd") == "darwin"
    assert pick(document, "darwin/arm64", "moby") == "darwin"


# -- containers/image specifics ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "host", "requested", "expected"),
    [
        pytest.param(
            index(
                entry("linux/amd64", "gzip"),
                entry("linux/amd64", "zstd", annotations={ZSTD: "true"}),
            ),
            "linux/amd64",
            None,
            "zstd",
            id="zstd-preferred-in-oci-index",
        ),
        pytest.param(
            index(
                entry("linux/amd64", "gzip"),
                entry("linux/amd64", "zstd", annotations={ZSTD: "true"}),
                media_type=DOCKER_LIST,
            ),
            "linux/amd64",
            None,
            "gzip",
            id="docker-list-has-no-compression-preference",
        ),
        pytest.param(
            index(
                entry("linux/amd64", "zstd", annotations={ZSTD: "true"}),
                entry("linux/amd64", "chunked", annotations={ZSTD: "true", SENTINEL: "true"}),
            ),
            "linux/amd64",
            None,
            "chunked",
            id="zstd-chunked-sentinel-preferred",
        ),
        pytest.param(
            index(
                entry("linux/arm64", "gzip"),
                entry("linux/arm64/v8", "v8-zstd", annotations={ZSTD: "true"}),
            ),
            "linux/arm64/v8",
            None,
            "v8-zstd",
            id="wanted-position-before-compression",
        ),
        pytest.param(
            index(
                entry("linux/arm64/v8", "v8-gzip"),
                entry("linux/arm64", "plain-zstd", annotations={ZSTD: "true"}),
            ),
            "linux/arm64/v8",
            None,
            "v8-gzip",
            id="wanted-position-wins-over-zstd",
        ),
        pytest.param(
            index(
                entry("linux/amd64", "a"),
                entry("linux/amd64/v2", "b"),
                entry("linux/amd64/v4", "c"),
            ),
            "linux/amd64",
            Platform("linux", "amd64", "v3"),
            "b",
            id="override-variant-walks-amd64-levels",
        ),
        pytest.param(
            index(entry("linux/amd64/v1", "v1")),
            "linux/amd64",
            None,
            "v1",
            id="amd64-v1-equals-empty",
        ),
        pytest.param(
            index(entry("linux/arm64/v8", "v8")),
            "linux/amd64",
            Platform("", "arm64"),
            "v8",
            id="override-arch-accepts-base-variant",
        ),
        pytest.param(
            index(entry("linux/arm64", "arm64")),
            "linux/amd64",
            Platform("linux", "aarch64"),
            "!",
            id="override-is-not-normalized",
        ),
        pytest.param(
            index(entry("linux/arm", "novariant"), entry("linux/arm/v8", "v8")),
            "linux/arm/v7",
            None,
            "novariant",
            id="arm-v7-host-walks-down-then-empty",
        ),
        pytest.param(
            index(entry("linux/arm/v6", "v6"), entry("linux/arm/v7", "v7"), media_type=DOCKER_LIST),
            "linux/arm/v7",
            None,
            "v7",
            id="docker-list-wanted-platform-outer-loop",
        ),
        pytest.param(
            index(entry("windows(10.0.26100)/amd64", "newer")),
            Platform("windows", "amd64", os_version="10.0.17763"),
            None,
            "newer",
            id="os-version-ignored",
        ),
        pytest.param(
            index(entry("linux/arm64/v8", "v8")),
            Platform("linux", "arm64", "unknown"),
            None,
            "v8",
            id="undetectable-variant-is-empty",
        ),
        pytest.param(
            index(entry("windows/arm64/v8", "v8")),
            Platform("windows", "arm64"),
            None,
            "v8",
            id="windows-arm64-is-v8",
        ),
    ],
)
def test_containers_image(
    document: dict[str, Any], host: str | Platform, requested: Platform | None, expected: str
) -> None:
    assert_pick(pick(document, host, "containers-image", requested), expected)


def test_containers_image_missing_media_type_is_an_oci_index() -> None:
    document = index(entry(None, "nothing"), media_type=None)
    assert pick(document, "linux/amd64", "containers-image") == "nothing"


# -- requested platforms (--platform) ------------------------------------------------------------

# moby daemon/containerd/platform_matchers_test.go, rows with a requested platform.
MOBY_VECTORS_INDEX = index(
    entry("linux/amd64", "linux-amd64"),
    entry("linux/arm/v5", "arm-v5"),
    entry("linux/arm/v6", "arm-v6"),
    entry("linux/arm64/v8", "arm64-v8"),
    entry("windows(10.0.14393)/amd64", "windows"),
)


@pytest.mark.parametrize(
    ("host", "document", "requested", "only", "strict"),
    [
        pytest.param(
            "linux/amd64/v4",
            index(entry("linux/amd64", "amd64"), entry("linux/amd64/v3", "v3")),
            "linux/amd64",
            "amd64",
            "amd64",
            id="v4-host-asks-amd64",
        ),
        pytest.param(
            "linux/amd64/v4",
            index(entry("linux/amd64", "amd64"), entry("linux/amd64/v3", "v3")),
            "linux/amd64/v3",
            "v3",
            "v3",
            id="v4-host-asks-v3",
        ),
        pytest.param(
            "linux/amd64/v4",
            index(entry("linux/amd64/v3", "v3")),
            "linux/amd64",
            "!",
            "!",
            id="asks-amd64-only-v3",
        ),
        pytest.param(
            "linux/amd64/v4",
            index(entry("linux/amd64/v2", "v2"), entry("linux/amd64/v3", "v3")),
            "linux/amd64/v4",
            "v3",
            "!",
            id="asks-v4-gets-v3",
        ),
        pytest.param(
            "linux/arm64/v8",
            MOBY_VECTORS_INDEX,
            "linux/amd64",
            "linux-amd64",
            "linux-amd64",
            id="arm64-asks-amd64",
        ),
        pytest.param(
            "linux/arm64/v8",
            MOBY_VECTORS_INDEX,
            "windows/amd64",
            "windows",
            "windows",
            id="asks-windows",
        ),
        pytest.param(
            "linux/arm64/v8", MOBY_VECTORS_INDEX, "linux/arm", "arm-v6", "!", id="asks-arm"
        ),
        pytest.param(
            "linux/arm64/v8",
            MOBY_VECTORS_INDEX,
            "linux/arm/v5",
            "arm-v5",
            "arm-v5",
            id="asks-arm-v5",
        ),
        pytest.param(
            "linux/arm64/v8", MOBY_VECTORS_INDEX, "linux/arm/v8", "arm-v6", "!", id="asks-arm-v8"
        ),
        pytest.param(
            "linux/arm64/v8", MOBY_VECTORS_INDEX, "linux/s390x", "!", "!", id="asks-s390x"
        ),
        pytest.param(
            "linux/arm64/v8",
            MOBY_VECTORS_INDEX,
            "arm64",
            "arm64-v8",
            "arm64-v8",
            id="one-word-parsed-on-host",
        ),
    ],
)
def test_moby_requested_vectors(
    host: str, document: dict[str, Any], requested: str, only: str, strict: str
) -> None:
    for engine, want in (("moby", only), ("containerd", only), ("containerd-strict", strict)):
        assert_pick(pick(document, host, engine, requested), want)


def test_moby_requested_without_arch_takes_host_arch_and_variant() -> None:
    # withDefault: missing arch (and variant) from maximumSpec, incl. the amd64 level
    document = index(entry("linux/amd64", "v1"), entry("linux/amd64/v3", "v3"))
    assert pick(document, "linux/amd64/v3", "moby", Platform("linux", "")) == "v3"
    assert pick(document, "linux/amd64/v3", "moby", Platform("", "amd64")) == "v1"


def test_docker_1_10_has_no_platform_flag() -> None:
    with pytest.raises(ValueError, match="no --platform"):
        select_manifest(ALPINE, "linux/amd64", "docker-1.10", requested="linux/arm64")


def test_docker_18_09_requested_platform() -> None:
    assert pick(ALPINE, "linux/amd64", "docker-18.09", "linux/arm/v7") == "armv7"
    assert pick(ALPINE, "linux/amd64", "docker-18.09", "linux/arm/v5") == "armv6"  # fallback


def test_full_requested_keeps_host_cpu_features() -> None:
    selection = select_manifest(
        CPU, Platform("linux", "amd64", features=("avx512f",)), "full", requested="linux/amd64"
    )
    assert selection.digest == "sha256:avx512"
    assert selection.wanted.features == ("avx512f",)


# -- inputs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(ALPINE, id="dict"),
        pytest.param(json.dumps(ALPINE), id="str"),
        pytest.param(json.dumps(ALPINE).encode(), id="bytes"),
    ],
)
def test_index_input_forms(document: Any) -> None:
    assert select_manifest(document, "linux/s390x").digest == "sha256:s390x"


def test_host_as_platform_or_specifier() -> None:
    assert select_manifest(ALPINE, Platform.parse("linux/arm/v6")).digest == "sha256:armv6"
    host = Platform.host(
        system="Linux",
        machine="armv6l",
        cpuinfo="model name : ARMv6-compatible processor\nCPU architecture: 7\n",
    )
    assert select_manifest(ALPINE, host, "containerd").digest == "sha256:armv6"
    assert select_manifest(ALPINE, host, "docker-18.09").digest == "sha256:armv6"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param("{not json", "index is not JSON", id="bad-json"),
        pytest.param("[]", "index must be a JSON object", id="array"),
        pytest.param({"manifests": {}}, "'manifests' must be an array", id="manifests-object"),
        pytest.param(
            {"manifests": ["x"]}, r"manifests\[0\] must be a JSON object", id="string-entry"
        ),
        pytest.param(
            {"manifests": [{"platform": "linux"}]},
            r"manifests\[0\].platform must be",
            id="string-platform",
        ),
        pytest.param(
            {"manifests": [{"platform": {"os": 1}}]},
            "'os' must be a string",
            id="bad-platform-field",
        ),
    ],
)
def test_malformed_index(document: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        select_manifest(document, "linux/amd64")


def test_bad_platform_field_is_a_platform_error() -> None:
    with pytest.raises(PlatformError):
        select_manifest({"manifests": [{"platform": {"variant": 7}}]}, "linux/amd64")


def test_index_without_manifests_matches_nothing() -> None:
    with pytest.raises(NoMatchingManifest, match="no match for platform in manifest"):
        select_manifest({"schemaVersion": 2}, "linux/amd64", "containerd")


def test_unknown_engine() -> None:
    with pytest.raises(ValueError, match="unknown engine 'nerdctl'"):
        select_manifest(ALPINE, "linux/amd64", "nerdctl")
    with pytest.raises(ValueError, match=r"known engines: docker-1\.10, docker-18\.09, moby"):
        describe_engine("nerdctl")


def test_bad_host_specifier() -> None:
    with pytest.raises(PlatformError, match="cannot parse platform specifier"):
        select_manifest(ALPINE, "linux/arm/v7/x")


def test_engines_and_descriptions() -> None:
    assert ENGINES == (
        "docker-1.10",
        "docker-18.09",
        "moby",
        "moby-containerd",
        "containerd",
        "containerd-strict",
        "podman",
        "podman-4.3",
        "skopeo",
        "skopeo-1.9",
        "full",
    )
    for engine in ENGINES:
        line = describe_engine(engine)
        assert line.startswith(f"{engine}: ")
        assert "\n" not in line
        assert len(line) < 160


def test_default_engine_is_moby() -> None:
    document = index(entry("linux/amd64/v2", "v2"), entry("linux/amd64", "v1"))
    assert select_manifest(document, "linux/amd64/v2").digest == "sha256:v2"
    assert select_manifest(document, "linux/amd64/v2").engine == "moby"
