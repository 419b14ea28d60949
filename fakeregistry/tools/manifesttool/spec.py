"""manifest-tool's spec: the YAML file (keys checked, each message naming its line) or the
``push from-args`` arguments, read into a :class:`ManifestSpec` of :class:`MemberSpec` items."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fakeregistry.platforms.platform import Platform, go_quote
from fakeregistry.rules.reference import ImageReference, ImageReferenceError, is_valid_tag
from fakeregistry.tools.manifesttool.errors import ManifestToolError, SpecError


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
    target = parse_reference(image, f"{reader.at(image_node)}: image")
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
    parse_reference(image, f"{reader.at(image_node)}: {where}.image")
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


def parse_reference(
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
        parse_reference(image, f"{origin}: image {go_quote(image)}")
        members.append(MemberSpec(image, Platform(os_name, arch, variant), origin))
    if not members:
        raise SpecError("--platforms names no platform")
    if len(members) > 1 and not any(p in template for p in ("ARCH", "OS", "VARIANT")):
        warnings.append(
            f"--template {template} has no ARCH, OS or VARIANT placeholder: every platform "
            "names the same image"
        )
    parsed = parse_reference(target, f"--target {target}")
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
