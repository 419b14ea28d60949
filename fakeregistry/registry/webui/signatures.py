"""A manifest's signatures as the web page shows them, read from storage without HTTP.

It looks where :func:`fakeregistry.trust.signatures.find_signatures` looks over HTTP: cosign's
``sha256-<hex>.sig`` tag (one signature per simple-signing layer) and the referrers of the
manifest whose type is a cosign signature, a Sigstore bundle or a notation signature. Each
row says the format, where it is stored and which digest it binds; with public keys (PEM, as
the page's form takes them) the cosign formats are verified by
:func:`~fakeregistry.trust.signatures.check_cosign` and
:func:`~fakeregistry.trust.signatures.check_bundle`. Notation signatures need a trust store,
which ``fakeregistry verify --policy`` takes; the page only reads which digest they bind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Literal

from fakeregistry.registry.storage import Storage, StoredManifest
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.errors import RegistryError
from fakeregistry.trust import cosign, notation
from fakeregistry.trust.errors import InvalidSignature, TrustError
from fakeregistry.trust.keys import PublicKey, load_public_keys
from fakeregistry.trust.signatures import (
    MAX_SIGNATURE_BLOB,
    FoundSignature,
    check_bundle,
    check_cosign,
    describe_payload,
    referrer_format,
)

__all__ = ["SignatureView", "describe_signatures", "parse_keys"]


@dataclass(frozen=True, slots=True)
class SignatureView:
    """One signature row: ``verified`` is None when nothing was given to check it with."""

    format: str
    where: str
    manifest: str
    identity: str | None
    bound: str | None
    verified: bool | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "where": self.where,
            "manifest": self.manifest,
            "identity": self.identity,
            "bound": self.bound,
            "verified": self.verified,
            "reason": self.reason,
        }


def parse_keys(text: str) -> list[PublicKey]:
    """Public keys from PEM text (the form's field); :class:`TrustError` if there is none."""
    return load_public_keys(text.encode())


def _blob(storage: Storage, repository: str, layer: Any) -> bytes | str:
    """A signature blob's bytes, or why it cannot be read."""
    if not isinstance(layer, dict) or not isinstance(layer.get("digest"), str):
        return "the layer has no digest"
    size = layer.get("size")
    if isinstance(size, int) and size > MAX_SIGNATURE_BLOB:
        return f"signature blob of {size} bytes is larger than {MAX_SIGNATURE_BLOB}"
    try:
        return storage.get_blob(repository, layer["digest"]).read()
    except RegistryError as exc:
        return f"blob unreadable: {exc}"


def _document(stored: StoredManifest) -> dict[str, Any]:
    try:
        document = json.loads(stored.body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return document if isinstance(document, dict) else {}


def _layers(document: dict[str, Any]) -> list[Any]:
    layers = document.get("layers")
    return layers if isinstance(layers, list) else []


def _annotations(value: Any) -> dict[str, str]:
    return dict(value) if isinstance(value, dict) else {}


def _found(storage: Storage, repository: str, digest: str) -> list[FoundSignature]:
    found: list[FoundSignature] = []
    tag = cosign.signature_tag(digest)
    try:
        legacy: StoredManifest | None = storage.resolve(repository, tag)
    except RegistryError:
        legacy = None
    sources: list[tuple[StoredManifest, Literal["tag", "referrer"], str]] = []
    if legacy is not None:
        sources.append((legacy, "tag", f"tag {tag}"))
    for descriptor in storage.referrers(repository, digest, None):
        stored = storage.get_manifest_by_digest(repository, str(descriptor["digest"]))
        if stored is not None:
            sources.append((stored, "referrer", f"referrer {stored.digest}"))
    for stored, kind, where in sources:
        document = _document(stored)
        form = "cosign" if kind == "tag" else referrer_format(document)
        if form is None:
            continue
        base = FoundSignature(
            format=form,
            storage=kind,
            where=where,
            subject=digest,
            manifest_digest=stored.digest,
            media_type="",
            blob=b"",
            annotations=_annotations(document.get("annotations")),
        )
        layers = _layers(document)
        if form == "cosign":
            for number, layer in enumerate(layers, 1):
                if not isinstance(layer, dict) or layer.get("mediaType") != cosign.SIMPLE_SIGNING:
                    continue
                blob = _blob(storage, repository, layer)
                found.append(
                    FoundSignature(
                        format="cosign",
                        storage=kind,
                        where=f"{where}, layer {number}",
                        subject=digest,
                        manifest_digest=stored.digest,
                        media_type=cosign.SIMPLE_SIGNING,
                        blob=blob if isinstance(blob, bytes) else b"",
                        annotations=_annotations(layer.get("annotations")),
                        problem=None if isinstance(blob, bytes) else blob,
                    )
                )
            if kind == "tag" and stored.media_type != mt.OCI_MANIFEST:
                # containers/image refuses anything but an OCI manifest here.
                found = [replace(s, problem="not an OCI manifest") for s in found]
            continue
        if not layers:
            found.append(replace(base, problem="the signature manifest has no layer"))
            continue
        blob = _blob(storage, repository, layers[0])
        media_type = str(layers[0].get("mediaType", "")) if isinstance(layers[0], dict) else ""
        found.append(
            replace(
                base,
                media_type=media_type,
                blob=blob if isinstance(blob, bytes) else b"",
                problem=None if isinstance(blob, bytes) else blob,
            )
        )
    return found


def _notation_bound(signature: FoundSignature) -> str | None:
    try:
        envelope = notation.parse_envelope(signature.blob, signature.media_type)
    except (InvalidSignature, TrustError):
        return None
    value = envelope.target.get("digest")
    return value if isinstance(value, str) else None


def describe_signatures(
    storage: Storage, repository: str, digest: str, keys: list[PublicKey] | None = None
) -> list[SignatureView]:
    """Every signature of manifest *digest* in *repository*, checked with *keys* if given."""
    rows: list[SignatureView] = []
    for signature in _found(storage, repository, digest):
        identity = bound = None
        verified: bool | None = None
        if signature.format == "notation":
            bound = _notation_bound(signature)
            reason = (
                signature.problem or "notation: verify with a trust store (fakeregistry verify)"
            )
        elif keys:
            check = (
                check_cosign(signature, keys, digest)
                if signature.format == "cosign"
                else check_bundle(signature, keys, digest)
            )
            identity, bound, verified, reason = (
                check.identity,
                check.bound,
                check.holds,
                check.reason,
            )
        else:
            if signature.format == "cosign" and not signature.problem:
                identity, bound = describe_payload(signature.blob)
            reason = signature.problem or "not checked: no key given"
        rows.append(
            SignatureView(
                signature.format,
                signature.where,
                signature.manifest_digest,
                identity,
                bound,
                verified,
                reason,
            )
        )
    return rows
