"""The Notary Project's JWS signatures (what ``notation sign`` pushes), made and checked with
``cryptography``.

Sources: ``notaryproject/specifications specs/signature-specification.md`` and
``specs/signature-envelope-jws.md``; ``notation-core-go signature/jws``; ``notation-go``
``notation.go`` and ``registry/repository.go``.

- Payload ``application/vnd.cncf.notary.payload.v1+json``: ``{"targetArtifact": {"mediaType",
  "digest", "size"}}``.
- Envelope ``application/jose+json``, flattened JWS JSON only: ``{"payload", "protected",
  "header": {"x5c": [...], "io.cncf.notary.signingAgent"}, "signature"}``; base64url without
  padding for payload, protected and signature, standard base64 DER for ``x5c`` (leaf first,
  root last). Signed bytes: ``ASCII(protected + "." + payload)``. ES256 signatures are the raw
  64-byte ``r||s``, not DER.
- Protected header (a Go map, so keys sorted): ``alg``, ``crit`` (must name
  ``io.cncf.notary.signingScheme``, and ``io.cncf.notary.expiry`` when present), ``cty``,
  ``io.cncf.notary.signingScheme`` ``notary.x509``, ``io.cncf.notary.signingTime``
  (RFC 3339, no fractions), optional ``io.cncf.notary.expiry``.
- Signature manifest: an OCI image manifest with ``artifactType``
  ``application/vnd.cncf.notary.signature``, the empty config (``"data": "e30="``), one
  envelope layer, ``subject``, and the ``io.cncf.notary.x509chain.thumbprint#S256`` (a JSON
  array of hex sha256 of each certificate, leaf first) and ``org.opencontainers.image.created``
  annotations; pushed by digest.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature as _CryptoInvalid
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import CREATED_ANNOTATION as CREATED_ANNOTATION
from fakeregistry.tools.builder import BuiltBlob
from fakeregistry.trust.cosign import go_json
from fakeregistry.trust.errors import InvalidSignature
from fakeregistry.trust.keys import CertificateChain, thumbprint

__all__ = [
    "ARTIFACT_TYPE",
    "JWS",
    "PAYLOAD_TYPE",
    "THUMBPRINT_ANNOTATION",
    "Envelope",
    "b64url",
    "check_chain",
    "dn_string",
    "make_envelope",
    "missing_dn_attributes",
    "parse_envelope",
    "signature_manifest",
]

ARTIFACT_TYPE = "application/vnd.cncf.notary.signature"
JWS = "application/jose+json"
COSE = "application/cose"
PAYLOAD_TYPE = "application/vnd.cncf.notary.payload.v1+json"
THUMBPRINT_ANNOTATION = "io.cncf.notary.x509chain.thumbprint#S256"
SIGNING_SCHEME = "io.cncf.notary.signingScheme"
SIGNING_TIME = "io.cncf.notary.signingTime"
EXPIRY = "io.cncf.notary.expiry"
SIGNING_AGENT = "io.cncf.notary.signingAgent"
SCHEME_X509 = "notary.x509"
SCHEME_SIGNING_AUTHORITY = "notary.x509.signingAuthority"
_KNOWN_CRITICAL = {SIGNING_SCHEME, EXPIRY, "io.cncf.notary.authenticSigningTime"}
_CURVE_ALG = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_ALG_HASH: dict[str, hashes.HashAlgorithm] = {
    "ES256": hashes.SHA256(),
    "ES384": hashes.SHA384(),
    "ES512": hashes.SHA512(),
}
_MANDATORY_DN = ("C", "ST", "O")
_DN_LABELS = {
    NameOID.COUNTRY_NAME: "C",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.LOCALITY_NAME: "L",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.COMMON_NAME: "CN",
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: Any, what: str) -> bytes:
    if not isinstance(text, str) or "=" in text:
        raise InvalidSignature(f"integrity validation failed: {what} is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidSignature(f"integrity validation failed: {what} is not base64url") from None


def _rfc3339(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any, what: str) -> dt.datetime:
    if not isinstance(value, str):
        raise InvalidSignature(f"integrity validation failed: {what} is not a string")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidSignature(
            f"integrity validation failed: {what} {value!r} is not RFC 3339"
        ) from None
    if parsed.tzinfo is None:
        raise InvalidSignature(f"integrity validation failed: {what} {value!r} has no time zone")
    return parsed


def payload(descriptor: Mapping[str, Any]) -> bytes:
    """``{"targetArtifact": {...}}`` for the descriptor of the signed manifest."""
    target = {
        "mediaType": descriptor["mediaType"],
        "digest": descriptor["digest"],
        "size": descriptor["size"],
    }
    if descriptor.get("annotations"):
        target["annotations"] = dict(descriptor["annotations"])
    return go_json({"targetArtifact": target})


def make_envelope(
    chain: CertificateChain,
    descriptor: Mapping[str, Any],
    *,
    signing_time: dt.datetime | None = None,
    expiry: dt.datetime | None = None,
    signing_agent: str = "fakeregistry/0.1",
) -> bytes:
    """A flattened JWS signing *descriptor* with the chain's leaf key (ES256 for P-256)."""
    curve = chain.key.curve.name
    alg = _CURVE_ALG.get(curve)
    if alg is None:
        raise InvalidSignature(f"unsupported signing key curve {curve}")
    when = signing_time or dt.datetime.now(dt.UTC)
    header: dict[str, Any] = {
        "alg": alg,
        "crit": [SIGNING_SCHEME, *([EXPIRY] if expiry is not None else [])],
        "cty": PAYLOAD_TYPE,
    }
    if expiry is not None:
        header[EXPIRY] = _rfc3339(expiry)
    header[SIGNING_SCHEME] = SCHEME_X509
    header[SIGNING_TIME] = _rfc3339(when)
    protected = b64url(go_json(dict(sorted(header.items()))))
    body = b64url(payload(descriptor))
    der = chain.key.sign(f"{protected}.{body}".encode(), ec.ECDSA(_ALG_HASH[alg]))
    r, s = decode_dss_signature(der)
    width = (chain.key.curve.key_size + 7) // 8
    raw = r.to_bytes(width, "big") + s.to_bytes(width, "big")
    envelope = {
        "payload": body,
        "protected": protected,
        "header": {
            "x5c": [
                base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
                for c in chain.certificates
            ],
            SIGNING_AGENT: signing_agent,
        },
        "signature": b64url(raw),
    }
    return go_json(envelope)


