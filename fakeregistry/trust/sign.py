"""Signing images on any registry, over HTTP, with a key (no network beyond the registry).

::

    pair = generate_key()
    await sign("127.0.0.1:5000/app:1.0", pair)                            # cosign .sig tag
    await sign("127.0.0.1:5000/app:1.0", pair, format="cosign-bundle")    # cosign v3 bundle
    await sign("127.0.0.1:5000/app:1.0", make_certificate_chain(), format="notation")
    await sign("127.0.0.1:5000/app:1.0", pair, recursive=True)            # index and children

The referrer formats (``cosign-bundle``, ``notation``, and ``cosign`` with ``referrer=True``)
push the signature manifest by digest with a ``subject``. On a registry without the referrers
API (``GET /v2/<name>/referrers/<digest>`` answers 404, as CNCF distribution 2.8 does) the
signature is also listed in the referrers tag schema, an OCI index tagged ``sha256-<hex>``
(distribution-spec "Referrers Tag Schema"; what oras-go, notation and cosign's bundle
writer do), unless ``referrers_fallback=False``, which refuses before pushing anything.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from fakeregistry.client import (
    DEFAULT_MANIFEST_ACCEPT,
    FetchedManifest,
    NotFoundError,
    RegistryClient,
)
from fakeregistry.client.connection import Connection, connect, sync_twin
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.reference import ImageReference, ImageReferenceError
from fakeregistry.tools.builder import BuiltBlob
from fakeregistry.trust import bundle, cosign, notation
from fakeregistry.trust.errors import TrustError
from fakeregistry.trust.keys import CertificateChain, KeyPair, load_certificates, load_private_key
from fakeregistry.trust.signatures import referrers_api_available

__all__ = ["SIGN_FORMATS", "SignFormat", "SignResult", "SignedManifest", "sign", "sign_sync"]

SignFormat = Literal["cosign", "cosign-bundle", "notation"]
SIGN_FORMATS: tuple[SignFormat, ...] = ("cosign", "cosign-bundle", "notation")
KeyLike = KeyPair | CertificateChain | ec.EllipticCurvePrivateKey | str | bytes | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class SignedManifest:
    """One signature pushed: the signed manifest, the format, where it went and the digest of
    the signature manifest."""

    digest: str
    format: SignFormat
    where: str
    signature_manifest: str


@dataclass(frozen=True, slots=True)
class SignResult:
    reference: ImageReference
    digest: str
    media_type: str
    signed: tuple[SignedManifest, ...]


@dataclass
class _Signer:
    client: RegistryClient
    repo: ImageReference
    format: SignFormat
    key: ec.EllipticCurvePrivateKey
    chain: CertificateChain | None
    referrer: bool
    identity: str | None
    annotations: Mapping[str, str]
    fallback: bool
    signing_time: dt.datetime | None
    expiry: dt.datetime | None
    api: bool | None = None

    def at(self, *, tag: str | None = None, digest: str | None = None) -> ImageReference:
        return ImageReference(self.repo.registry, self.repo.repository, tag, digest)

    async def push_blob(self, blob: BuiltBlob | bytes) -> None:
        data = blob.data if isinstance(blob, BuiltBlob) else blob
        await self.client.push_blob(self.repo, data, skip_existing=True)

    async def check_referrers(self, digest: str) -> None:
        if self.api is None:
            self.api = await referrers_api_available(self.client, self.repo, digest)
        if not self.api and not self.fallback:
            raise TrustError(
                f"{self.repo.registry} has no referrers API (GET /v2/{self.repo.repository}/"
                f"referrers/{digest} answered 404), so a {self.format} signature pushed by "
                "digest could not be found; allow the referrers tag schema fallback "
                f"({digest.replace(':', '-', 1)}) or use the cosign .sig tag format"
            )

    async def put_referrer(
        self,
        subject: Mapping[str, Any],
        body: bytes,
        artifact_type: str,
        annotations: Mapping[str, str] | None,
    ) -> str:
        digest = await self.client.put_manifest(
            self.at(digest=_sha256(body)), body, mt.OCI_MANIFEST
        )
        if self.api:
            return f"referrer {digest} (referrers API)"
        tag = str(subject["digest"]).replace(":", "-", 1)
        try:
            index = (await self.client.get_manifest(self.at(tag=tag), accept=[mt.OCI_INDEX])).json()
        except NotFoundError:
            index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []}
        entries = [m for m in index.get("manifests") or [] if isinstance(m, dict)]
        if not any(m.get("digest") == digest for m in entries):
            entry: dict[str, Any] = {
                "mediaType": mt.OCI_MANIFEST,
                "digest": digest,
                "size": len(body),
                "artifactType": artifact_type,
            }
            if annotations:
                entry["annotations"] = dict(annotations)
            entries.append(entry)
        index["manifests"] = entries
        await self.client.put_manifest(self.at(tag=tag), cosign.go_json(index), mt.OCI_INDEX)
        return f"referrer {digest} (referrers tag schema {tag})"

    async def sign_one(self, subject: Mapping[str, Any]) -> SignedManifest:
        digest = str(subject["digest"])
        if self.format == "cosign":
            return await self.cosign(subject)
        await self.check_referrers(digest)
        if self.format == "cosign-bundle":
            data = bundle.make_bundle(self.key, digest)
            body, config = bundle.referrer_manifest(subject, data, created=self.signing_time)
            artifact_type = bundle.BUNDLE_V03
        else:
            assert self.chain is not None
            envelope = notation.make_envelope(
                self.chain, subject, signing_time=self.signing_time, expiry=self.expiry
            )
            body, config = notation.signature_manifest(
                subject, envelope, self.chain.certificates, signing_time=self.signing_time
            )
            data = envelope
            artifact_type = notation.ARTIFACT_TYPE
        await self.push_blob(config)
        await self.push_blob(data)
        annotations = _manifest_annotations(body)
        where = await self.put_referrer(subject, body, artifact_type, annotations)
        return SignedManifest(digest, self.format, where, _sha256(body))

    async def cosign(self, subject: Mapping[str, Any]) -> SignedManifest:
        digest = str(subject["digest"])
        reference = self.identity or f"{self.repo.registry}/{self.repo.repository}"
        payload = cosign.simple_signing_payload(reference, digest, self.annotations or None)
        signature = cosign.sign_bytes(self.key, payload)
        if self.referrer:
            await self.check_referrers(digest)
            body, config = cosign.referrer_manifest(subject, payload, signature)
            await self.push_blob(config)
            await self.push_blob(payload)
            where = await self.put_referrer(subject, body, cosign.SIGNATURE_ARTIFACT_TYPE, None)
            return SignedManifest(digest, "cosign", where, _sha256(body))
        tag = cosign.signature_tag(digest)
        existing: bytes | None
        try:
            existing = (
                await self.client.get_manifest(self.at(tag=tag), accept=[mt.OCI_MANIFEST])
            ).body
        except NotFoundError:
            existing = None
        body, config = cosign.append_signature(existing, payload, signature)
        await self.push_blob(payload)
        await self.push_blob(config)
        digest_of_sig = await self.client.put_manifest(self.at(tag=tag), body, mt.OCI_MANIFEST)
        return SignedManifest(digest, "cosign", f"tag {tag}", digest_of_sig)


def _manifest_annotations(body: bytes) -> dict[str, str] | None:
    document = json.loads(body)
    annotations = document.get("annotations")
    return dict(annotations) if isinstance(annotations, dict) else None


def _sha256(data: bytes) -> str:
    return BuiltBlob(data, mt.OCTET_STREAM).digest


async def _children(
    client: RegistryClient, repo: ImageReference, index: FetchedManifest, depth: int = 0
) -> list[dict[str, Any]]:
    if depth > mt.MAX_INDEX_DEPTH:
        raise TrustError(
            f"indexes nested deeper than {mt.MAX_INDEX_DEPTH} levels at {index.digest}"
        )
    out: list[dict[str, Any]] = []
    for entry in index.json().get("manifests") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("digest"), str):
            continue
        descriptor = {k: entry[k] for k in ("mediaType", "digest", "size") if k in entry}
        out.append(descriptor)
        if entry.get("mediaType") in mt.INDEX_TYPES:
            child = await client.get_manifest(
                ImageReference(repo.registry, repo.repository, None, entry["digest"])
            )
            out.extend(await _children(client, repo, child, depth + 1))
    return out


def _key_material(
    key: KeyLike, format: SignFormat, certificates: Any
) -> tuple[ec.EllipticCurvePrivateKey, CertificateChain | None]:
    if isinstance(key, CertificateChain):
        return key.key, key
    private = load_private_key(key)
    if format != "notation":
        return private, None
    if certificates is None:
        raise TrustError("notation signing needs a certificate chain (leaf first, root last)")
    chain = (
        tuple(load_certificates(certificates))
        if not isinstance(certificates, CertificateChain)
        else certificates.certificates
    )
    return private, CertificateChain(
        private, tuple(c for c in chain if isinstance(c, x509.Certificate))
    )


async def sign(
    ref: ImageReference | str,
    key: KeyLike,
    *,
    format: SignFormat = "cosign",
    recursive: bool = False,
    referrer: bool = False,
    identity: str | None = None,
    annotations: Mapping[str, str] | None = None,
    certificates: str | bytes | os.PathLike[str] | Sequence[x509.Certificate] | None = None,
    referrers_fallback: bool = True,
    signing_time: dt.datetime | None = None,
    expiry: dt.datetime | None = None,
    connection: Connection | None = None,
) -> SignResult:
    """Sign the manifest *ref* resolves to (and, *recursive*, every manifest an index lists).

    - *key*: a :class:`~fakeregistry.trust.keys.KeyPair`, a private key, PEM or a PEM file; for
      ``notation`` a :class:`~fakeregistry.trust.keys.CertificateChain`, or a key with
      *certificates* (the chain, leaf first).
    - *format*: ``cosign`` (the ``sha256-<hex>.sig`` tag; *referrer* pushes it as an oci-1-1
      referrer instead), ``cosign-bundle`` or ``notation``.
    - *identity*: the ``docker-reference`` a cosign payload claims (default: the repository,
      as cosign writes); *annotations*: cosign's ``optional`` claims (``-a k=v``).
    - *signing_time*/*expiry*: notation's signing time and ``io.cncf.notary.expiry``.
    - *connection*: as for :func:`fakeregistry.engine.pull.pull`.
    """
    if format not in SIGN_FORMATS:
        raise ValueError(f"format must be one of {', '.join(SIGN_FORMATS)}, not {format!r}")
    try:
        reference = ref if isinstance(ref, ImageReference) else ImageReference.parse(ref)
    except ImageReferenceError as exc:
        raise TrustError(str(exc)) from None
    private, chain = _key_material(key, format, certificates)
    async with connect(reference.registry, connection) as client:
        return await _sign(
            client,
            reference,
            format,
            private,
            chain,
            recursive,
            referrer,
            identity,
            annotations,
            referrers_fallback,
            signing_time,
            expiry,
        )


async def _sign(
    client: RegistryClient,
    reference: ImageReference,
    format: SignFormat,
    key: ec.EllipticCurvePrivateKey,
    chain: CertificateChain | None,
    recursive: bool,
    referrer: bool,
    identity: str | None,
    annotations: Mapping[str, str] | None,
    fallback: bool,
    signing_time: dt.datetime | None,
    expiry: dt.datetime | None,
) -> SignResult:
    top = await client.get_manifest(reference, accept=DEFAULT_MANIFEST_ACCEPT)
    signer = _Signer(
        client,
        reference,
        format,
        key,
        chain,
        referrer,
        identity,
        dict(annotations or {}),
        fallback,
        signing_time,
        expiry,
    )
    subjects = [{"mediaType": top.media_type, "digest": top.digest, "size": top.size}]
    if recursive and top.is_index:
        subjects.extend(await _children(client, reference, top))
    signed = [await signer.sign_one(subject) for subject in subjects]
    return SignResult(reference, top.digest, top.media_type, tuple(signed))


sign_sync = sync_twin(sign)
