"""The attack suite over raw sockets: framing and protocol errors (defects 7, 13 and 14 of
issue 10), against an in-process registry and against ``fakeregistry serve``.

Every exchange must end: with an answer in the spec's JSON envelope and, where the stream can
no longer be trusted, a closed connection. Nothing a broken request carried is stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from fakeregistry.registry.http.protocol import split_after_heads
from fakeregistry.rules import mediatypes as mt
from tests.attack import (
    BODY_TIMEOUT,
    RawResponse,
    Target,
    parse_responses,
    raw_exchange,
    target,
)
from tests.content import digest_of

REPO = "framing/repo"
HOST = b"Host: 127.0.0.1\r\n"


@pytest.fixture(scope="module", params=["in-process", "serve"])
def registry(request: pytest.FixtureRequest) -> Iterator[Target]:
    with target(request.param) as found:
        yield found


def assert_json_error(response: RawResponse, status: int, code: str) -> None:
    assert response.status == status, response
    assert response.headers["content-type"].split(";")[0] == "application/json", response
    entries = json.loads(response.body)["errors"]
    assert entries[0]["code"] == code, entries
    assert entries[0]["message"]


def open_session(http: httpx.Client) -> tuple[str, str]:
    """A fresh upload session with 5 bytes in it: (location path, location URL)."""
    location = http.post(f"/v2/{REPO}/blobs/uploads/").headers["Location"]
    assert http.patch(location, content=b"first").status_code == 202
    return "/" + location.split("/", 3)[3], location


# -- 7: a framing error after the first chunk ends the request -----------------------------------


@dataclass(frozen=True)
class Framing:
    method: str
    path: str  # "{session}" is an open session's path
    segments: tuple[bytes, ...]  # after the request head
    code: str


CHUNKED = b"Transfer-Encoding: chunked\r\n"
PUT_DIGEST = "?digest=" + digest_of(b"firsthello")

FRAMINGS = {
    "patch-bad-size-next-segment": Framing(
        "PATCH", "{session}", (b"5\r\nhello\r\n", b"zz\r\n"), "BLOB_UPLOAD_INVALID"
    ),
    "patch-bad-size-same-segment": Framing(
        "PATCH", "{session}", (b"5\r\nhello\r\nzz\r\n",), "BLOB_UPLOAD_INVALID"
    ),
    "patch-missing-crlf-after-data": Framing(
        "PATCH", "{session}", (b"5\r\nhello", b"XX5\r\nhello\r\n"), "BLOB_UPLOAD_INVALID"
    ),
    "patch-negative-size": Framing(
        "PATCH", "{session}", (b"5\r\nhello\r\n", b"-1\r\n"), "BLOB_UPLOAD_INVALID"
    ),
    "patch-huge-size": Framing(
        "PATCH", "{session}", (b"5\r\nhello\r\n", b"f" * 40 + b"\r\n"), "BLOB_UPLOAD_INVALID"
    ),
    "put-bad-size": Framing(
        "PUT", "{session}" + PUT_DIGEST, (b"5\r\nhello\r\n", b"zz\r\n"), "BLOB_UPLOAD_INVALID"
    ),
    "monolithic-bad-size": Framing(
        "POST",
        f"/v2/{REPO}/blobs/uploads/?digest={digest_of(b'hello')}",
        (b"5\r\nhello\r\n", b"zz\r\n"),
        "BLOB_UPLOAD_INVALID",
    ),
    "manifest-bad-size": Framing(
        "PUT", f"/v2/{REPO}/manifests/t", (b"2\r\n{}\r\n", b"zz\r\n"), "MANIFEST_INVALID"
    ),
}


@pytest.mark.parametrize("case", [pytest.param(c, id=k) for k, c in FRAMINGS.items()])
def test_framing_error_after_first_chunk(registry: Target, case: Framing) -> None:
    with registry.client() as http:
        session, location = open_session(http)
        path = case.path.replace("{session}", session)
        head = (
            f"{case.method} {path} HTTP/1.1\r\n".encode()
            + HOST
            + CHUNKED
            + f"Content-Type: {mt.OCI_MANIFEST}\r\n\r\n".encode()
        )
        data = raw_exchange(registry.port, [head + case.segments[0], *case.segments[1:]])
        assert not data.endswith(b"<<OPEN>>"), data  # answered and closed, not pinned
        responses = parse_responses(data)
        assert responses, data
        assert_json_error(responses[0], 400, case.code)
        # Nothing of the broken body reached the session or the store.
        state = http.get(location)
        if case.method == "PUT" and case.path.startswith("{session}"):
            assert state.status_code in (204, 404)
        else:
            assert state.status_code == 204
            assert state.headers["Range"] == "0-4"
        assert http.head(f"/v2/{REPO}/blobs/{digest_of(b'hello')}").status_code == 404
        assert http.head(f"/v2/{REPO}/blobs/{digest_of(b'firsthello')}").status_code == 404


@pytest.mark.parametrize(
    ("framing", "body"),
    [
        pytest.param(b"Content-Length: 100\r\n", b"0123456789", id="content-length"),
        pytest.param(CHUNKED, b"5\r\nhello\r\n", id="chunked"),
        pytest.param(b"Content-Length: 100\r\n", b"", id="no-body-at-all"),
    ],
)
def test_stalled_body_times_out(registry: Target, framing: bytes, body: bytes) -> None:
    """Defect 7's timeout: a body that sends nothing for ``body_timeout`` seconds is answered
    408 and its connection closed (the suite runs with a 2 s timeout)."""
    with registry.client() as http:
        session, location = open_session(http)
        head = f"PATCH {session} HTTP/1.1\r\n".encode() + HOST + framing + b"\r\n"
        data = raw_exchange(registry.port, [head + body], timeout=BODY_TIMEOUT + 15)
        responses = parse_responses(data)
        assert responses, data
        assert_json_error(responses[0], 408, "BLOB_UPLOAD_INVALID")
        assert http.get(location).headers["Range"] == "0-4"


def test_manifest_body_stall_times_out(registry: Target) -> None:
    head = (
        f"PUT /v2/{REPO}/manifests/t HTTP/1.1\r\n".encode()
        + HOST
        + f"Content-Type: {mt.OCI_MANIFEST}\r\nContent-Length: 50\r\n\r\n".encode()
    )
    data = raw_exchange(registry.port, [head + b'{"schema'], timeout=BODY_TIMEOUT + 15)
    assert_json_error(parse_responses(data)[0], 408, "MANIFEST_INVALID")


# -- 13: what was complete is answered before what follows is rejected -----------------------------


def test_complete_request_then_junk_in_one_segment(registry: Target) -> None:
    request = b"GET /v2/ HTTP/1.1\r\n" + HOST + b"\r\n"
    data = raw_exchange(registry.port, [request + b"JUNK JUNK\r\n\r\n"])
    responses = parse_responses(data)
    assert [r.status for r in responses] == [200, 400], data
    assert responses[0].body == b"{}"
    assert_json_error(responses[1], 400, "REQUEST_INVALID")
    assert not data.endswith(b"<<OPEN>>")


def test_pipelined_requests_then_junk(registry: Target) -> None:
    request = b"GET /v2/ HTTP/1.1\r\n" + HOST + b"\r\n"
    catalog = b"GET /v2/_catalog HTTP/1.1\r\n" + HOST + b"\r\n"
    data = raw_exchange(registry.port, [request + catalog + request + b"\x00\x01\x02\r\n\r\n"])
    responses = parse_responses(data)
    assert [r.status for r in responses] == [200, 200, 200, 400], data
    assert_json_error(responses[3], 400, "REQUEST_INVALID")


def test_manifest_put_with_short_content_length(registry: Target) -> None:
    """The PUT gets its own answer (its body is the first N-10 bytes: not valid JSON), then
    the 10 bytes left over are answered as the malformed request they are."""
    with registry.client() as http:
        config = b"{}"
        http.post(
            f"/v2/{REPO}/blobs/uploads/", params={"digest": digest_of(config)}, content=config
        )
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "config": {"mediaType": mt.OCI_CONFIG, "digest": digest_of(config), "size": 2},
            "layers": [],
        }
    ).encode()
    head = (
        f"PUT /v2/{REPO}/manifests/short HTTP/1.1\r\n".encode()
        + HOST
        + f"Content-Type: {mt.OCI_MANIFEST}\r\nContent-Length: {len(body) - 10}\r\n\r\n".encode()
    )
    data = raw_exchange(registry.port, [head + body])
    responses = parse_responses(data)
    assert [r.status for r in responses] == [400, 400], data
    assert_json_error(responses[0], 400, "MANIFEST_INVALID")
    assert_json_error(responses[1], 400, "REQUEST_INVALID")
    with registry.client() as http:
        assert http.get(f"/v2/{REPO}/manifests/short").status_code == 404


# -- 14: protocol errors are answered in the JSON envelope ---------------------------------------

PROTOCOL_ERRORS: dict[str, bytes] = {
    "raw-bytes-in-path": b"GET /v2/\xff\xfe/tags/list HTTP/1.1\r\n" + HOST + b"\r\n",
    "control-byte-in-path": b"GET /v2/a\x01b/tags/list HTTP/1.1\r\n" + HOST + b"\r\n",
    "non-ascii-query": "GET /v2/_catalog?n=\u00b2 HTTP/1.1\r\n".encode() + HOST + b"\r\n",
    "content-length-negative": b"PUT /v2/r/manifests/t HTTP/1.1\r\n"
    + HOST
    + b"Content-Length: -1\r\n\r\n",
    "content-length-abc": b"PUT /v2/r/manifests/t HTTP/1.1\r\n"
    + HOST
    + b"Content-Length: abc\r\n\r\n",
    "content-length-plus": b"PUT /v2/r/manifests/t HTTP/1.1\r\n"
    + HOST
    + b"Content-Length: +100\r\n\r\n",
    "content-length-twice": b"PUT /v2/r/manifests/t HTTP/1.1\r\n"
    + HOST
    + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n",
    "content-length-superscript": b"PUT /v2/r/manifests/t HTTP/1.1\r\n"
    + HOST
    + "Content-Length: \u00b2\r\n\r\n".encode(),
    "transfer-encoding-odd": b"PATCH /v2/r/blobs/uploads/x HTTP/1.1\r\n"
    + HOST
    + b"Transfer-Encoding: gzip, chunked, foo\r\n\r\n",
    "transfer-encoding-unknown": b"PATCH /v2/r/blobs/uploads/x HTTP/1.1\r\n"
    + HOST
    + b"Transfer-Encoding: bogus\r\n\r\n",
    "transfer-encoding-and-length": b"PATCH /v2/r/blobs/uploads/x HTTP/1.1\r\n"
    + HOST
    + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
    "request-line-too-long": b"GET /v2/" + b"a" * 9000 + b" HTTP/1.1\r\n" + HOST + b"\r\n",
    "header-too-long": b"GET /v2/ HTTP/1.1\r\n" + HOST + b"X-Long: " + b"a" * 9000 + b"\r\n\r\n",
    "too-many-headers": b"GET /v2/ HTTP/1.1\r\n"
    + b"".join(b"X-%d: y\r\n" % i for i in range(200))
    + b"\r\n",
    "bad-method-characters": b"G@T /v2/ HTTP/1.1\r\n" + HOST + b"\r\n",
    "unknown-method": b"FOO /v2/ HTTP/1.1\r\n" + HOST + b"\r\n",
    "bad-version": b"GET /v2/ HTTP/9.9\r\n" + HOST + b"\r\n",
    "header-without-colon": b"GET /v2/ HTTP/1.1\r\n" + HOST + b"NoColon\r\n\r\n",
    "space-before-colon": b"GET /v2/ HTTP/1.1\r\n" + HOST + b"X-A : b\r\n\r\n",
    "nul-in-header": b"GET /v2/ HTTP/1.1\r\n" + HOST + b"X-A: b\x00c\r\n\r\n",
    "obsolete-line-folding": b"GET /v2/ HTTP/1.1\r\n" + HOST + b"X-A: b\r\n c\r\n\r\n",
    "bare-lf": b"GET /v2/ HTTP/1.1\n" + HOST + b"\n",
    "tls-hello": b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 32 + b"\r\n\r\n",
}


@pytest.mark.parametrize(
    "request_bytes", [pytest.param(v, id=k) for k, v in PROTOCOL_ERRORS.items()]
)
def test_protocol_errors_answer_json(registry: Target, request_bytes: bytes) -> None:
    data = raw_exchange(registry.port, [request_bytes])
    responses = parse_responses(data)
    assert responses, data
    first = responses[0]
    assert 400 <= first.status < 500, first
    assert first.headers["content-type"].split(";")[0] == "application/json", first
    entries = json.loads(first.body)["errors"]
    assert entries[0]["code"] in ("REQUEST_INVALID", "UNSUPPORTED", "NOT_FOUND"), entries
    assert not data.endswith(b"<<OPEN>>") or first.status != 400, data


def test_registry_still_serves_after_the_attacks(registry: Target) -> None:
    with registry.client() as http:
        assert http.get("/v2/").status_code == 200


# -- the splitter itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "pieces"),
    [
        pytest.param(b"", [b""], id="empty"),
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", [b"GET / HTTP/1.1\r\n\r\n"], id="one-head"),
        pytest.param(b"A\r\n\r\nB", [b"A\r\n\r\n", b"B"], id="head-and-body"),
        pytest.param(b"A\r\n\r\nB\r\n\r\n", [b"A\r\n\r\n", b"B\r\n\r\n"], id="two-heads"),
        pytest.param(b"body without heads", [b"body without heads"], id="no-head"),
        pytest.param(b"\r\n\r\n" * 40, [b"\r\n\r\n"] * 15 + [b"\r\n\r\n" * 25], id="capped"),
    ],
)
def test_split_after_heads(data: bytes, pieces: list[bytes]) -> None:
    assert split_after_heads(data) == pieces
    assert b"".join(pieces) == data
