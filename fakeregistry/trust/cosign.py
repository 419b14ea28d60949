"""cosign's key-based signatures: the "simple signing" payload and its two manifest layouts.

**Legacy tag layout** (``sigstore/cosign specs/SIGNATURE_SPEC.md``, ``pkg/oci/remote/write.go``):
an OCI image manifest tagged ``sha256-<hex>.sig`` in the signed image's repository, one layer
per signature. Each layer is the payload blob (``application/vnd.dev.cosign.simplesigning.v1+json``)
with the base64 (standard) ASN.1 DER ECDSA P-256/SHA-256 signature over the payload's exact
bytes in the ``dev.cosignproject.cosign/signature`` layer annotation. The config is an
ordinary, mostly empty image config whose ``rootfs.diff_ids`` lists the payload digests. A
further signature rereads the manifest and appends a layer.

**Referrer layout** (cosign's experimental ``--registry-referrers-mode=oci-1-1``,
``WriteSignaturesExperimentalOCI``): the same layers, with ``artifactType`` and
``config.mediaType`` set to ``application/vnd.dev.cosign.artifact.sig.v1+json`` and a
``subject``, pushed by digest without a tag.

The payload, exactly as Go's ``json.Marshal`` writes the cosign struct (compact, struct field
order, ``"optional":null`` without annotations; ``sigstore/sigstore pkg/signature/payload``)::

    {"critical":{"identity":{"docker-reference":"REPO"},"image":{"docker-manifest-digest":
    "sha256:..."},"type":"cosign container image signature"},"optional":null}

Parsing is as strict as containers/image's (``signature/internal/sigstore_payload.go``):
exactly the known keys in ``critical``, ``image`` and ``identity``, an integer
``optional.timestamp`` when present, and the signature is checked before the JSON is read.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptoInvalid
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.digest import Digest, compute
from fakeregistry.tools.builder import BuiltBlob
from fakeregistry.trust.errors import InvalidSignature
from fakeregistry.trust.keys import PublicKey

__all__ = [
    "ATOMIC_TYPE",
    "CERTIFICATE_ANNOTATION",
    "CHAIN_ANNOTATION",
    "COSIGN_TYPE",
    "SIGNATURE_ANNOTATION",
    "SIGNATURE_ARTIFACT_TYPE",
    "SIMPLE_SIGNING",
    "SimpleSigning",
    "append_signature",
    "go_json",
    "parse_payload",
    "referrer_manifest",
    "sign_bytes",
    "signature_tag",
    "simple_signing_payload",
    "verify_bytes",
]

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ARTIFACT_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
CHAIN_ANNOTATION = "dev.sigstore.cosign/chain"
BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle"
COSIGN_TYPE = "cosign container image signature"
ATOMIC_TYPE = "atomic container signature"
SIGNATURE_SUFFIX = "sig"
# cosign refuses more layers than this in one signature manifest (pkg/oci/mutate/signatures.go).
MAX_LAYERS = 1000

# go-containerregistry's empty image config, the base cosign appends diff_ids to.
_GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def go_json(document: Any) -> bytes:
    """Compact JSON as Go's ``json.Marshal`` writes it: no spaces, ``<``, ``>`` and ``&``
    escaped, non-ASCII as UTF-8. Key order is the mapping's (Go structs keep field order)."""
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def signature_tag(digest: str, suffix: str = SIGNATURE_SUFFIX) -> str:
    """``sha256:abcd…`` → ``sha256-abcd….sig`` (cosign ``remote.go`` ``normalize``)."""
    parsed = Digest.parse(digest)
    return f"{parsed.algorithm}-{parsed.encoded}.{suffix}"


def simple_signing_payload(
    docker_reference: str,
    digest: str,
    optional: Mapping[str, Any] | None = None,
    *,
    signature_type: str = COSIGN_TYPE,
) -> bytes:
    """The payload cosign signs: *docker_reference* is the repository (cosign writes no tag),
    *digest* the signed manifest's; *optional* holds ``-a key=value`` claims."""
    document = {
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": digest},
            "type": signature_type,
        },
        "optional": dict(optional) if optional else None,
    }
    return go_json(document)


@dataclass(frozen=True, slots=True)
class SimpleSigning:
    """A parsed simple-signing payload."""

    type: str
    docker_reference: str
    digest: str
    optional: Mapping[str, Any] | None


