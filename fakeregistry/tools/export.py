"""``fakeregistry export``: images from any registry into an OCI image layout (a directory, or a
tarball of one), over HTTP with :mod:`fakeregistry.client`.

For each reference the manifest is fetched as the registry serves it (exact bytes), and with it
everything it names: every child of an index or manifest list (all platforms, attestations
too), the config and layers of each image (layers with ``urls`` stay outside, as registries
leave them), and with ``referrers=True`` the manifests whose ``subject`` is any of them
(signatures, SBOMs), recursively. Blobs are streamed to disk and verified by the client.

``index.json`` lists each reference with ``org.opencontainers.image.ref.name`` (the tag, or
``repository:tag`` when two references share a tag) and ``io.containerd.image.name`` (the whole
reference), and each referrer without a name, so ``skopeo copy oci:DIR:TAG``, ``umoci`` and
``fakeregistry serve --seed DIR`` read it::

    await export_images(["127.0.0.1:5000/demo:latest"], Path("out"), connection=HostConfig(
        plain_http=True))
"""

from __future__ import annotations

import dataclasses
import json
import os
import tarfile
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakeregistry.client import Connection, RegistryClient, connect
from fakeregistry.engine.layout import LAYOUT_VERSION, blob_path
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.annotations import CONTAINERD_IMAGE_NAME_ANNOTATION, REF_NAME_ANNOTATION
from fakeregistry.rules.errors import FakeRegistryError
from fakeregistry.rules.model import Descriptor, parse_manifest
from fakeregistry.rules.reference import ImageReference

__all__ = ["ExportError", "ExportResult", "export_images"]


class ExportError(FakeRegistryError, ValueError):
    """An export that cannot be done as asked; the message is one line."""


@dataclass(slots=True)
class ExportResult:
    """What was written: the layout (or tarball), the names in ``index.json`` and counts."""

    output: Path
    names: list[str] = field(default_factory=list)
    manifests: int = 0
    blobs: int = 0
    bytes: int = 0


