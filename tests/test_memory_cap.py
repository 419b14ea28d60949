"""The memory cap (issue 10): ``max_bytes``, ``max_upload_bytes`` and ``max_uploads`` refuse
what does not fit with 413 ``SIZE_INVALID`` (429 ``TOOMANYREQUESTS`` for sessions), keep
nothing partial, and the usage shown on ``/healthz`` and the page is exact."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from fakeregistry.registry.limits import Ledger
from fakeregistry.rules import mediatypes as mt
from tests.attack import Target, assert_error, target
from tests.content import digest_of, image_manifest

REPO = "cap/repo"


def usage(http: httpx.Client) -> dict[str, int]:
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    found: dict[str, int] = response.json()["usage"]
    return found


@pytest.fixture(params=["in-process", "serve"])
def capped(request: pytest.FixtureRequest) -> Iterator[tuple[Target, httpx.Client]]:
    with (
        target(request.param, max_bytes=1000, max_uploads=3) as found,
        found.client() as http,
    ):
        yield found, http


def post_blob(http: httpx.Client, data: bytes) -> httpx.Response:
    return http.post(f"/v2/{REPO}/blobs/uploads/", params={"digest": digest_of(data)}, content=data)


def test_monolithic_blob_over_the_cap(capped: tuple[Target, httpx.Client]) -> None:
    _, http = capped
    assert post_blob(http, b"a" * 600).status_code == 201
    refused = post_blob(http, b"b" * 600)
    assert_error(refused, 413, "SIZE_INVALID")
    assert refused.json()["errors"][0]["message"] == "storage limit reached"
    assert http.head(f"/v2/{REPO}/blobs/{digest_of(b'b' * 600)}").status_code == 404
    assert usage(http)["total_bytes"] == 600
    assert usage(http)["receiving_bytes"] == 0
    # Stored once by digest: the same blob in another repository adds no bytes once stored
    # (a mount adds none at all). Bytes being received always count, so a re-push of a known
    # blob needs room for its body while it arrives.
    assert post_blob(http, b"c" * 300).status_code == 201
    mounted = http.post(
        "/v2/cap/other/blobs/uploads/", params={"mount": digest_of(b"a" * 600), "from": REPO}
    )
    assert mounted.status_code == 201
    assert usage(http)["total_bytes"] == 900
    assert http.delete(f"/v2/{REPO}/blobs/{digest_of(b'c' * 300)}").status_code == 202
    assert http.delete(f"/v2/cap/other/blobs/{digest_of(b'a' * 600)}").status_code == 202
    assert usage(http)["total_bytes"] == 600
    # Deleting frees the bytes.
    assert http.delete(f"/v2/{REPO}/blobs/{digest_of(b'a' * 600)}").status_code == 202
    assert usage(http)["total_bytes"] == 0
    assert post_blob(http, b"b" * 600).status_code == 201


def test_chunked_upload_over_the_cap_keeps_the_session(
    capped: tuple[Target, httpx.Client],
) -> None:
    _, http = capped
    location = http.post(f"/v2/{REPO}/blobs/uploads/").headers["Location"]
    assert http.patch(location, content=b"x" * 500).status_code == 202
    assert usage(http)["upload_bytes"] == 500
    refused = http.patch(location, content=b"y" * 600)
    assert_error(refused, 413, "SIZE_INVALID")
    state = http.get(location)
    assert state.status_code == 204
    assert state.headers["Range"] == "0-499"  # nothing of the refused chunk was kept
    done = http.put(location, params={"digest": digest_of(b"x" * 500)})
    assert done.status_code == 201
    assert usage(http) | {"max_bytes": 0} == usage(http) | {
        "max_bytes": 0,
        "blob_bytes": 500,
        "upload_bytes": 0,
        "upload_sessions": 0,
        "total_bytes": 500,
    }


def test_manifest_over_the_cap(capped: tuple[Target, httpx.Client]) -> None:
    _, http = capped
    config, layer = b"{}", b"l" * 500
    assert post_blob(http, config).status_code == 201
    assert post_blob(http, layer).status_code == 201
    body = image_manifest(config, [layer], annotations={"pad": "p" * 600})
    refused = http.put(
        f"/v2/{REPO}/manifests/v1", content=body, headers={"Content-Type": mt.OCI_MANIFEST}
    )
    assert_error(refused, 413, "SIZE_INVALID")
    assert http.get(f"/v2/{REPO}/tags/list").json()["tags"] == []
    assert usage(http)["manifest_bytes"] == 0
    small = image_manifest(config, [layer])
    ok = http.put(
        f"/v2/{REPO}/manifests/v1", content=small, headers={"Content-Type": mt.OCI_MANIFEST}
    )
    assert ok.status_code == 201
    assert usage(http)["manifest_bytes"] == len(small)
    assert http.delete(f"/v2/{REPO}/manifests/{digest_of(small)}").status_code == 202
    assert usage(http)["manifest_bytes"] == 0


def test_upload_sessions_are_capped(capped: tuple[Target, httpx.Client]) -> None:
    _, http = capped
    sessions = [http.post(f"/v2/{REPO}/blobs/uploads/") for _ in range(3)]
    assert all(s.status_code == 202 for s in sessions)
    refused = http.post(f"/v2/{REPO}/blobs/uploads/")
    assert_error(refused, 429, "TOOMANYREQUESTS")
    assert "Retry-After" in refused.headers
    assert usage(http)["upload_sessions"] == 3
    assert http.delete(sessions[0].headers["Location"]).status_code == 204
    assert http.post(f"/v2/{REPO}/blobs/uploads/").status_code == 202


def test_failed_digest_frees_the_session(capped: tuple[Target, httpx.Client]) -> None:
    _, http = capped
    location = http.post(f"/v2/{REPO}/blobs/uploads/").headers["Location"]
    http.patch(location, content=b"z" * 400)
    bad = http.put(location, params={"digest": digest_of(b"other")})
    assert_error(bad, 400, "DIGEST_INVALID")
    assert usage(http)["total_bytes"] == 0
    assert usage(http)["upload_sessions"] == 0


def test_upload_bytes_cap() -> None:
    with target("in-process", max_upload_bytes=100) as found, found.client() as http:
        location = http.post(f"/v2/{REPO}/blobs/uploads/").headers["Location"]
        assert http.patch(location, content=b"a" * 80).status_code == 202
        other = http.post(f"/v2/{REPO}/blobs/uploads/").headers["Location"]
        assert_error(http.patch(other, content=b"b" * 30), 413, "SIZE_INVALID")
        assert_error(post_blob(http, b"c" * 30), 413, "SIZE_INVALID")
        # Manifests and stored blobs do not count against the upload cap.
        assert http.put(location, params={"digest": digest_of(b"a" * 80)}).status_code == 201
        assert post_blob(http, b"c" * 30).status_code == 201


def test_concurrent_bodies_count_while_they_arrive() -> None:
    """Eight clients each send 200 bytes slowly to a 1000-byte registry: the bytes being
    received count, so not all eight get in; afterwards nothing is left counted."""
    with target("in-process", max_bytes=1000) as found:
        statuses: list[int] = []
        lock = threading.Lock()

        def body(n: int) -> Iterator[bytes]:
            for _ in range(20):
                yield bytes([65 + n]) * 10
                threading.Event().wait(0.01)

        def push(n: int) -> None:
            data = bytes([65 + n]) * 200
            with found.client() as http:
                response = http.post(
                    f"/v2/{REPO}/blobs/uploads/",
                    params={"digest": digest_of(data)},
                    content=body(n),
                )
            with lock:
                statuses.append(response.status_code)

        threads = [threading.Thread(target=push, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(set(statuses)) <= [201, 413]
        assert statuses.count(201) <= 5
        with found.client() as http:
            now = usage(http)
            assert now["receiving_bytes"] == 0
            assert now["total_bytes"] == 200 * statuses.count(201)


def test_page_shows_usage() -> None:
    from tests.serve import serve

    with serve("--max-bytes", "5000") as url:
        page = httpx.get(url)
        assert page.status_code == 200
        assert "Memory:" in page.text
        assert "5.0 kB" in page.text
        assert "/healthz" in page.text


@pytest.mark.parametrize(
    ("cap", "needed", "upload", "refused"),
    [
        pytest.param(None, 10**12, True, False, id="no-cap"),
        pytest.param(10, 10, False, False, id="exactly-fits"),
        pytest.param(10, 11, False, True, id="one-over"),
        pytest.param(0, 1, True, True, id="zero-cap"),
        pytest.param(0, 0, True, False, id="nothing-needed"),
    ],
)
def test_ledger_check(cap: int | None, needed: int, upload: bool, refused: bool) -> None:
    ledger = Ledger(max_bytes=cap)
    if refused:
        with pytest.raises(Exception, match="storage limit reached"):
            ledger.check(needed, upload=upload)
    else:
        ledger.check(needed, upload=upload)
