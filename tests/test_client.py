"""``fakeregistry.client`` against our own registry, CNCF distribution, and an auth stub.

The stub (a fake token realm and a registry that demands Bearer tokens or Basic credentials)
is test scaffolding: it lets each row of the auth table check exactly which requests the
client makes, which the real registries do not let us see.
"""

from __future__ import annotations

import base64
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from fakeregistry import RegistryServer
from fakeregistry.client import (
    AuthenticationError,
    Challenge,
    DigestMismatchError,
    HostConfig,
    NotFoundError,
    RegistryClient,
    RegistryClientError,
    RegistryConnectionError,
    RegistryHTTPError,
    Scope,
    SizeMismatchError,
    is_loopback,
    merge_scopes,
    parse_challenges,
)
from fakeregistry.registry.storage import Blob
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.reference import ImageReference
from tests.conftest import RegistryFactory
from tests.content import canonical, digest_of, push_artifact, push_image, push_index
from tests.distribution import Distribution, run_distribution

# -- pure rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param(
            [
                'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
                'scope="repository:library/debian:pull"'
            ],
            [
                (
                    "bearer",
                    {
                        "realm": "https://auth.docker.io/token",
                        "service": "registry.docker.io",
                        "scope": "repository:library/debian:pull",
                    },
                )
            ],
            id="docker-hub",
        ),
        pytest.param(
            [
                'Bearer realm="https://r/token",service="s",scope="repository:a:pull,push",'
                'error="insufficient_scope"'
            ],
            [
                (
                    "bearer",
                    {
                        "realm": "https://r/token",
                        "service": "s",
                        "scope": "repository:a:pull,push",
                        "error": "insufficient_scope",
                    },
                )
            ],
            id="insufficient-scope",
        ),
        pytest.param(
            ['Basic realm="Registry Realm"'], [("basic", {"realm": "Registry Realm"})], id="basic"
        ),
        pytest.param(
            ['Basic realm="b", Bearer realm="t", service="s"'],
            [("basic", {"realm": "b"}), ("bearer", {"realm": "t", "service": "s"})],
            id="two-challenges-one-header",
        ),
        pytest.param(
            ['Basic realm="b"', "bearer REALM=t"],
            [("basic", {"realm": "b"}), ("bearer", {"realm": "t"})],
            id="two-headers-token-values-any-case",
        ),
        pytest.param(
            ['Bearer realm="a \\"quoted\\" realm"'],
            [("bearer", {"realm": 'a "quoted" realm'})],
            id="escaped-quotes",
        ),
        pytest.param(
            ['Bearer scope="a:b:pull b:c:push"'],
            [("bearer", {"scope": "a:b:pull b:c:push"})],
            id="scope-with-space",
        ),
        pytest.param(["Negotiate"], [("negotiate", {})], id="scheme-only"),
        pytest.param(
            ["Basic dXNlcjpwYXNz"], [("basic", {"token68": "dXNlcjpwYXNz"})], id="token68"
        ),
        pytest.param([""], [], id="empty"),
    ],
)
def test_parse_challenges(headers: list[str], expected: list[tuple[str, dict[str, str]]]) -> None:
    assert parse_challenges(headers) == [Challenge(s, p) for s, p in expected]


@pytest.mark.parametrize(
    ("text", "kind", "name", "actions"),
    [
        pytest.param(
            "repository:library/debian:pull", "repository", "library/debian", {"pull"}, id="pull"
        ),
        pytest.param(
            "repository:a/b:push,pull", "repository", "a/b", {"pull", "push"}, id="two-actions"
        ),
        pytest.param("registry:catalog:*", "registry", "catalog", {"*"}, id="catalog"),
        pytest.param(
            "repository:host:5000/a:pull", "repository", "host:5000/a", {"pull"}, id="colon-in-name"
        ),
        pytest.param(
            "repository(plugin):a:pull", "repository(plugin)", "a", {"pull"}, id="resource-class"
        ),
    ],
)
def test_scope_parse(text: str, kind: str, name: str, actions: set[str]) -> None:
    scope = Scope.parse(text)
    assert (scope.type, scope.name, set(scope.actions)) == (kind, name, actions)
    assert Scope.parse(str(scope)) == scope


def test_merge_scopes_unions_actions_per_resource() -> None:
    merged = merge_scopes(
        [
            Scope.parse("repository:a:pull"),
            Scope.parse("repository:a:push"),
            Scope.parse("repository:b:pull"),
        ]
    )
    assert [str(s) for s in merged] == ["repository:a:pull,push", "repository:b:pull"]


