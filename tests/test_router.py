"""RepositoryRoutes resolves every path and method as the separate aiohttp routes it replaced.

The registry's ``/v2/<name>/<suffix>`` routes were registered one by one (greedy
``{name:.+}`` patterns tried in turn); they are now one resource that picks the only route a
path's suffix allows. Every combination of the segments the routes are told apart by (names
containing ``blobs``, ``manifests``, ``tags``, ``uploads``...), with odd characters, is resolved
by both and must give the same handler, ``match_info`` and 404/405 with the same methods.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Coroutine
from types import SimpleNamespace
from typing import cast

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp.web import UrlMappingMatchInfo
from yarl import URL

from fakeregistry.registry.app import create_app
from fakeregistry.registry.http.router import RepositoryRoutes

# (method, suffix, allow_head) in the order the registry registered them.
ROUTES = [
    ("GET", "tags/list", False),
    ("GET", "referrers/{digest}", False),
    ("GET", "manifests/{reference}", True),
    ("PUT", "manifests/{reference}", True),
    ("DELETE", "manifests/{reference}", True),
    ("POST", "blobs/uploads/", True),
    ("GET", "blobs/uploads/{upload_id}", False),
    ("PATCH", "blobs/uploads/{upload_id}", True),
    ("PUT", "blobs/uploads/{upload_id}", True),
    ("DELETE", "blobs/uploads/{upload_id}", True),
    ("GET", "blobs/{digest}", True),
    ("DELETE", "blobs/{digest}", True),
]
METHODS = ("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS")
SEGMENTS = ("a", "blobs", "uploads", "manifests", "tags", "list", "referrers", "")
ODD_PATHS = [
    "/v2",
    "/v2/",
    "//v2/a/manifests/b",
    "/v2//manifests/b",
    "/v2/_catalog",
    "/v2/_catalog/",
    "/v2/_catalog/tags/list",
    "/v2/a/manifests/{b}",
    "/v2/{a}/manifests/b",
    "/v2/a/manifests/b%2Fc",
    "/v2/a%2Fb/manifests/c",
    "/v2/a%0Ab/manifests/c",
    "/v2/a/manifests/b%0A",
    "/v2/a%25/blobs/sha256:00",
    "/v2/a b/blobs/uploads/",
    "/v2/a/blobs/uploads/x/",
    "/v2/library/debian/manifests/sha256:" + "0" * 64,
    "/v2/x/manifests/y/manifests/z",
    "/v2/x/blobs/uploads/blobs/uploads/",
    "/v2/x/tags/list/tags/list",
    "/healthz",
    "/v3/a/manifests/b",
]


def _handler(label: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        raise AssertionError(label)

    handler.__name__ = label
    return handler


HANDLERS = {(method, suffix): _handler(f"{method} {suffix}") for method, suffix, _ in ROUTES}


def _separate_routes() -> web.Application:
    app = web.Application()
    for method, suffix, allow_head in ROUTES:
        path = f"/v2/{{name:.+}}/{suffix}"
        handler = HANDLERS[method, suffix]
        if method == "GET":
            app.router.add_get(path, handler, allow_head=allow_head)
        else:
            app.router.add_route(method, path, handler)
    app.router.add_get("/v2/", _handler("base"))
    app.router.add_get("/healthz", _handler("health"))
    return app


def _one_resource() -> web.Application:
    app = web.Application()
    routes = RepositoryRoutes("/v2")
    for method, suffix, allow_head in ROUTES:
        routes.add_route(method, suffix, HANDLERS[method, suffix], allow_head=allow_head)
    app.router.register_resource(routes)
    app.router.add_get("/v2/", _handler("base"))
    app.router.add_get("/healthz", _handler("health"))
    return app


def _paths() -> list[str]:
    paths = list(ODD_PATHS)
    for depth in range(1, 5):
        for parts in itertools.product(SEGMENTS, repeat=depth):
            paths.append("/v2/" + "/".join(parts))
    return paths


Outcome = tuple[str, object, object]


def _run(coroutine: Coroutine[None, None, UrlMappingMatchInfo]) -> UrlMappingMatchInfo:
    """The result of a coroutine that never suspends (resolving does not)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast(UrlMappingMatchInfo, done.value)
    raise AssertionError("resolve suspended")


def _resolver(app: web.Application) -> Callable[[str, str], Outcome]:
    app.freeze()

    def resolve(method: str, path: str) -> Outcome:
        # All the router reads of a request (a mocked request each was too slow for the table).
        request = cast(web.Request, SimpleNamespace(method=method, rel_url=URL(path)))
        match_info = _run(app.router.resolve(request))
        error = match_info.http_exception
        if error is not None:
            allowed = sorted(getattr(error, "allowed_methods", ()))
            return "error", error.status, allowed
        return "match", match_info.handler.__name__, dict(match_info)

    return resolve


def test_resolves_as_the_separate_routes() -> None:
    before, after = _resolver(_separate_routes()), _resolver(_one_resource())
    differences = []
    matched = 0
    for path in _paths():
        for method in METHODS:
            expected, got = before(method, path), after(method, path)
            if expected != got:
                differences.append((method, path, expected, got))
            matched += expected[0] == "match"
    assert differences == []
    assert matched > 1000  # the table reaches every route, many times


@pytest.mark.parametrize(
    ("suffix", "problem"),
    [
        ("{x}/list", "must be a literal"),
        ("list", "must be a literal"),
        ("manifests/latest", "cannot be told apart"),
        ("other/manifests/{reference}", "cannot be told apart"),
    ],
)
def test_routes_that_could_not_be_told_apart_are_refused(suffix: str, problem: str) -> None:
    routes = RepositoryRoutes("/v2")
    routes.add_route("GET", "manifests/{reference}", HANDLERS["GET", "tags/list"])
    with pytest.raises(ValueError, match=problem):
        routes.add_route("GET", suffix, HANDLERS["GET", "tags/list"])


def test_registry_lists_every_route() -> None:
    app = create_app()
    routes = {
        (route.method, route.resource.canonical)
        for resource in app.router.resources()
        for route in resource
        if route.resource is not None
    }
    for method, suffix, allow_head in ROUTES:
        canonical = f"/v2/{{name}}/{suffix}"
        assert (method, canonical) in routes
        if method == "GET":
            assert (("HEAD", canonical) in routes) == allow_head
    # and HEAD of two of them; /v2/ and /healthz (GET, HEAD), /v2/_catalog
    assert len(routes) == len(ROUTES) + 2 + 5
