"""The manifest endpoints: ``/v2/<name>/manifests/<reference>`` (get, head, put, delete)
and ``/v2/<name>/referrers/<digest>`` with its tag-schema fallback."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import quote

import aiohttp

from fakeregistry.client.arguments import (
    RepositoryLike,
    as_reference,
    delete_scopes,
    parse_digest,
    pull_scopes,
    push_scopes,
)
from fakeregistry.client.errors import NotFoundError, RegistryClientError, RegistryConnectionError
from fakeregistry.client.results import FetchedManifest
from fakeregistry.client.transport import Transport
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.digest import DEFAULT_ALGORITHM, Digest, compute
from fakeregistry.rules.errors import RegistryError
from fakeregistry.rules.model import Descriptor

__all__ = ["DEFAULT_MANIFEST_ACCEPT", "MAX_MANIFEST_SIZE", "ManifestsAPI"]

# What a modern client accepts: both index types first, then both image manifest types.
DEFAULT_MANIFEST_ACCEPT: tuple[str, ...] = (
    mt.OCI_INDEX,
    mt.DOCKER_MANIFEST_LIST,
    mt.OCI_MANIFEST,
    mt.DOCKER_MANIFEST,
)

# containerd limits manifests it reads to 4 MiB (the size the distribution-spec asks registries
# to accept); larger answers are refused before being read.
MAX_MANIFEST_SIZE = 4 * 1024 * 1024


def _manifest_path(repository: str, reference: str) -> str:
    return f"/v2/{repository}/manifests/{reference}"


class ManifestsAPI:
    """:class:`~fakeregistry.client.RegistryClient`'s manifest and referrers methods."""

    _transport: Transport

    async def get_manifest(
        self,
        ref: RepositoryLike,
        *,
        accept: Sequence[str] = DEFAULT_MANIFEST_ACCEPT,
        max_size: int = MAX_MANIFEST_SIZE,
    ) -> FetchedManifest:
        """``GET /v2/<name>/manifests/<tag or digest>`` with ``Accept: <accept>``.

        The body is verified: fetched by digest it must hash to that digest, and it must hash
        to the ``Docker-Content-Digest`` the registry sends.
        """
        reference = as_reference(ref)
        headers = {"Accept": ", ".join(accept)} if accept else {}
        async with self._transport.request(
            "GET",
            reference.registry,
            _manifest_path(reference.repository, reference.reference),
            scopes=pull_scopes(reference),
            headers=headers,
        ) as response:
            if response.content_length is not None and response.content_length > max_size:
                raise RegistryClientError(
                    f"manifest {reference} is {response.content_length} bytes, "
                    f"more than the {max_size} accepted"
                )
            try:
                body = await response.content.read(max_size + 1)
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise RegistryConnectionError(f"GET {response.url}: {exc}") from exc
            if len(body) > max_size:
                raise RegistryClientError(
                    f"manifest {reference} is larger than the {max_size} bytes accepted"
                )
            content_type = response.headers.get("Content-Type", "")
            header_digest = response.headers.get("Docker-Content-Digest")
        return FetchedManifest.verified(
            reference, body, content_type=content_type, header_digest=header_digest
        )

    async def head_manifest(
        self, ref: RepositoryLike, *, accept: Sequence[str] = DEFAULT_MANIFEST_ACCEPT
    ) -> Descriptor:
        """``HEAD /v2/<name>/manifests/<reference>``: media type, digest and size."""
        reference = as_reference(ref)
        headers = {"Accept": ", ".join(accept)} if accept else {}
        async with self._transport.request(
            "HEAD",
            reference.registry,
            _manifest_path(reference.repository, reference.reference),
            scopes=pull_scopes(reference),
            headers=headers,
        ) as response:
            digest = response.headers.get("Docker-Content-Digest") or reference.digest
            if not digest:
                raise RegistryClientError(
                    f"HEAD {response.url}: the registry sent no Docker-Content-Digest"
                )
            return Descriptor(
                mt.base_type(response.headers.get("Content-Type", "")),
                digest,
                response.content_length or 0,
            )

    async def put_manifest(
        self,
        ref: RepositoryLike,
        body: bytes,
        media_type: str,
        *,
        tags: Sequence[str] = (),
    ) -> str:
        """``PUT /v2/<name>/manifests/<reference>``; returns the manifest's digest. *tags*
        become ``?tag=`` parameters (OCI 1.1, only when pushing by digest)."""
        reference = as_reference(ref)
        target = _manifest_path(reference.repository, reference.reference)
        if tags:
            target += "?" + "&".join(f"tag={quote(t, safe='')}" for t in tags)
        algorithm = (
            Digest.parse(reference.digest).algorithm if reference.digest else DEFAULT_ALGORITHM
        )
        async with self._transport.request(
            "PUT",
            reference.registry,
            target,
            scopes=push_scopes(reference),
            headers={"Content-Type": media_type},
            data=body,
            ok=(200, 201, 202),
        ) as response:
            return response.headers.get("Docker-Content-Digest") or str(compute(body, algorithm))

    async def delete_manifest(self, ref: RepositoryLike) -> None:
        """``DELETE /v2/<name>/manifests/<reference>``."""
        reference = as_reference(ref)
        async with self._transport.request(
            "DELETE",
            reference.registry,
            _manifest_path(reference.repository, reference.reference),
            scopes=delete_scopes(reference),
            ok=(200, 202, 204),
        ):
            pass

    async def referrers(
        self, repo: RepositoryLike, digest: str, *, artifact_type: str | None = None
    ) -> list[Descriptor]:
        """Manifests whose ``subject`` is *digest* (``GET /v2/<name>/referrers/<digest>``).

        A registry without the referrers API (404) is asked for the fallback tag
        ``<alg>-<hex>`` instead (distribution-spec "Referrers Tag Schema"). *artifact_type*
        is filtered here when the registry did not apply the filter.
        """
        reference = as_reference(repo)
        parsed = parse_digest(digest)
        target = f"/v2/{reference.repository}/referrers/{digest}"
        if artifact_type is not None:
            target += f"?artifactType={quote(artifact_type, safe='')}"
        filtered = False
        try:
            async with self._transport.request(
                "GET",
                reference.registry,
                target,
                scopes=pull_scopes(reference),
                headers={"Accept": mt.OCI_INDEX},
            ) as response:
                body = await response.read()
                filtered = "artifactType" in response.headers.get("OCI-Filters-Applied", "")
        except NotFoundError:
            fallback = replace(reference, tag=f"{parsed.algorithm}-{parsed.encoded}", digest=None)
            try:
                body = (await self.get_manifest(fallback, accept=[mt.OCI_INDEX])).body
            except NotFoundError:
                return []
        try:
            document = json.loads(body)
            entries = document.get("manifests") or []
            descriptors = [
                Descriptor.from_json(entry, f"manifests[{i}]") for i, entry in enumerate(entries)
            ]
        except (ValueError, UnicodeDecodeError, AttributeError, TypeError, RegistryError) as exc:
            raise RegistryClientError(f"referrers of {digest}: invalid index: {exc}") from None
        if artifact_type is not None and not filtered:
            descriptors = [d for d in descriptors if d.artifact_type == artifact_type]
        return descriptors
