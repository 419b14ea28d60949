"""manifest-tool's multi-platform push and inspect, over HTTP, against any registry.

`manifest-tool <https://github.com/estesp/manifest-tool>`_ reads a YAML spec that names a target
``name:tag`` and one image per platform, and pushes a Docker manifest list (or an OCI index)
over them. This module does the same with :mod:`fakeregistry.client`, so it works against our
server, CNCF distribution or a hosted registry::

    spec = load_spec("pushml.yaml")
    async with RegistryClient() as client:
        result = await push_manifest_list(spec, connection=client, media_type="oci")
    print(f"Digest: {result.digest} {result.length}")

The package holds one step per module: ``spec`` (the YAML spec and ``from-args``), ``rules``
(manifest-tool's platform rules and duplicates), ``listing`` (the list's entries and bytes),
``documents`` (reading manifests and configs), ``push`` and ``inspection``, and ``errors``.

The spec (``docs/platform-rules.md`` A11; manifest-tool decodes it with lower-cased Go field
names)::

    image: 127.0.0.1:5000/estesp/debian:jessie   # the list to push
    tags: ["8", "8.11"]                          # extra tags (a YAML list)
    annotations: {org.opencontainers.image.title: Debian}   # --type oci only
    manifests:
      - image: 127.0.0.1:5000/s390x/debian:jessie
        platform: {architecture: s390x, os: linux}
      - image: 127.0.0.1:5000/win/app:2019         # platform read from its config
      - image: 127.0.0.1:5000/win/app:2016
        platform: {architecture: amd64, os: windows, osversion: 10.0.14393.1}

``platform`` keys: ``architecture``, ``os``, ``variant``, ``osversion``, ``osfeatures``. The OCI
spellings ``os.version`` and ``os.features`` (which manifest-tool silently ignores) are
honoured with a warning; any other key is an error naming the key and its line.

The push follows manifest-tool (``v2/pkg/registry/push.go``), checking everything before it
writes anything (``push.py``):

1. annotations need ``media_type="oci"``; every member must be on the target's registry host;
   platforms given in the spec must pass :func:`platform_problem`;
2. each member is fetched (manifest, and an image's config; never layers). An image gets the
   spec's platform, its empty fields filled from the config, and is checked again; a list or
   index member is flattened: each of its entries becomes an entry, with its own platform,
   and attestation entries go after all images. A missing member fails the push, or is
   skipped with ``ignore_missing``;
3. two entries with the same platform (architecture, os, variant, os.version, os.features —
   not normalised, so ``linux/arm64`` and ``linux/arm64/v8`` differ) are rejected;
4. members from another repository are brought into the target repository: blobs by
   cross-repository mount (``POST ?mount=&from=``), manifests by ``PUT`` by digest;
5. the list is serialised as Go's ``json.MarshalIndent(x, "", "  ")`` does, pushed to the
   target tag and to each extra tag.
"""

from __future__ import annotations

from fakeregistry.rules.annotations import ATTESTATION_ANNOTATION
from fakeregistry.tools.manifesttool.errors import (
    DuplicatePlatformError,
    ManifestToolError,
    MemberError,
    PlatformRuleError,
    SpecError,
)
from fakeregistry.tools.manifesttool.inspection import (
    InspectedEntry,
    InspectedLayer,
    InspectResult,
    format_inspect,
    inspect,
    inspect_sync,
)
from fakeregistry.tools.manifesttool.listing import ListEntry, ListType, serialize_list
from fakeregistry.tools.manifesttool.push import (
    PushResult,
    push_manifest_list,
    push_manifest_list_sync,
)
from fakeregistry.tools.manifesttool.rules import (
    VALID_ARCHITECTURES,
    VALID_OS,
    VALID_VARIANTS,
    VARIANT_RULE,
    is_valid_os_arch,
    platform_problem,
)
from fakeregistry.tools.manifesttool.spec import (
    ManifestSpec,
    MemberSpec,
    expand_template,
    load_spec,
    parse_spec,
    spec_from_args,
)

__all__ = [
    "ATTESTATION_ANNOTATION",
    "VALID_ARCHITECTURES",
    "VALID_OS",
    "VALID_VARIANTS",
    "VARIANT_RULE",
    "DuplicatePlatformError",
    "InspectResult",
    "InspectedEntry",
    "InspectedLayer",
    "ListEntry",
    "ListType",
    "ManifestSpec",
    "ManifestToolError",
    "MemberError",
    "MemberSpec",
    "PlatformRuleError",
    "PushResult",
    "SpecError",
    "expand_template",
    "format_inspect",
    "inspect",
    "inspect_sync",
    "is_valid_os_arch",
    "load_spec",
    "parse_spec",
    "platform_problem",
    "push_manifest_list",
    "push_manifest_list_sync",
    "serialize_list",
    "spec_from_args",
]
