"""Repository names, tags and image references.

The registry side checks ``<name>`` and ``<reference>`` path components against the
distribution-spec grammar ("Pulling manifests"):

- name: ``[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*``, and
  distribution caps the whole name at 255 characters;
- tag: ``[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}``.

The client side parses image references the way Docker does (``debian:jessie`` is
``docker.io/library/debian:jessie``). Pure, standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fakeregistry.rules.digest import Digest, DigestError
from fakeregistry.rules.errors import FakeRegistryError

__all__ = [
    "MAX_NAME_LENGTH",
    "ImageReference",
    "ImageReferenceError",
    "is_valid_repository",
    "is_valid_tag",
    "split_reference",
]

MAX_NAME_LENGTH = 255
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_NAME = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
# "Sparse" validation (go-containerregistry's looseness): any path-safe, non-empty segments.
_SPARSE_NAME = re.compile(r"^[^/\s?#]+(?:/[^/\s?#]+)*$")
_SPARSE_TAG = re.compile(r"^[^/\s?#:]{1,255}$")


class ImageReferenceError(FakeRegistryError, ValueError):
    """An image reference, repository name or tag that does not follow the grammar.

    (Named so, not ``ReferenceError``, which would shadow the builtin of weak references.)
    """


def is_valid_repository(name: str, *, strict: bool = True) -> bool:
    """True for a repository name the distribution-spec allows (``strict``), or for any
    slash-separated, non-empty name without spaces (``strict=False``).

    >>> is_valid_repository("library/debian"), is_valid_repository("Library/Debian")
    (True, False)
    """
    if not name or len(name) > MAX_NAME_LENGTH:
        return False
    return bool((_NAME if strict else _SPARSE_NAME).match(name))


def is_valid_tag(tag: str, *, strict: bool = True) -> bool:
    """True for a tag the distribution-spec allows (``strict``), or for any short token without
    slashes, colons or spaces (``strict=False``).

    >>> is_valid_tag("v1.0"), is_valid_tag(".hidden")
    (True, False)
    """
    return bool((_TAG if strict else _SPARSE_TAG).match(tag))


def split_reference(text: str) -> tuple[str, str | None, str | None]:
    """``(name, tag, digest)`` of ``name[:tag][@digest]``, split as Docker splits it and
    neither checked nor normalised: the tag is what follows the last colon after the last
    slash, so a registry's port is not a tag. Tag and digest are None when absent.

    >>> split_reference("team/app:1.0"), split_reference("localhost:5000/app")
    (('team/app', '1.0', None), ('localhost:5000/app', None, None))
    >>> split_reference("app:1@sha256:abc")
    ('app', '1', 'sha256:abc')
    """
    remainder, at, digest = text.partition("@")
    name, colon, tag = remainder.rpartition(":")
    if not colon or "/" in tag:
        return remainder, None, digest if at else None
    return name, tag, digest if at else None


DEFAULT_REGISTRY = "docker.io"
_LEGACY_REGISTRIES = {"index.docker.io", "registry-1.docker.io"}
DEFAULT_TAG = "latest"


@dataclass(frozen=True, slots=True)
class ImageReference:
    """A parsed image reference: registry host, repository, and a tag and/or digest.

    Parsed as Docker's ``reference.ParseNormalizedNamed`` does::

        >>> str(ImageReference.parse("debian:jessie"))
        'docker.io/library/debian:jessie'
        >>> ImageReference.parse("localhost:5000/ns/repo@sha256:" + "0" * 64).registry
        'localhost:5000'
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str, *, default_registry: str = DEFAULT_REGISTRY) -> ImageReference:
        """Parse ``[host[:port]/]path[:tag][@digest]``; the first component is a host when it
        has a ``.`` or ``:`` or is ``localhost`` (Docker's rule)."""
        if not text or text != text.strip():
            raise ImageReferenceError(f"invalid reference format: {text!r}")
        remainder, tag, digest = split_reference(text)
        if digest is not None:
            try:
                Digest.parse(digest)
            except DigestError as exc:
                raise ImageReferenceError(f"invalid reference format: {exc}") from None
        if tag is not None and not is_valid_tag(tag):
            raise ImageReferenceError(f"invalid reference format: invalid tag {tag!r}")
        first, sep, rest = remainder.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            registry, path = first, rest
        else:
            registry, path = default_registry, remainder
        if registry in _LEGACY_REGISTRIES:
            registry = DEFAULT_REGISTRY
        if registry == DEFAULT_REGISTRY and "/" not in path:
            path = f"library/{path}"
        if not is_valid_repository(path):
            if path.lower() != path and is_valid_repository(path.lower()):
                raise ImageReferenceError(
                    f"invalid reference format: repository name ({path}) must be lowercase"
                )
            raise ImageReferenceError(f"invalid reference format: {text!r}")
        if tag is None and digest is None:
            tag = DEFAULT_TAG
        return cls(registry, path, tag, digest)

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest when there is one, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text
