"""The engine profiles: one :class:`Engine` record per engine, in one table.

Everything fakeregistry knows about how an engine pulls is a field of its record, like a row
of distribution's error-code table: the one-line summary ``fakeregistry platforms`` prints,
the upstream version it follows, the ``Accept`` list it sends, whether it resolves a tag with
``HEAD`` first, what it does with the image config's platform, how a requested platform is
spelled, and its selector (which manifest of an index it picks,
:mod:`fakeregistry.engine.selectors`)::

    >>> ENGINES[:4]
    ('docker-1.10', 'docker-18.09', 'moby', 'moby-containerd')
    >>> moby = engine("moby")
    >>> moby.head_first, moby.config_check.name, moby.accepts(mt.OCI_INDEX)
    (True, 'WARNED', True)
    >>> engine("docker-1.10").accepts(mt.OCI_INDEX)
    False
    >>> engine("containers-image").name  # an alias
    'skopeo'
    >>> engine("nerdctl")
    Traceback (most recent call last):
    ...
    ValueError: unknown engine 'nerdctl'; known engines: docker-1.10, docker-18.09, moby, ...

Which code each profile follows (``Engine.upstream``; ``docs/platform-rules.md`` A5-A9):

- ``moby`` is moby ``master``'s **graphdriver** puller (``daemon/internal/distribution``:
  ``pull_v2_unix.go``, on Windows ``pull_v2_windows.go``); ``moby-containerd`` is the
  **containerd image store** (``daemon/containerd/image_pull.go``), the default for new
  Docker 29 installs, which matches with ``platforms.Only(hostPlatformSpec())`` on every OS.
  Both vendor containerd/platforms v1.0.0-rc.5.
- ``containerd`` and ``containerd-strict`` follow the containerd release line: containerd 2.x
  with containerd/platforms v1.0.0-rc.4 (also in Docker 29.x). rc.4 and rc.5 differ only in
  the Windows LTSC floor (:func:`fakeregistry.platforms.windows.ltsc_floor`).
- ``podman``/``skopeo`` follow today's containers/image (``go.podman.io/image/v5``, with the
  amd64-level fallback); ``podman-4.3``/``skopeo-1.9`` are Debian 12's packages, on
  containers/image 5.23.1, which has none. podman also normalises the request first (libimage),
  skopeo does not. ``containers-image`` is an alias of ``skopeo`` (:data:`ALIASES`).

``Accept`` lists (from the engines' sources):

- ``docker-1.10``: Docker 1.10-18.05's distribution client sends every type registered with
  ``distribution.RegisterManifestSchema``: schema2, manifest list and schema1 (signed, and
  ``application/json``). **No OCI types**: distribution learned them in July 2018
  (distribution#2076), first shipped with Docker 18.06.
- ``docker-18.09``: the same client with ``ocischema`` and the OCI index registered.
- ``moby``: today's distribution puller: schema2, list, OCI manifest and index, schema1.
- ``moby-containerd``, ``containerd``, ``containerd-strict``: the containerd resolver's fixed
  list, ending in ``*/*``.
- ``podman``, ``skopeo`` and their Debian versions:
  ``manifest.DefaultRequestedManifestMIMETypes``.
- ``full``: the four current manifest and index types.

Tags: Docker 1.10 and containers/image ``GET`` the manifest by tag; Docker 18.06+
(``tagService.Get``), moby and containerd (the resolver) ``HEAD`` the tag first and ``GET`` by
digest.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from fakeregistry.engine.selectors.containerd import (
    containerd,
    containerd_strict,
    moby_containerd_store,
)
from fakeregistry.engine.selectors.containers_image import podman, podman_4_3, skopeo, skopeo_1_9
from fakeregistry.engine.selectors.docker import docker_1_10, docker_18_09, moby
from fakeregistry.engine.selectors.full import full
from fakeregistry.engine.selectors.outcome import Selector
from fakeregistry.rules import mediatypes as mt

__all__ = [
    "ACCEPT_ANY",
    "ALIASES",
    "ENGINES",
    "ENGINE_ACCEPT",
    "PROFILES",
    "ConfigCheck",
    "Engine",
    "RequestSyntax",
    "describe_engine",
    "engine",
]

ACCEPT_ANY = "*/*"


class RequestSyntax(enum.Enum):
    """How a requested platform given as text is read."""

    CONTAINERD = "containerd"
    """containerd's ``platforms.Parse`` (``--platform`` of docker, ctr, nerdctl)."""
    FLAGS = "flags"
    """``os/arch[/variant]`` taken as given: the containers/image tools' three flags
    (:func:`fakeregistry.engine.selectors.containers_image.literal_platform`)."""