def signature_manifest(
    subject: Mapping[str, Any],
    envelope: bytes,
    certificates: Sequence[x509.Certificate],
    *,
    signing_time: dt.datetime | None = None,
) -> tuple[bytes, BuiltBlob]:
    """The referrer manifest for *envelope* (what notation-go ``PushSignature`` packs), and
    its empty config blob."""
    config = BuiltBlob(b"{}", mt.OCI_EMPTY)
    layer = BuiltBlob(envelope, JWS)
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": {**config.descriptor(), "data": "e30="},
        "layers": [layer.descriptor()],
        "subject": dict(subject),
        "annotations": {
            THUMBPRINT_ANNOTATION: json.dumps([thumbprint(c) for c in certificates]).replace(
                " ", ""
            ),
            CREATED_ANNOTATION: _rfc3339(signing_time or dt.datetime.now(dt.UTC)),
        },
    }
    return go_json(manifest), config


@dataclass(frozen=True, slots=True)
class Envelope:
    """A JWS envelope whose signature holds for its own leaf certificate (integrity)."""

    header: Mapping[str, Any]
    target: Mapping[str, Any]
    certificates: tuple[x509.Certificate, ...]
    signing_time: dt.datetime
    expiry: dt.datetime | None
    signing_agent: str | None

    @property
    def leaf(self) -> x509.Certificate:
        return self.certificates[0]


