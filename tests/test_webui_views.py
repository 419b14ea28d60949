"""The page's manifest, raw and engine views and its search, in process on the demo content;
then in a real browser (Playwright driving Debian's chromium) on ``fakeregistry serve --demo``.

Every engine verdict the page shows is checked against :func:`select_manifest` computed here,
independently of the page's own walk.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from aiohttp import test_utils, web
from playwright.sync_api import Browser, Dialog, sync_playwright

from fakeregistry.engine.selection import ENGINES, NoMatchingManifest, select_manifest
from fakeregistry.registry.app import create_app
from fakeregistry.registry.options import RegistryOptions
from fakeregistry.registry.storage import Storage
from fakeregistry.registry.webui.engines import PRESETS
from fakeregistry.registry.webui.pages import engines_path, manifest_path
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.digest import compute
from fakeregistry.tools.builder import build_image, build_index
from fakeregistry.tools.demo import PLATFORMS, demo_content, push_demo, write_demo_keys
from fakeregistry.tools.seed import StorageTarget, push_tree
from tests.conftest import require_tool
from tests.serve import serve
from tests.test_webui import CHROMIUM_ARGS

Client = test_utils.TestClient[web.Request, web.Application]
EVIL = "\"><script>alert(1)</script><img src=x onerror=alert(2)>&amp;'<b>"


def demo(repository: str, tag: str) -> Any:
    return next(i.item for i in demo_content() if (i.repository, i.tag) == (repository, tag))


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    storage = Storage(RegistryOptions())
    await push_demo(StorageTarget(storage))
    evil = build_index([build_image("linux/arm/v6", seed="evil")], annotations={"x": EVIL})
    await push_tree(StorageTarget(storage), "evil", "1", evil)
    errors: list[BaseException] = []
    app = create_app(storage=storage, on_error=errors.append, web_ui=True)
    async with test_utils.TestClient(test_utils.TestServer(app)) as test_client:
        yield test_client
    assert not errors


def independent(index: bytes, host: str, engine: str) -> str:
    """What the page must show for a one-level index: the digest, or the refusal text."""
    try:
        return select_manifest(index, host, engine).digest
    except NoMatchingManifest as exc:
        return str(exc)


@pytest.mark.parametrize("preset", PRESETS, ids=[p.specifier for p in PRESETS])
async def test_engine_json_matches_select_manifest(client: Client, preset: Any) -> None:
    index = demo("demo/multi-arch", "manifest-list").manifest
    path = engines_path("demo/multi-arch", "manifest-list", preset.specifier, "json")
    answer = await client.get(path)
    assert answer.status == 200
    document = await answer.json()
    assert document["host"] == preset.specifier
    assert [e["engine"] for e in document["engines"]] == list(ENGINES)
    for entry in document["engines"]:
        expected = independent(index, preset.specifier, entry["engine"])
        shown = entry["digest"] if entry["outcome"] == "pull" else entry["message"]
        assert shown == expected, entry["engine"]
        step = entry["steps"][0]
        assert len(step["candidates"]) == len(PLATFORMS)
        assert all(c["reason"] for c in step["candidates"])


async def test_engine_view_of_an_oci_index_and_a_nested_one(client: Client) -> None:
    answer = await client.get(engines_path("demo/multi-arch", "oci-index", "linux/arm/v6", "json"))
    engines = {e["engine"]: e for e in (await answer.json())["engines"]}
    # Docker 1.10 sends no OCI types: the registry answers 404 under strict negotiation.
    assert engines["docker-1.10"]["outcome"] == "error"
    assert "MANIFEST_UNKNOWN" in engines["docker-1.10"]["message"]
    attestations = [c for c in engines["moby"]["steps"][0]["candidates"] if c["position"] % 2]
    assert attestations
    assert not any(c["accepted"] for c in attestations)
    nested = await client.get(engines_path("demo/nested", "latest", "linux/arm64/v8", "json"))
    moby = next(e for e in (await nested.json())["engines"] if e["engine"] == "moby")
    assert moby["outcome"] == "pull"
    assert moby["path"] == [0, 1]
    assert len(moby["steps"]) == 2


async def test_engine_view_errors(client: Client) -> None:
    bad = await client.get(engines_path("demo/nested", "latest", "arm64", "json"))
    assert bad.status == 400
    assert "expected OS/ARCHITECTURE" in (await bad.json())["error"]
    missing = await client.get(engines_path("demo/nested", "nope", "linux/amd64", "json"))
    assert missing.status == 404
    html = await client.get(engines_path("demo/nested", "latest", "linux/arm/v7/x/y"))
    assert html.status == 400
    assert "invalid host platform" in await html.text()


async def test_raw_view_is_the_bytes(client: Client) -> None:
    for item in demo_content():
        reference = item.tag or item.item.digest
        raw = await client.get(f"/ui/{item.repository}/-/raw/{quote(reference)}")
        assert raw.status == 200
        assert await raw.read() == item.item.manifest
        assert raw.headers["Docker-Content-Digest"] == item.item.digest
        page = await client.get(manifest_path(item.repository, reference))
        assert page.status == 200
        assert item.item.digest in await page.text()


async def test_manifest_view_shows_referrers_and_signatures(client: Client, tmp_path: Path) -> None:
    single = demo("demo/single", "latest")
    sbom = next(i.item for i in demo_content() if i.tag is None)
    page = await (await client.get(manifest_path("demo/single", "latest"))).text()
    assert sbom.digest in page
    assert "application/spdx+json" in page
    signed = manifest_path("demo/signed", "1.0")
    unchecked = await (await client.get(signed)).text()
    assert "not checked: no key given" in unchecked
    assert "127.0.0.1:5000/demo/signed" in unchecked
    public = write_demo_keys(tmp_path)[1].read_text()
    checked = await (await client.get(signed, params={"key": public})).text()
    assert 'class="verified-yes"' in checked
    wrong = await (await client.get(manifest_path("demo/single", "latest"))).text()
    assert "None found" in wrong
    assert single.digest in wrong
    bad_key = await (await client.get(signed, params={"key": "not a key"})).text()
    assert 'class="error"' in bad_key


async def test_search_and_filter(client: Client) -> None:
    def tags(html: str) -> list[str]:
        return re.findall(r'data-tag="([^"]*)"', html)

    everything = await (await client.get("/")).text()
    assert "demo/multi-arch" in everything
    lists = await (await client.get("/", params={"kind": "list"})).text()
    assert tags(lists) == ["manifest-list"]
    arm = await (await client.get("/", params={"platform": "arm/v6"})).text()
    assert set(tags(arm)) == {"1", "manifest-list", "oci-index"}
    signed = await (await client.get("/", params={"q": "SIGNED"})).text()
    assert 'data-repository="demo/signed"' in signed
    assert 'data-repository="demo/nested"' not in signed
    none = await (await client.get("/", params={"q": "<nothing>"})).text()
    assert "Nothing matches" in none
    assert "&lt;nothing&gt;" in none


async def test_values_are_escaped_in_every_view(client: Client) -> None:
    for path in (
        "/",
        "/?q=" + quote(EVIL),
        manifest_path("evil", "1"),
        engines_path("evil", "1", "linux/arm/v6"),
        engines_path("evil", "1", EVIL),
    ):
        html = await (await client.get(path)).text()
        assert not re.search(r"<(script|img)\b|<b>", html), path
    html = await (await client.get(manifest_path("evil", "1"))).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- in a browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = require_tool("chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with serve("--demo") as url:
        yield url


def test_browser_platform_table_shows_every_platform(browser: Browser, demo_url: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(demo_url)
    for tag, rows in (("oci-index", 14), ("manifest-list", 7)):
        card = page.locator(f'section[data-repository="demo/multi-arch"] article[data-tag="{tag}"]')
        shown = card.locator("td.platform").all_inner_texts()
        assert len(shown) == rows
        assert [p for p in shown if p != "unknown/unknown"] == [
            "linux/amd64",
            "linux/arm64/v8",
            "linux/arm/v7",
            "linux/arm/v6",
            "linux/s390x",
            "linux/ppc64le",
            "windows/amd64",
        ]
        assert "10.0.20348.2340" in card.inner_text()
    page.close()


def test_browser_engine_view_for_a_raspberry_pi_zero(browser: Browser, demo_url: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(demo_url)
    page.locator('article[data-tag="manifest-list"] a.engines-link').click()
    page.locator('a.preset[data-host="linux/arm/v6"]').click()
    page.wait_for_url("**host=linux%2Farm%2Fv6")
    assert page.locator("code.host-platform").inner_text() == "linux/arm/v6"
    index = demo("demo/multi-arch", "manifest-list").manifest
    for engine in ENGINES:
        card = page.locator(f'article.engine[data-engine="{engine}"]')
        expected = independent(index, "linux/arm/v6", engine)
        if expected.startswith("sha256:"):
            assert card.get_attribute("data-outcome") == "pull"
            assert card.get_attribute("data-digest") == expected
            won = card.locator("tr.won")
            assert won.count() == 1
            position = select_manifest(index, "linux/arm/v6", engine).chosen.position
            assert won.get_attribute("data-position") == str(position)
        else:
            assert card.get_attribute("data-outcome") == "refuse"
            assert card.locator(".message").first.inner_text() == expected
    # Docker 1.10 compares GOARCH only: a Pi Zero gets the first arm entry, the v7 image.
    docker_110 = page.locator('article.engine[data-engine="docker-1.10"] .chosen-platform')
    assert docker_110.inner_text() == "linux/arm/v7"
    assert page.locator('article.engine[data-engine="moby"] .chosen-platform').inner_text() == (
        "linux/arm/v6"
    )
    # The OCI index with the same host: docker-1.10 cannot even fetch it.
    page.goto(demo_url + engines_path("demo/multi-arch", "oci-index", "linux/arm/v6").lstrip("/"))
    assert (
        page.locator('article.engine[data-engine="docker-1.10"]').get_attribute("data-outcome")
        == "error"
    )
    page.close()


def test_browser_raw_view_matches_the_bytes(browser: Browser, demo_url: str) -> None:
    page = browser.new_page()
    for repository, tag in (("demo/multi-arch", "oci-index"), ("demo/signed", "1.0")):
        page.goto(demo_url + manifest_path(repository, tag).lstrip("/"))
        served = httpx.get(
            f"{demo_url}v2/{repository}/manifests/{tag}", headers={"Accept": mt.OCI_INDEX}
        )
        assert page.locator("pre.raw").text_content() == served.content.decode()
        assert (
            page.locator("code.manifest-digest").inner_text()
            == (served.headers["Docker-Content-Digest"])
        )
    page.close()


def test_browser_annotation_with_html_renders_escaped(tmp_path: Path, browser: Browser) -> None:
    image = build_image("linux/arm/v6", annotations={"org.example.note": EVIL}, seed="evil")
    layout = tmp_path / "layout"
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for data in (image.manifest, *(b.data for b in image.blobs)):
        (blobs / compute(data).encoded).write_bytes(data)
    descriptor = image.descriptor() | {"annotations": {"org.opencontainers.image.ref.name": "evil"}}
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [descriptor]}))
    dialogs: list[str] = []
    with serve("--seed-layout", f"{layout}=team/app") as url:
        page = browser.new_page()

        def on_dialog(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        for path in ("", manifest_path("team/app", "evil").lstrip("/")):
            page.goto(url + path)
            annotations = page.locator("details.annotations").first
            annotations.locator("summary").click()
            value = annotations.locator("dd").first
            assert value.inner_text() == EVIL
            assert page.locator("script").count() == 0
            assert page.locator("img").count() == 0
        page.close()
    assert dialogs == []
