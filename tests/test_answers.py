"""Manifest answers replayed below the web layer (fakeregistry.registry.http.answers).

A replayed answer must be the web layer's, byte for byte but the ``Date``; it must stop the
moment what it was computed from changes; it must never be used where the web layer would
answer differently (auth, personalities, faults, access log, a connection not between
requests); and pipelined requests keep their order. Each case gets a fresh server.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakeregistry.registry.auth import AuthConfig, Users
from fakeregistry.registry.faults import Fault, FaultPlan
from fakeregistry.registry.http import answers as answers_module
from fakeregistry.registry.http.answers import ANSWERS, MAX_ENTRIES
from fakeregistry.registry.http.instrument import Instruments
from fakeregistry.registry.options import RegistryOptions
from fakeregistry.registry.requestlog import RequestLog
from fakeregistry.registry.server import RegistryServer
from fakeregistry.registry.storage import StoredManifest
from fakeregistry.rules import mediatypes as mt
from tests.attack import RawResponse, parse_responses
from tests.conftest import require_tool
from tests.content import Pushed, canonical, push_image, push_index
from tests.serve import serve
from tests.skopeo import Skopeo

REPO = "answers/repo"
HOST = b"Host: 127.0.0.1\r\n"
ACCEPT_OCI = f"Accept: {mt.OCI_MANIFEST}\r\n".encode()
ACCEPT_ALL = (
    f"Accept: {mt.OCI_MANIFEST}\r\nAccept: {mt.OCI_INDEX}\r\n"
    f"Accept: {mt.DOCKER_MANIFEST}, {mt.DOCKER_MANIFEST_LIST}\r\n"
).encode()


@dataclass
class Registry:
    server: RegistryServer
    http: httpx.Client
    log: RequestLog
    plan: FaultPlan
    image: Pushed  # tag "t", an OCI manifest
    child: Pushed  # linux/amd64, a Docker manifest
    docker_list: Pushed  # tag "list"
    index: Pushed  # tag "index"

    @property
    def replayed(self) -> int:
        answers = self.server.app.get(ANSWERS)
        return answers.replayed if answers is not None else 0

    def exchange(self, *segments: bytes, expect: int, pause: float = 0.0) -> list[RawResponse]:
        """Send ``segments`` on one connection and read ``expect`` responses."""
        return exchange(self.server.port, segments, expect=expect, pause=pause)


def exchange(
    port: int, segments: tuple[bytes, ...], *, expect: int, pause: float = 0.0
) -> list[RawResponse]:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(10)
        data = b""
        for index, segment in enumerate(segments):
            if index and pause:
                time.sleep(pause)
            sock.sendall(segment)
        while len(parse_responses(data)) < expect or not _complete(data, expect):
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
        return parse_responses(data)


def _complete(data: bytes, expect: int) -> bool:
    responses = parse_responses(data)
    if len(responses) < expect:
        return False
    last = responses[expect - 1]
    return "content-length" not in last.headers or len(last.body) >= int(
        last.headers["content-length"]
    )


def raw_exchange_bytes(port: int, request: bytes, times: int) -> list[bytes]:
    """Send ``request`` ``times`` times on one connection, one after the other's answer,
    and return each raw answer (head and body) as received."""
    out: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(10)
        buffered = b""
        for _ in range(times):
            sock.sendall(request)
            while True:
                head_end = buffered.find(b"\r\n\r\n")
                if head_end >= 0:
                    match = re.search(rb"(?im)^content-length: *(\d+)", buffered[:head_end])
                    length = int(match[1]) if match and not request.startswith(b"HEAD") else 0
                    end = head_end + 4 + length
                    if len(buffered) >= end:
                        out.append(buffered[:end])
                        buffered = buffered[end:]
                        break
                piece = sock.recv(65536)
                assert piece, "the server closed the connection"
                buffered += piece
    return out


def without_date(answer: bytes) -> bytes:
    return re.sub(rb"\r\nDate: [^\r]*", b"\r\nDate: -", answer)


@contextmanager
def registry(options: RegistryOptions | None = None, **kwargs: Any) -> Iterator[Registry]:
    log, plan = RequestLog(), FaultPlan()
    server = RegistryServer(options, instruments=Instruments(log, plan), **kwargs).start()
    try:
        auth = kwargs.get("auth")
        credentials = ("alice", "secret") if auth is not None else None
        with httpx.Client(base_url=server.url, auth=credentials) as http:
            image = push_image(http, REPO, "t")
            child = push_image(http, REPO, None, media_type=mt.DOCKER_MANIFEST, seed="child")
            platform = {"os": "linux", "architecture": "amd64"}
            docker_list = push_index(
                http, REPO, "list", [(child, platform)], media_type=mt.DOCKER_MANIFEST_LIST
            )
            index = push_index(http, REPO, "index", [(image, platform)])
            yield Registry(server, http, log, plan, image, child, docker_list, index)
    finally:
        server.stop()


def get(path: str, *headers: bytes, method: str = "GET", version: bytes = b"1.1") -> bytes:
    return (
        f"{method} {path} HTTP/".encode() + version + b"\r\n" + HOST + b"".join(headers) + b"\r\n"
    )


# -- replayed answers are the web layer's -----------------------------------------------------


@dataclass(frozen=True)
class Same:
    request: Callable[[Registry], bytes]
    status: int
    options: RegistryOptions = dataclasses.field(default_factory=RegistryOptions)


SAME = {
    "get-oci-manifest-by-tag": Same(lambda r: get(f"/v2/{REPO}/manifests/t", ACCEPT_OCI), 200),
    "head-oci-manifest-by-tag": Same(
        lambda r: get(f"/v2/{REPO}/manifests/t", ACCEPT_OCI, method="HEAD"), 200
    ),
    "get-by-digest": Same(lambda r: get(f"/v2/{REPO}/manifests/{r.image.digest}", ACCEPT_OCI), 200),
    "get-index-accepting-all": Same(lambda r: get(f"/v2/{REPO}/manifests/index", ACCEPT_ALL), 200),
    "if-none-match-304": Same(
        lambda r: get(
            f"/v2/{REPO}/manifests/t", ACCEPT_OCI, f'If-None-Match: "{r.image.digest}"\r\n'.encode()
        ),
        304,
    ),
    "list-to-its-amd64-child": Same(
        lambda r: get(f"/v2/{REPO}/manifests/list", f"Accept: {mt.DOCKER_MANIFEST}\r\n".encode()),
        200,
    ),
    "with-a-query": Same(lambda r: get(f"/v2/{REPO}/manifests/t?x=1", ACCEPT_OCI), 200),
    "cors-origin": Same(
        lambda r: get(f"/v2/{REPO}/manifests/t", ACCEPT_OCI, b"Origin: http://ui.test\r\n"),
        200,
        RegistryOptions(cors_origins=("*",)),
    ),
}


@pytest.mark.parametrize("case", SAME.values(), ids=SAME.keys())
def test_replayed_answer_is_the_web_layers_byte_for_byte(case: Same) -> None:
    with registry(case.options) as r:
        request = case.request(r)
        answers = raw_exchange_bytes(r.server.port, request, 3)
        assert answers[0].startswith(f"HTTP/1.1 {case.status} ".encode()), answers[0]
        assert r.replayed == 2
        assert without_date(answers[1]) == without_date(answers[0])
        assert without_date(answers[2]) == without_date(answers[0])
        # The request log sees the three alike: the web layer's entry and two replays.
        logged = r.log.filter(path="/manifests/")[-3:]
        assert [dataclasses.replace(e, duration=0) for e in logged[1:]] == [
            dataclasses.replace(logged[0], duration=0)
        ] * 2


def test_connection_close_is_answered_then_closed() -> None:
    with registry() as r:
        request = get(f"/v2/{REPO}/manifests/t", ACCEPT_OCI, b"Connection: close\r\n")
        answers = [_until_closed(r.server.port, request + get("/v2/")) for _ in range(3)]
        assert r.replayed == 2
        assert len({without_date(a) for a in answers}) == 1
        (only,) = parse_responses(answers[0])  # the pipelined GET /v2/ is never answered
        assert only.headers["connection"] == "close"
        assert only.headers["docker-content-digest"] == r.image.digest


def _until_closed(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(10)
        sock.sendall(data)
        out = b""
        while piece := sock.recv(65536):
            out += piece
        return out


def test_date_is_current_on_a_replay() -> None:
    with registry() as r:
        request = get(f"/v2/{REPO}/manifests/t", ACCEPT_OCI)
        first = raw_exchange_bytes(r.server.port, request, 1)[0]
        time.sleep(1.1)
        second = raw_exchange_bytes(r.server.port, request, 1)[0]
        assert r.replayed == 1
        assert _date(first) != _date(second)


def _date(answer: bytes) -> bytes:
    match = re.search(rb"\r\nDate: ([^\r]*)", answer)
    assert match is not None
    return match[1]


# -- a change ends a kept answer at once ------------------------------------------------------


def _move_tag(r: Registry) -> None:
    push_image(r.http, REPO, "t", seed="moved")


def _delete_tag(r: Registry) -> None:
    assert r.http.delete(f"/v2/{REPO}/manifests/t").status_code == 202


def _delete_manifest(r: Registry) -> None:
    assert r.http.delete(f"/v2/{REPO}/manifests/{r.image.digest}").status_code == 202


def _reset(r: Registry) -> None:
    r.server.call(r.server.storage.reset)


def _poke_manifest(r: Registry) -> None:
    """Replace the stored object behind the storage's back, as a test corrupting it does."""

    def poke() -> None:
        repo = r.server.storage.repositories[REPO]
        stored = repo.manifests[r.image.digest]
        body = canonical({"schemaVersion": 2, "poked": True})
        repo.manifests[r.image.digest] = StoredManifest(
            stored.digest, stored.media_type, body, stored.view
        )

    r.server.call(poke)


