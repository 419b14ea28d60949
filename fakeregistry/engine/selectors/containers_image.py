"""containers/image's selector: skopeo, podman, buildah
(``internal/pkg/platform/platform_matcher.go``, ``internal/manifest/{docker_schema2_list,
oci_index}.go``).

An ordered list of exact ``{os, arch, variant}`` wanted platforms (:func:`wanted_platforms`);
no aliases and no cross-architecture fallback. A Docker list is searched wanted-platform
first; an OCI index ranks by wanted position, then zstd/zstd:chunked annotations, then list
order, and accepts platform-less entries last::

    >>> [p.format() for p in wanted_platforms(Platform("linux", "arm64", "v8"), None)]
    ['linux/arm64/v8', 'linux/arm64']
    >>> [p.format() for p in wanted_platforms(Platform("linux", "arm", "v7"), None)]
    ['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5', 'linux/arm']
"""

from __future__ import annotations

from collections.abc import Mapping

from fakeregistry.engine.hostspec import goarch, goos
from fakeregistry.engine.index import Entry
from fakeregistry.engine.selectors.outcome import Outcome, rejection
from fakeregistry.platforms.go import go_quote
from fakeregistry.platforms.platform import Platform
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import ZSTD_ANNOTATION, ZSTD_CHUNKED_SENTINEL_ANNOTATION

__all__ = ["containers_image", "wanted_platforms"]

# platform_matcher.go `compatibility`: variants from most to least capable.
_COMPATIBILITY = {
    "amd64": ("v4", "v3", "v2"),
    "arm": ("v8", "v7", "v6", "v5"),
    "arm64": ("v8",),
}
_DETECTED = frozenset({"v3", "v4", "v5", "v6", "v7", "v8"})


def _variant(arch: str, variant: str) -> str:
    return "" if arch == "amd64" and variant == "v1" else variant  # normalizeAmd64Variant


def wanted_platforms(host: Platform, requested: Platform | None) -> list[Platform]:
    """containers/image ``WantedPlatforms``: exact ``{os, arch, variant}``, most wanted first."""
    os_host, arch_host = goos(host), goarch(host)
    chosen_arch = requested.architecture if requested is not None else ""
    if chosen_arch:
        arch, variant = chosen_arch, ""  # an overridden architecture is never auto-detected
    else:
        arch = arch_host
        if os_host in ("darwin", "windows"):
            variant = {"arm64": "v8", "arm": "v7"}.get(arch_host, "")
        elif arch_host in ("arm", "arm64") and os_host == "linux":
            detected = host.variant.lower()
            variant = detected if detected in _DETECTED else ""
        else:
            variant = ""  # amd64 levels only with SystemContext.DetectPlatformVariant (off)
    if requested is not None and requested.variant:
        variant = requested.variant
    variant = _variant(arch, variant)
    os_name = requested.os if requested is not None and requested.os else os_host
    order = _COMPATIBILITY.get(arch)
    if variant:
        variants = list(order[order.index(variant) :]) if order and variant in order else [variant]
        variants.append("")
    else:
        variants = [""]
        if arch != "amd64" and order:
            variants.extend(order)
    return [Platform(os_name, arch, v) for v in variants]


def _matches(image: Platform, wanted: Platform) -> bool:
    return (
        image.architecture == wanted.architecture
        and image.os == wanted.os
        and _variant(image.architecture, image.variant)
        == _variant(wanted.architecture, wanted.variant)
    )


def containers_image(
    entries: list[Entry], host: Platform, requested: Platform | None, media_type: str
) -> Outcome:
    """The first wanted platform an entry is exactly, with containers/image's tie-breaks."""
    wanted = wanted_platforms(host, requested)
    first = wanted[0]
    is_list = media_type == mt.DOCKER_MANIFEST_LIST
    kind = "manifest list" if is_list else "image index"
    outcome = Outcome(first)
    outcome.message = (
        f"no image found in {kind} for architecture {go_quote(first.architecture)}, "
        f"variant {go_quote(first.variant)}, OS {go_quote(first.os)}"
    )
    outcome.messages = {
        "containers-image-5.0": f"no image found in {kind} for architecture "
        f"{first.architecture}, variant {go_quote(first.variant)}, OS {first.os}",
    }
    outcome.how = "wanted platforms " + " → ".join(w.format() for w in wanted)
    keyed: list[tuple[tuple[int, int, int, int], Entry, str]] = []
    for entry in entries:
        annotations = entry.descriptor.get("annotations")
        notes = annotations if isinstance(annotations, Mapping) else {}
        # oci_index.go isPreferredOver: wanted position (platform-less: math.MaxInt), then zstd
        # instances (unless preferGzip), then zstd:chunked sentinels, then list position.
        # A Docker list (ChooseInstance) has only the first and the last.
        zstd = 0 if notes.get(ZSTD_ANNOTATION) == "true" and not is_list else 1
        sentinel = 0 if notes.get(ZSTD_CHUNKED_SENTINEL_ANNOTATION) == "true" and not is_list else 1
        if entry.platform is None and not is_list:
            key = (len(wanted), zstd, sentinel, entry.position)
            keyed.append((key, entry, "no platform: accepted with the lowest priority"))
            continue
        image = entry.platform_or_zero()
        index = next((i for i, w in enumerate(wanted) if _matches(image, w)), None)
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
