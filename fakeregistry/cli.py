"""The ``fakeregistry`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from fakeregistry.options import DEFAULT_MAX_MANIFEST_SIZE, RegistryOptions
from fakeregistry.server import AsyncRegistryServer

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
    return parser


async def _serve(args: argparse.Namespace) -> int:
    options = RegistryOptions(
        deletes=not args.no_deletes,
        referrers=not args.no_referrers,
        negotiation=args.negotiation,
        validation=args.validation,
        max_manifest_size=args.max_manifest_size,
        upload_expiry=args.upload_expiry,
    )
    access_log = None
    if not args.quiet:
        access_log = logging.getLogger("fakeregistry.access")
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        access_log.propagate = False
    server = AsyncRegistryServer(options, host=args.host, port=args.port, access_log=access_log)
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
    await stop.wait()
    await server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fakeregistry`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        return asyncio.run(_serve(args))
    raise AssertionError(args.command)  # argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
