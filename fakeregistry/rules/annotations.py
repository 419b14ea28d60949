"""Annotation keys (and the values they are compared with) that several modules read or write.

One definition each, so the engines, the tools, the OCI layout code and the web page agree::

    >>> descriptor = {"annotations": {ATTESTATION_ANNOTATION: ATTESTATION_VALUE}}
    >>> descriptor["annotations"]["vnd.docker.reference.type"]
    'attestation-manifest'

Pure, standard library only.
"""

from __future__ import annotations

__all__ = [
    "ATTESTATION_ANNOTATION",
    "ATTESTATION_VALUE",
    "ATTESTED_DIGEST_ANNOTATION",
    "CONTAINERD_IMAGE_NAME_ANNOTATION",
    "CREATED_ANNOTATION",
    "REF_NAME_ANNOTATION",
    "ZSTD_ANNOTATION",
    "ZSTD_CHUNKED_SENTINEL_ANNOTATION",
]

# BuildKit's attestation manifests (provenance, SBOM) sit in an image index next to the images
# they describe, with platform unknown/unknown and this annotation
# (docs/platform-rules.md A9; buildkit docs/attestations/attestation-storage.md).
ATTESTATION_ANNOTATION = "vnd.docker.reference.type"
ATTESTATION_VALUE = "attestation-manifest"
# ... and this one names the digest of the image an attestation manifest describes.
ATTESTED_DIGEST_ANNOTATION = "vnd.docker.reference.digest"

# image-spec annotations.md: the tag of a manifest in an OCI image layout's index.json.
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"
# image-spec annotations.md: when the content was created (RFC 3339), e.g. a signature.
CREATED_ANNOTATION = "org.opencontainers.image.created"
# containerd's full image name in an index.json it exports (ctr images export).
CONTAINERD_IMAGE_NAME_ANNOTATION = "io.containerd.image.name"

# containers/image internal/manifest/oci_index.go: instances compressed with zstd, and the
# zstd:chunked sentinel, which its OCI index selection prefers.
ZSTD_ANNOTATION = "io.github.containers.compression.zstd"
ZSTD_CHUNKED_SENTINEL_ANNOTATION = "io.github.containers.zstd-chunked.sentinel"
