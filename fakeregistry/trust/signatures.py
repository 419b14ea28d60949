"""Finding an image's signatures on any registry, over HTTP, and checking cosign's with keys.

:func:`find_signatures` looks where each client looks for a manifest digest D:

- cosign legacy: ``GET /v2/<repo>/manifests/sha256-<hex>.sig``, one signature per
  ``application/vnd.dev.cosign.simplesigning.v1+json`` layer (a 404 means none);
- referrers: ``GET /v2/<repo>/referrers/D`` (the client falls back to the referrers tag
  schema ``sha256-<hex>`` when the API answers 404, as oras-go and cosign do), keeping cosign
  oci-1-1 signatures, Sigstore bundles and notation signatures (``artifactType``, or the
  legacy ``config.mediaType`` form notation also reads). Each referrer's manifest is fetched
  by digest and its ``subject`` checked against D: annotations in the referrers index are
  not trusted.

:func:`check_cosign` and :func:`check_bundle` verify one found signature with public keys
and say which digest it binds; identity rules are :mod:`fakeregistry.trust.policy`'s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from fakeregistry.client import NotFoundError, RegistryClient, RegistryClientError
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.digest import Digest
from fakeregistry.rules.reference import ImageReference
from fakeregistry.trust import bundle, cosign, notation
from fakeregistry.trust.errors import InvalidSignature
from fakeregistry.trust.keys import PublicKey, key_hint

__all__ = [
    "FORMATS",
    "FoundSignature",
    "SignatureCheck",
    "check_bundle",
    "check_cosign",
    "find_signatures",
    "referrer_format",
    "referrers_api_available",
]

Format = Literal["cosign", "cosign-bundle", "notation"]
FORMATS: tuple[Format, ...] = ("cosign", "cosign-bundle", "notation")
# What a verifier reads at most (notation: 4 MiB manifests, 32 MiB blobs; c/image 4 MiB).
MAX_SIGNATURE_BLOB = 4 * 1024 * 1024
_REFERRER_TYPES = {
    cosign.SIGNATURE_ARTIFACT_TYPE: "cosign",
    bundle.BUNDLE_V03: "cosign-bundle",
    notation.ARTIFACT_TYPE: "notation",
}


@dataclass(frozen=True, slots=True)
class FoundSignature:
    """One signature as stored: its format, where it lives, and its bytes.

    ``blob`` is the simple-signing payload (cosign), the bundle JSON or the JWS envelope;
    ``annotations`` are the layer's (cosign) or the signature manifest's. ``problem`` is set
    when the signature was found but could not be read whole."""

    format: Format
    storage: Literal["tag", "referrer"]
    where: str
    subject: str
    manifest_digest: str
    media_type: str
    blob: bytes
    annotations: Mapping[str, str] = field(default_factory=dict)
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """Whether one signature holds: ``identity`` is the signed docker-reference (cosign), the
    leaf certificate's subject (notation) or the key hint (bundles); ``bound`` the digest the
    signature binds; ``holds`` is None when nothing was given to check it with."""

    signature: FoundSignature
    holds: bool | None
    reason: str
    identity: str | None = None
    bound: str | None = None
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.signature.format,
            "storage": self.signature.storage,
            "where": self.signature.where,
            "manifest": self.signature.manifest_digest,
            "subject": self.signature.subject,
            "identity": self.identity,
            "bound": self.bound,
            "holds": self.holds,
            "reason": self.reason,
            "warnings": list(self.warnings),
        }


def _at(
    ref: ImageReference, *, tag: str | None = None, digest: str | None = None
) -> ImageReference:
    return ImageReference(ref.registry, ref.repository, tag, digest)


async def referrers_api_available(
    client: RegistryClient, repo: ImageReference, digest: str
) -> bool:
    """True when ``GET /v2/<repo>/referrers/<digest>`` answers (rather than 404)."""
    with client.recording() as trace:
        await client.referrers(repo, digest)
    calls = [t for t in trace if "/referrers/" in t.url]
    return bool(calls) and calls[0].status == 200


async def _blob(client: RegistryClient, repo: ImageReference, layer: Mapping[str, Any]) -> bytes:
    size = layer.get("size")
    if isinstance(size, int) and size > MAX_SIGNATURE_BLOB:
        raise InvalidSignature(
            f"signature blob of {size} bytes is larger than {MAX_SIGNATURE_BLOB}"
        )
    return await client.get_blob(
        repo, str(layer.get("digest")), size=size if isinstance(size, int) else None
    )


async def _legacy(
    client: RegistryClient, repo: ImageReference, digest: str
) -> list[FoundSignature]:
    tag = cosign.signature_tag(digest)
    try:
        fetched = await client.get_manifest(
            _at(repo, tag=tag), accept=[mt.OCI_MANIFEST, mt.DOCKER_MANIFEST]
        )
    except NotFoundError:
        return []
    found: list[FoundSignature] = []
    try:
        layers = fetched.json().get("layers") or []
    except (ValueError, AttributeError):
        layers = []
    for number, layer in enumerate(layers, 1):
        if not isinstance(layer, dict) or layer.get("mediaType") != cosign.SIMPLE_SIGNING:
            continue
        annotations = layer.get("annotations") if isinstance(layer.get("annotations"), dict) else {}
        base = FoundSignature(
            format="cosign",
            storage="tag",
            where=f"tag {tag}, layer {number}",
            subject=digest,
            manifest_digest=fetched.digest,
            media_type=cosign.SIMPLE_SIGNING,
            blob=b"",
            annotations=dict(annotations or {}),
        )
        if fetched.media_type != mt.OCI_MANIFEST:
            # containers/image docker_client.go refuses anything but an OCI manifest here.
            found.append(
                replace(
                    base,
                    problem="unexpected MIME type for sigstore attachment manifest: "
                    + fetched.media_type,
                )
            )
            continue
        try:
            found.append(replace(base, blob=await _blob(client, repo, layer)))
        except (RegistryClientError, InvalidSignature) as exc:
            found.append(replace(base, problem=f"payload blob unreadable: {exc}"))
    return found


def referrer_format(document: Mapping[str, Any]) -> Format | None:
    """The signature format of a referrer's manifest (its ``artifactType``, or notation's
    OCI 1.0 config form), None when it is no signature."""
    return _referrer_format(None, document)


def _referrer_format(descriptor_type: str | None, document: Mapping[str, Any]) -> Format | None:
    kind = descriptor_type or document.get("artifactType")
    if isinstance(kind, str) and kind in _REFERRER_TYPES:
        return _REFERRER_TYPES[kind]  # type: ignore[return-value]
    config = document.get("config")
    config_type = config.get("mediaType") if isinstance(config, dict) else None
    if config_type == notation.ARTIFACT_TYPE:  # notation's OCI 1.0 form
        return "notation"
    return None


async def _referrers(
    client: RegistryClient, repo: ImageReference, digest: str
) -> list[FoundSignature]:
    with client.recording() as trace:
        descriptors = await client.referrers(repo, digest)
    api = any("/referrers/" in t.url and t.status == 200 for t in trace)
    via = "referrers API" if api else f"referrers tag schema {digest.replace(':', '-', 1)}"
    found: list[FoundSignature] = []
    for descriptor in descriptors:
        if descriptor.artifact_type is not None and descriptor.artifact_type not in _REFERRER_TYPES:
            continue
        try:
            fetched = await client.get_manifest(
                _at(repo, digest=descriptor.digest), accept=[mt.OCI_MANIFEST]
            )
            document = fetched.json()
        except (RegistryClientError, ValueError):
            continue
        if not isinstance(document, dict):
            continue
        kind = _referrer_format(None, document)
        if kind is None:
            continue
        subject = document.get("subject")
        layers = document.get("layers") or []
        manifest_annotations = document.get("annotations")
        base = FoundSignature(
            format=kind,
            storage="referrer",
            where=f"referrer {fetched.digest} ({via})",
            subject=digest,
            manifest_digest=fetched.digest,
            media_type="",
            blob=b"",
            annotations=dict(manifest_annotations)
            if isinstance(manifest_annotations, dict)
            else {},
        )
        if not isinstance(subject, dict) or subject.get("digest") != digest:
            bound = subject.get("digest") if isinstance(subject, dict) else None
            found.append(replace(base, problem=f"its subject is {bound}, not {digest}"))
            continue
        if kind == "cosign":
            for number, layer in enumerate(layers, 1):
                if not isinstance(layer, dict) or layer.get("mediaType") != cosign.SIMPLE_SIGNING:
                    continue
                annotations = (
                    layer.get("annotations") if isinstance(layer.get("annotations"), dict) else {}
                )
                entry = replace(
                    base,
                    where=f"{base.where}, layer {number}",
                    media_type=cosign.SIMPLE_SIGNING,
                    annotations=dict(annotations or {}),
                )
                try:
                    found.append(replace(entry, blob=await _blob(client, repo, layer)))
                except (RegistryClientError, InvalidSignature) as exc:
                    found.append(replace(entry, problem=f"payload blob unreadable: {exc}"))
            continue
        if not layers or not isinstance(layers[0], dict):
            found.append(replace(base, problem="the signature manifest has no layer"))
            continue
        if kind == "notation" and len(layers) != 1:
            found.append(
                replace(base, problem="a notation signature manifest must have exactly one layer")
            )
            continue
        layer = layers[0]
        media_type = str(layer.get("mediaType", ""))
        try:
            found.append(
                replace(base, media_type=media_type, blob=await _blob(client, repo, layer))
            )
        except (RegistryClientError, InvalidSignature) as exc:
            found.append(
                replace(base, media_type=media_type, problem=f"signature blob unreadable: {exc}")
            )
    return found


async def find_signatures(
    client: RegistryClient,
    ref: ImageReference | str,
    digest: str,
    *,
    formats: Sequence[Format] = FORMATS,
) -> list[FoundSignature]:
    """Every signature of manifest *digest* in *ref*'s repository, in the formats asked for:
    the ``.sig`` tag first, then referrers in the registry's order."""
    repo = ref if isinstance(ref, ImageReference) else ImageReference.parse(ref)
    Digest.parse(digest)
    found: list[FoundSignature] = []
    if "cosign" in formats:
        found.extend(await _legacy(client, repo, digest))
    if any(f in formats for f in FORMATS):
        found.extend(s for s in await _referrers(client, repo, digest) if s.format in formats)
    return found


