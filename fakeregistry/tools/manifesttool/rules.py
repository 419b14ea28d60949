"""manifest-tool's platform rules (``v2/pkg/util/os.go``, ``oslist.go`` = ``go tool dist list``):
which os/arch[/variant] a list may name, how a member's platform is filled from its config, the
attestation entries BuildKit adds, and no two entries with the same platform."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fakeregistry.platforms.platform import Platform, go_quote
from fakeregistry.rules.annotations import (
    ATTESTATION_ANNOTATION,
    ATTESTATION_VALUE,
    ATTESTED_DIGEST_ANNOTATION,
)
from fakeregistry.tools.manifesttool.errors import DuplicatePlatformError, PlatformRuleError
from fakeregistry.tools.manifesttool.listing import ListEntry
from fakeregistry.tools.manifesttool.spec import MemberSpec

VALID_OS = frozenset(
    {
        "aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux",
        "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows",
    }
)  # fmt: skip

VALID_ARCHITECTURES = frozenset(
    {
        "386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le", "mipsle",
        "ppc64", "ppc64le", "riscv64", "s390x", "wasm",
    }
)  # fmt: skip

# The only os/arch pairs that may carry a variant, and the variants they may carry.
VALID_VARIANTS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("linux", "arm"): ("v5", "v6", "v7"),
    ("linux", "arm64"): ("v8",),
}

VARIANT_RULE = "a variant is allowed only for linux/arm (v5, v6, v7) and linux/arm64 (v8)"

# Aliases people write, and what Go (and so manifest-tool) calls them.
_ARCH_ALIASES = {
    "x86_64": "amd64",
    "x86-64": "amd64",
    "aarch64": "arm64",
    "i386": "386",
    "i686": "386",
    "armhf": "arm",
    "armel": "arm",
    "armv7l": "arm",
    "ppc64el": "ppc64le",
}

_OS_ALIASES = {"macos": "darwin", "osx": "darwin", "win": "windows"}

ATTESTED_DIGEST = ATTESTED_DIGEST_ANNOTATION


def is_valid_os_arch(os: str, architecture: str, variant: str = "") -> bool:
    """manifest-tool's ``IsValidOSArch``: os in :data:`VALID_OS` and architecture in
    :data:`VALID_ARCHITECTURES` (checked each on its own, not as a pair: ``windows/s390x``
    passes), and a variant only where :data:`VALID_VARIANTS` allows it.

    >>> is_valid_os_arch("linux", "arm64", "v8"), is_valid_os_arch("linux", "amd64", "v2")
    (True, False)
    """
    return platform_problem(os, architecture, variant) is None


def platform_problem(os: str, architecture: str, variant: str = "") -> str | None:
    """Why manifest-tool rejects ``os/architecture/variant``, stating the rule; None if valid.

    >>> print(platform_problem("linux", "aarch64"))
    architecture "aarch64" is not a Go GOARCH value (386, amd64, arm, arm64, loong64, mips, \
mips64, mips64le, mipsle, ppc64, ppc64le, riscv64, s390x, wasm); did you mean "arm64"?
    """
    problems = []
    if os not in VALID_OS:
        text = (
            f"os {go_quote(os)} is not a Go GOOS value ({', '.join(sorted(VALID_OS))})"
            if os
            else "os is empty"
        )
        alias = _OS_ALIASES.get(os.lower(), os.lower())
        if alias != os and alias in VALID_OS:
            text += f"; did you mean {go_quote(alias)}?"
        problems.append(text)
    if architecture not in VALID_ARCHITECTURES:
        if architecture:
            known = ", ".join(sorted(VALID_ARCHITECTURES, key=_arch_order))
            text = f"architecture {go_quote(architecture)} is not a Go GOARCH value ({known})"
        else:
            text = "architecture is empty"
        alias = _ARCH_ALIASES.get(architecture.lower(), architecture.lower())
        if alias != architecture and alias in VALID_ARCHITECTURES:
            text += f"; did you mean {go_quote(alias)}?"
        problems.append(text)
    if variant and variant not in VALID_VARIANTS.get((os, architecture), ()):
        text = f"variant {go_quote(variant)} is not allowed for {os}/{architecture}: {VARIANT_RULE}"
        suggestion = _suggest_variant(os, architecture, variant)
        if suggestion is not None:
            text += f"; did you mean {go_quote(suggestion)}?"
        problems.append(text)
    return "; ".join(problems) if problems else None


def _arch_order(name: str) -> tuple[int, str]:
    # Go's `dist list` order: 386 first, then alphabetical.
    return (0 if name[0].isdigit() else 1, name)


def _suggest_variant(os: str, architecture: str, variant: str) -> str | None:
    allowed = VALID_VARIANTS.get((os, architecture), ())
    bare = variant.lower().removeprefix("arm").removeprefix("v")
    candidate = f"v{bare}"
    return candidate if candidate in allowed and candidate != variant else None


def is_attestation(entry: Mapping[str, Any]) -> bool:
    annotations = entry.get("annotations")
    return isinstance(annotations, dict) and (
        annotations.get(ATTESTATION_ANNOTATION) == ATTESTATION_VALUE
    )


def resolve_platform(member: MemberSpec, config: Platform) -> Platform:
    """manifest-tool's ``resolvePlatform``: the spec's platform, filled from the config."""
    given = member.platform
    os_name, arch = given.os, given.architecture
    if not os_name and not arch:
        os_name, arch = config.os, config.architecture
    return Platform(
        os=os_name,
        architecture=arch,
        variant=given.variant or config.variant,
        os_version=given.os_version or config.os_version,
        os_features=given.os_features or config.os_features,
    )


def check_platform(member: MemberSpec, image: str, platform: Platform) -> None:
    problem = platform_problem(platform.os, platform.architecture, platform.variant)
    if problem is not None:
        combination = f"{platform.os}/{platform.architecture}/{platform.variant}"
        raise PlatformRuleError(
            f"{member.label}: manifest entry for image {image} has unsupported os/arch or "
            f"os/arch/variant combination: {combination}: {problem}"
        )


def platform_key(platform: Platform) -> tuple[str, str, str, str, str]:
    # push.go getPlatformString: arch-os-variant-osversion-features joined with ".".
    return (
        platform.architecture,
        platform.os,
        platform.variant,
        platform.os_version,
        ".".join(platform.os_features),
    )


def check_unique_platforms(images: Iterable[ListEntry]) -> None:
    """Raise :class:`DuplicatePlatformError` when two of *images* have the same platform
    (:func:`platform_key`). An entry without a platform is not compared: only attestation
    entries may lack one, and they are not passed here."""
    seen: dict[tuple[str, str, str, str, str], ListEntry] = {}
    for entry in images:
        platform = entry.platform
        if platform is None:
            continue
        key = platform_key(platform)
        other = seen.get(key)
        if other is not None:
            raise DuplicatePlatformError(
                f"{entry.member.label}: cannot include two manifests with the same "
                f"platform; digest {other.digest} already provides platform "
                f"{platform.format_all()} (this digest: {entry.digest}); "
                f"it came from {other.member.image} ({other.member.label})"
            )
        seen[key] = entry
