"""Verification: trust policies in the simulated pull, and signatures checked with keys.

:func:`enforce` is what :func:`fakeregistry.engine.pull.pull` calls with ``policy=`` after choosing
the image and **before** reading its config or layers (containers/image checks the policy
first too, ``copy/single.go``: "keep this policy check BEFORE reading any other information
about the image"). *verify_target* says which manifest must be signed:

- ``instance`` (default): the platform manifest that was chosen, as skopeo and podman do
  (signatures are looked up by the instance digest, ``copy/copy.go``);
- ``index``: the manifest the reference resolved to (``cosign verify <tag>``);
- ``both``: each of them.

A single image is its own instance and index. Policies may be containers/image
:class:`~fakeregistry.trust.policy.Policy` objects, notation
:class:`~fakeregistry.trust.trustpolicy.TrustPolicyDocument` objects, their files
(``policy.json`` or ``trustpolicy.oci.json``, told apart by their keys) or a list of those,
all of which must allow the image.

:func:`check_signatures` (what ``fakeregistry verify`` and ``manifest inspect --signatures``
print, and :func:`signatures_for` for the web page) finds every signature of a manifest and
checks each with the keys and roots given.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fakeregistry.client import FetchedManifest, RegistryClient
from fakeregistry.client.connection import Connection, connect
from fakeregistry.rules.reference import ImageReference
from fakeregistry.trust.errors import PolicyError, PolicyRejected
from fakeregistry.trust.keys import PublicKey, load_public_keys
from fakeregistry.trust.policy import (
    InsecureAcceptAnything,
    NotationSigned,
    Policy,
    Reject,
    Requirement,
    SignedBy,
    SigstoreSigned,
)
from fakeregistry.trust.signatures import (
    FoundSignature,
    SignatureCheck,
    check_bundle,
    check_cosign,
    describe_payload,
    find_signatures,
)
from fakeregistry.trust.trustpolicy import NotationVerifier, TrustPolicyDocument

__all__ = [
    "VERIFY_TARGETS",
    "PolicyDecision",
    "PolicyLike",
    "check_signatures",
    "enforce",
    "format_checks",
    "load_policies",
    "signatures_for",
]

VerifyTarget = Literal["instance", "index", "both"]
VERIFY_TARGETS: tuple[VerifyTarget, ...] = ("instance", "index", "both")
AnyPolicy = Policy | TrustPolicyDocument
PolicyLike = AnyPolicy | str | os.PathLike[str] | Mapping[str, Any] | Sequence[Any]


def load_policies(value: PolicyLike) -> tuple[AnyPolicy, ...]:
    """Policies from objects, files or parsed JSON: a document with ``trustPolicies`` is a
    notation trust policy, anything else a containers ``policy.json``."""
    if isinstance(value, Policy | TrustPolicyDocument):
        return (value,)
    if isinstance(value, str | os.PathLike):
        path = Path(value)
        try:
            document = json.loads(path.read_bytes())
        except OSError as exc:
            raise PolicyError(f"reading policy {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise PolicyError(f"invalid policy in {path}: {exc}") from None
        if isinstance(document, dict) and "trustPolicies" in document:
            return (TrustPolicyDocument.load(path),)
        return (Policy.from_json(document, source=str(path)),)
    if isinstance(value, Mapping):
        if "trustPolicies" in value:
            return (TrustPolicyDocument.from_json(dict(value)),)
        return (Policy.from_json(dict(value)),)
    out: list[AnyPolicy] = []
    for item in value:
        out.extend(load_policies(item))
    if not out:
        raise PolicyError("no policy given")
    return tuple(out)


@dataclass(frozen=True)
class PolicyDecision:
    """What the policy check saw: each verified digest with the scope and requirements that
    applied, every signature check made, and what was only logged."""

    reference: str
    verify_target: str
    digests: tuple[str, ...]
    scopes: tuple[str, ...]
    checks: tuple[SignatureCheck, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "verifyTarget": self.verify_target,
            "digests": list(self.digests),
            "scopes": list(self.scopes),
            "signatures": [c.to_json() for c in self.checks],
            "warnings": list(self.warnings),
        }


@dataclass
class _Context:
    client: RegistryClient
    reference: ImageReference
    cache: dict[str, list[FoundSignature]] = field(default_factory=dict)
    checks: list[SignatureCheck] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    async def signatures(self, digest: str) -> list[FoundSignature]:
        if digest not in self.cache:
            self.cache[digest] = await find_signatures(self.client, self.reference, digest)
        return self.cache[digest]


def _image_name(ref: ImageReference) -> str:
    return f"docker://{ref}"


def _descriptor(manifest: FetchedManifest) -> dict[str, Any]:
    return {"mediaType": manifest.media_type, "digest": manifest.digest, "size": manifest.size}


async def _sigstore(
    context: _Context, requirement: SigstoreSigned, manifest: FetchedManifest
) -> str | None:
    found = [
        s
        for s in await context.signatures(manifest.digest)
        if s.format in ("cosign", "cosign-bundle")
    ]
    if not found:
        return "A signature was required, but no signature exists"
    reasons: list[str] = []
    for signature in found:
        if signature.format == "cosign":
            check = check_cosign(signature, requirement.keys, manifest.digest)
            if (
                check.holds
                and check.identity is not None
                and not requirement.signed_identity.matches(context.reference, check.identity)
            ):
                check = SignatureCheck(
                    signature,
                    False,
                    f"Signature for identity {check.identity} is not accepted",
                    identity=check.identity,
                    bound=check.bound,
                )
        else:
            # A bundle's statement binds the digest only: there is no identity to match.
            check = check_bundle(signature, requirement.keys, manifest.digest)
        context.checks.append(check)
        if check.holds:
            return None
        reasons.append(check.reason)
    if len(reasons) == 1:
        return reasons[0]
    return f"None of the signatures were accepted, reasons: {'; '.join(reasons)}"


async def _notation(
    context: _Context, verifier: NotationVerifier, manifest: FetchedManifest
) -> str | None:
    artifact = f"{context.reference.registry}/{context.reference.repository}@{manifest.digest}"
    if verifier.level == "skip":
        context.warnings.append("Trust policy is configured to skip signature verification")
        return None
    found = await context.signatures(manifest.digest)
    try:
        checks = verifier.verify(artifact, found, _descriptor(manifest))
    except PolicyRejected as exc:
        context.checks.extend(
            verifier.check(s, _descriptor(manifest)) for s in found if s.format == "notation"
        )
        return str(exc)
    context.checks.extend(checks)
    for check in checks:
        context.warnings.extend(check.warnings)
    return None


async def _requirement(
    context: _Context, requirement: Requirement, manifest: FetchedManifest
) -> str | None:
    if isinstance(requirement, InsecureAcceptAnything):
        return None
    if isinstance(requirement, Reject):
        return f"Running image {_image_name(context.reference)} is rejected by policy."
    if isinstance(requirement, SigstoreSigned):
        return await _sigstore(context, requirement, manifest)
    if isinstance(requirement, NotationSigned):
        return await _notation(context, requirement.verifier, manifest)
    assert isinstance(requirement, SignedBy)
    return (
        "signedBy (GPG simple signing) is not verified by fakeregistry's pull; "
        "use skopeo --policy for GPG signatures"
    )


async def enforce(
    client: RegistryClient,
    reference: ImageReference,
    top: FetchedManifest,
    instance: FetchedManifest,
    policy: PolicyLike,
    verify_target: VerifyTarget = "instance",
) -> PolicyDecision:
    """Check *policy* for the pull of *reference* that resolved to *top* and chose *instance*;
    raise :class:`~fakeregistry.trust.errors.PolicyRejected` when it does not allow it."""
    if verify_target not in VERIFY_TARGETS:
        raise ValueError(
            f"verify_target must be one of {', '.join(VERIFY_TARGETS)}, not {verify_target!r}"
        )
    policies = load_policies(policy)
    targets = {"instance": [instance], "index": [top], "both": [top, instance]}[verify_target]
    if top.digest == instance.digest:
        targets = [instance]
    context = _Context(client, reference)
    scopes: list[str] = []
    for manifest in targets:
        for item in policies:
            if isinstance(item, Policy):
                scope, requirements = item.requirements_for(reference)
                scopes.append(f"{item.source}: {scope}")
                for requirement in requirements:
                    reason = await _requirement(context, requirement, manifest)
                    if reason is not None:
                        which = (
                            ""
                            if manifest is instance or len(targets) == 1
                            else f" (index {manifest.digest})"
                        )
                        raise PolicyRejected(
                            f"Source image rejected{which}: {reason}", reasons=(reason,)
                        )
            else:
                repository = f"{reference.registry}/{reference.repository}"
                artifact = f"{repository}@{manifest.digest}"
                statement = item.statement_for(repository, artifact)
                scopes.append(f"{item.source}: {statement.name}")
                reason = await _notation(context, statement.verifier, manifest)
                if reason is not None:
                    raise PolicyRejected(reason, reasons=(reason,))
    return PolicyDecision(
        reference=str(reference),
        verify_target=verify_target,
        digests=tuple(m.digest for m in targets),
        scopes=tuple(scopes),
        checks=tuple(context.checks),
        warnings=tuple(context.warnings),
    )


def _unchecked(signature: FoundSignature, why: str) -> SignatureCheck:
    identity = bound = None
    if signature.format == "cosign" and not signature.problem:
        identity, bound = describe_payload(signature.blob)
    return SignatureCheck(signature, None, signature.problem or why, identity=identity, bound=bound)


async def check_signatures(
    client: RegistryClient,
    reference: ImageReference,
    manifest: FetchedManifest,
    *,
    keys: Sequence[PublicKey] = (),
    notation: NotationVerifier | None = None,
    now: dt.datetime | None = None,
) -> list[SignatureCheck]:
    """Every signature of *manifest*, each checked with *keys* (cosign formats) or *notation*
    (notation signatures); ``holds`` is None for a signature nothing was given to check."""
    out: list[SignatureCheck] = []
    for signature in await find_signatures(client, reference, manifest.digest):
        if signature.format == "notation":
            if notation is None:
                out.append(_unchecked(signature, "no trust store given"))
            else:
                out.append(notation.check(signature, _descriptor(manifest), now=now))
        elif not keys:
            out.append(_unchecked(signature, "no key given"))
        elif signature.format == "cosign":
            out.append(check_cosign(signature, keys, manifest.digest))
        else:
            out.append(check_bundle(signature, keys, manifest.digest))
    return out


def _row(number: int, check: SignatureCheck) -> list[str]:
    verdict = {True: "yes", False: "NO", None: "not checked"}[check.holds]
    lines = [
        f"  [{number}] {check.signature.format}, {check.signature.where}",
        f"      identity: {check.identity or '-'}",
        f"      digest:   {check.bound or '-'}",
        f"      holds:    {verdict} ({check.reason})",
    ]
    lines.extend(f"      {warning}" for warning in check.warnings)
    return lines


def format_checks(title: str, checks: Sequence[SignatureCheck]) -> str:
    """Signatures as ``fakeregistry verify`` prints them: format and place, identity,
    digest bound, and whether each holds."""
    lines = [title]
    if not checks:
        lines.append("  (no signatures)")
    for number, check in enumerate(checks, 1):
        lines.extend(_row(number, check))
    return "\n".join(lines)


@dataclass(frozen=True)
class SignatureRow:
    """One line of a signatures table (for the web page)."""

    format: str
    where: str
    identity: str | None
    bound: str | None
    verified: bool | None
    reason: str


async def signatures_for(
    ref: ImageReference | str,
    *,
    keys: Any = (),
    connection: Connection | None = None,
) -> list[SignatureRow]:
    """The signatures of the manifest *ref* names, as rows a page can show; *keys* (PEM,
    paths or key objects) check the cosign ones."""
    reference = ref if isinstance(ref, ImageReference) else ImageReference.parse(ref)
    public = load_public_keys(keys) if keys else []

    async def run(own: RegistryClient) -> list[SignatureRow]:
        manifest = await own.get_manifest(reference)
        checks = await check_signatures(own, reference, manifest, keys=public)
        return [
            SignatureRow(
                c.signature.format, c.signature.where, c.identity, c.bound, c.holds, c.reason
            )
            for c in checks
        ]

    async with connect(reference.registry, connection) as client:
        return await run(client)
