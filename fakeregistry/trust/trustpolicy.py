"""Notation's verification: trust stores, trusted identities, levels, and
``trustpolicy.oci.json`` files as notation reads them.

Source: ``notaryproject/specifications specs/trust-store-trust-policy.md``.

- A trust store is a set of root certificates; on disk notation keeps them as
  ``<config>/truststore/x509/ca/<name>/*.{pem,crt,cer}`` (``signingAuthority/`` for
  ``notary.x509.signingAuthority``), named ``ca:<name>`` in a policy.
- ``trustedIdentities`` are ``"*"`` or ``"x509.subject: C=US, ST=WA, O=Acme"``: the policy's
  DN must be a subset of the leaf certificate's subject.
- Levels say what each check does (enforce, log, or skip)::

      level       integrity  authenticity  authenticTimestamp  expiry  revocation
      strict      enforce    enforce       enforce             enforce enforce
      permissive  enforce    enforce       log                 log     log
      audit       enforce    log           log                 log     log
      skip        skip       skip          skip                skip    skip

  ``signatureVerification.override`` changes single checks (not integrity). Revocation
  (CRL/OCSP) needs the network and is never checked here; timestamps from a TSA are not read,
  so ``authenticTimestamp`` checks the signing certificate chain is valid now.
- Scope: a statement whose ``registryScopes`` has the artifact's exact ``host/repository``
  wins; otherwise the one ``"*"`` statement; otherwise verification fails (``artifact "…" has
  no applicable trust policy``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from fakeregistry.trust.errors import InvalidSignature, PolicyError, PolicyRejected
from fakeregistry.trust.keys import load_certificates
from fakeregistry.trust.notation import check_chain, dn_attributes, dn_string, parse_envelope
from fakeregistry.trust.signatures import FoundSignature, SignatureCheck

__all__ = [
    "LEVELS",
    "NotationVerifier",
    "TrustPolicyDocument",
    "TrustPolicyStatement",
    "load_trust_store",
]

CHECKS = ("integrity", "authenticity", "authenticTimestamp", "expiry", "revocation")
LEVELS: dict[str, dict[str, str]] = {
    "strict": dict.fromkeys(CHECKS, "enforce"),
    "permissive": {
        "integrity": "enforce",
        "authenticity": "enforce",
        "authenticTimestamp": "log",
        "expiry": "log",
        "revocation": "log",
    },
    "audit": {"integrity": "enforce", **dict.fromkeys(CHECKS[1:], "log")},
    "skip": dict.fromkeys(CHECKS, "skip"),
}
TRUST_POLICY_LINK = "https://notaryproject.dev/docs/quickstart/#create-a-trust-policy"
_CERT_SUFFIXES = (".pem", ".crt", ".cer")


def _parse_identity(text: str) -> dict[str, str] | None:
    """``"*"`` → None; ``"x509.subject: C=US, ST=WA, O=Acme"`` → its attributes."""
    if text == "*":
        return None
    prefix, sep, value = text.partition(":")
    if not sep or prefix.strip() != "x509.subject":
        raise PolicyError(f"trusted identity {text!r} must be '*' or 'x509.subject: <DN>'")
    attributes: dict[str, str] = {}
    for part in value.split(","):
        key, eq, item = part.strip().partition("=")
        if not eq:
            raise PolicyError(f"trusted identity {text!r}: {part.strip()!r} is not KEY=VALUE")
        label = "ST" if key.strip().upper() == "S" else key.strip().upper()
        if label in attributes:
            raise PolicyError(f"trusted identity {text!r} names {label} twice")
        attributes[label] = item.strip()
    missing = [label for label in ("C", "ST", "O") if label not in attributes]
    if missing:
        raise PolicyError(
            f"distinguished name (DN) {value.strip()!r} has no mandatory RDN attribute for "
            f"{missing[0]!r}, it must contain 'C', 'ST', and 'O' RDN attributes at a minimum"
        )
    return attributes


@dataclass(frozen=True)
class NotationVerifier:
    """One trust policy statement's verification: roots, identities and the level."""

    roots: tuple[x509.Certificate, ...]
    trusted_identities: tuple[str, ...] = ("*",)
    level: str = "strict"
    override: Mapping[str, str] = field(default_factory=dict)
    name: str = "fakeregistry"

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise PolicyError(
                f"signature verification level {self.level!r} is not one of {', '.join(LEVELS)}"
            )
        for check, action in self.override.items():
            if check not in CHECKS or check == "integrity":
                raise PolicyError(
                    f"{check!r} cannot be overridden (known: {', '.join(CHECKS[1:])})"
                )
            if action not in ("enforce", "log", "skip"):
                raise PolicyError(f"override action {action!r} must be enforce, log or skip")
        for identity in self.trusted_identities:
            _parse_identity(identity)
        if self.level != "skip" and not self.roots:
            raise PolicyError(f"trust policy statement {self.name!r} has no trusted roots")

    def action(self, check: str) -> str:
        if self.level == "skip":
            return "skip"
        return self.override.get(check, LEVELS[self.level][check])

    def _identity_ok(self, leaf: x509.Certificate) -> bool:
        if "*" in self.trusted_identities:
            return True
        subject = dn_attributes(leaf.subject)
        for identity in self.trusted_identities:
            wanted = _parse_identity(identity) or {}
            if all(subject.get(k) == v for k, v in wanted.items()):
                return True
        return False

    def check(
        self,
        signature: FoundSignature,
        target: Mapping[str, Any],
        *,
        now: dt.datetime | None = None,
    ) -> SignatureCheck:
        """Verify one notation signature of the manifest described by *target* (``digest``,
        ``size``, ``mediaType``)."""
        if self.level == "skip":
            return SignatureCheck(
                signature, True, "Trust policy is configured to skip signature verification"
            )
        if signature.problem:
            return SignatureCheck(
                signature, False, f"integrity validation failed: {signature.problem}"
            )
        try:
            envelope = parse_envelope(signature.blob, signature.media_type)
        except InvalidSignature as exc:
            reason = str(exc)
            if not reason.startswith("integrity"):
                reason = f"integrity validation failed: {reason}"
            return SignatureCheck(signature, False, reason)
        identity = dn_string(envelope.leaf.subject)
        signed = envelope.target
        bound = str(signed.get("digest"))
        wanted_type = target.get("mediaType")
        if (
            signed.get("digest") != target.get("digest")
            or signed.get("size") != target.get("size")
            or (wanted_type and signed.get("mediaType") != wanted_type)
        ):
            return SignatureCheck(
                signature,
                False,
                "integrity validation failed: the signature's targetArtifact "
                f"({signed.get('mediaType')}, {bound}, {signed.get('size')} bytes) does not match "
                f"the artifact ({wanted_type}, {target.get('digest')}, {target.get('size')} bytes)",
                identity=identity,
                bound=bound,
            )
        warnings: list[str] = []

        def failed(check: str, message: str) -> SignatureCheck | None:
            action = self.action(check)
            if action == "enforce":
                return SignatureCheck(
                    signature,
                    False,
                    f"{check} validation failed: {message}",
                    identity=identity,
                    bound=bound,
                    warnings=tuple(warnings),
                )
            if action == "log":
                warnings.append(
                    f'Warning: {check} was set to "log" and failed with error: {message}'
                )
            return None

        try:
            check_chain(envelope.certificates, self.roots)
        except InvalidSignature as exc:
            outcome = failed("authenticity", str(exc))
            if outcome is not None:
                return outcome
        else:
            if not self._identity_ok(envelope.leaf):
                outcome = failed(
                    "authenticity",
                    "signing certificate from the digital signature does not match the X.509 "
                    f"trusted identities {list(self.trusted_identities)} defined in the trust "
                    f"policy {self.name!r}",
                )
                if outcome is not None:
                    return outcome
        moment = now or dt.datetime.now(dt.UTC)
        if envelope.expiry is not None and envelope.expiry < moment:
            outcome = failed(
                "expiry", f"digital signature has expired on {envelope.expiry.isoformat()!r}"
            )
            if outcome is not None:
                return outcome
        for certificate in envelope.certificates:
            if certificate.not_valid_after_utc < moment:
                outcome = failed(
                    "authenticTimestamp",
                    f"certificate {dn_string(certificate.subject)!r} is not valid anymore, it "
                    f"was expired at {certificate.not_valid_after_utc.isoformat()!r}",
                )
                if outcome is not None:
                    return outcome
                break
            if certificate.not_valid_before_utc > moment:
                outcome = failed(
                    "authenticTimestamp",
                    f"certificate {dn_string(certificate.subject)!r} is not valid yet, its "
                    f"validity starts from {certificate.not_valid_before_utc.isoformat()!r}",
                )
                if outcome is not None:
                    return outcome
                break
        return SignatureCheck(
            signature,
            True,
            f"signed by {identity} (trust policy {self.name!r}, level {self.level})",
            identity=identity,
            bound=bound,
            warnings=tuple(warnings),
        )

    def verify(
        self,
        artifact: str,
        signatures: Sequence[FoundSignature],
        target: Mapping[str, Any],
        *,
        now: dt.datetime | None = None,
    ) -> list[SignatureCheck]:
        """At least one signature must hold (``notation verify``); raise
        :class:`PolicyRejected` with notation's wording otherwise."""
        notary = [s for s in signatures if s.format == "notation"]
        if self.level == "skip":
            return []
        if not notary:
            raise PolicyRejected(
                f"signature verification failed: no signature is associated with "
                f'"{artifact}", make sure the artifact was signed successfully'
            )
        checks = [self.check(s, target, now=now) for s in notary]
        if not any(c.holds for c in checks):
            reasons = tuple(c.reason for c in checks)
            raise PolicyRejected(
                f"signature verification failed for all the signatures associated with "
                f"{artifact}: {'; '.join(reasons)}",
                reasons=reasons,
            )
        return checks


