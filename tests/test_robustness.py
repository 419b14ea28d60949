"""Bad input of every kind: never a 5xx, always the spec's error envelope, nothing stored lost.

Hypothesis throws malformed requests (names, digests, ranges, query values, JSON, media types)
at one registry holding a known image; after every request that image must still be served
byte for byte. Deletes are off there, so nothing may legitimately remove it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeregistry import RegistryOptions, RegistryServer
from fakeregistry.rules import mediatypes as mt
from tests.conftest import STORES
from tests.content import Pushed, digest_of, push_image

SEED_REPO = "keep/me"


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    """The interrupted-body tests run against both stores."""
    return str(request.param)


@pytest.fixture(scope="module", params=STORES)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, Pushed]]:
    errors: list[BaseException] = []
    storage_dir = tmp_path_factory.mktemp("store") if request.param == "disk" else None
    options = RegistryOptions(deletes=False)
    with (
        RegistryServer(options, on_error=errors.append, storage_dir=storage_dir) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        yield http, push_image(http, SEED_REPO, "keep")
    assert not errors, errors


names = st.one_of(
    st.sampled_from([SEED_REPO, "keep", "a/blobs/b", "UPPER", "a//b", "-x", "x-", "a" * 300, ""]),
    st.text(alphabet="abcXYZ019._-/:@%", min_size=0, max_size=20),
)
digests = st.one_of(
    st.sampled_from(["sha256:abc", "sha256:" + "A" * 64, "md5:00", "sha512:" + "0" * 64, ":", ""]),
    st.builds(lambda b: digest_of(b), st.binary(max_size=8)),
    st.text(alphabet="sha256:0123456789abcdefg", max_size=80),
)
references = st.one_of(digests, st.text(alphabet="abcXY019._-:", max_size=140))
paths = st.one_of(
    st.builds(lambda n, d: f"/v2/{n}/blobs/{d}", names, digests),
    st.builds(lambda n, r: f"/v2/{n}/manifests/{r}", names, references),
    st.builds(lambda n: f"/v2/{n}/blobs/uploads/", names),
    st.builds(lambda n, u: f"/v2/{n}/blobs/uploads/{u}", names, st.text("abc-0123", max_size=36)),
    st.builds(lambda n: f"/v2/{n}/tags/list", names),
    st.builds(lambda n, d: f"/v2/{n}/referrers/{d}", names, digests),
    st.just("/v2/_catalog"),
    st.builds(lambda t: f"/v2/{t}", st.text(alphabet="abc/_.", max_size=30)),
)
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
headers = st.dictionaries(
    st.sampled_from(["Content-Type", "Content-Range", "Range", "Accept", "If-None-Match"]),
    st.one_of(
        header_values,
        st.sampled_from([*mt.MANIFEST_TYPES, "bytes=0-", "bytes=-0", "0-4", "5-2", "bytes=9-1"]),
    ),
    max_size=3,
)
queries = st.dictionaries(
    st.sampled_from(["n", "last", "digest", "mount", "from", "tag", "artifactType"]),
    st.one_of(header_values, digests, st.sampled_from(["-1", "0", "99999999999", SEED_REPO])),
    max_size=3,
)
bodies = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(
        [
            b"{}",
            b'{"schemaVersion":2}',
            b'{"schemaVersion":2,"config":{},"layers":null}',
            b'{"schemaVersion":2,"manifests":[{"digest":"sha256:x","size":-1}]}',
            b'{"schemaVersion":2,"config":{"mediaType":"a","digest":"sha256:0","size":true}}',
            b'{"schemaVersion":2,"manifests":[],"subject":{"digest":1}}',
            b"[]",
            b"null",
            b'"string"',
        ]
    ),
)


def assert_intact(http: httpx.Client, pushed: Pushed) -> None:
    response = http.get(
        f"/v2/{SEED_REPO}/manifests/{pushed.digest}", headers={"Accept": pushed.media_type}
    )
    assert response.status_code == 200
    assert response.content == pushed.body
    for blob in pushed.blobs:
        assert http.head(f"/v2/{SEED_REPO}/blobs/{blob}").status_code == 200


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=st.sampled_from(["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"]),
    path=paths,
    request_headers=headers,
    params=queries,
    body=bodies,
)
def test_malformed_requests_never_5xx(
    seeded: tuple[httpx.Client, Pushed],
    method: str,
    path: str,
    request_headers: dict[str, str],
    params: dict[str, str],
    body: bytes,
) -> None:
    http, pushed = seeded
    try:
        response = http.request(
            method, path, headers=request_headers, params=params, content=body or None
        )
    except (httpx.InvalidURL, httpx.LocalProtocolError):
        return  # the client refused to send it
    assert response.status_code < 500, response.text
    if response.status_code >= 400 and method != "HEAD" and response.content:
        assert response.headers["Content-Type"].startswith("application/json")
        entries = response.json()["errors"]
        assert entries
        assert all({"code", "message"} <= entry.keys() for entry in entries)
    assert_intact(http, pushed)


def send_truncated(url: str, request_head: str, body: bytes) -> None:
    """Send a request whose body stops short of its Content-Length, then hang up."""
    host, port = url.split("://", 1)[1].split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(request_head.encode() + body)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(65536)


@pytest.mark.parametrize(
    "kind",
    [pytest.param("patch", id="patch-cut-off"), pytest.param("put", id="put-cut-off")],
)
def test_interrupted_chunk_leaves_session_unchanged(
    registry: RegistryServer, http: httpx.Client, kind: str
) -> None:
    location = http.post("/v2/repo/blobs/uploads/").headers["Location"]
    http.patch(location, content=b"first")
    path = location.split(registry.host, 1)[1]
    data = b"x" * 1000
    query = f"?digest={digest_of(b'first' + data)}" if kind == "put" else ""
    head = (
        f"{kind.upper()} {path}{query} HTTP/1.1\r\nHost: {registry.host}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    send_truncated(registry.url, head, data[:400])
    status = http.get(location)
    assert status.status_code == 204
    assert status.headers["Range"] == "0-4"
    done = http.put(location, params={"digest": digest_of(b"first" + data)}, content=data)
    assert done.status_code == 201
    assert http.get(f"/v2/repo/blobs/{digest_of(b'first' + data)}").content == b"first" + data


def test_interrupted_monolithic_upload_stores_nothing(
    registry: RegistryServer, http: httpx.Client
) -> None:
    data = b"y" * 1000
    head = (
        f"POST /v2/repo/blobs/uploads/?digest={digest_of(data)} HTTP/1.1\r\n"
        f"Host: {registry.host}\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    send_truncated(registry.url, head, data[:10])
    assert http.head(f"/v2/repo/blobs/{digest_of(data)}").status_code == 404
    assert http.get("/v2/_catalog").json() == {"repositories": []}
