"""The web page over HTTP: the Jinja2 environment and its filters, the handlers and
:func:`add_web_ui`, which adds their routes to an application.

Routes (``NAME`` is a repository, ``REF`` a tag or digest):

- ``GET /`` every repository; ``?q=TEXT&kind=KIND&platform=TEXT`` filters them
  (:mod:`~fakeregistry.registry.webui.search`);
- ``GET /ui/NAME`` one repository, untagged manifests included;
- ``GET /ui/NAME/-/manifest/REF`` one manifest: bytes, config, layers, referrers and
  signatures (``?key=PEM`` verifies the cosign ones);
- ``GET /ui/NAME/-/raw/REF`` the manifest's bytes exactly as stored (``text/plain``, with
  ``Docker-Content-Digest``);
- ``GET /ui/NAME/-/engines/REF?host=SPECIFIER`` what each engine would pull on that host;
  ``&format=json`` gives the same as JSON
  (:class:`~fakeregistry.registry.webui.engines.EnginesView`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from aiohttp import web

from fakeregistry.platforms.platform import PlatformError
from fakeregistry.registry.auth import CATALOG, Access
from fakeregistry.registry.http.auth import AUTH
from fakeregistry.registry.http.keys import ON_ERROR, STORAGE
from fakeregistry.registry.webui.detail import describe_detail, raw_manifest
from fakeregistry.registry.webui.engines import (
    DEFAULT_HOST,
    PRESETS,
    describe_engines,
    parse_host,
)
from fakeregistry.registry.webui.search import KINDS, Query, filter_repositories
from fakeregistry.registry.webui.signatures import parse_keys
from fakeregistry.registry.webui.view import describe_repository, short_digest
from fakeregistry.rules.errors import RegistryError
from fakeregistry.rules.units import format_size
from fakeregistry.trust.errors import TrustError

__all__ = [
    "add_web_ui",
    "engines_path",
    "get_engines_page",
    "get_index_page",
    "get_manifest_page",
    "get_raw_manifest",
    "get_repository_page",
    "human_size",
    "manifest_path",
    "repository_path",
]

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def human_size(size: int | None) -> str:
    """A size as :func:`~fakeregistry.rules.units.format_size` writes it; ``—`` when unknown.

    >>> human_size(1500), human_size(None)
    ('1.5 kB', '—')
    """
    return "—" if size is None else format_size(size)


def repository_path(name: str) -> str:
    """The page of repository ``name``: ``/ui/team/app`` (percent-encoded)."""
    return "/ui/" + quote(name, safe="/")


def manifest_path(name: str, reference: str) -> str:
    """The manifest view: ``/ui/team/app/-/manifest/1.0``."""
    return f"{repository_path(name)}/-/manifest/{quote(reference, safe=':')}"


def engines_path(name: str, reference: str, host: str | None = None, fmt: str = "") -> str:
    """The engine view: ``/ui/team/app/-/engines/1.0?host=linux%2Farm%2Fv6``."""
    path = f"{repository_path(name)}/-/engines/{quote(reference, safe=':')}"
    params = {k: v for k, v in (("host", host), ("format", fmt)) if v}
    return f"{path}?{urlencode(params)}" if params else path


def raw_path(name: str, reference: str) -> str:
    return f"{repository_path(name)}/-/raw/{quote(reference, safe=':')}"


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("fakeregistry.registry.webui", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["size"] = human_size
    environment.filters["short_digest"] = short_digest
    environment.filters["repository_path"] = repository_path
    environment.globals["manifest_path"] = manifest_path
    environment.globals["engines_path"] = engines_path
    environment.globals["raw_path"] = raw_path
    return environment


_TEMPLATES = _environment()


def _render(template: str, status: int = 200, **context: Any) -> web.Response:
    body = _TEMPLATES.get_template(template).render(**context)
    return web.Response(
        # A stored JSON string may hold a lone surrogate ("\ud800" is valid JSON), which
        # UTF-8 cannot encode: it is shown escaped, as \ud800, instead of failing the page.
        body=body.encode("utf-8", "backslashreplace"),
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers=_SECURITY_HEADERS,
    )


def _authorize(request: web.Request, needed: Iterable[Access]) -> None:
    """Raise the API's 401/403 unless the request may have ``needed`` (no-op without auth)."""
    config = request.app.get(AUTH)
    if config is None:
        return
    # The token endpoint as the client addressed this server (as the /v2/ middleware says it).
    realm = config.token_realm or f"{request.url.origin()}{config.token_path}"
    config.authorize(request.headers.get("Authorization"), list(needed), token_realm=realm)


