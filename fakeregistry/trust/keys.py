"""Throwaway signing keys and certificate chains, made with ``cryptography`` alone.

- :func:`generate_key` makes an ECDSA P-256 key pair: what ``cosign generate-key-pair`` makes
  (cosign requires at least ECDSA-P256 with SHA-256, ``SIGNATURE_SPEC.md``), written as PEM
  (``PRIVATE KEY`` PKCS#8, unencrypted, and ``PUBLIC KEY`` SubjectPublicKeyInfo)::

      pair = generate_key()
      pair.write("/tmp/keys")  # cosign.key, cosign.pub

- :func:`make_certificate_chain` makes a chain notation accepts (``signature-specification.md``
  "Certificate Requirements"): a root CA (and optionally an intermediate) with critical
  ``basicConstraints`` cA=true and ``keyUsage`` keyCertSign, and a P-256 leaf with critical
  ``keyUsage`` digitalSignature, the codeSigning EKU, and a subject with ``C``, ``ST`` and
  ``O`` (notation-go ``internal/pkix`` refuses a leaf without them). ``x5c`` lists it leaf
  first, root last.

The encrypted ``ENCRYPTED SIGSTORE PRIVATE KEY`` file format of the real cosign binary needs
NaCl secretbox, which ``cryptography`` does not offer; it is not written here.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fakeregistry.trust.errors import KeyFileError

__all__ = [
    "DEFAULT_SUBJECT",
    "CertificateChain",
    "KeyPair",
    "PublicKey",
    "generate_key",
    "key_hint",
    "load_certificates",
    "load_private_key",
    "load_public_keys",
    "make_certificate_chain",
    "name_from_mapping",
    "thumbprint",
]

PublicKey = ec.EllipticCurvePublicKey
KeySource = str | bytes | os.PathLike[str]

# The leaf subject notation wants at a minimum (C, ST, O), plus a common name.
DEFAULT_SUBJECT: Mapping[str, str] = {
    "C": "US",
    "ST": "WA",
    "L": "Seattle",
    "O": "fakeregistry",
    "CN": "fakeregistry test signer",
}

_OIDS = {
    "C": NameOID.COUNTRY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "S": NameOID.STATE_OR_PROVINCE_NAME,
    "L": NameOID.LOCALITY_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "CN": NameOID.COMMON_NAME,
}


@dataclass(frozen=True)
class KeyPair:
    """An ECDSA P-256 key pair."""

    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_pem(self) -> bytes:
        return public_pem(self.public_key)

    def write(self, directory: str | os.PathLike[str], name: str = "cosign") -> tuple[Path, Path]:
        """Write ``<name>.key`` (mode 0600) and ``<name>.pub`` into *directory*."""
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        private, public = root / f"{name}.key", root / f"{name}.pub"
        private.write_bytes(self.private_pem())
        private.chmod(0o600)
        public.write_bytes(self.public_pem())
        return private, public


def generate_key() -> KeyPair:
    """A fresh ECDSA P-256 key pair."""
    return KeyPair(ec.generate_private_key(ec.SECP256R1()))


def public_pem(key: PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_hint(key: PublicKey) -> str:
    """Sigstore's public-key hint: base64 (standard) of sha256 over the DER SPKI
    (cosign ``verify_bundle.go``)."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def _read(source: KeySource) -> bytes:
    if isinstance(source, bytes):
        return source
    text = os.fspath(source)
    if isinstance(source, str) and "-----BEGIN" in source:
        return source.encode()
    try:
        return Path(text).read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {text}: {exc.strerror or exc}") from None


