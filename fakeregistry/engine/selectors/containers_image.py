"""containers/image's selectors: skopeo, and podman/buildah (libimage), each in two versions.

containers/image (``internal/pkg/platform/platform_matcher.go``,
``internal/manifest/{docker_schema2_list,oci_index}.go``) builds an ordered list of exact
``{os, arch, variant}`` wanted platforms (:func:`wanted_platforms`); no aliases and no
cross-architecture fallback. A Docker list is searched wanted-platform first; an OCI index
ranks by wanted position (then, in newer versions, zstd/zstd:chunked annotations), then list
order, and accepts platform-less entries last::

    >>> [p.format() for p in wanted_platforms(Platform("linux", "arm64", "v8"), None)]
    ['linux/arm64/v8', 'linux/arm64']
    >>> [p.format() for p in wanted_platforms(Platform("linux", "arm", "v7"), None)]
    ['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5', 'linux/arm']

The tools differ in what they do with the platform the user asks for:

- **skopeo** (``--override-os/--override-arch/--override-variant``) hands the strings to
  containers/image as given: ``armhf`` matches nothing, ``arm`` means an empty variant first.
- **podman and buildah** (containers/common ``libimage``: ``copier.go`` and
  ``libimage/platform``'s ``Normalize``) first run containerd's ``Normalize`` over the
  requested os/arch/variant, then ``Parse`` its ``os/arch[/variant]`` text
  (:func:`libimage_normalize`): ``arm`` and ``armhf`` become arm/v7, ``armel`` arm/v6,
  ``aarch64`` arm64, ``arm64/8`` arm64/v8; a variant ``Normalize`` would empty is kept.

And the library versions differ (:class:`Library`):

- **5.23.1** (Debian 12's skopeo 1.9.3 and podman 4.3.1; containers/common 0.50.1 with
  containerd 1.6's ``platforms``): no amd64 levels at all, variants compared as exact strings
  (``amd64/v1`` is not ``amd64``), no compression preference, macOS detects no variant.
- **current** (``go.podman.io/image/v5``): amd64 walks ``v4 → v3 → v2`` then the baseline,
  ``v1`` equals empty, zstd and zstd:chunked instances preferred in OCI indexes, macOS
  assumes arm64/v8 and arm/v7. The host's amd64 level is detected only with
  ``SystemContext.DetectPlatformVariant``, which neither tool sets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fakeregistry.engine.hostspec import goarch, goos
from fakeregistry.engine.index import Entry
from fakeregistry.engine.selectors.outcome import Outcome, rejection
from fakeregistry.platforms.go import go_quote
from fakeregistry.platforms.platform import Platform, PlatformError, normalize_arch, normalize_os
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import ZSTD_ANNOTATION, ZSTD_CHUNKED_SENTINEL_ANNOTATION

__all__ = [
    "CURRENT",
    "V5_23",
    "ContainersImage",
    "Library",
    "containers_image",
    "libimage_normalize",
    "literal_platform",
    "podman",
    "podman_4_3",
    "skopeo",
    "skopeo_1_9",
    "wanted_platforms",
]


@dataclass(frozen=True, slots=True)
class Library:
    """One version of containers/image (with the containerd ``Normalize`` libimage used)."""

    name: str
    amd64_levels: bool
    """``compatibility["amd64"] = v4, v3, v2`` and ``normalizeAmd64Variant`` (v1 == "")."""
    compression_preference: bool
    """OCI index ``isPreferredOver``: zstd, then zstd:chunked sentinel, before list order."""
    macos_variants: bool
    """``getCPUVariantDarwinWindows``: macOS assumes arm64/v8 and arm/v7 as Windows does."""
    quoted_message: bool
    """The "no image found" error quotes architecture and OS (``%q``) besides the variant."""
    normalize_arch: Callable[[str, str], tuple[str, str]]
    """The containerd ``normalizeArch`` libimage's ``Normalize`` runs."""


def _normalize_arch_1_6(architecture: str, variant: str) -> tuple[str, str]:
    """containerd 1.6's ``normalizeArch`` (vendored by containers/common 0.50): today's, except
    that arm64 folds only ``8`` and ``v8`` (no ``v8.0``, and ``9``/``v9.0`` stay)."""
    arch, var = architecture.lower(), variant.lower()
    if arch in ("aarch64", "arm64"):
        return "arm64", "" if var in ("8", "v8") else var
    return normalize_arch(arch, var)


V5_23 = Library(
    "containers/image v5.23.1",
    amd64_levels=False,
    compression_preference=False,
    macos_variants=False,
    quoted_message=False,
    normalize_arch=_normalize_arch_1_6,
)
CURRENT = Library(
    "go.podman.io/image/v5 (amd64 levels)",
    amd64_levels=True,
    compression_preference=True,
    macos_variants=True,
    quoted_message=True,
    normalize_arch=normalize_arch,
)

