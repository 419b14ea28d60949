"""Blobs bigger than one stored chunk: streamed in pieces, served whole and by range."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.content import digest_of

DATA = os.urandom(3 * 1024 * 1024 + 17)


def pieces(size: int) -> list[bytes]:
    return [DATA[i : i + size] for i in range(0, len(DATA), size)]


@pytest.mark.parametrize(
    "piece_size",
    [
        pytest.param(1000, id="small-pieces"),
        pytest.param(256 * 1024, id="large-pieces"),
    ],
)
def test_streamed_upload_served_whole_and_by_range(http: httpx.Client, piece_size: int) -> None:
    location = http.post("/v2/repo/blobs/uploads/").headers["Location"]
    response = http.patch(location, content=iter(pieces(piece_size)))
    assert response.status_code == 202
    assert response.headers["Range"] == f"0-{len(DATA) - 1}"
    digest = digest_of(DATA)
    assert http.put(location, params={"digest": digest}).status_code == 201
    whole = http.get(f"/v2/repo/blobs/{digest}")
    assert whole.headers["Content-Length"] == str(len(DATA))
    assert whole.content == DATA
    start, end = 100_000, 2_500_000
    part = http.get(f"/v2/repo/blobs/{digest}", headers={"Range": f"bytes={start}-{end}"})
    assert part.status_code == 206
    assert part.content == DATA[start : end + 1]


def test_chunked_patches_with_content_range(http: httpx.Client) -> None:
    location = http.post("/v2/repo/blobs/uploads/").headers["Location"]
    offset = 0
    for chunk in pieces(1024 * 1024):
        response = http.patch(
            location,
            content=chunk,
            headers={"Content-Range": f"{offset}-{offset + len(chunk) - 1}"},
        )
        assert response.status_code == 202, response.text
        location = response.headers["Location"]
        offset += len(chunk)
    digest = digest_of(DATA, "sha512")
    assert http.put(location, params={"digest": digest}).status_code == 201
    assert http.get(f"/v2/repo/blobs/{digest}").content == DATA