@dataclass(slots=True)
class _Copier:
    client: RegistryClient
    root: Path
    referrers: bool
    result: ExportResult
    seen: set[str] = field(default_factory=set)
    extra_entries: list[dict[str, Any]] = field(default_factory=list)

    async def manifest(
        self, reference: ImageReference, digest: str, body: bytes, media: str
    ) -> None:
        if digest in self.seen:
            return
        self.seen.add(digest)
        view = parse_manifest(body, media)
        for child in view.manifests:
            if child.media_type in mt.MANIFEST_TYPES:
                fetched = await self.client.get_manifest(
                    _at(reference, child.digest), accept=sorted(mt.MANIFEST_TYPES)
                )
                await self.manifest(reference, fetched.digest, fetched.body, fetched.media_type)
        blobs = [view.config] if view.config is not None else []
        blobs.extend(layer for layer in view.layers if not layer.is_external)
        for blob in blobs:
            await self.blob(reference, blob)
        _write(self.root, digest, body)
        self.result.manifests += 1
        if self.referrers:
            for referrer in await self.client.referrers(reference, digest):
                if referrer.digest in self.seen:
                    continue
                fetched = await self.client.get_manifest(
                    _at(reference, referrer.digest), accept=sorted(mt.MANIFEST_TYPES)
                )
                await self.manifest(reference, fetched.digest, fetched.body, fetched.media_type)
                self.extra_entries.append(
                    {
                        "mediaType": fetched.media_type,
                        "digest": fetched.digest,
                        "size": len(fetched.body),
                    }
                )

    async def blob(self, reference: ImageReference, descriptor: Descriptor) -> None:
        target = blob_path(self.root, descriptor.digest)
        if descriptor.digest in self.seen or (
            target.is_file() and target.stat().st_size == descriptor.size
        ):
            self.seen.add(descriptor.digest)
            return
        self.seen.add(descriptor.digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.partial-{uuid.uuid4().hex}")
        try:
            async with self.client.open_blob(
                reference, descriptor.digest, size=descriptor.size
            ) as download:
                with open(partial, "wb") as file:
                    async for chunk in download.chunks():
                        file.write(chunk)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        self.result.blobs += 1
        self.result.bytes += descriptor.size


def _at(reference: ImageReference, digest: str) -> ImageReference:
    return dataclasses.replace(reference, tag=None, digest=digest)


def _write(root: Path, digest: str, data: bytes) -> None:
    target = blob_path(root, digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.partial")
    partial.write_bytes(data)
    partial.replace(target)


def _ref_names(references: Sequence[ImageReference]) -> list[str | None]:
    tags = [r.tag for r in references if r.tag]
    shared = {t for t in tags if tags.count(t) > 1}
    return [
        None if not r.tag else (f"{r.repository}:{r.tag}" if r.tag in shared else r.tag)
        for r in references
    ]


def _read_index(root: Path) -> list[dict[str, Any]]:
    path = root / "index.json"
    if not path.exists():
        return []
    try:
        document = json.loads(path.read_bytes())
    except ValueError as exc:
        raise ExportError(f"{path} is not JSON: {exc}") from None
    manifests = document.get("manifests") if isinstance(document, dict) else None
    return [m for m in manifests if isinstance(m, dict)] if isinstance(manifests, list) else []


async def export_images(
    references: Sequence[str],
    output: str | os.PathLike[str],
    *,
    referrers: bool = False,
    connection: Connection | None = None,
) -> ExportResult:
    """Export ``references`` into ``output``: an OCI image layout directory (created, or added
    to: an entry of the same name is replaced), or a tarball of one when ``output`` ends in
    ``.tar``. ``connection`` reaches every reference's registry (see
    :mod:`fakeregistry.client.connection`)."""
    if not references:
        raise ExportError("nothing to export: give at least one reference")
    parsed = [ImageReference.parse(text) for text in references]
    destination = Path(output)
    if destination.suffix == ".tar":
        with tempfile.TemporaryDirectory(prefix="fakeregistry-export-") as scratch:
            result = await _export(parsed, Path(scratch), referrers, connection)
            with tarfile.open(destination, "w") as archive:
                for name in ("oci-layout", "index.json", "blobs"):
                    archive.add(Path(scratch) / name, arcname=name)
            result.output = destination
            return result
    return await _export(parsed, destination, referrers, connection)


async def _export(
    references: Sequence[ImageReference],
    root: Path,
    referrers: bool,
    connection: Connection | None,
) -> ExportResult:
    root.mkdir(parents=True, exist_ok=True)
    (root / "blobs").mkdir(exist_ok=True)
    layout = root / "oci-layout"
    if not layout.exists():
        layout.write_text(json.dumps({"imageLayoutVersion": LAYOUT_VERSION}))
    entries = _read_index(root)
    result = ExportResult(root)
    for reference, name in zip(references, _ref_names(references), strict=True):
        async with connect(reference.registry, connection) as client:
            fetched = await client.get_manifest(reference, accept=sorted(mt.MANIFEST_TYPES))
            copier = _Copier(client, root, referrers, result)
            await copier.manifest(reference, fetched.digest, fetched.body, fetched.media_type)
        annotations = {CONTAINERD_IMAGE_NAME_ANNOTATION: str(reference)}
        if name is not None:
            annotations[REF_NAME_ANNOTATION] = name
        entry = {
            "mediaType": fetched.media_type,
            "digest": fetched.digest,
            "size": len(fetched.body),
            "annotations": annotations,
        }
        entries = [
            e
            for e in entries
            if not (
                (name is not None and (e.get("annotations") or {}).get(REF_NAME_ANNOTATION) == name)
                or (name is None and e.get("digest") == fetched.digest)
            )
        ]
        entries.append(entry)
        known = {e.get("digest") for e in entries}
        entries.extend(e for e in copier.extra_entries if e["digest"] not in known)
        result.names.append(name or f"{reference.repository}@{fetched.digest}")
    index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": entries}
    partial = root / "index.json.partial"
    partial.write_text(json.dumps(index, indent=2) + "\n")
    partial.replace(root / "index.json")
    return result
