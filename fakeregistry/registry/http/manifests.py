"""Manifests (distribution-spec "Pulling manifests", "Pushing manifests", "Deleting tags",
"Deleting manifests")."""

from __future__ import annotations

from aiohttp import web
from multidict import CIMultiDict

from fakeregistry.registry.http.requests import read_body, repository, storage
from fakeregistry.registry.negotiation import negotiate
from fakeregistry.registry.storage import is_digest_reference
from fakeregistry.rules.errors import ErrorCode, RegistryError
from fakeregistry.rules.mediatypes import accepted_types

__all__ = ["delete_manifest", "get_manifest", "put_manifest"]


# end-3: GET/HEAD /v2/<name>/manifests/<reference> — the stored bytes, as negotiated.
# https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
async def get_manifest(request: web.Request) -> web.Response:
    name = repository(request)
    reference = request.match_info["reference"]
    store = storage(request)
    stored = store.resolve(name, reference)
    stored = negotiate(
        store,
        name,
        stored,
        accepted_types(request.headers.getall("Accept", ())),
        by_tag=not is_digest_reference(reference),
        policy=store.options.negotiation,
    )
    etag = f'"{stored.digest}"'
    headers = {
        "Docker-Content-Digest": stored.digest,
        "ETag": etag,
        "Content-Type": stored.media_type,
    }
    if etag in request.headers.get("If-None-Match", "") or stored.digest == request.headers.get(
        "If-None-Match"
    ):
        return web.Response(status=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(stored.body))
        return web.Response(headers=headers)
    return web.Response(body=stored.body, headers=headers)


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
