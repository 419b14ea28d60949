"""Reading what a registry serves, as manifest-tool does: the media types it accepts, JSON
objects, descriptors and the platform of an image's config, each failure naming where."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from fakeregistry.platforms.platform import Platform, PlatformError
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.errors import RegistryError
from fakeregistry.rules.model import Descriptor
from fakeregistry.rules.reference import ImageReference
from fakeregistry.tools.manifesttool.errors import ManifestToolError, MemberError

# What manifest-tool accepts for a member (registry/fetch.go allMediaTypes).
ACCEPT = (mt.DOCKER_MANIFEST, mt.DOCKER_MANIFEST_LIST, mt.OCI_MANIFEST, mt.OCI_INDEX)
# Indexes nested deeper than this are refused.
MAX_DEPTH = mt.MAX_INDEX_DEPTH


def json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestToolError(f"{what} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ManifestToolError(f"{what} is not a JSON object")
    return document


def at_digest(ref: ImageReference, digest: str) -> ImageReference:
    return replace(ref, tag=None, digest=digest)


def descriptor_of(entry: Any, where: str) -> Descriptor:
    try:
        return Descriptor.from_json(entry, where)
    except RegistryError as exc:
        raise ManifestToolError(f"{where}: invalid descriptor: {exc.detail or exc}") from None


def config_platform(config: Mapping[str, Any], label: str) -> Platform:
    try:
        return Platform.from_json(config)
    except PlatformError as exc:
        raise MemberError(f"{label}: the image config's platform is invalid: {exc}") from None