@pytest.mark.parametrize(
    ("host", "config", "url"),
    [
        pytest.param("docker.io", HostConfig(), "https://registry-1.docker.io", id="docker-hub"),
        pytest.param("ghcr.io", HostConfig(), "https://ghcr.io", id="https-by-default"),
        pytest.param("localhost:5000", HostConfig(), "http://localhost:5000", id="localhost-http"),
        pytest.param("127.0.0.1:5000", HostConfig(), "http://127.0.0.1:5000", id="loopback-http"),
        pytest.param("[::1]:5000", HostConfig(), "http://[::1]:5000", id="ipv6-loopback-http"),
        pytest.param(
            "127.0.0.1:5000",
            HostConfig(ca_file="ca.pem"),
            "https://127.0.0.1:5000",
            id="ca-file-means-https",
        ),
        pytest.param(
            "localhost:5000",
            HostConfig(insecure=True),
            "https://localhost:5000",
            id="insecure-means-https",
        ),
        pytest.param(
            "localhost:5000",
            HostConfig(plain_http=False),
            "https://localhost:5000",
            id="forced-https",
        ),
        pytest.param(
            "reg.example:5000",
            HostConfig(plain_http=True),
            "http://reg.example:5000",
            id="forced-plain-http",
        ),
    ],
)
def test_base_url(host: str, config: HostConfig, url: str) -> None:
    assert RegistryClient({host: config}).base_url(host) == url


def test_is_loopback() -> None:
    assert [is_loopback(h) for h in ("127.1.2.3", "localhost", "[::1]:1", "10.0.0.1", "a.b")] == [
        True,
        True,
        True,
        False,
        False,
    ]


# -- against our own registry ----------------------------------------------------------------


@pytest.fixture
async def client() -> AsyncIterator[RegistryClient]:
    async with RegistryClient() as c:
        yield c


@pytest.fixture
def http(registry: RegistryServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=registry.url, timeout=30) as c:
        yield c


async def test_ping(registry: RegistryServer, client: RegistryClient) -> None:
    result = await client.ping(registry.host)
    assert (result.status, result.api_version, result.requires_auth) == (200, "registry/2.0", False)
    assert [str(t) for t in client.trace] == [f"GET {registry.url}/v2/ -> 200"]


BLOB = bytes(range(256)) * 41  # 10496 bytes


@pytest.mark.parametrize(
    ("method", "chunk_size", "algorithm", "requests"),
    [
        pytest.param("monolithic", 0, "sha256", ["POST"], id="monolithic"),
        pytest.param("monolithic", 0, "sha512", ["POST"], id="monolithic-sha512"),
        pytest.param("post-put", 0, "sha256", ["POST", "PUT"], id="post-put"),
        pytest.param(
            "chunked", 4096, "sha256", ["POST", "PATCH", "PATCH", "PATCH", "PUT"], id="chunked-3"
        ),
        pytest.param("chunked", 1 << 20, "sha256", ["POST", "PATCH", "PUT"], id="chunked-1"),
        pytest.param(
            "chunked",
            4096,
            "sha512",
            ["POST", "PATCH", "PATCH", "PATCH", "PUT"],
            id="chunked-sha512",
        ),
    ],
)
async def test_push_and_get_blob(
    registry: RegistryServer,
    client: RegistryClient,
    method: Any,
    chunk_size: int,
    algorithm: str,
    requests: list[str],
) -> None:
    repo = f"{registry.host}/blobs/test"
    expected = digest_of(BLOB, algorithm)
    with client.recording() as trace:
        digest = await client.push_blob(
            repo, BLOB, digest=expected, method=method, chunk_size=chunk_size or 1
        )
    assert digest == expected
    assert [t.method for t in trace] == requests
    assert all(t.status in (201, 202) for t in trace)
    assert await client.get_blob(repo, digest, size=len(BLOB)) == BLOB
    head = await client.head_blob(repo, digest)
    assert (head.digest, head.size) == (digest, len(BLOB))


async def test_push_blob_refuses_wrong_digest(
    registry: RegistryServer, client: RegistryClient
) -> None:
    with pytest.raises(DigestMismatchError, match=r"expected sha256:0+, got content hashing to"):
        await client.push_blob(f"{registry.host}/a", b"data", digest="sha256:" + "0" * 64)
    assert client.trace == []


async def test_push_blob_skip_existing(registry: RegistryServer, client: RegistryClient) -> None:
    await client.push_blob(f"{registry.host}/a", b"data")
    with client.recording() as trace:
        await client.push_blob(f"{registry.host}/a", b"data", skip_existing=True)
    assert [(t.method, t.status) for t in trace] == [("HEAD", 200)]


async def test_mount(registry: RegistryServer, client: RegistryClient) -> None:
    digest = await client.push_blob(f"{registry.host}/source", b"shared layer")
    assert not await client.blob_exists(f"{registry.host}/target", digest)
    assert await client.mount_blob(f"{registry.host}/target", digest, "source")
    assert await client.get_blob(f"{registry.host}/target", digest) == b"shared layer"
    # Not in the source: the registry opens a session instead, which the client cancels.
    with client.recording() as trace:
        assert not await client.mount_blob(f"{registry.host}/other", digest, "nowhere")
    assert [(t.method, t.status) for t in trace] == [("POST", 202), ("DELETE", 204)]


