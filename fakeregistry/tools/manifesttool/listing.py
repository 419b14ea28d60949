"""The list manifest-tool pushes: its entries (:class:`ListEntry`) and its bytes, a Docker
manifest list or an OCI index serialised as Go's ``json.MarshalIndent`` writes it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fakeregistry.platforms.platform import Platform
from fakeregistry.rules import mediatypes as mt
from fakeregistry.tools.manifesttool.errors import ManifestToolError
from fakeregistry.tools.manifesttool.spec import MemberSpec

ListType = Literal["docker", "oci"]


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
        raise ManifestToolError(DOCKER_ANNOTATIONS)
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST_LIST if docker else mt.OCI_INDEX,
        "manifests": [_entry_object(entry, docker) for entry in entries],
    }
    if annotations:
        document["annotations"] = dict(sorted(annotations.items()))
    return _go_json(document)


DOCKER_ANNOTATIONS = (
    "manifest list (Docker media type) does not support annotations; use --type oci instead"
)
