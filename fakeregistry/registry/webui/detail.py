"""One manifest in full, for the page's manifest view, built from storage without HTTP: its
bytes exactly as stored and served, digest and media type, the config blob (and its JSON when
small), the layers, an index's entries, the referrers and the signatures."""

from __future__ import annotations

import json
from dataclasses import dataclass

from fakeregistry.registry.storage import Storage
from fakeregistry.registry.webui.signatures import SignatureView, describe_signatures
from fakeregistry.registry.webui.view import CONFIG_READ_LIMIT, ManifestView, describe_manifest
from fakeregistry.rules.errors import RegistryError
from fakeregistry.rules.model import Descriptor
from fakeregistry.trust.keys import PublicKey

__all__ = ["BlobView", "ManifestDetail", "ReferrerView", "describe_detail", "raw_manifest"]


@dataclass(frozen=True, slots=True)
class BlobView:
    """A config or layer descriptor, and whether the repository holds its blob."""

    media_type: str
    digest: str
    size: int
    present: bool
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ReferrerView:
    """A manifest whose ``subject`` is this one (the referrers API's descriptor)."""

    digest: str
    media_type: str
    artifact_type: str
    size: int
    annotations: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ManifestDetail:
    """What the manifest view shows of ``repository@digest`` (reached by ``reference``)."""

    repository: str
    reference: str
    summary: ManifestView
    raw: bytes
    tags: tuple[str, ...]
    config: BlobView | None
    config_json: str | None
    layers: tuple[BlobView, ...]
    referrers: tuple[ReferrerView, ...]
    signatures: tuple[SignatureView, ...]
    subject: str | None

    @property
    def raw_text(self) -> str:
        """The bytes as text (a byte that is not UTF-8 shows as ``\\xNN``)."""
        return self.raw.decode("utf-8", "backslashreplace")


def raw_manifest(storage: Storage, repository: str, reference: str) -> tuple[bytes, str, str]:
    """``(bytes, media type, digest)`` of the manifest *reference* names; ``RegistryError``
    (``NAME_UNKNOWN``, ``MANIFEST_UNKNOWN``) otherwise."""
    stored = storage.resolve(repository, reference)
    return stored.body, stored.media_type, stored.digest


def _blob(storage: Storage, repository: str, descriptor: Descriptor) -> BlobView:
    return BlobView(
        descriptor.media_type,
        descriptor.digest,
        descriptor.size,
        storage.has_blob(repository, descriptor.digest),
        tuple(sorted(descriptor.annotations.items())),
    )


def _config_json(storage: Storage, repository: str, config: BlobView) -> str | None:
    if not config.present or config.size > CONFIG_READ_LIMIT:
        return None
    try:
        document = json.loads(storage.get_blob(repository, config.digest).read())
    except (ValueError, UnicodeDecodeError, RecursionError, RegistryError):
        return None
    return json.dumps(document, indent=2, ensure_ascii=False)


def describe_detail(
    storage: Storage,
    repository: str,
    reference: str,
    *,
    keys: list[PublicKey] | None = None,
) -> ManifestDetail | None:
    """The manifest view of ``repository:reference`` (None when there is no such manifest);
    *keys* verify its cosign signatures."""
    try:
        stored = storage.resolve(repository, reference)
    except RegistryError:
        return None
    repo = storage.repository(repository)
    tags = tuple(sorted(t for t, d in repo.tags.items() if d == stored.digest)) if repo else ()
    tag = reference if reference in tags else (tags[0] if tags else None)
    summary = describe_manifest(storage, repository, tag, stored)
    view = stored.view
    config = _blob(storage, repository, view.config) if view.config else None
    referrers = tuple(
        ReferrerView(
            digest=str(d["digest"]),
            media_type=str(d["mediaType"]),
            artifact_type=str(d.get("artifactType", "")),
            size=int(str(d["size"])),
            annotations=tuple(sorted(dict(d.get("annotations") or {}).items())),  # type: ignore[call-overload]
        )
        for d in storage.referrers(repository, stored.digest, None)
    )
    return ManifestDetail(
        repository=repository,
        reference=reference,
        summary=summary,
        raw=stored.body,
        tags=tags,
        config=config,
        config_json=_config_json(storage, repository, config) if config else None,
        layers=tuple(_blob(storage, repository, layer) for layer in view.layers),
        referrers=referrers,
        signatures=tuple(describe_signatures(storage, repository, stored.digest, keys)),
        subject=view.subject.digest if view.subject else None,
    )