async def test_push_blob_with_mount_from(registry: RegistryServer, client: RegistryClient) -> None:
    digest = await client.push_blob(f"{registry.host}/source", b"abc")
    with client.recording() as trace:
        await client.push_blob(f"{registry.host}/target", b"abc", mount_from="source")
    assert [(t.method, t.status) for t in trace] == [("POST", 201)]
    # A failed mount goes on with the session it opened.
    with client.recording() as trace:
        await client.push_blob(f"{registry.host}/third", b"abc", mount_from="nowhere")
    assert [(t.method, t.status) for t in trace] == [("POST", 202), ("PUT", 201)]
    assert await client.blob_exists(f"{registry.host}/third", digest)


async def test_manifests(
    registry: RegistryServer, client: RegistryClient, http: httpx.Client
) -> None:
    image = push_image(http, "app", None)
    ref = f"{registry.host}/app:v1"
    digest = await client.put_manifest(ref, image.body, mt.OCI_MANIFEST)
    assert digest == image.digest
    fetched = await client.get_manifest(ref)
    assert (fetched.digest, fetched.media_type, fetched.body) == (
        image.digest,
        mt.OCI_MANIFEST,
        image.body,
    )
    assert fetched.json()["schemaVersion"] == 2
    by_digest = await client.get_manifest(f"{registry.host}/app@{image.digest}")
    assert by_digest.body == image.body
    head = await client.head_manifest(ref)
    assert (head.digest, head.media_type, head.size) == (
        image.digest,
        mt.OCI_MANIFEST,
        len(image.body),
    )
    # OCI 1.1 ?tag=: push by digest and tag in one request.
    await client.put_manifest(
        f"{registry.host}/app@{image.digest}", image.body, mt.OCI_MANIFEST, tags=["a", "b"]
    )
    assert await client.list_tags(f"{registry.host}/app") == ["a", "b", "v1"]
    await client.delete_manifest(f"{registry.host}/app:a")
    assert await client.list_tags(f"{registry.host}/app") == ["b", "v1"]


async def test_manifest_accept_is_sent(
    registry: RegistryServer, client: RegistryClient, http: httpx.Client
) -> None:
    push_image(http, "app", "latest")
    with pytest.raises(NotFoundError) as caught:
        await client.get_manifest(f"{registry.host}/app:latest", accept=[mt.DOCKER_MANIFEST])
    assert caught.value.code == "MANIFEST_UNKNOWN"
    assert "accept header does not support OCI manifests" in str(caught.value)


@pytest.mark.parametrize(
    ("ref", "kind", "status", "code"),
    [
        pytest.param("missing:latest", NotFoundError, 404, "NAME_UNKNOWN", id="unknown-repository"),
        pytest.param("app:missing", NotFoundError, 404, "MANIFEST_UNKNOWN", id="unknown-tag"),
        pytest.param(
            "app@sha256:" + "0" * 64, NotFoundError, 404, "MANIFEST_UNKNOWN", id="unknown-digest"
        ),
    ],
)
async def test_manifest_errors_carry_the_envelope(
    registry: RegistryServer,
    client: RegistryClient,
    http: httpx.Client,
    ref: str,
    kind: type[RegistryHTTPError],
    status: int,
    code: str,
) -> None:
    push_image(http, "app", "latest")
    with pytest.raises(kind) as caught:
        await client.get_manifest(f"{registry.host}/{ref}")
    error = caught.value
    assert (error.status, error.code, error.method) == (status, code, "GET")
    assert error.message
    assert f"HTTP {status}: {code}" in str(error)
    assert error.url.startswith(registry.url)


async def test_invalid_name(registry: RegistryServer, client: RegistryClient) -> None:
    with pytest.raises(RegistryClientError, match="must be lowercase"):
        await client.get_blob(f"{registry.host}/UPPER", "sha256:" + "0" * 64)
    assert client.trace == []  # refused before sending
    # Built by hand, the reference reaches the registry, which refuses it.
    with pytest.raises(RegistryHTTPError) as caught:
        await client.get_blob(ImageReference(registry.host, "UPPER"), "sha256:" + "0" * 64)
    assert (caught.value.status, caught.value.code) == (400, "NAME_INVALID")