def _swap_options(r: Registry) -> None:
    def swap() -> None:
        storage = r.server.storage
        storage.options = dataclasses.replace(storage.options, negotiation="lenient")

    r.server.call(swap)


def _plan_fault(r: Registry) -> None:
    r.plan.faults.append(Fault(path=r"/manifests/", status=503))


@dataclass(frozen=True)
class Change:
    change: Callable[[Registry], None]
    request: Callable[[Registry], bytes]
    status_after: int


def tag_t_oci(r: Registry | None) -> bytes:
    return get(f"/v2/{REPO}/manifests/t", ACCEPT_OCI)


CHANGES = {
    "tag-moved": Change(_move_tag, tag_t_oci, 200),
    "tag-deleted": Change(_delete_tag, tag_t_oci, 404),
    "manifest-deleted": Change(_delete_manifest, tag_t_oci, 404),
    "storage-reset": Change(_reset, tag_t_oci, 404),
    "stored-object-replaced-directly": Change(_poke_manifest, tag_t_oci, 200),
    "options-swapped": Change(
        _swap_options,
        lambda r: get(f"/v2/{REPO}/manifests/list", f"Accept: {mt.DOCKER_MANIFEST}\r\n".encode()),
        200,
    ),
    "fault-planned": Change(_plan_fault, tag_t_oci, 503),
}


