"""How often each engine profile agrees with the engines' own tests.

The upstream test tables (containerd/platforms ``TestOnly``, ``TestOnlyStrict``,
``TestCompareOSFeatures``, ``Test_PlatformCompat``; containers/image ``TestWantedPlatforms``
and ``TestMatchesPlatform``; containers/common ``TestNormalizePlatform``) are carried as JSON
under ``fixtures/upstream/<project>-<version>/<file>.<test>.json``, each with the upstream
repository, version, commit and file it came from. :func:`run` turns every case into one or
more index selections and asks every profile; a profile *agrees* when it picks what the
upstream test says::

    >>> table = Table("t", {}, "match", [{"wanted": "linux/arm64", "candidate": "linux/arm/v7",
    ...                                    "match": True}])
    >>> [(p, tried, agreed) for p, tried, agreed in tally([table], ["moby", "skopeo"])]
    [('moby', 1, 1), ('skopeo', 1, 0)]

How a case becomes a selection, by ``kind``:

- ``match`` (``TestOnly``, ``TestOnlyStrict``): an index holding ``Parse(candidate)`` alone,
  ``wanted`` requested on a ``Parse(wanted)`` host; agreed when "picked" equals ``match``.
- ``order`` (``TestCompareOSFeatures``): the index holds ``platforms`` in order; agreed when
  the pick is ``expected[0]``, the platform upstream sorts first.
- ``windows-compat`` (``Test_PlatformCompat``): a ``windows(10.0.<host_build>)/amd64`` host,
  nothing requested, an index holding one ``windows(10.0.<image_build>)/amd64`` image.
- ``wanted`` (``TestWantedPlatforms``): for each position *i* of ``expected``, an index of
  ``expected[i:]`` in reverse order; agreed when the pick is ``expected[i]``.
- ``matches-platform`` (``TestMatchesPlatform``): an index holding ``image``, ``wanted``
  requested.
- ``normalize`` (libimage ``TestNormalizePlatform``): not a selection; tried only by the
  profiles that normalise a request that way (``podman``, ``podman-4.3``).

A requested platform is given the way each profile's users type it (``Engine.request_syntax``):
a containerd specifier, or ``os/arch/variant`` as three flags. ``docker-1.10`` has no
``--platform``: it is run on a host of the requested platform instead. The host is
``linux/amd64`` where the case names none (the machine upstream's CI runs on).

Run ``python -m fakeregistry.engine.agreement [fixtures/upstream]`` (or
``scripts/profile-agreement``) for the table.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakeregistry.engine.profiles import ENGINES, RequestSyntax, engine
from fakeregistry.engine.selection import NoMatchingManifest, select_manifest
from fakeregistry.engine.selectors.containers_image import (
    CURRENT,
    V5_23,
    libimage_normalize,
)
from fakeregistry.platforms.platform import Platform

__all__ = ["Table", "agreement", "load_tables", "main", "render", "run", "tally"]

_MACHINE = Platform("linux", "amd64")
_LIBIMAGE = {"podman": CURRENT, "podman-4.3": V5_23}


@dataclass(frozen=True, slots=True)
class Table:
    """One upstream test's cases: ``name`` is its path under ``fixtures/upstream``."""

    name: str
    upstream: Mapping[str, Any]
    kind: str
    cases: Sequence[Mapping[str, Any]]


def load_tables(root: str | Path) -> list[Table]:
    """Every ``*.json`` table under *root*, sorted by path."""
    base = Path(root)
    tables = []
    for path in sorted(base.rglob("*.json")):
        document = json.loads(path.read_text())
        tables.append(
            Table(
                path.relative_to(base).as_posix(),
                document["upstream"],
                document["kind"],
                document["cases"],
            )
        )
    return tables


