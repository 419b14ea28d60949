"""manifest-tool ``push``: every member fetched and checked before anything is written, members
from other repositories brought into the target's, then the list and its extra tags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

from fakeregistry.client import (
    AuthenticationError,
    FetchedManifest,
    NotFoundError,
    RegistryClient,
    RegistryClientError,
    RegistryHTTPError,
    TraceEntry,
)
from fakeregistry.client.connection import Connection, connect, sync_twin
from fakeregistry.platforms.platform import Platform, PlatformError, go_quote
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.digest import compute
from fakeregistry.rules.reference import ImageReference
from fakeregistry.tools.manifesttool.documents import (
    ACCEPT,
    MAX_DEPTH,
    at_digest,
    config_platform,
    descriptor_of,
    json_object,
)
from fakeregistry.tools.manifesttool.errors import (
    ManifestToolError,
    MemberError,
    SpecError,
)
from fakeregistry.tools.manifesttool.listing import (
    DOCKER_ANNOTATIONS,
    ListEntry,
    ListType,
    serialize_list,
)
from fakeregistry.tools.manifesttool.rules import (
    check_platform,
    check_unique_platforms,
    is_attestation,
    resolve_platform,
)
from fakeregistry.tools.manifesttool.spec import (
    ManifestSpec,
    MemberSpec,
    load_spec,
    parse_reference,
)


@dataclass(frozen=True, slots=True)
class PushResult:
    """What :func:`push_manifest_list` pushed.

    ``digest``/``length`` are the list's (what manifest-tool prints as ``Digest: <d> <n>``);
    ``manifest`` its bytes; ``tags`` every tag it was pushed to; ``copied`` the manifests
    pushed by digest into the target repository; ``mounted`` the blobs mounted there from
    other repositories; ``skipped`` members left out by ``ignore_missing``; ``trace`` every
    request made.
    """

    reference: ImageReference
    digest: str
    length: int
    media_type: str
    manifest: bytes
    entries: tuple[ListEntry, ...]
    tags: tuple[str, ...]
    copied: tuple[str, ...] = ()
    mounted: tuple[str, ...] = ()
    uploaded: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    trace: tuple[TraceEntry, ...] = ()


@dataclass
class _Tree:
    """A fetched manifest and, for an index, its fetched children (never layers)."""

    ref: ImageReference
    fetched: FetchedManifest
    document: dict[str, Any]
    children: list[_Tree] = field(default_factory=list)
    config: bytes | None = None


@dataclass
class _Member:
    spec: MemberSpec
    ref: ImageReference
    tree: _Tree
    entries: list[ListEntry]


async def _fetch_tree(
    client: RegistryClient, ref: ImageReference, label: str, depth: int = 0
) -> _Tree:
    fetched = await client.get_manifest(ref, accept=ACCEPT)
    document = json_object(fetched.body, f"{label}: manifest {fetched.digest}")
    tree = _Tree(ref, fetched, document)
    if fetched.media_type not in mt.INDEX_TYPES:
        return tree
    if depth >= MAX_DEPTH:
        raise MemberError(f"{label}: indexes nested more than {MAX_DEPTH} deep")
    for i, entry in enumerate(document.get("manifests") or []):
        descriptor = descriptor_of(entry, f"{label}: manifests[{i}] of {fetched.digest}")
        if descriptor.media_type not in mt.MANIFEST_TYPES:
            raise MemberError(
                f"{label}: entry manifests[{i}] of {ref} has media type "
                f"{go_quote(descriptor.media_type)}, which a manifest list/index push cannot "
                "carry"
            )
        tree.children.append(
            await _fetch_tree(client, at_digest(ref, descriptor.digest), label, depth + 1)
        )
    return tree


def _is_missing(exc: RegistryClientError) -> bool:
    """A member that is not there (or that this account may not see, which is how Docker
    Hub answers for a repository that does not exist)."""
    if isinstance(exc, NotFoundError | AuthenticationError):
        return True
    return isinstance(exc, RegistryHTTPError) and exc.status == 403


async def _resolve_member(
    client: RegistryClient, member: MemberSpec, ref: ImageReference, warnings: list[str]
) -> _Member:
    label = member.label
    tree = await _fetch_tree(client, ref, label)
    fetched = tree.fetched
    media_type = fetched.media_type
    if media_type in mt.INDEX_TYPES:
        if member.platform != Platform("", ""):
            warnings.append(
                f"{label}: {member.image} is a list/index; its entries keep their own "
                "platforms and the platform given in the spec is not used"
            )
        entries = []
        for i, (raw, child) in enumerate(
            zip(tree.document.get("manifests") or [], tree.children, strict=True)
        ):
            where = f"{label}: entry manifests[{i}] of {member.image}"
            platform = None
            if isinstance(raw.get("platform"), dict):
                try:
                    platform = Platform.from_json(raw["platform"])
                except PlatformError as exc:
                    raise MemberError(f"{where}: invalid platform: {exc}") from None
            attestation = is_attestation(raw)
            if platform is None and not attestation:
                raise MemberError(
                    f"{where} ({child.fetched.digest}) has no platform, so it cannot be an "
                    "entry of a multi-platform list"
                )
            entries.append(ListEntry(dict(raw), platform, member, attestation))
        return _Member(member, ref, tree, entries)
    if media_type not in mt.IMAGE_MANIFEST_TYPES:
        raise MemberError(
            f"{label}: cannot include unknown media type '{media_type}' in a manifest "
            f"list/index push (image {member.image})"
        )
    config_entry = tree.document.get("config")
    config_descriptor = descriptor_of(config_entry, f"{label}: config of {member.image}")
    tree.config = await client.get_blob(ref, config_descriptor.digest, size=config_descriptor.size)
    config = json_object(tree.config, f"{label}: config of {member.image}")
    from_config = config_platform(config, label)
    platform = resolve_platform(member, from_config)
    check_platform(member, member.image, platform)
    given = member.platform
    if (given.os or given.architecture) and (from_config.os or from_config.architecture):
        said = Platform(from_config.os, from_config.architecture, from_config.variant)
        used = Platform(platform.os, platform.architecture, platform.variant)
        if said.format() != used.format():
            warnings.append(
                f"{label}: the spec says {used.format()} for {member.image}, but its config "
                f"says {said.format()}; the spec's platform is listed"
            )
    descriptor = {"mediaType": media_type, "digest": fetched.digest, "size": fetched.size}
    return _Member(member, ref, tree, [ListEntry(descriptor, platform, member)])


def _check_local(spec: ManifestSpec, media_type: ListType, target: ImageReference) -> None:
    """What can be checked before talking to any registry."""
    if media_type not in ("docker", "oci"):
        raise ManifestToolError(f"unknown list type {media_type!r}: use 'docker' or 'oci'")
    if media_type == "docker" and spec.annotations:
        raise SpecError(DOCKER_ANNOTATIONS)
    if not spec.manifests:
        raise SpecError(f"{spec.source or 'the spec'}: no manifests to list")
    for member in spec.manifests:
        ref = parse_reference(member.image, f"{member.label}: image")
        if ref.registry != target.registry:
            raise MemberError(
                f"{member.label}: source image ({ref}) registry does not match target image "
                f"({target}) registry: every member must be on {target.registry}, the target's "
                "registry host (manifest push copies nothing between registries)"
            )
        given = member.platform
        if given.os or given.architecture:
            check_platform(member, member.image, given)


@dataclass
class _Copier:
    """Brings fetched trees into the target repository: blobs by cross-repository mount,
    manifests by ``PUT`` by digest. Layers are never downloaded."""

    client: RegistryClient
    target: ImageReference
    done: set[str] = field(default_factory=set)
    copied: list[str] = field(default_factory=list)
    mounted: list[str] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)

    async def copy(self, tree: _Tree, label: str) -> None:
        digest = tree.fetched.digest
        if digest in self.done:
            return
        for child in tree.children:
            await self.copy(child, label)
        if tree.fetched.media_type in mt.IMAGE_MANIFEST_TYPES:
            blobs = [tree.document.get("config"), *(tree.document.get("layers") or [])]
            for i, raw in enumerate(blobs):
                blob = descriptor_of(raw, f"{label}: blob {i} of {digest}")
                if not _is_foreign(blob.media_type) and blob.digest not in self.done:
                    await self.blob(tree, blob.digest, tree.config if i == 0 else None, label)
        at_target = at_digest(self.target, digest)
        try:
            await self.client.head_manifest(at_target, accept=ACCEPT)
        except NotFoundError:
            await self.client.put_manifest(at_target, tree.fetched.body, tree.fetched.media_type)
            self.copied.append(digest)
        self.done.add(digest)

    async def blob(self, tree: _Tree, digest: str, data: bytes | None, label: str) -> None:
        self.done.add(digest)
        target = self.target
        if await self.client.blob_exists(target, digest):
            return
        if await self.client.mount_blob(target, digest, tree.ref.repository):
            self.mounted.append(digest)
        elif data is not None:
            # A config: its bytes were fetched anyway, so they can be uploaded.
            await self.client.push_blob(target, data, digest=digest)
            self.uploaded.append(digest)
        else:
            raise MemberError(
                f"{label}: cannot bring blob {digest} of {tree.ref} into "
                f"{target.registry}/{target.repository}: the registry did not mount it from "
                "the source repository, and manifest push never downloads layers"
            )


def _is_foreign(media_type: str) -> bool:
    # push.go skippable: "foreign" or "nondistributable" after the first character.
    return media_type.find("foreign") > 0 or media_type.find("nondistributable") > 0


async def _put_tag(
    client: RegistryClient, ref: ImageReference, body: bytes, media_type: str, digest: str
) -> None:
    try:
        existing = await client.head_manifest(ref, accept=ACCEPT)
    except NotFoundError:
        existing = None
    if existing is not None and existing.digest == digest:
        return
    pushed = await client.put_manifest(ref, body, media_type)
    if pushed != digest:
        raise ManifestToolError(
            f"the registry stored the list pushed to {ref} as {pushed}, not {digest}"
        )


async def push_manifest_list(
    spec: ManifestSpec | str | os.PathLike[str],
    *,
    connection: Connection | None = None,
    media_type: ListType = "docker",
    ignore_missing: bool = False,
) -> PushResult:
    """Push the manifest list (``media_type="docker"``) or OCI index (``"oci"``) *spec*
    describes, as manifest-tool ``push`` does (the steps are in the package's docstring,
    :mod:`fakeregistry.tools.manifesttool`).

    *spec* is a :class:`ManifestSpec` or the path of a YAML spec. *connection* reaches the
    target's registry (:mod:`fakeregistry.client.connection`). With *ignore_missing*, members
    that are not found are skipped
    (listed in :attr:`PushResult.skipped`).

    Raises :class:`ManifestToolError` subclasses, naming the member and why; nothing is
    written to the registry unless every member passed every check.
    """
    loaded = spec if isinstance(spec, ManifestSpec) else load_spec(spec)
    target = parse_reference(loaded.image, "image")
    async with connect(target.registry, connection) as client:
        return await _push(loaded, client, media_type, ignore_missing)


async def _push(
    spec: ManifestSpec, client: RegistryClient, media_type: ListType, ignore_missing: bool
) -> PushResult:
    target = parse_reference(spec.image, "image")
    _check_local(spec, media_type, target)
    warnings = list(spec.warnings)
    skipped: list[str] = []
    members: list[_Member] = []
    with client.recording() as trace:
        # 1. Read every member; nothing is written until all of them pass.
        for member in spec.manifests:
            ref = ImageReference.parse(member.image)
            try:
                members.append(await _resolve_member(client, member, ref, warnings))
            except RegistryClientError as exc:
                reason = " ".join(str(exc).split())
                if ignore_missing and _is_missing(exc):
                    warnings.append(
                        f"{member.label}: couldn't access image {go_quote(member.image)} "
                        f"({reason}); skipping it because of --ignore-missing"
                    )
                    skipped.append(member.image)
                    continue
                raise MemberError(
                    f"{member.label}: inspect of image {go_quote(member.image)} failed with "
                    f"error: {reason}"
                ) from None
        images = [e for m in members for e in m.entries if not e.attestation]
        attestations = [e for m in members for e in m.entries if e.attestation]
        check_unique_platforms(images)
        entries = [*images, *attestations]
        if not entries:
            raise MemberError(
                "all entries were skipped due to missing source image references; no "
                "manifest list to push"
            )
        body = serialize_list(entries, media_type, spec.annotations)
        list_type = mt.DOCKER_MANIFEST_LIST if media_type == "docker" else mt.OCI_INDEX
        digest = str(compute(body))
        # 2. Bring members from other repositories into the target repository.
        copier = _Copier(client, target)
        for resolved in members:
            if resolved.ref.repository == target.repository:
                continue
            label = resolved.spec.label
            # A flattened list/index brings its entries; the list itself is not needed.
            tree = resolved.tree
            trees = tree.children if tree.fetched.media_type in mt.INDEX_TYPES else [tree]
            try:
                for item in trees:
                    await copier.copy(item, label)
            except RegistryClientError as exc:
                raise ManifestToolError(
                    f"{label}: error pushing {resolved.spec.image} "
                    f"({resolved.tree.fetched.digest}) into {target.registry}/"
                    f"{target.repository}: {' '.join(str(exc).split())}"
                ) from None
        # 3. The list, then the extra tags.
        tags = [target.tag or "latest", *(t for t in spec.tags if t != target.tag)]
        for tag in tags:
            try:
                await _put_tag(client, replace(target, tag=tag), body, list_type, digest)
            except RegistryClientError as exc:
                what = "manifest list/index" if tag == tags[0] else f"additional tag {tag}"
                raise ManifestToolError(
                    f"error pushing {what} to registry: {digest}: {' '.join(str(exc).split())}"
                ) from None
    return PushResult(
        reference=target,
        digest=digest,
        length=len(body),
        media_type=list_type,
        manifest=body,
        entries=tuple(entries),
        tags=tuple(tags),
        copied=tuple(copier.copied),
        mounted=tuple(copier.mounted),
        uploaded=tuple(copier.uploaded),
        skipped=tuple(skipped),
        warnings=tuple(warnings),
        trace=tuple(trace),
    )


push_manifest_list_sync = sync_twin(push_manifest_list)
