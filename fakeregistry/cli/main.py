"""The ``fakeregistry`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from fakeregistry.client import HostConfig
from fakeregistry.registry.auth import AccessPolicy, AuthConfig, Users, parse_user
from fakeregistry.registry.options import DEFAULT_MAX_MANIFEST_SIZE, RegistryOptions
from fakeregistry.registry.server import AsyncRegistryServer
from fakeregistry.registry.tls import TLSConfig, load_tls
from fakeregistry.registry.webui import add_web_ui
from fakeregistry.tools.seed import SeedError, seed_storage
from fakeregistry.trust import commands as trust_commands

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fakeregistry",
        description="An in-memory OCI distribution-spec registry for tests and CI.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run a registry until Ctrl-C or SIGTERM")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=5000, help="port (default 5000; 0 = any free)")
    serve.add_argument("--quiet", action="store_true", help="no access log on stderr")
    serve.add_argument(
        "--no-deletes", action="store_true", help="answer DELETE with 405 UNSUPPORTED"
    )
    serve.add_argument(
        "--no-referrers", action="store_true", help="answer the referrers API with 404"
    )
    serve.add_argument(
        "--negotiation",
        choices=("strict", "lenient"),
        default="strict",
        help="strict: honour Accept like distribution v3; lenient: ignore it",
    )
    serve.add_argument(
        "--validation",
        choices=("strict", "sparse"),
        default="strict",
        help="strict: spec grammar and reference checks; sparse: accept any path-safe name",
    )
    serve.add_argument(
        "--max-manifest-size",
        type=int,
        default=DEFAULT_MAX_MANIFEST_SIZE,
        metavar="BYTES",
        help=f"largest manifest accepted (default {DEFAULT_MAX_MANIFEST_SIZE})",
    )
    serve.add_argument(
        "--upload-expiry",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="drop upload sessions idle this long (default 3600)",
    )
    _add_limit_arguments(serve)
    _add_security_arguments(serve)
    _add_seed_arguments(serve)
    _add_pull_commands(commands)
    _add_manifest_commands(commands)
    trust_commands.add_commands(commands, _add_registry_arguments)
    return parser


def _add_limit_arguments(serve: argparse.ArgumentParser) -> None:
    limits = serve.add_argument_group("limits")
    limits.add_argument(
        "--body-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="answer 408 and close when a request body sends nothing this long (default 60)",
    )
    limits.add_argument(
        "--max-bytes",
        type=int,
        metavar="BYTES",
        help="cap on blobs, manifests and open uploads held in memory; a push that does not "
        "fit answers 413 SIZE_INVALID (default: no cap)",
    )
    limits.add_argument(
        "--max-upload-bytes",
        type=int,
        metavar="BYTES",
        help="cap on the bytes of open upload sessions (default: no cap)",
    )
    limits.add_argument(
        "--max-uploads",
        type=int,
        metavar="N",
        help="cap on open upload sessions; more answer 429 TOOMANYREQUESTS (default: no cap)",
    )


def _add_security_arguments(serve: argparse.ArgumentParser) -> None:
    tls = serve.add_argument_group("TLS")
    tls.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a throwaway CA and a certificate for 127.0.0.1, ::1 and "
        "localhost; the CA's path is printed on the second stdout line",
    )
    tls.add_argument(
        "--tls-dir",
        metavar="DIR",
        help="with --tls: write the CA to DIR/ca.crt (default: a temporary directory)",
    )
    tls.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate (PEM)")
    tls.add_argument("--tls-key", metavar="FILE", help="the private key of --tls-cert (PEM)")
    auth = serve.add_argument_group("authentication")
    auth.add_argument(
        "--auth",
        choices=("basic", "token"),
        help="basic: credentials on every request; token: Bearer tokens from /token",
    )
    auth.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="a user (repeatable)",
    )
    auth.add_argument("--htpasswd", metavar="FILE", help="users from an htpasswd file (bcrypt)")
    auth.add_argument(
        "--access",
        metavar="FILE",
        help="access rules (YAML or JSON); default: users may do everything",
    )
    auth.add_argument(
        "--anonymous-pull", action="store_true", help="let requests without credentials pull"
    )


def _add_seed_arguments(serve: argparse.ArgumentParser) -> None:
    content = serve.add_argument_group("content and web page")
    content.add_argument(
        "--seed-layout",
        action="append",
        default=[],
        metavar="DIR=REPO",
        help="load an OCI image layout directory into REPO before serving, tagged as its "
        "index.json's org.opencontainers.image.ref.name annotations say (repeatable)",
    )
    content.add_argument(
        "--seed-image",
        action="append",
        default=[],
        metavar="REF[=PLATFORM,...]",
        help="push a generated test image NAME[:TAG] before serving: one platform gives an "
        "image (default linux/amd64), several an OCI index (repeatable)",
    )
    content.add_argument(
        "--no-web-ui",
        action="store_true",
        help="no HTML page at / and /ui/<repository> (the API is the same either way)",
    )


class _UsageError(Exception):
    pass


def _tls_config(args: argparse.Namespace) -> TLSConfig | bool:
    if (args.tls_cert is None) != (args.tls_key is None):
        raise _UsageError("--tls-cert and --tls-key go together")
    if args.tls_cert is not None:
        if args.tls_dir is not None:
            raise _UsageError("--tls-dir is for the generated CA; it does not go with --tls-cert")
        try:
            return load_tls(args.tls_cert, args.tls_key)
        except (OSError, ValueError) as exc:
            raise _UsageError(f"cannot load --tls-cert/--tls-key: {exc}") from None
    if args.tls_dir is not None and not args.tls:
        raise _UsageError("--tls-dir needs --tls")
    return bool(args.tls)


def _auth_config(args: argparse.Namespace) -> AuthConfig | None:
    if args.auth is None:
        if args.user or args.htpasswd or args.access or args.anonymous_pull:
            raise _UsageError(
                "--user, --htpasswd, --access and --anonymous-pull need --auth basic|token"
            )
        return None
    users = Users()
    try:
        if args.htpasswd:
            users.load_htpasswd(args.htpasswd)
        for spec in args.user:
            users.add(*parse_user(spec))
        policy = AccessPolicy.load(args.access) if args.access else AccessPolicy()
    except (OSError, ValueError) as exc:
        raise _UsageError(str(exc)) from None
    if args.anonymous_pull:
        policy = policy.with_anonymous_pull()
    if not users and not policy.allows_anonymous:
        raise _UsageError("--auth needs --user, --htpasswd or --anonymous-pull")
    return AuthConfig(mode=args.auth, users=users, policy=policy)


async def _serve(args: argparse.Namespace) -> int:
    try:
        tls = _tls_config(args)
        auth = _auth_config(args)
    except _UsageError as exc:
        print(f"fakeregistry: {exc}", file=sys.stderr)
        return 2
    try:
        options = RegistryOptions(
            deletes=not args.no_deletes,
            referrers=not args.no_referrers,
            negotiation=args.negotiation,
            validation=args.validation,
            max_manifest_size=args.max_manifest_size,
            upload_expiry=args.upload_expiry,
            body_timeout=args.body_timeout,
            max_bytes=args.max_bytes,
            max_upload_bytes=args.max_upload_bytes,
            max_uploads=args.max_uploads,
        )
    except ValueError as exc:
        print(f"fakeregistry: {exc}", file=sys.stderr)
        return 2
    access_log = None
    if not args.quiet:
        access_log = logging.getLogger("fakeregistry.access")
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        access_log.propagate = False
    server = AsyncRegistryServer(
        options,
        host=args.host,
        port=args.port,
        access_log=access_log,
        tls=tls,
        tls_dir=args.tls_dir,
        auth=auth,
    )
    if not args.no_web_ui:
        add_web_ui(server.app)
    try:
        seeded = await seed_storage(
            server.storage, layouts=args.seed_layout, images=args.seed_image
        )
    except SeedError as exc:
        print(f"fakeregistry serve: {_one_line(exc)}", file=sys.stderr)
        return 1
    if not args.quiet:
        for ref in seeded:
            print(f"Seeded {ref}", file=sys.stderr)
    try:
        await server.start()
    except OSError as exc:
        print(f"fakeregistry: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"Serving on {server.url}/", flush=True)
    if tls is True and server.ca_path is not None:
        print(f"CA certificate: {server.ca_path}", flush=True)
    await stop.wait()
    await server.stop()
    return 0


# -- fakeregistry pull / fakeregistry platforms ---------------------------------------------------


def _add_pull_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        "--engine", choices=ENGINES, default="moby", help="whose rules to follow (default moby)"
    )
    pull.add_argument(
        "--host-platform",
        metavar="P",
        help="simulate this host, e.g. linux/arm64/v8 (default: this machine)",
    )
    _add_registry_arguments(pull)
    trust_commands.add_pull_arguments(pull)
    pull.add_argument("--json", action="store_true", help="print the result as JSON")
    pull.add_argument(
        "--output", metavar="DIR", help="write the image as an OCI image layout into DIR"
    )

    platforms = commands.add_parser(
        "platforms", help="the engine profiles, and what this machine is to each of them"
    )
    platforms.add_argument(
        "--host", action="store_true", help="show this machine's platform, per engine"
    )
    platforms.add_argument("--json", action="store_true", help="print JSON")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


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
            f"{_bytes(event.done)}/{_bytes(event.total)} ({event.index + 1}/{event.count})"
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
    lines.append(f"Layers:   {len(result.layers)} ({_bytes(result.size)} with the config)")
    for number, layer in enumerate(result.layers, 1):
        where = "" if layer.data is not None else " (external, not fetched)"
        lines.append(
            f"  {number}. {layer.descriptor.digest} {_bytes(layer.descriptor.size)} "
            f"{layer.descriptor.media_type}{where}"
        )
    lines.extend(f"Skipped:  {note}" for note in result.skipped)
    lines.extend(trust_commands.summary_lines(result.trust))
    lines.extend(f"WARNING:  {warning}" for warning in result.warnings)
    lines.append(f"Requests: {len(result.trace)}")
    if result.output is not None:
        lines.append(f"Output:   {result.output} (OCI image layout)")
    return "\n".join(lines)


def _pull(args: argparse.Namespace) -> int:
    import json

    from fakeregistry.engine.pull import pull
    from fakeregistry.engine.selection import NoMatchingManifest

    try:
        connection = _registry_connection(args)
    except _UsageError as exc:
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
        print(f"fakeregistry pull: {_one_line(exc)}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(_pull_summary(result))
    return 0


def _platforms(args: argparse.Namespace) -> int:
    import json

    from fakeregistry.engine.selection import (
        ENGINES,
        NoMatchingManifest,
        describe_engine,
        select_manifest,
    )
    from fakeregistry.platforms.platform import Platform

    if not args.host:
        if args.json:
            print(json.dumps({name: describe_engine(name) for name in ENGINES}, indent=2))
        else:
            print("\n".join(describe_engine(name) for name in ENGINES))
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
    return 0


# -- fakeregistry manifest (manifest-tool's push from-spec / from-args, inspect) ----------------


def _add_manifest_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        _add_registry_arguments(leaf)
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
    _add_registry_arguments(inspect)


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


def _add_registry_arguments(parser: argparse.ArgumentParser) -> None:
    """How to reach a registry: the flags ``pull`` and ``manifest`` share."""
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument("--plain-http", action="store_true", help="HTTP instead of HTTPS")
    transport.add_argument(
        "--insecure", action="store_true", help="HTTPS without certificate verification"
    )
    transport.add_argument("--ca-file", metavar="F", help="trust the CAs in this PEM file")
    parser.add_argument("--username", metavar="U", help="user name for the registry")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


def _registry_connection(args: argparse.Namespace) -> HostConfig:
    """The connection :func:`_add_registry_arguments`' flags ask for (``_UsageError`` when
    ``--username`` and ``--password-stdin`` come alone)."""
    password = None
    if args.password_stdin:
        if not args.username:
            raise _UsageError("--password-stdin needs --username")
        password = sys.stdin.readline().rstrip("\r\n")
    elif args.username:
        raise _UsageError("--username needs --password-stdin")
    return HostConfig(
        plain_http=True if args.plain_http else None,
        insecure=args.insecure,
        ca_file=args.ca_file,
        username=args.username,
        password=password,
    )


def _manifest(args: argparse.Namespace) -> int:
    import json

    from fakeregistry.tools import manifesttool

    command = f"fakeregistry manifest {args.manifest_command}"
    try:
        connection = _registry_connection(args)
        if args.manifest_command == "push":
            if args.push_type and args.type and args.push_type != args.type:
                raise _UsageError(f"--type {args.push_type} and --type {args.type} disagree")
            list_type: manifesttool.ListType = (
                "oci" if (args.type or args.push_type) == "oci" else "docker"
            )
    except _UsageError as exc:
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
        print(f"{command}: {_one_line(exc)}", file=sys.stderr)
        return 1
    for warning in pushed.warnings:
        if warning not in spec.warnings:
            print(f"{command}: warning: {warning}", file=sys.stderr)
    print(f"Digest: {pushed.digest} {pushed.length}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fakeregistry`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        return asyncio.run(_serve(args))
    if args.command == "pull":
        return _pull(args)
    if args.command == "platforms":
        return _platforms(args)
    if args.command == "manifest":
        return _manifest(args)
    if args.command in trust_commands.COMMANDS:
        return trust_commands.run(args, _registry_connection)
    raise AssertionError(args.command)  # argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