def _index(platforms: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    manifests = [
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": f"sha256:{i}",
            "size": 1,
            "platform": dict(p),
        }
        for i, p in enumerate(platforms)
    ]
    return {"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}


def _flags(os_name: str, arch: str, variant: str) -> Platform:
    return Platform(os_name, arch, variant)


def _pick(
    profile: str,
    document: Mapping[str, Any],
    *,
    wanted: str | None,
    flags: Platform | None,
    host: Platform | None = None,
) -> int | None:
    """The position *profile* picks when asked for *wanted* (its own syntax), or None."""
    record = engine(profile)
    requested: Platform | str | None
    if record.name == "docker-1.10":
        if host is None:
            if flags is not None:
                host = flags
            elif wanted is not None:
                host = Platform.parse(wanted, host=_MACHINE)
        requested = None
    elif record.request_syntax is RequestSyntax.FLAGS:
        requested = flags
    else:
        requested = wanted
    if host is None:
        host = Platform.parse(wanted, host=_MACHINE) if wanted is not None else _MACHINE
    try:
        selection = select_manifest(document, host, profile, requested=requested)
    except NoMatchingManifest:
        return None
    return int(selection.digest.removeprefix("sha256:"))


def _spec(p: Mapping[str, str]) -> str:
    return "/".join(v for v in (p["os"], p["architecture"], p["variant"]) if v)


def _flags_of(spec: str) -> Platform:
    parts = spec.split("/")
    return _flags(parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "")


def _checks(table: Table, profile: str) -> list[bool]:
    """One bool per check: did *profile* agree?"""
    out: list[bool] = []
    for case in table.cases:
        if table.kind == "match":
            document = _index([Platform.parse(case["candidate"], host=_MACHINE).to_json()])
            wanted = case["wanted"]
            picked = _pick(profile, document, wanted=wanted, flags=_flags_of(wanted))
            out.append((picked == 0) == case["match"])
        elif table.kind == "order":
            platforms = case["platforms"]
            document = _index(Platform.parse(p, host=_MACHINE).to_json() for p in platforms)
            wanted = case["wanted"]
            picked = _pick(profile, document, wanted=wanted, flags=_flags_of(wanted))
            out.append(picked is not None and platforms[picked] == case["expected"][0])
        elif table.kind == "windows-compat":
            host = Platform("windows", "amd64", os_version=f"10.0.{case['host_build']}")
            image = Platform("windows", "amd64", os_version=f"10.0.{case['image_build']}")
            document = _index([image.to_json()])
            picked = _pick(profile, document, wanted=None, flags=None, host=host)
            out.append((picked == 0) == case["compatible"])
        elif table.kind == "wanted":
            expected = case["expected"]
            flags = _flags(case["os"], case["architecture"], case["variant"])
            wanted = _spec(case)
            for i in range(len(expected)):
                rest = list(reversed(expected[i:]))
                document = _index({k: v for k, v in p.items() if v} for p in rest)
                picked = _pick(profile, document, wanted=wanted, flags=flags, host=_MACHINE)
                out.append(picked is not None and rest[picked] == expected[i])
        elif table.kind == "matches-platform":
            candidate = {k: v for k, v in case["image"].items() if v}
            document = _index([candidate])
            w = case["wanted"]
            flags = _flags(w["os"], w["architecture"], w["variant"])
            picked = _pick(profile, document, wanted=_spec(w), flags=flags, host=_MACHINE)
            out.append((picked == 0) == case["match"])
        elif table.kind == "normalize":
            library = _LIBIMAGE.get(engine(profile).name)
            if library is None:
                continue  # not this profile's business: only libimage normalises a request
            raw = _flags(*case["input"])
            got = libimage_normalize(raw, _MACHINE, library)
            out.append([got.os, got.architecture, got.variant] == list(case["expected"]))
        else:
            raise ValueError(f"{table.name}: unknown kind {table.kind!r}")
    return out


def run(
    tables: Sequence[Table], profiles: Sequence[str] = ENGINES
) -> dict[str, dict[str, list[bool]]]:
    """``{profile: {table name: [agreed, ...]}}`` for every profile and table."""
    return {p: {t.name: _checks(t, p) for t in tables} for p in profiles}


def tally(tables: Sequence[Table], profiles: Sequence[str] = ENGINES) -> list[tuple[str, int, int]]:
    """``(profile, cases tried, agreed)`` over all *tables*."""
    results = run(tables, profiles)
    return [
        (p, sum(len(v) for v in per.values()), sum(sum(v) for v in per.values()))
        for p, per in results.items()
    ]


def agreement(
    tables: Sequence[Table], profiles: Sequence[str] = ENGINES
) -> dict[str, dict[str, tuple[int, int]]]:
    """``{profile: {table name: (tried, agreed)}}``."""
    return {
        p: {name: (len(v), sum(v)) for name, v in per.items()}
        for p, per in run(tables, profiles).items()
    }


def _short(name: str) -> str:
    directory, _, file = name.partition("/")
    return f"{directory} {file.removesuffix('.json').rsplit('.', 1)[-1]}"


def render(tables: Sequence[Table], profiles: Sequence[str] = ENGINES) -> str:
    """A Markdown table: one row per profile, ``agreed/tried`` per upstream test and in all."""
    counts = agreement(tables, profiles)
    header = ["profile", *(_short(t.name) for t in tables), "total"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for p in profiles:
        cells = []
        tried_all = agreed_all = 0
        for t in tables:
            tried, agreed = counts[p][t.name]
            tried_all += tried
            agreed_all += agreed
            cells.append(f"{agreed}/{tried}" if tried else "—")
        lines.append(f"| {p} | " + " | ".join(cells) + f" | {agreed_all}/{tried_all} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("root", nargs="?", default="fixtures/upstream")
    parser.add_argument(
        "--json", action="store_true", help="print {profile: {table: [tried, agreed]}}"
    )
    args = parser.parse_args(argv)
    tables = load_tables(args.root)
    if args.json:
        print(json.dumps(agreement(tables), indent=2))
    else:
        print(render(tables))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