async def test_connection_refused(client: RegistryClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(
        RegistryConnectionError, match=f"GET http://127.0.0.1:{port}/v2/: cannot reach"
    ):
        await client.ping(f"127.0.0.1:{port}")
    assert client.trace[-1].status is None


def corrupt(registry: RegistryServer, digest: str, data: bytes) -> None:
    """Replace the bytes stored under ``digest`` (a disk error, a buggy mirror)."""

    def swap() -> None:
        registry.storage.blobs[digest] = Blob(digest, [data])

    registry.call(swap)


async def test_corrupted_blob_fails_loudly(
    registry: RegistryServer, client: RegistryClient
) -> None:
    repo = f"{registry.host}/app"
    digest = await client.push_blob(repo, b"the real content")
    corrupt(registry, digest, b"the evil content")
    with pytest.raises(DigestMismatchError) as caught:
        await client.get_blob(repo, digest)
    error = caught.value
    assert error.expected == digest
    assert error.actual == digest_of(b"the evil content")
    assert f"expected {digest}, got content hashing to {error.actual}" in str(error)


async def test_blob_size_checked(registry: RegistryServer, client: RegistryClient) -> None:
    repo = f"{registry.host}/app"
    digest = await client.push_blob(repo, b"12345")
    with pytest.raises(SizeMismatchError, match="expected 4 bytes, got 5"):
        await client.get_blob(repo, digest, size=4)


async def test_corrupted_manifest_fails_loudly(
    registry: RegistryServer, client: RegistryClient, http: httpx.Client
) -> None:
    image = push_image(http, "app", "latest")
    evil = image.body.replace(b'"schemaVersion":2', b'"schemaVersion":2 ')

    def swap() -> None:
        repo = registry.storage.repositories["app"]
        stored = repo.manifests[image.digest]
        repo.manifests[image.digest] = type(stored)(
            stored.digest, stored.media_type, evil, stored.view
        )

    registry.call(swap)
    with pytest.raises(DigestMismatchError, match=f"expected {image.digest}"):
        await client.get_manifest(f"{registry.host}/app@{image.digest}")
    with pytest.raises(DigestMismatchError, match="Docker-Content-Digest"):
        await client.get_manifest(f"{registry.host}/app:latest")


async def test_blob_streaming(registry: RegistryServer, client: RegistryClient) -> None:
    data = secrets.token_bytes(300_000)
    repo = f"{registry.host}/big"
    digest = await client.push_blob(repo, data, method="chunked", chunk_size=100_000)
    async with client.open_blob(repo, digest, size=len(data)) as download:
        assert download.size == len(data)
        pieces = [chunk async for chunk in download.chunks(chunk_size=65536)]
    assert len(pieces) > 1
    assert b"".join(pieces) == data


async def test_tags_pagination_follows_link(
    registry: RegistryServer, client: RegistryClient, http: httpx.Client
) -> None:
    image = push_image(http, "app", None)
    tags = [f"t{i}" for i in range(5)]
    for tag in tags:
        await client.put_manifest(f"{registry.host}/app:{tag}", image.body, mt.OCI_MANIFEST)
    with client.recording() as trace:
        assert await client.list_tags(f"{registry.host}/app", page_size=2) == tags
    assert [t.url.split(registry.url)[1] for t in trace] == [
        "/v2/app/tags/list?n=2",
        "/v2/app/tags/list?last=t1&n=2",
        "/v2/app/tags/list?last=t3&n=2",
    ]


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        pytest.param(
            '</v2/app/tags/list?last=a&n=1>; rel="next"',
            "/v2/app/tags/list?last=a&n=1",
            id="relative",
        ),
        pytest.param(
            "<{base}/v2/app/tags/list?last=a&n=1>; rel=next",
            "/v2/app/tags/list?last=a&n=1",
            id="absolute-unquoted-rel",
        ),
        pytest.param('<?last=a&n=1>; rel="next"', "/v2/app/tags/list?last=a&n=1", id="query-only"),
        pytest.param('</v2/app/tags/list?last=a>; rel="prev"', None, id="not-next"),
    ],
)
async def test_link_next_relative_and_absolute(link: str, expected: str | None) -> None:
    """The next page is the ``Link`` with ``rel="next"``, resolved against the page's URL."""
    pages = iter([["a"], ["b"]])
    requested: list[str] = []

    async def tags(request: web.Request) -> web.Response:
        requested.append(request.path_qs)
        headers = {"Link": link.format(base=str(server.make_url("")).rstrip("/"))}
        return web.json_response({"name": "app", "tags": next(pages)}, headers=headers)

    app = web.Application()
    app.router.add_get("/v2/app/tags/list", tags)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with RegistryClient() as client:
            found = await client.list_tags(f"127.0.0.1:{server.port}/app", page_size=1)
    finally:
        await server.close()
    if expected is None:
        assert (found, requested) == (["a"], ["/v2/app/tags/list?n=1"])
    else:
        assert found == ["a", "b"]
        assert requested == ["/v2/app/tags/list?n=1", expected]


async def test_catalog_pagination(
    registry: RegistryServer, client: RegistryClient, http: httpx.Client
) -> None:
    names = ["a", "b/c", "d", "e"]
    for name in names:
        push_image(http, name, "latest")
    with client.recording() as trace:
        assert await client.catalog(registry.host, page_size=3) == names
    assert len(trace) == 2


