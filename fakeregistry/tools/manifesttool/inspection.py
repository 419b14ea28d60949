"""manifest-tool ``inspect``: a list/index with each entry's platform and layers (attestations
marked), or an image with its config's platform; and the text manifest-tool prints for it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from fakeregistry.client import FetchedManifest, RegistryClient, RegistryClientError
from fakeregistry.client.connection import Connection, connect, sync_twin
from fakeregistry.platforms.platform import Platform, PlatformError
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import ATTESTATION_ANNOTATION, ATTESTATION_VALUE
from fakeregistry.rules.reference import ImageReference
from fakeregistry.tools.manifesttool.documents import (
    ACCEPT,
    at_digest,
    config_platform,
    descriptor_of,
    json_object,
)
from fakeregistry.tools.manifesttool.errors import ManifestToolError
from fakeregistry.tools.manifesttool.rules import (
    ATTESTED_DIGEST,
)
from fakeregistry.tools.manifesttool.spec import parse_reference
from fakeregistry.trust.keys import load_public_keys
from fakeregistry.trust.signatures import SignatureCheck
from fakeregistry.trust.verify import check_signatures, format_checks


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
        return self.annotations.get(ATTESTATION_ANNOTATION) == ATTESTATION_VALUE

    @property
    def attests(self) -> str | None:
        """The digest an attestation entry is for."""
        return self.annotations.get(ATTESTED_DIGEST) if self.is_attestation else None

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
        layer = descriptor_of(raw, f"{where}: layers[{i}]")
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
        ref if isinstance(ref, ImageReference) else parse_reference(ref, ref, ManifestToolError)
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
    fetched = await client.get_manifest(reference, accept=ACCEPT)
    document = json_object(fetched.body, f"manifest {fetched.digest}")
    if fetched.media_type in mt.INDEX_TYPES:
        entries = []
        for i, raw in enumerate(document.get("manifests") or []):
            descriptor = descriptor_of(raw, f"manifests[{i}]")
            platform = None
            if isinstance(raw.get("platform"), dict):
                try:
                    platform = Platform.from_json(raw["platform"])
                except PlatformError as exc:
                    raise ManifestToolError(f"manifests[{i}]: invalid platform: {exc}") from None
            layers = None
            if descriptor.media_type in mt.IMAGE_MANIFEST_TYPES:
                child = await client.get_manifest(
                    at_digest(reference, descriptor.digest), accept=ACCEPT
                )
                layers = _layers(json_object(child.body, descriptor.digest), descriptor.digest)
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
    config_descriptor = descriptor_of(document.get("config"), "config")
    config_bytes = await client.get_blob(
        reference, config_descriptor.digest, size=config_descriptor.size
    )
    config = json_object(config_bytes, f"config {config_descriptor.digest}")
    return InspectResult(
        name=name,
        reference=reference,
        media_type=fetched.media_type,
        digest=fetched.digest,
        raw=fetched.body,
        platform=config_platform(config, name),
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
                f" ({ATTESTATION_ANNOTATION}={ATTESTATION_VALUE})" if entry.is_attestation else ""
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
