"""Content digests: parsing, verification and incremental hashing.

A digest names content by its hash, ``algorithm:encoded`` (OCI image-spec "Digests"). The
registry accepts the two registered algorithms, with lowercase hex of the exact length::

    >>> Digest.parse("sha256:" + "a" * 64).algorithm
    'sha256'
    >>> Digest.parse("md5:abc")
    Traceback (most recent call last):
    ...
    fakeregistry.rules.digest.DigestError: unsupported digest algorithm 'md5'

This module is pure (standard library only); the registry maps ``DigestError`` to the spec's
``DIGEST_INVALID`` error.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

from fakeregistry.rules.errors import FakeRegistryError

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "Digest",
    "DigestError",
    "Hasher",
    "compute",
    "new_hasher",
]

# Registered algorithms and the length of their lowercase-hex encoding (image-spec descriptor.md).
ALGORITHMS: dict[str, int] = {"sha256": 64, "sha512": 128}
DEFAULT_ALGORITHM = "sha256"

# The image-spec grammar: algorithm-component and encoded are checked separately so the error
# can say which part is wrong.
_GRAMMAR = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_HEX = re.compile(r"^[a-f0-9]+$")


class DigestError(FakeRegistryError, ValueError):
    """A string that is not a digest this registry can verify."""


class Hasher(Protocol):
    """The part of ``hashlib``'s interface that streaming uploads use."""

    @property
    def name(self) -> str: ...

    def update(self, data: bytes | bytearray | memoryview, /) -> None: ...

    def hexdigest(self) -> str: ...

    def copy(self) -> Hasher: ...


@dataclass(frozen=True, slots=True)
class Digest:
    """A parsed, validated digest such as ``sha256:e3b0c442...``."""

    algorithm: str
    encoded: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse ``algorithm:hex``; raise :class:`DigestError` unless it is sha256 or sha512
        with lowercase hex of exactly the right length."""
        if not _GRAMMAR.match(text):
            raise DigestError(f"invalid digest format {text!r}")
        algorithm, _, encoded = text.partition(":")
        length = ALGORITHMS.get(algorithm)
        if length is None:
            raise DigestError(f"unsupported digest algorithm {algorithm!r}")
        if len(encoded) != length or not _HEX.match(encoded):
            raise DigestError(
                f"invalid {algorithm} digest: want {length} lowercase hex characters, "
                f"got {encoded!r}"
            )
        return cls(algorithm, encoded)

    @classmethod
    def is_valid(cls, text: str) -> bool:
        """True when ``text`` parses as a digest."""
        try:
            cls.parse(text)
        except DigestError:
            return False
        return True

    def hasher(self) -> Hasher:
        """A fresh hasher of this digest's algorithm."""
        return new_hasher(self.algorithm)

    def matches(self, data: bytes | bytearray | memoryview) -> bool:
        """True when ``data`` hashes to this digest."""
        h = self.hasher()
        h.update(data)
        return h.hexdigest() == self.encoded

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.encoded}"


def new_hasher(algorithm: str = DEFAULT_ALGORITHM) -> Hasher:
    """A fresh incremental hasher for a registered algorithm."""
    if algorithm not in ALGORITHMS:
        raise DigestError(f"unsupported digest algorithm {algorithm!r}")
    return hashlib.new(algorithm)


def compute(data: bytes | bytearray | memoryview, algorithm: str = DEFAULT_ALGORITHM) -> Digest:
    """The digest of ``data``."""
    h = new_hasher(algorithm)
    h.update(data)
    return Digest(algorithm, h.hexdigest())