_ARM_COMPATIBILITY = {"arm": ("v8", "v7", "v6", "v5"), "arm64": ("v8",)}
_AMD64_COMPATIBILITY = ("v4", "v3", "v2")
_DETECTED = frozenset({"v3", "v4", "v5", "v6", "v7", "v8"})


def _compatibility(library: Library, arch: str) -> tuple[str, ...] | None:
    """platform_matcher.go ``compatibility[arch]``: variants, most capable first."""
    if arch == "amd64":
        return _AMD64_COMPATIBILITY if library.amd64_levels else None
    return _ARM_COMPATIBILITY.get(arch)


def _variant(library: Library, arch: str, variant: str) -> str:
    if library.amd64_levels and arch == "amd64" and variant == "v1":
        return ""  # normalizeAmd64Variant
    return variant


def wanted_platforms(
    host: Platform, requested: Platform | None, library: Library = CURRENT
) -> list[Platform]:
    """containers/image ``WantedPlatforms``: exact ``{os, arch, variant}``, most wanted first.

    *requested* holds ``SystemContext.OSChoice``, ``ArchitectureChoice`` and ``VariantChoice``
    (empty fields are not chosen).
    """
    os_host, arch_host = goos(host), goarch(host)
    chosen_arch = requested.architecture if requested is not None else ""
    if chosen_arch:
        arch, variant = chosen_arch, ""  # an overridden architecture is never auto-detected
    else:
        arch = arch_host
        if os_host == "windows" or (os_host == "darwin" and library.macos_variants):
            variant = {"arm64": "v8", "arm": "v7"}.get(arch_host, "")
        elif arch_host in ("arm", "arm64") and os_host == "linux":
            detected = host.variant.lower()
            variant = detected if detected in _DETECTED else ""
        else:
            variant = ""  # amd64 levels only with SystemContext.DetectPlatformVariant (off)
    if requested is not None and requested.variant:
        variant = requested.variant
    variant = _variant(library, arch, variant)
    os_name = requested.os if requested is not None and requested.os else os_host
    order = _compatibility(library, arch)
    if variant:
        variants = list(order[order.index(variant) :]) if order and variant in order else [variant]
        variants.append("")
    else:
        variants = [""]
        if arch != "amd64" and order:
            variants.extend(order)
    return [Platform(os_name, arch, v) for v in variants]


def literal_platform(text: str) -> Platform:
    """A requested platform for the containers/image tools: ``os/arch[/variant]``, as given.

    These are the three flags (``--os/--arch/--variant``, skopeo's ``--override-*``); nothing
    is normalised, and an empty part is a flag not given::

        >>> p = literal_platform("linux/armhf")
        >>> p.os, p.architecture, p.variant
        ('linux', 'armhf', '')
        >>> literal_platform("/arm64/").architecture
        'arm64'
    """
    parts = text.split("/")
    if len(parts) not in (2, 3):
        raise PlatformError(
            f"{go_quote(text)}: the containers/image tools take os/arch[/variant] "
            "(--os, --arch, --variant), each as given"
        )
    return Platform(parts[0], parts[1], parts[2] if len(parts) == 3 else "")


def libimage_normalize(requested: Platform, host: Platform, library: Library = CURRENT) -> Platform:
    """containers/common ``libimage/platform.Normalize(os, arch, variant)``.

    containerd's ``Normalize`` of the three (an empty OS becomes GOOS), the raw variant put
    back if that emptied it, then ``Parse`` of ``os/arch[/variant]`` (GOOS/GOARCH filling
    empty parts); the OS and architecture are taken from the parse only where the caller gave
    them, the variant always. If the parse fails, the input is returned unchanged::

        >>> host = Platform("linux", "amd64")
        >>> libimage_normalize(Platform("linux", "armhf"), host).format()
        'linux/arm/v7'
        >>> libimage_normalize(Platform("linux", "arm64", "8"), host).format()
        'linux/arm64/v8'
        >>> libimage_normalize(Platform("", "aarch64"), host).architecture
        'arm64'
    """
    os_host, arch_host = goos(host), goarch(host)
    raw_os, raw_arch, raw_variant = requested.os, requested.architecture, requested.variant
    n_os = normalize_os(raw_os, host_os=os_host)
    n_arch, n_variant = library.normalize_arch(raw_arch, raw_variant)
    if not n_variant and raw_variant:
        n_variant = raw_variant
    text = f"{n_os or os_host}/{n_arch or arch_host}" + (f"/{n_variant}" if n_variant else "")
    try:
        parsed = Platform.parse(text, host=host)
    except PlatformError:
        return requested  # "Error normalizing platform": the raw values are used
    # Platform.parse is today's Parse; redo its architecture step with this library's
    # normalizeArch (the same except arm64's v8.0/v9 folding).
    parts = text.split("/")
    if len(parts) == 3:
        arch, variant = library.normalize_arch(parts[1], parts[2])
        if arch == "arm64" and not variant:
            variant = "v8"
    else:
        arch, variant = library.normalize_arch(parts[1], "")
        if arch == "arm" and variant == "v7":
            variant = ""
    return Platform(
        parsed.os if raw_os else raw_os,
        arch if raw_arch else raw_arch,
        variant,
        requested.os_version,
        requested.os_features,
        requested.features,
    )


