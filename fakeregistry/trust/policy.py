"""containers/image ``policy.json``: which signatures an image pull needs.

Source: ``containers/image docs/containers-policy.json.5.md``, ``signature/policy_eval.go``,
``signature/policy_reference_match.go``, ``docker/policyconfiguration/naming.go``.

- Shape: ``{"default": [reqs], "transports": {"docker": {"<scope>": [reqs], "": [reqs]}}}``;
  ``default`` is required and unknown fields reject the whole file.
- Scope lookup for ``docker`` references: the exact identity (``host/ns/repo:tag`` or
  ``…@sha256:…``), then ``host/ns/repo``, ``host/ns``, ``host[:port]``, then ``*.b.c``, ``*.c``
  for host ``a.b.c`` (port dropped), then the transport's ``""``, then ``default``. The first
  scope found is the only one used.
- Every requirement of the list must allow the image; a signature requirement needs at least
  one accepted signature.
- Requirements: ``insecureAcceptAnything``, ``reject``, ``sigstoreSigned`` (``keyPath``,
  ``keyPaths``, ``keyData``, ``keyDatas``; ``signedIdentity``), and fakeregistry's own
  ``fakeregistry.notationSigned`` (named so it cannot collide with containers/image, which
  would refuse a file holding it). ``signedBy`` (GPG) and keyless ``fulcio``/``pki`` are
  parsed and refused with a clear message.
- ``signedIdentity``: ``matchExact``, ``matchRepoDigestOrExact`` (the default),
  ``matchRepository``, ``exactReference``, ``exactRepository``, ``remapIdentity``. cosign
  payloads carry only a repository, so only ``matchRepository`` and ``exactRepository``
  accept them for a pull by tag (the man page says so too).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakeregistry.rules.reference import ImageReference, ImageReferenceError
from fakeregistry.trust.errors import PolicyError
from fakeregistry.trust.keys import PublicKey, load_public_keys
from fakeregistry.trust.trustpolicy import NotationVerifier, load_trust_store

__all__ = [
    "NOTATION_REQUIREMENT",
    "InsecureAcceptAnything",
    "NotationSigned",
    "Policy",
    "Reject",
    "Requirement",
    "SignedBy",
    "SignedIdentity",
    "SigstoreSigned",
    "parse_signed_reference",
    "policy_scopes",
]

NOTATION_REQUIREMENT = "fakeregistry.notationSigned"
IDENTITY_TYPES = (
    "matchExact",
    "matchRepoDigestOrExact",
    "matchRepository",
    "exactReference",
    "exactRepository",
    "remapIdentity",
)


def _has_tag_or_digest(text: str) -> bool:
    return "@" in text or ":" in text.rsplit("/", 1)[-1]


def parse_signed_reference(text: str) -> ImageReference:
    """A reference as written in a signature: like Docker's ``ParseNormalizedNamed``, so a
    bare repository stays without a tag (no ``latest``)."""
    reference = ImageReference.parse(text)
    if not _has_tag_or_digest(text):
        reference = ImageReference(reference.registry, reference.repository)
    return reference


def _name(ref: ImageReference) -> str:
    return f"{ref.registry}/{ref.repository}"


def _full(ref: ImageReference) -> str:
    return str(ref)


@dataclass(frozen=True)
class SignedIdentity:
    """How a signature's ``docker-reference`` must relate to the image being pulled."""

    type: str = "matchRepoDigestOrExact"
    docker_reference: str | None = None
    docker_repository: str | None = None
    prefix: str | None = None
    signed_prefix: str | None = None

    @classmethod
    def from_json(cls, value: Any) -> SignedIdentity:
        if value is None:
            return cls()
        if not isinstance(value, dict) or value.get("type") not in IDENTITY_TYPES:
            kind = value.get("type") if isinstance(value, dict) else value
            raise PolicyError(f"Unknown policy reference match type {kind!r}")
        kind = value["type"]
        fields = {
            "exactReference": {"dockerReference"},
            "exactRepository": {"dockerRepository"},
            "remapIdentity": {"prefix", "signedPrefix"},
        }.get(kind, set())
        unknown = set(value) - {"type"} - fields
        if unknown:
            raise PolicyError(f"Unknown key {sorted(unknown)[0]!r} in signedIdentity {kind}")
        missing = fields - set(value)
        if missing:
            raise PolicyError(f"signedIdentity {kind} needs {sorted(missing)[0]!r}")
        identity = cls(
            kind,
            docker_reference=value.get("dockerReference"),
            docker_repository=value.get("dockerRepository"),
            prefix=value.get("prefix"),
            signed_prefix=value.get("signedPrefix"),
        )
        try:
            if identity.docker_reference is not None:
                ref = parse_signed_reference(identity.docker_reference)
                if ref.tag is None and ref.digest is None:
                    raise PolicyError(
                        f"dockerReference {identity.docker_reference} contains neither a tag nor "
                        "digest"
                    )
            if identity.docker_repository is not None:
                ref = parse_signed_reference(identity.docker_repository)
                if ref.tag or ref.digest:
                    raise PolicyError(
                        f"dockerRepository {identity.docker_repository} is not a repository"
                    )
        except ImageReferenceError as exc:
            raise PolicyError(str(exc)) from None
        return identity

    def matches(self, image: ImageReference, signed: str) -> bool:
        """Does a signature claiming *signed* apply to *image*?"""
        try:
            claimed = parse_signed_reference(signed)
        except ImageReferenceError:
            return False
        kind = self.type
        if kind == "matchExact":
            return bool(image.tag or image.digest) and _full(image) == _full(claimed)
        if kind == "matchRepoDigestOrExact":
            return _repo_digest_or_exact(image, claimed)
        if kind == "matchRepository":
            return _name(image) == _name(claimed)
        if kind == "exactReference":
            assert self.docker_reference is not None
            return _full(parse_signed_reference(self.docker_reference)) == _full(claimed)
        if kind == "exactRepository":
            assert self.docker_repository is not None
            return _name(parse_signed_reference(self.docker_repository)) == _name(claimed)
        assert kind == "remapIdentity"
        assert self.prefix is not None
        assert self.signed_prefix is not None
        remapped = _remap(image, self.prefix, self.signed_prefix)
        return _repo_digest_or_exact(remapped or image, claimed)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for key, value in (
            ("dockerReference", self.docker_reference),
            ("dockerRepository", self.docker_repository),
            ("prefix", self.prefix),
            ("signedPrefix", self.signed_prefix),
        ):
            if value is not None:
                out[key] = value
        return out


