"""Searching and filtering the front page: which repositories and tags a query keeps.

A query is free text (``q``: a substring of the repository name, the tag or the digest, any
case), a type (``kind``: ``image``, ``list``, ``index``, ``artifact``, the page's type classes)
and a platform (``platform``: a substring of a platform row, e.g. ``arm/v6`` or ``windows``).
Every part given must match; a repository is kept when one of its tags is, or, for a query
of text alone, when its name matches.

>>> Query.parse({"q": " Demo ", "kind": "index"})
Query(text='demo', kind='index', platform='')
>>> Query.parse({}).active
False
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from fakeregistry.registry.webui.view import ManifestView, RepositoryView

__all__ = ["KINDS", "Query", "filter_repositories"]

KINDS: tuple[tuple[str, str], ...] = (
    ("", "any type"),
    ("image", "image"),
    ("list", "Docker manifest list"),
    ("index", "OCI index"),
    ("artifact", "artifact"),
)
_MAX_QUERY = 200


@dataclass(frozen=True, slots=True)
class Query:
    text: str = ""
    kind: str = ""
    platform: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Query:
        """The query in a request's parameters (unknown kinds are ignored; long text cut)."""
        kind = params.get("kind", "")
        return cls(
            text=params.get("q", "").strip().lower()[:_MAX_QUERY],
            kind=kind if kind in dict(KINDS) else "",
            platform=params.get("platform", "").strip().lower()[:_MAX_QUERY],
        )

    @property
    def active(self) -> bool:
        return bool(self.text or self.kind or self.platform)

    def keeps(self, repository: str, manifest: ManifestView) -> bool:
        if self.kind and manifest.kind_class != self.kind:
            return False
        if self.platform and not any(
            row.platform and self.platform in row.platform.label.lower() for row in manifest.rows
        ):
            return False
        if self.text:
            fields = (repository, manifest.tag or "", manifest.digest)
            return any(self.text in value.lower() for value in fields)
        return True


def filter_repositories(
    repositories: Sequence[RepositoryView], query: Query
) -> list[RepositoryView]:
    """The repositories (with only their matching tags) the query keeps."""
    if not query.active:
        return list(repositories)
    kept: list[RepositoryView] = []
    for repository in repositories:
        name_matches = bool(query.text) and query.text in repository.name.lower()
        only_text = not (query.kind or query.platform)
        if name_matches and only_text:
            kept.append(repository)
            continue
        tags = tuple(m for m in repository.tags if query.keeps(repository.name, m))
        if tags:
            kept.append(replace(repository, tags=tags))
    return kept
