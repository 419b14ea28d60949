"""fakeregistry's own strict selector, ``full``: moby's fallbacks, and *every* field counts.

Windows ``os.version`` (A6), other OSes' numeric ``os.version``, ``os.features`` and CPU
``features`` must all be offered by the host; attestation entries are never picked. Among
acceptable entries: the better fallback first, then the newer Windows build and revision,
then more ``os.features``, then more CPU ``features``::

    >>> from fakeregistry.engine.index import load_index
    >>> _, entries = load_index({"manifests": [
    ...     {"digest": "sha256:avx", "platform": {"os": "linux", "architecture": "amd64",
    ...                                           "features": ["avx512f"]}}]})
    >>> full(entries, Platform("linux", "amd64"), None, "").rejected
    {0: "CPU features ['avx512f'] are not offered by the host"}
"""

from __future__ import annotations

from fakeregistry.engine.hostspec import default_spec, goos, with_default
from fakeregistry.engine.index import Entry
from fakeregistry.engine.selectors.outcome import Outcome, moby_message
from fakeregistry.platforms.go import DIGITS, go_atoi
from fakeregistry.platforms.match import MatcherGroup, label
from fakeregistry.platforms.platform import Platform
from fakeregistry.platforms.windows import (
    WindowsVersion,
    windows_incompatibility,
    windows_version,
)
from fakeregistry.rules.annotations import ATTESTATION_ANNOTATION, ATTESTATION_VALUE

__all__ = ["full"]


def _numeric_version(text: str) -> tuple[int, ...] | None:
    parts = text.split(".")
    if not all(DIGITS.fullmatch(p) for p in parts):
        return None
    return tuple(int(p) for p in parts)


def full(
    entries: list[Entry], host: Platform, requested: Platform | None, media_type: str
) -> Outcome:
    """Rank *entries* for *host* with every platform field checked."""
    os_name = goos(host)
    maximum = default_spec(host, amd64_level=True)
    base = Platform(
        maximum.os,
        maximum.architecture,
        maximum.variant,
        host.os_version,
        host.os_features,
        host.features,
    )
    if requested is not None:
        filled = with_default(requested, base)
        base = Platform(
            filled.os,
            filled.architecture,
            filled.variant,
            requested.os_version or host.os_version,
            requested.os_features or host.os_features,
            host.features,
        )
    wanted = base.normalize(host_os=os_name)
    group = MatcherGroup(wanted, strict=False, windows=False)
    host_windows = windows_version(wanted.os_version) if wanted.os == "windows" else None
    keyed: list[tuple[tuple[int, ...], Entry, str]] = []
    rejected: dict[int, str] = {}
    for entry in entries:
        if entry.is_attestation:
            rejected[entry.position] = (
                f"attestation manifest ({ATTESTATION_ANNOTATION}={ATTESTATION_VALUE}), "
                "not an image for any platform"
            )
            continue
        if entry.platform is None:
            keyed.append(((1,), entry, "no platform: kept, tried last"))
            continue
        c = entry.platform
        n = c.normalize(host_os=os_name)
        rank = group.place(c, n)
        if isinstance(rank, str):
            rejected[entry.position] = rank
            continue
        why = _extra_mismatch(c, wanted, host_windows)
        if why is not None:
            rejected[entry.position] = why
            continue
        build = (0, 0)
        if host_windows is not None and c.os_version:
            version = c.os_version.split(".")
            revision = go_atoi(version[3]) if len(version) > 3 else None
            build = (windows_version(c.os_version)[2], revision or 0)
        key = (0, rank, -build[0], -build[1], -len(n.os_features), -len(set(c.features)))
        what = label(*group.step(rank))
        note = "exact match" if rank == 0 else f"fallback #{rank} ({what})"
        keyed.append((key, entry, f"{note}; every field offered by the host"))
    keyed.sort(key=lambda item: item[0])
    return Outcome(
        wanted,
        [(entry, why) for _, entry, why in keyed],
        rejected,
        moby_message(wanted),
        {},
        f"every field of {wanted.format_all()}; {group.preview()}",
    )


def _extra_mismatch(
    c: Platform, wanted: Platform, host_windows: WindowsVersion | None
) -> str | None:
    """The fields containerd ignores but ``full`` checks: OS versions and CPU features."""
    if host_windows is not None:
        if c.os_version and host_windows != (0, 0, 0):
            why = windows_incompatibility(host_windows, windows_version(c.os_version))
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
