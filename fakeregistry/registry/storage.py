"""The registry's state: blobs, upload sessions, manifests and tags, held in memory.

Storage knows no HTTP. Every method is synchronous and runs to completion without yielding, so
on an event loop each call is atomic: nothing can change between a check and the write that
depends on it. Bytes arriving over the network are collected by a :class:`BlobWriter` (hashed as
they arrive, no second pass) and only handed to storage once the request body is complete, so a
request cut off mid-body changes nothing.

Blobs are stored once by digest and *linked* per repository (a blob pushed to repository A is
not visible from B until it is pushed or mounted there); a blob's bytes are freed when the last
link goes. Manifests are stored as the exact bytes pushed.
"""

from __future__ import annotations

import bisect
import time
import uuid
from collections.abc import Callable

from fakeregistry.registry.content import (
    SEGMENT_SIZE,
    Blob,
    BlobWriter,
    Buffer,
    Page,
    Repository,
    StoredManifest,
    Upload,
    new_segment,
)
from fakeregistry.registry.limits import Ledger, Usage
from fakeregistry.registry.options import RegistryOptions
from fakeregistry.rules.digest import Digest, DigestError, Hasher, new_hasher
from fakeregistry.rules.errors import ErrorCode, RegistryError
from fakeregistry.rules.model import Manifest, parse_manifest
from fakeregistry.rules.reference import is_valid_repository, is_valid_tag

__all__ = [
    "SEGMENT_SIZE",
    "Blob",
    "BlobWriter",
    "Buffer",
    "Page",
    "Repository",
    "Storage",
    "StoredManifest",
    "Upload",
    "new_segment",
]


