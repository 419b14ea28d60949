"""The disk store: the registry's content in a directory, one OCI image layout per repository.

:class:`DiskStorage` is :class:`~fakeregistry.registry.storage.Storage` with its content on
disk: the rules (names, digests, tags, references, referrers, caps) are the in-memory store's,
and every change is written before it is acknowledged:

- **Blobs** are streamed to a scratch file under ``<root>/.uploads/`` as they arrive, flushed
  (``fsync``) and renamed to ``<root>/<repository>/blobs/<alg>/<hex>``, and the directory is
  flushed, before the 201. A blob pushed to a second repository (or mounted) is a hard link to
  the first copy, so its bytes are stored once (zot's deduplication).
- **Upload sessions** are one file each under ``<root>/.uploads/``; a PATCH writes into it, but
  the session's size and hash move only when the PATCH body is complete, so an interrupted
  chunk changes nothing. Sessions are scratch: the directory is emptied on start.
- **Manifests and tags** are written as the manifest's blob and a new ``index.json`` (each a
  temporary file, fsync, rename, fsync of the directory) before the 201.

So after ``kill -9`` at any moment the directory holds everything acknowledged and nothing
half-written: a file is either absent or complete under its final name. On start the store
reads the layouts back (blobs by listing ``blobs/``, manifests and tags from ``index.json``).

Held in memory: the index (names, tags, digests, sizes, links) and each manifest's bytes and
parsed view (a manifest is at most ``max_manifest_size``, 4 MiB by default). Blob bytes never
are: pulls are served from the files with ``sendfile`` (:class:`FileBlob`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from fakeregistry.registry.disk.files import (
    fsync_dir,
    install,
    link_or_copy,
    make_dirs,
    remove,
    write_atomic,
)
from fakeregistry.registry.disk.layout import (
    IndexEntry,
    blob_file,
    blob_files,
    find_repositories,
    read_index,
    reserved_segment,
    write_index,
    write_layout_file,
)
from fakeregistry.registry.options import RegistryOptions
from fakeregistry.registry.storage import (
    Blob,
    BlobWriter,
    Buffer,
    Repository,
    Storage,
    StoredManifest,
    Upload,
)
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.digest import Digest, DigestError, Hasher, new_hasher
from fakeregistry.rules.errors import ErrorCode, RegistryError
from fakeregistry.rules.model import parse_manifest
from fakeregistry.rules.reference import is_valid_tag

__all__ = ["SCRATCH_DIR", "DiskStorage", "DiskUpload", "FileBlob"]

# Upload sessions and bodies being received, under the root; emptied on start.
SCRATCH_DIR = ".uploads"
_READ_SIZE = 256 * 1024


class FileBlob(Blob):
    """A blob stored as a file (``path``); served with ``sendfile`` by the HTTP layer."""

    __slots__ = ("path",)

    def __init__(self, digest: str, path: Path, size: int) -> None:
        self.digest = digest
        self.path = path
        self.size = size
        self.chunks = ()
        self._offsets = []

    def iter_range(self, start: int = 0, end: int | None = None) -> Iterator[memoryview | bytes]:
        """Read ``[start, end)`` from the file in pieces (blocking reads)."""
        stop = self.size if end is None else min(end, self.size)
        if start >= stop:
            return
        with open(self.path, "rb") as file:
            file.seek(start)
            left = stop - start
            while left > 0 and (piece := file.read(min(_READ_SIZE, left))):
                left -= len(piece)
                yield piece

    def read(self) -> bytes:
        return self.path.read_bytes()


class FileWriter(BlobWriter):
    """A request body written to a scratch file as it arrives (a monolithic upload or a seed).
    The file is removed when the writer is dropped without being committed."""

    __slots__ = ("_file", "path", "synced")
    in_memory = False

    def __init__(self, scratch: Path, hasher: Hasher | None = None) -> None:
        super().__init__(hasher)
        self.path = scratch / f"blob-{uuid.uuid4().hex}"
        self._file: IO[bytes] = open(self.path, "wb")  # noqa: SIM115 (closed by commit or del)
        self.synced = False

    def keep(self, data: Buffer) -> None:
        if data:
            self.size += len(data)
            self._file.write(data)

    def finish(self) -> list[Buffer]:
        if not self._file.closed:
            self._file.flush()
        return []

    def sync(self) -> None:
        """Flush the bytes to disk (blocking: run it on a worker thread)."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self.synced = True

    def close(self) -> None:
        self._file.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._file.close()
            remove(self.path)  # gone already once committed (renamed)


