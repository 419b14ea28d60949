"""manifest-tool's multi-platform push and inspect, over HTTP, against any registry.

`manifest-tool <https://github.com/estesp/manifest-tool>`_ reads a YAML spec that names a target
``name:tag`` and one image per platform, and pushes a Docker manifest list (or an OCI index)
over them. This module does the same with :mod:`fakeregistry.client`, so it works against our
server, CNCF distribution or a hosted registry::

    spec = load_spec("pushml.yaml")
    async with RegistryClient() as client:
        result = await push_manifest_list(spec, connection=client, media_type="oci")
    print(f"Digest: {result.digest} {result.length}")

The spec (``PLATFORMS.md`` A11; manifest-tool decodes it with lower-cased Go field names)::

    image: 127.0.0.1:5000/estesp/debian:jessie   # the list to push
    tags: ["8", "8.11"]                          # extra tags (a YAML list)
    annotations: {org.opencontainers.image.title: Debian}   # --type oci only
    manifests:
      - image: 127.0.0.1:5000/s390x/debian:jessie
        platform: {architecture: s390x, os: linux}
      - image: 127.0.0.1:5000/win/app:2019         # platform read from its config
      - image: 127.0.0.1:5000/win/app:2016
        platform: {architecture: amd64, os: windows, osversion: 10.0.14393.1}

``platform`` keys: ``architecture``, ``os``, ``variant``, ``osversion``, ``osfeatures``. The OCI
spellings ``os.version`` and ``os.features`` (which manifest-tool silently ignores) are
honoured with a warning; any other key is an error naming the key and its line.

The push follows manifest-tool (``v2/pkg/registry/push.go``), checking everything before it
writes anything:

1. annotations need ``media_type="oci"``; every member must be on the target's registry host;
   platforms given in the spec must pass :func:`platform_problem`;
2. each member is fetched (manifest, and an image's config; never layers). An image gets the
   spec's platform, its empty fields filled from the config, and is checked again; a list or
   index member is flattened: each of its entries becomes an entry, with its own platform,
   and attestation entries go after all images. A missing member fails the push, or is
   skipped with ``ignore_missing``;
3. two entries with the same platform (architecture, os, variant, os.version, os.features —
   not normalised, so ``linux/arm64`` and ``linux/arm64/v8`` differ) are rejected;
4. members from another repository are brought into the target repository: blobs by
   cross-repository mount (``POST ?mount=&from=``), manifests by ``PUT`` by digest;
5. the list is serialised as Go's ``json.MarshalIndent(x, "", "  ")`` does, pushed to the
   target tag and to each extra tag.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

from fakeregistry.client import (
    AuthenticationError,
    FetchedManifest,
    NotFoundError,
    RegistryClient,
    RegistryClientError,
    RegistryHTTPError,
    TraceEntry,
)
from fakeregistry.client.connection import Connection, connect, sync_twin
from fakeregistry.platforms.platform import Platform, PlatformError, go_quote
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import ATTESTATION_ANNOTATION
from fakeregistry.rules.annotations import ATTESTATION_VALUE as _ATTESTATION_VALUE
from fakeregistry.rules.annotations import ATTESTED_DIGEST_ANNOTATION as _ATTESTED_DIGEST
from fakeregistry.rules.digest import compute
from fakeregistry.rules.errors import FakeRegistryError, RegistryError
from fakeregistry.rules.model import Descriptor
from fakeregistry.rules.reference import ImageReference, ImageReferenceError, is_valid_tag
from fakeregistry.trust.keys import load_public_keys
from fakeregistry.trust.signatures import SignatureCheck
from fakeregistry.trust.verify import check_signatures, format_checks

__all__ = [
    "ATTESTATION_ANNOTATION",
    "VALID_ARCHITECTURES",
    "VALID_OS",
    "VALID_VARIANTS",
    "DuplicatePlatformError",
    "InspectResult",
    "InspectedEntry",
    "InspectedLayer",
    "ListEntry",
    "ManifestSpec",
    "ManifestToolError",
    "MemberError",
    "MemberSpec",
    "PlatformRuleError",
    "PushResult",
    "SpecError",
    "expand_template",
    "format_inspect",
    "inspect",
    "inspect_sync",
    "is_valid_os_arch",
    "load_spec",
    "parse_spec",
    "platform_problem",
    "push_manifest_list",
    "push_manifest_list_sync",
    "serialize_list",
    "spec_from_args",
]

ListType = Literal["docker", "oci"]
T = TypeVar("T")

# -- the platform rules (manifest-tool v2/pkg/util/os.go, oslist.go = `go tool dist list`) ----

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

# What manifest-tool accepts for a member (registry/fetch.go allMediaTypes).
_ACCEPT = (mt.DOCKER_MANIFEST, mt.DOCKER_MANIFEST_LIST, mt.OCI_MANIFEST, mt.OCI_INDEX)
_MAX_DEPTH = mt.MAX_INDEX_DEPTH


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


# -- errors -----------------------------------------------------------------------------------


class ManifestToolError(FakeRegistryError):
    """A push or inspect that cannot be done; the message is one readable line that names
    the member (``spec.yaml:12: manifests[2] …``) and says why."""


class SpecError(ManifestToolError):
    """The spec (YAML file or command-line arguments) is malformed or has unknown keys."""


class PlatformRuleError(ManifestToolError):
    """A member's platform is not a valid os/arch[/variant] combination."""


class DuplicatePlatformError(ManifestToolError):
    """Two entries of the list would have the same platform."""


class MemberError(ManifestToolError):
    """A member is missing, on another registry host, or not something a list can hold."""


# -- the spec ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberSpec:
    """One ``manifests[]`` entry: an image and the platform the spec gives it (empty fields
    are filled from the image's config). ``origin`` says where it was written, for messages:
    ``spec.yaml:12: manifests[2]`` or ``--platforms linux/arm/v7``."""

    image: str
    platform: Platform = field(default_factory=lambda: Platform("", ""))
    origin: str = ""

    @property
    def label(self) -> str:
        return self.origin or self.image


