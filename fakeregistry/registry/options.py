"""Settings of one registry instance, shared by storage and the HTTP layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fakeregistry.registry.personality import Personality, get_personality

__all__ = ["DEFAULT_MAX_MANIFEST_SIZE", "Negotiation", "RegistryOptions", "Validation"]

Negotiation = Literal["strict", "lenient"]
Validation = Literal["strict", "sparse"]

# The distribution-spec asks registries to accept manifests of at least 4 MiB; distribution's
# default limit is the same.
DEFAULT_MAX_MANIFEST_SIZE = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RegistryOptions:
    """How a registry behaves where the spec leaves a choice.

    - ``deletes``: allow ``DELETE`` of manifests, tags and blobs; when off they answer
      405 ``UNSUPPORTED`` (distribution's default is off; ours is on, since tests delete).
    - ``referrers``: serve the referrers API; off answers 404 so clients fall back to the
      ``sha256-<hex>`` tag schema.
    - ``negotiation``: ``"strict"`` follows distribution v3 (an OCI manifest or index whose type
      the ``Accept`` header does not name is ``MANIFEST_UNKNOWN``; a Docker list fetched by tag
      by a client that does not accept lists yields its linux/amd64 child); ``"lenient"``
      ignores ``Accept`` like go-containerregistry.
    - ``validation``: ``"strict"`` checks names and tags against the spec grammar and refuses
      manifests that reference blobs or manifests the repository lacks; ``"sparse"`` accepts
      any path-safe name and tag and skips the reference checks.
    - ``max_manifest_size``: bytes; larger manifest bodies answer 413.
    - ``upload_expiry``: seconds an idle upload session lives before it is dropped.
    - ``body_timeout``: seconds a request body may send nothing before the request is
      answered 408 and its connection closed (a stalled or mis-framed body never pins a
      handler).
    - ``max_bytes``: a cap on the bytes held (blobs, manifests, open upload sessions and
      bodies being received); None is no cap. See :mod:`fakeregistry.registry.limits`.
    - ``max_upload_bytes``: a cap on the bytes of open upload sessions and upload bodies being
      received; None is no cap.
    - ``max_uploads``: a cap on the number of open upload sessions; None is no cap.
    - ``personality``: answer like a hosted registry (``"dockerhub"``, ``"ghcr"``, ``"ecr"``,
      ``"quay"``, ``"acr"``, ``"harbor"``, ``"gitlab"``, ``"zot"``, ``"distribution-2.8"``,
      ``"distribution-3"``) or a :class:`~fakeregistry.registry.personality.Personality`
      record; ``"spec"`` (the default) is the strict core. A server's personality is fixed
      when it is made (its auth and storage host follow it); see ``docs/personalities.md``.
    - ``read_only``: pulls only; a push or delete answers 405 ``UNSUPPORTED``
      (:mod:`fakeregistry.registry.http.operations` says why not 403 ``DENIED``).
    - ``cors_origins``: browser origins (``*``: any) that get CORS headers and preflights.
    - ``answer_cache``: replay manifest ``GET``/``HEAD`` answers below aiohttp's web layer
      while the content they came from is unchanged
      (:mod:`fakeregistry.registry.http.answers`); off, every request goes through it.
    """

    deletes: bool = True
    referrers: bool = True
    negotiation: Negotiation = "strict"
    validation: Validation = "strict"
    max_manifest_size: int = DEFAULT_MAX_MANIFEST_SIZE
    upload_expiry: float = 3600.0
    body_timeout: float = 60.0
    max_bytes: int | None = None
    max_upload_bytes: int | None = None
    max_uploads: int | None = None
    personality: str | Personality = "spec"
    read_only: bool = False
    cors_origins: tuple[str, ...] = ()
    answer_cache: bool = True

    def __post_init__(self) -> None:
        get_personality(self.personality)  # ValueError for an unknown name
        if self.negotiation not in ("strict", "lenient"):
            raise ValueError(f"negotiation must be 'strict' or 'lenient', not {self.negotiation!r}")
        if self.validation not in ("strict", "sparse"):
            raise ValueError(f"validation must be 'strict' or 'sparse', not {self.validation!r}")
        if self.max_manifest_size <= 0:
            raise ValueError("max_manifest_size must be positive")
        if self.upload_expiry <= 0:
            raise ValueError("upload_expiry must be positive")
        if self.body_timeout <= 0:
            raise ValueError("body_timeout must be positive")
        for name in ("max_bytes", "max_upload_bytes", "max_uploads"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be None or at least 0")

    @property
    def persona(self) -> Personality:
        """The :class:`Personality` record ``personality`` names."""
        return get_personality(self.personality)

    @property
    def strict_names(self) -> bool:
        return self.validation == "strict"
