"""What the commands share: the flags that reach a registry and the connection they make, the
usage error (exit status 2), and one-line messages for failures."""

from __future__ import annotations

import argparse
import sys

from fakeregistry.client import HostConfig

__all__ = ["UsageError", "add_registry_arguments", "one_line", "registry_connection"]


class UsageError(Exception):
    """A mistake in the flags: the command prints it on one line and exits with status 2."""


def add_registry_arguments(parser: argparse.ArgumentParser) -> None:
    """How to reach a registry: the flags ``pull`` and ``manifest`` share."""
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument("--plain-http", action="store_true", help="HTTP instead of HTTPS")
    transport.add_argument(
        "--insecure", action="store_true", help="HTTPS without certificate verification"
    )
    transport.add_argument("--ca-file", metavar="F", help="trust the CAs in this PEM file")
    add_credential_arguments(parser)


def add_credential_arguments(parser: argparse.ArgumentParser) -> None:
    """``--username`` and ``--password-stdin`` (read by :func:`read_password`)."""
    parser.add_argument("--username", metavar="U", help="user name for the registry")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


def read_password(args: argparse.Namespace) -> str | None:
    """The password :func:`add_credential_arguments`' flags ask for, read from standard input
    (``UsageError`` when ``--username`` and ``--password-stdin`` come alone)."""
    if args.password_stdin:
        if not args.username:
            raise UsageError("--password-stdin needs --username")
        return sys.stdin.readline().rstrip("\r\n")
    if args.username:
        raise UsageError("--username needs --password-stdin")
    return None


def registry_connection(args: argparse.Namespace) -> HostConfig:
    """The connection :func:`add_registry_arguments`' flags ask for (``UsageError`` when
    ``--username`` and ``--password-stdin`` come alone)."""
    return HostConfig(
        plain_http=True if args.plain_http else None,
        insecure=args.insecure,
        ca_file=args.ca_file,
        username=args.username,
        password=read_password(args),
    )


def one_line(error: BaseException) -> str:
    """An error as one readable line (its message with whitespace folded, or its type's name).

    >>> one_line(ValueError("bad   input")), one_line(KeyError())
    ('bad input', 'KeyError')
    """
    return " ".join(str(error).split()) or type(error).__name__
