"""containerd's platform matchers: which platforms a host accepts, and in which order.

containerd/platforms ``platforms.go`` and ``compare.go`` build a ``MatchComparer`` from a host
spec: :func:`only` (``Only``: the host and the platforms it can also run, best first),
:func:`only_strict` (``OnlyStrict``: the host alone) and :func:`ordered` (``Ordered``: several
exact specs in order). A comparer ranks a candidate platform (0 = the best) or says why it
does not match::

    >>> from fakeregistry.platforms.platform import Platform
    >>> arm64 = only(Platform("linux", "arm64"), "linux")
    >>> arm64.groups[0].preview()
    'arm64 → arm/v8 → arm/v7 → arm/v6 → arm/v5'
    >>> arm64.rank(Platform("linux", "arm", "v7")), arm64.rank(Platform("linux", "amd64"))
    (2, None)
    >>> arm64.why_not(Platform("linux", "amd64"))
    'amd64 is not one of arm64 → arm/v8 → arm/v7 → arm/v6 → arm/v5'

The fallback vectors (``platformVector``), as ``docs/platform-rules.md`` A4/A5 list them:
``amd64/vN … v2, amd64, 386`` · ``arm/vN … v5`` · ``arm64/v9.x … v9, v8.(x+5) … v8, arm/v8
… v5``. Windows specs also compare ``os.version`` (:mod:`fakeregistry.platforms.windows`,
A6) and ignore ``win32k`` among an image's ``os.features``.

Pure, standard library only.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from fakeregistry.platforms.go import DIGITS, go_atoi
from fakeregistry.platforms.platform import Platform, normalize_arch
from fakeregistry.platforms.windows import RC5, windows_incompatibility, windows_version

__all__ = ["Comparer", "MatcherGroup", "label", "only", "only_strict", "ordered"]


def label(arch: str, variant: str) -> str:
    """``arch/variant``, or ``arch`` alone when there is no variant.

    >>> label("arm", "v7"), label("amd64", "")
    ('arm/v7', 'amd64')
    """
    return f"{arch}/{variant}" if variant else arch


def _trim_v(variant: str) -> str:
    return variant[1:] if variant.startswith("v") else variant  # strings.TrimPrefix(v, "v")


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


def _canonical_level(variant: str, *, minimum: int) -> int | None:
    """``vN`` with N >= minimum written canonically (``v6``, not ``v06``), else None."""
    if not variant.startswith("v") or not DIGITS.fullmatch(variant[1:]):
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
class MatcherGroup:
    """Consecutive matchers of containerd's ``Ordered(...)`` sharing OS, version and features.

    ``strict`` is one ``NewMatcher(spec)``; otherwise the whole ``platformVector(spec)`` of
    ``Only`` (``amd64/vN … v1, 386`` · ``arm/vN … v5`` · ``arm64/v9.x … v8, arm/v8 … v5``).
    Positions are computed, not enumerated, because a variant like ``v999999`` would make Go
    build a vector of a million platforms.

    >>> group = MatcherGroup(Platform("linux", "amd64", "v3"), strict=False, windows=False)
    >>> group.size(), [group.step(i) for i in range(group.size())]
    (4, [('amd64', 'v3'), ('amd64', 'v2'), ('amd64', ''), ('386', '')])
    >>> group.position("amd64", ""), group.position("amd64", "v4")
    (2, None)
    """

    spec: Platform  # normalized
    strict: bool
    windows: bool  # NewMatcher(p) with p.OS == "windows": version matcher and win32k strip
    windows_rule: str = RC5  # whose LTSC floor the version matcher uses (windows.ltsc_floor)

    def _chain(self, floor: int) -> int:
        """How many levels the spec's ``vN`` steps down before *floor* (0: none, or no vN)."""
        n = go_atoi(_trim_v(self.spec.variant))
        return n - floor if n is not None and n > floor else 0

    def size(self) -> int:
        """How many platforms the vector holds (0 for an arm64 variant containerd lacks)."""
        arch = self.spec.architecture
        if self.strict:
            return 1
        if arch == "amd64":
            return self._chain(1) + 2
        if arch == "arm":
            return self._chain(5) + 1
        if arch == "arm64":
            return len(_arm64_steps(self.spec.variant))
        return 1

    def step(self, position: int) -> tuple[str, str]:
        """The (architecture, variant) of vector element *position* (``IndexError`` outside)."""
        if not 0 <= position < self.size():
            raise IndexError(f"{self.spec.format()} has no fallback #{position}")
        arch, variant = self.spec.architecture, self.spec.variant
        if self.strict or (position == 0 and arch != "arm64"):
            return arch, variant
        if arch == "amd64":
            chain = self._chain(1)
            if position > chain:
                return "386", ""
            level = 1 + chain - position
            return "amd64", "" if level == 1 else f"v{level}"
        if arch == "arm":
            return "arm", f"v{5 + self._chain(5) - position}"
        return _arm64_steps(variant)[position]

    def position(self, arch: str, variant: str) -> int | None:
        """Where a normalized candidate (arch, variant) first appears in the vector."""
        head = (self.spec.architecture, self.spec.variant)
        if self.strict:
            return 0 if (arch, variant) == head else None
        if head[0] == "amd64":
            chain = self._chain(1)
            if arch == "amd64":
                if variant == head[1]:
                    return 0
                level = 1 if variant == "" else _canonical_level(variant, minimum=2)
                if level is not None and chain and level <= chain:
                    return 1 + chain - level
                return None
            return chain + 1 if (arch, variant) == ("386", "") else None
        if head[0] == "arm":
            if arch != "arm":
                return None
            if variant == head[1]:
                return 0
            chain = self._chain(5)
            level = _canonical_level(variant, minimum=5)
            if level is not None and chain and level <= 4 + chain:
                return 5 + chain - level
            return None
        if head[0] == "arm64":
            steps = _arm64_steps(head[1])
            return steps.index((arch, variant)) if (arch, variant) in steps else None
        return 0 if (arch, variant) == head else None

    def preview(self, limit: int = 8) -> str:
        """The vector in words, at most *limit* steps: ``arm/v7 → arm/v6 → arm/v5``."""
        size = self.size()
        shown = [label(*self.step(i)) for i in range(min(size, limit))]
        if size > limit:
            shown.append("…")
        return " → ".join(shown) if shown else "nothing"

    def place(self, candidate: Platform, normalized: Platform) -> int | str:
        """*candidate*'s position in the vector when a matcher accepts it, else why none does.

        *normalized* is ``candidate.normalize()`` on the engine's host.
        """
        spec = self.spec
        if normalized.os != spec.os:
            return f"os {normalized.os} is not {spec.os}"
        position = self.position(normalized.architecture, normalized.variant)
        if position is None:
            got = label(normalized.architecture, normalized.variant)
            if not self.strict and spec.architecture == "arm64" and self.size() == 0:
                return (
                    f"{got} not accepted: containerd knows no arm64 variant "
                    f"{spec.variant!r}, so the host matches nothing"
                )
            return f"{got} is not one of {self.preview()}"
        if self.windows:
            host = windows_version(spec.os_version)
            if host != (0, 0, 0) and candidate.os_version:
                why = windows_incompatibility(
                    host, windows_version(candidate.os_version), self.windows_rule
                )
                if why is not None:
                    return f"os.version {candidate.os_version}: {why}"
        features = _candidate_os_features(normalized, windows=self.windows)
        missing = sorted(set(features) - set(spec.os_features))
        if missing:
            return f"os.features {missing} are not among the host's {list(spec.os_features)}"
        return position

    def mismatch(self, candidate: Platform, normalized: Platform) -> str | None:
        """Why containerd's matcher(s) reject *candidate*; ``None`` when one accepts it."""
        place = self.place(candidate, normalized)
        return place if isinstance(place, str) else None