def check_cosign(
    signature: FoundSignature, keys: Sequence[PublicKey], digest: str
) -> SignatureCheck:
    """A cosign signature holds when the annotation is a valid signature of the payload by
    one of *keys* (checked first, before the JSON is read), the payload parses strictly, and
    its ``docker-manifest-digest`` is *digest*."""
    if signature.problem:
        return SignatureCheck(signature, False, signature.problem)
    try:
        key = cosign.verify_bytes(
            keys, signature.annotations.get(cosign.SIGNATURE_ANNOTATION, ""), signature.blob
        )
        payload = cosign.parse_payload(
            signature.blob, allowed_types=(cosign.COSIGN_TYPE, cosign.ATOMIC_TYPE)
        )
    except InvalidSignature as exc:
        return SignatureCheck(signature, False, str(exc))
    if payload.digest != digest:
        return SignatureCheck(
            signature,
            False,
            f"Signature for docker digest {payload.digest!r} does not match (the image is "
            f"{digest})",
            identity=payload.docker_reference,
            bound=payload.digest,
        )
    return SignatureCheck(
        signature,
        True,
        f"signed by key {key_hint(key)}",
        identity=payload.docker_reference,
        bound=payload.digest,
    )


def check_bundle(
    signature: FoundSignature, keys: Sequence[PublicKey], digest: str
) -> SignatureCheck:
    """A bundle holds when its DSSE signature is by one of *keys* and its in-toto statement's
    subject names *digest* with the cosign signing predicate."""
    if signature.problem:
        return SignatureCheck(signature, False, signature.problem)
    try:
        verified = bundle.verify_bundle(signature.blob, keys)
    except InvalidSignature as exc:
        return SignatureCheck(signature, False, str(exc))
    hint = key_hint(verified.key)
    bound = verified.digests[0] if verified.digests else None
    if digest not in verified.digests:
        return SignatureCheck(
            signature,
            False,
            f"the in-toto subject {', '.join(verified.digests) or '(none)'} does not match "
            f"the image digest {digest}",
            identity=f"key {hint}",
            bound=bound,
        )
    if verified.predicate_type != bundle.COSIGN_SIGN_PREDICATE:
        return SignatureCheck(
            signature,
            False,
            f"predicate type {verified.predicate_type} is not {bundle.COSIGN_SIGN_PREDICATE}",
            identity=f"key {hint}",
            bound=digest,
        )
    return SignatureCheck(
        signature, True, f"signed by key {hint}", identity=f"key {hint}", bound=digest
    )


def describe_payload(blob: bytes) -> tuple[str | None, str | None]:
    """(docker-reference, digest) of a simple-signing payload without verifying it (for
    listing signatures no key was given for)."""
    try:
        document = json.loads(blob)
        critical = document["critical"]
        return critical["identity"]["docker-reference"], critical["image"]["docker-manifest-digest"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None, None
