"""``fakeregistry serve``: a registry on a port until Ctrl-C or SIGTERM, with TLS, auth, seeded
content and the web page as its flags ask."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import logging
import shutil
import signal
import sys
import tempfile

from fakeregistry.cli.common import UsageError, one_line
from fakeregistry.registry.auth import AccessPolicy, AuthConfig, Users, parse_user
from fakeregistry.registry.options import DEFAULT_MAX_MANIFEST_SIZE, RegistryOptions
from fakeregistry.registry.personality import NAMES, get_personality
from fakeregistry.registry.server import DEFAULT_SHUTDOWN_TIMEOUT, AsyncRegistryServer
from fakeregistry.registry.tls import TLSConfig, load_tls
from fakeregistry.registry.webui import add_web_ui
from fakeregistry.tools.demo import push_demo, write_demo_keys
from fakeregistry.tools.seed import SeedError, StorageTarget, seed_storage

__all__ = ["add_serve_command", "run_serve"]


def add_serve_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    serve.add_argument(
        "--personality",
        choices=NAMES,
        default="spec",
        metavar="NAME",
        help="answer like a hosted registry: " + ", ".join(NAMES) + " (default spec; "
        "`fakeregistry personalities` lists the rules)",
    )
    _add_limit_arguments(serve)
    _add_security_arguments(serve)
    _add_seed_arguments(serve)
    _add_operation_arguments(serve)


def _add_operation_arguments(serve: argparse.ArgumentParser) -> None:
    ops = serve.add_argument_group("storage and operations")
    ops.add_argument(
        "--storage",
        metavar="DIR",
        help="keep the content on disk in DIR, one OCI image layout per repository, durable "
        "before each 201 (default: in memory, gone at exit)",
    )
    ops.add_argument(
        "--read-only",
        action="store_true",
        help="serve pulls only; pushes and deletes answer 405 UNSUPPORTED",
    )
    ops.add_argument(
        "--no-answer-cache",
        action="store_true",
        help="answer every manifest GET through the web layer, never by replaying a kept "
        "answer (for comparing; the answers are the same bytes)",
    )
    ops.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let browser pages from ORIGIN (e.g. http://localhost:3000; * for any) call the "
        "API: CORS headers and preflights (repeatable)",
    )
    ops.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="access log lines: text, or one JSON object per request with method, path, "
        "status, bytes, duration and user (default text)",
    )
    ops.add_argument(
        "--shutdown-timeout",
        type=float,
        default=DEFAULT_SHUTDOWN_TIMEOUT,
        metavar="SECONDS",
        help="on SIGTERM or Ctrl-C stop accepting and let requests in flight finish this long "
        f"(default {DEFAULT_SHUTDOWN_TIMEOUT:g})",
    )


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
        help="cap on blobs, manifests and open uploads held in memory (with --storage: on "
        "disk); a push that does not fit answers 413 SIZE_INVALID (default: no cap)",
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
        "--seed",
        action="append",
        default=[],
        metavar="PATH[=REPO]",
        help="load an OCI image layout directory, an OCI layout tarball or a docker save "
        "tarball before serving; names and tags from the archive, or all into REPO "
        "(repeatable)",
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
        "--demo",
        action="store_true",
        help="start with the demo content (multi-platform images, a nested index, an SBOM "
        "referrer, a signed index); the same digests on every run",
    )
    content.add_argument(
        "--demo-keys",
        metavar="DIR",
        help="with --demo: write the demo's signing key to DIR/cosign.key and DIR/cosign.pub "
        "(default: a temporary directory removed on exit)",
    )
    content.add_argument(
        "--no-web-ui",
        action="store_true",
        help="no HTML page at / and /ui/<repository> (the API is the same either way)",
    )


def _tls_config(args: argparse.Namespace) -> TLSConfig | bool:
    if (args.tls_cert is None) != (args.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    if args.tls_cert is not None:
        if args.tls_dir is not None:
            raise UsageError("--tls-dir is for the generated CA; it does not go with --tls-cert")
        try:
            return load_tls(args.tls_cert, args.tls_key)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot load --tls-cert/--tls-key: {exc}") from None
    if args.tls_dir is not None and not args.tls:
        raise UsageError("--tls-dir needs --tls")
    return bool(args.tls)


def _auth_config(args: argparse.Namespace) -> AuthConfig | None:
    persona = get_personality(args.personality)
    if persona.authenticates:
        if args.auth is not None:
            raise UsageError(f"--personality {persona.name} brings its own auth; drop --auth")
        args.auth = "token"  # checked below like --auth; the personality picks the scheme
    if args.auth is None:
        if args.user or args.htpasswd or args.access or args.anonymous_pull:
            raise UsageError(
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
        raise UsageError(str(exc)) from None
    if args.anonymous_pull:
        policy = policy.with_anonymous_pull()
    if persona.authenticates:
        return AuthConfig.for_personality(persona, users=users or None, policy=policy)
    if not users and not policy.allows_anonymous:
        raise UsageError("--auth needs --user, --htpasswd or --anonymous-pull")
    return AuthConfig(mode=args.auth, users=users, policy=policy)


def _temporary_directory() -> str:
    """A directory removed when the process exits."""
    path = tempfile.mkdtemp(prefix="fakeregistry-demo-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def run_serve(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    try:
        if args.demo_keys is not None and not args.demo:
            raise UsageError("--demo-keys needs --demo")
        tls = _tls_config(args)
        auth = _auth_config(args)
    except UsageError as exc:
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
            personality=args.personality,
            read_only=args.read_only,
            cors_origins=tuple(args.cors_origin),
            answer_cache=not args.no_answer_cache,
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
    try:
        server = AsyncRegistryServer(
            options,
            host=args.host,
            port=args.port,
            access_log=access_log,
            tls=tls,
            tls_dir=args.tls_dir,
            auth=auth,
            storage_dir=args.storage,
            log_format=args.log_format,
            shutdown_timeout=args.shutdown_timeout,
        )
    except OSError as exc:
        print(f"fakeregistry: cannot use --storage {args.storage}: {exc}", file=sys.stderr)
        return 1
    if not args.no_web_ui:
        add_web_ui(server.app)
    try:
        seeded = await seed_storage(
            server.storage, layouts=args.seed_layout, images=args.seed_image, archives=args.seed
        )
    except SeedError as exc:
        print(f"fakeregistry serve: {one_line(exc)}", file=sys.stderr)
        return 1
    demo_key = None
    if args.demo:
        seeded += await push_demo(StorageTarget(server.storage))
        demo_key = write_demo_keys(args.demo_keys or _temporary_directory())[1]
    if not args.quiet:
        for ref in seeded:
            print(f"Seeded {ref}", file=sys.stderr)
        if auth is not None and auth.personality is not None and not (args.user or args.htpasswd):
            print(
                f"Personality {auth.personality.name}: sign in as user / password",
                file=sys.stderr,
            )
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
    if demo_key is not None:
        print(f"Demo signing key: {demo_key}", flush=True)
    await stop.wait()
    await server.stop()
    return 0