# GET / — every repository and its tags.
async def get_index_page(request: web.Request) -> web.Response:
    storage = request.app[STORAGE]
    names = sorted(storage.repositories)
    _authorize(request, [CATALOG, *(Access.repository(name, "pull") for name in names)])
    on_error = request.app.get(ON_ERROR)
    repositories = [
        view
        for name in names
        if (view := describe_repository(storage, name, on_error=on_error)) is not None
    ]
    query = Query.parse(request.query)
    shown = filter_repositories(repositories, query)
    return _render(
        "index.html",
        host=request.host,
        repositories=shown,
        total=len(repositories),
        query=query,
        kinds=KINDS,
        tag_count=sum(len(r.tags) for r in shown),
        usage=storage.usage(),
        personality=storage.options.persona,
    )


# GET /ui/<name> — one repository, untagged manifests included.
async def get_repository_page(request: web.Request) -> web.Response:
    storage = request.app[STORAGE]
    name = request.match_info["name"]
    _authorize(request, [Access.repository(name, "pull")])
    view = describe_repository(
        storage, name, with_untagged=True, on_error=request.app.get(ON_ERROR)
    )
    usage = storage.usage()
    persona = storage.options.persona
    if view is None:
        return _render(
            "missing.html", 404, host=request.host, name=name, usage=usage, personality=persona
        )
    return _render(
        "repository.html", host=request.host, repository=view, usage=usage, personality=persona
    )


def _target(request: web.Request) -> tuple[str, str]:
    name, reference = request.match_info["name"], request.match_info["reference"]
    _authorize(request, [Access.repository(name, "pull")])
    return name, reference


def _not_found(request: web.Request, name: str, reference: str) -> web.Response:
    return _render(
        "missing.html",
        status=404,
        host=request.host,
        name=f"{name}:{reference}" if "@" not in reference else name,
        usage=request.app[STORAGE].usage(),
    )


# GET /ui/<name>/-/manifest/<reference> — one manifest in full.
async def get_manifest_page(request: web.Request) -> web.Response:
    name, reference = _target(request)
    storage = request.app[STORAGE]
    key_text = request.query.get("key", "").strip()
    keys, key_error = None, None
    if key_text:
        try:
            keys = parse_keys(key_text)
        except (TrustError, ValueError) as exc:
            key_error = str(exc)
    detail = describe_detail(storage, name, reference, keys=keys)
    if detail is None:
        return _not_found(request, name, reference)
    return _render(
        "manifest.html",
        host=request.host,
        detail=detail,
        key_text=key_text,
        key_error=key_error,
        usage=storage.usage(),
    )


# GET /ui/<name>/-/raw/<reference> — the manifest's bytes as stored.
async def get_raw_manifest(request: web.Request) -> web.Response:
    name, reference = _target(request)
    try:
        body, media_type, digest = raw_manifest(request.app[STORAGE], name, reference)
    except RegistryError:
        return _not_found(request, name, reference)
    headers = dict(_SECURITY_HEADERS)
    headers["Docker-Content-Digest"] = digest
    headers["X-Manifest-Media-Type"] = media_type
    return web.Response(body=body, content_type="text/plain", charset="utf-8", headers=headers)


def _json(document: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(document, indent=2),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


# GET /ui/<name>/-/engines/<reference>?host=SPECIFIER[&format=json] — what each engine pulls.
async def get_engines_page(request: web.Request) -> web.Response:
    name, reference = _target(request)
    storage = request.app[STORAGE]
    as_json = request.query.get("format") == "json"
    specifier = request.query.get("host", "").strip() or DEFAULT_HOST
    error, view = None, None
    try:
        host = parse_host(specifier)
    except PlatformError as exc:
        error = f"invalid host platform: {exc}"
    else:
        view = describe_engines(storage, name, reference, host)
        if view is None:
            if as_json:
                return _json({"error": f"no manifest {reference} in {name}"}, 404)
            return _not_found(request, name, reference)
    if as_json:
        return _json({"error": error}, 400) if view is None else _json(view.to_json())
    return _render(
        "engines.html",
        status=400 if error else 200,
        host=request.host,
        repository=name,
        reference=reference,
        specifier=specifier,
        presets=PRESETS,
        error=error,
        view=view,
        usage=storage.usage(),
    )


def add_web_ui(app: web.Application) -> None:
    """Serve the web page on ``app`` (before it starts): ``GET /``, ``GET /ui/<name>`` and
    the manifest, raw and engine views under ``/ui/<name>/-/``."""
    app.router.add_get("/", get_index_page)
    app.router.add_get("/ui/{name:.+}/-/manifest/{reference:[^/]+}", get_manifest_page)
    app.router.add_get("/ui/{name:.+}/-/raw/{reference:[^/]+}", get_raw_manifest)
    app.router.add_get("/ui/{name:.+}/-/engines/{reference:[^/]+}", get_engines_page)
    app.router.add_get("/ui/{name:.+}", get_repository_page)