class ConfigCheck(enum.Enum):
    """What an engine does with the platform an image's config names."""

    NONE = "none"
    """The config's platform is not looked at."""
    CHECKED = "checked"
    """A platform-less pick whose config names another platform is skipped, and the next
    candidate tried (containerd ``images.Manifest``)."""
    WARNED = "warned"
    """With ``--platform``, a picked image whose config says otherwise is pulled anyway, with
    a warning (moby ``daemon/images/image_pull.go``)."""


@dataclass(frozen=True, slots=True)
class Engine:
    """One engine profile: how that engine pulls."""

    name: str
    summary: str
    """One line: which engine, and its rule in a nutshell."""
    upstream: str
    """The upstream code and version the profile follows."""
    accept: tuple[str, ...]
    """The ``Accept`` list it sends for manifests, in its order."""
    head_first: bool
    """It resolves a tag with ``HEAD``, then fetches the manifest with ``GET`` by digest."""
    config_check: ConfigCheck
    select: Selector
    """Its selector: which entries of an index it accepts, best first."""
    request_syntax: RequestSyntax = RequestSyntax.CONTAINERD
    """How ``select_manifest(..., requested="...")`` reads a requested platform string."""

    def accepts(self, media_type: str) -> bool:
        """Would the engine take a manifest of *media_type* (its Accept list, or ``*/*``)?"""
        return ACCEPT_ANY in self.accept or media_type in self.accept

    def describe(self) -> str:
        """``name: summary``."""
        return f"{self.name}: {self.summary}"


_DOCKER_10 = (mt.DOCKER_MANIFEST, mt.DOCKER_MANIFEST_LIST, mt.DOCKER_SCHEMA1_SIGNED, mt.JSON)
_DOCKER_OCI = (
    mt.DOCKER_MANIFEST,
    mt.DOCKER_MANIFEST_LIST,
    mt.OCI_MANIFEST,
    mt.OCI_INDEX,
    mt.DOCKER_SCHEMA1_SIGNED,
    mt.JSON,
)
_CONTAINERD = (
    mt.DOCKER_MANIFEST,
    mt.DOCKER_MANIFEST_LIST,
    mt.OCI_MANIFEST,
    mt.OCI_INDEX,
    ACCEPT_ANY,
)

_CONTAINERS_IMAGE = (
    mt.OCI_MANIFEST,
    mt.DOCKER_MANIFEST,
    mt.DOCKER_SCHEMA1_SIGNED,
    mt.DOCKER_SCHEMA1,
    mt.DOCKER_MANIFEST_LIST,
    mt.OCI_INDEX,
)
_PLATFORMS_RC4 = "containerd/platforms v1.0.0-rc.4"
_PLATFORMS_RC5 = "containerd/platforms v1.0.0-rc.5"

