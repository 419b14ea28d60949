"""The platform an engine looks for on its host: its GOOS/GOARCH and containerd's defaults.

An engine knows its host only as Go does: ``runtime.GOOS``, ``runtime.GOARCH`` and the CPU
variant it detects itself. Given a :class:`~fakeregistry.platforms.platform.Platform` that
describes the host, these say what the engine's defaults come to::

    >>> default_spec(Platform("linux", "aarch64"), amd64_level=False).format()
    'linux/arm64/v8'
    >>> default_spec(Platform("linux", "amd64", "v3"), amd64_level=False).format()
    'linux/amd64'
    >>> default_spec(Platform("linux", "amd64", "v3"), amd64_level=True).format()
    'linux/amd64/v3'
    >>> with_default(Platform("", "arm", "v6"), Platform("linux", "amd64")).format()
    'linux/arm/v6'
"""

from __future__ import annotations

from fakeregistry.platforms.platform import Platform, normalize_arch, normalize_os

__all__ = ["default_spec", "detected_variant", "goarch", "goos", "with_default"]


def goos(host: Platform) -> str:
    """The engine's ``runtime.GOOS`` on *host*."""
    return normalize_os(host.os)


def goarch(host: Platform) -> str:
    """The engine's ``runtime.GOARCH`` on *host*."""
    return normalize_arch(host.architecture, "")[0]


def detected_variant(host: Platform, *, amd64_level: bool) -> str:
    """The variant an engine itself would detect on *host* (containerd's ``cpuVariant()``).

    Engines detect arm/arm64 variants (and moby the amd64 level); any other variant given in
    the host is something no engine could know, so it is dropped. An arm64 host without one
    is ``v8``: every detection path (cpuinfo, ``uname -m``, Windows/macOS/FreeBSD) says so.
    """
    arch = goarch(host)
    variant = host.variant.lower()
    if arch == "arm64":
        return variant or "v8"
    if arch == "arm":
        return variant or ("v7" if goos(host) in ("windows", "darwin") else "")
    if arch == "amd64" and amd64_level:
        return variant
    return ""


def default_spec(host: Platform, *, amd64_level: bool) -> Platform:
    """containerd's ``DefaultSpec()`` on *host* (moby's ``maximumSpec()`` with amd64_level).

    Windows adds ``os.version`` as ``major.minor.build`` (and the host's declared
    ``os.features``); other OSes carry neither.
    """
    os_name = goos(host)
    variant = detected_variant(host, amd64_level=amd64_level)
    if os_name == "windows":
        version = ".".join(host.os_version.split(".")[:3])
        return Platform(os_name, goarch(host), variant, version, host.os_features)
    return Platform(os_name, goarch(host), variant)


def with_default(requested: Platform | None, default: Platform) -> Platform:
    """moby ``withDefault``: missing OS from the host; missing arch (and variant) from the host."""
    if requested is None:
        return default
    p = requested
    if not p.os:
        p = Platform(default.os, p.architecture, p.variant, p.os_version, p.os_features)
    if not p.architecture:
        p = Platform(p.os, default.architecture, default.variant, p.os_version, p.os_features)
    return p
