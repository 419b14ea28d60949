"""What a selector answers (:class:`Outcome`), and the pieces the selectors share.

:func:`sorted_by_comparer` is containerd's ``FilterPlatforms`` + ``LimitManifests`` (and moby's
``filterManifests``) over a :class:`~fakeregistry.platforms.match.Comparer`; the message
helpers spell the engines' errors once::

    >>> moby_message(Platform("linux", "arm64", "v8"))
    'no matching manifest for linux/arm64/v8 in the manifest list entries'
    >>> docker_messages("no match")
    {'docker-cli': 'Error response from daemon: no match'}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fakeregistry.engine.index import Entry
from fakeregistry.platforms.match import Comparer
from fakeregistry.platforms.platform import Platform
from fakeregistry.rules.annotations import ATTESTATION_ANNOTATION, ATTESTATION_VALUE

__all__ = [
    "Outcome",
    "Selector",
    "docker_messages",
    "moby_message",
    "rejection",
    "sorted_by_comparer",
]


@dataclass(slots=True)
class Outcome:
    """A selector's answer for one index.

    ``accepted`` is in the engine's order of preference, each entry with the reason;
    ``rejected`` maps a position to why it was rejected; ``message`` is the engine's error
    when nothing is accepted and ``messages`` the texts other versions or front-ends print;
    ``how`` says in a few words what the engine looked for.
    """

    wanted: Platform
    accepted: list[tuple[Entry, str]] = field(default_factory=list)  # preference order
    rejected: dict[int, str] = field(default_factory=dict)  # position -> reason
    message: str = ""
    messages: dict[str, str] = field(default_factory=dict)
    how: str = ""


# (entries, host, requested, index media type) -> outcome
Selector = Callable[[list[Entry], Platform, Platform | None, str], Outcome]


def sorted_by_comparer(
    entries: list[Entry], comparer: Comparer, *, platformless: Callable[[Entry], bool]
) -> tuple[list[tuple[Entry, str]], dict[int, str]]:
    """containerd ``FilterPlatforms`` + ``LimitManifests`` (moby ``filterManifests``): keep
    platform-less and matching entries, stable-sort by Less, platform-less last.

    Less (compare.go ``orderedPlatformComparer``, rc.3+): the earlier matcher wins; on a tie
    the entry with more ``os.features`` wins; otherwise list order (``sort.SliceStable``).
    """
    keyed: list[tuple[tuple[int, int, int], Entry, str]] = []
    rejected: dict[int, str] = {}
    for entry in entries:
        if platformless(entry):
            keyed.append(((1, 0, 0), entry, "no platform: kept by the filter, tried last"))
            continue
        candidate = entry.platform_or_zero()
        rank = comparer.rank(candidate)
        if rank is None:
            rejected[entry.position] = rejection(entry, comparer.why_not(candidate))
            continue
        what = comparer.label(rank)
        how = "exact match" if rank == 0 else f"fallback #{rank} ({what})"
        keyed.append(((0, rank, -len(candidate.os_features)), entry, f"{how} of {comparer.name}"))
    keyed.sort(key=lambda item: item[0])
    return [(entry, why) for _, entry, why in keyed], rejected


def rejection(entry: Entry, why: str) -> str:
    """*why*, prefixed with "attestation manifest" for an attestation entry."""
    if entry.is_attestation:
        return f"attestation manifest ({ATTESTATION_ANNOTATION}={ATTESTATION_VALUE}): {why}"
    return why


def moby_message(shown: Platform) -> str:
    """moby's ``noMatchesErr`` text for the platform it shows."""
    return f"no matching manifest for {shown.format_all()} in the manifest list entries"


def docker_messages(message: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The docker CLI's rendering of a daemon *message*, plus *extra* variants."""
    out = {"docker-cli": f"Error response from daemon: {message}"}
    out.update(extra or {})
    return out