_TABLE = (
    Engine(
        "docker-1.10",
        "Docker 1.10-18.05: first entry whose os/architecture literally equal the daemon's "
        "GOOS/GOARCH (no aliases, variants or versions)",
        upstream="moby v1.10-v18.05 distribution/pull_v2.go",
        accept=_DOCKER_10,
        head_first=False,
        config_check=ConfigCheck.NONE,
        select=docker_1_10,
    ),
    Engine(
        "docker-18.09",
        "Docker 18.06-20.10: first entry equal to the normalized daemon os/arch/variant; an "
        "arm daemon falls back to any arm entry",
        upstream="moby v18.06-v20.10 distribution/pull_v2_unix.go, containerd 1.2-1.5 platforms",
        accept=_DOCKER_OCI,
        head_first=True,
        config_check=ConfigCheck.WARNED,
        select=docker_18_09,
    ),
    Engine(
        "moby",
        "Docker 23+ graphdriver store: platforms.Only over the host incl. its amd64 level, "
        "platform-less last; Windows: pull_v2_windows.go",
        upstream=f"moby master daemon/internal/distribution (graphdriver), {_PLATFORMS_RC5}",
        accept=_DOCKER_OCI,
        head_first=True,
        config_check=ConfigCheck.WARNED,
        select=moby,
    ),
    Engine(
        "moby-containerd",
        "Docker 24+ containerd image store: Only(hostPlatformSpec()) on every OS incl. "
        "Windows (amd64 level, 386 fallback), platform-less last",
        upstream=f"moby master daemon/containerd/image_pull.go, {_PLATFORMS_RC5}",
        accept=_CONTAINERD,
        head_first=True,
        config_check=ConfigCheck.CHECKED,
        select=moby_containerd_store,
    ),
    Engine(
        "containerd",
        "containerd client.Pull (ctr, CRI): platforms.Default() = Only(host) without amd64 "
        "level, platform-less entries last",
        upstream=f"containerd 2.x client.Pull, {_PLATFORMS_RC4}",
        accept=_CONTAINERD,
        head_first=True,
        config_check=ConfigCheck.CHECKED,
        select=containerd,
    ),
    Engine(
        "containerd-strict",
        "containerd platforms.OnlyStrict (DefaultStrict, nerdctl's default): the normalized "
        "host platform only, no fallbacks",
        upstream=f"containerd 2.x platforms.DefaultStrict, {_PLATFORMS_RC4}",
        accept=_CONTAINERD,
        head_first=True,
        config_check=ConfigCheck.CHECKED,
        select=containerd_strict,
    ),
    Engine(
        "podman",
        "podman/buildah: libimage normalizes the request (armhf -> arm/v7), then exact wanted "
        "platforms; amd64 v4 -> v3 -> v2 -> baseline",
        upstream="go.podman.io/image/v5 (amd64 levels), containers/common libimage",
        accept=_CONTAINERS_IMAGE,
        head_first=False,
        config_check=ConfigCheck.NONE,
        select=podman,
        request_syntax=RequestSyntax.FLAGS,
    ),
    Engine(
        "podman-4.3",
        "Debian 12 podman 4.3/buildah 1.28: libimage-normalized request, exact wanted "
        "platforms, no amd64 levels",
        upstream="containers/image v5.23.1, containers/common v0.50.1 (containerd 1.6 platforms)",
        accept=_CONTAINERS_IMAGE,
        head_first=False,
        config_check=ConfigCheck.NONE,
        select=podman_4_3,
        request_syntax=RequestSyntax.FLAGS,
    ),
    Engine(
        "skopeo",
        "skopeo --override-*: the strings as given (armhf matches nothing), exact wanted "
        "platforms; amd64 v4 -> v3 -> v2 -> baseline",
        upstream="go.podman.io/image/v5 (amd64 levels)",
        accept=_CONTAINERS_IMAGE,
        head_first=False,
        config_check=ConfigCheck.NONE,
        select=skopeo,
        request_syntax=RequestSyntax.FLAGS,
    ),
    Engine(
        "skopeo-1.9",
        "Debian 12 skopeo 1.9: the strings as given, exact wanted platforms, no amd64 levels",
        upstream="containers/image v5.23.1",
        accept=_CONTAINERS_IMAGE,
        head_first=False,
        config_check=ConfigCheck.NONE,
        select=skopeo_1_9,
        request_syntax=RequestSyntax.FLAGS,
    ),
    Engine(
        "full",
        "fakeregistry: moby's fallbacks, and os.version, os.features and CPU features must all "
        "be offered by the host",
        upstream=f"fakeregistry's own reading, {_PLATFORMS_RC5} rules",
        accept=(mt.OCI_INDEX, mt.DOCKER_MANIFEST_LIST, mt.OCI_MANIFEST, mt.DOCKER_MANIFEST),
        head_first=True,
        config_check=ConfigCheck.CHECKED,
        select=full,
    ),
)

PROFILES: Mapping[str, Engine] = MappingProxyType({e.name: e for e in _TABLE})
"""Every profile by name, in the table's order."""
ENGINES: tuple[str, ...] = tuple(PROFILES)
"""The engine names, in the table's order."""
ENGINE_ACCEPT: Mapping[str, tuple[str, ...]] = MappingProxyType({e.name: e.accept for e in _TABLE})
"""Each engine's ``Accept`` list, by name (a view of the table)."""
ALIASES: Mapping[str, str] = MappingProxyType({"containers-image": "skopeo"})
"""Older profile names still accepted: ``containers-image`` was skopeo's strings-as-given
rule with podman's defaults folded in; it now means ``skopeo``."""


def engine(name: str) -> Engine:
    """The profile named *name* (or an alias of it); :class:`ValueError` for an unknown one."""
    profile = PROFILES.get(ALIASES.get(name, name))
    if profile is None:
        raise ValueError(f"unknown engine {name!r}; known engines: {', '.join(ENGINES)}")
    return profile


def describe_engine(name: str) -> str:
    """A one-line description of an engine profile, for ``fakeregistry platforms``.

    >>> describe_engine("moby")[:45]
    'moby: Docker 23+ graphdriver store: platforms'
    """
    return engine(name).describe()
