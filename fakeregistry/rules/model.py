"""Typed, read-only views over the raw bytes of a manifest.

The registry stores the exact bytes a client pushed (their hash *is* the manifest's digest), so
nothing here re-serialises. :func:`parse_manifest` checks a body against its media type the way
distribution's ``ocischema``/``schema2``/``manifestlist`` packages do, and returns a
:class:`Manifest` that says which blobs and manifests it references. Invalid input raises
:class:`~fakeregistry.rules.errors.RegistryError` with ``MANIFEST_INVALID`` and a detail naming the
field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.digest import Digest, DigestError
from fakeregistry.rules.errors import ErrorCode, RegistryError
from fakeregistry.rules.jsontext import JSONTextError, is_int64, loads

__all__ = ["Descriptor", "Manifest", "parse_manifest"]

JSONObject = dict[str, Any]

# Media types whose layers may live outside the registry (image-spec "non-distributable" and
# Docker "foreign" layers): with ``urls`` they need not be pushed before the manifest.
_NON_DISTRIBUTABLE = frozenset(
    {
        mt.DOCKER_FOREIGN_LAYER,
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    }
)


def _invalid(detail: str) -> RegistryError:
    return RegistryError(ErrorCode.MANIFEST_INVALID, detail)


@dataclass(frozen=True, slots=True)
class Descriptor:
    """An OCI content descriptor (image-spec ``descriptor.md``) as read from a manifest."""

    media_type: str
    digest: str
    size: int
    urls: tuple[str, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict)
    artifact_type: str | None = None
    platform: JSONObject | None = None

    @classmethod
    def from_json(cls, value: Any, where: str, *, media_type_required: bool = True) -> Descriptor:
        """Validate a descriptor object found at ``where`` (a JSON path for error details)."""
        if not isinstance(value, dict):
            raise _invalid(f"{where}: descriptor must be an object")
        media_type = value.get("mediaType")
        if media_type is None and not media_type_required:
            media_type = ""
        if not isinstance(media_type, str):
            raise _invalid(f"{where}.mediaType: must be a string")
        digest = value.get("digest")
        if not isinstance(digest, str):
            raise _invalid(f"{where}.digest: must be a string")
        try:
            Digest.parse(digest)
        except DigestError as exc:
            raise _invalid(f"{where}.digest: {exc}") from None
        size = value.get("size")
        # Go decodes ``size`` into an int64: 2.0, 1e3 and 2**64 are refused there.
        if not is_int64(size):
            raise _invalid(f"{where}.size: must be a non-negative integer below 2**63")
        urls = value.get("urls", [])
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise _invalid(f"{where}.urls: must be a list of strings")
        artifact_type = value.get("artifactType")
        if artifact_type is not None and not isinstance(artifact_type, str):
            raise _invalid(f"{where}.artifactType: must be a string")
        platform = value.get("platform")
        if platform is not None:
            _check_platform(platform, f"{where}.platform")
        return cls(
            media_type=media_type,
            digest=digest,
            size=size,
            urls=tuple(urls),
            annotations=_annotations(value, where),
            artifact_type=artifact_type,
            platform=platform,
        )

    @property
    def is_external(self) -> bool:
        """A layer that may be fetched from its ``urls`` instead of this registry."""
        return bool(self.urls) and (
            self.media_type in _NON_DISTRIBUTABLE or "nondistributable" in self.media_type
        )


def _check_platform(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise _invalid(f"{where}: must be an object")
    for key in ("os", "architecture"):
        if not isinstance(value.get(key), str):
            raise _invalid(f"{where}.{key}: must be a string")
    for key in ("variant", "os.version"):
        if key in value and not isinstance(value[key], str):
            raise _invalid(f"{where}.{key}: must be a string")
    for key in ("os.features", "features"):
        if key in value and not (
            isinstance(value[key], list) and all(isinstance(f, str) for f in value[key])
        ):
            raise _invalid(f"{where}.{key}: must be a list of strings")


def _annotations(value: JSONObject, where: str) -> dict[str, str]:
    annotations = value.get("annotations")
    if annotations is None:
        return {}
    if not isinstance(annotations, dict) or not all(
        isinstance(v, str) for v in annotations.values()
    ):
        raise _invalid(f"{where}.annotations: must be an object of strings")
    return annotations


@dataclass(frozen=True, slots=True)
class Manifest:
    """A validated manifest: its media type and the content it points at."""

    media_type: str
    config: Descriptor | None = None
    layers: tuple[Descriptor, ...] = ()
    manifests: tuple[Descriptor, ...] = ()
    subject: Descriptor | None = None
    artifact_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        """True for an OCI index or a Docker manifest list."""
        return self.media_type in mt.INDEX_TYPES

    def required_blobs(self) -> list[str]:
        """Digests that must be blobs of the repository before this manifest may be pushed:
        the config and every layer, except external layers that carry ``urls``."""
        blobs = [self.config.digest] if self.config else []
        blobs.extend(layer.digest for layer in self.layers if not layer.is_external)
        return blobs

    def required_manifests(self) -> list[str]:
        """Digests that must be manifests of the repository: an index's children."""
        return [child.digest for child in self.manifests]

    def referrer_artifact_type(self) -> str | None:
        """The ``artifactType`` the referrers API reports: the manifest's own, else its config's
        media type (distribution-spec "Listing Referrers")."""
        if self.artifact_type:
            return self.artifact_type
        return self.config.media_type if self.config else None