@pytest.mark.parametrize("case", CHANGES.values(), ids=CHANGES.keys())
def test_a_change_ends_the_kept_answer(case: Change) -> None:
    with registry() as r:
        request = case.request(r)
        before = raw_exchange_bytes(r.server.port, request, 2)
        assert r.replayed == 1
        case.change(r)
        after = raw_exchange_bytes(r.server.port, request, 1)[0]
        assert r.replayed == 1, "answered from before the change"
        assert after.startswith(f"HTTP/1.1 {case.status_after} ".encode()), after
        assert without_date(after) != without_date(before[0])
        if case.status_after == 200:  # and the new answer is kept in turn
            again = raw_exchange_bytes(r.server.port, request, 1)[0]
            assert without_date(again) == without_date(after)


def test_replay_resumes_once_the_plan_is_empty() -> None:
    with registry() as r:
        request = tag_t_oci(r)
        first = raw_exchange_bytes(r.server.port, request, 1)[0]
        r.plan.add_warning("maintenance")
        warned = raw_exchange_bytes(r.server.port, request, 1)[0]
        assert b'Warning: 299 - "maintenance"' in warned
        r.plan.clear()
        answers = raw_exchange_bytes(r.server.port, request, 2)
        assert without_date(answers[1]) == without_date(first)
        assert r.replayed >= 1


# -- where the web layer answers every time ---------------------------------------------------


