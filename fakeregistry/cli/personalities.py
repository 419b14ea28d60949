"""``fakeregistry personalities``: each personality, its rules and the date of its facts."""

from __future__ import annotations

import argparse
import json

from fakeregistry.registry.personality import FACTS, NAMES, PERSONALITIES, Personality

__all__ = ["add_personalities_command", "run_personalities"]


def add_personalities_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    command = commands.add_parser(
        "personalities", help="list the registries `serve --personality` can answer like"
    )
    command.add_argument("name", nargs="?", choices=NAMES, help="show only this personality")
    command.add_argument("--json", action="store_true", help="print JSON instead of text")


def _record(personality: Personality) -> dict[str, object]:
    return {
        "name": personality.name,
        "title": personality.title,
        "facts_as_of": personality.as_of,
        "rules": [
            {
                "kind": rule.kind,
                "does": rule.describe(),
                "fact": rule.fact,
                "confidence": FACTS[rule.fact].tag,
                "date": FACTS[rule.fact].date,
            }
            for rule in personality.rules
        ],
    }


def run_personalities(args: argparse.Namespace) -> int:
    chosen = [PERSONALITIES[args.name]] if args.name else list(PERSONALITIES.values())
    if args.json:
        print(json.dumps([_record(p) for p in chosen], indent=2))
        return 0
    for personality in chosen:
        print(f"{personality.name}: {personality.title} (facts as of {personality.as_of})")
        if not personality.rules:
            print("  no rules: the strict distribution-spec core")
        for rule in personality.rules:
            fact = FACTS[rule.fact]
            print(f"  {rule.kind:24} {rule.describe()}  [{rule.fact}, {fact.tag} {fact.date}]")
    print("Citations: docs/personalities.md")
    return 0
