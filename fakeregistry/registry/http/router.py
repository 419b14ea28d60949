"""Every ``/v2/<name>/...`` route as one aiohttp resource that dispatches by the path's suffix.

``<name>`` may itself contain "blobs", "manifests", "tags" or "uploads" as path segments, so each
route is a greedy ``/v2/{name:.+}/<suffix>`` pattern. Registered one by one, aiohttp indexes
them all under ``/v2`` and tries their regular expressions in turn: a manifest ``GET`` failed
two of them before matching the third. The routes' suffixes differ in the path's
second-to-last segment (``uploads`` alone also in whether the last is empty), so at most one of
them can match a given path: :class:`RepositoryRoutes` picks that one with a dictionary lookup
and matches only its pattern. What matches, the ``match_info`` values, the routes and their
methods (so ``404`` against ``405``) are those of the separate resources; only the order in
which the impossible ones were tried is gone.
"""

from __future__ import annotations

from collections.abc import Iterator

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from aiohttp.web import AbstractResource, DynamicResource, ResourceRoute, UrlMappingMatchInfo
from yarl import URL

__all__ = ["RepositoryRoutes"]


def _key(second_to_last: str, last: str) -> str:
    # "uploads/" names the suffix ending in "uploads/" (POST), "uploads" the one after it.
    return second_to_last + "/" if not last else second_to_last


class RepositoryRoutes(AbstractResource):
    """The routes ``<prefix>/{name:.+}/<suffix>``, one resource under ``<prefix>``'s index."""

    def __init__(self, prefix: str = "/v2") -> None:
        super().__init__()
        self._prefix = prefix
        self._resources: list[DynamicResource] = []
        self._by_key: dict[str, DynamicResource] = {}

    def add_route(
        self, method: str, suffix: str, handler: Handler, *, allow_head: bool = True
    ) -> ResourceRoute:
        """Route ``method <prefix>/{name:.+}/<suffix>`` (a ``GET`` also answers ``HEAD``
        unless ``allow_head`` is false, as :meth:`aiohttp.web.UrlDispatcher.add_get`)."""
        second_to_last, _, last = suffix.rpartition("/")
        second_to_last = second_to_last.rpartition("/")[2]
        if not second_to_last or "{" in second_to_last:
            raise ValueError(f"the segment before the last of {suffix!r} must be a literal")
        key = _key(second_to_last, last)
        path = f"{self._prefix}/{{name:.+}}/{suffix}"
        resource = self._by_key.get(key)
        if resource is None:
            resource = DynamicResource(path)
            self._by_key[key] = resource
            self._resources.append(resource)
        elif resource.canonical != DynamicResource(path).canonical:
            raise ValueError(f"{suffix!r} cannot be told apart from {resource.canonical!r}")
        if method == hdrs.METH_GET and allow_head:
            resource.add_route(hdrs.METH_HEAD, handler)
        return resource.add_route(method, handler)

    async def resolve(self, request: web.Request) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        path = request.rel_url.path_safe
        head, _, last = path.rpartition("/")
        resource = self._by_key.get(_key(head[head.rfind("/") + 1 :], last))
        if resource is None:
            return None, set()
        return await resource.resolve(request)

    @property
    def canonical(self) -> str:
        # Indexed by aiohttp under the part before the first "{": the prefix.
        return f"{self._prefix}/{{name}}/{{suffix}}"

    def url_for(self, **parts: str) -> URL:
        raise RuntimeError("RepositoryRoutes has no URL of its own; use one of its routes")

    def add_prefix(self, prefix: str) -> None:
        self._prefix = prefix + self._prefix
        for resource in self._resources:
            resource.add_prefix(prefix)

    def get_info(self) -> dict[str, str]:  # type: ignore[override]
        return {"formatter": self.canonical}

    def raw_match(self, path: str) -> bool:
        return any(resource.raw_match(path) for resource in self._resources)

    def freeze(self) -> None:
        for resource in self._resources:
            resource.freeze()

    def __len__(self) -> int:
        return sum(len(resource) for resource in self._resources)

    def __iter__(self) -> Iterator[ResourceRoute]:
        for resource in self._resources:
            yield from resource
