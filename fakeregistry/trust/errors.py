"""The trust package's errors: each message is one readable line."""

from __future__ import annotations

from fakeregistry.rules.errors import FakeRegistryError

__all__ = ["InvalidSignature", "KeyFileError", "PolicyError", "PolicyRejected", "TrustError"]


class TrustError(FakeRegistryError):
    """Anything signing or verification could not do."""


class KeyFileError(TrustError, ValueError):
    """A key or certificate that cannot be read or used."""


class InvalidSignature(TrustError):
    """A signature that does not hold (bad bytes, wrong key, another digest, bad structure)."""


class PolicyError(TrustError, ValueError):
    """A ``policy.json`` or ``trustpolicy.oci.json`` that cannot be used as written."""


class PolicyRejected(TrustError):
    """The trust policy does not allow the image; the message reads like the tool's own
    (containers/image: ``Source image rejected: ...``; notation: ``signature verification
    failed: ...``)."""

    def __init__(self, message: str, *, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = reasons