class Storage:
    """All state of one registry. Call it from the event loop that serves the registry."""

    def __init__(
        self,
        options: RegistryOptions | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options or RegistryOptions()
        self._clock = clock
        self.blobs: dict[str, Blob] = {}
        self._links: dict[str, int] = {}
        self.repositories: dict[str, Repository] = {}
        self.uploads: dict[str, Upload] = {}
        self.ledger = Ledger(
            self.options.max_bytes, self.options.max_upload_bytes, self.options.max_uploads
        )
        # Counts changes to what is stored (blobs, manifests, tags, repositories; not upload
        # sessions): an answer computed from the content is current while this is unchanged
        # (fakeregistry.registry.http.answers replays manifest GETs on it).
        self.generation = 0

    def changed(self) -> None:
        """Note a change to the stored content (every mutator here calls it)."""
        self.generation += 1

    def reset(self) -> None:
        """Forget everything: blobs, repositories, uploads."""
        self.changed()
        self.blobs.clear()
        self._links.clear()
        self.repositories.clear()
        self.uploads.clear()
        # Bodies still being received keep their counts: they release them when they end.
        receiving = (self.ledger.receiving_uploads, self.ledger.receiving_manifests)
        self.ledger.clear()
        self.ledger.receiving_uploads, self.ledger.receiving_manifests = receiving

    def usage(self) -> Usage:
        """What the registry holds now, and its caps (:mod:`fakeregistry.registry.limits`)."""
        return self.ledger.usage(len(self.uploads))

    # -- what a backend provides ---------------------------------------------------------------
    # The disk store (:mod:`fakeregistry.registry.disk`) overrides these three and the commit
    # methods; in memory they are trivial.

    def blob_writer(self, hasher: Hasher | None = None) -> BlobWriter:
        """A writer for one request body that becomes a whole blob (:meth:`put_blob`)."""
        return BlobWriter(hasher)

    async def flush(self, source: BlobWriter | Upload) -> None:
        """Make the bytes collected in ``source`` durable before they are committed. In memory
        there is nothing to do and nothing is awaited, so the caller's check-then-commit stays
        atomic on the event loop."""

    def _new_upload(self, name: str) -> Upload:
        return Upload(id=str(uuid.uuid4()), repository=name, touched=self._clock())

    # -- names -------------------------------------------------------------------------------

    def check_name(self, name: str) -> None:
        """Raise ``NAME_INVALID`` unless ``name`` is a repository name this registry accepts."""
        if not is_valid_repository(name, strict=self.options.strict_names):
            raise RegistryError(ErrorCode.NAME_INVALID, f"invalid repository name {name!r}")

    def repository(self, name: str) -> Repository | None:
        """The repository, or None when nothing was ever pushed to it."""
        return self.repositories.get(name)

    def _repository_or_create(self, name: str) -> Repository:
        repo = self.repositories.get(name)
        if repo is None:
            repo = self.repositories[name] = Repository(name)
        return repo

    def _require_repository(self, name: str) -> Repository:
        repo = self.repositories.get(name)
        if repo is None:
            raise RegistryError(ErrorCode.NAME_UNKNOWN, f"repository {name!r} not known")
        return repo

    # -- blobs -------------------------------------------------------------------------------

    def get_blob(self, name: str, digest: str) -> Blob:
        """The blob linked in ``name`` (``DIGEST_INVALID``, ``BLOB_UNKNOWN``)."""
        _parse_digest(digest)
        repo = self.repositories.get(name)
        if repo is None or digest not in repo.blobs:
            raise RegistryError(ErrorCode.BLOB_UNKNOWN, digest)
        return self.blobs[digest]

    def has_blob(self, name: str, digest: str) -> bool:
        repo = self.repositories.get(name)
        return repo is not None and digest in repo.blobs

    def _link(self, repo: Repository, digest: str) -> None:
        if digest not in repo.blobs:
            repo.blobs.add(digest)
            self._links[digest] = self._links.get(digest, 0) + 1

    def _unlink(self, repo: Repository, digest: str) -> None:
        self.changed()
        repo.blobs.discard(digest)
        count = self._links.get(digest, 0) - 1
        if count <= 0:
            self._links.pop(digest, None)
            blob = self.blobs.pop(digest, None)
            if blob is not None:
                self.ledger.blob_bytes -= blob.size
        else:
            self._links[digest] = count

    def _store(self, name: str, digest: str, chunks: list[Buffer]) -> Blob:
        """Link ``digest`` in ``name``, keeping the existing bytes when the blob is known."""
        self.changed()
        blob = self.blobs.get(digest)
        if blob is None:
            blob = Blob(digest, chunks)
            self.ledger.check(blob.size, upload=False)
            self.blobs[digest] = blob
            self.ledger.blob_bytes += blob.size
        self._link(self._repository_or_create(name), digest)
        return blob

    def put_blob(self, name: str, digest: str, writer: BlobWriter) -> Blob:
        """Store a complete body (monolithic upload) if it hashes to ``digest``."""
        parsed = _parse_digest(digest)
        chunks = writer.finish()
        if writer.hasher.name != parsed.algorithm:
            actual = _rehash(chunks, parsed.algorithm)
        else:
            actual = writer.hasher.hexdigest()
        if actual != parsed.encoded:
            raise RegistryError(
                ErrorCode.DIGEST_INVALID, f"content hashes to {parsed.algorithm}:{actual}"
            )
        return self._store(name, digest, chunks)

    def delete_blob(self, name: str, digest: str) -> None:
        """Unlink a blob from ``name`` (``UNSUPPORTED`` when deletes are off)."""
        self._check_deletes()
        self.get_blob(name, digest)
        self._unlink(self.repositories[name], digest)

    def mount_blob(self, name: str, digest: str, source: str) -> Blob | None:
        """Link a blob of repository ``source`` into ``name``; None when ``source`` lacks it."""
        _parse_digest(digest)
        if not self.has_blob(source, digest):
            return None
        return self._store(name, digest, [])

    # -- uploads -----------------------------------------------------------------------------

    def start_upload(self, name: str) -> Upload:
        """Open an upload session in ``name``."""
        self._expire_uploads()
        self.ledger.check_session(len(self.uploads))
        upload = self._new_upload(name)
        self.uploads[upload.id] = upload
        return upload

    def get_upload(self, name: str, upload_id: str) -> Upload:
        """The live session ``upload_id`` of ``name`` (``BLOB_UPLOAD_UNKNOWN``)."""
        upload = self.uploads.get(upload_id)
        if upload is None or upload.repository != name:
            raise RegistryError(ErrorCode.BLOB_UPLOAD_UNKNOWN, upload_id)
        if self._clock() - upload.touched > self.options.upload_expiry:
            self._drop_upload(upload)
            raise RegistryError(ErrorCode.BLOB_UPLOAD_UNKNOWN, f"{upload_id} expired")
        return upload

    def append_upload(self, upload: Upload, writer: BlobWriter, start: int) -> None:
        """Commit a chunk collected by ``writer`` that was written from offset ``start``.

        Raises ``RANGE_INVALID`` (416) when the session grew meanwhile (a concurrent PATCH) or
        is gone, so chunks can never interleave.
        """
        if self.uploads.get(upload.id) is not upload:
            raise RegistryError(ErrorCode.BLOB_UPLOAD_UNKNOWN, upload.id)
        if upload.size != start:
            raise RegistryError(
                ErrorCode.RANGE_INVALID,
                f"upload is at offset {upload.size}, chunk was written at {start}",
            )
        self.ledger.check(writer.size, upload=True)
        self.ledger.upload_bytes += writer.size
        upload.chunks.extend(writer.finish())
        upload.size += writer.size
        if writer.hashing is not None:
            upload.hashing = writer.hashing
        else:
            upload.hasher, upload.hashing = writer.hasher, None
        upload.touched = self._clock()

    def finish_upload(self, upload: Upload, digest: str) -> Blob:
        """Close a session whose content must hash to ``digest``. The session ends either way:
        on a mismatch nothing is stored (``DIGEST_INVALID``)."""
        self._drop_upload(upload)
        parsed = _parse_digest(digest)
        hasher = upload.settled_hasher()
        if hasher.name == parsed.algorithm:
            actual = hasher.hexdigest()
        else:
            # The algorithm is only known now; hash the stored chunks once more (sha512 only).
            actual = _rehash(upload.chunks, parsed.algorithm)
        if actual != parsed.encoded:
            raise RegistryError(
                ErrorCode.DIGEST_INVALID, f"content hashes to {parsed.algorithm}:{actual}"
            )
        return self._store(upload.repository, digest, upload.chunks)

    def cancel_upload(self, name: str, upload_id: str) -> None:
        """Drop a session (``BLOB_UPLOAD_UNKNOWN`` when there is none)."""
        self._drop_upload(self.get_upload(name, upload_id))

    def drop_upload(self, upload_id: str) -> None:
        """End session ``upload_id`` if it is open (a failed ``PUT`` ends its session)."""
        upload = self.uploads.get(upload_id)
        if upload is not None:
            self._drop_upload(upload)

    def _drop_upload(self, upload: Upload) -> None:
        if self.uploads.get(upload.id) is upload:
            del self.uploads[upload.id]
            self.ledger.upload_bytes -= upload.size

    def _expire_uploads(self) -> None:
        now = self._clock()
        limit = self.options.upload_expiry
        for upload in [u for u in self.uploads.values() if now - u.touched > limit]:
            self._drop_upload(upload)

    # -- manifests ---------------------------------------------------------------------------

    def _check_tag(self, tag: str, *, for_put: bool) -> None:
        if not is_valid_tag(tag, strict=self.options.strict_names):
            if for_put:
                raise RegistryError(ErrorCode.MANIFEST_INVALID, f"invalid tag {tag!r}")
            raise RegistryError(ErrorCode.MANIFEST_UNKNOWN, f"invalid tag {tag!r}")

    def put_manifest(
        self,
        name: str,
        reference: str,
        body: bytes,
        content_type: str | None,
        *,
        extra_tags: tuple[str, ...] = (),
    ) -> StoredManifest:
        """Store ``body`` under ``reference`` (a tag, or the digest it must hash to)."""
        if len(body) > self.options.max_manifest_size:
            raise RegistryError(
                ErrorCode.SIZE_INVALID,
                f"manifest is {len(body)} bytes, the limit is {self.options.max_manifest_size}",
                status=413,
            )
        if is_digest_reference(reference):
            parsed = _parse_digest(reference)
            if not parsed.matches(body):
                raise RegistryError(
                    ErrorCode.DIGEST_INVALID, f"manifest does not hash to {reference}"
                )
            digest, tags = reference, extra_tags
        else:
            digest, tags = f"sha256:{_rehash([body], 'sha256')}", (reference, *extra_tags)
        for tag in tags:
            self._check_tag(tag, for_put=True)
        view = parse_manifest(body, content_type)
        repo = self.repositories.get(name)
        if self.options.validation == "strict":
            self._check_references(repo, view)
        existing = repo.manifests.get(digest) if repo is not None else None
        if existing is None or existing.body != body:
            self.ledger.check(len(body) - (len(existing.body) if existing else 0), upload=False)
        self.changed()
        repo = self._repository_or_create(name)
        stored = repo.manifests.get(digest)
        if stored is None or stored.body != body:
            self.ledger.manifest_bytes += len(body) - (len(stored.body) if stored else 0)
            stored = StoredManifest(digest, view.media_type, body, view)
            repo.manifests[digest] = stored
        for tag in tags:
            repo.tags[tag] = digest
        if view.subject is not None:
            repo.referrers.setdefault(view.subject.digest, {})[digest] = None
        return stored

    def _check_references(self, repo: Repository | None, view: Manifest) -> None:
        missing: list[str] = []
        for digest in view.required_blobs():
            if (repo is None or digest not in repo.blobs) and digest not in missing:
                missing.append(digest)
        for digest in view.required_manifests():
            if (repo is None or digest not in repo.manifests) and digest not in missing:
                missing.append(digest)
        if missing:
            errors = [RegistryError(ErrorCode.MANIFEST_BLOB_UNKNOWN, d) for d in missing]
            raise RegistryError(ErrorCode.MANIFEST_BLOB_UNKNOWN, missing[0], more=tuple(errors[1:]))

    def resolve(self, name: str, reference: str) -> StoredManifest:
        """The manifest ``reference`` (tag or digest) names in ``name``."""
        repo = self._require_repository(name)
        if is_digest_reference(reference):
            _parse_digest(reference)
            stored = repo.manifests.get(reference)
        else:
            self._check_tag(reference, for_put=False)
            digest = repo.tags.get(reference)
            stored = repo.manifests.get(digest) if digest else None
        if stored is None:
            raise RegistryError(ErrorCode.MANIFEST_UNKNOWN, reference)
        return stored

    def get_manifest_by_digest(self, name: str, digest: str) -> StoredManifest | None:
        repo = self.repositories.get(name)
        return repo.manifests.get(digest) if repo else None

    def delete_manifest(self, name: str, reference: str) -> None:
        """Delete a tag (only the pointer), or a manifest by digest with every tag on it."""
        self._check_deletes()
        stored = self.resolve(name, reference)
        repo = self.repositories[name]
        self.changed()
        if not is_digest_reference(reference):
            del repo.tags[reference]
            return
        del repo.manifests[stored.digest]
        self.ledger.manifest_bytes -= len(stored.body)
        for tag in [t for t, d in repo.tags.items() if d == stored.digest]:
            del repo.tags[tag]
        subject = stored.view.subject
        if subject is not None:
            referrers = repo.referrers.get(subject.digest, {})
            referrers.pop(stored.digest, None)
            if not referrers:
                repo.referrers.pop(subject.digest, None)

    def _check_deletes(self) -> None:
        if not self.options.deletes:
            raise RegistryError(ErrorCode.UNSUPPORTED, "deletes are disabled on this registry")

    # -- discovery ---------------------------------------------------------------------------

    def list_tags(self, name: str, n: int | None, last: str | None) -> Page:
        """Tags of ``name`` in lexical order, paged by ``n`` and ``last``."""
        return _page(sorted(self._require_repository(name).tags), n, last)

    def catalog(self, n: int | None, last: str | None) -> Page:
        """Repository names in lexical order, paged by ``n`` and ``last``."""
        return _page(sorted(self.repositories), n, last)

    def referrers(
        self, name: str, digest: str, artifact_type: str | None
    ) -> list[dict[str, object]]:
        """Descriptors of the manifests in ``name`` whose ``subject`` is ``digest``
        (distribution-spec "Listing Referrers"), filtered by ``artifactType``."""
        _parse_digest(digest)
        repo = self.repositories.get(name)
        if repo is None:
            return []
        out: list[dict[str, object]] = []
        for ref_digest in repo.referrers.get(digest, {}):
            stored = repo.manifests[ref_digest]
            kind = stored.view.referrer_artifact_type()
            if artifact_type is not None and kind != artifact_type:
                continue
            descriptor: dict[str, object] = {
                "mediaType": stored.media_type,
                "digest": stored.digest,
                "size": len(stored.body),
            }
            if kind:
                descriptor["artifactType"] = kind
            if stored.view.annotations:
                descriptor["annotations"] = stored.view.annotations
            out.append(descriptor)
        return out


def is_digest_reference(reference: str) -> bool:
    """A manifest reference is a digest when it has a colon (tags cannot)."""
    return ":" in reference


def _parse_digest(text: str) -> Digest:
    try:
        return Digest.parse(text)
    except DigestError as exc:
        raise RegistryError(ErrorCode.DIGEST_INVALID, str(exc)) from None


def _rehash(chunks: list[Buffer], algorithm: str) -> str:
    hasher = new_hasher(algorithm)
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest()


def _page(items: list[str], n: int | None, last: str | None) -> Page:
    if last:
        items = items[bisect.bisect_right(items, last) :]
    if n is None or len(items) <= n:
        return Page(items, None)
    page = items[:n]
    return Page(page, page[-1] if page else None)