def _exact_keys(value: Any, keys: set[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidSignature(f"{where} is not a JSON object")
    if set(value) != keys:
        extra = sorted(set(value) - keys)
        missing = sorted(keys - set(value))
        problem = f"unexpected field {extra[0]!r}" if extra else f"missing field {missing[0]!r}"
        raise InvalidSignature(f"invalid signature payload: {where}: {problem}")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise InvalidSignature(f"invalid signature payload: duplicate key {key!r}")
        seen[key] = value
    return seen


def parse_payload(
    payload: bytes, *, allowed_types: Sequence[str] = (COSIGN_TYPE,)
) -> SimpleSigning:
    """Parse a simple-signing payload strictly (containers/image rules); call it only after
    the signature over *payload* was verified."""
    try:
        document = json.loads(payload, object_pairs_hook=_no_duplicates)
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, InvalidSignature):
            raise
        raise InvalidSignature(f"invalid signature payload: not JSON: {exc}") from None
    top = _exact_keys(document, {"critical", "optional"}, "the payload")
    critical = _exact_keys(top["critical"], {"type", "image", "identity"}, "critical")
    image = _exact_keys(critical["image"], {"docker-manifest-digest"}, "critical.image")
    identity = _exact_keys(critical["identity"], {"docker-reference"}, "critical.identity")
    kind, digest, reference = (
        critical["type"],
        image["docker-manifest-digest"],
        identity["docker-reference"],
    )
    if not all(isinstance(v, str) for v in (kind, digest, reference)):
        raise InvalidSignature("invalid signature payload: critical fields must be strings")
    if kind not in allowed_types:
        raise InvalidSignature(f"Unrecognized signature type {kind}")
    optional = top["optional"]
    if optional is not None:
        if not isinstance(optional, dict):
            raise InvalidSignature("invalid signature payload: optional is not a JSON object")
        timestamp = optional.get("timestamp")
        if timestamp is not None and (
            not isinstance(timestamp, int) or isinstance(timestamp, bool)
        ):
            raise InvalidSignature(
                "invalid signature payload: optional.timestamp is not an integer"
            )
    return SimpleSigning(kind, reference, digest, optional)


def sign_bytes(key: ec.EllipticCurvePrivateKey, data: bytes) -> str:
    """Base64 (standard) of the ASN.1 DER ECDSA-SHA256 signature over *data*."""
    return base64.b64encode(key.sign(data, ec.ECDSA(hashes.SHA256()))).decode()


def verify_bytes(keys: Sequence[PublicKey], signature_b64: str, data: bytes) -> PublicKey:
    """The key among *keys* whose DER ECDSA-SHA256 signature *signature_b64* is over *data*;
    :class:`InvalidSignature` when none is."""
    if not signature_b64:
        raise InvalidSignature(f"missing {SIGNATURE_ANNOTATION} annotation")
    try:
        raw = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSignature(
            "cryptographic signature verification failed: signature is not base64"
        ) from None
    for key in keys:
        try:
            key.verify(raw, data, ec.ECDSA(hashes.SHA256()))
        except _CryptoInvalid:
            continue
        return key
    raise InvalidSignature("cryptographic signature verification failed: invalid signature")


def _config(diff_ids: Sequence[str]) -> bytes:
    document = {
        "architecture": "",
        "created": _GO_ZERO_TIME,
        "history": [{"created": _GO_ZERO_TIME}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "config": {},
    }
    return go_json(document)


def _layer(payload: bytes, signature: str, annotations: Mapping[str, str]) -> dict[str, Any]:
    return {
        "mediaType": SIMPLE_SIGNING,
        "size": len(payload),
        "digest": str(compute(payload)),
        "annotations": {SIGNATURE_ANNOTATION: signature, **annotations},
    }


def append_signature(
    existing: bytes | None,
    payload: bytes,
    signature: str,
    *,
    annotations: Mapping[str, str] | None = None,
) -> tuple[bytes, BuiltBlob]:
    """The ``.sig`` manifest with one more signature layer (a new manifest when *existing* is
    None), and its new config blob. An identical layer already there is not added twice."""
    layers: list[dict[str, Any]] = []
    if existing is not None:
        try:
            document = json.loads(existing)
            layers = [dict(layer) for layer in document.get("layers") or []]
        except (ValueError, AttributeError, TypeError) as exc:
            raise InvalidSignature(
                f"the existing signature manifest is unreadable: {exc}"
            ) from None
    layer = _layer(payload, signature, annotations or {})
    if layer not in layers:
        layers.append(layer)
    if len(layers) > MAX_LAYERS:
        raise InvalidSignature(
            f"more than {MAX_LAYERS} signatures in one manifest (cosign refuses it)"
        )
    config = BuiltBlob(_config([str(layer["digest"]) for layer in layers]), mt.OCI_CONFIG)
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": layers,
    }
    return go_json(manifest), config


def referrer_manifest(
    subject: Mapping[str, Any],
    payload: bytes,
    signature: str,
    *,
    annotations: Mapping[str, str] | None = None,
) -> tuple[bytes, BuiltBlob]:
    """The cosign oci-1-1 referrer: the legacy layout with ``artifactType``, the config's
    media type set to it, and ``subject`` (pushed by digest)."""
    layer = _layer(payload, signature, annotations or {})
    config = BuiltBlob(_config([str(layer["digest"])]), SIGNATURE_ARTIFACT_TYPE)
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": SIGNATURE_ARTIFACT_TYPE,
        "config": config.descriptor(),
        "layers": [layer],
        "subject": dict(subject),
    }
    return go_json(manifest), config
