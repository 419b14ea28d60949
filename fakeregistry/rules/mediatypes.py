"""Media types of the manifests a registry stores, and ``Accept`` header negotiation.

Names read like the specs: ``OCI_MANIFEST`` is the OCI image-spec's image manifest,
``DOCKER_MANIFEST_LIST`` Docker's manifest list v2.2 ("fat manifest"). Pure, standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "DOCKER_CONFIG",
    "DOCKER_LAYER",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "DOCKER_SCHEMA1",
    "DOCKER_SCHEMA1_SIGNED",
    "INDEX_TYPES",
    "MANIFEST_TYPES",
    "MAX_INDEX_DEPTH",
    "OCI_CONFIG",
    "OCI_EMPTY",
    "OCI_INDEX",
    "OCI_LAYER",
    "OCI_LAYER_GZIP",
    "OCI_MANIFEST",
    "accepted_types",
    "base_type",
]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYOUT_HEADER = "application/vnd.oci.layout.header.v1+json"

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

# Manifests this registry stores: single-image manifests and the lists/indexes over them.
IMAGE_MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_TYPES = IMAGE_MANIFEST_TYPES | INDEX_TYPES
# How deep indexes may nest inside an index (an index of indexes of ... of images) before a
# walker gives up: the pull, manifest-tool's inspect and signing all stop at this depth. It
# lives here, beside INDEX_TYPES, because it is a rule about those types -- how far one of
# them may contain another -- that every walker of indexes reads together with them. The
# engines just recurse; the limit is ours (a bound on work, and on cycles of digests), so
# one definition keeps our walkers from disagreeing.
MAX_INDEX_DEPTH = 8

OCTET_STREAM = "application/octet-stream"
JSON = "application/json"


def base_type(value: str) -> str:
    """The media type without parameters or surrounding space, lowercased.

    >>> base_type("application/vnd.oci.image.manifest.v1+json; charset=utf-8")
    'application/vnd.oci.image.manifest.v1+json'
    """
    return value.split(";", 1)[0].strip().lower()


def accepted_types(accept_headers: Iterable[str]) -> frozenset[str]:
    """Every media type named by the ``Accept`` headers, parameters (``q=``) dropped.

    This is what distribution does: split each header on commas and keep each base type; quality
    values are not ranked, since a registry stores one type per manifest and only asks "may I
    send it?".

    >>> sorted(accepted_types(["application/json;q=0.5, text/plain", "*/*"]))
    ['*/*', 'application/json', 'text/plain']
    """
    found: set[str] = set()
    for header in accept_headers:
        for part in header.split(","):
            media_type = base_type(part)
            if media_type:
                found.add(media_type)
    return frozenset(found)
