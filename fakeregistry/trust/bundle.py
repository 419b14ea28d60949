"""cosign v3's default: a Sigstore bundle v0.3 holding a DSSE-signed in-toto statement,
attached through the referrers API (key-based, no transparency log).

- Statement (``cosign sign`` ``signDigestBundle``): ``_type``
  ``https://in-toto.io/Statement/v1``, ``subject`` ``[{"digest": {"sha256": "<hex>"}}]``,
  ``predicateType`` ``https://sigstore.dev/cosign/sign/v1``, ``predicate`` ``{}``.
- DSSE (``secure-systems-lab/dsse protocol.md``): the signature is over
  ``PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``.
- Bundle (``sigstore/protobuf-specs sigstore_bundle.proto``, protobuf-JSON names):
  ``{"mediaType", "verificationMaterial": {"publicKey": {"hint"}}, "dsseEnvelope":
  {"payload", "payloadType", "signatures": [{"sig"}]}}``.
- Referrer manifest (cosign ``WriteReferrer``): ``artifactType`` the bundle type, the empty
  config with the same ``artifactType`` inside its descriptor, one bundle layer, ``subject``,
  and the ``org.opencontainers.image.created``, ``dev.sigstore.bundle.content`` and
  ``dev.sigstore.bundle.predicateType`` annotations.

protojson's whitespace is not stable, so a verifier uses the statement bytes as stored.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import CREATED_ANNOTATION as CREATED_ANNOTATION
from fakeregistry.rules.digest import Digest
from fakeregistry.tools.builder import BuiltBlob
from fakeregistry.trust.cosign import go_json, sign_bytes, verify_bytes
from fakeregistry.trust.errors import InvalidSignature
from fakeregistry.trust.keys import PublicKey, key_hint

__all__ = [
    "BUNDLE_V03",
    "COSIGN_SIGN_PREDICATE",
    "INTOTO_PAYLOAD_TYPE",
    "INTOTO_STATEMENT_V1",
    "VerifiedBundle",
    "make_bundle",
    "pae",
    "referrer_manifest",
    "verify_bundle",
]

BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
INTOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1"
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
CONTENT_ANNOTATION = "dev.sigstore.bundle.content"
PREDICATE_ANNOTATION = "dev.sigstore.bundle.predicateType"


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE's pre-authentication encoding."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def statement(digest: str, predicate_type: str = COSIGN_SIGN_PREDICATE) -> bytes:
    parsed = Digest.parse(digest)
    document = {
        "_type": INTOTO_STATEMENT_V1,
        "subject": [{"digest": {parsed.algorithm: parsed.encoded}}],
        "predicateType": predicate_type,
        "predicate": {},
    }
    return go_json(document)


def make_bundle(key: ec.EllipticCurvePrivateKey, digest: str) -> bytes:
    """The bundle cosign v3 pushes for *digest*, signed with *key*."""
    body = statement(digest)
    signature = sign_bytes(key, pae(INTOTO_PAYLOAD_TYPE, body))
    document = {
        "mediaType": BUNDLE_V03,
        "verificationMaterial": {"publicKey": {"hint": key_hint(key.public_key())}},
        "dsseEnvelope": {
            "payload": base64.b64encode(body).decode(),
            "payloadType": INTOTO_PAYLOAD_TYPE,
            "signatures": [{"sig": signature}],
        },
    }
    return go_json(document)


def referrer_manifest(
    subject: Mapping[str, Any], bundle: bytes, *, created: dt.datetime | None = None
) -> tuple[bytes, BuiltBlob]:
    """The referrer manifest for *bundle*, and its (empty) config blob."""
    config = BuiltBlob(b"{}", mt.OCI_EMPTY)
    layer = BuiltBlob(bundle, BUNDLE_V03)
    when = (created or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": BUNDLE_V03,
        "config": {**config.descriptor(), "artifactType": BUNDLE_V03},
        "layers": [layer.descriptor()],
        "subject": dict(subject),
        "annotations": {
            CREATED_ANNOTATION: when,
            CONTENT_ANNOTATION: "dsse-envelope",
            PREDICATE_ANNOTATION: COSIGN_SIGN_PREDICATE,
        },
    }
    return go_json(manifest), config


@dataclass(frozen=True, slots=True)
class VerifiedBundle:
    """What a bundle that holds says: the key that signed it and the digests it binds."""

    key: PublicKey
    hint: str | None
    digests: tuple[str, ...]
    predicate_type: str


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidSignature(f"invalid bundle: {what} is not a string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSignature(f"invalid bundle: {what} is not base64") from None


def verify_bundle(data: bytes, keys: Sequence[PublicKey]) -> VerifiedBundle:
    """Check a bundle's DSSE signature with *keys*, then read its statement's subjects.
    The digest binding is the caller's: compare :attr:`VerifiedBundle.digests`."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidSignature(f"invalid bundle: not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("mediaType") != BUNDLE_V03:
        raise InvalidSignature(f"invalid bundle: mediaType is not {BUNDLE_V03}")
    envelope = document.get("dsseEnvelope")
    if not isinstance(envelope, dict):
        raise InvalidSignature("invalid bundle: no dsseEnvelope (message signatures are not read)")
    payload_type = envelope.get("payloadType")
    if payload_type != INTOTO_PAYLOAD_TYPE:
        raise InvalidSignature(f"invalid bundle: payloadType {payload_type!r} is not in-toto")
    body = _b64(envelope.get("payload"), "dsseEnvelope.payload")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise InvalidSignature("invalid bundle: no DSSE signatures")
    material = document.get("verificationMaterial") or {}
    hint = (material.get("publicKey") or {}).get("hint") if isinstance(material, dict) else None
    signed = pae(INTOTO_PAYLOAD_TYPE, body)
    key: PublicKey | None = None
    last: InvalidSignature | None = None
    for entry in signatures:
        sig = entry.get("sig") if isinstance(entry, dict) else None
        try:
            key = verify_bytes(keys, sig if isinstance(sig, str) else "", signed)
            break
        except InvalidSignature as exc:
            last = exc
    if key is None:
        raise last or InvalidSignature("cryptographic signature verification failed")
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidSignature(f"invalid in-toto statement: {exc}") from None
    if not isinstance(parsed, dict) or parsed.get("_type") != INTOTO_STATEMENT_V1:
        raise InvalidSignature(f"invalid in-toto statement: _type is not {INTOTO_STATEMENT_V1}")
    predicate_type = parsed.get("predicateType")
    if not isinstance(predicate_type, str):
        raise InvalidSignature("invalid in-toto statement: no predicateType")
    digests = []
    for subject in parsed.get("subject") or []:
        for algorithm, encoded in ((subject or {}).get("digest") or {}).items():
            digests.append(f"{algorithm}:{encoded}")
    return VerifiedBundle(
        key, hint if isinstance(hint, str) else None, tuple(digests), predicate_type
    )