@dataclass(frozen=True)
class Never:
    options: RegistryOptions = dataclasses.field(default_factory=RegistryOptions)
    server: dict[str, Any] = dataclasses.field(default_factory=dict)
    headers: tuple[bytes, ...] = ()
    version: bytes = b"1.1"
    new_connection_each: bool = False
    responses: int = 1  # what one request is answered with (100 Continue, then the answer)


NEVER = {
    "answer-cache-off": Never(RegistryOptions(answer_cache=False)),
    "basic-auth": Never(
        server={"auth": AuthConfig(mode="basic", users=Users({"alice": "secret"}))},
        headers=(b"Authorization: Basic YWxpY2U6c2VjcmV0\r\n",),
    ),
    "personality-distribution-3": Never(RegistryOptions(personality="distribution-3")),
    "http-1.0": Never(version=b"1.0", new_connection_each=True),
    # aiohttp answers "100 Continue" first; a replay would not.
    "expect-100-continue": Never(
        headers=(b"Expect: 100-continue\r\n",), new_connection_each=True, responses=2
    ),
}


@pytest.mark.parametrize("case", NEVER.values(), ids=NEVER.keys())
def test_never_replayed(case: Never) -> None:
    with registry(case.options, **case.server) as r:
        request = get(f"/v2/{REPO}/manifests/t", ACCEPT_OCI, *case.headers, version=case.version)
        if case.new_connection_each:
            answers = [
                exchange(r.server.port, (request,), expect=case.responses)[-1] for _ in range(3)
            ]
            assert all(a.status == 200 for a in answers), answers
            assert len({a.body for a in answers}) == 1
        else:
            raw = raw_exchange_bytes(r.server.port, request, 3)
            assert len({without_date(a) for a in raw}) == 1
            assert raw[0].startswith(b"HTTP/1.1 200 ")
        assert r.replayed == 0


# -- the access log gets a replay's line as the web layer writes it ---------------------------


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_access_log_lines_of_replays(log_format: str) -> None:
    stderr: list[str] = []
    with serve("--log-format", log_format, quiet=False, stderr=stderr) as url:
        with httpx.Client(base_url=url) as http:
            image = push_image(http, REPO, "t")
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        for request in (tag_t_oci(None), get(f"/v2/{REPO}/manifests/t", ACCEPT_OCI, method="HEAD")):
            answers = raw_exchange_bytes(port, request, 3)
            assert len({without_date(a) for a in answers}) == 1
    lines = [line for line in stderr if "/manifests/t" in line and "PUT" not in line]
    assert len(lines) == 6, stderr
    if log_format == "json":
        entries = [json.loads(line) for line in lines]
        for entry in entries:
            del entry["time"], entry["duration"]
        assert entries[:3] == [entries[0]] * 3
        assert entries[3:] == [entries[3]] * 3
        assert entries[0]["bytes"] == len(image.body)
        assert entries[3]["bytes"] == 0
    else:
        # '127.0.0.1 "GET /v2/... HTTP/1.1" 200 794 0.000123s' (aiohttp's %b counts what it
        # wrote, head included): all but the duration alike.
        shapes = [line.rsplit(" ", 1)[0].split("] ", 1)[-1] for line in lines]
        assert shapes[:3] == [shapes[0]] * 3, lines
        assert shapes[3:] == [shapes[3]] * 3, lines
        assert f'"GET /v2/{REPO}/manifests/t HTTP/1.1" 200 ' in shapes[0]
        assert f'"HEAD /v2/{REPO}/manifests/t HTTP/1.1" 200 ' in shapes[3]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_access_log_in_process_replays_and_logs() -> None:
    logger = logging.getLogger("test-answers-access")
    logger.setLevel(logging.INFO)  # aiohttp logs access only when INFO is on
    lines = _Lines()
    logger.addHandler(lines)
    try:
        with registry(access_log=logger) as r:
            raw_exchange_bytes(r.server.port, tag_t_oci(r), 3)
            assert r.replayed == 2
    finally:
        logger.removeHandler(lines)
    shapes = [line.rsplit(" ", 1)[0] for line in lines.lines if "/manifests/t " in line]
    assert shapes[-3:] == [shapes[-1]] * 3


