"""The API application: every ``/v2/`` route and the token endpoint, with their middlewares.

:func:`fakeregistry.registry.app.create_app` wraps it (and adds the web page when asked).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from fakeregistry.registry.auth import AuthConfig
from fakeregistry.registry.http import base, blobs, discovery, health, manifests, uploads
from fakeregistry.registry.http.answers import ANSWERS, AnswerCache
from fakeregistry.registry.http.auth import add_token_routes, auth_middleware
from fakeregistry.registry.http.blobhost import BLOB_HOST, BlobHost
from fakeregistry.registry.http.instrument import Instruments, instrument_middleware
from fakeregistry.registry.http.keys import ON_ERROR, STORAGE
from fakeregistry.registry.http.middleware import registry_middleware, set_common_headers
from fakeregistry.registry.http.operations import operations_middleware
from fakeregistry.registry.http.personality import personality_middleware
from fakeregistry.registry.http.protocol import release_unclaimed
from fakeregistry.registry.http.router import RepositoryRoutes
from fakeregistry.registry.options import RegistryOptions
from fakeregistry.registry.personality.rules import BlobRedirect
from fakeregistry.registry.storage import Storage

__all__ = ["STORAGE", "create_api_app"]


async def _prepare_response(request: web.Request, response: web.StreamResponse) -> None:
    """The ``on_response_prepare`` hook: the common headers (and JSON for aiohttp's own text
    errors); a large body held for direct receiving but answered without being read (a 401,
    404, ...) goes back to aiohttp, which reads or drops it as any unread body. One hook, not
    two: each costs a manifest GET a coroutine."""
    set_common_headers(response)
    release_unclaimed(request)


def create_api_app(
    options: RegistryOptions | None = None,
    *,
    storage: Storage | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    instruments: Instruments | None = None,
    auth: AuthConfig | None = None,
) -> web.Application:
    """A registry application serving ``storage`` (a fresh one with ``options`` by default).

    ``on_error`` is called with any unexpected exception a handler raises (the client gets a
    500 ``UNKNOWN`` error), so test harnesses can fail the test that caused it.
    ``instruments`` turns on the request log and fault injection.
    ``auth`` asks for credentials or tokens (:class:`fakeregistry.registry.auth.AuthConfig`) and
    serves
    the token endpoint in token mode; None (the default) adds no auth middleware at all, unless
    the options' personality copies a registry that always authenticates: then its shape
    (:meth:`AuthConfig.for_personality`, user ``user``/``password``).
    """
    store = storage if storage is not None else Storage(options)
    personality = store.options.persona
    if auth is None:
        auth = AuthConfig.for_personality(personality)
    middlewares: list[Middleware] = [operations_middleware, registry_middleware]
    if instruments is not None:
        middlewares.insert(0, instrument_middleware(instruments))
    if auth is not None:
        middlewares.append(auth_middleware(auth))
    app = web.Application(middlewares=middlewares, client_max_size=0)
    if not personality.is_spec:
        # docs/personalities.md: the personality's rules, inside auth, over the core.
        app.middlewares.append(personality_middleware(personality, app))
        if personality.rule(BlobRedirect) is not None:
            app[BLOB_HOST] = BlobHost(store)
    app.on_response_prepare.append(_prepare_response)
    app[STORAGE] = store
    if auth is None and personality.is_spec:
        # Manifest answers replayed below the web layer (answers.py says when, and why only
        # without auth and with the spec personality).
        app[ANSWERS] = AnswerCache(store, instruments)
    if on_error is not None:
        app[ON_ERROR] = on_error
    if auth is not None:
        add_token_routes(app, auth)
    router = app.router
    repository = RepositoryRoutes("/v2")  # /v2/<name>/<suffix>, dispatched by the suffix
    repository.add_route("GET", "tags/list", discovery.get_tags, allow_head=False)
    repository.add_route("GET", "referrers/{digest}", discovery.get_referrers, allow_head=False)
    repository.add_route("GET", "manifests/{reference}", manifests.get_manifest)
    repository.add_route("PUT", "manifests/{reference}", manifests.put_manifest)
    repository.add_route("DELETE", "manifests/{reference}", manifests.delete_manifest)
    repository.add_route("POST", "blobs/uploads/", uploads.start_upload)
    repository.add_route("GET", "blobs/uploads/{upload_id}", uploads.get_upload, allow_head=False)
    repository.add_route("PATCH", "blobs/uploads/{upload_id}", uploads.patch_upload)
    repository.add_route("PUT", "blobs/uploads/{upload_id}", uploads.finish_upload)
    repository.add_route("DELETE", "blobs/uploads/{upload_id}", uploads.cancel_upload)
    repository.add_route("GET", "blobs/{digest}", blobs.get_blob)
    repository.add_route("DELETE", "blobs/{digest}", blobs.delete_blob)
    # Registered first: aiohttp indexes it and "/v2/" both under "/v2" and tries them in this
    # order; no path matches both, and repository requests are the many.
    router.register_resource(repository)
    router.add_get("/v2/", base.get_base)  # also answers HEAD
    router.add_get("/v2/_catalog", discovery.get_catalog, allow_head=False)
    router.add_get(health.HEALTH_PATH, health.get_health)
    return app