def _matches(library: Library, image: Platform, wanted: Platform) -> bool:
    return (
        image.architecture == wanted.architecture
        and image.os == wanted.os
        and _variant(library, image.architecture, image.variant)
        == _variant(library, wanted.architecture, wanted.variant)
    )


@dataclass(frozen=True, slots=True)
class ContainersImage:
    """A containers/image selector: one :class:`Library`, with or without libimage."""

    library: Library
    libimage: bool
    """podman/buildah: the request goes through :func:`libimage_normalize` first."""

    def __call__(
        self, entries: list[Entry], host: Platform, requested: Platform | None, media_type: str
    ) -> Outcome:
        """The first wanted platform an entry is exactly, with containers/image's tie-breaks."""
        library = self.library
        choice = requested
        if requested is not None and self.libimage:
            choice = libimage_normalize(requested, host, library)
        wanted = wanted_platforms(host, choice, library)
        first = wanted[0]
        is_list = media_type == mt.DOCKER_MANIFEST_LIST
        kind = "manifest list" if is_list else "image index"
        quoted = (
            f"no image found in {kind} for architecture {go_quote(first.architecture)}, "
            f"variant {go_quote(first.variant)}, OS {go_quote(first.os)}"
        )
        bare = (
            f"no image found in {kind} for architecture {first.architecture}, "
            f"variant {go_quote(first.variant)}, OS {first.os}"
        )
        outcome = Outcome(first)
        outcome.message = quoted if library.quoted_message else bare
        outcome.messages = {"containers-image-5.0": bare, "containers-image-current": quoted}
        how = "wanted platforms " + " → ".join(w.format() for w in wanted)
        if choice is not None and choice != requested and requested is not None:
            how = f"libimage normalized {_flags(requested)} to {_flags(choice)}; {how}"
        outcome.how = how
        prefer = library.compression_preference and not is_list
        keyed: list[tuple[tuple[int, int, int, int], Entry, str]] = []
        for entry in entries:
            annotations = entry.descriptor.get("annotations")
            notes = annotations if isinstance(annotations, Mapping) else {}
            # oci_index.go isPreferredOver: wanted position (platform-less: math.MaxInt), then
            # zstd instances (unless preferGzip), then zstd:chunked sentinels, then list
            # position. A Docker list (ChooseInstance) and v5.23 have only the first and last.
            zstd = 0 if prefer and notes.get(ZSTD_ANNOTATION) == "true" else 1
            sentinel = 0 if prefer and notes.get(ZSTD_CHUNKED_SENTINEL_ANNOTATION) == "true" else 1
            if entry.platform is None and not is_list:
                key = (len(wanted), zstd, sentinel, entry.position)
                keyed.append((key, entry, "no platform: accepted with the lowest priority"))
                continue
            image = entry.platform_or_zero()
            index = next((i for i, w in enumerate(wanted) if _matches(library, image, w)), None)
            if index is None:
                outcome.rejected[entry.position] = rejection(
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


def _flags(p: Platform) -> str:
    return f"{p.os or '-'}/{p.architecture or '-'}/{p.variant or '-'}"


skopeo = ContainersImage(CURRENT, libimage=False)
"""skopeo on the current containers/image: the strings as given."""
skopeo_1_9 = ContainersImage(V5_23, libimage=False)
"""Debian 12's skopeo 1.9.3 (containers/image 5.23.1)."""
podman = ContainersImage(CURRENT, libimage=True)
"""podman/buildah on the current containers/image and containers/common."""
podman_4_3 = ContainersImage(V5_23, libimage=True)
"""Debian 12's podman 4.3.1 / buildah 1.28 (containers/image 5.23.1, common 0.50.1)."""
containers_image = skopeo
"""The old name of :data:`skopeo` (profile alias ``containers-image``)."""