def load_private_key(
    source: KeySource | KeyPair | ec.EllipticCurvePrivateKey,
) -> ec.EllipticCurvePrivateKey:
    """An ECDSA private key from a :class:`KeyPair`, a key object, PEM text/bytes or a PEM file
    (PKCS#8 ``PRIVATE KEY`` or SEC1 ``EC PRIVATE KEY``, unencrypted)."""
    if isinstance(source, KeyPair):
        return source.private_key
    if isinstance(source, ec.EllipticCurvePrivateKey):
        return source
    data = _read(source)
    if b"ENCRYPTED" in data:
        raise KeyFileError(
            "encrypted cosign/sigstore private keys are not supported (they need NaCl); "
            "use an unencrypted PKCS#8 PEM key"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"not a PEM private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise KeyFileError("only ECDSA P-256 keys are supported")
    return key


def load_public_keys(
    source: KeySource | KeyPair | PublicKey | Iterable[KeySource | KeyPair | PublicKey],
) -> list[PublicKey]:
    """Public keys from PEM (one or more ``PUBLIC KEY`` blocks, or certificates), a file, a
    :class:`KeyPair`, key objects, or a list of those."""
    if isinstance(source, KeyPair):
        return [source.public_key]
    if isinstance(source, ec.EllipticCurvePublicKey):
        return [source]
    if isinstance(source, str | bytes | os.PathLike):
        data = _read(source)
        keys: list[PublicKey] = []
        for block in _pem_blocks(data):
            try:
                loaded: object
                if b"CERTIFICATE" in block.split(b"\n", 1)[0]:
                    loaded = x509.load_pem_x509_certificate(block).public_key()
                else:
                    loaded = serialization.load_pem_public_key(block)
            except ValueError as exc:
                raise KeyFileError(f"not a PEM public key: {exc}") from None
            if not isinstance(loaded, ec.EllipticCurvePublicKey):
                raise KeyFileError("only ECDSA public keys are supported")
            keys.append(loaded)
        if not keys:
            raise KeyFileError("no PEM public key found")
        return keys
    out: list[PublicKey] = []
    for item in source:
        out.extend(load_public_keys(item))
    return out


def _pem_blocks(data: bytes) -> list[bytes]:
    blocks, current = [], []
    for line in data.splitlines():
        if line.startswith(b"-----BEGIN"):
            current = [line]
        elif current:
            current.append(line)
            if line.startswith(b"-----END"):
                blocks.append(b"\n".join(current) + b"\n")
                current = []
    return blocks


def load_certificates(source: KeySource | Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """Certificates from PEM text/bytes or a file (several blocks allowed), or as given."""
    if not isinstance(source, str | bytes | os.PathLike):
        return list(source)
    data = _read(source)
    try:
        return list(x509.load_pem_x509_certificates(data))
    except ValueError as exc:
        raise KeyFileError(f"not PEM certificates: {exc}") from None


def thumbprint(certificate: x509.Certificate) -> str:
    """Lowercase hex sha256 of the certificate's DER (notation's ``x509chain.thumbprint#S256``)."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def name_from_mapping(subject: Mapping[str, str] | str) -> x509.Name:
    """An X.509 name from ``{"C": "US", "ST": "WA", "O": "Acme"}`` or ``"C=US, ST=WA, O=Acme"``,
    attributes in the order given."""
    if isinstance(subject, str):
        pairs = [part.split("=", 1) for part in subject.split(",") if part.strip()]
        items = [(k.strip(), v.strip()) for k, v in pairs]
    else:
        items = list(subject.items())
    attributes = []
    for key, value in items:
        oid = _OIDS.get(key.upper())
        if oid is None:
            raise KeyFileError(f"unknown subject attribute {key!r} (known: {', '.join(_OIDS)})")
        attributes.append(x509.NameAttribute(oid, value))
    return x509.Name(attributes)


@dataclass(frozen=True)
class CertificateChain:
    """A signing key and its chain, leaf first and the root last."""

    key: ec.EllipticCurvePrivateKey
    certificates: tuple[x509.Certificate, ...]

    @property
    def leaf(self) -> x509.Certificate:
        return self.certificates[0]

    @property
    def root(self) -> x509.Certificate:
        return self.certificates[-1]

    def chain_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.certificates)

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return KeyPair(self.key).private_pem()

    def thumbprints(self) -> list[str]:
        return [thumbprint(c) for c in self.certificates]

    def write(self, directory: str | os.PathLike[str], name: str = "notation") -> dict[str, Path]:
        """Write ``<name>.key``, ``<name>.crt`` (the chain, leaf first) and ``<name>-root.crt``;
        also a notation trust store ``truststore/x509/ca/<name>/root.crt``."""
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        paths = {
            "key": root / f"{name}.key",
            "chain": root / f"{name}.crt",
            "root": root / f"{name}-root.crt",
            "truststore": root / "truststore",
        }
        paths["key"].write_bytes(self.key_pem())
        paths["key"].chmod(0o600)
        paths["chain"].write_bytes(self.chain_pem())
        paths["root"].write_bytes(self.root_pem())
        store = paths["truststore"] / "x509" / "ca" / name
        store.mkdir(parents=True, exist_ok=True)
        (store / "root.crt").write_bytes(self.root_pem())
        return paths


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _certificate(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
    *,
    ca: bool,
    path_length: int | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_certificate_chain(
    subject: Mapping[str, str] | str = DEFAULT_SUBJECT,
    *,
    intermediate: bool = False,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    root_subject: Mapping[str, str] | str | None = None,
) -> CertificateChain:
    """A throwaway chain for notation signing: root CA (and an intermediate CA when asked),
    then a P-256 leaf with *subject* (default :data:`DEFAULT_SUBJECT`).

    *not_before*/*not_after* bound the leaf (default: an hour ago to 30 days on; pass a past
    *not_after* for an expired leaf). The CAs are valid from a day ago for ten years."""
    now = _now()
    leaf_from = not_before or now - dt.timedelta(hours=1)
    leaf_until = not_after or now + dt.timedelta(days=30)
    ca_from = min(leaf_from, now) - dt.timedelta(days=1)
    ca_until = max(leaf_until, now) + dt.timedelta(days=3650)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = name_from_mapping(
        root_subject or {"C": "US", "ST": "WA", "O": "fakeregistry", "CN": "fakeregistry test root"}
    )
    root = _certificate(
        root_name, root_key, root_name, root_key, ca_from, ca_until, ca=True, path_length=None
    )
    issuer_name, issuer_key, certificates = root_name, root_key, [root]
    if intermediate:
        mid_key = ec.generate_private_key(ec.SECP256R1())
        mid_name = name_from_mapping(
            {"C": "US", "ST": "WA", "O": "fakeregistry", "CN": "fakeregistry test intermediate"}
        )
        mid = _certificate(
            mid_name, mid_key, root_name, root_key, ca_from, ca_until, ca=True, path_length=0
        )
        certificates.insert(0, mid)
        issuer_name, issuer_key = mid_name, mid_key
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate(
        name_from_mapping(subject),
        leaf_key,
        issuer_name,
        issuer_key,
        leaf_from,
        leaf_until,
        ca=False,
    )
    certificates.insert(0, leaf)
    return CertificateChain(leaf_key, tuple(certificates))
