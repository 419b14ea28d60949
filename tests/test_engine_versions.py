"""The profiles issue 13 split out: podman vs skopeo, containers/image 5.23.1 vs today,
containerd/platforms rc.4 vs rc.5 (containerd vs moby), and moby's two image stores.

Expected values come from the upstream code named in each test (docs/platform-rules.md A6,
A8, A9) and, where noted, from the real clients (tests/interop/test_engine_clients.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from fakeregistry.engine.profiles import ALIASES, engine
from fakeregistry.engine.selection import NoMatchingManifest, select_manifest
from fakeregistry.engine.selectors.containers_image import (
    CURRENT,
    V5_23,
    libimage_normalize,
    literal_platform,
    wanted_platforms,
)
from fakeregistry.platforms.platform import Platform, PlatformError
from fakeregistry.platforms.windows import RC4, RC5, ltsc_floor, windows_compatible
from tests.test_selection import DOCKER_LIST, entry, index, pick

# The index of issue 13.
ISSUE = index(
    entry("linux/arm", "arm"),
    entry("linux/arm/v6", "armv6"),
    entry("linux/arm64/v8", "arm64v8"),
    entry("linux/arm64", "arm64"),
    entry("linux/amd64/v3", "amd64v3"),
    entry("linux/amd64", "amd64"),
)
AMD64 = "linux/amd64"


@pytest.mark.parametrize(
    ("requested", "podman", "skopeo"),
    [
        ("linux/armhf", "armv6", "!"),  # libimage: arm/v7 -> v6; skopeo: "armhf" is no arch
        ("linux/arm", "armv6", "arm"),  # libimage: arm/v7; skopeo: the empty variant first
        ("linux/armel", "armv6", "!"),
        ("linux/aarch64", "arm64", "!"),
        ("linux/arm64/8", "arm64v8", "arm64"),  # libimage: arm64/v8; skopeo: "8", then ""
        ("linux/arm64", "arm64", "arm64"),
        ("linux/arm/v7", "armv6", "armv6"),  # an explicit variant is walked down
        ("linux/s390x", "!", "!"),
    ],
)
def test_podman_normalizes_skopeo_does_not(requested: str, podman: str, skopeo: str) -> None:
    for profiles, expected in (
        (("podman", "podman-4.3"), podman),
        (("skopeo", "skopeo-1.9"), skopeo),
    ):
        for profile in profiles:
            got = pick(ISSUE, AMD64, profile, requested)
            if expected == "!":
                assert got.startswith("!"), (profile, got)
            else:
                assert got == expected, profile


def test_containers_image_is_an_alias_of_skopeo() -> None:
    assert ALIASES == {"containers-image": "skopeo"}
    assert engine("containers-image") is engine("skopeo")
    selection = select_manifest(ISSUE, AMD64, "containers-image", requested="linux/arm")
    assert selection.engine == "skopeo"
    assert selection.digest == "sha256:arm"
    with pytest.raises(NoMatchingManifest) as caught:
        select_manifest(ISSUE, AMD64, "containers-image", requested="linux/armhf")
    assert caught.value.engine == "skopeo"


@pytest.mark.parametrize(
    ("raw", "current", "legacy"),
    [
        (("linux", "arm", ""), ("linux", "arm", "v7"), ("linux", "arm", "v7")),
        (("linux", "armhf", "v6"), ("linux", "arm", "v7"), ("linux", "arm", "v7")),
        (("linux", "armel", "v7"), ("linux", "arm", "v6"), ("linux", "arm", "v6")),
        (("linux", "arm64", "v8"), ("linux", "arm64", "v8"), ("linux", "arm64", "v8")),
        (("linux", "arm64", "v8.0"), ("linux", "arm64", "v8"), ("linux", "arm64", "v8.0")),
        (("linux", "arm64", "9"), ("linux", "arm64", "v9"), ("linux", "arm64", "9")),
        (("linux", "amd64", "v1"), ("linux", "amd64", ""), ("linux", "amd64", "")),
        (("linux", "x86_64", "v3"), ("linux", "amd64", "v3"), ("linux", "amd64", "v3")),
        (("", "", "v8"), ("", "", "v8"), ("", "", "v8")),  # GOARCH amd64 keeps v8
        # Normalize empties 386's variant, the raw one is put back, and Parse keeps it.
        (("Linux", "i386", "v2"), ("linux", "386", "v2"), ("linux", "386", "v2")),
        (("linux", "arm 7", ""), ("linux", "arm 7", ""), ("linux", "arm 7", "")),  # Parse fails
    ],
)
def test_libimage_normalize(
    raw: tuple[str, str, str], current: tuple[str, str, str], legacy: tuple[str, str, str]
) -> None:
    host = Platform("linux", "amd64")
    for library, want in ((CURRENT, current), (V5_23, legacy)):
        got = libimage_normalize(Platform(*raw), host, library)
        assert (got.os, got.architecture, got.variant) == want, library.name


def test_amd64_levels_only_in_the_current_library() -> None:
    v3 = Platform("linux", "amd64", "v3")
    assert [p.variant for p in wanted_platforms(Platform("linux", "amd64"), v3, CURRENT)] == [
        "v3",
        "v2",
        "",
    ]
    assert [p.variant for p in wanted_platforms(Platform("linux", "amd64"), v3, V5_23)] == [
        "v3",
        "",
    ]
    levels = index(entry("linux/amd64/v2", "v2"), entry("linux/amd64/v1", "v1"))
    assert pick(levels, AMD64, "skopeo", Platform("linux", "amd64", "v3")) == "v2"
    assert pick(levels, AMD64, "skopeo-1.9", Platform("linux", "amd64", "v3")).startswith("!")
    # 5.23.1 compares strings: an amd64/v1 entry is not the baseline "".
    assert pick(levels, AMD64, "skopeo", None) == "v1"
    assert pick(levels, AMD64, "skopeo-1.9", None).startswith("!")


def test_v5_23_has_no_compression_preference_and_its_own_message() -> None:
    zstd = index(
        entry(AMD64, "gzip"),
        entry(AMD64, "zstd", annotations={"io.github.containers.compression.zstd": "true"}),
    )
    assert pick(zstd, AMD64, "skopeo") == "zstd"
    assert pick(zstd, AMD64, "skopeo-1.9") == "gzip"
    nothing = index(entry("linux/s390x", "s390x"), media_type=DOCKER_LIST)
    assert pick(nothing, AMD64, "skopeo-1.9") == (
        '!no image found in manifest list for architecture amd64, variant "", OS linux'
    )
    assert pick(nothing, AMD64, "skopeo") == (
        '!no image found in manifest list for architecture "amd64", variant "", OS "linux"'
    )


def test_macos_variant_only_in_the_current_library() -> None:
    darwin = index(entry("darwin/arm64/v8", "v8"), entry("darwin/arm64", "plain"))
    host = Platform("darwin", "arm64")
    assert pick(darwin, host, "skopeo") == "v8"
    assert pick(darwin, host, "skopeo-1.9") == "plain"


@pytest.mark.parametrize("text", ["linux", "linux/arm/v7/x", ""])
def test_flags_syntax_needs_two_or_three_parts(text: str) -> None:
    with pytest.raises(PlatformError, match="os/arch"):
        literal_platform(text)


# -- containerd/platforms rc.4 vs rc.5: the Windows LTSC floor (A6) -------------------------


@pytest.mark.parametrize(
    ("host", "rc4", "rc5"),
    [(20348, 20348, 20348), (22621, 20348, 20348), (26100, 20348, 20348), (26200, 26100, 20348)],
)
def test_ltsc_floor(host: int, rc4: int, rc5: int) -> None:
    assert ltsc_floor(host, RC4) == rc4
    assert ltsc_floor(host, RC5) == rc5


def test_unknown_floor_rule() -> None:
    with pytest.raises(ValueError, match="unknown Windows floor rule"):
        ltsc_floor(26100, "rc.9")


WINDOWS = index(
    entry("windows(10.0.20348.2655)/amd64", "ltsc2022"),
    entry("windows(10.0.17763.6293)/amd64", "ltsc2019"),
)
HOST_26200 = Platform("windows", "amd64", os_version="10.0.26200.1000")


def test_build_26200_host_containerd_follows_rc4_moby_rc5() -> None:
    assert not windows_compatible("10.0.26200", "10.0.20348", RC4)
    assert windows_compatible("10.0.26200", "10.0.20348", RC5)
    assert pick(WINDOWS, HOST_26200, "containerd").startswith("!")
    assert pick(WINDOWS, HOST_26200, "containerd-strict").startswith("!")
    assert pick(WINDOWS, HOST_26200, "moby-containerd") == "ltsc2022"
    # containerd asked for the platform explicitly: Only(Parse(s)), still rc.4's floor.
    asked = "windows(10.0.26200)/amd64"
    assert pick(WINDOWS, HOST_26200, "containerd", asked).startswith("!")
    assert pick(WINDOWS, HOST_26200, "moby-containerd", asked) == "ltsc2022"
    # moby's graphdriver on Windows only refuses images newer than the host.
    assert pick(WINDOWS, HOST_26200, "moby") == "ltsc2022"


# -- moby's two image stores ------------------------------------------------------------------


def test_moby_containerd_store_on_windows_uses_only_with_386_fallback() -> None:
    doc = index(entry("windows(10.0.20348)/386", "w386"), entry("linux/amd64", "linux"))
    host = Platform("windows", "amd64", os_version="10.0.20348.1")
    assert pick(doc, host, "moby-containerd") == "w386"  # Only(host): amd64, then 386
    assert pick(doc, host, "containerd").startswith("!")  # windowsMatchComparer: no 386
    assert pick(doc, host, "moby").startswith("!")  # pull_v2_windows: GOARCH only


def test_moby_containerd_store_keeps_only_nil_platforms() -> None:
    empty: dict[str, Any] = {"mediaType": "x", "digest": "sha256:empty", "size": 1, "platform": {}}
    doc = index(empty, entry("linux/arm64", "arm64"))
    assert pick(doc, AMD64, "moby") == "empty"  # toOCIPlatform: {} is no platform
    assert pick(doc, AMD64, "moby-containerd").startswith("!")  # a non-nil zero platform


def test_moby_containerd_store_message_and_amd64_level() -> None:
    doc = index(entry("linux/amd64/v2", "v2"), entry("linux/arm64", "arm64"))
    assert pick(doc, "linux/amd64/v3", "moby-containerd") == "v2"
    assert pick(doc, "linux/amd64/v3", "containerd").startswith("!")
    with pytest.raises(NoMatchingManifest) as caught:
        select_manifest(index(entry("linux/s390x", "s")), "linux/amd64/v3", "moby-containerd")
    assert str(caught.value) == (
        "no matching manifest for linux/amd64/v3 in the manifest list entries: "
        "no match for platform in manifest: not found"
    )
    assert caught.value.messages["docker-cli"].startswith("Error response from daemon: ")


def test_every_profile_names_its_upstream() -> None:
    assert "v1.0.0-rc.4" in engine("containerd").upstream
    assert "v1.0.0-rc.4" in engine("containerd-strict").upstream
    assert "v1.0.0-rc.5" in engine("moby").upstream
    assert "daemon/containerd" in engine("moby-containerd").upstream
    assert "v5.23.1" in engine("skopeo-1.9").upstream
    assert "v5.23.1" in engine("podman-4.3").upstream
