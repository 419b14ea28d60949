"""Trust policies in the simulated pull, over HTTP against our registry: one row per case,
each on a fresh registry with a two-platform index ``app:1`` (linux/amd64, linux/arm64/v8)
pulled as linux/amd64.

Each row signs (or not), optionally tampers, builds a policy and says whether the pull is
allowed or which message it fails with (containers/image's and notation's wording).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fakeregistry import FakeRegistry, Index
from fakeregistry.trust import (
    CertificateChain,
    KeyPair,
    PolicyError,
    PolicyRejected,
    TrustError,
    generate_key,
    make_certificate_chain,
)
from tests import trust_helpers as th


@dataclass
class World:
    """What a case works with: the handle, the pushed index and throwaway keys."""

    registry: FakeRegistry
    index: Index
    key: KeyPair
    other_key: KeyPair
    chain: CertificateChain
    tmp: Path
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def repo(self) -> str:
        return f"{self.registry.host}/app"

    @property
    def ref(self) -> str:
        return f"{self.repo}:1"

    @property
    def amd64(self) -> str:
        return self.index.children[0].digest

    def sign(self, **options: Any) -> None:
        options.setdefault("key", self.key)
        self.registry.sign(self.ref, **options)


def key_data(pair: KeyPair) -> str:
    return base64.b64encode(pair.public_pem()).decode()


def sigstore(w: World, identity: dict[str, Any] | None = None, key: KeyPair | None = None) -> Any:
    requirement: dict[str, Any] = {"type": "sigstoreSigned", "keyData": key_data(key or w.key)}
    if identity is not None:
        requirement["signedIdentity"] = identity
    return requirement


def exact(kind: str, key: str, value: str) -> dict[str, str]:
    return {"type": kind, key: value}


def only(requirement: Any) -> Any:
    return {"default": [requirement]}


def notation_req(w: World, **extra: Any) -> Any:
    return {
        "type": "fakeregistry.notationSigned",
        "trustStoreData": [w.chain.root_pem().decode()],
        "trustedIdentities": ["x509.subject: C=US, ST=WA, O=fakeregistry"],
        **extra,
    }


def trust_policy_file(w: World, scopes: list[str], level: str = "strict") -> Path:
    """A notation config directory: trustpolicy.oci.json and truststore/x509/ca/test/."""
    store = w.tmp / "notation" / "truststore" / "x509" / "ca" / "test"
    store.mkdir(parents=True, exist_ok=True)
    (store / "root.crt").write_bytes(w.chain.root_pem())
    path = w.tmp / "notation" / "trustpolicy.oci.json"
    statement: dict[str, Any] = {
        "name": "test",
        "registryScopes": scopes,
        "signatureVerification": {"level": level},
        "trustStores": ["ca:test"],
        "trustedIdentities": ["x509.subject: C=US, ST=WA, O=fakeregistry"],
    }
    path.write_text(json.dumps({"version": "1.0", "trustPolicies": [statement]}))
    return path


def sign_notation(w: World, chain: CertificateChain | None = None, **options: Any) -> None:
    w.sign(key=chain or w.chain, format="notation", recursive=True, **options)


Setup = Callable[[World], None]
MakePolicy = Callable[[World], Any]


@dataclass(frozen=True)
class Case:
    id: str
    setup: Setup
    policy: MakePolicy
    error: str | None = None  # None: allowed
    verify_target: str = "instance"
    warning: str | None = None


def nothing(w: World) -> None:
    pass


def recursive(w: World) -> None:
    w.sign(recursive=True)


def claiming(identity: Callable[[World], str]) -> Setup:
    def setup(w: World) -> None:
        w.sign(recursive=True, identity=identity(w))

    return setup


def moved(w: World) -> None:
    # Sign the arm64 image only, then copy its .sig manifest to the amd64 image's tag.
    arm64 = w.index.children[1].digest
    w.registry.sign(f"{w.repo}@{arm64}", key=w.key)
    th.move_cosign_signature(w.repo, arm64, w.amd64)


def then(first: Setup, second: Callable[[World], None]) -> Setup:
    def setup(w: World) -> None:
        first(w)
        second(w)

    return setup


def chain_with(**options: Any) -> Setup:
    def setup(w: World) -> None:
        sign_notation(w, make_certificate_chain(**options))

    return setup


NOT_ACCEPTED = "Signature for identity"
CRYPTO = "cryptographic signature verification failed"

CASES = [
    # -- containers/image requirements and scopes
    Case("insecure-accept-anything", nothing, lambda w: only({"type": "insecureAcceptAnything"})),
    Case(
        "unsigned-under-reject-default",
        nothing,
        lambda w: only({"type": "reject"}),
        "Source image rejected: Running image docker://{repo}:1 is rejected by policy.",
    ),
    Case(
        "unsigned-sigstore",
        nothing,
        lambda w: only(sigstore(w, {"type": "matchRepository"})),
        "Source image rejected: A signature was required, but no signature exists",
    ),
    Case("cosign-recursive", recursive, lambda w: only(sigstore(w, {"type": "matchRepository"}))),
    Case(
        "scope-shadows-reject-default",
        recursive,
        lambda w: {
            "default": [{"type": "reject"}],
            "transports": {"docker": {w.repo: [sigstore(w, {"type": "matchRepository"})]}},
        },
    ),
    Case(
        "scope-reject-shadows-accepting-default",
        recursive,
        lambda w: {
            "default": [{"type": "insecureAcceptAnything"}],
            "transports": {"docker": {w.ref: [{"type": "reject"}]}},
        },
        "is rejected by policy",
    ),
    Case(
        "host-scope-applies-without-repo-scope",
        nothing,
        lambda w: {
            "default": [{"type": "insecureAcceptAnything"}],
            "transports": {"docker": {w.registry.host: [{"type": "reject"}]}},
        },
        "is rejected by policy",
    ),
    Case(
        "repo-scope-wins-over-host-scope",
        nothing,
        lambda w: {
            "default": [{"type": "reject"}],
            "transports": {
                "docker": {
                    w.registry.host: [{"type": "reject"}],
                    w.repo: [{"type": "insecureAcceptAnything"}],
                }
            },
        },
    ),
    Case(
        "wildcard-domain-scope",
        nothing,
        lambda w: {
            "default": [{"type": "insecureAcceptAnything"}],
            "transports": {"docker": {"*.0.1": [{"type": "reject"}]}},
        },
        "is rejected by policy",
    ),
    Case(
        "transport-default-before-global-default",
        nothing,
        lambda w: {
            "default": [{"type": "insecureAcceptAnything"}],
            "transports": {"docker": {"": [{"type": "reject"}]}},
        },
        "is rejected by policy",
    ),
    Case(
        "every-requirement-must-pass",
        recursive,
        lambda w: {
            "default": [sigstore(w, {"type": "matchRepository"}), {"type": "reject"}],
        },
        "is rejected by policy",
    ),
    Case(
        "wrong-key",
        recursive,
        lambda w: only(sigstore(w, {"type": "matchRepository"}, key=w.other_key)),
        CRYPTO,
    ),
    Case(
        "tampered-payload",
        then(recursive, lambda w: th.tamper_cosign_payload(w.repo, w.amd64)),
        lambda w: only(sigstore(w, {"type": "matchRepository"})),
        CRYPTO,
    ),
    Case(
        "tampered-annotation",
        then(recursive, lambda w: th.tamper_cosign_annotation(w.repo, w.amd64)),
        lambda w: only(sigstore(w, {"type": "matchRepository"})),
        CRYPTO,
    ),
    Case(
        "signature-moved-to-another-image",
        moved,
        lambda w: only(sigstore(w, {"type": "matchRepository"})),
        "does not match",
    ),
    # -- signedIdentity kinds, with a cosign payload claiming various references
    Case(
        "matchRepoDigestOrExact-repo-only-claim-by-tag",
        recursive,
        lambda w: only(sigstore(w)),
        NOT_ACCEPTED,
    ),
    Case(
        "matchRepoDigestOrExact-exact-claim", claiming(lambda w: w.ref), lambda w: only(sigstore(w))
    ),
    Case(
        "matchRepoDigestOrExact-other-tag",
        claiming(lambda w: f"{w.repo}:2"),
        lambda w: only(sigstore(w)),
        NOT_ACCEPTED,
    ),
    Case(
        "matchExact-exact",
        claiming(lambda w: w.ref),
        lambda w: only(sigstore(w, {"type": "matchExact"})),
    ),
    Case(
        "matchExact-repo-only-claim",
        recursive,
        lambda w: only(sigstore(w, {"type": "matchExact"})),
        NOT_ACCEPTED,
    ),
    Case(
        "matchRepository-other-repo",
        claiming(lambda w: f"{w.registry.host}/other"),
        lambda w: only(sigstore(w, {"type": "matchRepository"})),
        NOT_ACCEPTED,
    ),
    Case(
        "exactReference-match",
        claiming(lambda w: f"{w.registry.host}/release/app:1.0"),
        lambda w: only(
            sigstore(
                w,
                {"type": "exactReference", "dockerReference": f"{w.registry.host}/release/app:1.0"},
            )
        ),
    ),
    Case(
        "exactReference-wrong",
        claiming(lambda w: f"{w.registry.host}/release/app:1.1"),
        lambda w: only(
            sigstore(
                w,
                {"type": "exactReference", "dockerReference": f"{w.registry.host}/release/app:1.0"},
            )
        ),
        NOT_ACCEPTED,
    ),
    Case(
        "exactRepository-match",
        claiming(lambda w: f"{w.registry.host}/release/app"),
        lambda w: only(
            sigstore(
                w, {"type": "exactRepository", "dockerRepository": f"{w.registry.host}/release/app"}
            )
        ),
    ),
    Case(
        "exactRepository-wrong",
        recursive,
        lambda w: only(
            sigstore(
                w, {"type": "exactRepository", "dockerRepository": f"{w.registry.host}/release/app"}
            )
        ),
        NOT_ACCEPTED,
    ),
    Case(
        "remapIdentity-match",
        claiming(lambda w: f"{w.registry.host}/mirror/app:1"),
        lambda w: only(
            sigstore(
                w,
                {
                    "type": "remapIdentity",
                    "prefix": w.repo,
                    "signedPrefix": f"{w.registry.host}/mirror/app",
                },
            )
        ),
    ),
    Case(
        "remapIdentity-unmapped-claim",
        claiming(lambda w: w.ref),
        lambda w: only(
            sigstore(
                w,
                {
                    "type": "remapIdentity",
                    "prefix": w.repo,
                    "signedPrefix": f"{w.registry.host}/mirror/app",
                },
            )
        ),
        NOT_ACCEPTED,
    ),
    # -- other cosign layouts
    Case(
        "cosign-oci-1-1-referrer",
        lambda w: w.sign(recursive=True, referrer=True),
        lambda w: only(sigstore(w, {"type": "matchRepository"})),
    ),
    Case(
        "cosign-bundle",
        lambda w: w.sign(recursive=True, format="cosign-bundle"),
        lambda w: only(sigstore(w)),
    ),
    Case(
        "cosign-bundle-wrong-key",
        lambda w: w.sign(recursive=True, format="cosign-bundle"),
        lambda w: only(sigstore(w, key=w.other_key)),
        CRYPTO,
    ),
    # -- multi-arch: which manifest must be signed
    Case(
        "index-only-signature-instance-target",
        lambda w: w.sign(),
        lambda w: only(sigstore(w, {"type": "matchRepository"})),
        "A signature was required, but no signature exists",
    ),
    Case(
        "index-only-signature-index-target",
        lambda w: w.sign(),
        lambda w: only(sigstore(w, {"type": "matchRepository"})),
        verify_target="index",
    ),
    Case(
        "index-only-signature-both-targets",
        lambda w: w.sign(),
        lambda w: only(sigstore(w, {"type": "matchRepository"})),
        "A signature was required, but no signature exists",
        verify_target="both",
    ),
    Case(
        "recursive-signature-both-targets",
        recursive,
        lambda w: only(sigstore(w, {"type": "matchRepository"})),
        verify_target="both",
    ),
    # -- notation, through our requirement and through trustpolicy.oci.json
    Case("notation-strict", sign_notation, lambda w: only(notation_req(w))),
    Case(
        "notation-unsigned",
        nothing,
        lambda w: only(notation_req(w)),
        "no signature is associated with",
    ),
    Case(
        "notation-tampered-jws",
        then(sign_notation, lambda w: th.tamper_notation(w.repo, w.amd64)),
        lambda w: only(notation_req(w)),
        "integrity validation failed",
    ),
    Case(
        "notation-untrusted-root",
        chain_with(),
        lambda w: only(notation_req(w)),
        "authenticity validation failed: signature is not produced by a trusted signer",
    ),
    Case(
        "notation-untrusted-root-audit",
        chain_with(),
        lambda w: only(notation_req(w, level="audit")),
        warning='Warning: authenticity was set to "log"',
    ),
    Case(
        "notation-identity-mismatch",
        sign_notation,
        lambda w: only(
            {**notation_req(w), "trustedIdentities": ["x509.subject: C=US, ST=WA, O=Other"]}
        ),
        "does not match the X.509 trusted identities",
    ),
    Case(
        "notation-expired-leaf-strict",
        lambda w: None,
        lambda w: only(notation_req(w)),
        "authenticTimestamp validation failed",
    ),
    Case(
        "notation-expired-leaf-permissive",
        lambda w: None,
        lambda w: only(notation_req(w, level="permissive")),
        warning='Warning: authenticTimestamp was set to "log"',
    ),
    Case(
        "notation-expired-signature",
        lambda w: sign_notation(w, expiry=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)),
        lambda w: only(notation_req(w)),
        "expiry validation failed: digital signature has expired",
    ),
    Case(
        "notation-leaf-without-c-st-o",
        lambda w: None,
        lambda w: only({**notation_req(w), "trustedIdentities": ["*"]}),
        "has no mandatory RDN attribute for 'C'",
    ),
    Case(
        "notation-skip-level-unsigned",
        nothing,
        lambda w: only({"type": "fakeregistry.notationSigned", "level": "skip"}),
        warning="Trust policy is configured to skip signature verification",
    ),
    Case("trustpolicy-file-exact-scope", sign_notation, lambda w: trust_policy_file(w, [w.repo])),
    Case("trustpolicy-file-wildcard-scope", sign_notation, lambda w: trust_policy_file(w, ["*"])),
    Case(
        "trustpolicy-file-no-matching-scope",
        sign_notation,
        lambda w: trust_policy_file(w, [f"{w.registry.host}/other"]),
        "has no applicable trust policy",
    ),
    Case(
        "notation-and-sigstore-both-must-pass",
        sign_notation,
        lambda w: [only(sigstore(w, {"type": "matchRepository"})), trust_policy_file(w, ["*"])],
        "A signature was required, but no signature exists",
    ),
]

# Cases whose setup needs the key material made inside the case.
_CHAINS: dict[str, dict[str, Any]] = {
    "notation-expired-leaf-strict": {
        "not_before": dt.datetime.now(dt.UTC) - dt.timedelta(days=10),
        "not_after": dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
    },
    "notation-expired-leaf-permissive": {
        "not_before": dt.datetime.now(dt.UTC) - dt.timedelta(days=10),
        "not_after": dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
    },
    "notation-leaf-without-c-st-o": {"subject": {"CN": "no organisation"}},
}


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_pull_policy(fake_registry: FakeRegistry, tmp_path: Path, case: Case) -> None:
    world = World(
        fake_registry,
        fake_registry.push_index("app:1", ["linux/amd64", "linux/arm64/v8"]),
        generate_key(),
        generate_key(),
        make_certificate_chain(**_CHAINS.get(case.id, {})),
        tmp_path,
    )
    if case.id in _CHAINS:
        sign_notation(world)
    case.setup(world)
    policy = case.policy(world)
    if case.error is None:
        result = fake_registry.pull(
            "app:1", platform="linux/amd64", policy=policy, verify_target=case.verify_target
        )
        assert result.manifest.digest == world.amd64
        assert result.trust is not None
        assert result.layers  # layers were read after the check
        if case.warning:
            assert any(case.warning in w for w in result.warnings), result.warnings
        return
    before = len(fake_registry.requests)
    with pytest.raises(PolicyRejected) as caught:
        fake_registry.pull(
            "app:1", platform="linux/amd64", policy=policy, verify_target=case.verify_target
        )
    assert case.error.format(repo=world.repo) in str(caught.value)
    # Nothing of the image beyond its manifests was read: no config, no layer.
    paths = [r.path for r in list(fake_registry.requests)[before:]]
    config = world.index.children[0].config.digest  # type: ignore[union-attr]
    assert not any(config in p for p in paths)


def test_policy_files_load_as_written(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    """A real policy.json with keyPath, read from disk like skopeo's --policy."""
    pair = generate_key()
    _private, public = pair.write(tmp_path)
    fake_registry.push_image("app:1")
    fake_registry.sign("app:1", key=pair)
    policy = tmp_path / "policy.json"
    host = fake_registry.host
    policy.write_text(
        json.dumps(
            {
                "default": [{"type": "reject"}],
                "transports": {
                    "docker": {
                        f"{host}/app": [
                            {
                                "type": "sigstoreSigned",
                                "keyPath": str(public),
                                "signedIdentity": {"type": "matchRepository"},
                            }
                        ]
                    },
                    "docker-daemon": {"": [{"type": "insecureAcceptAnything"}]},
                },
            }
        )
    )
    result = fake_registry.pull("app:1", policy=policy)
    assert result.trust is not None
    assert result.trust.checks[0].holds


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param({"transports": {}}, "Default policy is missing", id="no-default"),
        pytest.param({"default": []}, "empty list is invalid", id="empty-requirements"),
        pytest.param(
            {"default": [{"type": "reject"}], "extra": 1}, "Unknown key 'extra'", id="unknown-key"
        ),
        pytest.param(
            {"default": [{"type": "sigstoreSigned", "fulcio": {}}]},
            "keyless",
            id="fulcio-not-supported",
        ),
        pytest.param({"default": [{"type": "sigstoreSigned"}]}, "exactly one of", id="no-key"),
        pytest.param(
            {"default": [{"type": "insecureAcceptAnything", "keyPath": "x"}]},
            "Unknown key",
            id="extra-field-on-accept",
        ),
        pytest.param(
            {"default": [{"type": "signedBy", "keyType": "X509", "keyPath": "k"}]},
            "Unknown key type",
            id="signedBy-bad-key-type",
        ),
        pytest.param(
            {"default": [{"type": "nope"}]}, "Unknown policy requirement type", id="unknown-type"
        ),
        pytest.param(
            {"version": "1.0", "trustPolicies": []}, "no trustPolicies", id="trustpolicy-empty"
        ),
        pytest.param(
            {
                "version": "1.0",
                "trustPolicies": [
                    {
                        "name": "a",
                        "registryScopes": ["*", "x/y"],
                        "signatureVerification": {"level": "strict"},
                        "trustStores": ["ca:a"],
                        "trustedIdentities": ["*"],
                    }
                ],
            },
            "wildcard scope cannot be used in conjunction",
            id="trustpolicy-wildcard-with-others",
        ),
        pytest.param(
            {
                "version": "1.0",
                "trustPolicies": [
                    {
                        "name": "a",
                        "registryScopes": ["*"],
                        "signatureVerification": {"level": "skip"},
                        "trustStores": ["ca:a"],
                        "trustedIdentities": ["*"],
                    }
                ],
            },
            "skip signature verification but configured",
            id="trustpolicy-skip-with-stores",
        ),
    ],
)
def test_invalid_policies(fake_registry: FakeRegistry, document: Any, message: str) -> None:
    fake_registry.push_image("app:1")
    with pytest.raises(PolicyError) as caught:
        fake_registry.pull("app:1", policy=document)
    assert message in str(caught.value)


