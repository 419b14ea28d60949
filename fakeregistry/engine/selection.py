"""Which manifest an engine pulls from an image index: the engines' rules, one profile each.

Given an index (OCI image index or Docker manifest list) and a host, :func:`select_manifest`
answers what a real engine would pull, ranks every entry the way that engine does, and says
why::

    >>> index = {"manifests": [
    ...     {"digest": "sha256:aa", "platform": {"os": "linux", "architecture": "amd64"}},
    ...     {"digest": "sha256:bb", "platform": {"os": "linux", "architecture": "arm",
    ...                                          "variant": "v6"}},
    ... ]}
    >>> select_manifest(index, "linux/arm64/v8", engine="moby").descriptor["digest"]
    'sha256:bb'
    >>> select_manifest(index, "linux/arm64/v8", engine="skopeo")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fakeregistry.engine.selection.NoMatchingManifest: no image found in image index for ...

Engines differ a lot (``docs/platform-rules.md`` part A, A3-A9). The profiles, in :data:`ENGINES`
(one :class:`~fakeregistry.engine.profiles.Engine` record each in
:mod:`fakeregistry.engine.profiles`; their rules in :mod:`fakeregistry.engine.selectors`):

``docker-1.10``
    Docker 1.10-18.05 (``distribution/pull_v2.go: pullManifestList``): the first entry whose
    ``architecture``/``os`` strings equal the daemon's GOARCH/GOOS. No aliases, variants or
    OS versions.
``docker-18.09``
    Docker 18.06-20.10 (``distribution/pull_v2_unix.go: filterManifests``): the first entry
    equal to the daemon platform once both are normalized (containerd 1.2-1.5 aliases), and,
    for an arm daemon with no such entry, any ``arm`` entry ("backwards compatibility with
    older versions that didn't compare variant").
``moby``
    Docker 23 to today with the graphdriver store
    (``daemon/internal/distribution/pull_v2_unix.go``): ``platforms.Only(host)`` where the
    host includes the amd64 micro-architecture level (``maximumSpec()``), best fallback
    first, platform-less entries last. A Windows daemon uses ``pull_v2_windows.go`` instead
    (same GOARCH, Windows build ≤ host's, the host's build first).
``moby-containerd``
    moby with the containerd image store (``daemon/containerd/image_pull.go``):
    ``Only(hostPlatformSpec())`` (DefaultSpec plus the amd64 level) through the containerd
    client on every OS, Windows included (containerd/platforms rc.5's LTSC floor).
``containerd``
    ``client.Pull`` without a platform (ctr, the CRI plugin): ``platforms.Default()`` —
    ``Only(DefaultSpec())`` with no amd64 level on Linux, ``Ordered(host, linux/arch)`` on
    macOS/FreeBSD, the exact host with newest ``os.version`` first on Windows;
    platform-less entries last (``core/images/handlers.go: FilterPlatforms/LimitManifests``).
    containerd 2.x: containerd/platforms v1.0.0-rc.4's LTSC floor.
``containerd-strict``
    ``platforms.OnlyStrict`` (``DefaultStrict()``, which nerdctl uses when no platform is
    given): the normalized host only — no ``386`` on amd64, no older arm variants.
``podman``, ``podman-4.3``
    podman and buildah (containers/common ``libimage``): containerd's ``Normalize`` of the
    requested os/arch/variant (``armhf`` → arm/v7), then containers/image's exact wanted
    platforms (below). ``podman-4.3`` is Debian 12's (containers/image 5.23.1).
``skopeo``, ``skopeo-1.9`` (alias ``containers-image``)
    skopeo (``internal/pkg/platform/platform_matcher.go``,
    ``internal/manifest/{docker_schema2_list,oci_index}.go``): an ordered list of exact
    ``{os, arch, variant}`` wanted platforms from the ``--override-*`` strings as given; no
    aliases and no cross-architecture fallback. A Docker list is searched wanted-platform
    first; an OCI index ranks by wanted position, then (current only) zstd/zstd:chunked
    annotations, then list order, and accepts platform-less entries last. The current
    library walks amd64 ``v4 → v3 → v2``; ``skopeo-1.9`` (5.23.1) has no amd64 levels.
``full``
    fakeregistry's own strict reading: moby's fallbacks, and *every* field counts —
    Windows ``os.version`` (A6), ``os.features`` and CPU ``features`` must be offered by the
    host; attestation entries are never picked.

Entries that are attestations (annotation ``vnd.docker.reference.type:
attestation-manifest``, platform ``unknown/unknown``) lose on their platform in every
engine; candidates say so. :func:`select_manifest` looks at one level: when the chosen
descriptor is itself an index, the caller fetches it and calls :func:`select_manifest`
again (moby and containerd both recurse with the same platform). A platform-less pick is
checked against the image config by containerd (``images.Manifest``) — also the caller's job.

This module holds the results (:class:`Selection`, :class:`Candidate`, :class:`NoMatchingManifest`)
and the entry point; the index is read by :mod:`fakeregistry.engine.index`, the matchers are
:mod:`fakeregistry.platforms.match` and the Windows rules :mod:`fakeregistry.platforms.windows`.
Pure, standard library only (plus :mod:`fakeregistry.platforms` and :mod:`fakeregistry.rules`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fakeregistry.engine.index import load_index
from fakeregistry.engine.profiles import ENGINES, RequestSyntax, describe_engine
from fakeregistry.engine.profiles import engine as _engine
from fakeregistry.engine.selectors.containers_image import literal_platform
from fakeregistry.platforms.platform import Platform
from fakeregistry.platforms.windows import windows_compatible
from fakeregistry.rules.annotations import ATTESTATION_ANNOTATION
from fakeregistry.rules.errors import FakeRegistryError

__all__ = [
    "ATTESTATION_ANNOTATION",
    "ENGINES",
    "Candidate",
    "NoMatchingManifest",
    "Selection",
    "describe_engine",
    "select_manifest",
    "windows_compatible",
]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One ``manifests[]`` entry as an engine saw it.

    ``rank`` is the entry's place in the engine's order of preference (0 = what it pulls),
    ``None`` when the engine rejects it; ``reason`` says why, in words.
    """

    position: int
    descriptor: dict[str, Any]
    platform: Platform | None
    rank: int | None
    reason: str

    @property
    def accepted(self) -> bool:
        """True when the engine would consider this entry at all."""
        return self.rank is not None