@dataclass(frozen=True, slots=True)
class Comparer:
    """A containerd ``MatchComparer`` built from groups: ``Only``, ``OnlyStrict``, ``Ordered``."""

    name: str
    groups: tuple[MatcherGroup, ...]
    host_os: str  # runtime.GOOS, for candidates with an empty os

    def rank(self, candidate: Platform) -> int | None:
        """Index of the first matcher accepting *candidate* (Ordered.Less order)."""
        normalized = candidate.normalize(host_os=self.host_os)
        offset = 0
        for group in self.groups:
            place = group.place(candidate, normalized)
            if isinstance(place, int):
                return offset + place
            offset += group.size()
        return None

    def why_not(self, candidate: Platform) -> str:
        """Every group's reason for rejecting *candidate*, joined with ``; ``."""
        normalized = candidate.normalize(host_os=self.host_os)
        reasons = [g.mismatch(candidate, normalized) or "" for g in self.groups]
        return "; ".join(r for r in reasons if r)

    def label(self, rank: int) -> str:
        """The platform at *rank* in words (``?`` past the end)."""
        for group in self.groups:
            if rank < group.size():
                return label(*group.step(rank))
            rank -= group.size()
        return "?"


def _matcher_group(
    spec: Platform, *, strict: bool, host_os: str, windows_rule: str
) -> MatcherGroup:
    normalized = spec.normalize(host_os=host_os)
    return MatcherGroup(
        normalized, strict=strict, windows=spec.os == "windows", windows_rule=windows_rule
    )


def only(spec: Platform, host_os: str, *, windows_rule: str = RC5) -> Comparer:
    """``platforms.Only(spec)``: *spec* and every platform it can also run, best first.

    *windows_rule* is the containerd/platforms version whose Windows LTSC floor applies
    (:data:`fakeregistry.platforms.windows.FLOOR_RULES`).
    """
    normalized = spec.normalize(host_os=host_os)
    group = _matcher_group(normalized, strict=False, host_os=host_os, windows_rule=windows_rule)
    return Comparer(f"Only({normalized.format_all()})", (group,), host_os)


def only_strict(spec: Platform, host_os: str, *, windows_rule: str = RC5) -> Comparer:
    """``platforms.OnlyStrict(spec)``: the normalized *spec* alone, no fallbacks.

    >>> only_strict(Platform("linux", "x86_64"), "linux").name
    'OnlyStrict(linux/amd64)'
    """
    normalized = spec.normalize(host_os=host_os)
    group = _matcher_group(normalized, strict=True, host_os=host_os, windows_rule=windows_rule)
    return Comparer(f"OnlyStrict({normalized.format_all()})", (group,), host_os)


def ordered(specs: Sequence[Platform], host_os: str, *, windows_rule: str = RC5) -> Comparer:
    """``platforms.Ordered(specs...)``: each spec exactly, earlier ones preferred."""
    groups = tuple(
        _matcher_group(s, strict=True, host_os=host_os, windows_rule=windows_rule) for s in specs
    )
    names = ", ".join(s.format_all() for s in specs)
    return Comparer(f"Ordered({names})", groups, host_os)