def load_trust_store(path: str | os.PathLike[str]) -> list[x509.Certificate]:
    """Every certificate of a PEM file, or of the ``.pem``/``.crt``/``.cer`` files of a
    directory (not recursive)."""
    root = Path(path)
    if root.is_dir():
        files = sorted(p for p in root.iterdir() if p.suffix.lower() in _CERT_SUFFIXES)
        certificates: list[x509.Certificate] = []
        for file in files:
            certificates.extend(load_certificates(file))
        return certificates
    if not root.exists():
        raise PolicyError(f'the trust store "{root}" does not exist')
    return load_certificates(root)


@dataclass(frozen=True)
class TrustPolicyStatement:
    name: str
    registry_scopes: tuple[str, ...]
    verifier: NotationVerifier


@dataclass(frozen=True)
class TrustPolicyDocument:
    """A notation ``trustpolicy.oci.json``, its trust stores read."""

    statements: tuple[TrustPolicyStatement, ...]
    source: str = "<trust policy>"

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, trust_store: str | os.PathLike[str] | None = None
    ) -> TrustPolicyDocument:
        """Read *path*. Trust stores ``ca:<name>`` come from *trust_store* (the directory
        holding ``x509/``), else a ``truststore`` (or ``trust-store``) directory beside the
        file, as in notation's config directory."""
        file = Path(path)
        try:
            document = json.loads(file.read_bytes())
        except (OSError, ValueError) as exc:
            raise PolicyError(f"cannot read trust policy {file}: {exc}") from None
        if trust_store is None:
            for name in ("truststore", "trust-store"):
                if (file.parent / name).is_dir():
                    trust_store = file.parent / name
                    break
        return cls.from_json(document, trust_store=trust_store, source=str(file))

    @classmethod
    def from_json(
        cls,
        document: Any,
        *,
        trust_store: str | os.PathLike[str] | None = None,
        roots: Mapping[str, Sequence[x509.Certificate]] | None = None,
        source: str = "<trust policy>",
    ) -> TrustPolicyDocument:
        """Parse a trust policy document. *roots* maps ``ca:<name>`` to certificates directly
        (instead of a *trust_store* directory)."""
        if not isinstance(document, dict):
            raise PolicyError(f"{source}: a trust policy is a JSON object")
        version = document.get("version")
        if version != "1.0":
            raise PolicyError(f"{source}: trust policy version {version!r} is not supported (1.0)")
        unknown = set(document) - {"version", "trustPolicies"}
        if unknown:
            raise PolicyError(f"{source}: unknown field {sorted(unknown)[0]!r}")
        raw = document.get("trustPolicies")
        if not isinstance(raw, list) or not raw:
            raise PolicyError(f"{source}: trust policy document has no trustPolicies")
        statements: list[TrustPolicyStatement] = []
        seen_scopes: set[str] = set()
        names: set[str] = set()
        for item in raw:
            statement = _statement(item, trust_store, roots or {}, source)
            if statement.name in names:
                raise PolicyError(
                    f"{source}: multiple trust policy statements use the same name "
                    f"{statement.name!r}"
                )
            names.add(statement.name)
            for scope in statement.registry_scopes:
                if scope in seen_scopes:
                    raise PolicyError(
                        f"{source}: registry scope {scope!r} is present in multiple trust policy "
                        "statements"
                    )
                seen_scopes.add(scope)
            statements.append(statement)
        return cls(tuple(statements), source)

    def statement_for(self, repository: str, artifact: str) -> TrustPolicyStatement:
        """The statement for ``host/repository`` (exact scope, else ``*``)."""
        wildcard = None
        for statement in self.statements:
            if repository in statement.registry_scopes:
                return statement
            if "*" in statement.registry_scopes:
                wildcard = statement
        if wildcard is not None:
            return wildcard
        raise PolicyRejected(
            f'signature verification failed: artifact "{artifact}" has no applicable trust '
            "policy. Trust policy applicability for a given artifact is determined by "
            f"registryScopes. To create a trust policy, see: {TRUST_POLICY_LINK}"
        )