class SessionWriter(BlobWriter):
    """One PATCH or PUT body of a disk upload session, written into the session's file from its
    current size. Only one body writes a session at a time; a concurrent one is read and thrown
    away and its commit answers 416, as it would lose the race in memory too."""

    __slots__ = ("_file", "_upload", "owner")
    in_memory = False

    def __init__(self, upload: DiskUpload) -> None:
        super().__init__(upload.settled_hasher().copy())
        self._upload = upload
        self._file: IO[bytes] | None = None
        self.owner = not upload.busy
        if self.owner:
            upload.busy = True
            file = open(upload.path, "r+b")  # noqa: SIM115 (closed by release)
            file.seek(upload.size)
            file.truncate()  # bytes of an interrupted earlier body
            self._file = file

    def keep(self, data: Buffer) -> None:
        if data:
            self.size += len(data)
            if self._file is not None:
                self._file.write(data)

    def finish(self) -> list[Buffer]:
        if self._file is not None:
            self._file.flush()
        return []

    def release(self) -> None:
        """Close the file and let the next body write the session."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.owner:
            self.owner = False
            self._upload.busy = False

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.release()


@dataclass(slots=True)
class DiskUpload(Upload):
    """An upload session whose bytes are in the file ``path``."""

    path: Path = Path()
    busy: bool = False
    synced: int = -1

    def writer(self) -> BlobWriter:
        return SessionWriter(self)


def _sync_session(upload: DiskUpload, size: int) -> None:
    with open(upload.path, "r+b") as file:
        file.truncate(size)
        file.flush()
        os.fsync(file.fileno())


def _rehash_file(path: Path, algorithm: str) -> str:
    hasher = new_hasher(algorithm)
    with open(path, "rb") as file:
        while piece := file.read(1024 * 1024):
            hasher.update(piece)
    return hasher.hexdigest()


def _parse(text: str) -> Digest:
    try:
        return Digest.parse(text)
    except DigestError as exc:
        raise RegistryError(ErrorCode.DIGEST_INVALID, str(exc)) from None


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """A repository's index before a change, restored when writing the change fails."""

    existed: bool
    manifests: dict[str, StoredManifest]
    tags: dict[str, str]
    referrers: dict[str, dict[str, None]]
    manifest_bytes: int


