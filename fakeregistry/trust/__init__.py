"""Signing and trust: cosign, Sigstore bundle and notation signatures on any registry, and
the trust policies (containers ``policy.json``, notation ``trustpolicy.oci.json``) the
simulated pull enforces.

::

    from fakeregistry.trust import generate_key, make_certificate_chain, sign_sync

    pair = generate_key()
    sign_sync("127.0.0.1:5000/app:1.0", pair)  # loopback: plain HTTP by default
    sign_sync("127.0.0.1:5000/app:1.0", make_certificate_chain(), format="notation")

See ``docs/signing.md`` for the formats, where each is stored and the policy semantics.
"""

from __future__ import annotations

from fakeregistry.trust.errors import (
    InvalidSignature,
    KeyFileError,
    PolicyError,
    PolicyRejected,
    TrustError,
)
from fakeregistry.trust.keys import (
    CertificateChain,
    KeyPair,
    generate_key,
    load_private_key,
    load_public_keys,
    make_certificate_chain,
)
from fakeregistry.trust.policy import Policy, SignedIdentity
from fakeregistry.trust.sign import SIGN_FORMATS, SignedManifest, SignResult, sign, sign_sync
from fakeregistry.trust.signatures import FoundSignature, SignatureCheck, find_signatures
from fakeregistry.trust.trustpolicy import NotationVerifier, TrustPolicyDocument
from fakeregistry.trust.verify import (
    VERIFY_TARGETS,
    PolicyDecision,
    check_signatures,
    enforce,
    load_policies,
    signatures_for,
)

__all__ = [
    "SIGN_FORMATS",
    "VERIFY_TARGETS",
    "CertificateChain",
    "FoundSignature",
    "InvalidSignature",
    "KeyFileError",
    "KeyPair",
    "NotationVerifier",
    "Policy",
    "PolicyDecision",
    "PolicyError",
    "PolicyRejected",
    "SignResult",
    "SignatureCheck",
    "SignedIdentity",
    "SignedManifest",
    "TrustError",
    "TrustPolicyDocument",
    "check_signatures",
    "enforce",
    "find_signatures",
    "generate_key",
    "load_policies",
    "load_private_key",
    "load_public_keys",
    "make_certificate_chain",
    "sign",
    "sign_sync",
    "signatures_for",
]