# -- order and framing --------------------------------------------------------------------------


def test_pipelined_heads_in_one_segment_answer_in_order() -> None:
    with registry() as r:
        oci = tag_t_oci(r)
        index = get(f"/v2/{REPO}/manifests/index", ACCEPT_ALL)
        raw_exchange_bytes(r.server.port, oci, 1)
        raw_exchange_bytes(r.server.port, index, 1)
        responses = r.exchange(oci + index + oci + get("/v2/"), expect=4)
        assert [x.status for x in responses] == [200, 200, 200, 200]
        assert [x.headers.get("docker-content-digest") for x in responses[:3]] == [
            r.image.digest,
            r.index.digest,
            r.image.digest,
        ]
        assert r.replayed == 3


def test_a_get_pipelined_behind_a_push_sees_the_push() -> None:
    with registry() as r:
        request = tag_t_oci(r)
        raw_exchange_bytes(r.server.port, request, 2)
        assert r.replayed == 1
        moved = push_image(r.http, REPO, None, seed="other")
        put = (
            f"PUT /v2/{REPO}/manifests/t HTTP/1.1\r\n".encode()
            + HOST
            + f"Content-Type: {mt.OCI_MANIFEST}\r\n".encode()
            + f"Content-Length: {len(moved.body)}\r\n\r\n".encode()
            + moved.body
        )
        responses = r.exchange(put + request, expect=2)
        assert [x.status for x in responses] == [201, 200]
        assert responses[1].headers["docker-content-digest"] == moved.digest


def test_a_body_that_spells_a_kept_head_is_a_body() -> None:
    with registry() as r:
        request = tag_t_oci(r)
        raw_exchange_bytes(r.server.port, request, 1)
        put_head = (
            f"PUT /v2/{REPO}/manifests/t HTTP/1.1\r\n".encode()
            + HOST
            + f"Content-Type: {mt.OCI_MANIFEST}\r\nContent-Length: {len(request)}\r\n\r\n".encode()
        )
        responses = r.exchange(put_head, request, request, expect=2, pause=0.2)
        assert responses[0].status == 400, responses[0]
        assert b"MANIFEST_INVALID" in responses[0].body
        assert responses[1].status == 200  # the head after the body is a request again
        assert r.replayed == 0  # the first after a body goes through the web layer


def test_a_head_in_two_segments_is_answered_by_the_web_layer() -> None:
    with registry() as r:
        request = tag_t_oci(r)
        raw_exchange_bytes(r.server.port, request, 1)
        responses = r.exchange(request[:20], request[20:], expect=1, pause=0.2)
        assert responses[0].status == 200
        assert responses[0].headers["docker-content-digest"] == r.image.digest


def test_kept_answers_are_bounded_in_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answers_module, "MAX_TOTAL_BYTES", 4000)
    with registry() as r:
        answers = r.server.app[ANSWERS]
        for number in range(40):
            request = get(f"/v2/{REPO}/manifests/t?n={number}", ACCEPT_OCI)
            raw_exchange_bytes(r.server.port, request, 1)
            # Read on the server's loop: an answer is kept just after it is sent.
            assert 0 < r.server.call(lambda: answers.size) <= 4000
        assert 0 < r.server.call(lambda: len(answers)) < 40


def test_kept_answers_are_bounded() -> None:
    with registry() as r:
        answers = r.server.app[ANSWERS]
        for number in range(MAX_ENTRIES + 5):
            raw_exchange_bytes(
                r.server.port, get(f"/v2/{REPO}/manifests/t?n={number}", ACCEPT_OCI), 1
            )
        assert 0 < r.server.call(lambda: len(answers)) <= MAX_ENTRIES


# -- a real client ------------------------------------------------------------------------------


def test_skopeo_inspects_a_replayed_manifest(tmp_path: Path) -> None:
    with registry() as r:
        skopeo = Skopeo(require_tool("skopeo"), tmp_path / "skopeo", {r.server.host})
        reference = f"docker://{r.server.host}/{REPO}:t"
        first = skopeo.run("inspect", "--raw", "--tls-verify=false", reference).stdout
        second = skopeo.run("inspect", "--raw", "--tls-verify=false", reference).stdout
        assert first == second == r.image.body
        assert r.replayed >= 1
