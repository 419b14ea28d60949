"""The paged listings: ``/v2/<name>/tags/list`` and ``/v2/_catalog``, following
``Link: <…>; rel="next"`` (relative or absolute) until the last page."""

from __future__ import annotations

import json
from collections.abc import Sequence

import aiohttp

from fakeregistry.client.arguments import RepositoryLike, as_reference, pull_scopes
from fakeregistry.client.errors import RegistryClientError
from fakeregistry.client.transport import Transport
from fakeregistry.rules.scope import ANY, Scope

__all__ = ["ListingsAPI"]

# distribution: the catalog is the resource "registry:catalog" with the action "*".
_CATALOG = Scope("registry", "catalog", (ANY,))


def _next_page(response: aiohttp.ClientResponse) -> str | None:
    """The absolute URL of the next page (aiohttp resolves a relative ``Link``), or None."""
    link = response.links.get("next")
    return str(link["url"]) if link is not None else None


class ListingsAPI:
    """:class:`~fakeregistry.client.RegistryClient`'s tag and catalog listings."""

    _transport: Transport

    async def _paged(self, host: str, first: str, key: str, scopes: Sequence[Scope]) -> list[str]:
        items: list[str] = []
        target: str | None = first
        seen: set[str] = set()
        while target is not None and target not in seen:
            seen.add(target)
            async with self._transport.request("GET", host, target, scopes=scopes) as response:
                try:
                    document = json.loads(await response.read())
                except (ValueError, UnicodeDecodeError) as exc:
                    raise RegistryClientError(f"GET {response.url}: not JSON: {exc}") from None
                page = document.get(key) if isinstance(document, dict) else None
                items.extend(x for x in page or () if isinstance(x, str))
                target = _next_page(response)
        return items

    async def list_tags(self, repo: RepositoryLike, *, page_size: int | None = None) -> list[str]:
        """Every tag of the repository, following ``Link: <…>; rel="next"`` pages."""
        reference = as_reference(repo)
        target = f"/v2/{reference.repository}/tags/list"
        if page_size is not None:
            target += f"?n={page_size}"
        return await self._paged(reference.registry, target, "tags", pull_scopes(reference))

    async def catalog(self, registry: str, *, page_size: int | None = None) -> list[str]:
        """Every repository name (``GET /v2/_catalog``), following pages."""
        target = "/v2/_catalog" + (f"?n={page_size}" if page_size is not None else "")
        return await self._paged(registry, target, "repositories", [_CATALOG])
