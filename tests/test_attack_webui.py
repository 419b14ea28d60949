"""The web page under attack (defects 1 and 10 of issue 10): index graphs with large fan-out
cost work in proportion to the distinct manifests, and poisoned stored strings (lone
surrogates) are rendered, escaped, instead of breaking the page for everyone.

Nothing here measures time: the fan-out test counts the sizes the page computes, and a graph
that would take the unmemoised page 8**7 paths is simply rendered.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest
from aiohttp import test_utils

from fakeregistry.registry import webui
from fakeregistry.registry.app import create_app
from fakeregistry.registry.storage import BlobWriter, Storage
from fakeregistry.registry.webui import view as webui_view
from fakeregistry.rules import mediatypes as mt
from tests.content import Pushed, canonical, digest_of, push_blob, push_image, push_index
from tests.serve import serve

REPO = "fan/out"


def build_graph_in_storage(storage: Storage, images: int, levels: int) -> list[str]:
    """``images`` images, then ``levels`` levels of OCI indexes, each index listing every
    index (or image) of the level below; ``images`` indexes per level, one tag on the top.
    Returns the top index digests."""
    below: list[tuple[str, int, str]] = []  # digest, size, media type
    for n in range(images):
        config = canonical({"architecture": "amd64", "os": "linux", "n": n})
        writer = BlobWriter()
        writer.write(config)
        storage.put_blob(REPO, digest_of(config), writer)
        body = canonical(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_MANIFEST,
                "config": {"mediaType": mt.OCI_CONFIG, "digest": digest_of(config), "size": 2},
                "layers": [],
            }
        )
        storage.put_manifest(REPO, digest_of(body), body, mt.OCI_MANIFEST)
        below.append((digest_of(body), len(body), mt.OCI_MANIFEST))
    for level in range(levels):
        current = []
        for n in range(images):
            entries = [{"mediaType": t, "digest": d, "size": s} for d, s, t in below]
            body = canonical(
                {
                    "schemaVersion": 2,
                    "mediaType": mt.OCI_INDEX,
                    "manifests": entries,
                    "annotations": {"level": str(level), "n": str(n)},
                }
            )
            storage.put_manifest(REPO, digest_of(body), body, mt.OCI_INDEX)
            current.append((digest_of(body), len(body), mt.OCI_INDEX))
        below = current
    storage.put_manifest(REPO, "top", storage.resolve(REPO, below[0][0]).body, mt.OCI_INDEX)
    return [digest for digest, _, _ in below]


@pytest.mark.parametrize(
    ("images", "levels"),
    [
        pytest.param(8, 7, id="8-wide-7-deep"),  # the reproducer: 57 manifests
        pytest.param(20, 6, id="20-wide-6-deep"),  # 20**6 paths without memoising
        pytest.param(2, 200, id="2-wide-200-deep"),  # deeper than any recursion would go
    ],
)
def test_page_work_is_bounded_by_distinct_manifests(
    monkeypatch: pytest.MonkeyPatch, images: int, levels: int
) -> None:
    storage = Storage()
    build_graph_in_storage(storage, images, levels)
    manifests = len(storage.repositories[REPO].manifests)
    calls = 0
    image_size = webui_view._image_size

    def counting(view: object) -> int:
        nonlocal calls
        calls += 1
        return image_size(view)  # type: ignore[arg-type]

    monkeypatch.setattr(webui_view, "_image_size", counting)
    errors: list[BaseException] = []
    view = webui.describe_repository(storage, REPO, with_untagged=True, on_error=errors.append)
    assert not errors
    assert view is not None
    # Each image is sized once; the rows of the page's manifests add at most one call each.
    assert calls <= images + 2 * manifests, (calls, manifests)
    top = view.tags[0]
    # Sizes are still summed per distinct child at every level: 2 bytes of config per image.
    assert top.size == 2 * images**levels


@pytest.fixture
def fan_out_storage() -> Storage:
    storage = Storage()
    build_graph_in_storage(storage, 8, 7)
    return storage


async def test_page_of_the_reproducer_renders(fan_out_storage: Storage) -> None:
    errors: list[BaseException] = []
    app = create_app(storage=fan_out_storage, web_ui=True, on_error=errors.append)
    async with test_utils.TestClient(test_utils.TestServer(app)) as client:
        for path in ("/", f"/ui/{REPO}"):
            response = await client.get(path)
            assert response.status == 200
            assert "top" in await response.text()
        assert (await client.get("/v2/")).status == 200
    assert not errors


# -- 10: poisoned stored strings ------------------------------------------------------------------

SURROGATE = "\ud800"


def push_poison(http: httpx.Client) -> None:
    """Manifests whose JSON strings hold lone surrogates in every field the page shows."""
    image = push_image(
        http, "poison/repo", "annotated", annotations={"note": SURROGATE, SURROGATE: "key"}
    )
    push_index(
        http,
        "poison/repo",
        "platforms",
        [
            (
                image,
                {
                    "os": "linux" + SURROGATE,
                    "architecture": SURROGATE,
                    "variant": "\udfff",
                    "os.version": SURROGATE,
                    "os.features": [SURROGATE],
                },
            )
        ],
        annotations={"org.opencontainers.image.title": SURROGATE + "\udc80"},
    )
    config = canonical({"architecture": SURROGATE, "os": "linux", "variant": SURROGATE})
    push_blob(http, "poison/repo", config)
    layer = b"layer"
    push_blob(http, "poison/repo", layer)
    body = canonical(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "artifactType": "application/x." + SURROGATE,
            "config": {"mediaType": mt.OCI_CONFIG, "digest": digest_of(config), "size": 0},
            "layers": [{"mediaType": mt.OCI_LAYER_GZIP, "digest": digest_of(layer), "size": 5}],
            "subject": Pushed(image.body, image.digest, image.media_type).descriptor(),
        }
    )
    response = http.put(
        "/v2/poison/repo/manifests/config-poison",
        content=body,
        headers={"Content-Type": mt.OCI_MANIFEST},
    )
    assert response.status_code == 201, response.text


def assert_page_shows_poison(html: str) -> None:
    assert "\\ud800" in html
    assert not re.search(r"<\s*script", html)


@pytest.fixture(scope="module")
def poisoned_serve() -> Iterator[str]:
    with serve() as url, httpx.Client(base_url=url, timeout=30) as http:
        push_poison(http)
        yield url.rstrip("/")


@pytest.mark.parametrize("path", ["/", "/ui/poison/repo"])
def test_poisoned_page_on_serve(poisoned_serve: str, path: str) -> None:
    response = httpx.get(poisoned_serve + path)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"].startswith("text/html")
    assert_page_shows_poison(response.text)
    # The API still answers the stored bytes as they were pushed.
    assert httpx.get(poisoned_serve + "/v2/poison/repo/tags/list").json()["tags"] == [
        "annotated",
        "config-poison",
        "platforms",
    ]


async def test_poisoned_page_in_process() -> None:
    errors: list[BaseException] = []
    storage = Storage()
    app = create_app(storage=storage, web_ui=True, on_error=errors.append)
    async with test_utils.TestClient(test_utils.TestServer(app)) as client:
        base = str(client.make_url("")).rstrip("/")

        # The sync helpers push from a thread so the test's loop keeps serving.
        def seed() -> None:
            with httpx.Client(base_url=base, timeout=30) as http:
                push_poison(http)

        await asyncio.to_thread(seed)
        for path in ("/", "/ui/poison/repo"):
            response = await client.get(path)
            assert response.status == 200
            assert_page_shows_poison(await response.text())
        health = await client.get("/healthz")
        assert (await health.json())["usage"]["manifest_bytes"] > 0
    assert not errors
