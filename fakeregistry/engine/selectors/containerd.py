"""containerd's selectors: ``platforms.Default()`` (``client.Pull`` without a platform: ctr,
the CRI plugin), ``platforms.DefaultStrict()`` (what nerdctl uses when no platform is given),
and moby's containerd image store, which pulls through the containerd client.

The containerd profiles follow the containerd release line, containerd/platforms
v1.0.0-rc.4 (containerd 2.x); moby ``master`` vendors v1.0.0-rc.5, whose Windows LTSC floor
differs (``docs/platform-rules.md`` A6).

    >>> from fakeregistry.engine.index import load_index
    >>> _, entries = load_index({"manifests": [
    ...     {"digest": "sha256:i386", "platform": {"os": "linux", "architecture": "386"}}]})
    >>> containerd(entries, Platform("linux", "amd64"), None, "").accepted[0][1]
    'fallback #1 (386) of Only(linux/amd64)'
    >>> containerd_strict(entries, Platform("linux", "amd64"), None, "").rejected
    {0: '386 is not one of amd64'}
"""

from __future__ import annotations

from fakeregistry.engine.hostspec import default_spec, goos
from fakeregistry.engine.index import Entry
from fakeregistry.engine.selectors.outcome import (
    Outcome,
    docker_messages,
    moby_message,
    rejection,
    sorted_by_comparer,
)
from fakeregistry.platforms.match import only, only_strict, ordered
from fakeregistry.platforms.platform import Platform
from fakeregistry.platforms.windows import RC4, RC5

__all__ = ["containerd", "containerd_strict", "moby_containerd_store"]

CONTAINERD_RULE = RC4
"""The containerd/platforms version the containerd profiles follow (containerd 2.x)."""
MOBY_RULE = RC5
"""The containerd/platforms version moby ``master`` vendors."""

_NOT_FOUND = "no match for platform in manifest: not found"


def _no_platform(entry: Entry) -> bool:
    return entry.platform is None  # a nil *Platform in containerd's ocispec.Descriptor


def containerd(
    entries: list[Entry], host: Platform, requested: Platform | None, media_type: str
) -> Outcome:
    """``platforms.Default()``: ``Only(DefaultSpec())`` with no amd64 level on Linux,
    ``Ordered(host, linux/arch)`` on macOS/FreeBSD, the exact host with the newest
    ``os.version`` first on Windows; platform-less entries last
    (``core/images/handlers.go: FilterPlatforms/LimitManifests``). With a requested platform,
    ``Only(requested)``."""
    os_name = goos(host)
    spec = default_spec(host, amd64_level=False)
    if requested is not None:
        # client.Pull, one platform: Only(Parse(s))
        comparer = only(requested, os_name, windows_rule=CONTAINERD_RULE)
    elif os_name == "windows":
        return _containerd_windows(entries, spec)
    elif os_name == "darwin":
        comparer = ordered(
            [spec, Platform("linux", spec.architecture)], os_name, windows_rule=CONTAINERD_RULE
        )
    elif os_name == "freebsd":
        comparer = ordered(
            [spec, Platform("linux", spec.architecture, spec.variant)],
            os_name,
            windows_rule=CONTAINERD_RULE,
        )
    else:
        comparer = only(spec, os_name, windows_rule=CONTAINERD_RULE)
    accepted, rejected = sorted_by_comparer(entries, comparer, platformless=_no_platform)
    wanted = requested.normalize(host_os=os_name) if requested is not None else spec
    return Outcome(
        wanted,
        accepted,
        rejected,
        _NOT_FOUND,
        {},
        f"{comparer.name}: " + " | ".join(g.preview() for g in comparer.groups),
    )


def _containerd_windows(entries: list[Entry], spec: Platform) -> Outcome:
    """defaults_windows.go ``Default()``: ``windowsMatchComparer{NewMatcher(DefaultSpec())}``.

    No 386 fallback; among matches the greater ``os.version`` *string* wins (rc.2+), so
    ``10.0.26100.2605`` beats ``10.0.26100.10``.
    """
    comparer = only_strict(spec, "windows", windows_rule=CONTAINERD_RULE)
    outcome = Outcome(spec, message=_NOT_FOUND)
    matched: list[Entry] = []
    platformless: list[Entry] = []
    for entry in entries:
        if entry.platform is None:
            platformless.append(entry)
        elif comparer.rank(entry.platform) is None:
            outcome.rejected[entry.position] = rejection(entry, comparer.why_not(entry.platform))
        else:
            matched.append(entry)
    matched.sort(key=lambda e: e.platform_or_zero().os_version, reverse=True)  # stable
    outcome.accepted = [(e, "matches; greatest os.version string first") for e in matched]
    outcome.accepted += [(e, "no platform: kept by the filter, tried last") for e in platformless]
    outcome.how = f"windowsMatchComparer({spec.format_all()})"
    return outcome


def containerd_strict(
    entries: list[Entry], host: Platform, requested: Platform | None, media_type: str
) -> Outcome:
    """``platforms.OnlyStrict`` of the requested platform or ``DefaultSpec()``: the normalized
    platform only — no ``386`` on amd64, no older arm variants."""
    os_name = goos(host)
    spec = requested if requested is not None else default_spec(host, amd64_level=False)
    comparer = only_strict(spec, os_name, windows_rule=CONTAINERD_RULE)
    accepted, rejected = sorted_by_comparer(entries, comparer, platformless=_no_platform)
    return Outcome(
        spec.normalize(host_os=os_name), accepted, rejected, _NOT_FOUND, {}, comparer.name
    )


def moby_containerd_store(
    entries: list[Entry], host: Platform, requested: Platform | None, media_type: str
) -> Outcome:
    """moby with the containerd image store (``daemon/containerd/image_pull.go``), on every OS.

    The pull platform is the request, else ``hostPlatformSpec()`` — ``DefaultSpec()`` plus the
    amd64 level (and, on Windows, the host's ``os.version``); the pull goes through the
    containerd client with ``WithPlatform(FormatAll(p))``, i.e. ``Only(Parse(...))``: the
    fallbacks of A4 (Windows included, 386 too), containerd/platforms rc.5's Windows floor, and
    containerd's platform-less rule (only a missing ``platform`` is platform-less). No match:
    ``no matching manifest for <FormatAll(p)> in the manifest list entries: <containerd's>``.
    """
    os_name = goos(host)
    pull_platform = requested if requested is not None else default_spec(host, amd64_level=True)
    comparer = only(pull_platform, os_name, windows_rule=MOBY_RULE)
    accepted, rejected = sorted_by_comparer(entries, comparer, platformless=_no_platform)
    message = f"{moby_message(pull_platform)}: {_NOT_FOUND}"
    return Outcome(
        pull_platform.normalize(host_os=os_name),
        accepted,
        rejected,
        message,
        docker_messages(message),
        f"{comparer.name}: " + " | ".join(g.preview() for g in comparer.groups),
    )
