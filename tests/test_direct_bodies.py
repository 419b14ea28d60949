"""Large bodies received straight into stored memory (fakeregistry.registry.http.direct).

A ``PUT``/``PATCH``/``POST`` body of at least 1 MiB with a ``Content-Length`` is held by our
connection handler until the upload handler claims it (``recv_into`` stored segments) or the
response releases it to aiohttp. These tests hold the behaviour that must not change: exact
bytes and digests, the connection usable afterwards (pipelined requests included), and the
answers for bodies that are cut off, stall, do not fit, or are never read.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from fakeregistry.registry.http import direct
from fakeregistry.registry.http.direct import DIRECT_MIN
from tests.attack import Target, parse_responses, raw_exchange, target
from tests.content import digest_of

BIG = os.urandom(3 * DIRECT_MIN + 12345)


@pytest.fixture(params=["in-process", "serve"])
def registry(request: pytest.FixtureRequest) -> Iterator[Target]:
    with target(request.param) as found:
        yield found


def _put_request(location_path: str, digest: str, body: bytes, port: int) -> bytes:
    return (
        f"PUT {location_path}?digest={digest} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Length: {len(body)}\r\nContent-Type: application/octet-stream\r\n\r\n"
    ).encode() + body


def _location_path(client: httpx.Client, name: str = "repo") -> str:
    location = client.post(f"/v2/{name}/blobs/uploads/").headers["Location"]
    return httpx.URL(location).path


def test_monolithic_push_stores_exact_bytes(registry: Target) -> None:
    digest = digest_of(BIG)
    with registry.client() as client:
        response = client.put(_location_path(client), params={"digest": digest}, content=BIG)
        assert response.status_code == 201, response.text
        assert response.headers["Docker-Content-Digest"] == digest
        assert client.get(f"/v2/repo/blobs/{digest}").content == BIG
        part = client.get(f"/v2/repo/blobs/{digest}", headers={"Range": "bytes=1048570-2097160"})
        assert part.content == BIG[1048570:2097161]
        # The connection goes on being used after the direct body.
        assert client.get("/v2/").status_code == 200


def test_large_bodies_take_the_direct_path(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    original = direct.DirectBody.start

    def start(self: direct.DirectBody, held: list[bytes]) -> None:
        started.append(self.length)
        original(self, held)

    monkeypatch.setattr(direct.DirectBody, "start", start)
    with target("in-process") as registry, registry.client() as client:
        small = BIG[: DIRECT_MIN - 1]
        for body in (small, BIG):
            response = client.put(
                _location_path(client), params={"digest": digest_of(body)}, content=body
            )
            assert response.status_code == 201
    assert started == [len(BIG)]


def test_post_with_digest_and_sha512(registry: Target) -> None:
    digest = digest_of(BIG, "sha512")
    with registry.client() as client:
        response = client.post("/v2/repo/blobs/uploads/", params={"digest": digest}, content=BIG)
        assert response.status_code == 201, response.text
        assert client.get(f"/v2/repo/blobs/{digest}").content == BIG


def test_chunked_patches_of_five_mib(registry: Target) -> None:
    data = os.urandom(12 * 1024 * 1024 + 7)
    step = 5 * 1024 * 1024
    with registry.client() as client:
        location = client.post("/v2/repo/blobs/uploads/").headers["Location"]
        for offset in range(0, len(data), step):
            chunk = data[offset : offset + step]
            response = client.patch(
                location,
                content=chunk,
                headers={"Content-Range": f"{offset}-{offset + len(chunk) - 1}"},
            )
            assert response.status_code == 202, response.text
            assert response.headers["Range"] == f"0-{offset + len(chunk) - 1}"
            location = response.headers["Location"]
        digest = digest_of(data)
        assert client.put(location, params={"digest": digest}).status_code == 201
        assert client.get(f"/v2/repo/blobs/{digest}").content == data


def test_wrong_digest_stores_nothing(registry: Target) -> None:
    wrong = digest_of(b"something else")
    with registry.client() as client:
        response = client.put(_location_path(client), params={"digest": wrong}, content=BIG)
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"
        assert client.head(f"/v2/repo/blobs/{digest_of(BIG)}").status_code == 404


def test_pipelined_request_after_a_direct_body(registry: Target) -> None:
    digest = digest_of(BIG)
    with registry.client() as client:
        path = _location_path(client)
    request = _put_request(path, digest, BIG, registry.port)
    get = f"GET /v2/repo/blobs/{digest} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    request += get.encode()
    responses = parse_responses(raw_exchange(registry.port, [request]))
    assert [r.status for r in responses] == [201, 200]
    assert responses[1].body == BIG


def test_held_body_that_is_never_read(registry: Target) -> None:
    """A large PUT to an unknown session is answered 404 without reading the body; the rest of
    the connection still works as aiohttp handles any unread body."""
    digest = digest_of(BIG)
    path = "/v2/repo/blobs/uploads/no-such-session"
    request = _put_request(path, digest, BIG, registry.port)
    request += b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    responses = parse_responses(raw_exchange(registry.port, [request]))
    assert responses[0].status == 404
    assert [r.status for r in responses[1:]] in ([], [200])
    with registry.client() as client:
        assert client.get("/v2/").status_code == 200


def test_body_cut_off_stores_nothing(registry: Target) -> None:
    digest = digest_of(BIG)
    with registry.client() as client:
        path = _location_path(client)
    request = _put_request(path, digest, BIG, registry.port)
    with socket.create_connection(("127.0.0.1", registry.port)) as sock:
        sock.sendall(request[: len(request) - len(BIG) // 2])
        time.sleep(0.2)
    with registry.client() as client:
        assert client.head(f"/v2/repo/blobs/{digest}").status_code == 404


def test_stalled_body_times_out(registry: Target) -> None:
    digest = digest_of(BIG)
    with registry.client() as client:
        path = _location_path(client)
    request = _put_request(path, digest, BIG, registry.port)
    out = raw_exchange(registry.port, [request[: len(request) - 1000]], timeout=8.0)
    responses = parse_responses(out)
    assert [r.status for r in responses] == [408]
    assert not out.endswith(b"<<OPEN>>")


def test_body_over_the_cap_is_refused() -> None:
    with target("in-process", max_upload_bytes=2 * DIRECT_MIN) as registry:
        with registry.client() as client:
            path = _location_path(client)
        request = _put_request(path, digest_of(BIG), BIG, registry.port)
        out = raw_exchange(registry.port, [request], timeout=8.0)
        responses = parse_responses(out)
        assert [r.status for r in responses] == [413]
        assert not out.endswith(b"<<OPEN>>")
        with registry.client() as client:
            assert client.get("/v2/").status_code == 200
            # Nothing of the refused body is still counted as being received.
            digest = digest_of(BIG[: DIRECT_MIN + 1])
            response = client.put(
                _location_path(client), params={"digest": digest}, content=BIG[: DIRECT_MIN + 1]
            )
            assert response.status_code == 201, response.text


# -- a PATCH is answered before its hash is done; the session's hash continues from it ----------

MIB = 1024 * 1024


def _patch_raw(port: int, path: str, offset: int, chunk: bytes, *, cut: bool = False) -> bytes:
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {len(chunk)}\r\n"
        f"Content-Range: {offset}-{offset + len(chunk) - 1}\r\n\r\n"
    ).encode()
    if cut:  # half the body, then the connection is gone
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(head + chunk[: len(chunk) // 2])
            time.sleep(0.2)
        return b""
    return raw_exchange(port, [head + chunk + b"GET /v2/ HTTP/1.1\r\nConnection: close\r\n\r\n"])


# Each step: (chunk size, "ok" or "cut"); the final PUT carries the last entry of ``tail``.
DEFERRED = {
    "three-direct-patches": ([3 * MIB, 2 * MIB, 4 * MIB], b""),
    "direct-then-small-patch": ([2 * MIB, 1000, 3 * MIB], b""),
    "small-then-direct-patches": ([1000, 2 * MIB, 2 * MIB], b""),
    "direct-patch-then-direct-put-body": ([2 * MIB], os.urandom(2 * MIB + 1)),
    "direct-patch-then-small-put-body": ([2 * MIB], b"tail bytes"),
}


@pytest.mark.parametrize(("sizes", "tail"), DEFERRED.values(), ids=DEFERRED.keys())
def test_session_digest_after_deferred_hashes(
    registry: Target, sizes: list[int], tail: bytes
) -> None:
    chunks = [os.urandom(size) for size in sizes]
    data = b"".join(chunks) + tail
    with registry.client() as client:
        location = client.post("/v2/repo/blobs/uploads/").headers["Location"]
        offset = 0
        for chunk in chunks:
            response = client.patch(
                location,
                content=chunk,
                headers={"Content-Range": f"{offset}-{offset + len(chunk) - 1}"},
            )
            assert response.status_code == 202, response.text
            offset += len(chunk)
            location = response.headers["Location"]
        wrong = client.get(location)  # the status while the last hash may still run
        assert wrong.headers["Range"] == f"0-{offset - 1}"
        digest = digest_of(data)
        response = client.put(location, params={"digest": digest}, content=tail)
        assert response.status_code == 201, response.text
        assert client.get(f"/v2/repo/blobs/{digest}").content == data


def test_a_patch_cut_off_after_a_deferred_one_leaves_no_trace(registry: Target) -> None:
    first, lost, second = os.urandom(2 * MIB), os.urandom(3 * MIB), os.urandom(2 * MIB)
    with registry.client() as client:
        path = _location_path(client)
        _patch_raw(registry.port, path, 0, first)
        _patch_raw(registry.port, path, len(first), lost, cut=True)
        responses = parse_responses(_patch_raw(registry.port, path, len(first), second))
        assert responses[0].status == 202, responses[0]
        digest = digest_of(first + second)
        response = client.put(path, params={"digest": digest})
        assert response.status_code == 201, response.text


def test_wrong_digest_after_deferred_hashes(registry: Target) -> None:
    with registry.client() as client:
        path = _location_path(client)
        _patch_raw(registry.port, path, 0, os.urandom(2 * MIB))
        response = client.put(path, params={"digest": digest_of(b"other")})
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"


def test_the_next_chunk_continues_a_hash_still_running(monkeypatch: pytest.MonkeyPatch) -> None:
    """With every hash held back a little, each chunk's PATCH is answered before its hash ends,
    and the next chunk (and the closing PUT) continue from the hash still running."""
    from fakeregistry.registry.http import requests, uploads

    original_run = requests._DirectHasher.run
    continued: list[bool] = []
    original_stream = requests.stream_body

    def slow_run(self: requests._DirectHasher) -> object:
        time.sleep(0.2)
        return original_run(self)

    async def recording_stream(*args: object, **kwargs: object) -> None:
        continued.append(kwargs.get("after") is not None)
        await original_stream(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(requests._DirectHasher, "run", slow_run)
    monkeypatch.setattr(uploads, "stream_body", recording_stream)
    chunks = [os.urandom(2 * MIB) for _ in range(3)]
    with target("in-process") as registry, registry.client() as client:
        path = _location_path(client)
        offset = 0
        for chunk in chunks:
            assert parse_responses(_patch_raw(registry.port, path, offset, chunk))[0].status == 202
            offset += len(chunk)
        digest = digest_of(b"".join(chunks))
        assert client.put(path, params={"digest": digest}).status_code == 201
        assert client.get(f"/v2/repo/blobs/{digest}").content == b"".join(chunks)
    assert continued[:3] == [False, True, True]
