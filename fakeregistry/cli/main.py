"""The ``fakeregistry`` command: its parser, one subcommand per module, and :func:`main`.

Each command lives in its own module (``serve``, ``pull``, ``platforms``, ``manifest``,
``env``) with an ``add_*`` function for its parser and a ``run_*`` function for its work;
``common`` holds the registry flags they share. ``sign``, ``verify`` and ``keygen`` come from
:mod:`fakeregistry.trust.commands`, which is handed the shared flags and connection.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from fakeregistry.cli.common import add_registry_arguments, registry_connection
from fakeregistry.cli.env import add_env_command, run_env
from fakeregistry.cli.export import add_export_command, run_export
from fakeregistry.cli.manifest import add_manifest_commands, run_manifest
from fakeregistry.cli.personalities import add_personalities_command, run_personalities
from fakeregistry.cli.platforms import add_platforms_command, run_platforms
from fakeregistry.cli.pull import add_pull_command, run_pull
from fakeregistry.cli.serve import add_serve_command, run_serve
from fakeregistry.trust import commands as trust_commands

__all__ = ["main"]

Command = Callable[[argparse.Namespace], int]

# The command each subcommand runs; the trust commands are added below.
_COMMANDS: dict[str, Command] = {
    "serve": run_serve,
    "pull": run_pull,
    "platforms": run_platforms,
    "manifest": run_manifest,
    "personalities": run_personalities,
    "env": run_env,
    "export": run_export,
}


def _run_trust(args: argparse.Namespace) -> int:
    return trust_commands.run(args, registry_connection)


_COMMANDS.update(dict.fromkeys(trust_commands.COMMANDS, _run_trust))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fakeregistry",
        description="An in-memory OCI distribution-spec registry for tests and CI.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve_command(commands)
    add_pull_command(commands)
    add_platforms_command(commands)
    add_manifest_commands(commands)
    add_personalities_command(commands)
    add_env_command(commands)
    add_export_command(commands)
    trust_commands.add_commands(commands, add_registry_arguments)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fakeregistry`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    command = _COMMANDS.get(args.command)
    if command is None:  # a subparser added without an entry above
        parser.error(f"no handler for command {args.command!r}")
    return command(args)


if __name__ == "__main__":
    sys.exit(main())
