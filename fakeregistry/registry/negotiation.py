"""Which stored manifest a ``GET``/``HEAD`` answers with, given the client's ``Accept`` types.

``strict`` reproduces distribution v3 (``registry/handlers/manifests.go``, ``GetManifest``):

- Docker schema2 manifests are served whatever the client accepts;
- an OCI manifest or OCI index whose type the client did not name is ``MANIFEST_UNKNOWN``;
- a Docker manifest list fetched **by tag** by a client that does not accept lists is replaced by
  its linux/amd64 child (what old clients expect), ``MANIFEST_UNKNOWN`` when there is none, and
  ``MANIFEST_INVALID`` when that child is schema2 and schema2 is not accepted either; fetched by
  digest, the list is returned as is.

``lenient`` ignores ``Accept`` (go-containerregistry's registry does).
"""

from __future__ import annotations

from fakeregistry.registry.options import Negotiation
from fakeregistry.registry.storage import Storage, StoredManifest
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.errors import ErrorCode, RegistryError

__all__ = ["negotiate"]


def negotiate(
    storage: Storage,
    name: str,
    stored: StoredManifest,
    accepted: frozenset[str],
    *,
    by_tag: bool,
    policy: Negotiation,
) -> StoredManifest:
    """The manifest to send for ``stored`` to a client accepting ``accepted``."""
    if policy == "lenient":
        return stored
    media_type = stored.media_type
    if media_type == mt.OCI_MANIFEST and mt.OCI_MANIFEST not in accepted:
        raise RegistryError(
            ErrorCode.MANIFEST_UNKNOWN,
            message="OCI manifest found, but accept header does not support OCI manifests",
        )
    if media_type == mt.OCI_INDEX and mt.OCI_INDEX not in accepted:
        raise RegistryError(
            ErrorCode.MANIFEST_UNKNOWN,
            message="OCI index found, but accept header does not support OCI indexes",
        )
    if by_tag and media_type == mt.DOCKER_MANIFEST_LIST and mt.DOCKER_MANIFEST_LIST not in accepted:
        return _amd64_child(storage, name, stored, accepted)
    return stored


def _amd64_child(
    storage: Storage, name: str, stored: StoredManifest, accepted: frozenset[str]
) -> StoredManifest:
    for child in stored.view.manifests:
        platform = child.platform or {}
        if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
            found = storage.get_manifest_by_digest(name, child.digest)
            if found is None:
                break
            if found.media_type == mt.DOCKER_MANIFEST and mt.DOCKER_MANIFEST not in accepted:
                raise RegistryError(
                    ErrorCode.MANIFEST_INVALID,
                    message="Schema 2 manifest not supported by client",
                )
            return found
    raise RegistryError(
        ErrorCode.MANIFEST_UNKNOWN,
        message="manifest list has no linux/amd64 manifest for a client that does not accept "
        "manifest lists",
    )