def parse_manifest(body: bytes, content_type: str | None) -> Manifest:
    """Validate ``body`` pushed with ``content_type`` and return its view.

    The media type comes from ``Content-Type`` (parameters ignored); a ``mediaType`` field in the
    body must agree with it. Docker schema 1 is refused: no current client pushes it and
    distribution v3 no longer stores it.
    """
    media_type = mt.base_type(content_type or "")
    if not media_type:
        raise _invalid("Content-Type is required and must name a manifest media type")
    if media_type in (mt.DOCKER_SCHEMA1, mt.DOCKER_SCHEMA1_SIGNED):
        raise _invalid("Docker schema 1 manifests are not supported")
    if media_type not in mt.MANIFEST_TYPES:
        raise _invalid(f"unsupported manifest media type {media_type!r}")
    try:
        # As Go's encoding/json reads it: UTF-8 without BOM, no NaN, bounded nesting.
        doc = loads(body)
    except JSONTextError as exc:
        raise _invalid(f"body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise _invalid("manifest must be a JSON object")
    version = doc.get("schemaVersion")
    # An int in Go: 2.0 and 2e0 equal 2 in Python but do not decode there.
    if type(version) is not int or version != 2:
        raise _invalid(f"schemaVersion must be 2, got {version!r}")
    declared = doc.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise _invalid("mediaType: must be a string")
    # OCI made the field optional; Docker's types require it (distribution's schema2 and
    # manifestlist unmarshalers reject a missing or different value).
    if declared != media_type and not (
        declared is None and media_type.startswith("application/vnd.oci")
    ):
        raise _invalid(f"mediaType in manifest is {declared!r}, Content-Type is {media_type!r}")

    artifact_type = doc.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        raise _invalid("artifactType: must be a string")
    subject = None
    if doc.get("subject") is not None:
        if media_type.startswith("application/vnd.docker"):
            raise _invalid("subject is only allowed in OCI manifests and indexes")
        subject = Descriptor.from_json(doc["subject"], "subject")
    annotations = _annotations(doc, "manifest")

    if media_type in mt.INDEX_TYPES:
        for key in ("config", "layers"):
            if key in doc:
                raise _invalid(f"{key}: not allowed in an index")
        children = doc.get("manifests")
        if not isinstance(children, list):
            raise _invalid("manifests: must be a list")
        return Manifest(
            media_type=media_type,
            manifests=tuple(
                Descriptor.from_json(child, f"manifests[{i}]") for i, child in enumerate(children)
            ),
            subject=subject,
            artifact_type=artifact_type,
            annotations=annotations,
        )

    if "manifests" in doc:
        raise _invalid("manifests: not allowed in an image manifest")
    if "config" not in doc:
        raise _invalid("config: required")
    config = Descriptor.from_json(doc["config"], "config")
    layers = doc.get("layers", [])
    if not isinstance(layers, list):
        raise _invalid("layers: must be a list")
    return Manifest(
        media_type=media_type,
        config=config,
        layers=tuple(Descriptor.from_json(layer, f"layers[{i}]") for i, layer in enumerate(layers)),
        subject=subject,
        artifact_type=artifact_type,
        annotations=annotations,
    )