@dataclass(frozen=True, slots=True)
class ManifestSpec:
    """A manifest-tool spec: the target ``image``, its ``manifests``, extra ``tags`` and
    index ``annotations``; ``warnings`` are notes made while reading it."""

    image: str
    manifests: tuple[MemberSpec, ...]
    tags: tuple[str, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    warnings: tuple[str, ...] = ()


_NULL_TAG = "tag:yaml.org,2002:null"
_TOP_KEYS = ("image", "tags", "annotations", "manifests")
_MEMBER_KEYS = ("image", "platform")
_PLATFORM_KEYS = ("architecture", "os", "variant", "osversion", "osfeatures")
_OCI_SPELLINGS = {"os.version": "osversion", "os.features": "osfeatures"}
_NOT_READ = {
    "features": "manifest-tool's platform has no CPU \"features\" (an index entry's platform "
    "comes from the OCI image-spec, which has none)",
    "annotations": "manifest-tool has no per-manifest annotations; put index annotations at "
    "the top level",
}


class _Reader:
    """Walks the composed YAML node tree, keeping each node's line for messages."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.warnings: list[str] = []

    def at(self, node: yaml.Node) -> str:
        return f"{self.source}:{node.start_mark.line + 1}"

    def fail(self, node: yaml.Node, message: str) -> SpecError:
        return SpecError(f"{self.at(node)}: {message}")

    @staticmethod
    def kind(node: yaml.Node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "mapping"
        if isinstance(node, yaml.SequenceNode):
            return "list"
        return "null" if node.tag == _NULL_TAG else f"scalar {go_quote(str(node.value))}"

    @staticmethod
    def is_null(node: yaml.Node) -> bool:
        return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG

    def string(self, node: yaml.Node, where: str) -> str:
        """A scalar as manifest-tool reads it into a Go string: its text as written
        (``386`` stays ``"386"``), null as ``""``."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{where} must be a string, not a {self.kind(node)}")
        return "" if node.tag == _NULL_TAG else str(node.value)

    def strings(self, node: yaml.Node, where: str) -> list[str]:
        if self.is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(
                node, f"{where} must be a YAML list (e.g. [a, b]), not a {self.kind(node)}"
            )
        return [self.string(item, f"{where}[{i}]") for i, item in enumerate(node.value)]

    def mapping(
        self,
        node: yaml.Node,
        where: str,
        known: Sequence[str],
        extra: Iterable[str] = (),
        *,
        any_key: bool = False,
    ) -> dict[str, yaml.Node]:
        """The entries of a mapping node; unknown and repeated keys are errors."""
        if self.is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{where} must be a mapping, not a {self.kind(node)}")
        allowed = (*known, *extra)
        out: dict[str, yaml.Node] = {}
        for key_node, value in node.value:
            key = self.string(key_node, f"a key of {where}")
            if key in out:
                raise self.fail(key_node, f"{where}: key {go_quote(key)} is given twice")
            if not any_key and key not in allowed:
                raise self.fail(key_node, self.unknown(key, where, known))
            out[key] = value
        return out

    @staticmethod
    def unknown(key: str, where: str, known: Sequence[str]) -> str:
        text = f"unknown key {go_quote(key)} in {where} (known keys: {', '.join(known)})"
        if key in _NOT_READ:
            return f"{text}: {_NOT_READ[key]}"
        squashed = key.lower().replace("_", "").replace("-", "").replace(".", "")
        for name in known:
            if squashed == name:
                return (
                    f"{text}; did you mean {go_quote(name)}? "
                    "(manifest-tool reads lower-case keys only and ignores others silently)"
                )
        return text