def _repo_digest_or_exact(image: ImageReference, claimed: ImageReference) -> bool:
    if image.digest is not None:
        return _name(image) == _name(claimed)
    if image.tag is not None:
        return _full(image) == _full(claimed)
    return False


def _remap(image: ImageReference, prefix: str, signed_prefix: str) -> ImageReference | None:
    """containers/image ``refMatchesPrefix``: the prefix must end at a component boundary."""
    text = _full(image)
    if not text.startswith(prefix):
        return None
    rest = text[len(prefix) :]
    if rest and rest[0] not in "/:@" and not prefix.endswith("/"):
        return None
    try:
        return ImageReference.parse(signed_prefix + rest)
    except ImageReferenceError:
        return None


@dataclass(frozen=True)
class InsecureAcceptAnything:
    type: str = "insecureAcceptAnything"


@dataclass(frozen=True)
class Reject:
    type: str = "reject"


@dataclass(frozen=True)
class SigstoreSigned:
    """Needs a cosign signature (legacy tag, oci-1-1 referrer or bundle) by one of *keys*."""

    keys: tuple[PublicKey, ...]
    signed_identity: SignedIdentity = field(default_factory=SignedIdentity)
    type: str = "sigstoreSigned"


@dataclass(frozen=True)
class SignedBy:
    """GPG simple signing; parsed, but fakeregistry's pull does not verify GPG."""

    key_type: str
    signed_identity: SignedIdentity = field(default_factory=SignedIdentity)
    type: str = "signedBy"