def _statement(
    item: Any,
    trust_store: str | os.PathLike[str] | None,
    roots: Mapping[str, Sequence[x509.Certificate]],
    source: str,
) -> TrustPolicyStatement:
    if not isinstance(item, dict):
        raise PolicyError(f"{source}: each trust policy statement is an object")
    known = {"name", "registryScopes", "signatureVerification", "trustStores", "trustedIdentities"}
    unknown = set(item) - known
    if unknown:
        raise PolicyError(
            f"{source}: unknown field {sorted(unknown)[0]!r} in a trust policy statement"
        )
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise PolicyError(f"{source}: a trust policy statement has no name")
    scopes = item.get("registryScopes")
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise PolicyError(f"{source}: trust policy statement {name!r} has no registryScopes")
    if "*" in scopes and len(scopes) > 1:
        raise PolicyError(
            f"{source}: trust policy statement {name!r} uses wildcard registry scope '*', a "
            "wildcard scope cannot be used in conjunction with other scope values"
        )
    verification = item.get("signatureVerification")
    if not isinstance(verification, dict) or "level" not in verification:
        raise PolicyError(
            f"{source}: trust policy statement {name!r} has no signatureVerification level"
        )
    level = verification["level"]
    override = verification.get("override") or {}
    stores = item.get("trustStores") or []
    identities = item.get("trustedIdentities") or []
    if level == "skip":
        if stores or identities:
            raise PolicyError(
                f"{source}: trust policy statement {name!r} is set to skip signature verification "
                "but configured with trust stores and/or trusted identities, remove them as they "
                "are not needed"
            )
        return TrustPolicyStatement(
            name, tuple(scopes), NotationVerifier((), ("*",), "skip", {}, name)
        )
    if not stores or not identities:
        raise PolicyError(
            f"{source}: trust policy statement {name!r} needs trustStores and trustedIdentities"
        )
    if "*" in identities and len(identities) > 1:
        raise PolicyError(
            f"{source}: trust policy statement {name!r} uses a wildcard trusted identity '*', "
            "which cannot be used with other values"
        )
    certificates: list[x509.Certificate] = []
    for store in stores:
        kind, sep, store_name = str(store).partition(":")
        if not sep or kind not in ("ca", "signingAuthority"):
            raise PolicyError(
                f"{source}: trust store {store!r} must be ca:<name> or signingAuthority:<name>"
            )
        if store in roots:
            certificates.extend(roots[store])
            continue
        if trust_store is None:
            raise PolicyError(f"{source}: no trust store directory to find {store!r} in")
        certificates.extend(load_trust_store(Path(trust_store) / "x509" / kind / store_name))
    verifier = NotationVerifier(
        tuple(certificates), tuple(identities), str(level), dict(override), name
    )
    return TrustPolicyStatement(name, tuple(scopes), verifier)
