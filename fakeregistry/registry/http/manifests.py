"""Manifests (distribution-spec "Pulling manifests", "Pushing manifests", "Deleting tags",
"Deleting manifests")."""

from __future__ import annotations

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from fakeregistry.registry.http.answers import offer
from fakeregistry.registry.http.requests import read_body, repository, storage
from fakeregistry.registry.negotiation import negotiate
from fakeregistry.registry.storage import Storage, StoredManifest, is_digest_reference
from fakeregistry.rules.errors import ErrorCode, RegistryError
from fakeregistry.rules.mediatypes import accepted_types

__all__ = ["delete_manifest", "get_manifest", "put_manifest"]


# The types each ``Accept`` header set names, for the few sets clients send (a bounded cache:
# parsing them was a tenth of a manifest GET's handler).
_ACCEPTED: dict[tuple[str, ...], frozenset[str]] = {}
_ACCEPTED_MAX_ENTRIES = 256
_ACCEPTED_MAX_LENGTH = 1024


def _accepted(headers: CIMultiDictProxy[str]) -> frozenset[str]:
    values = tuple(headers.getall("Accept", ()))
    accepted = _ACCEPTED.get(values)
    if accepted is None:
        accepted = accepted_types(values)
        if sum(map(len, values)) <= _ACCEPTED_MAX_LENGTH:
            if len(_ACCEPTED) >= _ACCEPTED_MAX_ENTRIES:
                _ACCEPTED.clear()
            _ACCEPTED[values] = accepted
    return accepted


# end-3: GET/HEAD /v2/<name>/manifests/<reference> — the stored bytes, as negotiated.
# https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
async def get_manifest(request: web.Request) -> web.Response:
    match_info = request.match_info
    name = match_info["name"]
    reference = match_info["reference"]
    store = storage(request)
    store.check_name(name)
    resolved = store.resolve(name, reference)
    request_headers = request.headers
    stored = negotiate(
        store,
        name,
        resolved,
        _accepted(request_headers),
        by_tag=not is_digest_reference(reference),
        policy=store.options.negotiation,
    )
    digest = stored.digest
    etag = f'"{digest}"'
    headers = {"Docker-Content-Digest": digest, "ETag": etag, "Content-Type": stored.media_type}
    _offer(request, store, name, reference, resolved, stored)
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match is not None and (etag in if_none_match or digest == if_none_match):
        return web.Response(status=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(stored.body))
        return web.Response(headers=headers)
    return web.Response(body=stored.body, headers=headers)


def _offer(
    request: web.Request,
    store: Storage,
    name: str,
    reference: str,
    resolved: StoredManifest,
    sent: StoredManifest,
) -> None:
    """Offer this answer for replay (fakeregistry.registry.http.answers) while the repository,
    the reference's target and the manifest sent are the objects stored now: the storage's
    generation misses changes made to its dictionaries directly."""
    repo = store.repository(name)
    by_tag = not is_digest_reference(reference)

    def still_true() -> bool:
        if repo is None or store.repositories.get(name) is not repo:
            return False
        if by_tag and repo.tags.get(reference) != resolved.digest:
            return False
        manifests = repo.manifests
        return manifests.get(resolved.digest) is resolved and manifests.get(sent.digest) is sent

    offer(request, store, still_true)


# end-7: PUT /v2/<name>/manifests/<reference> — store the exact bytes under a tag or digest.
# https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
async def put_manifest(request: web.Request) -> web.Response:
    name = repository(request)
    reference = request.match_info["reference"]
    store = storage(request)
    body = await read_body(request, store.options.max_manifest_size)
    tags = tuple(request.query.getall("tag", ()))
    if tags and not is_digest_reference(reference):
        raise RegistryError(
            ErrorCode.MANIFEST_INVALID, "?tag= is only allowed when pushing by digest"
        )
    stored = store.put_manifest(
        name, reference, body, request.headers.get("Content-Type"), extra_tags=tags
    )
    headers: CIMultiDict[str] = CIMultiDict(
        {
            "Location": f"/v2/{name}/manifests/{stored.digest}",
            "Docker-Content-Digest": stored.digest,
            "Content-Length": "0",
        }
    )
    for tag in tags:
        headers.add("OCI-Tag", tag)
    if stored.view.subject is not None and store.options.referrers:
        # Tells the client this registry indexed the subject, so it need not maintain the
        # fallback tag (distribution-spec "Pushing Manifests with Subject").
        headers["OCI-Subject"] = stored.view.subject.digest
    return web.Response(status=201, headers=headers)


# end-9: DELETE /v2/<name>/manifests/<reference> — a tag removes only the tag; a digest
# removes the manifest and every tag pointing at it.
# https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
async def delete_manifest(request: web.Request) -> web.Response:
    name = repository(request)
    storage(request).delete_manifest(name, request.match_info["reference"])
    return web.Response(status=202, headers={"Content-Length": "0"})