@dataclass(frozen=True)
class NotationSigned:
    """fakeregistry's notation requirement: roots, trusted identities and a level."""

    verifier: NotationVerifier
    type: str = NOTATION_REQUIREMENT


Requirement = InsecureAcceptAnything | Reject | SigstoreSigned | SignedBy | NotationSigned


def _one_of(item: Mapping[str, Any], names: Sequence[str], kind: str) -> str:
    present = [n for n in names if n in item]
    if len(present) != 1:
        raise PolicyError(f"{kind}: exactly one of {', '.join(names)} must be specified")
    return present[0]


def _keys_from(item: Mapping[str, Any], kind: str) -> tuple[PublicKey, ...]:
    source = _one_of(item, ("keyPath", "keyPaths", "keyData", "keyDatas", "fulcio", "pki"), kind)
    value = item[source]
    if source in ("fulcio", "pki"):
        raise PolicyError(
            f"{kind} with {source} (keyless, certificate-based) is not supported by fakeregistry"
        )
    if source == "keyPath":
        values, is_path = [value], True
    elif source == "keyPaths":
        values, is_path = value, True
    elif source == "keyData":
        values, is_path = [value], False
    else:
        values, is_path = value, False
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise PolicyError(f"{kind}: {source} must be a non-empty string (list)")
    keys: list[PublicKey] = []
    for entry in values:
        try:
            if is_path:
                keys.extend(load_public_keys(Path(entry)))
            else:
                keys.extend(load_public_keys(base64.b64decode(entry, validate=True)))
        except (binascii.Error, ValueError) as exc:
            raise PolicyError(f"{kind}: {source}: {exc}") from None
    return tuple(keys)


def parse_requirement(item: Any) -> Requirement:
    """One requirement object of a policy."""
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        raise PolicyError('a policy requirement must be an object with a "type"')
    kind = item["type"]
    if kind in ("insecureAcceptAnything", "reject"):
        if set(item) != {"type"}:
            raise PolicyError(f"Unknown key {sorted(set(item) - {'type'})[0]!r} in {kind}")
        return InsecureAcceptAnything() if kind == "insecureAcceptAnything" else Reject()
    if kind == "sigstoreSigned":
        known = {
            "type",
            "keyPath",
            "keyPaths",
            "keyData",
            "keyDatas",
            "fulcio",
            "pki",
            "signedIdentity",
            "rekorPublicKeyPath",
            "rekorPublicKeyPaths",
            "rekorPublicKeyData",
            "rekorPublicKeyDatas",
        }
        unknown = set(item) - known
        if unknown:
            raise PolicyError(f"Unknown key {sorted(unknown)[0]!r} in sigstoreSigned")
        if any(k.startswith("rekor") for k in item):
            raise PolicyError(
                "sigstoreSigned with a Rekor public key (transparency log) is not supported by "
                "fakeregistry"
            )
        return SigstoreSigned(
            _keys_from(item, kind), SignedIdentity.from_json(item.get("signedIdentity"))
        )
    if kind == "signedBy":
        unknown = set(item) - {
            "type",
            "keyType",
            "keyPath",
            "keyPaths",
            "keyData",
            "signedIdentity",
        }
        if unknown:
            raise PolicyError(f"Unknown key {sorted(unknown)[0]!r} in signedBy")
        if item.get("keyType") != "GPGKeys":
            raise PolicyError(f"Unknown key type {item.get('keyType')!r} in signedBy")
        _one_of(item, ("keyPath", "keyPaths", "keyData"), kind)
        return SignedBy("GPGKeys", SignedIdentity.from_json(item.get("signedIdentity")))
    if kind == NOTATION_REQUIREMENT:
        return NotationSigned(_notation_verifier(item))
    raise PolicyError(f"Unknown policy requirement type {kind!r}")