class DiskStorage(Storage):
    """A registry's state kept in ``root`` (created if missing; existing layouts are served).

    Call it from the event loop that serves it, like :class:`Storage`. Writes of small files
    (manifests, ``index.json``, renames) happen on the loop; flushing a blob's bytes runs on a
    worker thread (:meth:`flush`), before the commit.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        options: RegistryOptions | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(options, clock=clock)
        self.root = Path(root).absolute()
        make_dirs(self.root)
        self.scratch = self.root / SCRATCH_DIR
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir()
        self._load()

    # -- start -------------------------------------------------------------------------------

    def _load(self) -> None:
        for name, directory in find_repositories(self.root):
            repo = Repository(name)
            files = dict(blob_files(directory))
            for entry in read_index(directory):
                self._load_manifest(repo, files, entry.digest, entry.media_type)
                if (
                    entry.tag is not None
                    and entry.digest in repo.manifests
                    and is_valid_tag(entry.tag, strict=False)
                ):
                    repo.tags[entry.tag] = entry.digest
            for digest, path in files.items():
                if digest in repo.manifests:
                    continue
                if digest not in self.blobs:
                    size = path.stat().st_size
                    self.blobs[digest] = FileBlob(digest, path, size)
                    self.ledger.blob_bytes += size
                self._link(repo, digest)
            self.repositories[name] = repo

    def _load_manifest(
        self, repo: Repository, files: dict[str, Path], digest: str, media_type: str
    ) -> None:
        """Read manifest ``digest`` and, for an index, the children it names (a layout written
        by another tool lists only the top-level manifests in ``index.json``)."""
        path = files.get(digest)
        if digest in repo.manifests or path is None:
            return
        body = path.read_bytes()
        if not Digest.parse(digest).matches(body):
            return
        try:
            view = parse_manifest(body, media_type)
        except RegistryError:
            return
        repo.manifests[digest] = StoredManifest(digest, view.media_type, body, view)
        self.ledger.manifest_bytes += len(body)
        if view.subject is not None:
            repo.referrers.setdefault(view.subject.digest, {})[digest] = None
        for child in view.manifests:
            if child.media_type in mt.MANIFEST_TYPES:
                self._load_manifest(repo, files, child.digest, child.media_type)

    def reset(self) -> None:
        """Forget everything, on disk too."""
        for entry in self.root.iterdir():
            if entry.name == SCRATCH_DIR:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        super().reset()
        fsync_dir(self.root)

    # -- names and places --------------------------------------------------------------------

    def check_name(self, name: str) -> None:
        super().check_name(name)
        reserved = reserved_segment(name)
        if reserved is not None:
            raise RegistryError(
                ErrorCode.NAME_INVALID,
                f"repository name {name!r}: {reserved!r} cannot be a directory of the disk store",
            )

    def directory(self, name: str) -> Path:
        """The layout directory of repository ``name``."""
        return self.root.joinpath(*name.split("/"))

    def _ensure_layout(self, name: str) -> Path:
        directory = self.directory(name)
        if name not in self.repositories:
            make_dirs(directory)
            write_layout_file(directory)
        return directory

    # -- blobs -------------------------------------------------------------------------------

    def blob_writer(self, hasher: Hasher | None = None) -> BlobWriter:
        return FileWriter(self.scratch, hasher)

    async def flush(self, source: BlobWriter | Upload) -> None:
        if isinstance(source, FileWriter):
            await asyncio.to_thread(source.sync)
        elif isinstance(source, DiskUpload) and self.uploads.get(source.id) is source:
            size = source.size
            await asyncio.to_thread(_sync_session, source, size)
            source.synced = size

    def get_blob(self, name: str, digest: str) -> Blob:
        blob = super().get_blob(name, digest)
        return FileBlob(digest, blob_file(self.directory(name), digest), blob.size)

    def put_blob(self, name: str, digest: str, writer: BlobWriter) -> Blob:
        parsed = _parse(digest)
        if not isinstance(writer, FileWriter):  # bytes collected in memory (a seed)
            spilled = FileWriter(self.scratch, writer.hasher)
            for chunk in writer.finish():
                spilled.keep(chunk)
            writer = spilled
        writer.finish()
        if writer.hasher.name == parsed.algorithm:
            actual = writer.hasher.hexdigest()
        else:
            actual = _rehash_file(writer.path, parsed.algorithm)
        if actual != parsed.encoded:
            raise RegistryError(
                ErrorCode.DIGEST_INVALID, f"content hashes to {parsed.algorithm}:{actual}"
            )
        if not writer.synced:
            writer.sync()
        writer.close()
        return self._commit_blob(name, digest, writer.path, writer.size)

    def mount_blob(self, name: str, digest: str, source: str) -> Blob | None:
        _parse(digest)
        if not self.has_blob(source, digest):
            return None
        return self._commit_blob(name, digest, None, self.blobs[digest].size)

    def _commit_blob(self, name: str, digest: str, path: Path | None, size: int) -> Blob:
        """Link ``digest`` in ``name``: install the flushed file ``path`` when the blob is new,
        else link the stored copy (and drop ``path``)."""
        known = self.blobs.get(digest)
        if known is None:
            self.ledger.check(size, upload=False)
        directory = self._ensure_layout(name)
        target = blob_file(directory, digest)
        if known is None:
            assert path is not None
            install(path, target)
            self.blobs[digest] = FileBlob(digest, target, size)
            self.ledger.blob_bytes += size
        else:
            if path is not None:
                remove(path)
            if not target.exists():
                assert isinstance(known, FileBlob)
                link_or_copy(known.path, target)
        repo = self.repositories.get(name) or self.repositories.setdefault(name, Repository(name))
        self._link(repo, digest)
        return FileBlob(digest, target, size)

    def _unlink(self, repo: Repository, digest: str) -> None:
        target = blob_file(self.directory(repo.name), digest)
        if digest not in repo.manifests and remove(target):
            fsync_dir(target.parent)
        super()._unlink(repo, digest)
        blob = self.blobs.get(digest)
        if isinstance(blob, FileBlob) and blob.path == target:
            for other in self.repositories.values():
                if digest in other.blobs:
                    blob.path = blob_file(self.directory(other.name), digest)
                    break

    # -- uploads -----------------------------------------------------------------------------

    def _new_upload(self, name: str) -> Upload:
        upload_id = str(uuid.uuid4())
        path = self.scratch / f"session-{upload_id}"
        path.touch()
        return DiskUpload(id=upload_id, repository=name, touched=self._clock(), path=path)

    def append_upload(self, upload: Upload, writer: BlobWriter, start: int) -> None:
        if not isinstance(writer, SessionWriter) or not writer.owner:
            raise RegistryError(
                ErrorCode.RANGE_INVALID, "another request is writing this upload session"
            )
        try:
            super().append_upload(upload, writer, start)
        finally:
            writer.release()

    def finish_upload(self, upload: Upload, digest: str) -> Blob:
        if self.uploads.get(upload.id) is not upload:
            raise RegistryError(ErrorCode.BLOB_UPLOAD_UNKNOWN, upload.id)
        assert isinstance(upload, DiskUpload)
        del self.uploads[upload.id]
        self.ledger.upload_bytes -= upload.size
        try:
            parsed = _parse(digest)
            if upload.synced != upload.size:
                _sync_session(upload, upload.size)
            hasher = upload.settled_hasher()
            if hasher.name == parsed.algorithm:
                actual = hasher.hexdigest()
            else:
                actual = _rehash_file(upload.path, parsed.algorithm)
            if actual != parsed.encoded:
                raise RegistryError(
                    ErrorCode.DIGEST_INVALID, f"content hashes to {parsed.algorithm}:{actual}"
                )
            return self._commit_blob(upload.repository, digest, upload.path, upload.size)
        finally:
            remove(upload.path)

    def _drop_upload(self, upload: Upload) -> None:
        super()._drop_upload(upload)
        if isinstance(upload, DiskUpload):
            remove(upload.path)

    # -- manifests ---------------------------------------------------------------------------

    def _snapshot(self, name: str) -> _Snapshot:
        repo = self.repositories.get(name)
        if repo is None:
            return _Snapshot(False, {}, {}, {}, self.ledger.manifest_bytes)
        return _Snapshot(
            True,
            dict(repo.manifests),
            dict(repo.tags),
            {k: dict(v) for k, v in repo.referrers.items()},
            self.ledger.manifest_bytes,
        )

    def _restore(self, name: str, snapshot: _Snapshot) -> None:
        self.changed()
        self.ledger.manifest_bytes = snapshot.manifest_bytes
        repo = self.repositories.get(name)
        if repo is None:
            return
        if not snapshot.existed and not repo.blobs:
            del self.repositories[name]
            return
        repo.manifests, repo.tags, repo.referrers = (
            snapshot.manifests,
            snapshot.tags,
            snapshot.referrers,
        )

    def _write_index(self, repo: Repository) -> None:
        by_digest: dict[str, list[str]] = {}
        for tag, digest in repo.tags.items():
            by_digest.setdefault(digest, []).append(tag)
        entries: list[IndexEntry] = []
        for digest, stored in repo.manifests.items():
            size = len(stored.body)
            tags: list[str | None] = [*sorted(by_digest.get(digest, ()))] or [None]
            entries.extend(IndexEntry(stored.media_type, digest, size, tag) for tag in tags)
        write_index(self.directory(repo.name), entries)

    def put_manifest(
        self,
        name: str,
        reference: str,
        body: bytes,
        content_type: str | None,
        *,
        extra_tags: tuple[str, ...] = (),
    ) -> StoredManifest:
        snapshot = self._snapshot(name)
        stored = super().put_manifest(name, reference, body, content_type, extra_tags=extra_tags)
        try:
            directory = self.directory(name)
            if not snapshot.existed:
                make_dirs(directory)
                write_layout_file(directory)
            target = blob_file(directory, stored.digest)
            if not target.exists():
                write_atomic(target, stored.body)
            self._write_index(self.repositories[name])
        except BaseException:
            self._restore(name, snapshot)
            raise
        return stored

    def delete_manifest(self, name: str, reference: str) -> None:
        snapshot = self._snapshot(name)
        super().delete_manifest(name, reference)
        repo = self.repositories[name]
        try:
            self._write_index(repo)
        except BaseException:
            self._restore(name, snapshot)
            raise
        for digest in snapshot.manifests.keys() - repo.manifests.keys():
            if digest not in repo.blobs:
                remove(blob_file(self.directory(name), digest))