def parse_spec(text: str, *, source: str = "<spec>") -> ManifestSpec:
    """Read a manifest-tool YAML spec from *text*; *source* names it in messages.

    Raises :class:`SpecError` naming the line for malformed YAML, unknown or repeated keys,
    values of the wrong shape, an invalid reference or tag, or no ``manifests``.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        problem = " ".join(str(exc.problem or exc).split())
        raise SpecError(f"{where}: malformed YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{source}: malformed YAML: {' '.join(str(exc).split())}") from None
    if root is None:
        raise SpecError(f"{source}: the spec is empty (it needs image: and manifests:)")
    reader = _Reader(source)
    top = reader.mapping(root, "the spec", _TOP_KEYS)
    if "image" not in top or reader.is_null(top["image"]):
        raise reader.fail(root, "the spec has no image: (the target name:tag of the list)")
    image_node = top["image"]
    image = reader.string(image_node, "image")
    target = _parse_reference(image, f"{reader.at(image_node)}: image")
    if target.digest is not None:
        raise reader.fail(image_node, f"image: the target must be name:tag, not a digest: {image}")
    tags: list[str] = []
    if "tags" in top:
        for i, tag in enumerate(reader.strings(top["tags"], "tags")):
            if not is_valid_tag(tag):
                raise reader.fail(top["tags"], f"tags[{i}]: {go_quote(tag)} is not a valid tag")
            tags.append(tag)
    annotations: dict[str, str] = {}
    if "annotations" in top:
        node = top["annotations"]
        for key, value in reader.mapping(node, "annotations", (), any_key=True).items():
            annotations[key] = reader.string(value, f"annotations.{key}")
    manifests_node = top.get("manifests")
    if manifests_node is None or reader.is_null(manifests_node):
        raise reader.fail(root, "the spec has no manifests: (the per-platform images)")
    if not isinstance(manifests_node, yaml.SequenceNode):
        raise reader.fail(
            manifests_node, f"manifests must be a YAML list, not a {reader.kind(manifests_node)}"
        )
    if not manifests_node.value:
        raise reader.fail(manifests_node, "manifests is empty: there is nothing to list")
    members = [
        _read_member(reader, node, f"manifests[{i}]") for i, node in enumerate(manifests_node.value)
    ]
    return ManifestSpec(
        image=image,
        manifests=tuple(members),
        tags=tuple(tags),
        annotations=annotations,
        source=source,
        warnings=tuple(reader.warnings),
    )


def _read_member(reader: _Reader, node: yaml.Node, where: str) -> MemberSpec:
    entry = reader.mapping(node, where, _MEMBER_KEYS)
    origin = f"{reader.at(node)}: {where}"
    image_node = entry.get("image")
    if image_node is None or reader.is_null(image_node):
        raise reader.fail(node, f"{where} has no image:")
    image = reader.string(image_node, f"{where}.image")
    _parse_reference(image, f"{reader.at(image_node)}: {where}.image")
    platform = Platform("", "")
    if "platform" in entry:
        platform = _read_platform(reader, entry["platform"], f"{where}.platform")
    return MemberSpec(image=image, platform=platform, origin=origin)


def _read_platform(reader: _Reader, node: yaml.Node, where: str) -> Platform:
    keys = reader.mapping(node, where, _PLATFORM_KEYS, _OCI_SPELLINGS)
    values: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, value in keys.items():
        name = _OCI_SPELLINGS.get(key, key)
        read: Any = (
            reader.strings(value, f"{where}.{key}")
            if name == "osfeatures"
            else reader.string(value, f"{where}.{key}")
        )
        if key in _OCI_SPELLINGS:
            reader.warnings.append(
                f"{reader.at(value)}: {where}: {go_quote(key)} is the OCI spelling; "
                f"manifest-tool reads {go_quote(name)} and silently ignores {go_quote(key)}. "
                f"Honoured here; write {go_quote(name)} for a spec manifest-tool reads the same"
            )
        if name in values and values[name] != read:
            raise reader.fail(
                value, f"{where}: {go_quote(spelled[name])} and {go_quote(key)} disagree"
            )
        values[name] = read
        spelled[name] = key
    return Platform(
        os=values.get("os", ""),
        architecture=values.get("architecture", ""),
        variant=values.get("variant", ""),
        os_version=values.get("osversion", ""),
        os_features=tuple(values.get("osfeatures", ())),
    )


def load_spec(path: str | os.PathLike[str]) -> ManifestSpec:
    """Read a manifest-tool YAML spec file (see :func:`parse_spec`)."""
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read spec {name}: {exc}") from None
    return parse_spec(text, source=name)


def _parse_reference(
    text: str, where: str, error: type[ManifestToolError] = SpecError
) -> ImageReference:
    try:
        return ImageReference.parse(text)
    except ImageReferenceError as exc:
        raise error(f"{where}: {exc}") from None


def expand_template(template: str, os: str, architecture: str, variant: str = "") -> str:
    """manifest-tool's from-args image name: the first ``ARCH`` becomes *architecture*, then
    the first ``OS`` *os*, then the first ``VARIANT`` *variant* (plain, case-sensitive
    substrings, in that order).

    >>> expand_template("foo/bar-ARCHVARIANT:v1", "linux", "arm", "v5")
    'foo/bar-armv5:v1'
    >>> expand_template("foo-OS-ARCH-VARIANT", "linux", "amd64")
    'foo-linux-amd64-'
    """
    name = template.replace("ARCH", architecture, 1)
    name = name.replace("OS", os, 1)
    return name.replace("VARIANT", variant, 1)


def _split_list(values: str | Iterable[str]) -> list[str]:
    """``a,b`` or ``["a", "b,c"]`` (a repeated flag) as one flat list, like urfave/cli's
    StringSliceFlag."""
    items = [values] if isinstance(values, str) else list(values)
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def spec_from_args(
    platforms: str | Iterable[str],
    template: str,
    target: str,
    *,
    tags: str | Iterable[str] = (),
    annotations: str | Iterable[str] | Mapping[str, str] = (),
) -> ManifestSpec:
    """The spec manifest-tool's ``push from-args`` builds: one member per platform
    (``os/arch[/variant]``, comma-separated or a list), named by :func:`expand_template`;
    *annotations* as ``k=v`` items or a mapping."""
    members = []
    warnings = []
    for item in _split_list(platforms):
        parts = item.split("/")
        if len(parts) not in (2, 3):
            raise SpecError(
                "the --platforms argument must be a string slice where one value is of the "
                f"form 'os/arch': got {go_quote(item)}"
            )
        os_name, arch = parts[0], parts[1]
        variant = parts[2] if len(parts) == 3 else ""
        image = expand_template(template, os_name, arch, variant)
        origin = f"--platforms {item}"
        _parse_reference(image, f"{origin}: image {go_quote(image)}")
        members.append(MemberSpec(image, Platform(os_name, arch, variant), origin))
    if not members:
        raise SpecError("--platforms names no platform")
    if len(members) > 1 and not any(p in template for p in ("ARCH", "OS", "VARIANT")):
        warnings.append(
            f"--template {template} has no ARCH, OS or VARIANT placeholder: every platform "
            "names the same image"
        )
    parsed = _parse_reference(target, f"--target {target}")
    if parsed.digest is not None:
        raise SpecError(f"--target {target}: the target must be name:tag, not a digest")
    tag_list = _split_list(tags)
    for tag in tag_list:
        if not is_valid_tag(tag):
            raise SpecError(f"--tags: {go_quote(tag)} is not a valid tag")
    pairs: dict[str, str] = {}
    if isinstance(annotations, Mapping):
        pairs = dict(annotations)
    else:
        for item in _split_list(annotations):
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise SpecError(
                    "the --annotations argument must be a string in the form 'key=value': " + item
                )
            pairs[key] = value
    return ManifestSpec(
        image=target,
        manifests=tuple(members),
        tags=tuple(tag_list),
        annotations=pairs,
        source="arguments",
        warnings=tuple(warnings),
    )


# -- serialising the list ---------------------------------------------------------------------

_DOCKER_PLATFORM_KEYS = ("architecture", "os", "os.version", "os.features", "variant", "features")
_OCI_PLATFORM_KEYS = ("architecture", "os", "os.version", "os.features", "variant")


def _platform_object(platform: Platform, docker: bool) -> dict[str, Any]:
    values = platform.to_json()
    out: dict[str, Any] = {"architecture": platform.architecture, "os": platform.os}
    for key in _DOCKER_PLATFORM_KEYS if docker else _OCI_PLATFORM_KEYS:
        if key in values:
            out[key] = values[key]
    return out


def _entry_object(entry: ListEntry, docker: bool) -> dict[str, Any]:
    """One ``manifests[]`` entry in the field order of distribution's ``ManifestDescriptor``
    (docker) or image-spec's ``Descriptor`` (oci)."""
    source = entry.descriptor
    out: dict[str, Any] = {"mediaType": source["mediaType"]}
    if docker:
        out["size"] = source["size"]
        out["digest"] = source["digest"]
    else:
        out["digest"] = source["digest"]
        out["size"] = source["size"]
    if source.get("urls"):
        out["urls"] = source["urls"]
    if source.get("annotations"):
        out["annotations"] = dict(sorted(source["annotations"].items()))
    if not docker and source.get("data"):
        out["data"] = source["data"]
    if entry.platform is not None:
        out["platform"] = _platform_object(entry.platform, docker)
    elif docker:
        out["platform"] = {"architecture": "", "os": ""}
    if not docker and source.get("artifactType"):
        out["artifactType"] = source["artifactType"]
    return out


