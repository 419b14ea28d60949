"""What a registry holds in memory (with the disk store: on disk), and the caps that keep a
client from filling it.

:class:`Ledger` counts the bytes of stored blobs (once per digest), stored manifests (per
repository), open upload sessions, and request bodies still being received (counted as they
arrive, so 32 concurrent uploads cannot each get most of the way before the cap notices). The
storage layer updates it on every change; the HTTP layer reserves body bytes as they arrive.

The caps (:class:`fakeregistry.registry.options.RegistryOptions`):

- ``max_bytes``: everything above together;
- ``max_upload_bytes``: open upload sessions plus upload bodies being received;
- ``max_uploads``: the number of open upload sessions.

Refusals (every refusal happens before anything is changed, so nothing partial is kept):

- A byte cap answers **413** ``SIZE_INVALID`` ("storage limit reached"). The spec's error table
  has no quota code. A 4xx tells clients not to retry (docker and containerd retry a 5xx such
  as 507, which cannot succeed until something is deleted), 413 names the request whose
  content does not fit, and the spec already answers 413 ``SIZE_INVALID`` for a manifest over
  the size limit. The connection is closed, so the rest of a refused body is never read.
- The session cap answers **429** ``TOOMANYREQUESTS``: the condition passes as sessions are
  finished, cancelled or expire, which is what 429 says.
"""

from __future__ import annotations

from dataclasses import dataclass

from fakeregistry.rules.errors import ErrorCode, RegistryError

__all__ = ["Ledger", "Usage"]

_STORAGE_FULL = "storage limit reached"


@dataclass(frozen=True, slots=True)
class Usage:
    """A snapshot of a :class:`Ledger` (bytes unless named otherwise), with the caps."""

    blob_bytes: int
    manifest_bytes: int
    upload_bytes: int
    receiving_bytes: int
    upload_sessions: int
    max_bytes: int | None
    max_upload_bytes: int | None
    max_uploads: int | None

    @property
    def total_bytes(self) -> int:
        return self.blob_bytes + self.manifest_bytes + self.upload_bytes + self.receiving_bytes

    def as_json(self) -> dict[str, int | None]:
        return {
            "total_bytes": self.total_bytes,
            "blob_bytes": self.blob_bytes,
            "manifest_bytes": self.manifest_bytes,
            "upload_bytes": self.upload_bytes,
            "receiving_bytes": self.receiving_bytes,
            "upload_sessions": self.upload_sessions,
            "max_bytes": self.max_bytes,
            "max_upload_bytes": self.max_upload_bytes,
            "max_uploads": self.max_uploads,
        }


def _full(kind: str, needed: int, used: int, cap: int) -> RegistryError:
    return RegistryError(
        ErrorCode.SIZE_INVALID,
        f"{kind}: {needed} more bytes would exceed the limit of {cap} ({used} in use)",
        message=_STORAGE_FULL,
        status=413,
        # The refused body is not read any further.
        headers={"Connection": "close"},
    )


class Ledger:
    """Byte and session counts of one registry, checked against its caps."""

    __slots__ = (
        "blob_bytes",
        "manifest_bytes",
        "max_bytes",
        "max_upload_bytes",
        "max_uploads",
        "receiving_manifests",
        "receiving_uploads",
        "upload_bytes",
    )

    def __init__(
        self,
        max_bytes: int | None = None,
        max_upload_bytes: int | None = None,
        max_uploads: int | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes
        self.max_uploads = max_uploads
        self.clear()

    def clear(self) -> None:
        self.blob_bytes = 0
        self.manifest_bytes = 0
        self.upload_bytes = 0
        self.receiving_uploads = 0
        self.receiving_manifests = 0

    @property
    def total(self) -> int:
        return (
            self.blob_bytes
            + self.manifest_bytes
            + self.upload_bytes
            + self.receiving_uploads
            + self.receiving_manifests
        )

    def check(self, needed: int, *, upload: bool) -> None:
        """Raise 413 unless ``needed`` more bytes fit (``upload``: of upload content)."""
        if needed <= 0:
            return
        if self.max_bytes is not None and self.total + needed > self.max_bytes:
            raise _full("registry", needed, self.total, self.max_bytes)
        if upload and self.max_upload_bytes is not None:
            used = self.upload_bytes + self.receiving_uploads
            if used + needed > self.max_upload_bytes:
                raise _full("upload sessions", needed, used, self.max_upload_bytes)

    def check_session(self, open_sessions: int) -> None:
        """Raise 429 unless one more upload session may be opened."""
        if self.max_uploads is not None and open_sessions >= self.max_uploads:
            raise RegistryError(
                ErrorCode.TOOMANYREQUESTS,
                f"{open_sessions} upload sessions are open, the limit is {self.max_uploads}: "
                "finish or cancel one first",
                headers={"Retry-After": "1"},
            )

    def receive(self, size: int, *, upload: bool) -> None:
        """Count ``size`` bytes of a body being received (413 when they do not fit)."""
        self.check(size, upload=upload)
        if upload:
            self.receiving_uploads += size
        else:
            self.receiving_manifests += size

    def received(self, size: int, *, upload: bool) -> None:
        """Forget ``size`` bytes counted by :meth:`receive` (the body was committed or
        dropped)."""
        if upload:
            self.receiving_uploads -= size
        else:
            self.receiving_manifests -= size

    def usage(self, upload_sessions: int) -> Usage:
        return Usage(
            blob_bytes=self.blob_bytes,
            manifest_bytes=self.manifest_bytes,
            upload_bytes=self.upload_bytes,
            receiving_bytes=self.receiving_uploads + self.receiving_manifests,
            upload_sessions=upload_sessions,
            max_bytes=self.max_bytes,
            max_upload_bytes=self.max_upload_bytes,
            max_uploads=self.max_uploads,
        )
