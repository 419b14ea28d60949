"""``fakeregistry manifest``: manifest-tool's ``push from-spec``, ``push from-args`` and
``inspect``, against any registry."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from fakeregistry.cli.common import (
    UsageError,
    add_registry_arguments,
    one_line,
    registry_connection,
)

__all__ = ["add_manifest_commands", "run_manifest"]


def add_manifest_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    manifest = commands.add_parser(
        "manifest",
        help="push a multi-platform manifest list from a YAML spec (manifest-tool), inspect one",
        description="manifest-tool's push and inspect, against any registry.",
    )
    actions = manifest.add_subparsers(dest="manifest_command", required=True, metavar="ACTION")
    push = actions.add_parser(
        "push",
        help="push a Docker manifest list or OCI index over per-platform images",
        description="Check every member (same registry host, valid os/arch/variant, no two "
        "with the same platform), bring members from other repositories into the target's by "
        "blob mount, then push the list and print 'Digest: <digest> <length>'. Nothing is "
        "pushed when a check fails.",
    )
    list_types = ("docker", "oci")
    type_help = "docker: a manifest list (default); oci: an OCI index (annotations need it)"
    push.add_argument("--type", dest="push_type", choices=list_types, help=type_help)
    sources = push.add_subparsers(dest="push_source", required=True, metavar="SOURCE")
    from_spec = sources.add_parser(
        "from-spec",
        help="members from a manifest-tool YAML spec",
        description=_SPEC_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from_spec.add_argument("spec", metavar="SPEC.yaml", help="the manifest-tool spec")
    from_args = sources.add_parser(
        "from-args",
        help="members named by a template per platform",
        description="Each platform os/arch[/variant] names its image by --template: the first "
        "ARCH becomes the architecture, then the first OS the os, then the first VARIANT the "
        "variant (or nothing).",
    )
    from_args.add_argument(
        "--platforms",
        action="append",
        required=True,
        metavar="P,…",
        help="platforms, e.g. linux/amd64,linux/arm/v7 (comma-separated or repeated)",
    )
    from_args.add_argument(
        "--template", required=True, metavar="T", help="member image pattern, e.g. foo-ARCH"
    )
    from_args.add_argument("--target", required=True, metavar="REF", help="the list's name:tag")
    from_args.add_argument("--tags", action="append", default=[], metavar="T,…", help="extra tags")
    from_args.add_argument(
        "--annotations",
        action="append",
        default=[],
        metavar="K=V,…",
        help="index annotations (--type oci only)",
    )
    for leaf in (from_spec, from_args):
        leaf.add_argument("--type", choices=list_types, help=type_help)
        leaf.add_argument(
            "--ignore-missing",
            action="store_true",
            help="skip members that are not found (with a warning) instead of failing",
        )
        add_registry_arguments(leaf)
    inspect = actions.add_parser(
        "inspect",
        help="show a list/index entry by entry, or an image's platform and layers",
        description="For a list/index: every entry's platform, media type, size, digest and "
        "layers, attestations marked. For an image: its config's platform and its layers.",
    )
    inspect.add_argument("ref", metavar="REF", help="name:tag or name@digest")
    shown = inspect.add_mutually_exclusive_group()
    shown.add_argument("--raw", action="store_true", help="the manifest's bytes as served")
    shown.add_argument("--json", action="store_true", help="the result as JSON")
    inspect.add_argument("--signatures", action="store_true", help="list the signatures too")
    inspect.add_argument("--key", action="append", default=[], help="check them with PUB.pem")
    add_registry_arguments(inspect)


_SPEC_HELP = """\
The spec, as manifest-tool reads it:
  image: 127.0.0.1:5000/demo:1.0        # the list to push
  tags: [latest]                       # extra tags
  annotations: {k: v}                  # --type oci only
  manifests:
    - image: 127.0.0.1:5000/demo:1.0-arm64
      platform: {os: linux, architecture: arm64, variant: v8}
Platform keys: architecture, os, variant, osversion, osfeatures (os.version and os.features
are honoured with a warning); left out, the platform comes from the image's config."""


def run_manifest(args: argparse.Namespace) -> int:
    from fakeregistry.tools import manifesttool

    command = f"fakeregistry manifest {args.manifest_command}"
    list_type: manifesttool.ListType = "docker"
    try:
        connection = registry_connection(args)
        if args.manifest_command == "push":
            if args.push_type and args.type and args.push_type != args.type:
                raise UsageError(f"--type {args.push_type} and --type {args.type} disagree")
            if (args.type or args.push_type) == "oci":
                list_type = "oci"
    except UsageError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.manifest_command == "inspect":
            result = asyncio.run(
                manifesttool.inspect(
                    args.ref, signatures=args.signatures, keys=args.key, connection=connection
                )
            )
            if args.raw:
                sys.stdout.buffer.write(result.raw)
                sys.stdout.flush()
            elif args.json:
                print(json.dumps(result.to_json(), indent=2))
            else:
                print(manifesttool.format_inspect(result))
            return 0
        if args.push_source == "from-spec":
            spec = manifesttool.load_spec(args.spec)
        else:
            spec = manifesttool.spec_from_args(
                args.platforms,
                args.template,
                args.target,
                tags=args.tags,
                annotations=args.annotations,
            )
        for warning in spec.warnings:
            print(f"{command}: warning: {warning}", file=sys.stderr)
        pushed = asyncio.run(
            manifesttool.push_manifest_list(
                spec,
                media_type=list_type,
                ignore_missing=args.ignore_missing,
                connection=connection,
            )
        )
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every failure is one readable line, never a traceback
        print(f"{command}: {one_line(exc)}", file=sys.stderr)
        return 1
    for warning in pushed.warnings:
        if warning not in spec.warnings:
            print(f"{command}: warning: {warning}", file=sys.stderr)
    print(f"Digest: {pushed.digest} {pushed.length}")
    return 0
