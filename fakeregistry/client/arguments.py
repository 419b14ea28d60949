"""What the client's methods take: a repository as a reference string or an
:class:`~fakeregistry.rules.reference.ImageReference`, digests as text, and the token scopes
each kind of request needs."""

from __future__ import annotations

from typing import TypeAlias

from fakeregistry.client.errors import RegistryClientError
from fakeregistry.rules.digest import Digest, DigestError
from fakeregistry.rules.reference import ImageReference, ImageReferenceError
from fakeregistry.rules.scope import DELETE, PULL, PUSH, Scope

__all__ = [
    "RepositoryLike",
    "as_reference",
    "delete_scopes",
    "parse_digest",
    "pull_scopes",
    "push_scopes",
]

RepositoryLike: TypeAlias = ImageReference | str


def as_reference(value: RepositoryLike) -> ImageReference:
    """*value* parsed as Docker does; :class:`RegistryClientError` when it is not one.

    >>> str(as_reference("debian"))
    'docker.io/library/debian:latest'
    """
    if isinstance(value, ImageReference):
        return value
    try:
        return ImageReference.parse(value)
    except ImageReferenceError as exc:
        raise RegistryClientError(str(exc)) from None


def parse_digest(text: str) -> Digest:
    """*text* as a digest; :class:`RegistryClientError` when it is not one."""
    try:
        return Digest.parse(text)
    except DigestError as exc:
        raise RegistryClientError(f"invalid digest {text!r}: {exc}") from None


def pull_scopes(ref: ImageReference) -> list[Scope]:
    """What reading the repository needs: ``repository:<name>:pull``."""
    return [Scope.repository(ref.repository, PULL)]


def push_scopes(ref: ImageReference) -> list[Scope]:
    """What writing to the repository needs: ``repository:<name>:pull,push``."""
    return [Scope.repository(ref.repository, PULL, PUSH)]


def delete_scopes(ref: ImageReference) -> list[Scope]:
    """What deleting from the repository needs: ``repository:<name>:delete``."""
    return [Scope.repository(ref.repository, DELETE)]
