"""Helpers for the trust tests: a client on a fresh loop, and ways to tamper with stored
signatures over HTTP (so they work against any registry)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fakeregistry.client import RegistryClient
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.digest import compute
from fakeregistry.rules.reference import ImageReference
from fakeregistry.trust import cosign, notation

T = TypeVar("T")


def with_client(work: Callable[[RegistryClient], Awaitable[T]]) -> T:
    """Run ``work(client)`` with a fresh client on a fresh event loop."""

    async def main() -> T:
        async with RegistryClient() as client:
            return await work(client)

    return asyncio.run(main())


def at(repo: str, *, tag: str | None = None, digest: str | None = None) -> ImageReference:
    parsed = ImageReference.parse(repo)
    return ImageReference(parsed.registry, parsed.repository, tag, digest)


async def sig_manifest(client: RegistryClient, repo: str, digest: str) -> dict[str, Any]:
    fetched = await client.get_manifest(
        at(repo, tag=cosign.signature_tag(digest)), accept=[mt.OCI_MANIFEST]
    )
    document: dict[str, Any] = fetched.json()
    return document


async def put_sig_manifest(
    client: RegistryClient, repo: str, digest: str, document: dict[str, Any]
) -> None:
    body = json.dumps(document).encode()
    await client.put_manifest(at(repo, tag=cosign.signature_tag(digest)), body, mt.OCI_MANIFEST)


def flip_base64(text: str) -> str:
    """The same base64 with one bit of the decoded bytes flipped."""
    raw = bytearray(base64.b64decode(text))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def tamper_cosign_annotation(repo: str, digest: str) -> None:
    async def work(client: RegistryClient) -> None:
        document = await sig_manifest(client, repo, digest)
        annotations = document["layers"][0]["annotations"]
        key = cosign.SIGNATURE_ANNOTATION
        annotations[key] = flip_base64(annotations[key])
        await put_sig_manifest(client, repo, digest, document)

    with_client(work)


def tamper_cosign_payload(repo: str, digest: str) -> None:
    async def work(client: RegistryClient) -> None:
        document = await sig_manifest(client, repo, digest)
        layer = document["layers"][0]
        payload = await client.get_blob(at(repo), layer["digest"])
        forged = payload.replace(b'"optional":null', b'"optional":{"forged":"yes"}')
        assert forged != payload
        layer["digest"] = await client.push_blob(at(repo), forged)
        layer["size"] = len(forged)
        await put_sig_manifest(client, repo, digest, document)

    with_client(work)


def move_cosign_signature(repo: str, source: str, target: str) -> None:
    """Copy the ``.sig`` manifest of *source* to *target*'s tag (a signature moved to
    another image)."""

    async def work(client: RegistryClient) -> None:
        document = await sig_manifest(client, repo, source)
        await put_sig_manifest(client, repo, target, document)

    with_client(work)


def tamper_notation(repo: str, digest: str) -> None:
    """Replace the notation signature of *digest* with one whose JWS payload was changed
    after signing (the old one is deleted)."""

    async def work(client: RegistryClient) -> None:
        referrers = await client.referrers(at(repo), digest, artifact_type=notation.ARTIFACT_TYPE)
        assert referrers
        old = await client.get_manifest(at(repo, digest=referrers[0].digest))
        document = old.json()
        envelope = json.loads(await client.get_blob(at(repo), document["layers"][0]["digest"]))
        body = json.loads(base64.urlsafe_b64decode(envelope["payload"] + "=="))
        body["targetArtifact"]["annotations"] = {"forged": "yes"}
        envelope["payload"] = notation.b64url(json.dumps(body).encode())
        data = json.dumps(envelope).encode()
        document["layers"][0] = {
            "mediaType": notation.JWS,
            "digest": await client.push_blob(at(repo), data),
            "size": len(data),
        }
        body_bytes = json.dumps(document).encode()
        new_digest = str(compute(body_bytes))
        await client.put_manifest(at(repo, digest=new_digest), body_bytes, mt.OCI_MANIFEST)
        await client.delete_manifest(at(repo, digest=old.digest))

    with_client(work)
