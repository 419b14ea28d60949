"""Listings: tags, the catalog and referrers (distribution-spec "Content discovery")."""

from __future__ import annotations

import json
from urllib.parse import quote

from aiohttp import web

from fakeregistry.registry.http.requests import page_params, repository, storage
from fakeregistry.registry.storage import Page
from fakeregistry.rules.errors import ErrorCode, RegistryError
from fakeregistry.rules.mediatypes import OCI_INDEX

__all__ = ["get_catalog", "get_referrers", "get_tags"]

# distribution's catalog returns 100 entries when the client names no ``n``.
CATALOG_DEFAULT_PAGE = 100


def _listing(path: str, page: Page, n: int | None, payload: dict[str, object]) -> web.Response:
    headers = {}
    if page.next_last is not None and n:
        link = f"{path}?last={quote(page.next_last, safe='')}&n={n}"
        headers["Link"] = f'<{link}>; rel="next"'
    return web.Response(
        body=json.dumps(payload).encode(), content_type="application/json", headers=headers
    )


# end-8a, end-8b: GET /v2/<name>/tags/list[?n=<n>&last=<last>] — tags in lexical order.
# https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
async def get_tags(request: web.Request) -> web.Response:
    name = repository(request)
    n, last = page_params(request)
    page = storage(request).list_tags(name, n, last)
    return _listing(f"/v2/{name}/tags/list", page, n, {"name": name, "tags": page.items})


# GET /v2/_catalog[?n=<n>&last=<last>] — repository names (distribution's API; not in the
# OCI spec).
# https://distribution.github.io/distribution/spec/api/#listing-repositories
async def get_catalog(request: web.Request) -> web.Response:
    n, last = page_params(request, default_n=CATALOG_DEFAULT_PAGE)
    page = storage(request).catalog(n, last)
    return _listing("/v2/_catalog", page, n, {"repositories": page.items})


# end-12a, end-12b: GET /v2/<name>/referrers/<digest>[?artifactType=<type>] — an index of the
# manifests whose subject is <digest>; always 200, empty when there are none.
# https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
async def get_referrers(request: web.Request) -> web.Response:
    name = repository(request)
    store = storage(request)
    if not store.options.referrers:
        raise RegistryError(ErrorCode.NOT_FOUND, "the referrers API is disabled on this registry")
    artifact_type = request.query.get("artifactType")
    descriptors = store.referrers(name, request.match_info["digest"], artifact_type)
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
    headers = {"Content-Type": OCI_INDEX}
    if artifact_type is not None:
        headers["OCI-Filters-Applied"] = "artifactType"
    return web.Response(body=json.dumps(index).encode(), headers=headers)
