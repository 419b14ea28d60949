"""Which manifest an engine pulls from an image index: the engines' rules, one profile each.

Given an index (OCI image index or Docker manifest list) and a host, :func:`select_manifest`
answers what a real engine would pull, ranks every entry the way that engine does, and says
why::

    >>> index = {"manifests": [
    ...     {"digest": "sha256:aa", "platform": {"os": "linux", "architecture": "amd64"}},
    ...     {"digest": "sha256:bb", "platform": {"os": "linux", "architecture": "arm",
    ...                                          "variant": "v6"}},
    ... ]}
    >>> select_manifest(index, "linux/arm64/v8", engine="moby").descriptor["digest"]
    'sha256:bb'
    >>> select_manifest(index, "linux/arm64/v8", engine="containers-image")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fakeregistry.engine.selection.NoMatchingManifest: no image found in image index for ...

Engines differ a lot (``PLATFORMS.md`` part A, A3-A9). The profiles, in :data:`ENGINES`:

``docker-1.10``
    Docker 1.10-18.05 (``distribution/pull_v2.go: pullManifestList``): the first entry whose
    ``architecture``/``os`` strings equal the daemon's GOARCH/GOOS. No aliases, variants or
    OS versions.
``docker-18.09``
    Docker 18.06-20.10 (``distribution/pull_v2_unix.go: filterManifests``): the first entry
    equal to the daemon platform once both are normalized (containerd 1.2-1.5 aliases), and,
    for an arm daemon with no such entry, any ``arm`` entry ("backwards compatibility with
    older versions that didn't compare variant").
``moby``
    Docker 23 to today (``daemon/internal/distribution/pull_v2_unix.go``):
    ``platforms.Only(host)`` where the host includes the amd64 micro-architecture level
    (``maximumSpec()``), best fallback first, platform-less entries last. A Windows daemon
    uses ``pull_v2_windows.go`` instead (same GOARCH, Windows build ≤ host's, the host's
    build first).
``containerd``
    ``client.Pull`` without a platform (ctr, the CRI plugin): ``platforms.Default()`` —
    ``Only(DefaultSpec())`` with no amd64 level on Linux, ``Ordered(host, linux/arch)`` on
    macOS/FreeBSD, the exact host with newest ``os.version`` first on Windows;
    platform-less entries last (``core/images/handlers.go: FilterPlatforms/LimitManifests``).
``containerd-strict``
    ``platforms.OnlyStrict`` (``DefaultStrict()``, which nerdctl uses when no platform is
    given): the normalized host only — no ``386`` on amd64, no older arm variants.
``containers-image``
    skopeo, podman, buildah (``internal/pkg/platform/platform_matcher.go``,
    ``internal/manifest/{docker_schema2_list,oci_index}.go``): an ordered list of exact
    ``{os, arch, variant}`` wanted platforms; no aliases and no cross-architecture fallback.
    A Docker list is searched wanted-platform first; an OCI index ranks by wanted position,
    then zstd/zstd:chunked annotations, then list order, and accepts platform-less entries
    last.
``full``
    fakeregistry's own strict reading: moby's fallbacks, and *every* field counts —
    Windows ``os.version`` (A6), ``os.features`` and CPU ``features`` must be offered by the
    host; attestation entries are never picked.

Entries that are attestations (annotation ``vnd.docker.reference.type:
attestation-manifest``, platform ``unknown/unknown``) lose on their platform in every
engine; candidates say so. :func:`select_manifest` looks at one level: when the chosen
descriptor is itself an index, the caller fetches it and calls :func:`select_manifest`
again (moby and containerd both recurse with the same platform). A platform-less pick is
checked against the image config by containerd (``images.Manifest``) — also the caller's job.

Pure, standard library only (plus :mod:`fakeregistry.platforms.platform`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fakeregistry.platforms.platform import Platform, go_quote, normalize_arch, normalize_os
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import ATTESTATION_ANNOTATION, ZSTD_ANNOTATION
from fakeregistry.rules.annotations import ATTESTATION_VALUE as _ATTESTATION_VALUE
from fakeregistry.rules.annotations import (
    ZSTD_CHUNKED_SENTINEL_ANNOTATION as _ZSTD_CHUNKED_SENTINEL,
)
from fakeregistry.rules.errors import FakeRegistryError

__all__ = [
    "ATTESTATION_ANNOTATION",
    "ENGINES",
    "Candidate",
    "NoMatchingManifest",
    "Selection",
    "describe_engine",
    "select_manifest",
    "windows_compatible",
]

ENGINES: tuple[str, ...] = (
    "docker-1.10",
    "docker-18.09",
    "moby",
    "containerd",
    "containerd-strict",
    "containers-image",
    "full",
)

_SUMMARIES = {
    "docker-1.10": "Docker 1.10-18.05: first entry whose os/architecture literally equal the "
    "daemon's GOOS/GOARCH (no aliases, variants or versions)",
    "docker-18.09": "Docker 18.06-20.10: first entry equal to the normalized daemon "
    "os/arch/variant; an arm daemon falls back to any arm entry",
    "moby": "Docker 23+ (moby): containerd platforms.Only over the host incl. its amd64 level, "
    "best fallback first, platform-less entries last",
    "containerd": "containerd client.Pull (ctr, CRI): platforms.Default() = Only(host) without "
    "amd64 level, platform-less entries last",
    "containerd-strict": "containerd platforms.OnlyStrict (DefaultStrict, nerdctl's default): "
    "the normalized host platform only, no fallbacks",
    "containers-image": "skopeo/podman/buildah: exact os/arch/variant strings from an ordered "
    "wanted-platform list; OCI indexes accept platform-less entries last",
    "full": "fakeregistry: moby's fallbacks, and os.version, os.features and CPU features must "
    "all be offered by the host",
}


def describe_engine(name: str) -> str:
    """A one-line description of an engine profile, for ``fakeregistry platforms --host``.

    >>> describe_engine("moby")[:45]
    'moby: Docker 23+ (moby): containerd platforms'
    """
    if name not in _SUMMARIES:
        raise ValueError(f"unknown engine {name!r}; known engines: {', '.join(ENGINES)}")
    return f"{name}: {_SUMMARIES[name]}"


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """One ``manifests[]`` entry as an engine saw it.

    ``rank`` is the entry's place in the engine's order of preference (0 = what it pulls),
    ``None`` when the engine rejects it; ``reason`` says why, in words.
    """

    position: int
    descriptor: dict[str, Any]
    platform: Platform | None
    rank: int | None
    reason: str

    @property
    def accepted(self) -> bool:
        """True when the engine would consider this entry at all."""
        return self.rank is not None


@dataclass(frozen=True, slots=True)
class Selection:
    """What an engine pulls from an index, and how it got there.

    ``candidates`` lists the accepted entries in the engine's order of preference (the first
    is the pick), then the rejected ones in document order. ``wanted`` is the platform the
    engine looked for after applying its defaults (e.g. moby's host with amd64 level).
    """

    engine: str
    wanted: Platform
    descriptor: dict[str, Any]
    candidates: tuple[Candidate, ...]
    reason: str

    @property
    def chosen(self) -> Candidate:
        """The picked entry (``candidates[0]``)."""
        return self.candidates[0]

    @property
    def digest(self) -> str:
        """The picked descriptor's digest (``""`` if it has none)."""
        value = self.descriptor.get("digest", "")
        return value if isinstance(value, str) else ""

    @property
    def platform(self) -> Platform | None:
        """The picked entry's platform, ``None`` for a platform-less entry."""
        return self.chosen.platform


class NoMatchingManifest(FakeRegistryError):
    """No entry of the index suits the engine; ``str(exc)`` is the engine's own message.

    ``messages`` holds the texts other versions or front-ends of the same engine print (e.g.
    moby's containerd image store, the docker CLI prefix); ``candidates`` every entry with the
    reason it was rejected.
    """

    def __init__(
        self,
        message: str,
        *,
        engine: str,
        wanted: Platform,
        candidates: Sequence[Candidate] = (),
        messages: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.engine = engine
        self.wanted = wanted
        self.candidates = tuple(candidates)
        self.messages: dict[str, str] = dict(messages or {})


# -- Go helpers --------------------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]+")
_SIGNED_DIGITS = re.compile(r"[+-]?[0-9]+")


def _go_atoi(text: str) -> int | None:
    """``strconv.Atoi``: optional sign and ASCII digits only; ``None`` where Go errors."""
    if not _SIGNED_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def _go_parse_uint(text: str, bits: int) -> int | None:
    """``strconv.ParseUint(text, 10, bits)``."""
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value < 2**bits else None


def _trim_v(variant: str) -> str:
    return variant[1:] if variant.startswith("v") else variant  # strings.TrimPrefix(v, "v")


def _label(arch: str, variant: str) -> str:
    return f"{arch}/{variant}" if variant else arch


# -- Windows OS-version compatibility (containerd/platforms platform_windows_compat.go) ---------

# Windows build numbers: rs5 = ltsc2019, 21H2 server = ltsc2022, 24H2/25H1 server = ltsc2025.
_LTSC2019, _LTSC2022, _LTSC2025 = 17763, 20348, 26100
# compatLTSCReleases ("Every release after WS 2022 will support the previous ltsc container
# image"), sorted ascending.
_COMPAT_LTSC_RELEASES = (_LTSC2022, _LTSC2025)

_WinVersion = tuple[int, int, int]


def _windows_version(text: str) -> _WinVersion:
    """``getWindowsOSVersion``: ``major.minor.build[.anything]``; zeros when unusable.

    Needs two dots; major and minor must fit uint8, build uint16. ``(0, 0, 0)`` is the
    "empty" version, which containerd treats as "no version constraint".
    """
    if text.count(".") < 2:
        return (0, 0, 0)
    major, _, rest = text.partition(".")
    minor, _, rest = rest.partition(".")
    build = rest.partition(".")[0]
    values = (_go_parse_uint(major, 8), _go_parse_uint(minor, 8), _go_parse_uint(build, 16))
    if values[0] is None or values[1] is None or values[2] is None:
        return (0, 0, 0)
    return (values[0], values[1], values[2])


def _ltsc_floor(host_build: int) -> int:
    # containerd/platforms v1.0.0-rc.5: the LTSC *before* the largest LTSC <= host build (the
    # first LTSC is its own floor). rc.2/rc.4 took the last LTSC strictly below the host; the
    # two differ only for hosts newer than 26100 (a 26200 host accepts 20348 images in rc.5).
    floor = _LTSC2022
    for i in range(len(_COMPAT_LTSC_RELEASES) - 1, -1, -1):
        if host_build >= _COMPAT_LTSC_RELEASES[i]:
            floor = _COMPAT_LTSC_RELEASES[i - 1] if i > 0 else _COMPAT_LTSC_RELEASES[i]
            break
    return floor


def _windows_incompatibility(host: _WinVersion, image: _WinVersion) -> str | None:
    """Why an image of Windows version *image* cannot run on *host*; ``None`` if it can."""
    if host[:2] != image[:2]:
        return (
            f"Windows {image[0]}.{image[1]} images do not run on a Windows {host[0]}.{host[1]} host"
        )
    if host[2] < _LTSC2022:
        if host[2] != image[2]:
            return f"a build {host[2]} host (before ltsc2022) runs only build {host[2]} images"
        return None
    floor = _ltsc_floor(host[2])
    if not floor <= image[2] <= host[2]:
        return f"a build {host[2]} host runs builds {floor} to {host[2]} (ltsc2022+ stable ABI)"
    return None


def windows_compatible(host_version: str, image_version: str) -> bool:
    """Can a Windows image of *image_version* run on a host of *host_version*? (A6)

    containerd's ``checkWindowsHostAndContainerCompat`` behind a ``windowsVersionMatcher``:
    an empty or unparsable host version, or an empty image version, accepts everything;
    major.minor must agree; hosts before ltsc2022 (build 20348) need the exact build; newer
    hosts run builds from the previous LTSC up to their own (revisions never matter).

    >>> windows_compatible("10.0.17763", "10.0.17763.5576")
    True
    >>> windows_compatible("10.0.17763", "10.0.20348")
    False
    >>> windows_compatible("10.0.26100", "10.0.20348")
    True
    """
    host = _windows_version(host_version)
    if host == (0, 0, 0) or not image_version:
        return True
    return _windows_incompatibility(host, _windows_version(image_version)) is None


# -- containerd matchers (containerd/platforms platforms.go, compare.go) -----------------------


def _arm64_versions() -> dict[str, tuple[tuple[int, int], ...]]:
    # compare.go arm64variantToVersion: "v8.x" alone; "v9.x" also covers v8.(x+5), capped at
    # v8.9 ("v9.0 diverged from v8.5").
    table: dict[str, tuple[tuple[int, int], ...]] = {"v8": ((8, 0),), "v9": ((9, 0), (8, 5))}
    for minor in range(10):
        table[f"v8.{minor}"] = ((8, minor),)
    for minor in range(8):
        table[f"v9.{minor}"] = ((9, minor), (8, min(minor + 5, 9)))
    return table


_ARM64_VERSIONS = _arm64_versions()
_ARM_FALLBACK = tuple(("arm", f"v{n}") for n in (8, 7, 6, 5))


@functools.cache
def _arm64_steps(variant: str) -> tuple[tuple[str, str], ...]:
    """platformVector for a normalized arm64 variant, as normalized (arch, variant) pairs."""
    versions = _ARM64_VERSIONS.get(variant or "v8")
    if versions is None:
        return ()  # "Reset vector" and break: an unknown arm64 variant matches nothing at all
    steps: list[tuple[str, str]] = []
    for major, top in versions:
        for minor in range(top, -1, -1):
            steps.append(normalize_arch("arm64", f"v{major}.{minor}" if minor else f"v{major}"))
    return (*steps, *_ARM_FALLBACK)


@dataclass(frozen=True, slots=True)
class _Group:
    """Consecutive matchers of containerd's ``Ordered(...)`` sharing OS, version and features.

    ``strict`` is one ``NewMatcher(spec)``; otherwise the whole ``platformVector(spec)`` of
    ``Only`` (``amd64/vN … v1, 386`` · ``arm/vN … v5`` · ``arm64/v9.x … v8, arm/v8 … v5``).
    Positions are computed, not enumerated, because a variant like ``v999999`` would make Go
    build a vector of a million platforms.
    """

    spec: Platform  # normalized
    strict: bool
    windows: bool  # NewMatcher(p) with p.OS == "windows": version matcher and win32k strip

    def _chain(self, floor: int) -> tuple[int | None, int]:
        n = _go_atoi(_trim_v(self.spec.variant))
        return n, (n - floor if n is not None and n > floor else 0)

    def size(self) -> int:
        arch = self.spec.architecture
        if self.strict:
            return 1
        if arch == "amd64":
            return self._chain(1)[1] + 2
        if arch == "arm":
            return self._chain(5)[1] + 1
        if arch == "arm64":
            return len(_arm64_steps(self.spec.variant))
        return 1

    def step(self, position: int) -> tuple[str, str]:
        """The (architecture, variant) of vector element *position*."""
        arch, variant = self.spec.architecture, self.spec.variant
        if self.strict or (position == 0 and arch != "arm64"):
            return arch, variant
        if arch == "amd64":
            n, chain = self._chain(1)
            if position > chain:
                return "386", ""
            assert n is not None
            return "amd64", "" if n - position == 1 else f"v{n - position}"
        if arch == "arm":
            n, _ = self._chain(5)
            assert n is not None
            return "arm", f"v{n - position}"
        return _arm64_steps(variant)[position]

    def position(self, arch: str, variant: str) -> int | None:
        """Where a normalized candidate (arch, variant) first appears in the vector."""
        head = (self.spec.architecture, self.spec.variant)
        if self.strict:
            return 0 if (arch, variant) == head else None
        if head[0] == "amd64":
            n, chain = self._chain(1)
            if arch == "amd64":
                if variant == head[1]:
                    return 0
                level = 1 if variant == "" else _canonical_level(variant, minimum=2)
                if n is not None and level is not None and chain and level <= n - 1:
                    return n - level
                return None
            return chain + 1 if (arch, variant) == ("386", "") else None
        if head[0] == "arm":
            if arch != "arm":
                return None
            if variant == head[1]:
                return 0
            n, chain = self._chain(5)
            level = _canonical_level(variant, minimum=5)
            if n is not None and level is not None and chain and level <= n - 1:
                return n - level
            return None
        if head[0] == "arm64":
            steps = _arm64_steps(head[1])
            return steps.index((arch, variant)) if (arch, variant) in steps else None
        return 0 if (arch, variant) == head else None

    def preview(self, limit: int = 8) -> str:
        size = self.size()
        shown = [_label(*self.step(i)) for i in range(min(size, limit))]
        if size > limit:
            shown.append("…")
        return " → ".join(shown) if shown else "nothing"

    def mismatch(self, candidate: Platform, normalized: Platform) -> str | None:
        """Why containerd's matcher(s) reject *candidate*; ``None`` when one accepts it."""
        spec = self.spec
        if normalized.os != spec.os:
            return f"os {normalized.os} is not {spec.os}"
        if self.position(normalized.architecture, normalized.variant) is None:
            got = _label(normalized.architecture, normalized.variant)
            if not self.strict and spec.architecture == "arm64" and self.size() == 0:
                return (
                    f"{got} not accepted: containerd knows no arm64 variant "
                    f"{spec.variant!r}, so the host matches nothing"
                )
            return f"{got} is not one of {self.preview()}"
        if self.windows:
            host = _windows_version(spec.os_version)
            if host != (0, 0, 0) and candidate.os_version:
                why = _windows_incompatibility(host, _windows_version(candidate.os_version))
                if why is not None:
                    return f"os.version {candidate.os_version}: {why}"
        features = _candidate_os_features(normalized, windows=self.windows)
        missing = sorted(set(features) - set(spec.os_features))
        if missing:
            return f"os.features {missing} are not among the host's {list(spec.os_features)}"
        return None


def _canonical_level(variant: str, *, minimum: int) -> int | None:
    """``vN`` with N >= minimum written canonically (``v6``, not ``v06``), else None."""
    if not variant.startswith("v") or not _DIGITS.fullmatch(variant[1:]):
        return None
    level = int(variant[1:])
    return level if level >= minimum and variant == f"v{level}" else None


def _candidate_os_features(normalized: Platform, *, windows: bool) -> tuple[str, ...]:
    # rc.3+ windowsStripFeaturesMatcher: "In prior versions, the win32k os feature was not
    # considered for matching" — Nano Server images lack it, Server Core hosts have it.
    if windows:
        return tuple(f for f in normalized.os_features if f != "win32k")
    return normalized.os_features


@dataclass(frozen=True, slots=True)
class _Comparer:
    """A containerd ``MatchComparer`` built from groups: ``Only``, ``OnlyStrict``, ``Ordered``."""

    name: str
    groups: tuple[_Group, ...]
    host_os: str  # runtime.GOOS, for candidates with an empty os

    def rank(self, candidate: Platform) -> int | None:
        """Index of the first matcher accepting *candidate* (Ordered.Less order)."""
        normalized = candidate.normalize(host_os=self.host_os)
        offset = 0
        for group in self.groups:
            if group.mismatch(candidate, normalized) is None:
                position = group.position(normalized.architecture, normalized.variant)
                assert position is not None
                return offset + position
            offset += group.size()
        return None

    def why_not(self, candidate: Platform) -> str:
        normalized = candidate.normalize(host_os=self.host_os)
        reasons = [g.mismatch(candidate, normalized) or "" for g in self.groups]
        return "; ".join(r for r in reasons if r)

    def label(self, rank: int) -> str:
        for group in self.groups:
            if rank < group.size():
                return _label(*group.step(rank))
            rank -= group.size()
        return "?"


def _matcher_group(spec: Platform, *, strict: bool, host_os: str) -> _Group:
    normalized = spec.normalize(host_os=host_os)
    return _Group(normalized, strict=strict, windows=spec.os == "windows")


def _only(spec: Platform, host_os: str) -> _Comparer:
    normalized = spec.normalize(host_os=host_os)
    group = _matcher_group(normalized, strict=False, host_os=host_os)
    return _Comparer(f"Only({normalized.format_all()})", (group,), host_os)


def _only_strict(spec: Platform, host_os: str) -> _Comparer:
    normalized = spec.normalize(host_os=host_os)
    group = _matcher_group(normalized, strict=True, host_os=host_os)
    return _Comparer(f"OnlyStrict({normalized.format_all()})", (group,), host_os)


def _ordered(specs: Sequence[Platform], host_os: str) -> _Comparer:
    groups = tuple(_matcher_group(s, strict=True, host_os=host_os) for s in specs)
    names = ", ".join(s.format_all() for s in specs)
    return _Comparer(f"Ordered({names})", groups, host_os)


# -- the index ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    position: int
    descriptor: dict[str, Any]
    platform: Platform | None  # None: no "platform" key, or null (a nil pointer in Go)
    raw: Mapping[str, Any] | None

    @property
    def is_attestation(self) -> bool:
        annotations = self.descriptor.get("annotations")
        return (
            isinstance(annotations, Mapping)
            and annotations.get(ATTESTATION_ANNOTATION) == _ATTESTATION_VALUE
        )

    @property
    def zero_platform(self) -> bool:
        """moby's ``toOCIPlatform`` returns nil: no platform, or one with every field empty.

        Docker's ``manifestlist.PlatformSpec`` is a struct, so ``"platform": {}`` is as
        platform-less as no key at all — but ``"os.features": []`` is a non-nil slice.
        """
        if self.platform is None or self.raw is None:
            return True
        p = self.platform
        return (
            not (p.os or p.architecture or p.variant or p.os_version)
            and self.raw.get("os.features") is None
            and self.raw.get("features") is None
        )

    def platform_or_zero(self) -> Platform:
        return self.platform if self.platform is not None else Platform("", "")

    def describe(self) -> str:
        digest = self.descriptor.get("digest")
        where = f"manifests[{self.position}]"
        what = self.platform.format_all() if self.platform is not None else "no platform"
        return f"{where} {what}" + (f" ({digest})" if isinstance(digest, str) and digest else "")


def _load_index(index: bytes | str | Mapping[str, Any]) -> tuple[str, list[_Entry]]:
    if isinstance(index, bytes | str):
        try:
            document = json.loads(index)
        except ValueError as exc:
            raise ValueError(f"index is not JSON: {exc}") from None
    else:
        document = index
    if not isinstance(document, Mapping):
        raise ValueError("index must be a JSON object")
    media_type = document.get("mediaType", "")
    manifests = document.get("manifests")
    if manifests is None:
        manifests = []
    if not isinstance(manifests, list):
        raise ValueError("index field 'manifests' must be an array")
    entries: list[_Entry] = []
    for position, descriptor in enumerate(manifests):
        if not isinstance(descriptor, Mapping):
            raise ValueError(f"manifests[{position}] must be a JSON object")
        raw = descriptor.get("platform")
        if raw is not None and not isinstance(raw, Mapping):
            raise ValueError(f"manifests[{position}].platform must be a JSON object")
        platform = Platform.from_json(raw) if raw is not None else None
        entries.append(_Entry(position, dict(descriptor), platform, raw))
    return media_type if isinstance(media_type, str) else "", entries


# -- host specs --------------------------------------------------------------------------------


def _goos(host: Platform) -> str:
    return normalize_os(host.os)


def _goarch(host: Platform) -> str:
    return normalize_arch(host.architecture, "")[0]


def _detected_variant(host: Platform, *, amd64_level: bool) -> str:
    """The variant an engine itself would detect on *host* (containerd's ``cpuVariant()``).

    Engines detect arm/arm64 variants (and moby the amd64 level); any other variant given in
    the host is something no engine could know, so it is dropped. An arm64 host without one
    is ``v8``: every detection path (cpuinfo, ``uname -m``, Windows/macOS/FreeBSD) says so.
    """
    arch = _goarch(host)
    variant = host.variant.lower()
    if arch == "arm64":
        return variant or "v8"
    if arch == "arm":
        return variant or ("v7" if _goos(host) in ("windows", "darwin") else "")
    if arch == "amd64" and amd64_level:
        return variant
    return ""


def _default_spec(host: Platform, *, amd64_level: bool) -> Platform:
    """containerd's ``DefaultSpec()`` on *host* (moby's ``maximumSpec()`` with amd64_level).

    Windows adds ``os.version`` as ``major.minor.build`` (and the host's declared
    ``os.features``); other OSes carry neither.
    """
    goos = _goos(host)
    if goos == "windows":
        version = ".".join(host.os_version.split(".")[:3])
        return Platform(
            goos,
            _goarch(host),
            _detected_variant(host, amd64_level=amd64_level),
            version,
            host.os_features,
        )
    return Platform(goos, _goarch(host), _detected_variant(host, amd64_level=amd64_level))


def _with_default(requested: Platform | None, default: Platform) -> Platform:
    """moby ``withDefault``: missing OS from the host; missing arch (and variant) from the host."""
    if requested is None:
        return default
    p = requested
    if not p.os:
        p = Platform(default.os, p.architecture, p.variant, p.os_version, p.os_features)
    if not p.architecture:
        p = Platform(p.os, default.architecture, default.variant, p.os_version, p.os_features)
    return p


# -- outcome -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Outcome:
    wanted: Platform
    accepted: list[tuple[_Entry, str]] = field(default_factory=list)  # preference order
    rejected: dict[int, str] = field(default_factory=dict)  # position -> reason
    message: str = ""
    messages: dict[str, str] = field(default_factory=dict)
    how: str = ""


_Profile = Callable[[list[_Entry], Platform, Platform | None, str], _Outcome]


def _sorted_by_comparer(
    entries: list[_Entry], comparer: _Comparer, *, platformless: Callable[[_Entry], bool]
) -> tuple[list[tuple[_Entry, str]], dict[int, str]]:
    """containerd ``FilterPlatforms`` + ``LimitManifests`` (moby ``filterManifests``): keep
    platform-less and matching entries, stable-sort by Less, platform-less last.

    Less (compare.go ``orderedPlatformComparer``, rc.3+): the earlier matcher wins; on a tie
    the entry with more ``os.features`` wins; otherwise list order (``sort.SliceStable``).
    """
    keyed: list[tuple[tuple[int, int, int], _Entry, str]] = []
    rejected: dict[int, str] = {}
    for entry in entries:
        if platformless(entry):
            keyed.append(((1, 0, 0), entry, "no platform: kept by the filter, tried last"))
            continue
        candidate = entry.platform_or_zero()
        rank = comparer.rank(candidate)
        if rank is None:
            rejected[entry.position] = _rejection(entry, comparer.why_not(candidate))
            continue
        what = comparer.label(rank)
        how = "exact match" if rank == 0 else f"fallback #{rank} ({what})"
        keyed.append(((0, rank, -len(candidate.os_features)), entry, f"{how} of {comparer.name}"))
    keyed.sort(key=lambda item: item[0])
    return [(entry, why) for _, entry, why in keyed], rejected


def _rejection(entry: _Entry, why: str) -> str:
    if entry.is_attestation:
        return f"attestation manifest ({ATTESTATION_ANNOTATION}={_ATTESTATION_VALUE}): {why}"
    return why


def _moby_message(shown: Platform) -> str:
    return f"no matching manifest for {shown.format_all()} in the manifest list entries"


def _docker_messages(message: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    out = {"docker-cli": f"Error response from daemon: {message}"}
    out.update(extra or {})
    return out


# -- profiles ----------------------------------------------------------------------------------


def _docker_1_10(
    entries: list[_Entry], host: Platform, requested: Platform | None, media_type: str
) -> _Outcome:
    if requested is not None:
        raise ValueError("docker-1.10 has no --platform: pass only the host")
    goos, goarch = _goos(host), _goarch(host)
    outcome = _Outcome(Platform(goos, goarch))
    for entry in entries:
        p = entry.platform_or_zero()
        if p.architecture == goarch and p.os == goos:
            outcome.accepted.append((entry, f"os/architecture are exactly {goos}/{goarch}"))
        else:
            outcome.rejected[entry.position] = _rejection(
                entry,
                f"{p.os or '<no os>'}/{p.architecture or '<no architecture>'} is not literally "
                f"{goos}/{goarch}",
            )
    outcome.message = "no supported platform found in manifest list"
    outcome.messages = _docker_messages(
        outcome.message,
        {"docker-17.04": f"no matching manifest for {goos}/{goarch} in the manifest list entries"},
    )
    outcome.how = f"first entry in list order whose os/architecture are {goos}/{goarch}"
    return outcome


def _legacy_normalize(p: Platform, host_os: str) -> tuple[str, str, str]:
    """containerd 1.2-1.5 ``Normalize`` (vendored by Docker 18.06-20.10): no ``v8.0``/``v9``
    folding, and ``amd64`` keeps every variant (``x86_64`` drops it) — amd64 levels came
    with containerd 1.6 (PR #6455)."""
    arch, variant = p.architecture.lower(), p.variant.lower()
    if arch in ("x86_64", "x86-64"):
        arch, variant = "amd64", ""
    elif arch == "amd64":
        pass
    elif arch in ("aarch64", "arm64"):
        arch, variant = "arm64", "" if variant in ("8", "v8") else variant
    else:
        arch, variant = normalize_arch(arch, variant)
    return normalize_os(p.os, host_os=host_os), arch, variant


def _docker_18_09(
    entries: list[_Entry], host: Platform, requested: Platform | None, media_type: str
) -> _Outcome:
    goos = _goos(host)
    default = _default_spec(host, amd64_level=False)
    shown = requested if requested is not None and requested.os else default
    message = f"no matching manifest for {shown.format()} in the manifest list entries"
    if goos == "windows":
        return _windows_daemon(entries, host, requested, message)
    wanted = _with_default(requested, default)
    want = _legacy_normalize(wanted, goos)
    outcome = _Outcome(Platform(*want))
    for entry in entries:
        got = _legacy_normalize(entry.platform_or_zero(), goos)
        if got == want:
            outcome.accepted.append((entry, f"normalizes to {Platform(*want).format()}"))
        else:
            outcome.rejected[entry.position] = _rejection(
                entry, f"normalizes to {Platform(*got).format()}, not {Platform(*want).format()}"
            )
    if not outcome.accepted and want[1] == "arm":
        # "deprecated: backwards compatibility with older versions that didn't compare
        # variant": raw os/architecture strings against the normalized wanted platform.
        for entry in entries:
            p = entry.platform_or_zero()
            if p.os == want[0] and p.architecture == "arm":
                outcome.accepted.append((entry, "arm fallback: any variant of linux/arm"))
                del outcome.rejected[entry.position]
    outcome.message = message
    outcome.messages = _docker_messages(message)
    outcome.how = f"first entry in list order equal to {Platform(*want).format()}"
    return outcome


def _windows_daemon(
    entries: list[_Entry], host: Platform, requested: Platform | None, message: str
) -> _Outcome:
    """moby ``pull_v2_windows.go: filterManifests`` (Docker 18.06 onwards on Windows).

    Keep entries whose architecture is GOARCH (literally) and whose OS — or the requested
    OS — is Windows; drop Windows images of a newer build than the host
    (``checkImageCompatibility``); then stable-sort Windows first and entries of the host's
    exact ``major.minor.build`` before the others.
    """
    goarch = _goarch(host)
    host_version = _windows_version(host.os_version)
    prefix = ".".join(str(n) for n in host_version)
    outcome = _Outcome(_default_spec(host, amd64_level=False), message=message)
    kept: list[tuple[_Entry, bool, bool]] = []
    for entry in entries:
        p = entry.platform_or_zero()
        if p.architecture != goarch:
            outcome.rejected[entry.position] = _rejection(
                entry, f"architecture {p.architecture or '<none>'} is not {goarch}"
            )
            continue
        os_name = requested.os if requested is not None and requested.os else p.os
        if os_name.lower() != "windows":  # image.CheckOS: strings.EqualFold(runtime.GOOS, os)
            outcome.rejected[entry.position] = _rejection(
                entry, f"operating system {os_name or '<none>'} is not supported"
            )
            continue
        is_windows = p.os.lower() == "windows"
        if is_windows:
            parts = p.os_version.split(".")
            build = _go_atoi(parts[2]) if len(parts) >= 3 else None
            if build is not None and build > host_version[2]:
                outcome.rejected[entry.position] = (
                    f"a Windows version {'.'.join(parts[:3])}-based image is incompatible "
                    f"with a {prefix} host"
                )
                continue
        kept.append((entry, is_windows, p.os_version.startswith(prefix + ".")))
    if any(is_windows for _, is_windows, _ in kept):
        # sort.Stable(manifestsByVersion): Windows first, then exact host build first. Go's
        # Stable is an insertion sort for up to 20 entries; we do the same so that even
        # this not-quite-consistent Less gives Go's order.
        for i in range(1, len(kept)):
            j = i
            while j > 0 and _by_version_less(kept[j], kept[j - 1]):
                kept[j], kept[j - 1] = kept[j - 1], kept[j]
                j -= 1
    for entry, is_windows, same_build in kept:
        why = "same build as the host" if same_build else "compatible Windows image"
        outcome.accepted.append((entry, why if is_windows else "requested OS is windows"))
    outcome.messages = _docker_messages(message)
    outcome.how = f"{goarch} entries a {prefix} Windows host can run, its own build first"
    return outcome


def _by_version_less(a: tuple[_Entry, bool, bool], b: tuple[_Entry, bool, bool]) -> bool:
    return (a[1] and not b[1]) or (a[2] and not b[2])


def _moby(
    entries: list[_Entry], host: Platform, requested: Platform | None, media_type: str
) -> _Outcome:
    goos = _goos(host)
    default = _default_spec(host, amd64_level=False)
    maximum = _default_spec(host, amd64_level=True)
    # noMatchesErr: FormatAll(requested), else FormatAll(platforms.DefaultSpec()) — the
    # DefaultSpec has no amd64 level even though the matching used one.
    shown = requested if requested is not None and requested.os else default
    message = _moby_message(shown)
    if goos == "windows":
        return _windows_daemon(entries, host, requested, message)
    wanted = _with_default(requested, maximum).normalize(host_os=goos)
    comparer = _only(wanted, goos)
    accepted, rejected = _sorted_by_comparer(
        entries, comparer, platformless=lambda e: e.zero_platform
    )
    # moby's containerd image store (Docker 24+, default for new installs since 29): the
    # pull platform is the request or hostPlatformSpec() (DefaultSpec + amd64 level).
    store = requested if requested is not None else maximum
    return _Outcome(
        wanted,
        accepted,
        rejected,
        message,
        _docker_messages(
            message,
            {
                "containerd-store": f"{_moby_message(store)}: no match for platform in manifest: "
                "not found"
            },
        ),
        f"{comparer.name}: {comparer.groups[0].preview()}",
    )


def _containerd(
    entries: list[_Entry], host: Platform, requested: Platform | None, media_type: str
) -> _Outcome:
    goos = _goos(host)
    spec = _default_spec(host, amd64_level=False)
    if requested is not None:
        comparer = _only(requested, goos)  # client.Pull, one platform: Only(Parse(s))
    elif goos == "windows":
        return _containerd_windows(entries, spec)
    elif goos == "darwin":
        comparer = _ordered([spec, Platform("linux", spec.architecture)], goos)
    elif goos == "freebsd":
        comparer = _ordered([spec, Platform("linux", spec.architecture, spec.variant)], goos)
    else:
        comparer = _only(spec, goos)
    accepted, rejected = _sorted_by_comparer(entries, comparer, platformless=_no_platform)
    wanted = requested.normalize(host_os=goos) if requested is not None else spec
    return _Outcome(
        wanted,
        accepted,
        rejected,
        "no match for platform in manifest: not found",
        {},
        f"{comparer.name}: " + " | ".join(g.preview() for g in comparer.groups),
    )


def _no_platform(entry: _Entry) -> bool:
    return entry.platform is None  # a nil *Platform in containerd's ocispec.Descriptor


def _containerd_windows(entries: list[_Entry], spec: Platform) -> _Outcome:
    """defaults_windows.go ``Default()``: ``windowsMatchComparer{NewMatcher(DefaultSpec())}``.

    No 386 fallback; among matches the greater ``os.version`` *string* wins (rc.2+), so
    ``10.0.26100.2605`` beats ``10.0.26100.10``.
    """
    comparer = _only_strict(spec, "windows")
    outcome = _Outcome(spec, message="no match for platform in manifest: not found")
    matched: list[_Entry] = []
    platformless: list[_Entry] = []
    for entry in entries:
        if entry.platform is None:
            platformless.append(entry)
        elif comparer.rank(entry.platform) is None:
            outcome.rejected[entry.position] = _rejection(entry, comparer.why_not(entry.platform))
        else:
            matched.append(entry)
    matched.sort(key=lambda e: e.platform_or_zero().os_version, reverse=True)  # stable
    outcome.accepted = [(e, "matches; greatest os.version string first") for e in matched]
    outcome.accepted += [(e, "no platform: kept by the filter, tried last") for e in platformless]
    outcome.how = f"windowsMatchComparer({spec.format_all()})"
    return outcome


def _containerd_strict(
    entries: list[_Entry], host: Platform, requested: Platform | None, media_type: str
) -> _Outcome:
    goos = _goos(host)
    spec = requested if requested is not None else _default_spec(host, amd64_level=False)
    comparer = _only_strict(spec, goos)
    accepted, rejected = _sorted_by_comparer(entries, comparer, platformless=_no_platform)
    return _Outcome(
        spec.normalize(host_os=goos),
        accepted,
        rejected,
        "no match for platform in manifest: not found",
        {},
        comparer.name,
    )


# containers/image platform_matcher.go `compatibility`: variants from most to least capable.
_CI_COMPATIBILITY = {
    "amd64": ("v4", "v3", "v2"),
    "arm": ("v8", "v7", "v6", "v5"),
    "arm64": ("v8",),
}
_CI_DETECTED = frozenset({"v3", "v4", "v5", "v6", "v7", "v8"})


def _ci_variant(arch: str, variant: str) -> str:
    return "" if arch == "amd64" and variant == "v1" else variant  # normalizeAmd64Variant


def _wanted_platforms(host: Platform, requested: Platform | None) -> list[Platform]:
    """containers/image ``WantedPlatforms``: exact ``{os, arch, variant}``, most wanted first."""
    goos, goarch = _goos(host), _goarch(host)
    chosen_arch = requested.architecture if requested is not None else ""
    if chosen_arch:
        arch, variant = chosen_arch, ""  # an overridden architecture is never auto-detected
    else:
        arch = goarch
        if goos in ("darwin", "windows"):
            variant = {"arm64": "v8", "arm": "v7"}.get(goarch, "")
        elif goarch in ("arm", "arm64") and goos == "linux":
            detected = host.variant.lower()
            variant = detected if detected in _CI_DETECTED else ""
        else:
            variant = ""  # amd64 levels only with SystemContext.DetectPlatformVariant (off)
    if requested is not None and requested.variant:
        variant = requested.variant
    variant = _ci_variant(arch, variant)
    os_name = requested.os if requested is not None and requested.os else goos
    order = _CI_COMPATIBILITY.get(arch)
    if variant:
        variants = list(order[order.index(variant) :]) if order and variant in order else [variant]
        variants.append("")
    else:
        variants = [""]
        if arch != "amd64" and order:
            variants.extend(order)
    return [Platform(os_name, arch, v) for v in variants]


def _ci_matches(image: Platform, wanted: Platform) -> bool:
    return (
        image.architecture == wanted.architecture
        and image.os == wanted.os
        and _ci_variant(image.architecture, image.variant)
        == _ci_variant(wanted.architecture, wanted.variant)
    )


def _containers_image(
    entries: list[_Entry], host: Platform, requested: Platform | None, media_type: str
) -> _Outcome:
    wanted = _wanted_platforms(host, requested)
    first = wanted[0]
    is_list = media_type == mt.DOCKER_MANIFEST_LIST
    kind = "manifest list" if is_list else "image index"
    outcome = _Outcome(first)
    outcome.message = (
        f"no image found in {kind} for architecture {go_quote(first.architecture)}, "
        f"variant {go_quote(first.variant)}, OS {go_quote(first.os)}"
    )
    outcome.messages = {
        "containers-image-5.0": f"no image found in {kind} for architecture "
        f"{first.architecture}, variant {go_quote(first.variant)}, OS {first.os}",
    }
    outcome.how = "wanted platforms " + " → ".join(w.format() for w in wanted)
    keyed: list[tuple[tuple[int, int, int, int], _Entry, str]] = []
    for entry in entries:
        annotations = entry.descriptor.get("annotations")
        notes = annotations if isinstance(annotations, Mapping) else {}
        # oci_index.go isPreferredOver: wanted position (platform-less: math.MaxInt), then zstd
        # instances (unless preferGzip), then zstd:chunked sentinels, then list position.
        # A Docker list (ChooseInstance) has only the first and the last.
        zstd = 0 if notes.get(ZSTD_ANNOTATION) == "true" and not is_list else 1
        sentinel = 0 if notes.get(_ZSTD_CHUNKED_SENTINEL) == "true" and not is_list else 1
        if entry.platform is None and not is_list:
            key = (len(wanted), zstd, sentinel, entry.position)
            keyed.append((key, entry, "no platform: accepted with the lowest priority"))
            continue
        image = entry.platform_or_zero()
        index = next((i for i, w in enumerate(wanted) if _ci_matches(image, w)), None)
        if index is None:
            outcome.rejected[entry.position] = _rejection(
                entry,
                f"{image.format() if image.os else '<no platform>'} is none of "
                + ", ".join(w.format() for w in wanted),
            )
            continue
        key = (index, zstd, sentinel, entry.position)
        keyed.append((key, entry, f"is wanted platform #{index} {wanted[index].format()}"))
    keyed.sort(key=lambda item: item[0])
    outcome.accepted = [(entry, why) for _, entry, why in keyed]
    return outcome


def _numeric_version(text: str) -> tuple[int, ...] | None:
    parts = text.split(".")
    if not all(_DIGITS.fullmatch(p) for p in parts):
        return None
    return tuple(int(p) for p in parts)


def _full(
    entries: list[_Entry], host: Platform, requested: Platform | None, media_type: str
) -> _Outcome:
    goos = _goos(host)
    maximum = _default_spec(host, amd64_level=True)
    base = Platform(
        maximum.os,
        maximum.architecture,
        maximum.variant,
        host.os_version,
        host.os_features,
        host.features,
    )
    if requested is not None:
        filled = _with_default(requested, base)
        base = Platform(
            filled.os,
            filled.architecture,
            filled.variant,
            requested.os_version or host.os_version,
            requested.os_features or host.os_features,
            host.features,
        )
    wanted = base.normalize(host_os=goos)
    group = _Group(wanted, strict=False, windows=False)
    host_windows = _windows_version(wanted.os_version) if wanted.os == "windows" else None
    keyed: list[tuple[tuple[int, ...], _Entry, str]] = []
    rejected: dict[int, str] = {}
    for entry in entries:
        if entry.is_attestation:
            rejected[entry.position] = (
                f"attestation manifest ({ATTESTATION_ANNOTATION}={_ATTESTATION_VALUE}), "
                "not an image for any platform"
            )
            continue
        if entry.platform is None:
            keyed.append(((1,), entry, "no platform: kept, tried last"))
            continue
        c = entry.platform
        n = c.normalize(host_os=goos)
        why = group.mismatch(c, n)
        if why is None:
            why = _full_extra_mismatch(c, wanted, host_windows)
        if why is not None:
            rejected[entry.position] = why
            continue
        rank = group.position(n.architecture, n.variant)
        assert rank is not None
        build = (0, 0)
        if host_windows is not None and c.os_version:
            version = c.os_version.split(".")
            revision = _go_atoi(version[3]) if len(version) > 3 else None
            build = (_windows_version(c.os_version)[2], revision or 0)
        key = (0, rank, -build[0], -build[1], -len(n.os_features), -len(set(c.features)))
        what = _label(*group.step(rank))
        note = "exact match" if rank == 0 else f"fallback #{rank} ({what})"
        keyed.append((key, entry, f"{note}; every field offered by the host"))
    keyed.sort(key=lambda item: item[0])
    return _Outcome(
        wanted,
        [(entry, why) for _, entry, why in keyed],
        rejected,
        _moby_message(wanted),
        {},
        f"every field of {wanted.format_all()}; {group.preview()}",
    )


def _full_extra_mismatch(
    c: Platform, wanted: Platform, host_windows: _WinVersion | None
) -> str | None:
    """The fields containerd ignores but ``full`` checks: OS versions and CPU features."""
    if host_windows is not None:
        if c.os_version and host_windows != (0, 0, 0):
            why = _windows_incompatibility(host_windows, _windows_version(c.os_version))
            if why is not None:
                return f"os.version {c.os_version}: {why}"
    elif c.os_version and wanted.os_version:
        have, need = _numeric_version(wanted.os_version), _numeric_version(c.os_version)
        too_new = need > have if have is not None and need is not None else need != have
        if too_new or (have is None and c.os_version != wanted.os_version):
            return (
                f"os.version {c.os_version} is newer than (or not) the host's {wanted.os_version}"
            )
    missing_cpu = sorted(set(c.features) - set(wanted.features))
    if missing_cpu:
        return f"CPU features {missing_cpu} are not offered by the host"
    return None


_PROFILES: dict[str, _Profile] = {
    "docker-1.10": _docker_1_10,
    "docker-18.09": _docker_18_09,
    "moby": _moby,
    "containerd": _containerd,
    "containerd-strict": _containerd_strict,
    "containers-image": _containers_image,
    "full": _full,
}


# -- entry point -------------------------------------------------------------------------------


def select_manifest(
    index: bytes | str | Mapping[str, Any],
    host: Platform | str,
    engine: str = "moby",
    *,
    requested: Platform | str | None = None,
) -> Selection:
    """Pick the manifest *engine* pulls from *index* on *host*.

    - *index*: the index / manifest list document (bytes, text or parsed JSON). One level
      only: if the pick is itself an index, fetch it and call again.
    - *host*: the machine the engine runs on, a :class:`Platform` (see
      :meth:`Platform.host`) or a specifier such as ``"linux/arm64/v8"`` or
      ``"linux/amd64/v3"`` (an amd64 level only moby and ``full`` use).
    - *engine*: one of :data:`ENGINES`.
    - *requested*: what the user asked for (``docker pull --platform``, ``ctr pull
      --platform``, ``skopeo --override-os/--override-arch/--override-variant``); specifier
      strings are parsed on the host, as the daemon does. Affects the error text too.

    Returns a :class:`Selection`; raises :class:`NoMatchingManifest` with the engine's
    message, :class:`ValueError` for an unknown engine or a malformed index.

    >>> amd64 = {"os": "linux", "architecture": "amd64"}
    >>> idx = {"manifests": [{"digest": "sha256:1", "platform": amd64}]}
    >>> select_manifest(idx, "linux/arm64/v8", engine="moby")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fakeregistry.engine.selection.NoMatchingManifest: no matching manifest for linux/arm64/v8 ...
    """
    profile = _PROFILES.get(engine)
    if profile is None:
        raise ValueError(f"unknown engine {engine!r}; known engines: {', '.join(ENGINES)}")
    host_platform = Platform.parse(host) if isinstance(host, str) else host
    wanted = (
        Platform.parse(requested, host=host_platform) if isinstance(requested, str) else requested
    )
    media_type, entries = _load_index(index)
    outcome = profile(entries, host_platform, wanted, media_type)
    ranked = [
        Candidate(entry.position, entry.descriptor, entry.platform, rank, why)
        for rank, (entry, why) in enumerate(outcome.accepted)
    ]
    accepted_positions = {c.position for c in ranked}
    rejected = [
        Candidate(
            entry.position,
            entry.descriptor,
            entry.platform,
            None,
            outcome.rejected.get(entry.position, "not considered"),
        )
        for entry in entries
        if entry.position not in accepted_positions
    ]
    candidates = tuple(ranked + rejected)
    if not ranked:
        raise NoMatchingManifest(
            outcome.message,
            engine=engine,
            wanted=outcome.wanted,
            candidates=candidates,
            messages=outcome.messages,
        )
    chosen_entry = outcome.accepted[0][0]
    reason = (
        f"{engine} picks {chosen_entry.describe()}: {ranked[0].reason} "
        f"({len(ranked)} of {len(entries)} entries acceptable; {outcome.how})"
    )
    return Selection(engine, outcome.wanted, chosen_entry.descriptor, candidates, reason)