async def test_referrers(
    registry: RegistryServer, client: RegistryClient, http: httpx.Client
) -> None:
    image = push_image(http, "app", "latest")
    sbom = push_artifact(http, "app", image, "application/spdx+json")
    sig = push_artifact(http, "app", image, "application/vnd.dev.cosign", payload=b"sig")
    found = await client.referrers(f"{registry.host}/app", image.digest)
    assert sorted(d.digest for d in found) == sorted([sbom.digest, sig.digest])
    only = await client.referrers(
        f"{registry.host}/app", image.digest, artifact_type="application/spdx+json"
    )
    assert [d.digest for d in only] == [sbom.digest]
    assert await client.referrers(f"{registry.host}/app", sbom.digest) == []


async def test_referrers_tag_fallback(make_registry: RegistryFactory) -> None:
    registry = make_registry(referrers=False)
    with httpx.Client(base_url=registry.url) as http:
        image = push_image(http, "app", "latest")
        sbom = push_artifact(http, "app", image, "application/spdx+json")
        algorithm, _, encoded = image.digest.partition(":")
        push_index(http, "app", f"{algorithm}-{encoded}", [(sbom, None)])
    async with RegistryClient() as client:
        with client.recording() as trace:
            found = await client.referrers(f"{registry.host}/app", image.digest)
            none = await client.referrers(
                f"{registry.host}/app", image.digest, artifact_type="other/type"
            )
    assert [d.digest for d in found] == [sbom.digest]
    assert none == []
    assert [(t.method, t.status) for t in trace][:2] == [("GET", 404), ("GET", 200)]


async def test_recording_is_per_task(registry: RegistryServer, client: RegistryClient) -> None:
    with client.recording() as outer:
        await client.ping(registry.host)
        with client.recording() as inner:
            await client.ping(registry.host)
    assert (len(outer), len(inner), len(client.trace)) == (1, 1, 2)


async def test_client_is_bound_to_one_loop(registry: RegistryServer) -> None:
    import threading

    client = RegistryClient()
    await client.ping(registry.host)
    errors: list[BaseException] = []

    def other_loop() -> None:
        import asyncio

        try:
            asyncio.run(client.ping(registry.host))
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=other_loop)
    thread.start()
    thread.join()
    await client.close()
    assert errors
    assert "another event loop" in str(errors[0])


# -- TLS -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_registry() -> Iterator[RegistryServer]:
    with RegistryServer(tls=True) as server:
        yield server


@pytest.mark.parametrize(
    ("config", "works"),
    [
        pytest.param("ca-file", True, id="ca-file"),
        pytest.param("insecure", True, id="insecure"),
        pytest.param("system-cas", False, id="system-cas-refuse-our-ca"),
    ],
)
async def test_tls(tls_registry: RegistryServer, config: str, works: bool) -> None:
    assert tls_registry.url.startswith("https://")
    host = tls_registry.host
    settings = {
        "ca-file": HostConfig(ca_file=str(tls_registry.ca_path)),
        "insecure": HostConfig(insecure=True),
        "system-cas": HostConfig(plain_http=False),
    }[config]
    async with RegistryClient({host: settings}) as client:
        if works:
            digest = await client.push_blob(f"{host}/tls", b"secure")
            assert await client.get_blob(f"{host}/tls", digest) == b"secure"
        else:
            with pytest.raises(RegistryConnectionError, match="certificate"):
                await client.ping(host)


# -- CNCF distribution -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Distribution]:
    with run_distribution(tmp_path_factory.mktemp("distribution")) as running:
        yield running


@pytest.mark.interop
@pytest.mark.parametrize("method", ["monolithic", "post-put", "chunked"])
async def test_distribution_blobs(distribution: Distribution, method: Any) -> None:
    repo = f"{distribution.host}/client/{method}"
    async with RegistryClient() as client:
        with client.recording() as trace:
            digest = await client.push_blob(repo, BLOB, method=method, chunk_size=4096)
        assert await client.get_blob(repo, digest) == BLOB
        if method == "monolithic":
            # distribution takes no body with the POST: 202, then the body by PUT.
            assert [(t.method, t.status) for t in trace] == [("POST", 202), ("PUT", 201)]
        mounted = await client.mount_blob(
            f"{distribution.host}/client/mounted", digest, repo.split("/", 1)[1]
        )
        assert mounted


@pytest.mark.interop
async def test_distribution_manifests_and_tags(distribution: Distribution) -> None:
    with httpx.Client(base_url=distribution.url) as http:
        image = push_image(http, "client/app", None)
    async with RegistryClient() as client:
        for tag in ("one", "two", "three"):
            await client.put_manifest(
                f"{distribution.host}/client/app:{tag}", image.body, mt.OCI_MANIFEST
            )
        assert sorted(await client.list_tags(f"{distribution.host}/client/app", page_size=2)) == [
            "one",
            "three",
            "two",
        ]
        fetched = await client.get_manifest(f"{distribution.host}/client/app:two")
        assert fetched.digest == image.digest
        assert "client/app" in await client.catalog(distribution.host, page_size=1)
        with pytest.raises(NotFoundError) as caught:
            await client.get_manifest(f"{distribution.host}/client/app:nope")
        assert caught.value.code == "MANIFEST_UNKNOWN"
        # distribution 2.8 has no referrers API (a bare 404): the client tries the tag schema.
        with client.recording() as trace:
            found = await client.referrers(f"{distribution.host}/client/app", image.digest)
        assert found == []
        assert [(t.method, t.status) for t in trace] == [("GET", 404), ("GET", 404)]
        assert "/referrers/" in trace[0].url
        assert trace[1].url.endswith("/manifests/" + image.digest.replace(":", "-"))


