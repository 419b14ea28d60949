"""The web page over HTTP: the Jinja2 environment and its filters, the two handlers and
:func:`add_web_ui`, which adds their routes to an application."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web

from fakeregistry.registry.auth import CATALOG, Access
from fakeregistry.registry.http.auth import AUTH
from fakeregistry.registry.http.keys import ON_ERROR, STORAGE
from fakeregistry.registry.webui.view import describe_repository, short_digest
from fakeregistry.rules.units import format_size

__all__ = [
    "add_web_ui",
    "get_index_page",
    "get_repository_page",
    "human_size",
    "repository_path",
]

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
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
    return _render(
        "index.html",
        host=request.host,
        repositories=repositories,
        tag_count=sum(len(r.tags) for r in repositories),
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


def add_web_ui(app: web.Application) -> None:
    """Serve the web page on ``app`` (before it starts): ``GET /`` and ``GET /ui/<name>``."""
    app.router.add_get("/", get_index_page)
    app.router.add_get("/ui/{name:.+}", get_repository_page)
