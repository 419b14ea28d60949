"""The ``sign``, ``verify`` and ``keygen`` commands, and ``pull --policy``.

:mod:`fakeregistry.cli` hands over its shared registry flags (``--plain-http``,
``--insecure``, ``--ca-file``, ``--username`` with ``--password-stdin``) and the function
that turns them into connection options, so these commands reach any registry the way
``pull`` and ``manifest`` do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fakeregistry.client import HostConfig, connect
from fakeregistry.rules.reference import ImageReference
from fakeregistry.trust.errors import PolicyRejected, TrustError
from fakeregistry.trust.keys import (
    DEFAULT_SUBJECT,
    generate_key,
    load_certificates,
    load_public_keys,
    make_certificate_chain,
)
from fakeregistry.trust.sign import SIGN_FORMATS, sign
from fakeregistry.trust.trustpolicy import NotationVerifier, load_trust_store
from fakeregistry.trust.verify import (
    VERIFY_TARGETS,
    PolicyDecision,
    check_signatures,
    enforce,
    format_checks,
)

__all__ = ["COMMANDS", "add_commands", "add_pull_arguments", "run", "summary_lines"]

COMMANDS = ("sign", "verify", "keygen")
AddRegistryArguments = Callable[[argparse.ArgumentParser], None]
ConnectionParser = Callable[[argparse.Namespace], HostConfig]


def add_pull_arguments(pull: argparse.ArgumentParser) -> None:
    """``--policy FILE`` (repeatable) and ``--verify-target`` for ``fakeregistry pull``."""
    pull.add_argument(
        "--policy",
        action="append",
        default=None,
        metavar="FILE",
        help="check a containers policy.json or notation trustpolicy.oci.json before reading "
        "config or layers (repeatable: all must pass)",
    )
    pull.add_argument(
        "--verify-target",
        choices=VERIFY_TARGETS,
        default="instance",
        help="which manifest must be signed: the chosen platform manifest (default, as "
        "skopeo/podman), the index, or both",
    )


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    add_registry_arguments: AddRegistryArguments,
) -> None:
    sign_parser = commands.add_parser(
        "sign",
        help="sign an image on any registry with a key (cosign, cosign-bundle, notation)",
        description="Sign the manifest REF resolves to, with a key: cosign's sha256-<hex>.sig "
        "tag, cosign v3's Sigstore bundle, or a notation JWS signature (both through the "
        "referrers API, or the referrers tag schema when the registry has none).",
    )
    sign_parser.add_argument("ref", metavar="REF", help="image reference (tag or digest)")
    sign_parser.add_argument(
        "--key", required=True, metavar="KEY", help="PEM private key (ECDSA P-256)"
    )
    sign_parser.add_argument(
        "--cert", metavar="CHAIN", help="notation: the certificate chain PEM, leaf first"
    )
    sign_parser.add_argument("--format", choices=SIGN_FORMATS, default="cosign")
    sign_parser.add_argument(
        "--recursive", action="store_true", help="sign an index and every manifest it lists"
    )
    sign_parser.add_argument(
        "--referrer",
        action="store_true",
        help="cosign: push the signature as an OCI 1.1 referrer instead of the .sig tag",
    )
    sign_parser.add_argument(
        "--identity", metavar="REF", help="cosign: the docker-reference to claim"
    )
    sign_parser.add_argument(
        "-a",
        "--annotation",
        action="append",
        default=[],
        metavar="K=V",
        help="cosign: an optional claim",
    )
    sign_parser.add_argument(
        "--no-referrers-fallback",
        action="store_true",
        help="fail instead of writing the referrers tag schema when the registry has no "
        "referrers API",
    )
    add_registry_arguments(sign_parser)

    verify_parser = commands.add_parser(
        "verify",
        help="list an image's signatures and check them with a key, roots or a policy",
        description="Print each signature of REF (format, where stored, identity, digest "
        "bound) and whether it holds. Exit status 0 when every manifest checked has a "
        "signature that holds (or the policy allows it), 1 otherwise.",
    )
    verify_parser.add_argument("ref", metavar="REF", help="image reference (tag or digest)")
    verify_parser.add_argument(
        "--key", action="append", default=[], metavar="PUB", help="PEM public key (repeatable)"
    )
    verify_parser.add_argument(
        "--policy", action="append", default=[], metavar="FILE", help="policy file(s)"
    )
    verify_parser.add_argument(
        "--trust-store",
        action="append",
        default=[],
        metavar="PEM|DIR",
        help="notation: root certificates to trust (repeatable)",
    )
    verify_parser.add_argument(
        "--trusted-identity",
        action="append",
        default=[],
        metavar="ID",
        help="notation: 'x509.subject: C=.., ST=.., O=..' (default '*')",
    )
    verify_parser.add_argument(
        "--recursive", action="store_true", help="also check every manifest an index lists"
    )
    verify_parser.add_argument("--json", action="store_true", help="print JSON")
    add_registry_arguments(verify_parser)

    keygen = commands.add_parser(
        "keygen",
        help="make a throwaway ECDSA P-256 key pair (and a notation certificate chain)",
        description="Write DIR/cosign.key and DIR/cosign.pub; with --notation also "
        "DIR/notation.key, DIR/notation.crt (chain, leaf first), DIR/notation-root.crt and a "
        "notation trust store DIR/truststore/x509/ca/notation/.",
    )
    keygen.add_argument("directory", metavar="DIR")
    keygen.add_argument("--notation", action="store_true", help="also a certificate chain")
    keygen.add_argument(
        "--subject",
        default=", ".join(f"{k}={v}" for k, v in DEFAULT_SUBJECT.items()),
        help="the leaf certificate's subject (default %(default)s)",
    )


def _pairs(values: Sequence[str]) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise TrustError(f"annotation {value!r} is not KEY=VALUE")
        out[key] = item
    return out


def summary_lines(decision: PolicyDecision | None) -> list[str]:
    """What ``fakeregistry pull`` prints about the policy check."""
    if decision is None:
        return []
    lines = [f"Trust:    allowed ({', '.join(decision.scopes)}; {decision.verify_target})"]
    for check in decision.checks:
        if check.holds:
            lines.append(f"  signed:  {check.signature.format} {check.signature.where}")
    return lines


async def _sign(args: argparse.Namespace, connection: HostConfig) -> int:
    result = await sign(
        args.ref,
        args.key,
        format=args.format,
        recursive=args.recursive,
        referrer=args.referrer,
        identity=args.identity,
        annotations=_pairs(args.annotation),
        certificates=args.cert,
        referrers_fallback=not args.no_referrers_fallback,
        connection=connection,
    )
    for entry in result.signed:
        print(f"Signed {entry.digest} ({entry.format}): {entry.where}")
    return 0


async def _verify(args: argparse.Namespace, connection: HostConfig) -> int:
    reference = ImageReference.parse(args.ref)
    keys = load_public_keys(args.key) if args.key else []
    verifier = None
    if args.trust_store:
        roots = []
        for store in args.trust_store:
            roots.extend(
                load_trust_store(store) if Path(store).is_dir() else load_certificates(Path(store))
            )
        verifier = NotationVerifier(tuple(roots), tuple(args.trusted_identity or ["*"]))
    ok = True
    document: list[dict[str, Any]] = []
    async with connect(reference.registry, connection) as client:
        top = await client.get_manifest(reference)
        manifests = [top]
        if args.recursive and top.is_index:
            for entry in top.json().get("manifests") or []:
                digest = entry.get("digest") if isinstance(entry, dict) else None
                if isinstance(digest, str):
                    child = ImageReference(reference.registry, reference.repository, None, digest)
                    manifests.append(await client.get_manifest(child))
        for manifest in manifests:
            title = f"Signatures of {reference.registry}/{reference.repository}@{manifest.digest}"
            if args.policy:
                try:
                    decision = await enforce(
                        client, reference, manifest, manifest, args.policy, "instance"
                    )
                except PolicyRejected as exc:
                    ok = False
                    checks = [
                        *await check_signatures(
                            client, reference, manifest, keys=keys, notation=verifier
                        )
                    ]
                    verdict = f"rejected: {exc}"
                else:
                    checks = list(decision.checks)
                    verdict = f"allowed ({', '.join(decision.scopes)})"
            else:
                checks = await check_signatures(
                    client, reference, manifest, keys=keys, notation=verifier
                )
                holds = any(c.holds for c in checks)
                ok = ok and holds
                verdict = "verified" if holds else "no signature holds"
            document.append(
                {
                    "digest": manifest.digest,
                    "mediaType": manifest.media_type,
                    "result": verdict,
                    "signatures": [c.to_json() for c in checks],
                }
            )
            if not args.json:
                print(format_checks(title + ":", checks))
                print(f"  => {verdict}")
    if args.json:
        print(
            json.dumps(
                {"reference": str(reference), "verified": ok, "manifests": document}, indent=2
            )
        )
    return 0 if ok else 1


def _keygen(args: argparse.Namespace) -> int:
    pair = generate_key()
    private, public = pair.write(args.directory)
    print(f"Private key: {private}")
    print(f"Public key:  {public}")
    if args.notation:
        chain = make_certificate_chain(args.subject)
        paths = chain.write(args.directory)
        print(f"Notation key:        {paths['key']}")
        print(f"Certificate chain:   {paths['chain']}")
        print(f"Root certificate:    {paths['root']}")
        print(f"Notation trust store: {paths['truststore']} (ca:notation)")
    return 0


def run(args: argparse.Namespace, connection: ConnectionParser) -> int:
    """Run ``sign``, ``verify`` or ``keygen``; every failure is one line on stderr."""
    command = f"fakeregistry {args.command}"
    try:
        if args.command == "keygen":
            return _keygen(args)
        try:
            options = connection(args)
        except Exception as exc:  # the CLI's usage errors
            print(f"{command}: {exc}", file=sys.stderr)
            return 2
        if args.command == "verify" and not (args.key or args.policy or args.trust_store):
            print(f"{command}: give --key, --trust-store or --policy", file=sys.stderr)
            return 2
        runner = _sign if args.command == "sign" else _verify
        return asyncio.run(runner(args, options))
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every failure is one readable line, never a traceback
        print(f"{command}: {' '.join(str(exc).split()) or type(exc).__name__}", file=sys.stderr)
        return 1
