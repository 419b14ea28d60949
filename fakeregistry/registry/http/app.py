"""The API application: every ``/v2/`` route and the token endpoint, with their middlewares.

:func:`fakeregistry.registry.app.create_app` wraps it (and adds the web page when asked).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from fakeregistry.registry.auth import AuthConfig
from fakeregistry.registry.http import base, blobs, discovery, health, manifests, uploads
from fakeregistry.registry.http.auth import add_token_routes, auth_middleware
from fakeregistry.registry.http.blobhost import BLOB_HOST, BlobHost
from fakeregistry.registry.http.instrument import Instruments, instrument_middleware
from fakeregistry.registry.http.keys import ON_ERROR, STORAGE
from fakeregistry.registry.http.middleware import add_common_headers, registry_middleware
from fakeregistry.registry.http.operations import operations_middleware
from fakeregistry.registry.http.personality import personality_middleware
from fakeregistry.registry.http.protocol import release_unclaimed_body
from fakeregistry.registry.options import RegistryOptions
from fakeregistry.registry.personality.rules import BlobRedirect
from fakeregistry.registry.storage import Storage

__all__ = ["STORAGE", "create_api_app"]

# ``<name>`` may itself contain "blobs", "manifests", "tags" or "uploads" as path segments, so
# it is matched greedily and each route is decided by its suffix.
_NAME = "{name:.+}"


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
    app.on_response_prepare.append(add_common_headers)
    # A large body held for direct receiving but answered without being read (a 401, 404, ...)
    # goes back to aiohttp, which reads or drops it as any unread body.
    app.on_response_prepare.append(release_unclaimed_body)
    app[STORAGE] = store
    if on_error is not None:
        app[ON_ERROR] = on_error
    if auth is not None:
        add_token_routes(app, auth)
    router = app.router
    router.add_get("/v2/", base.get_base)  # also answers HEAD
    router.add_get("/v2/_catalog", discovery.get_catalog, allow_head=False)
    router.add_get(f"/v2/{_NAME}/tags/list", discovery.get_tags, allow_head=False)
    router.add_get(f"/v2/{_NAME}/referrers/{{digest}}", discovery.get_referrers, allow_head=False)
    router.add_get(f"/v2/{_NAME}/manifests/{{reference}}", manifests.get_manifest)
    router.add_put(f"/v2/{_NAME}/manifests/{{reference}}", manifests.put_manifest)
    router.add_delete(f"/v2/{_NAME}/manifests/{{reference}}", manifests.delete_manifest)
    router.add_post(f"/v2/{_NAME}/blobs/uploads/", uploads.start_upload)
    router.add_get(f"/v2/{_NAME}/blobs/uploads/{{upload_id}}", uploads.get_upload, allow_head=False)
    router.add_patch(f"/v2/{_NAME}/blobs/uploads/{{upload_id}}", uploads.patch_upload)
    router.add_put(f"/v2/{_NAME}/blobs/uploads/{{upload_id}}", uploads.finish_upload)
    router.add_delete(f"/v2/{_NAME}/blobs/uploads/{{upload_id}}", uploads.cancel_upload)
    router.add_get(f"/v2/{_NAME}/blobs/{{digest}}", blobs.get_blob)
    router.add_delete(f"/v2/{_NAME}/blobs/{{digest}}", blobs.delete_blob)
    router.add_get(health.HEALTH_PATH, health.get_health)
    return app
