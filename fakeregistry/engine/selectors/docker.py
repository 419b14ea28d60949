"""Docker's selectors: Docker 1.10-18.05, Docker 18.06-20.10, moby (Docker 23+), and the
Windows daemon's ``filterManifests`` that the last two use on Windows.

    >>> from fakeregistry.engine.index import load_index
    >>> _, entries = load_index({"manifests": [
    ...     {"digest": "sha256:v7", "platform": {"os": "linux", "architecture": "arm",
    ...                                          "variant": "v7"}}]})
    >>> moby(entries, Platform("linux", "arm64"), None, "").accepted[0][1]
    'fallback #2 (arm/v7) of Only(linux/arm64)'
    >>> docker_1_10(entries, Platform("linux", "arm64"), None, "").message
    'no supported platform found in manifest list'
"""

from __future__ import annotations

from fakeregistry.engine.hostspec import default_spec, goarch, goos, with_default
from fakeregistry.engine.index import Entry
from fakeregistry.engine.selectors.outcome import (
    Outcome,
    docker_messages,
    moby_message,
    rejection,
    sorted_by_comparer,
)
from fakeregistry.platforms.go import go_atoi
from fakeregistry.platforms.match import only
from fakeregistry.platforms.platform import Platform, normalize_arch, normalize_os
from fakeregistry.platforms.windows import windows_version

__all__ = ["docker_1_10", "docker_18_09", "moby", "windows_daemon"]


def docker_1_10(
    entries: list[Entry], host: Platform, requested: Platform | None, media_type: str
) -> Outcome:
    """Docker 1.10-18.05 (``distribution/pull_v2.go: pullManifestList``): the first entry whose
    ``architecture``/``os`` strings equal the daemon's GOARCH/GOOS."""
    if requested is not None:
        raise ValueError("docker-1.10 has no --platform: pass only the host")
    os_name, arch = goos(host), goarch(host)
    outcome = Outcome(Platform(os_name, arch))
    for entry in entries:
        p = entry.platform_or_zero()
        if p.architecture == arch and p.os == os_name:
            outcome.accepted.append((entry, f"os/architecture are exactly {os_name}/{arch}"))
        else:
            outcome.rejected[entry.position] = rejection(
                entry,
                f"{p.os or '<no os>'}/{p.architecture or '<no architecture>'} is not literally "
                f"{os_name}/{arch}",
            )
    outcome.message = "no supported platform found in manifest list"
    outcome.messages = docker_messages(
        outcome.message,
        {"docker-17.04": f"no matching manifest for {os_name}/{arch} in the manifest list entries"},
    )
    outcome.how = f"first entry in list order whose os/architecture are {os_name}/{arch}"
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


def docker_18_09(
    entries: list[Entry], host: Platform, requested: Platform | None, media_type: str
) -> Outcome:
    """Docker 18.06-20.10 (``distribution/pull_v2_unix.go: filterManifests``): the first entry
    equal to the daemon platform once both are normalized (containerd 1.2-1.5 aliases); an
    arm daemon with no such entry takes any ``arm`` entry."""
    os_name = goos(host)
    default = default_spec(host, amd64_level=False)
    shown = requested if requested is not None and requested.os else default
    message = f"no matching manifest for {shown.format()} in the manifest list entries"
    if os_name == "windows":
        return windows_daemon(entries, host, requested, message)
    wanted = with_default(requested, default)
    want = _legacy_normalize(wanted, os_name)
    outcome = Outcome(Platform(*want))
    for entry in entries:
        got = _legacy_normalize(entry.platform_or_zero(), os_name)
        if got == want:
            outcome.accepted.append((entry, f"normalizes to {Platform(*want).format()}"))
        else:
            outcome.rejected[entry.position] = rejection(
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
    outcome.messages = docker_messages(message)
    outcome.how = f"first entry in list order equal to {Platform(*want).format()}"
    return outcome


def windows_daemon(
    entries: list[Entry], host: Platform, requested: Platform | None, message: str
) -> Outcome:
    """moby ``pull_v2_windows.go: filterManifests`` (Docker 18.06 onwards on Windows).

    Keep entries whose architecture is GOARCH (literally) and whose OS — or the requested
    OS — is Windows; drop Windows images of a newer build than the host
    (``checkImageCompatibility``); then stable-sort Windows first and entries of the host's
    exact ``major.minor.build`` before the others.
    """
    arch = goarch(host)
    host_version = windows_version(host.os_version)
    prefix = ".".join(str(n) for n in host_version)
    outcome = Outcome(default_spec(host, amd64_level=False), message=message)
    kept: list[tuple[Entry, bool, bool]] = []
    for entry in entries:
        p = entry.platform_or_zero()
        if p.architecture != arch:
            outcome.rejected[entry.position] = rejection(
                entry, f"architecture {p.architecture or '<none>'} is not {arch}"
            )
            continue
        os_name = requested.os if requested is not None and requested.os else p.os
        if os_name.lower() != "windows":  # image.CheckOS: strings.EqualFold(runtime.GOOS, os)
            outcome.rejected[entry.position] = rejection(
                entry, f"operating system {os_name or '<none>'} is not supported"
            )
            continue
        is_windows = p.os.lower() == "windows"
        if is_windows:
            parts = p.os_version.split(".")
            build = go_atoi(parts[2]) if len(parts) >= 3 else None
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
    outcome.messages = docker_messages(message)
    outcome.how = f"{arch} entries a {prefix} Windows host can run, its own build first"
    return outcome


def _by_version_less(a: tuple[Entry, bool, bool], b: tuple[Entry, bool, bool]) -> bool:
    return (a[1] and not b[1]) or (a[2] and not b[2])


def moby(
    entries: list[Entry], host: Platform, requested: Platform | None, media_type: str
) -> Outcome:
    """Docker 23 to today (``daemon/internal/distribution/pull_v2_unix.go``):
    ``platforms.Only(host)`` where the host includes the amd64 level (``maximumSpec()``),
    best fallback first, platform-less entries last; Windows: :func:`windows_daemon`."""
    os_name = goos(host)
    default = default_spec(host, amd64_level=False)
    maximum = default_spec(host, amd64_level=True)
    # noMatchesErr: FormatAll(requested), else FormatAll(platforms.DefaultSpec()) — the
    # DefaultSpec has no amd64 level even though the matching used one.
    shown = requested if requested is not None and requested.os else default
    message = moby_message(shown)
    if os_name == "windows":
        return windows_daemon(entries, host, requested, message)
    wanted = with_default(requested, maximum).normalize(host_os=os_name)
    comparer = only(wanted, os_name)
    accepted, rejected = sorted_by_comparer(
        entries, comparer, platformless=lambda e: e.zero_platform
    )
    # moby's containerd image store (Docker 24+, default for new installs since 29): the
    # pull platform is the request or hostPlatformSpec() (DefaultSpec + amd64 level).
    store = requested if requested is not None else maximum
    return Outcome(
        wanted,
        accepted,
        rejected,
        message,
        docker_messages(
            message,
            {
                "containerd-store": f"{moby_message(store)}: no match for platform in manifest: "
                "not found"
            },
        ),
        f"{comparer.name}: {comparer.groups[0].preview()}",
    )
