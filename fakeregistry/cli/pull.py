"""``fakeregistry pull``: an image pulled from any registry the way an engine would (simulated,
nothing runs), with a progress bar on a terminal and a summary or JSON at the end."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from fakeregistry.cli.common import (
    UsageError,
    add_registry_arguments,
    one_line,
    registry_connection,
)
from fakeregistry.rules.units import format_size
from fakeregistry.trust import commands as trust_commands

__all__ = ["add_pull_command", "run_pull"]


def add_pull_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from fakeregistry.engine.profiles import ALIASES
    from fakeregistry.engine.selection import ENGINES

    pull = commands.add_parser(
        "pull",
        help="pull an image from any registry the way an engine would (simulated, nothing runs)",
        description="Resolve REF, pick a manifest with ENGINE's rules, fetch and verify the "
        "config and layers. Exit status 1, with the engine's own message, when nothing matches.",
    )
    pull.add_argument("ref", metavar="REF", help="image reference, e.g. 127.0.0.1:5000/demo:latest")
    pull.add_argument(
        "--platform", metavar="P", help="the platform asked for, e.g. linux/arm/v7 (default: host)"
    )
    pull.add_argument(
        "--engine",
        choices=(*ENGINES, *ALIASES),
        default="moby",
        help="whose rules to follow (default moby)",
    )
    pull.add_argument(
        "--host-platform",
        metavar="P",
        help="simulate this host, e.g. linux/arm64/v8 (default: this machine)",
    )
    add_registry_arguments(pull)
    trust_commands.add_pull_arguments(pull)
    pull.add_argument("--json", action="store_true", help="print the result as JSON")
    pull.add_argument(
        "--output", metavar="DIR", help="write the image as an OCI image layout into DIR"
    )


class _ProgressBar:
    """One line per layer on a terminal: ``sha256:0123… [#####-----]  50% 1.2 MB/2.4 MB``."""

    def __init__(self, stream: Any, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self._last: tuple[str, int] | None = None

    def __call__(self, event: Any) -> None:
        fraction = min(event.done / event.total, 1.0) if event.total else 1.0
        shown = (event.digest, int(fraction * 100))
        if shown == self._last and not event.finished:
            return
        self._last = shown
        filled = int(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(
            f"\r{event.digest[:19]}… [{bar}] {fraction:4.0%} "
            f"{format_size(event.done)}/{format_size(event.total)} "
            f"({event.index + 1}/{event.count})"
        )
        if event.finished:
            self.stream.write("\n")
        self.stream.flush()


def _pull_summary(result: Any) -> str:
    lines = [
        f"Pulled {result.reference} as {result.engine} on {result.host.format_all()}"
        + (f" asking for {result.requested.format_all()}" if result.requested else ""),
        f"Digest:   {result.digest} ({result.media_type})",
        f"Manifest: {result.manifest.digest} ({result.manifest.media_type})",
        f"Platform: {result.platform.format_all() if result.platform else 'unknown'}",
    ]
    for step in result.steps:
        lines.append(f"Chosen:   {step.selection.reason}")
    lines.append(f"Config:   {result.config_descriptor.digest} ({result.config_descriptor.size} B)")
    lines.append(f"Layers:   {len(result.layers)} ({format_size(result.size)} with the config)")
    for number, layer in enumerate(result.layers, 1):
        where = "" if layer.data is not None else " (external, not fetched)"
        lines.append(
            f"  {number}. {layer.descriptor.digest} {format_size(layer.descriptor.size)} "
            f"{layer.descriptor.media_type}{where}"
        )
    lines.extend(f"Skipped:  {note}" for note in result.skipped)
    lines.extend(trust_commands.summary_lines(result.trust))
    lines.extend(f"WARNING:  {warning}" for warning in result.warnings)
    lines.append(f"Requests: {len(result.trace)}")
    if result.output is not None:
        lines.append(f"Output:   {result.output} (OCI image layout)")
    return "\n".join(lines)


def run_pull(args: argparse.Namespace) -> int:
    from fakeregistry.engine.pull import pull
    from fakeregistry.engine.selection import NoMatchingManifest

    try:
        connection = registry_connection(args)
    except UsageError as exc:
        print(f"fakeregistry pull: {exc}", file=sys.stderr)
        return 2
    progress = _ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    try:
        result = asyncio.run(
            pull(
                args.ref,
                platform=args.platform,
                engine=args.engine,
                host=args.host_platform,
                output=args.output,
                progress=progress,
                policy=args.policy,
                verify_target=args.verify_target,
                connection=connection,
            )
        )
    except NoMatchingManifest as exc:
        if args.json:
            document = {
                "error": exc.message,
                "engine": exc.engine,
                "wanted": exc.wanted.format_all(),
                "candidates": [
                    {
                        "position": c.position,
                        "digest": c.descriptor.get("digest"),
                        "platform": c.platform.format_all() if c.platform else None,
                        "reason": c.reason,
                    }
                    for c in exc.candidates
                ],
            }
            print(json.dumps(document, indent=2))
        print(exc.message, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("fakeregistry pull: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every failure is one readable line, never a traceback
        print(f"fakeregistry pull: {one_line(exc)}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(_pull_summary(result))
    return 0
