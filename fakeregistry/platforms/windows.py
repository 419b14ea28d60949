"""Which Windows container images a Windows host can run, by ``os.version`` (A6).

Windows containers share the host's kernel, so an image built for one Windows build does not
run on just any other. containerd decides with ``checkWindowsHostAndContainerCompat``
(containerd/platforms ``platform_windows_compat.go``), and moby's Windows puller with its own
simpler rule (no image newer than the host; engine/selectors/docker.py). The rules, as
``docs/platform-rules.md`` A6 states them:

- an empty or unparsable host version, or an empty image version, accepts everything;
- major.minor must agree;
- hosts before ltsc2022 (build 20348) need the exact build;
- newer hosts run builds from an LTSC floor up to their own (revisions never matter). The
  floor is where containerd/platforms versions differ (:data:`FLOOR_RULES`): v1.0.0-rc.4
  (containerd 2.x, Docker 29.x) takes the last LTSC strictly below the host, v1.0.0-rc.5
  (moby ``master``) the LTSC before the newest one at or below it. Only hosts newer than
  26100 tell them apart: a build-26200 host runs 20348 images under rc.5, not under rc.4.

    >>> windows_version("10.0.20348.2340")
    (10, 0, 20348)
    >>> windows_incompatibility((10, 0, 20348), (10, 0, 26100))
    'a build 20348 host runs builds 20348 to 20348 (ltsc2022+ stable ABI)'

Pure, standard library only.
"""

from __future__ import annotations

from fakeregistry.platforms.go import go_parse_uint

__all__ = [
    "FLOOR_RULES",
    "LTSC2019",
    "LTSC2022",
    "LTSC2025",
    "RC4",
    "RC5",
    "WindowsVersion",
    "ltsc_floor",
    "windows_compatible",
    "windows_incompatibility",
    "windows_version",
]

# Windows build numbers: rs5 = ltsc2019, 21H2 server = ltsc2022, 24H2/25H1 server = ltsc2025.
LTSC2019, LTSC2022, LTSC2025 = 17763, 20348, 26100
# compatLTSCReleases ("Every release after WS 2022 will support the previous ltsc container
# image"), sorted ascending.
_COMPAT_LTSC_RELEASES = (LTSC2022, LTSC2025)

# (major, minor, build); (0, 0, 0) is the "empty" version.
WindowsVersion = tuple[int, int, int]


def windows_version(text: str) -> WindowsVersion:
    """``getWindowsOSVersion``: ``major.minor.build[.anything]``; zeros when unusable.

    Needs two dots; major and minor must fit uint8, build uint16. ``(0, 0, 0)`` is the
    "empty" version, which containerd treats as "no version constraint".

    >>> windows_version("10.0.17763"), windows_version("10.0"), windows_version("10.0.70000")
    ((10, 0, 17763), (0, 0, 0), (0, 0, 0))
    """
    if text.count(".") < 2:
        return (0, 0, 0)
    major, _, rest = text.partition(".")
    minor, _, rest = rest.partition(".")
    build = rest.partition(".")[0]
    values = (go_parse_uint(major, 8), go_parse_uint(minor, 8), go_parse_uint(build, 16))
    if values[0] is None or values[1] is None or values[2] is None:
        return (0, 0, 0)
    return (values[0], values[1], values[2])


RC4 = "v1.0.0-rc.4"
"""containerd/platforms v1.0.0-rc.4: containerd 2.x, Docker 29.x (and rc.2's floor)."""
RC5 = "v1.0.0-rc.5"
"""containerd/platforms v1.0.0-rc.5: moby ``master``."""
FLOOR_RULES = (RC4, RC5)
"""The containerd/platforms versions whose LTSC floor :func:`ltsc_floor` knows."""


def ltsc_floor(host_build: int, rule: str = RC5) -> int:
    """The oldest build a Windows host of *host_build* (20348 or later) runs, by *rule*.

    >>> ltsc_floor(26200, RC4), ltsc_floor(26200, RC5), ltsc_floor(26100, RC4)
    (26100, 20348, 20348)
    """
    if rule == RC4:
        # platform_windows_compat.go (rc.2, rc.4): the latest LTSC strictly below the host.
        for release in reversed(_COMPAT_LTSC_RELEASES):
            if host_build > release:
                return release
        return LTSC2022
    if rule != RC5:
        raise ValueError(f"unknown Windows floor rule {rule!r}; known: {', '.join(FLOOR_RULES)}")
    # rc.5: the LTSC *before* the largest LTSC <= host build (the first LTSC is its own floor).
    for i in range(len(_COMPAT_LTSC_RELEASES) - 1, -1, -1):
        if host_build >= _COMPAT_LTSC_RELEASES[i]:
            return _COMPAT_LTSC_RELEASES[i - 1] if i > 0 else _COMPAT_LTSC_RELEASES[i]
    return LTSC2022


def windows_incompatibility(
    host: WindowsVersion, image: WindowsVersion, rule: str = RC5
) -> str | None:
    """Why an image of Windows version *image* cannot run on *host*; ``None`` if it can.

    *rule* picks the LTSC floor (:func:`ltsc_floor`)::

        >>> windows_incompatibility((10, 0, 26200), (10, 0, 20348), RC4)
        'a build 26200 host runs builds 26100 to 26200 (ltsc2022+ stable ABI, v1.0.0-rc.4)'

    >>> windows_incompatibility((10, 0, 26100), (10, 0, 20348)) is None
    True
    >>> windows_incompatibility((10, 0, 17763), (10, 0, 17763)) is None
    True
    >>> windows_incompatibility((10, 0, 17763), (6, 3, 9600))
    'Windows 6.3 images do not run on a Windows 10.0 host'
    """
    if host[:2] != image[:2]:
        return (
            f"Windows {image[0]}.{image[1]} images do not run on a Windows {host[0]}.{host[1]} host"
        )
    if host[2] < LTSC2022:
        if host[2] != image[2]:
            return f"a build {host[2]} host (before ltsc2022) runs only build {host[2]} images"
        return None
    floor = ltsc_floor(host[2], rule)
    if not floor <= image[2] <= host[2]:
        suffix = "" if rule == RC5 else f", {rule}"
        return (
            f"a build {host[2]} host runs builds {floor} to {host[2]} "
            f"(ltsc2022+ stable ABI{suffix})"
        )
    return None


def windows_compatible(host_version: str, image_version: str, rule: str = RC5) -> bool:
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
    >>> windows_compatible("10.0.26200", "10.0.20348")  # rc.5's floor is 20348
    True
    >>> windows_compatible("10.0.26200", "10.0.20348", RC4)  # rc.4's is 26100
    False
    """
    host = windows_version(host_version)
    if host == (0, 0, 0) or not image_version:
        return True
    return windows_incompatibility(host, windows_version(image_version), rule) is None