def _notation_verifier(item: Mapping[str, Any]) -> NotationVerifier:
    unknown = set(item) - {
        "type",
        "trustStore",
        "trustStoreData",
        "trustedIdentities",
        "level",
        "override",
    }
    if unknown:
        raise PolicyError(f"Unknown key {sorted(unknown)[0]!r} in {NOTATION_REQUIREMENT}")
    roots = []
    from fakeregistry.trust.keys import load_certificates

    for path in item.get("trustStore") or []:
        roots.extend(load_trust_store(path))
    for pem in item.get("trustStoreData") or []:
        roots.extend(load_certificates(pem.encode() if isinstance(pem, str) else pem))
    identities = item.get("trustedIdentities") or ["*"]
    return NotationVerifier(
        tuple(roots),
        tuple(identities),
        str(item.get("level", "strict")),
        dict(item.get("override") or {}),
        name=NOTATION_REQUIREMENT,
    )


def _requirements(value: Any, where: str) -> tuple[Requirement, ...]:
    if not isinstance(value, list):
        raise PolicyError(f"{where}: requirements must be a list")
    if not value:
        raise PolicyError(f"{where}: no policy requirements (an empty list is invalid)")
    return tuple(parse_requirement(item) for item in value)


def policy_scopes(ref: ImageReference) -> list[str]:
    """The scopes containers/image tries for a docker reference, most specific first."""
    identity = f"{ref.registry}/{ref.repository}" + (
        f"@{ref.digest}" if ref.digest else f":{ref.tag or 'latest'}"
    )
    scopes = [identity]
    name = f"{ref.registry}/{ref.repository}"
    while True:
        scopes.append(name)
        slash = name.rfind("/")
        if slash < 0:
            break
        name = name[:slash]
    host = re.sub(r":\d+$", "", ref.registry)
    parts = host.split(".")
    for i in range(1, len(parts)):
        scopes.append("*." + ".".join(parts[i:]))
    return scopes


@dataclass(frozen=True)
class Policy:
    """A parsed ``policy.json``."""

    default: tuple[Requirement, ...]
    transports: Mapping[str, Mapping[str, tuple[Requirement, ...]]] = field(default_factory=dict)
    source: str = "<policy>"

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Policy:
        file = Path(path)
        try:
            document = json.loads(file.read_bytes())
        except OSError as exc:
            raise PolicyError(f"reading policy {file}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise PolicyError(f"invalid policy in {file}: {exc}") from None
        return cls.from_json(document, source=str(file))

    @classmethod
    def from_json(cls, document: Any, *, source: str = "<policy>") -> Policy:
        if not isinstance(document, dict):
            raise PolicyError(f"invalid policy in {source}: not a JSON object")
        unknown = set(document) - {"default", "transports"}
        if unknown:
            raise PolicyError(f"invalid policy in {source}: Unknown key {sorted(unknown)[0]!r}")
        if "default" not in document:
            raise PolicyError(f"invalid policy in {source}: Default policy is missing")
        default = _requirements(document["default"], f"{source}: default")
        transports: dict[str, dict[str, tuple[Requirement, ...]]] = {}
        raw = document.get("transports") or {}
        if not isinstance(raw, dict):
            raise PolicyError(f"invalid policy in {source}: transports must be an object")
        for transport, scopes in raw.items():
            if not isinstance(scopes, dict):
                raise PolicyError(
                    f"invalid policy in {source}: transports.{transport} must be an object"
                )
            transports[transport] = {
                scope: _requirements(reqs, f"{source}: transports.{transport}[{scope!r}]")
                for scope, reqs in scopes.items()
            }
        return cls(default, transports, source)

    def requirements_for(self, ref: ImageReference) -> tuple[str, tuple[Requirement, ...]]:
        """(scope, requirements) that apply to pulling *ref* over the docker transport."""
        docker = self.transports.get("docker", {})
        for scope in policy_scopes(ref):
            if scope in docker:
                return scope, docker[scope]
        if "" in docker:
            return 'transports.docker[""]', docker[""]
        return "default", self.default