@dataclass(frozen=True, slots=True)
class Selection:
    """What an engine pulls from an index, and how it got there.

    ``candidates`` lists the accepted entries in the engine's order of preference (the first
    is the pick), then the rejected ones in document order. ``wanted`` is the platform the
    engine looked for after applying its defaults (e.g. moby's host with amd64 level).
    """

    engine: str
    wanted: Platform
    descriptor: dict[str, Any]
    candidates: tuple[Candidate, ...]
    reason: str

    @property
    def chosen(self) -> Candidate:
        """The picked entry (``candidates[0]``)."""
        return self.candidates[0]

    @property
    def digest(self) -> str:
        """The picked descriptor's digest (``""`` if it has none)."""
        value = self.descriptor.get("digest", "")
        return value if isinstance(value, str) else ""

    @property
    def platform(self) -> Platform | None:
        """The picked entry's platform, ``None`` for a platform-less entry."""
        return self.chosen.platform


class NoMatchingManifest(FakeRegistryError):
    """No entry of the index suits the engine; ``str(exc)`` is the engine's own message.

    ``messages`` holds the texts other versions or front-ends of the same engine print (e.g.
    moby's containerd image store, the docker CLI prefix); ``candidates`` every entry with the
    reason it was rejected.
    """

    def __init__(
        self,
        message: str,
        *,
        engine: str,
        wanted: Platform,
        candidates: Sequence[Candidate] = (),
        messages: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.engine = engine
        self.wanted = wanted
        self.candidates = tuple(candidates)
        self.messages: dict[str, str] = dict(messages or {})


def select_manifest(
    index: bytes | str | Mapping[str, Any],
    host: Platform | str,
    engine: str = "moby",
    *,
    requested: Platform | str | None = None,
) -> Selection:
    """Pick the manifest *engine* pulls from *index* on *host*.

    - *index*: the index / manifest list document (bytes, text or parsed JSON). One level
      only: if the pick is itself an index, fetch it and call again.
    - *host*: the machine the engine runs on, a :class:`Platform` (see
      :meth:`Platform.host`) or a specifier such as ``"linux/arm64/v8"`` or
      ``"linux/amd64/v3"`` (an amd64 level only moby and ``full`` use).
    - *engine*: one of :data:`ENGINES` (or an alias such as ``containers-image``).
    - *requested*: what the user asked for (``docker pull --platform``, ``ctr pull
      --platform``, ``podman pull --os/--arch/--variant``, ``skopeo --override-*``). For
      docker, moby and containerd a string is a containerd specifier, parsed on the host as
      the daemon does; for podman and skopeo it is ``os/arch[/variant]`` taken as given (the
      three flags; an empty part is a flag not given). Affects the error text too.

    Returns a :class:`Selection`; raises :class:`NoMatchingManifest` with the engine's
    message, :class:`ValueError` for an unknown engine or a malformed index.

    >>> amd64 = {"os": "linux", "architecture": "amd64"}
    >>> idx = {"manifests": [{"digest": "sha256:1", "platform": amd64}]}
    >>> select_manifest(idx, "linux/arm64/v8", engine="moby")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fakeregistry.engine.selection.NoMatchingManifest: no matching manifest for linux/arm64/v8 ...
    """
    profile = _engine(engine)
    engine = profile.name  # an alias (containers-image) answers with its profile's name
    host_platform = Platform.parse(host) if isinstance(host, str) else host
    wanted: Platform | None
    if not isinstance(requested, str):
        wanted = requested
    elif profile.request_syntax is RequestSyntax.FLAGS:
        wanted = literal_platform(requested)
    else:
        wanted = Platform.parse(requested, host=host_platform)
    media_type, entries = load_index(index)
    outcome = profile.select(entries, host_platform, wanted, media_type)
    ranked = [
        Candidate(entry.position, entry.descriptor, entry.platform, rank, why)
        for rank, (entry, why) in enumerate(outcome.accepted)
    ]
    accepted_positions = {c.position for c in ranked}
    rejected = [
        Candidate(
            entry.position,
            entry.descriptor,
            entry.platform,
            None,
            outcome.rejected.get(entry.position, "not considered"),
        )
        for entry in entries
        if entry.position not in accepted_positions
    ]
    candidates = tuple(ranked + rejected)
    if not ranked:
        raise NoMatchingManifest(
            outcome.message,
            engine=engine,
            wanted=outcome.wanted,
            candidates=candidates,
            messages=outcome.messages,
        )
    chosen_entry = outcome.accepted[0][0]
    reason = (
        f"{engine} picks {chosen_entry.describe()}: {ranked[0].reason} "
        f"({len(ranked)} of {len(entries)} entries acceptable; {outcome.how})"
    )
    return Selection(engine, outcome.wanted, chosen_entry.descriptor, candidates, reason)