def _go_json(document: Any) -> bytes:
    """``json.MarshalIndent(document, "", "  ")``: two-space indent, ``": "``, no trailing
    newline, non-ASCII kept, and Go's HTML escaping of ``<``, ``>``, ``&``, U+2028, U+2029."""
    text = json.dumps(document, indent=2, ensure_ascii=False)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text.encode("utf-8")


def serialize_list(
    entries: Sequence[ListEntry],
    media_type: ListType = "docker",
    annotations: Mapping[str, str] | None = None,
) -> bytes:
    """The manifest list (docker) or index (oci) manifest-tool pushes for *entries*, byte for
    byte: ``{schemaVersion, mediaType, manifests[, annotations]}``."""
    docker = media_type == "docker"
    if docker and annotations:
        raise ManifestToolError(_DOCKER_ANNOTATIONS)
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST_LIST if docker else mt.OCI_INDEX,
        "manifests": [_entry_object(entry, docker) for entry in entries],
    }
    if annotations:
        document["annotations"] = dict(sorted(annotations.items()))
    return _go_json(document)


_DOCKER_ANNOTATIONS = (
    "manifest list (Docker media type) does not support annotations; use --type oci instead"
)


# -- pushing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One entry of the pushed list: its descriptor (``mediaType``, ``digest``, ``size``
    and, for flattened entries, ``annotations``/``urls`` as the source list had them), its
    platform, the member it came from, and whether it is an attestation."""

    descriptor: Mapping[str, Any]
    platform: Platform | None
    member: MemberSpec
    attestation: bool = False

    @property
    def digest(self) -> str:
        return str(self.descriptor["digest"])


@dataclass(frozen=True, slots=True)
class PushResult:
    """What :func:`push_manifest_list` pushed.

    ``digest``/``length`` are the list's (what manifest-tool prints as ``Digest: <d> <n>``);
    ``manifest`` its bytes; ``tags`` every tag it was pushed to; ``copied`` the manifests
    pushed by digest into the target repository; ``mounted`` the blobs mounted there from
    other repositories; ``skipped`` members left out by ``ignore_missing``; ``trace`` every
    request made.
    """

    reference: ImageReference
    digest: str
    length: int
    media_type: str
    manifest: bytes
    entries: tuple[ListEntry, ...]
    tags: tuple[str, ...]
    copied: tuple[str, ...] = ()
    mounted: tuple[str, ...] = ()
    uploaded: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    trace: tuple[TraceEntry, ...] = ()


@dataclass
class _Tree:
    """A fetched manifest and, for an index, its fetched children (never layers)."""

    ref: ImageReference
    fetched: FetchedManifest
    document: dict[str, Any]
    children: list[_Tree] = field(default_factory=list)
    config: bytes | None = None


@dataclass
class _Member:
    spec: MemberSpec
    ref: ImageReference
    tree: _Tree
    entries: list[ListEntry]


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestToolError(f"{what} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ManifestToolError(f"{what} is not a JSON object")
    return document


def _at(ref: ImageReference, digest: str) -> ImageReference:
    return replace(ref, tag=None, digest=digest)


async def _fetch_tree(
    client: RegistryClient, ref: ImageReference, label: str, depth: int = 0
) -> _Tree:
    fetched = await client.get_manifest(ref, accept=_ACCEPT)
    document = _json_object(fetched.body, f"{label}: manifest {fetched.digest}")
    tree = _Tree(ref, fetched, document)
    if fetched.media_type not in mt.INDEX_TYPES:
        return tree
    if depth >= _MAX_DEPTH:
        raise MemberError(f"{label}: indexes nested more than {_MAX_DEPTH} deep")
    for i, entry in enumerate(document.get("manifests") or []):
        descriptor = _descriptor(entry, f"{label}: manifests[{i}] of {fetched.digest}")
        if descriptor.media_type not in mt.MANIFEST_TYPES:
            raise MemberError(
                f"{label}: entry manifests[{i}] of {ref} has media type "
                f"{go_quote(descriptor.media_type)}, which a manifest list/index push cannot "
                "carry"
            )
        tree.children.append(
            await _fetch_tree(client, _at(ref, descriptor.digest), label, depth + 1)
        )
    return tree


def _descriptor(entry: Any, where: str) -> Descriptor:
    try:
        return Descriptor.from_json(entry, where)
    except RegistryError as exc:
        raise ManifestToolError(f"{where}: invalid descriptor: {exc.detail or exc}") from None


def _is_attestation(entry: Mapping[str, Any]) -> bool:
    annotations = entry.get("annotations")
    return isinstance(annotations, dict) and (
        annotations.get(ATTESTATION_ANNOTATION) == _ATTESTATION_VALUE
    )


def _config_platform(config: Mapping[str, Any], label: str) -> Platform:
    try:
        return Platform.from_json(config)
    except PlatformError as exc:
        raise MemberError(f"{label}: the image config's platform is invalid: {exc}") from None


def _resolve_platform(member: MemberSpec, config: Platform) -> Platform:
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


def _check_platform(member: MemberSpec, image: str, platform: Platform) -> None:
    problem = platform_problem(platform.os, platform.architecture, platform.variant)
    if problem is not None:
        combination = f"{platform.os}/{platform.architecture}/{platform.variant}"
        raise PlatformRuleError(
            f"{member.label}: manifest entry for image {image} has unsupported os/arch or "
            f"os/arch/variant combination: {combination}: {problem}"
        )


def _is_missing(exc: RegistryClientError) -> bool:
    """A member that is not there (or that this account may not see, which is how Docker
    Hub answers for a repository that does not exist)."""
    if isinstance(exc, NotFoundError | AuthenticationError):
        return True
    return isinstance(exc, RegistryHTTPError) and exc.status == 403


async def _resolve_member(
    client: RegistryClient, member: MemberSpec, ref: ImageReference, warnings: list[str]
) -> _Member:
    label = member.label
    tree = await _fetch_tree(client, ref, label)
    fetched = tree.fetched
    media_type = fetched.media_type
    if media_type in mt.INDEX_TYPES:
        if member.platform != Platform("", ""):
            warnings.append(
                f"{label}: {member.image} is a list/index; its entries keep their own "
                "platforms and the platform given in the spec is not used"
            )
        entries = []
        for i, (raw, child) in enumerate(
            zip(tree.document.get("manifests") or [], tree.children, strict=True)
        ):
            where = f"{label}: entry manifests[{i}] of {member.image}"
            platform = None
            if isinstance(raw.get("platform"), dict):
                try:
                    platform = Platform.from_json(raw["platform"])
                except PlatformError as exc:
                    raise MemberError(f"{where}: invalid platform: {exc}") from None
            attestation = _is_attestation(raw)
            if platform is None and not attestation:
                raise MemberError(
                    f"{where} ({child.fetched.digest}) has no platform, so it cannot be an "
                    "entry of a multi-platform list"
                )
            entries.append(ListEntry(dict(raw), platform, member, attestation))
        return _Member(member, ref, tree, entries)
    if media_type not in mt.IMAGE_MANIFEST_TYPES:
        raise MemberError(
            f"{label}: cannot include unknown media type '{media_type}' in a manifest "
            f"list/index push (image {member.image})"
        )
    config_entry = tree.document.get("config")
    config_descriptor = _descriptor(config_entry, f"{label}: config of {member.image}")
    tree.config = await client.get_blob(ref, config_descriptor.digest, size=config_descriptor.size)
    config = _json_object(tree.config, f"{label}: config of {member.image}")
    from_config = _config_platform(config, label)
    platform = _resolve_platform(member, from_config)
    _check_platform(member, member.image, platform)
    given = member.platform
    if (given.os or given.architecture) and (from_config.os or from_config.architecture):
        said = Platform(from_config.os, from_config.architecture, from_config.variant)
        used = Platform(platform.os, platform.architecture, platform.variant)
        if said.format() != used.format():
            warnings.append(
                f"{label}: the spec says {used.format()} for {member.image}, but its config "
                f"says {said.format()}; the spec's platform is listed"
            )
    descriptor = {"mediaType": media_type, "digest": fetched.digest, "size": fetched.size}
    return _Member(member, ref, tree, [ListEntry(descriptor, platform, member)])


def _platform_key(platform: Platform) -> tuple[str, str, str, str, str]:
    # push.go getPlatformString: arch-os-variant-osversion-features joined with ".".
    return (
        platform.architecture,
        platform.os,
        platform.variant,
        platform.os_version,
        ".".join(platform.os_features),
    )


def _check_local(spec: ManifestSpec, media_type: ListType, target: ImageReference) -> None:
    """What can be checked before talking to any registry."""
    if media_type not in ("docker", "oci"):
        raise ManifestToolError(f"unknown list type {media_type!r}: use 'docker' or 'oci'")
    if media_type == "docker" and spec.annotations:
        raise SpecError(_DOCKER_ANNOTATIONS)
    if not spec.manifests:
        raise SpecError(f"{spec.source or 'the spec'}: no manifests to list")
    for member in spec.manifests:
        ref = _parse_reference(member.image, f"{member.label}: image")
        if ref.registry != target.registry:
            raise MemberError(
                f"{member.label}: source image ({ref}) registry does not match target image "
                f"({target}) registry: every member must be on {target.registry}, the target's "
                "registry host (manifest push copies nothing between registries)"
            )
        given = member.platform
        if given.os or given.architecture:
            _check_platform(member, member.image, given)


@dataclass
class _Copier:
    """Brings fetched trees into the target repository: blobs by cross-repository mount,
    manifests by ``PUT`` by digest. Layers are never downloaded."""

    client: RegistryClient
    target: ImageReference
    done: set[str] = field(default_factory=set)
    copied: list[str] = field(default_factory=list)
    mounted: list[str] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)

    async def copy(self, tree: _Tree, label: str) -> None:
        digest = tree.fetched.digest
        if digest in self.done:
            return
        for child in tree.children:
            await self.copy(child, label)
        if tree.fetched.media_type in mt.IMAGE_MANIFEST_TYPES:
            blobs = [tree.document.get("config"), *(tree.document.get("layers") or [])]
            for i, raw in enumerate(blobs):
                blob = _descriptor(raw, f"{label}: blob {i} of {digest}")
                if not _is_foreign(blob.media_type) and blob.digest not in self.done:
                    await self.blob(tree, blob.digest, tree.config if i == 0 else None, label)
        at_target = _at(self.target, digest)
        try:
            await self.client.head_manifest(at_target, accept=_ACCEPT)
        except NotFoundError:
            await self.client.put_manifest(at_target, tree.fetched.body, tree.fetched.media_type)
            self.copied.append(digest)
        self.done.add(digest)

    async def blob(self, tree: _Tree, digest: str, data: bytes | None, label: str) -> None:
        self.done.add(digest)
        target = self.target
        if await self.client.blob_exists(target, digest):
            return
        if await self.client.mount_blob(target, digest, tree.ref.repository):
            self.mounted.append(digest)
        elif data is not None:
            # A config: its bytes were fetched anyway, so they can be uploaded.
            await self.client.push_blob(target, data, digest=digest)
            self.uploaded.append(digest)
        else:
            raise MemberError(
                f"{label}: cannot bring blob {digest} of {tree.ref} into "
                f"{target.registry}/{target.repository}: the registry did not mount it from "
                "the source repository, and manifest push never downloads layers"
            )


def _is_foreign(media_type: str) -> bool:
    # push.go skippable: "foreign" or "nondistributable" after the first character.
    return media_type.find("foreign") > 0 or media_type.find("nondistributable") > 0


async def _put_tag(
    client: RegistryClient, ref: ImageReference, body: bytes, media_type: str, digest: str
) -> None:
    try:
        existing = await client.head_manifest(ref, accept=_ACCEPT)
    except NotFoundError:
        existing = None
    if existing is not None and existing.digest == digest:
        return
    pushed = await client.put_manifest(ref, body, media_type)
    if pushed != digest:
        raise ManifestToolError(
            f"the registry stored the list pushed to {ref} as {pushed}, not {digest}"
        )


async def push_manifest_list(
    spec: ManifestSpec | str | os.PathLike[str],
    *,
    connection: Connection | None = None,
    media_type: ListType = "docker",
    ignore_missing: bool = False,
) -> PushResult:
    """Push the manifest list (``media_type="docker"``) or OCI index (``"oci"``) *spec*
    describes, as manifest-tool ``push`` does (see the module docstring for the steps).

    *spec* is a :class:`ManifestSpec` or the path of a YAML spec. *connection* reaches the
    target's registry (:mod:`fakeregistry.client.connection`). With *ignore_missing*, members
    that are not found are skipped
    (listed in :attr:`PushResult.skipped`).

    Raises :class:`ManifestToolError` subclasses, naming the member and why; nothing is
    written to the registry unless every member passed every check.
    """
    loaded = spec if isinstance(spec, ManifestSpec) else load_spec(spec)
    target = _parse_reference(loaded.image, "image")
    async with connect(target.registry, connection) as client:
        return await _push(loaded, client, media_type, ignore_missing)


async def _push(
    spec: ManifestSpec, client: RegistryClient, media_type: ListType, ignore_missing: bool
) -> PushResult:
    target = _parse_reference(spec.image, "image")
    _check_local(spec, media_type, target)
    warnings = list(spec.warnings)
    skipped: list[str] = []
    members: list[_Member] = []
    with client.recording() as trace:
        # 1. Read every member; nothing is written until all of them pass.
        for member in spec.manifests:
            ref = ImageReference.parse(member.image)
            try:
                members.append(await _resolve_member(client, member, ref, warnings))
            except RegistryClientError as exc:
                reason = " ".join(str(exc).split())
                if ignore_missing and _is_missing(exc):
                    warnings.append(
                        f"{member.label}: couldn't access image {go_quote(member.image)} "
                        f"({reason}); skipping it because of --ignore-missing"
                    )
                    skipped.append(member.image)
                    continue
                raise MemberError(
                    f"{member.label}: inspect of image {go_quote(member.image)} failed with "
                    f"error: {reason}"
                ) from None
        images = [e for m in members for e in m.entries if not e.attestation]
        attestations = [e for m in members for e in m.entries if e.attestation]
        seen: dict[tuple[str, str, str, str, str], ListEntry] = {}
        for entry in images:
            assert entry.platform is not None
            key = _platform_key(entry.platform)
            other = seen.get(key)
            if other is not None:
                raise DuplicatePlatformError(
                    f"{entry.member.label}: cannot include two manifests with the same "
                    f"platform; digest {other.digest} already provides platform "
                    f"{entry.platform.format_all()} (this digest: {entry.digest}); "
                    f"it came from {other.member.image} ({other.member.label})"
                )
            seen[key] = entry
        entries = [*images, *attestations]
        if not entries:
            raise MemberError(
                "all entries were skipped due to missing source image references; no "
                "manifest list to push"
            )
        body = serialize_list(entries, media_type, spec.annotations)
        list_type = mt.DOCKER_MANIFEST_LIST if media_type == "docker" else mt.OCI_INDEX
        digest = str(compute(body))
        # 2. Bring members from other repositories into the target repository.
        copier = _Copier(client, target)
        for resolved in members:
            if resolved.ref.repository == target.repository:
                continue
            label = resolved.spec.label
            # A flattened list/index brings its entries; the list itself is not needed.
            tree = resolved.tree
            trees = tree.children if tree.fetched.media_type in mt.INDEX_TYPES else [tree]
            try:
                for item in trees:
                    await copier.copy(item, label)
            except RegistryClientError as exc:
                raise ManifestToolError(
                    f"{label}: error pushing {resolved.spec.image} "
                    f"({resolved.tree.fetched.digest}) into {target.registry}/"
                    f"{target.repository}: {' '.join(str(exc).split())}"
                ) from None
        # 3. The list, then the extra tags.
        tags = [target.tag or "latest", *(t for t in spec.tags if t != target.tag)]
        for tag in tags:
            try:
                await _put_tag(client, replace(target, tag=tag), body, list_type, digest)
            except RegistryClientError as exc:
                what = "manifest list/index" if tag == tags[0] else f"additional tag {tag}"
                raise ManifestToolError(
                    f"error pushing {what} to registry: {digest}: {' '.join(str(exc).split())}"
                ) from None
    return PushResult(
        reference=target,
        digest=digest,
        length=len(body),
        media_type=list_type,
        manifest=body,
        entries=tuple(entries),
        tags=tuple(tags),
        copied=tuple(copier.copied),
        mounted=tuple(copier.mounted),
        uploaded=tuple(copier.uploaded),
        skipped=tuple(skipped),
        warnings=tuple(warnings),
        trace=tuple(trace),
    )


push_manifest_list_sync = sync_twin(push_manifest_list)


# -- inspecting -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InspectedLayer:
    media_type: str
    digest: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True, slots=True)
class InspectedEntry:
    """One entry of an inspected list/index. ``layers`` is None when the entry is not an
    image manifest (a nested index, or an unknown type)."""

    position: int
    media_type: str
    digest: str
    size: int
    platform: Platform | None
    annotations: Mapping[str, str]
    layers: tuple[InspectedLayer, ...] | None

    @property
    def is_attestation(self) -> bool:
        return self.annotations.get(ATTESTATION_ANNOTATION) == _ATTESTATION_VALUE

    @property
    def attests(self) -> str | None:
        """The digest an attestation entry is for."""
        return self.annotations.get(_ATTESTED_DIGEST) if self.is_attestation else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "position": self.position,
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
            "platform": self.platform.to_json() if self.platform is not None else None,
            "attestation": self.is_attestation,
        }
        if self.is_attestation:
            out["attests"] = self.attests
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.layers is not None:
            out["layerCount"] = len(self.layers)
            out["layers"] = [layer.to_json() for layer in self.layers]
        return out


@dataclass(frozen=True, slots=True)
class InspectResult:
    """What :func:`inspect` read: the manifest as served (``raw``), and either ``entries``
    (a list/index) or the image's ``platform`` (from its config), ``config`` and ``layers``."""

    name: str
    reference: ImageReference
    media_type: str
    digest: str
    raw: bytes
    entries: tuple[InspectedEntry, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: Platform | None = None
    config: InspectedLayer | None = None
    layers: tuple[InspectedLayer, ...] = ()
    signatures: tuple[SignatureCheck, ...] | None = None

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def is_index(self) -> bool:
        return self.media_type in mt.INDEX_TYPES

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "reference": str(self.reference),
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.is_index:
            out["manifests"] = [entry.to_json() for entry in self.entries]
            images = sum(1 for e in self.entries if not e.is_attestation)
            out["images"] = images
            out["attestations"] = len(self.entries) - images
            if self.annotations:
                out["annotations"] = dict(self.annotations)
        else:
            out["platform"] = self.platform.to_json() if self.platform is not None else None
            out["config"] = self.config.to_json() if self.config is not None else None
            out["layerCount"] = len(self.layers)
            out["layers"] = [layer.to_json() for layer in self.layers]
        if self.signatures is not None:
            out["signatures"] = [check.to_json() for check in self.signatures]
        return out


def _has_tag_or_digest(text: str) -> bool:
    if "@" in text:
        return True
    last = text.rsplit("/", 1)[-1]
    return ":" in last


def _layers(document: Mapping[str, Any], where: str) -> tuple[InspectedLayer, ...]:
    out = []
    for i, raw in enumerate(document.get("layers") or []):
        layer = _descriptor(raw, f"{where}: layers[{i}]")
        out.append(InspectedLayer(layer.media_type, layer.digest, layer.size))
    return tuple(out)


async def inspect(
    ref: ImageReference | str,
    *,
    connection: Connection | None = None,
    signatures: bool = False,
    keys: Any = (),
) -> InspectResult:
    """Read *ref* as manifest-tool ``inspect`` does: a list/index with each entry's platform,
    media type, size, digest and layers (attestations marked), or an image with its
    config's platform and its layers. *ref* needs a tag or a digest. With *signatures* (or
    *keys*, public keys that check them) the manifest's signatures are listed too."""
    name = str(ref)
    if isinstance(ref, str) and not _has_tag_or_digest(ref):
        raise ManifestToolError(
            "image reference must include a tag or a digest; manifest-tool does not default "
            "to 'latest'"
        )
    reference = (
        ref if isinstance(ref, ImageReference) else _parse_reference(ref, ref, ManifestToolError)
    )
    async with connect(reference.registry, connection) as client:
        return await _inspect(name, reference, client, signatures or bool(keys), keys)


async def _inspect(
    name: str,
    reference: ImageReference,
    client: RegistryClient,
    signatures: bool = False,
    keys: Any = (),
) -> InspectResult:
    try:
        result = await _read(name, reference, client)
        if signatures:
            fetched = FetchedManifest(reference, result.media_type, result.digest, result.raw)
            public = load_public_keys(keys) if keys else []
            checks = await check_signatures(client, reference, fetched, keys=public)
            result = replace(result, signatures=tuple(checks))
        return result
    except RegistryClientError as exc:
        raise ManifestToolError(
            f"error fetching {reference}: {' '.join(str(exc).split())}"
        ) from None


async def _read(name: str, reference: ImageReference, client: RegistryClient) -> InspectResult:
    fetched = await client.get_manifest(reference, accept=_ACCEPT)
    document = _json_object(fetched.body, f"manifest {fetched.digest}")
    if fetched.media_type in mt.INDEX_TYPES:
        entries = []
        for i, raw in enumerate(document.get("manifests") or []):
            descriptor = _descriptor(raw, f"manifests[{i}]")
            platform = None
            if isinstance(raw.get("platform"), dict):
                try:
                    platform = Platform.from_json(raw["platform"])
                except PlatformError as exc:
                    raise ManifestToolError(f"manifests[{i}]: invalid platform: {exc}") from None
            layers = None
            if descriptor.media_type in mt.IMAGE_MANIFEST_TYPES:
                child = await client.get_manifest(_at(reference, descriptor.digest), accept=_ACCEPT)
                layers = _layers(_json_object(child.body, descriptor.digest), descriptor.digest)
            entries.append(
                InspectedEntry(
                    position=i + 1,
                    media_type=descriptor.media_type,
                    digest=descriptor.digest,
                    size=descriptor.size,
                    platform=platform,
                    annotations=dict(descriptor.annotations),
                    layers=layers,
                )
            )
        annotations = document.get("annotations")
        return InspectResult(
            name=name,
            reference=reference,
            media_type=fetched.media_type,
            digest=fetched.digest,
            raw=fetched.body,
            entries=tuple(entries),
            annotations=dict(annotations) if isinstance(annotations, dict) else {},
        )
    if fetched.media_type not in mt.IMAGE_MANIFEST_TYPES:
        raise ManifestToolError(f"unknown descriptor type: {fetched.media_type}")
    config_descriptor = _descriptor(document.get("config"), "config")
    config_bytes = await client.get_blob(
        reference, config_descriptor.digest, size=config_descriptor.size
    )
    config = _json_object(config_bytes, f"config {config_descriptor.digest}")
    return InspectResult(
        name=name,
        reference=reference,
        media_type=fetched.media_type,
        digest=fetched.digest,
        raw=fetched.body,
        platform=_config_platform(config, name),
        config=InspectedLayer(
            config_descriptor.media_type, config_descriptor.digest, config_descriptor.size
        ),
        layers=_layers(document, name),
    )


inspect_sync = sync_twin(inspect)


def _go_strings(values: Iterable[str]) -> str:
    return "[" + " ".join(values) + "]"


def format_inspect(result: InspectResult) -> str:
    """manifest-tool ``inspect``'s text (without colours). Beyond it: CPU ``features`` of an
    entry, and a single image's variant, OS version and OS features, each only when set."""
    lines = []
    if result.is_index:
        lines.append(f"Name:   {result.name} (Type: {result.media_type})")
        lines.append(f"Digest: {result.digest}")
        attestations = sum(1 for e in result.entries if e.is_attestation)
        images = len(result.entries) - attestations
        lines.append(
            f" * Contains {len(result.entries)} manifest references ({images} "
            f"{'images' if images > 1 else 'image'}, {attestations} "
            f"{'attestations' if attestations > 1 else 'attestation'}):"
        )
        for entry in result.entries:
            n = entry.position
            mark = (
                f" ({ATTESTATION_ANNOTATION}={_ATTESTATION_VALUE})" if entry.is_attestation else ""
            )
            lines.append(f"[{n}]     Type: {entry.media_type}{mark}")
            lines.append(f"[{n}]   Digest: {entry.digest}")
            lines.append(f"[{n}]   Length: {entry.size}")
            if entry.layers is None:
                lines.append(f"Unknown media type for further display: {entry.media_type}")
                continue
            if entry.is_attestation:
                lines.append(f"[{n}]       >>> Attestation for digest: {entry.attests or ''}")
                lines.append("")
                continue
            lines.append(f"[{n}] Platform:")
            platform = entry.platform
            if platform is None:
                lines.append(f"[{n}]    -      (no platform specified)")
            else:
                lines.append(f"[{n}]    -      OS: {platform.os}")
                if platform.os_version:
                    lines.append(f"[{n}]    - OS Vers: {platform.os_version}")
                if platform.os_features:
                    lines.append(f"[{n}]    - OS Feat: {_go_strings(platform.os_features)}")
                lines.append(f"[{n}]    -    Arch: {platform.architecture}")
                if platform.variant:
                    lines.append(f"[{n}]    - Variant: {platform.variant}")
                if platform.features:
                    lines.append(f"[{n}]    - Feature: {_go_strings(platform.features)}")
            lines.append(f"[{n}] # Layers: {len(entry.layers)}")
            for j, layer in enumerate(entry.layers, 1):
                lines.append(f"     layer {j:02d}: digest = {layer.digest}")
                lines.append(f"                 type = {layer.media_type}")
            lines.append("")
        return "\n".join(lines + _signature_lines(result))
    platform = result.platform or Platform("", "")
    lines.append(f"Name: {result.name} (Type: {result.media_type})")
    lines.append(f"      Digest: {result.digest}")
    lines.append(f"        Size: {result.size}")
    lines.append(f"          OS: {platform.os}")
    if platform.os_version:
        lines.append(f"  OS Version: {platform.os_version}")
    if platform.os_features:
        lines.append(f" OS Features: {_go_strings(platform.os_features)}")
    lines.append(f"        Arch: {platform.architecture}")
    if platform.variant:
        lines.append(f"     Variant: {platform.variant}")
    lines.append(f"    # Layers: {len(result.layers)}")
    for i, layer in enumerate(result.layers, 1):
        lines.append(f"      layer {i:02d}: digest = {layer.digest}")
    return "\n".join(lines + _signature_lines(result))


def _signature_lines(result: InspectResult) -> list[str]:
    if result.signatures is None:
        return []
    return ["", format_checks(f"Signatures of {result.digest}:", result.signatures)]
