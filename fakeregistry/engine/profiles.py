"""The engine profiles: one :class:`Engine` record per engine, in one table.

Everything fakeregistry knows about how an engine pulls is a field of its record, like a row
of distribution's error-code table: the one-line summary ``fakeregistry platforms --host``
prints, the ``Accept`` list it sends, whether it resolves a tag with ``HEAD`` first, what it
does with the image config's platform, and its selector (which manifest of an index it
picks, :mod:`fakeregistry.engine.selectors`)::

    >>> ENGINES[:3]
    ('docker-1.10', 'docker-18.09', 'moby')
    >>> moby = engine("moby")
    >>> moby.head_first, moby.config_check.name, moby.accepts(mt.OCI_INDEX)
    (True, 'WARNED', True)
    >>> engine("docker-1.10").accepts(mt.OCI_INDEX)
    False
    >>> engine("podman")
    Traceback (most recent call last):
    ...
    ValueError: unknown engine 'podman'; known engines: docker-1.10, docker-18.09, moby, ...

``Accept`` lists (``docs/platform-rules.md`` A8, from the engines' sources):

- ``docker-1.10``: Docker 1.10-18.05's distribution client sends every type registered with
  ``distribution.RegisterManifestSchema``: schema2, manifest list and schema1 (signed, and
  ``application/json``). **No OCI types**: distribution learned them in July 2018
  (distribution#2076), first shipped with Docker 18.06.
- ``docker-18.09``: the same client with ``ocischema`` and the OCI index registered.
- ``moby``: today's distribution puller: schema2, list, OCI manifest and index, schema1.
- ``containerd``/``containerd-strict``: the containerd resolver's fixed list, ending in ``*/*``.
- ``containers-image``: ``manifest.DefaultRequestedManifestMIMETypes``.
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

from fakeregistry.engine.selectors.containerd import containerd, containerd_strict
from fakeregistry.engine.selectors.containers_image import containers_image
from fakeregistry.engine.selectors.docker import docker_1_10, docker_18_09, moby
from fakeregistry.engine.selectors.full import full
from fakeregistry.engine.selectors.outcome import Selector
from fakeregistry.rules import mediatypes as mt

__all__ = [
    "ACCEPT_ANY",
    "ENGINES",
    "ENGINE_ACCEPT",
    "PROFILES",
    "ConfigCheck",
    "Engine",
    "describe_engine",
    "engine",
]

ACCEPT_ANY = "*/*"


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
    accept: tuple[str, ...]
    """The ``Accept`` list it sends for manifests, in its order."""
    head_first: bool
    """It resolves a tag with ``HEAD``, then fetches the manifest with ``GET`` by digest."""
    config_check: ConfigCheck
    select: Selector
    """Its selector: which entries of an index it accepts, best first."""

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

_TABLE = (
    Engine(
        "docker-1.10",
        "Docker 1.10-18.05: first entry whose os/architecture literally equal the daemon's "
        "GOOS/GOARCH (no aliases, variants or versions)",
        accept=_DOCKER_10,
        head_first=False,
        config_check=ConfigCheck.NONE,
        select=docker_1_10,
    ),
    Engine(
        "docker-18.09",
        "Docker 18.06-20.10: first entry equal to the normalized daemon os/arch/variant; an "
        "arm daemon falls back to any arm entry",
        accept=_DOCKER_OCI,
        head_first=True,
        config_check=ConfigCheck.WARNED,
        select=docker_18_09,
    ),
    Engine(
        "moby",
        "Docker 23+ (moby): containerd platforms.Only over the host incl. its amd64 level, "
        "best fallback first, platform-less entries last",
        accept=_DOCKER_OCI,
        head_first=True,
        config_check=ConfigCheck.WARNED,
        select=moby,
    ),
    Engine(
        "containerd",
        "containerd client.Pull (ctr, CRI): platforms.Default() = Only(host) without amd64 "
        "level, platform-less entries last",
        accept=_CONTAINERD,
        head_first=True,
        config_check=ConfigCheck.CHECKED,
        select=containerd,
    ),
    Engine(
        "containerd-strict",
        "containerd platforms.OnlyStrict (DefaultStrict, nerdctl's default): the normalized "
        "host platform only, no fallbacks",
        accept=_CONTAINERD,
        head_first=True,
        config_check=ConfigCheck.CHECKED,
        select=containerd_strict,
    ),
    Engine(
        "containers-image",
        "skopeo/podman/buildah: exact os/arch/variant strings from an ordered wanted-platform "
        "list; OCI indexes accept platform-less entries last",
        accept=(
            mt.OCI_MANIFEST,
            mt.DOCKER_MANIFEST,
            mt.DOCKER_SCHEMA1_SIGNED,
            mt.DOCKER_SCHEMA1,
            mt.DOCKER_MANIFEST_LIST,
            mt.OCI_INDEX,
        ),
        head_first=False,
        config_check=ConfigCheck.NONE,
        select=containers_image,
    ),
    Engine(
        "full",
        "fakeregistry: moby's fallbacks, and os.version, os.features and CPU features must all "
        "be offered by the host",
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


def engine(name: str) -> Engine:
    """The profile named *name*; :class:`ValueError` for an unknown engine."""
    profile = PROFILES.get(name)
    if profile is None:
        raise ValueError(f"unknown engine {name!r}; known engines: {', '.join(ENGINES)}")
    return profile


def describe_engine(name: str) -> str:
    """A one-line description of an engine profile, for ``fakeregistry platforms --host``.

    >>> describe_engine("moby")[:45]
    'moby: Docker 23+ (moby): containerd platforms'
    """
    return engine(name).describe()
