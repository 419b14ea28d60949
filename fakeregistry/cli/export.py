"""``fakeregistry export REF... --output DIR|FILE.tar``: images from any registry written as an
OCI image layout (all platforms of a list; referrers with ``--referrers``) that skopeo, umoci
and ``fakeregistry serve --seed`` read."""

from __future__ import annotations

import argparse
import asyncio
import sys

from fakeregistry.cli.common import (
    UsageError,
    add_registry_arguments,
    one_line,
    registry_connection,
)
from fakeregistry.rules.units import format_size

__all__ = ["add_export_command", "run_export"]


def add_export_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = commands.add_parser(
        "export",
        help="write images from any registry into an OCI image layout (directory or .tar)",
        description="Fetch each REF as served (exact bytes) with every platform of a list, "
        "the configs and layers, and with --referrers the manifests that refer to them; write "
        "an OCI image layout into DIR, or a tarball of one when the output ends in .tar.",
    )
    export.add_argument("refs", nargs="+", metavar="REF", help="e.g. 127.0.0.1:5000/demo:latest")
    export.add_argument(
        "--output", "-o", required=True, metavar="DIR|FILE.tar", help="where to write the layout"
    )
    export.add_argument(
        "--referrers",
        action="store_true",
        help="also export the manifests whose subject is an exported manifest (signatures, "
        "SBOMs), recursively",
    )
    add_registry_arguments(export)


def run_export(args: argparse.Namespace) -> int:
    from fakeregistry.tools.export import export_images

    try:
        connection = registry_connection(args)
    except UsageError as exc:
        print(f"fakeregistry export: {exc}", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(
            export_images(args.refs, args.output, referrers=args.referrers, connection=connection)
        )
    except KeyboardInterrupt:
        print("fakeregistry export: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every failure is one readable line, never a traceback
        print(f"fakeregistry export: {one_line(exc)}", file=sys.stderr)
        return 1
    print(
        f"Exported {', '.join(result.names)} to {result.output}: {result.manifests} manifests, "
        f"{result.blobs} blobs ({format_size(result.bytes)})"
    )
    return 0
