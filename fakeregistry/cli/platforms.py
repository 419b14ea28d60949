"""``fakeregistry platforms``: the engine profiles, the upstream version each follows, and what
this machine is to each of them."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_platforms_command", "run_platforms"]


def add_platforms_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    platforms = commands.add_parser(
        "platforms", help="the engine profiles, and what this machine is to each of them"
    )
    platforms.add_argument(
        "--host", action="store_true", help="show this machine's platform, per engine"
    )
    platforms.add_argument("--json", action="store_true", help="print JSON")


def run_platforms(args: argparse.Namespace) -> int:
    from fakeregistry.engine.profiles import ALIASES, engine
    from fakeregistry.engine.selection import (
        ENGINES,
        NoMatchingManifest,
        describe_engine,
        select_manifest,
    )
    from fakeregistry.platforms.platform import Platform

    if not args.host:
        if args.json:
            profiles = {
                name: {
                    "description": describe_engine(name),
                    "upstream": engine(name).upstream,
                }
                for name in ENGINES
            }
            print(json.dumps({"engines": profiles, "aliases": dict(ALIASES)}, indent=2))
        else:
            for name in ENGINES:
                print(describe_engine(name))
                print(f"    upstream: {engine(name).upstream}")
            for alias, target in ALIASES.items():
                print(f"alias {alias}: {target}")
        return 0
    host = Platform.host()
    engines: dict[str, dict[str, str]] = {}
    for name in ENGINES:
        # An empty index matches nothing: the error says what the engine looked for.
        try:
            select_manifest({"manifests": []}, host, name)
        except NoMatchingManifest as exc:
            engines[name] = {
                "wanted": exc.wanted.format_all(),
                "message": exc.message,
                "description": describe_engine(name),
                "upstream": engine(name).upstream,
            }
    if args.json:
        document = {
            "host": {"platform": host.format_all(), **host.to_json()},
            "engines": engines,
        }
        print(json.dumps(document, indent=2))
        return 0
    print(f"This machine: {host.format_all()}")
    if host.features:
        shown = " ".join(host.features[:12]) + (" …" if len(host.features) > 12 else "")
        print(f"CPU features: {len(host.features)} ({shown})")
    print("Per engine, the platform it looks for here:")
    width = max(len(name) for name in ENGINES)
    for name, info in engines.items():
        print(f"  {name:<{width}}  {info['wanted']}")
    print("Engines:")
    for name in ENGINES:
        print(f"  {describe_engine(name)}")
        print(f"      upstream: {engine(name).upstream}")
    return 0
