"""fakeregistry.platforms.platform and fakeregistry.platforms.cpuinfo: the rules of
docs/platform-rules.md A1, A2 and A7.

Tables first, one row per rule, ids that read like the rule. Expected values and error texts
come from containerd/platforms (database.go, platforms.go, platforms_test.go,
cpuinfo_linux.go, cpuinfo_linux_test.go) and containers/image (platform_matcher.go).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakeregistry.platforms import cpuinfo
from fakeregistry.platforms.platform import (
    KNOWN_ARCHITECTURES,
    KNOWN_OS,
    Platform,
    PlatformError,
    go_quote,
    normalize_arch,
    normalize_os,
)

P = Platform
AMD64_HOST = P("linux", "amd64", "v3")
ARM_V6_HOST = P("linux", "arm", "v6")
ARM_V7_HOST = P("linux", "arm", "v7")
ARM64_HOST = P("linux", "arm64", "v8")

OS_RE = r"^([A-Za-z0-9_-]+)(?:\\(([A-Za-z0-9_.%-]*)((?:\\+[A-Za-z0-9_.%-]+)*)\\))?$"
COMPONENT_RE = "^[A-Za-z0-9_.-]+$"

# -- A1: normalization -------------------------------------------------------------------------

NORMALIZE_ARCH = [
    pytest.param("i386", "", ("386", ""), id="i386-is-386"),
    pytest.param("i386", "v7", ("386", ""), id="i386-drops-variant"),
    pytest.param("386", "v1", ("386", "v1"), id="386-keeps-v1"),
    pytest.param("x86_64", "", ("amd64", ""), id="x86_64-is-amd64"),
    pytest.param("x86-64", "", ("amd64", ""), id="x86-64-is-amd64"),
    pytest.param("X86_64", "V2", ("amd64", "v2"), id="x86_64-uppercase"),
    pytest.param("amd64", "v1", ("amd64", ""), id="amd64-v1-is-baseline"),
    pytest.param("amd64", "v2", ("amd64", "v2"), id="amd64-v2-kept"),
    pytest.param("amd64", "v3", ("amd64", "v3"), id="amd64-v3-kept"),
    pytest.param("amd64", "v4", ("amd64", "v4"), id="amd64-v4-kept"),
    pytest.param("amd64", "1", ("amd64", "1"), id="amd64-bare-1-kept"),
    pytest.param("amd64", "v5", ("amd64", "v5"), id="amd64-unknown-level-kept"),
    pytest.param("aarch64", "", ("arm64", ""), id="aarch64-is-arm64"),
    pytest.param("AArch64", "", ("arm64", ""), id="aarch64-mixed-case"),
    pytest.param("arm64", "8", ("arm64", ""), id="arm64-8-dropped"),
    pytest.param("arm64", "v8", ("arm64", ""), id="arm64-v8-dropped"),
    pytest.param("arm64", "v8.0", ("arm64", ""), id="arm64-v8.0-dropped"),
    pytest.param("arm64", "V8", ("arm64", ""), id="arm64-V8-dropped"),
    pytest.param("arm64", "9", ("arm64", "v9"), id="arm64-9-is-v9"),
    pytest.param("arm64", "9.0", ("arm64", "v9"), id="arm64-9.0-is-v9"),
    pytest.param("arm64", "v9.0", ("arm64", "v9"), id="arm64-v9.0-is-v9"),
    pytest.param("arm64", "v9", ("arm64", "v9"), id="arm64-v9-kept"),
    pytest.param("arm64", "v8.2", ("arm64", "v8.2"), id="arm64-v8.2-kept"),
    pytest.param("arm64", "8.0", ("arm64", "8.0"), id="arm64-bare-8.0-kept"),
    pytest.param("arm64", "v10", ("arm64", "v10"), id="arm64-v10-kept"),
    pytest.param("armhf", "", ("arm", "v7"), id="armhf-is-arm-v7"),
    pytest.param("armhf", "v6", ("arm", "v7"), id="armhf-forces-v7"),
    pytest.param("armel", "", ("arm", "v6"), id="armel-is-arm-v6"),
    pytest.param("armel", "v7", ("arm", "v6"), id="armel-forces-v6"),
    pytest.param("arm", "", ("arm", "v7"), id="arm-defaults-to-v7"),
    pytest.param("arm", "7", ("arm", "v7"), id="arm-7-is-v7"),
    pytest.param("arm", "5", ("arm", "v5"), id="arm-5-is-v5"),
    pytest.param("arm", "6", ("arm", "v6"), id="arm-6-is-v6"),
    pytest.param("arm", "8", ("arm", "v8"), id="arm-8-is-v8"),
    pytest.param("arm", "4", ("arm", "4"), id="arm-4-kept-bare"),
    pytest.param("arm", "v4", ("arm", "v4"), id="arm-v4-kept"),
    pytest.param("ARM", "V6", ("arm", "v6"), id="arm-uppercase"),
    pytest.param("ppc64le", "", ("ppc64le", ""), id="ppc64le-unchanged"),
    pytest.param("S390X", "", ("s390x", ""), id="other-arch-lowercased"),
    pytest.param("riscv64", "RVA23U64", ("riscv64", "rva23u64"), id="other-variant-lowercased"),
    pytest.param("x86", "", ("x86", ""), id="x86-is-not-an-alias"),
    pytest.param("", "", ("", ""), id="empty"),
]


@pytest.mark.parametrize(("arch", "variant", "expected"), NORMALIZE_ARCH)
def test_normalize_arch(arch: str, variant: str, expected: tuple[str, str]) -> None:
    assert normalize_arch(arch, variant) == expected


@pytest.mark.parametrize(
    ("os_name", "expected"),
    [
        pytest.param("linux", "linux", id="linux"),
        pytest.param("Linux", "linux", id="lowercased"),
        pytest.param("WINDOWS", "windows", id="windows-uppercase"),
        pytest.param("macos", "darwin", id="macos-is-darwin"),
        pytest.param("MacOS", "darwin", id="macos-any-case"),
        pytest.param("osx", "osx", id="osx-is-not-an-alias"),
        pytest.param("", "plan9", id="empty-is-the-host-os"),
    ],
)
def test_normalize_os(os_name: str, expected: str) -> None:
    assert normalize_os(os_name, host_os="plan9") == expected


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        pytest.param(P("Linux", "x86_64", "v1"), P("linux", "amd64"), id="amd64-canonical"),
        pytest.param(P("linux", "aarch64", "v8"), P("linux", "arm64"), id="arm64-canonical"),
        pytest.param(P("linux", "arm"), P("linux", "arm", "v7"), id="arm-gets-v7"),
        pytest.param(
            P("windows", "amd64", os_version="10.0.17763.1"),
            P("windows", "amd64", os_version="10.0.17763.1"),
            id="os-version-untouched",
        ),
        pytest.param(
            P("linux", "amd64", os_features=("tdx", "gpu", "tdx")),
            P("linux", "amd64", os_features=("gpu", "tdx")),
            id="os-features-sorted-deduplicated",
        ),
        pytest.param(
            P("linux", "amd64", features=("sse4", "avx")),
            P("linux", "amd64", features=("sse4", "avx")),
            id="cpu-features-untouched",
        ),
        pytest.param(P("", "amd64"), P("freebsd", "amd64"), id="empty-os-is-host"),
    ],
)
def test_platform_normalize(platform: Platform, expected: Platform) -> None:
    assert platform.normalize(host_os="freebsd") == expected


def test_normalize_is_idempotent() -> None:
    for arch, variant, _ in (param.values for param in NORMALIZE_ARCH):
        once = P("linux", str(arch), str(variant)).normalize()
        assert once.normalize() == once


def test_known_names_tables() -> None:
    assert "wasip1" not in KNOWN_OS  # database.go is older than Go 1.21's wasip1
    assert {"linux", "windows", "darwin", "zos", "hurd", "nacl"} <= KNOWN_OS
    assert len(KNOWN_OS) == 17
    assert {"386", "amd64", "arm", "arm64", "loong64", "riscv64", "wasm"} <= KNOWN_ARCHITECTURES
    assert len(KNOWN_ARCHITECTURES) == 24


# -- A2: Parse ---------------------------------------------------------------------------------

PARSE_OK = [
    pytest.param("linux/amd64", AMD64_HOST, P("linux", "amd64"), id="os-arch"),
    pytest.param("linux/arm/v7", AMD64_HOST, P("linux", "arm", "v7"), id="arm-v7-kept"),
    pytest.param("linux/arm", AMD64_HOST, P("linux", "arm"), id="arm-no-variant"),
    pytest.param("linux/armhf", AMD64_HOST, P("linux", "arm"), id="armhf-two-parts-drops-v7"),
    pytest.param("linux/armel", AMD64_HOST, P("linux", "arm", "v6"), id="armel-two-parts"),
    pytest.param("linux/arm/7", AMD64_HOST, P("linux", "arm", "v7"), id="arm-7-three-parts"),
    pytest.param("linux/arm64", AMD64_HOST, P("linux", "arm64"), id="arm64-no-variant"),
    pytest.param("linux/arm64/v8", AMD64_HOST, P("linux", "arm64", "v8"), id="arm64-v8-kept"),
    pytest.param("linux/aarch64/8", AMD64_HOST, P("linux", "arm64", "v8"), id="aarch64-8-back-v8"),
    pytest.param("linux/arm64/v8.2", AMD64_HOST, P("linux", "arm64", "v8.2"), id="arm64-v8.2"),
    pytest.param("linux/arm64/v9.0", AMD64_HOST, P("linux", "arm64", "v9"), id="arm64-v9.0"),
    pytest.param("linux/aarch64", AMD64_HOST, P("linux", "arm64"), id="aarch64-alias"),
    pytest.param("linux/x86_64", AMD64_HOST, P("linux", "amd64"), id="x86_64-alias"),
    pytest.param("linux/amd64/v1", AMD64_HOST, P("linux", "amd64"), id="amd64-v1-dropped"),
    pytest.param("linux/amd64/v3", AMD64_HOST, P("linux", "amd64", "v3"), id="amd64-v3"),
    pytest.param("linux/i386", AMD64_HOST, P("linux", "386"), id="i386-alias"),
    pytest.param("Linux/AMD64", AMD64_HOST, P("linux", "amd64"), id="case-folded"),
    pytest.param("macos/arm64", AMD64_HOST, P("darwin", "arm64"), id="macos-alias"),
    pytest.param("linux/unknownarch", AMD64_HOST, P("linux", "unknownarch"), id="no-name-check"),
    pytest.param("arm64/v8", AMD64_HOST, P("arm64", "v8"), id="two-parts-are-os-arch"),
    pytest.param("linux/ppc64le", AMD64_HOST, P("linux", "ppc64le"), id="ppc64le"),
    pytest.param(
        "linux/riscv64/rva23u64", AMD64_HOST, P("linux", "riscv64", "rva23u64"), id="riscv"
    ),
    pytest.param("linux", AMD64_HOST, P("linux", "amd64"), id="os-only-amd64-no-level"),
    pytest.param("linux", ARM_V6_HOST, P("linux", "arm", "v6"), id="os-only-arm-v6-host"),
    pytest.param("linux", ARM_V7_HOST, P("linux", "arm"), id="os-only-arm-v7-dropped"),
    pytest.param("linux", ARM64_HOST, P("linux", "arm64"), id="os-only-arm64-no-variant"),
    pytest.param("windows", AMD64_HOST, P("windows", "amd64"), id="os-only-windows"),
    pytest.param("darwin", ARM64_HOST, P("darwin", "arm64"), id="os-only-darwin"),
    pytest.param("macos", ARM64_HOST, P("darwin", "arm64"), id="os-only-macos"),
    pytest.param("arm64", AMD64_HOST, P("linux", "arm64"), id="arch-only-arm64"),
    pytest.param("aarch64", AMD64_HOST, P("linux", "arm64"), id="arch-only-aarch64"),
    pytest.param("armhf", AMD64_HOST, P("linux", "arm"), id="arch-only-armhf-drops-v7"),
    pytest.param("armel", AMD64_HOST, P("linux", "arm", "v6"), id="arch-only-armel"),
    pytest.param("arm", AMD64_HOST, P("linux", "arm"), id="arch-only-arm"),
    pytest.param("i386", AMD64_HOST, P("linux", "386"), id="arch-only-i386"),
    pytest.param("x86_64", AMD64_HOST, P("linux", "amd64"), id="arch-only-x86_64"),
    pytest.param("s390x", P("windows", "amd64"), P("windows", "s390x"), id="arch-only-host-os"),
    pytest.param("wasm", AMD64_HOST, P("linux", "wasm"), id="arch-only-wasm"),
    pytest.param(
        "windows(10.0.17763)/amd64",
        AMD64_HOST,
        P("windows", "amd64", os_version="10.0.17763"),
        id="os-version",
    ),
    pytest.param(
        "windows(10.0.17763.1234)/amd64",
        AMD64_HOST,
        P("windows", "amd64", os_version="10.0.17763.1234"),
        id="os-version-with-revision",
    ),
    pytest.param(
        "windows(10.0.17763)",
        AMD64_HOST,
        P("windows", "amd64", os_version="10.0.17763"),
        id="os-version-one-part",
    ),
    pytest.param("windows()/amd64", AMD64_HOST, P("windows", "amd64"), id="empty-os-version"),
    pytest.param(
        "linux(+gpu)/amd64",
        AMD64_HOST,
        P("linux", "amd64", os_features=("gpu",)),
        id="os-features-only",
    ),
    pytest.param(
        "windows(10.0.17763+win32k)/amd64",
        AMD64_HOST,
        P("windows", "amd64", os_version="10.0.17763", os_features=("win32k",)),
        id="os-version-and-feature",
    ),
    pytest.param(
        "linux(+tdx+gpu)/amd64",
        AMD64_HOST,
        P("linux", "amd64", os_features=("tdx", "gpu")),
        id="features-keep-written-order",
    ),
    pytest.param(
        "linux(+gpu+gpu)/amd64",
        AMD64_HOST,
        P("linux", "amd64", os_features=("gpu", "gpu")),
        id="features-keep-duplicates",
    ),
    pytest.param(
        "linux(5.15%2Brt)/amd64",
        AMD64_HOST,
        P("linux", "amd64", os_version="5.15+rt"),
        id="version-percent-decoded",
    ),
    pytest.param(
        "linux(+a%2Fb+c%25)/amd64",
        AMD64_HOST,
        P("linux", "amd64", os_features=("a/b", "c%")),
        id="features-percent-decoded",
    ),
    pytest.param(
        "linux(1%28x%29)/arm64/v8",
        AMD64_HOST,
        P("linux", "arm64", "v8", os_version="1(x)"),
        id="parens-decoded",
    ),
]


@pytest.mark.parametrize(("specifier", "host", "expected"), PARSE_OK)
def test_parse(specifier: str, host: Platform, expected: Platform) -> None:
    assert Platform.parse(specifier, host=host) == expected


def invalid_os(part: str, spec: str) -> str:
    return (
        f'"{part}" is an invalid OS component of "{spec}": OSAndVersion specifier component '
        f'must match "{OS_RE}": invalid argument'
    )


def invalid_component(part: str, spec: str) -> str:
    return (
        f'"{part}" is an invalid component of "{spec}": platform specifier component must '
        f'match "{COMPONENT_RE}": invalid argument'
    )


PARSE_ERRORS = [
    pytest.param("*", '"*": wildcards not yet supported: invalid argument', id="wildcard"),
    pytest.param(
        "linux/*", '"linux/*": wildcards not yet supported: invalid argument', id="wildcard-arch"
    ),
    pytest.param("", invalid_os("", ""), id="empty"),
    pytest.param("/amd64", invalid_os("", "/amd64"), id="empty-os"),
    pytest.param("linux /arm", invalid_os("linux ", "linux /arm"), id="space-in-os"),
    pytest.param("lin.ux/amd64", invalid_os("lin.ux", "lin.ux/amd64"), id="dot-in-os"),
    pytest.param(
        "windows(10.0(1))/amd64",
        invalid_os("windows(10.0(1))", "windows(10.0(1))/amd64"),
        id="nested-parens",
    ),
    pytest.param("linux(+)/amd64", invalid_os("linux(+)", "linux(+)/amd64"), id="empty-feature"),
    pytest.param(
        "linux(+a++b)/amd64", invalid_os("linux(+a++b)", "linux(+a++b)/amd64"), id="double-plus"
    ),
    pytest.param("linux(/amd64", invalid_os("linux(", "linux(/amd64"), id="unclosed-paren"),
    pytest.param("linux/", invalid_component("", "linux/"), id="trailing-slash"),
    pytest.param(
        "linux/arm/v7/",
        invalid_component("", "linux/arm/v7/"),
        id="components-checked-before-counting",
    ),
    pytest.param("linux//amd64", invalid_component("", "linux//amd64"), id="double-slash"),
    pytest.param("linux/&arm", invalid_component("&arm", "linux/&arm"), id="ampersand"),
    pytest.param(
        "windows/amd64:10.0.17763",
        invalid_component("amd64:10.0.17763", "windows/amd64:10.0.17763"),
        id="colon-version-is-mquery-only",
    ),
    pytest.param(
        "a/b/c/d/e", invalid_component("d/e", "a/b/c/d/e"), id="fifth-part-joins-the-fourth"
    ),
    pytest.param(
        "linux/arm/v7/extra",
        '"linux/arm/v7/extra": cannot parse platform specifier: invalid argument',
        id="four-parts",
    ),
    pytest.param(
        "foobar",
        '"foobar": unknown operating system or architecture: invalid argument',
        id="unknown-single",
    ),
    pytest.param(
        "wasip1",
        '"wasip1": unknown operating system or architecture: invalid argument',
        id="wasip1-not-in-table",
    ),
    pytest.param(
        "amd64(10.0)",
        '"amd64(10.0)": unknown operating system or architecture: invalid argument',
        id="arch-with-os-options",
    ),
    pytest.param(
        "linux(1%zz)/amd64",
        '"linux(1%zz)/amd64" has an invalid OS version "1%zz": invalid URL escape "%zz"',
        id="bad-version-escape",
    ),
    pytest.param(
        "linux(1%)/amd64",
        '"linux(1%)/amd64" has an invalid OS version "1%": invalid URL escape "%"',
        id="truncated-version-escape",
    ),
    pytest.param(
        "linux(+a%4)/amd64",
        '"linux(+a%4)/amd64" has invalid OS features: invalid os feature "a%4": '
        'invalid URL escape "%4"',
        id="bad-feature-escape",
    ),
]


@pytest.mark.parametrize(("specifier", "message"), PARSE_ERRORS)
def test_parse_errors(specifier: str, message: str) -> None:
    with pytest.raises(PlatformError) as caught:
        Platform.parse(specifier, host=AMD64_HOST)
    assert str(caught.value) == message


def test_platform_error_is_value_error() -> None:
    with pytest.raises(ValueError, match="wildcards"):
        Platform.parse("*", host=AMD64_HOST)


def test_parse_all() -> None:
    assert Platform.parse_all(["linux/amd64", "arm64"], host=AMD64_HOST) == [
        P("linux", "amd64"),
        P("linux", "arm64"),
    ]
    with pytest.raises(PlatformError) as caught:
        Platform.parse_all(["linux/amd64", "bogus"], host=AMD64_HOST)
    assert str(caught.value) == (
        'invalid platform bogus: "bogus": unknown operating system or architecture: '
        "invalid argument"
    )


def test_parse_one_word_uses_this_machine_by_default() -> None:
    here = Platform.host()
    assert Platform.parse("linux").architecture == here.architecture
    assert Platform.parse("arm64").os == here.os


# -- A2: Format / FormatAll --------------------------------------------------------------------

FORMATS = [
    pytest.param(P("linux", "amd64"), "linux/amd64", "linux/amd64", id="plain"),
    pytest.param(P("linux", "arm", "v7"), "linux/arm/v7", "linux/arm/v7", id="variant"),
    pytest.param(P("linux", "arm64", "v8"), "linux/arm64/v8", "linux/arm64/v8", id="arm64-v8"),
    pytest.param(P("", "amd64"), "unknown", "unknown", id="no-os-is-unknown"),
    pytest.param(P("linux", ""), "linux", "linux", id="no-arch"),
    pytest.param(P("linux", "", "v7"), "linux/v7", "linux/v7", id="path-join-skips-empty"),
    pytest.param(P("linux", "..", "v7"), "v7", "v7", id="path-join-cleans-dotdot"),
    pytest.param(P("linux", "amd64", "."), "linux/amd64", "linux/amd64", id="path-join-dot"),
    pytest.param(
        P("windows", "amd64", os_version="10.0.17763"),
        "windows/amd64",
        "windows(10.0.17763)/amd64",
        id="os-version",
    ),
    pytest.param(
        P("windows", "amd64", os_version="10.0.17763", os_features=("win32k",)),
        "windows/amd64",
        "windows(10.0.17763+win32k)/amd64",
        id="version-and-feature",
    ),
    pytest.param(
        P("linux", "amd64", os_features=("gpu",)),
        "linux/amd64",
        "linux(+gpu)/amd64",
        id="feature-only",
    ),
    pytest.param(
        P("linux", "amd64", os_features=("tdx", "", "gpu", "tdx")),
        "linux/amd64",
        "linux(+gpu+tdx)/amd64",
        id="features-sorted-empty-and-duplicates-skipped",
    ),
    pytest.param(
        P("linux", "amd64", os_features=("",)),
        "linux/amd64",
        "linux/amd64",
        id="only-empty-feature-no-parens",
    ),
    pytest.param(
        P("linux", "amd64", os_version="5.15+rt/x(1)%"),
        "linux/amd64",
        "linux(5.15%2Brt%2Fx%281%29%25)/amd64",
        id="version-escaped",
    ),
    pytest.param(
        P("linux", "amd64", os_features=("a+b",)),
        "linux/amd64",
        "linux(+a%2Bb)/amd64",
        id="feature-escaped",
    ),
    pytest.param(
        P("linux", "arm64", "v8", os_version="1"),
        "linux/arm64/v8",
        "linux(1)/arm64/v8",
        id="version-with-variant",
    ),
]


@pytest.mark.parametrize(("platform", "short", "full"), FORMATS)
def test_format(platform: Platform, short: str, full: str) -> None:
    assert platform.format() == short
    assert platform.format_all() == full
    assert str(platform) == full


@pytest.mark.parametrize(
    "platform",
    [
        P("windows", "amd64", os_version="10.0.17763.1234", os_features=("win32k",)),
        P("linux", "amd64", os_version="5.15+rt", os_features=("a(b)", "c/d", "e%f")),
        P("linux", "arm64", "v8", os_features=("gpu", "tdx")),
        P("linux", "arm", "v6"),
    ],
    ids=["windows", "escapes", "arm64-features", "arm-v6"],
)
def test_format_all_parses_back(platform: Platform) -> None:
    assert Platform.parse(platform.format_all(), host=AMD64_HOST) == platform


OPTION_TEXT = st.text(alphabet="abcXYZ019._-%+()/", min_size=1, max_size=12)


@given(
    version=st.text(alphabet="0123456789.%+()/abc", max_size=16),
    features=st.lists(OPTION_TEXT, max_size=4, unique=True),
)
def test_format_all_round_trips_any_option_text(version: str, features: list[str]) -> None:
    platform = P("linux", "amd64", os_version=version, os_features=tuple(sorted(features)))
    assert Platform.parse(platform.format_all(), host=AMD64_HOST) == platform


def test_format_all_does_not_escape_spaces() -> None:
    # Only % + ( ) / are escaped (osOptionReplacer), so a space makes FormatAll unparsable.
    text = P("linux", "amd64", os_features=("a b",)).format_all()
    assert text == "linux(+a b)/amd64"
    with pytest.raises(PlatformError, match="invalid OS component"):
        Platform.parse(text, host=AMD64_HOST)


# -- JSON --------------------------------------------------------------------------------------


def test_from_json_reads_every_key() -> None:
    data = {
        "architecture": "amd64",
        "os": "windows",
        "os.version": "10.0.17763.5576",
        "os.features": ["win32k"],
        "variant": "",
        "features": ["sse4"],
        "unknown": "ignored",
    }
    assert Platform.from_json(data) == P(
        "windows", "amd64", "", "10.0.17763.5576", ("win32k",), ("sse4",)
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({}, P("", ""), id="empty-object"),
        pytest.param({"os": None, "architecture": None}, P("", ""), id="nulls-are-empty"),
        pytest.param({"os": "linux", "os.features": None}, P("linux", ""), id="null-list"),
        pytest.param({"os": "linux", "os.features": []}, P("linux", ""), id="empty-list"),
        pytest.param(
            {"os": "Linux", "architecture": "AArch64"}, P("Linux", "AArch64"), id="kept-as-written"
        ),
    ],
)
def test_from_json_defaults(data: dict[str, object], expected: Platform) -> None:
    assert Platform.from_json(data) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param({"os": 1}, "'os' must be a string", id="number-os"),
        pytest.param({"architecture": ["amd64"]}, "'architecture' must be a string", id="list"),
        pytest.param({"variant": 7}, "'variant' must be a string", id="number-variant"),
        pytest.param({"os.features": "win32k"}, "'os.features' must be an array", id="str-list"),
        pytest.param({"features": [1]}, "'features' must be an array of strings", id="int-item"),
    ],
)
def test_from_json_type_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(PlatformError, match=message):
        Platform.from_json(data)


def test_from_json_rejects_non_objects() -> None:
    with pytest.raises(PlatformError, match="JSON object"):
        Platform.from_json(["linux"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        pytest.param(P("linux", "amd64"), {"architecture": "amd64", "os": "linux"}, id="minimal"),
        pytest.param(P("", ""), {"architecture": "", "os": ""}, id="os-arch-always-written"),
        pytest.param(
            P("windows", "amd64", "v2", "10.0.1.2", ("win32k",), ("sse4",)),
            {
                "architecture": "amd64",
                "os": "windows",
                "os.version": "10.0.1.2",
                "os.features": ["win32k"],
                "variant": "v2",
                "features": ["sse4"],
            },
            id="everything",
        ),
    ],
)
def test_to_json(platform: Platform, expected: dict[str, object]) -> None:
    out = platform.to_json()
    assert out == expected
    assert list(out) == list(expected)  # image-spec / distribution struct order
    assert Platform.from_json(out) == platform


def test_platform_is_hashable_and_accepts_lists() -> None:
    p = Platform("linux", "amd64", os_features=["gpu"])  # type: ignore[arg-type]
    assert p.os_features == ("gpu",)
    assert {p: 1}[P("linux", "amd64", os_features=("gpu",))] == 1


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        pytest.param("plain", '"plain"', id="plain"),
        pytest.param('a"b', '"a\\"b"', id="quote"),
        pytest.param("a\\b", '"a\\\\b"', id="backslash"),
        pytest.param("\t\n", '"\\t\\n"', id="controls"),
        pytest.param("\x00", '"\\x00"', id="nul"),
        pytest.param("é", '"é"', id="printable-unicode"),
        pytest.param("\u200b", '"\\u200b"', id="zero-width-space"),
    ],
)
def test_go_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


# -- A7: host detection ------------------------------------------------------------------------

RPI_ZERO = """processor\t: 0
model name\t: ARMv6-compatible processor rev 7 (v6l)
BogoMIPS\t: 697.95
Features\t: half thumb fastmult vfp edsp java tls
CPU implementer\t: 0x41
CPU architecture: 7
CPU variant\t: 0x0
CPU part\t: 0xb76
Hardware\t: BCM2835
"""
RPI_3_32BIT = """processor\t: 0
model name\t: ARMv7 Processor rev 4 (v7l)
BogoMIPS\t: 38.40
Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm crc32
CPU implementer\t: 0x41
CPU architecture: 7
"""
RPI_4_AARCH64 = """processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
"""
KIRKWOOD = """Processor\t: Feroceon 88FR131 rev 1 (v5l)
BogoMIPS\t: 1191.11
Features\t: swp half thumb fastmult edsp
CPU architecture: 5TE
"""
ARM11_OLD_KERNEL = "Processor\t: ARMv7 Processor rev 0 (v7l)\nCPU architecture: ?(12)\n"
ARMV7M = "CPU architecture: 7M\n"
NO_ARCH_LINE = "processor\t: 0\nBogoMIPS\t: 50.00\n"
X86_V3_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr "
    "sse sse2 ht syscall nx lm constant_tsc pni ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt "
    "xsave avx f16c lahf_lm abm bmi1 avx2 bmi2"
)
X86_V3 = f"processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: {X86_V3_FLAGS}\n"
X86_V4 = f"processor\t: 0\nflags\t\t: {X86_V3_FLAGS} avx512f avx512dq avx512cd avx512bw avx512vl\n"
X86_V2 = "flags\t\t: fpu cx8 cmov sse2 lm pni ssse3 cx16 sse4_1 sse4_2 popcnt lahf_lm\n"
X86_V1 = "flags\t\t: fpu cx8 cmov sse2 lm pni ssse3\n"

ARM_VARIANTS = [
    pytest.param("linux", "arm", RPI_ZERO, "armv6l", "v6", id="rpi-zero-quirk-7-is-v6"),
    pytest.param("linux", "arm64", RPI_ZERO, "aarch64", "v7", id="quirk-only-for-goarch-arm"),
    pytest.param("linux", "arm", RPI_3_32BIT, "armv7l", "v7", id="rpi3-32bit"),
    pytest.param("linux", "arm64", RPI_4_AARCH64, "aarch64", "v8", id="rpi4-aarch64"),
    pytest.param("linux", "arm", RPI_4_AARCH64, "armv8l", "v8", id="arm32-userland-on-v8"),
    pytest.param("linux", "arm", KIRKWOOD, "armv5tel", "v5", id="kirkwood-5te"),
    pytest.param("linux", "arm", ARM11_OLD_KERNEL, "armv7l", "v7", id="old-kernel-?(12)"),
    pytest.param("linux", "arm", ARMV7M, "armv7l", "v7", id="7m"),
    pytest.param("linux", "arm", "CPU architecture: 6TEJ\n", "armv6l", "v6", id="6tej"),
    pytest.param("linux", "arm", "CPU architecture: 5T\n", "armv5l", "v5", id="5t"),
    pytest.param("linux", "arm", "CPU architecture: 5TEJ\n", "armv5l", "v5", id="5tej"),
    pytest.param("linux", "arm", "CPU architecture: 4T\n", "armv4l", "v4", id="4t"),
    pytest.param("linux", "arm", "CPU architecture: 3\n", "armv3l", "v3", id="3"),
    pytest.param("linux", "arm64", "CPU architecture: AArch64\n", "aarch64", "v8", id="aarch64"),
    pytest.param("linux", "arm", "CPU architecture: 9\n", "armv7l", "unknown", id="unknown"),
    pytest.param("linux", "arm64", NO_ARCH_LINE, "aarch64", "v8", id="uname-aarch64"),
    pytest.param("linux", "arm", NO_ARCH_LINE, "armv7l", "v7", id="uname-armv7l"),
    pytest.param("linux", "arm", NO_ARCH_LINE, "armv6l", "v6", id="uname-armv6l"),
    pytest.param("linux", "arm", NO_ARCH_LINE, "armv9", "unknown", id="uname-armv9-unknown"),
    pytest.param("linux", "arm", NO_ARCH_LINE, "armxxxx", "", id="uname-invalid-is-empty"),
    pytest.param("linux", "arm", "", "arm", "", id="uname-too-short-is-empty"),
    pytest.param("windows", "arm64", "", "ARM64", "v8", id="windows-arm64"),
    pytest.param("windows", "arm", "", "ARM", "v7", id="windows-arm"),
    pytest.param("darwin", "arm64", "", "arm64", "v8", id="darwin-arm64"),
    pytest.param("freebsd", "arm64", "", "arm64", "v8", id="freebsd-arm64"),
    pytest.param("freebsd", "arm", "", "armv7", "unknown", id="freebsd-arm-unknown"),
    pytest.param("netbsd", "arm", "", "earmv7hf", "", id="other-os-not-implemented"),
    pytest.param("linux", "amd64", X86_V3, "x86_64", "", id="not-arm"),
]


@pytest.mark.parametrize(("goos", "goarch", "text", "machine", "expected"), ARM_VARIANTS)
def test_arm_variant(goos: str, goarch: str, text: str, machine: str, expected: str) -> None:
    assert cpuinfo.arm_variant(goos=goos, goarch=goarch, cpuinfo=text, machine=machine) == expected


@pytest.mark.parametrize(
    ("machine", "expected"),
    [
        pytest.param("aarch64", "8", id="aarch64"),
        pytest.param("Armv8", "8", id="armv8-capital"),
        pytest.param("armv7", "7", id="armv7"),
        pytest.param("armv6", "6", id="armv6"),
        pytest.param("armv5", "5", id="armv5"),
        pytest.param("armv4", "4", id="armv4"),
        pytest.param("armv3", "3", id="armv3"),
        pytest.param("armv9", "unknown", id="armv9-unknown"),
        pytest.param("armv7l", "7", id="armv7l"),
        pytest.param("armxxxx", None, id="not-armv"),
        pytest.param("armv", None, id="too-short"),
        pytest.param("arm", None, id="shorter-than-four"),
    ],
)
def test_arm_variant_from_machine(machine: str, expected: str | None) -> None:
    # containerd cpuinfo_linux_test.go TestGetCPUVariantFromArch
    if expected is None:
        with pytest.raises(ValueError, match="getCPUVariantFromArch invalid arch"):
            cpuinfo.arm_variant_from_machine(machine)
    else:
        assert cpuinfo.arm_variant_from_machine(machine) == expected


V2_FLAGS = ["cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"]
V3_EXTRA = ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"]
V4_EXTRA = ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        pytest.param([], "v1", id="no-flags-baseline"),
        pytest.param(V2_FLAGS, "v2", id="v2"),
        pytest.param(V2_FLAGS + V3_EXTRA, "v3", id="v3"),
        pytest.param(V2_FLAGS + V3_EXTRA + V4_EXTRA, "v4", id="v4"),
        pytest.param(V2_FLAGS[1:], "v1", id="v2-missing-cx16"),
        pytest.param(V2_FLAGS + V3_EXTRA[1:], "v2", id="v3-missing-avx"),
        pytest.param(V2_FLAGS + V3_EXTRA + V4_EXTRA[1:], "v3", id="v4-missing-avx512f"),
        pytest.param(V3_EXTRA + V4_EXTRA, "v1", id="levels-are-cumulative"),
        pytest.param(V2_FLAGS + V4_EXTRA, "v2", id="v4-needs-v3"),
    ],
)
def test_amd64_level(flags: list[str], expected: str) -> None:
    assert cpuinfo.amd64_level(flags) == expected


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        ("Linux", "linux"),
        ("Darwin", "darwin"),
        ("Windows", "windows"),
        ("FreeBSD", "freebsd"),
        ("OpenBSD", "openbsd"),
        ("SunOS", "solaris"),
        ("CYGWIN_NT-10.0", "windows"),
        ("MINGW64_NT-10.0", "windows"),
        ("AIX", "aix"),
    ],
)
def test_goos(system: str, expected: str) -> None:
    assert cpuinfo.goos(system) == expected


@pytest.mark.parametrize(
    ("machine", "expected"),
    [
        ("x86_64", "amd64"),
        ("AMD64", "amd64"),
        ("i686", "386"),
        ("i386", "386"),
        ("aarch64", "arm64"),
        ("ARM64", "arm64"),
        ("arm64", "arm64"),
        ("armv7l", "arm"),
        ("armv6l", "arm"),
        ("armv8l", "arm"),
        ("ppc64le", "ppc64le"),
        ("s390x", "s390x"),
        ("riscv64", "riscv64"),
        ("loongarch64", "loong64"),
        ("mips64el", "mips64le"),
        ("mipsel", "mipsle"),
    ],
)
def test_goarch(machine: str, expected: str) -> None:
    assert cpuinfo.goarch(machine) == expected


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        pytest.param("CPU architecture: 7\n", "Cpu architecture", "7", id="case-insensitive-key"),
        pytest.param("  flags  :  a b \n", "flags", "a b", id="trimmed"),
        pytest.param("a: 1\na: 2\n", "a", "1", id="first-line-wins"),
        pytest.param("a : b : c\n", "a", "b", id="only-up-to-second-colon"),
        pytest.param("a\n", "a", None, id="no-colon"),
        pytest.param("", "a", None, id="empty"),
    ],
)
def test_cpuinfo_value(text: str, key: str, expected: str | None) -> None:
    assert cpuinfo.cpuinfo_value(text, key) == expected


def test_cpu_flags_from_x86_and_arm() -> None:
    x86 = ["fpu", "cx8", "cmov", "sse2", "lm", "pni", "ssse3", "cx16", "sse4_1", "sse4_2"]
    assert cpuinfo.cpu_flags(X86_V2) == tuple(sorted([*x86, "popcnt", "lahf_lm"]))
    assert cpuinfo.cpu_flags(RPI_4_AARCH64) == ("asimd", "cpuid", "crc32", "evtstrm", "fp")
    assert cpuinfo.cpu_flags("") == ()


HOSTS = [
    pytest.param(
        {"system": "Linux", "machine": "x86_64", "cpuinfo": X86_V3},
        P("linux", "amd64", "v3", features=cpuinfo.cpu_flags(X86_V3)),
        id="linux-amd64-v3",
    ),
    pytest.param(
        {"system": "Linux", "machine": "x86_64", "cpuinfo": X86_V4},
        P("linux", "amd64", "v4", features=cpuinfo.cpu_flags(X86_V4)),
        id="linux-amd64-v4",
    ),
    pytest.param(
        {"system": "Linux", "machine": "x86_64", "cpuinfo": X86_V1},
        P("linux", "amd64", "v1", features=cpuinfo.cpu_flags(X86_V1)),
        id="linux-amd64-v1",
    ),
    pytest.param(
        {"system": "Linux", "machine": "armv6l", "cpuinfo": RPI_ZERO},
        P("linux", "arm", "v6", features=cpuinfo.cpu_flags(RPI_ZERO)),
        id="rpi-zero",
    ),
    pytest.param(
        {"system": "Linux", "machine": "aarch64", "cpuinfo": RPI_4_AARCH64},
        P("linux", "arm64", "v8", features=cpuinfo.cpu_flags(RPI_4_AARCH64)),
        id="rpi4-arm64",
    ),
    pytest.param(
        {"system": "Linux", "machine": "aarch64"},
        P("linux", "arm64", "v8"),
        id="qemu-user-no-cpuinfo",
    ),
    pytest.param(
        {"system": "Linux", "machine": "s390x", "cpuinfo": "flags : esan3 zarch\n"},
        P("linux", "s390x", features=("esan3", "zarch")),
        id="s390x-no-variant",
    ),
    pytest.param({"system": "Darwin", "machine": "arm64"}, P("darwin", "arm64", "v8"), id="macos"),
    pytest.param(
        {"system": "Windows", "machine": "AMD64", "os_version": "10.0.17763.5576"},
        P("windows", "amd64", "v1", os_version="10.0.17763"),
        id="windows-version-three-parts",
    ),
    pytest.param(
        {
            "system": "Windows",
            "machine": "ARM64",
            "os_version": "10.0.26100",
            "os_features": ["win32k"],
        },
        P("windows", "arm64", "v8", os_version="10.0.26100", os_features=("win32k",)),
        id="windows-arm64-win32k",
    ),
    pytest.param(
        {"system": "Linux", "machine": "x86_64", "os_version": "6.8.0"},
        P("linux", "amd64", "v1", os_version="6.8.0"),
        id="linux-explicit-os-version",
    ),
]


@pytest.mark.parametrize(("inputs", "expected"), HOSTS)
def test_host_simulated(inputs: dict[str, object], expected: Platform) -> None:
    assert Platform.host(**inputs) == expected  # type: ignore[arg-type]


def test_host_real_machine_is_consistent() -> None:
    here = Platform.host()
    assert here.os == cpuinfo.goos(__import__("platform").system())
    assert here.os
    assert here.architecture
    assert Platform.parse(here.format_all(), host=here).os == here.os
