"""``fakeregistry env``: write the client set-up for a running registry (Docker
``config.json``, containers ``auth.json`` and ``registries.conf``, ``certs.d/HOST/ca.crt``) and
print the environment that points docker, skopeo, podman, buildah and oras at it."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile

from fakeregistry.cli.common import UsageError, add_credential_arguments, read_password
from fakeregistry.tools.clientenv import write_client_env

__all__ = ["add_env_command", "run_env"]


def add_env_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    env = commands.add_parser(
        "env",
        help="write client configs for a registry and print the variables that use them",
        description="Write Docker config.json, containers auth.json and registries.conf and "
        "certs.d/HOST/ca.crt for the registry at URL, and print export lines for DOCKER_CONFIG, "
        "REGISTRY_AUTH_FILE, CONTAINERS_REGISTRIES_CONF and SSL_CERT_FILE "
        '(eval "$(fakeregistry env ...)").',
    )
    env.add_argument("url", metavar="URL", help="http://HOST:PORT or https://HOST:PORT")
    env.add_argument(
        "--dir", metavar="DIR", help="where to write the files (default: a new temporary one)"
    )
    env.add_argument("--ca-file", metavar="F", help="the registry's CA certificate (PEM)")
    add_credential_arguments(env)
    env.add_argument("--json", action="store_true", help="print the variables as JSON")


def run_env(args: argparse.Namespace) -> int:
    try:
        password = read_password(args)
        directory = args.dir or tempfile.mkdtemp(prefix="fakeregistry-env-")
        setup = write_client_env(
            directory, args.url, ca_file=args.ca_file, username=args.username, password=password
        )
    except (UsageError, ValueError) as exc:
        print(f"fakeregistry env: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"fakeregistry env: {exc.strerror or exc}: {exc.filename}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(setup.env, indent=2))
    else:
        sys.stdout.write(setup.shell())
    return 0