def test_referrers_404_hides_referrer_signatures(
    fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    """Signatures pushed through the referrers API are not found once referrers answer 404
    (no tag schema was written): notation's own 'no signature' message."""
    chain = make_certificate_chain()
    fake_registry.push_image("app:1")
    fake_registry.sign("app:1", key=chain, format="notation")
    policy = {
        "default": [
            {"type": "fakeregistry.notationSigned", "trustStoreData": [chain.root_pem().decode()]}
        ]
    }
    fake_registry.pull("app:1", policy=policy)
    fake_registry.configure(referrers=False)
    with pytest.raises(PolicyRejected, match="no signature is associated with"):
        fake_registry.pull("app:1", policy=policy)


@pytest.mark.parametrize("fmt", ["notation", "cosign-bundle"])
def test_referrers_404_falls_back_to_tag_schema(fake_registry: FakeRegistry, fmt: str) -> None:
    """Signing where referrers answer 404 writes the referrers tag schema index
    (``sha256-<hex>``), which verification then reads."""
    chain = make_certificate_chain()
    fake_registry.configure(referrers=False)
    image = fake_registry.push_image("app:1")
    key: Any = chain if fmt == "notation" else chain.key
    result = fake_registry.sign("app:1", key=key, format=fmt)  # type: ignore[arg-type]
    assert "referrers tag schema" in result.signed[0].where
    tag = image.digest.replace(":", "-", 1)
    assert tag in th.with_client(lambda c: c.list_tags(th.at(f"{fake_registry.host}/app")))
    if fmt == "notation":
        requirement: Any = {
            "type": "fakeregistry.notationSigned",
            "trustStoreData": [chain.root_pem().decode()],
        }
    else:
        public = chain.key.public_key()
        from cryptography.hazmat.primitives import serialization

        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        requirement = {"type": "sigstoreSigned", "keyData": base64.b64encode(pem).decode()}
    result_pull = fake_registry.pull("app:1", policy={"default": [requirement]})
    assert result_pull.trust is not None
    assert "referrers tag schema" in result_pull.trust.checks[0].signature.where


def test_referrers_404_without_fallback_fails_clearly(fake_registry: FakeRegistry) -> None:
    fake_registry.configure(referrers=False)
    fake_registry.push_image("app:1")
    with pytest.raises(TrustError, match="has no referrers API") as caught:
        fake_registry.sign(
            "app:1", key=make_certificate_chain(), format="notation", referrers_fallback=False
        )
    assert "404" in str(caught.value)