def parse_envelope(data: bytes, media_type: str = JWS) -> Envelope:
    """Integrity: parse the envelope, check ``cty``, ``crit`` and the signing scheme, that
    ``alg`` matches the leaf key, and the signature. Raises :class:`InvalidSignature`
    (``integrity validation failed: ...``)."""
    if media_type == COSE:
        raise InvalidSignature("integrity validation failed: COSE envelopes are not supported here")
    if media_type != JWS:
        raise InvalidSignature(
            f"signature envelope format with media type {media_type!r} is not supported"
        )
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidSignature(
            f"integrity validation failed: the envelope is not JSON: {exc}"
        ) from None
    if not isinstance(document, dict) or not {"payload", "protected", "signature"} <= set(document):
        raise InvalidSignature("integrity validation failed: not a flattened JWS JSON envelope")
    protected_text = document["protected"]
    payload_text = document["payload"]
    try:
        header = json.loads(_unb64url(protected_text, "protected"))
    except (ValueError, UnicodeDecodeError):
        raise InvalidSignature(
            "integrity validation failed: protected header is not JSON"
        ) from None
    if not isinstance(header, dict):
        raise InvalidSignature("integrity validation failed: protected header is not an object")
    if header.get("cty") != PAYLOAD_TYPE:
        raise InvalidSignature(
            f"integrity validation failed: content type {header.get('cty')!r} is not {PAYLOAD_TYPE}"
        )
    crit = header.get("crit")
    if not isinstance(crit, list) or SIGNING_SCHEME not in crit:
        raise InvalidSignature(f"integrity validation failed: crit must list {SIGNING_SCHEME}")
    for name in crit:
        if name not in _KNOWN_CRITICAL:
            raise InvalidSignature(f"integrity validation failed: unknown critical header {name!r}")
        if name not in header:
            raise InvalidSignature(
                f"integrity validation failed: critical header {name!r} is missing"
            )
    if EXPIRY in header and EXPIRY not in crit:
        raise InvalidSignature(f"integrity validation failed: {EXPIRY} must be marked critical")
    scheme = header.get(SIGNING_SCHEME)
    if scheme not in (SCHEME_X509, SCHEME_SIGNING_AUTHORITY):
        raise InvalidSignature(f"integrity validation failed: signing scheme {scheme!r} is unknown")
    unprotected = document.get("header") or {}
    raw_chain = unprotected.get("x5c") if isinstance(unprotected, dict) else None
    if not isinstance(raw_chain, list) or not raw_chain:
        raise InvalidSignature("integrity validation failed: no x5c certificate chain")
    try:
        certificates = tuple(
            x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in raw_chain
        )
    except (binascii.Error, ValueError, TypeError):
        raise InvalidSignature(
            "integrity validation failed: x5c holds an unreadable certificate"
        ) from None
    leaf_key = certificates[0].public_key()
    if not isinstance(leaf_key, ec.EllipticCurvePublicKey):
        raise InvalidSignature(
            "integrity validation failed: only ECDSA leaf keys are supported here"
        )
    alg = header.get("alg")
    expected = _CURVE_ALG.get(leaf_key.curve.name)
    if expected is None or alg != expected:
        raise InvalidSignature(
            f"integrity validation failed: signature algorithm {alg!r} does not match the "
            f"signing certificate's key ({expected})"
        )
    raw = _unb64url(document["signature"], "signature")
    width = (leaf_key.curve.key_size + 7) // 8
    if len(raw) != 2 * width:
        raise InvalidSignature(
            f"integrity validation failed: {alg} signature is not {2 * width} bytes of r||s"
        )
    der = encode_dss_signature(
        int.from_bytes(raw[:width], "big"), int.from_bytes(raw[width:], "big")
    )
    try:
        leaf_key.verify(
            der, f"{protected_text}.{payload_text}".encode(), ec.ECDSA(_ALG_HASH[expected])
        )
    except _CryptoInvalid:
        raise InvalidSignature("integrity validation failed: signature is invalid") from None
    try:
        body = json.loads(_unb64url(payload_text, "payload"))
    except (ValueError, UnicodeDecodeError):
        raise InvalidSignature("integrity validation failed: payload is not JSON") from None
    target = body.get("targetArtifact") if isinstance(body, dict) else None
    if not isinstance(target, dict) or not {"mediaType", "digest", "size"} <= set(target):
        raise InvalidSignature(
            "integrity validation failed: payload has no targetArtifact descriptor"
        )
    agent = unprotected.get(SIGNING_AGENT) if isinstance(unprotected, dict) else None
    return Envelope(
        header=header,
        target=target,
        certificates=certificates,
        signing_time=_parse_time(header.get(SIGNING_TIME), SIGNING_TIME),
        expiry=_parse_time(header[EXPIRY], EXPIRY) if EXPIRY in header else None,
        signing_agent=agent if isinstance(agent, str) else None,
    )


def dn_string(name: x509.Name) -> str:
    """A DN as Go's ``pkix.Name.String()`` writes it (most specific first, ``,``-joined):
    ``CN=signer,O=Acme,ST=WA,C=US``."""
    return name.rfc4514_string()


def dn_attributes(name: x509.Name) -> dict[str, str]:
    out: dict[str, str] = {}
    for attribute in name:
        label = _DN_LABELS.get(attribute.oid)
        if label is not None:
            out[label] = str(attribute.value)
    return out


def missing_dn_attributes(name: x509.Name) -> list[str]:
    present = dn_attributes(name)
    return [label for label in _MANDATORY_DN if label not in present]


def check_chain(
    certificates: Sequence[x509.Certificate], roots: Sequence[x509.Certificate]
) -> x509.Certificate:
    """Authenticity: each certificate is issued by the next, the last is a self-signed root
    present in *roots*, CAs are CAs and the leaf is a code-signing leaf with a subject holding
    C, ST and O. Returns the trusted root; raises :class:`InvalidSignature`."""
    leaf = certificates[0]
    missing = missing_dn_attributes(leaf.subject)
    if missing:
        raise InvalidSignature(
            f"distinguished name (DN) {dn_string(leaf.subject)!r} has no mandatory RDN "
            f"attribute for {missing[0]!r}, it must contain 'C', 'ST', and 'O' RDN attributes "
            "at a minimum"
        )
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.digital_signature:
        raise InvalidSignature("the signing certificate's key usage must include digitalSignature")
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        eku = None
    if eku is not None and any(
        oid in eku for oid in (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH)
    ):
        raise InvalidSignature("the signing certificate's extended key usage must not be TLS")
    for child, issuer in itertools.pairwise(certificates):
        try:
            child.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, _CryptoInvalid):
            raise InvalidSignature(
                f"invalid certificate chain: {dn_string(child.subject)!r} is not issued by "
                f"{dn_string(issuer.subject)!r}"
            ) from None
        try:
            constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            constraints = None
        if constraints is None or not constraints.ca:
            raise InvalidSignature(
                f"invalid certificate chain: {dn_string(issuer.subject)!r} is not a CA"
            )
    top = certificates[-1]
    try:
        top.verify_directly_issued_by(top)
    except (ValueError, TypeError, _CryptoInvalid):
        raise InvalidSignature(
            "invalid certificate chain: the chain does not end in a root"
        ) from None
    top_der = top.public_bytes(serialization.Encoding.DER)
    for root in roots:
        if root.public_bytes(serialization.Encoding.DER) == top_der:
            return root
    raise InvalidSignature("signature is not produced by a trusted signer")