def test_error_without_envelope() -> None:
    error = RegistryHTTPError("GET", "http://r/v2/x", 404, body="404 page not found\n")
    assert str(error) == "GET http://r/v2/x: HTTP 404: 404 page not found"
    assert (error.code, error.message, error.detail) == (None, None, None)


# -- authentication, against a stub -----------------------------------------------------------

SERVICE = "stub-registry"
MANIFEST = canonical({"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "config": {}, "layers": []})


@dataclass
class AuthStub:
    """A token realm and a registry that demands its tokens (``bearer``) or credentials
    (``basic``). Anonymous users get pull-only tokens; users get what they ask for."""

    mode: str = "bearer"
    users: dict[str, str] = field(default_factory=lambda: {"alice": "secret"})
    token_field: str = "token"
    delete_action: str = "delete"
    anonymous: bool = True
    tokens: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, str | None, int]] = field(default_factory=list)
    url: str = ""

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]

    def _user(self, header: str | None) -> tuple[bool, str | None]:
        """(valid, user) from a Basic header; no header is valid and anonymous."""
        if not header or not header.startswith("Basic "):
            return True, None
        name, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return self.users.get(name) == password, name

    async def token(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization")
        scopes = request.query.getall("scope", [])
        self.token_requests.append(
            {
                "service": request.query.get("service"),
                "account": request.query.get("account"),
                "scope": scopes,
                "authorization": header.split()[0] if header else None,
            }
        )
        valid, user = self._user(header)
        if not valid or (user is None and not self.anonymous):
            return web.json_response({"details": "incorrect username or password"}, status=401)
        granted: set[tuple[str, str]] = set()
        for scope in scopes:
            parsed = Scope.parse(scope)
            for action in parsed.actions:
                if user is not None or action == "pull":
                    granted.add((f"{parsed.type}:{parsed.name}", action))
        value = secrets.token_hex(8)
        self.tokens[value] = granted
        return web.json_response({self.token_field: value, "expires_in": 300})

    def _needed(self, request: web.Request) -> tuple[str, str] | None:
        path = request.path
        if path == "/v2/":
            return None
        if path == "/v2/_catalog":
            return ("registry:catalog", "*")
        for marker in ("/manifests/", "/blobs/", "/tags/"):
            if marker in path:
                name = path[len("/v2/") : path.index(marker)]
                break
        else:
            raise web.HTTPNotFound()
        action = {"GET": "pull", "HEAD": "pull", "DELETE": self.delete_action}.get(
            request.method, "push"
        )
        return (f"repository:{name}", action)

    async def registry(self, request: web.Request) -> web.StreamResponse:
        response = await self._registry(request)
        header = request.headers.get("Authorization")
        self.requests.append(
            (request.method, request.path, header.split()[0] if header else None, response.status)
        )
        return response

    async def _registry(self, request: web.Request) -> web.StreamResponse:
        needed = self._needed(request)
        header = request.headers.get("Authorization")
        if self.mode == "basic":
            valid, user = self._user(header)
            if not valid or user is None:
                return self._unauthorized('Basic realm="stub"')
        else:
            token = header[7:] if header and header.startswith("Bearer ") else None
            granted = self.tokens.get(token or "")
            scope = f"{needed[0]}:{needed[1]}" if needed else None
            if granted is None or (needed is not None and needed not in granted):
                challenge = f'Bearer realm="{self.url}/token",service="{SERVICE}"'
                if scope:
                    challenge += f',scope="{scope}"'
                if granted is not None:
                    challenge += ',error="insufficient_scope"'
                return self._unauthorized(challenge)
        return self._serve(request)

    @staticmethod
    def _unauthorized(challenge: str) -> web.Response:
        body = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
        return web.json_response(body, status=401, headers={"WWW-Authenticate": challenge})

    def _serve(self, request: web.Request) -> web.Response:
        path, method = request.path, request.method
        if path.endswith("/blobs/uploads/") and method == "POST":
            name = path[len("/v2/") : path.index("/blobs/")]
            return web.Response(status=202, headers={"Location": f"/v2/{name}/blobs/uploads/1"})
        if method == "PUT":
            return web.Response(status=201)
        if method == "DELETE":
            return web.Response(status=202)
        if "/manifests/" in path:
            headers = {
                "Content-Type": mt.OCI_MANIFEST,
                "Docker-Content-Digest": digest_of(MANIFEST),
            }
            return web.Response(body=None if method == "HEAD" else MANIFEST, headers=headers)
        if path == "/v2/_catalog":
            return web.json_response({"repositories": ["team/app"]})
        return web.json_response({})


@pytest.fixture
async def stub() -> AsyncIterator[AuthStub]:
    async with _serve_stub(AuthStub()) as running:
        yield running


class _serve_stub:
    def __init__(self, stub: AuthStub) -> None:
        self.stub = stub
        app = web.Application()
        app.router.add_get("/token", stub.token)
        app.router.add_route("*", "/v2/{tail:.*}", stub.registry)
        self.server = TestServer(app, host="127.0.0.1")

    async def __aenter__(self) -> AuthStub:
        await self.server.start_server()
        self.stub.url = str(self.server.make_url("")).rstrip("/")
        return self.stub

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()


ALICE = HostConfig(username="alice", password="secret")


async def test_bearer_anonymous_token_is_fetched_once(stub: AuthStub) -> None:
    ref = f"{stub.host}/team/app:latest"
    async with RegistryClient() as client:
        fetched = await client.get_manifest(ref)
        await client.get_manifest(ref)
    assert fetched.digest == digest_of(MANIFEST)
    assert stub.token_requests == [
        {
            "service": SERVICE,
            "account": None,
            "scope": ["repository:team/app:pull"],
            "authorization": None,
        }
    ]
    # 401, then the token; the second request sends the cached token at once.
    assert [(m, a, s) for m, _, a, s in stub.requests] == [
        ("GET", None, 401),
        ("GET", "Bearer", 200),
        ("GET", "Bearer", 200),
    ]


@pytest.mark.parametrize("token_field", ["token", "access_token"])
async def test_bearer_with_credentials(token_field: str) -> None:
    async with (
        _serve_stub(AuthStub(token_field=token_field, anonymous=False)) as stub,
        RegistryClient({stub.host: ALICE}) as client,
    ):
        await client.get_manifest(f"{stub.host}/team/app:latest")
    assert stub.token_requests == [
        {
            "service": SERVICE,
            "account": "alice",
            "scope": ["repository:team/app:pull"],
            "authorization": "Basic",
        }
    ]


async def test_scope_upgrade_pull_then_push(stub: AuthStub) -> None:
    async with RegistryClient({stub.host: ALICE}) as client:
        await client.get_manifest(f"{stub.host}/team/app:latest")
        await client.push_blob(f"{stub.host}/team/app", b"layer")
        await client.get_manifest(f"{stub.host}/team/app:latest")  # the push token covers pull
    assert [r["scope"] for r in stub.token_requests] == [
        ["repository:team/app:pull"],
        ["repository:team/app:pull,push"],
    ]
    assert [s for *_, s in stub.requests] == [401, 200, 202, 201, 200]


async def test_insufficient_scope_upgrades_the_token(stub: AuthStub) -> None:
    stub.delete_action = "*"  # like Docker Hub: deleting needs repository:<name>:*
    async with RegistryClient({stub.host: ALICE}) as client:
        await client.get_manifest(f"{stub.host}/team/app:latest")  # learns the realm
        await client.delete_manifest(f"{stub.host}/team/app:latest")
    assert [r["scope"] for r in stub.token_requests] == [
        ["repository:team/app:pull"],
        ["repository:team/app:delete"],  # asked before sending: what a delete needs
        ["repository:team/app:*,delete"],  # after 401 error="insufficient_scope" scope=…:*
    ]
    assert [(m, s) for m, _, _, s in stub.requests] == [
        ("GET", 401),
        ("GET", 200),
        ("DELETE", 401),
        ("DELETE", 202),
    ]


async def test_challenge_scope_is_added(stub: AuthStub) -> None:
    stub.delete_action = "*"
    async with RegistryClient({stub.host: ALICE}) as client:
        await client.delete_manifest(f"{stub.host}/team/app:latest")
    # The first challenge already names the scope: one token, asked with both.
    assert [r["scope"] for r in stub.token_requests] == [["repository:team/app:*,delete"]]


async def test_insufficient_scope_not_granted_gives_up(stub: AuthStub) -> None:
    async with RegistryClient() as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.push_blob(f"{stub.host}/team/app", b"layer")
    assert caught.value.status == 401
    assert caught.value.code == "UNAUTHORIZED"
    assert (
        len(stub.token_requests) == 1
    )  # anonymous: pull granted, push not; asking again is no use
    assert len(stub.requests) == 2


async def test_token_endpoint_refuses_wrong_password(stub: AuthStub) -> None:
    wrong = HostConfig(username="alice", password="guess")
    async with RegistryClient({stub.host: wrong}) as client:
        with pytest.raises(
            AuthenticationError, match="token endpoint refused the credentials"
        ) as caught:
            await client.get_manifest(f"{stub.host}/team/app:latest")
    assert caught.value.status == 401
    assert caught.value.message == "incorrect username or password"
    assert caught.value.url.startswith(f"{stub.url}/token?")


async def test_catalog_scope(stub: AuthStub) -> None:
    async with RegistryClient({stub.host: ALICE}) as client:
        assert await client.catalog(stub.host) == ["team/app"]
    assert stub.token_requests[0]["scope"] == ["registry:catalog:*"]


async def test_ping_reports_the_challenge(stub: AuthStub) -> None:
    async with RegistryClient({stub.host: ALICE}) as client:
        result = await client.ping(stub.host)
        assert result.requires_auth
        assert result.challenges[0].realm == f"{stub.url}/token"
        # The challenge is remembered: the next request gets its token before asking.
        await client.get_manifest(f"{stub.host}/team/app:latest")
        authenticated = await client.ping(stub.host, authenticate=True)
    assert authenticated.status == 200
    assert [s for *_, s in stub.requests] == [401, 200, 200]


@pytest.mark.parametrize(
    ("config", "statuses", "error"),
    [
        pytest.param(ALICE, [401, 200, 200], None, id="credentials-then-preemptive"),
        pytest.param(HostConfig(), [401], "UNAUTHORIZED", id="no-credentials"),
        pytest.param(
            HostConfig(username="alice", password="guess"),
            [401, 401],
            "UNAUTHORIZED",
            id="wrong-password",
        ),
    ],
)
async def test_basic(config: HostConfig, statuses: list[int], error: str | None) -> None:
    async with (
        _serve_stub(AuthStub(mode="basic")) as stub,
        RegistryClient({stub.host: config}) as client,
    ):
        ref = f"{stub.host}/team/app:latest"
        if error is None:
            await client.get_manifest(ref)
            await client.head_manifest(ref)
        else:
            with pytest.raises(AuthenticationError) as caught:
                await client.get_manifest(ref)
            assert (caught.value.status, caught.value.code) == (401, error)
    assert [s for *_, s in stub.requests] == statuses
    assert stub.token_requests == []


async def test_credentials_per_host() -> None:
    async with (
        _serve_stub(AuthStub(mode="basic", users={"alice": "a"})) as first,
        _serve_stub(AuthStub(users={"bob": "b"}, anonymous=False)) as second,
    ):
        hosts = {
            first.host: HostConfig(username="alice", password="a"),
            second.host: HostConfig(username="bob", password="b"),
        }
        async with RegistryClient(hosts) as client:
            await client.get_manifest(f"{first.host}/x/y:latest")
            await client.get_manifest(f"{second.host}/x/y:latest")
            client.set_credentials(first.host, "alice", "wrong")
            with pytest.raises(AuthenticationError):
                await client.get_manifest(f"{first.host}/x/y:latest")
    assert second.token_requests[0]["account"] == "bob"


# -- authentication, against our own server (issue 4) -----------------------------------------


@pytest.fixture
def auth_registry(request: pytest.FixtureRequest) -> Iterator[RegistryServer]:
    auth = pytest.importorskip("fakeregistry.registry.auth")
    config = auth.AuthConfig(
        mode=request.param,
        users=auth.Users({"alice": "secret"}),
        policy=auth.AccessPolicy(anonymous_pull=True),
    )
    errors: list[BaseException] = []
    with RegistryServer(auth=config, on_error=errors.append) as server:
        yield server
    if errors:
        raise errors[0]


@pytest.mark.parametrize("auth_registry", ["token", "basic"], indirect=True)
async def test_our_server_auth(auth_registry: RegistryServer) -> None:
    host = auth_registry.host
    repo = f"{host}/team/app"
    async with RegistryClient() as anonymous:
        with pytest.raises(RegistryHTTPError) as caught:
            await anonymous.push_blob(repo, b"layer")
        assert caught.value.status in (401, 403)
    async with RegistryClient({host: HostConfig(username="alice", password="secret")}) as alice:
        digest = await alice.push_blob(repo, b"layer")
        config = await alice.push_blob(repo, b"{}")
        body = canonical(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_MANIFEST,
                "config": {"mediaType": mt.OCI_CONFIG, "digest": config, "size": 2},
                "layers": [{"mediaType": mt.OCI_LAYER_GZIP, "digest": digest, "size": 5}],
            }
        )
        await alice.put_manifest(f"{repo}:v1", body, mt.OCI_MANIFEST)
    async with RegistryClient() as anonymous:
        assert (await anonymous.get_manifest(f"{repo}:v1")).body == body
        assert await anonymous.get_blob(repo, digest) == b"layer"


def test_reference_normalisation_is_dockers() -> None:
    # The client takes references as Docker writes them.
    assert str(ImageReference.parse("debian:jessie")) == "docker.io/library/debian:jessie"
    assert RegistryClient().base_url(ImageReference.parse("debian").registry) == (
        "https://registry-1.docker.io"
    )
