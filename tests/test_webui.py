"""The web page over HTTP: one row per kind of content, what each tag shows, escaping and auth;
then a real browser (Playwright driving Debian's chromium) on a seeded ``fakeregistry serve``.

Each table row seeds a fresh storage, serves ``create_app(storage=..., web_ui=True)`` and reads
the page back through a small HTML parser: for every tag its type label and, per platform row,
the platform shown and the badges on it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import test_utils, web
from playwright.sync_api import sync_playwright

from fakeregistry.registry.app import create_app
from fakeregistry.registry.auth import AccessPolicy, AccessRule, AuthConfig, AuthMode, Users
from fakeregistry.registry.options import RegistryOptions, Validation
from fakeregistry.registry.storage import BlobWriter, Storage
from fakeregistry.registry.webui import CONFIG_READ_LIMIT, repository_path, short_digest
from fakeregistry.registry.webui import view as webui_view
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.digest import compute
from fakeregistry.tools.builder import Image, build_artifact, build_image, build_index
from fakeregistry.tools.seed import StorageTarget, push_tree
from tests.conftest import require_tool
from tests.serve import serve

# -- reading the page ---------------------------------------------------------------------------


@dataclass
class Row:
    platform: str
    cells: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Card:
    repository: str
    tag: str
    digest: str
    kind: str = ""
    rows: list[Row] = field(default_factory=list)
    text: str = ""


class PageParser(HTMLParser):
    """Cards (``article.manifest``) with their type label and platform rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cards: list[Card] = []
        self.repositories: list[str] = []
        self.links: list[str] = []
        self._stack: list[tuple[str, set[str]]] = []
        self._row: Row | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        classes = set(values.get("class", "").split())
        if tag not in ("meta", "br", "link"):
            self._stack.append((tag, classes))
        if tag == "a":
            self.links.append(values.get("href", ""))
        if tag == "section" and "repository" in classes:
            self.repositories.append(values["data-repository"])
        elif tag == "article" and "manifest" in classes:
            repository = self.repositories[-1] if self.repositories else ""
            self.cards.append(Card(repository, values["data-tag"], values["data-digest"]))
        elif tag == "tr" and "entry" in classes:
            self._row = Row(values["data-platform"])
            self.cards[-1].rows.append(self._row)
        elif tag == "td" and self._row is not None:
            self._row.cells.append("")
        elif tag == "span" and "note" in classes and self._row is not None:
            self._row.notes.append("")

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            name, _ = self._stack.pop()
            if name == tag:
                break
        if tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if not self._stack:
            return
        tag, classes = self._stack[-1]
        if self.cards and any(name == "article" for name, _ in self._stack):
            self.cards[-1].text += data
        if tag == "span" and "kind" in classes and self.cards:
            self.cards[-1].kind += data.strip()
        if self._row is not None and self._row.cells:
            self._row.cells[-1] += data
            if tag == "span" and "note" in classes:
                self._row.notes[-1] += data


def parse_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


def summary(page: PageParser) -> dict[str, tuple[str, list[tuple[str, list[str]]]]]:
    """``{"repo:tag": (type label, [(platform, [badges])...])}``."""
    return {
        f"{card.repository}:{card.tag}": (
            card.kind,
            [(row.platform, row.notes) for row in card.rows],
        )
        for card in page.cards
    }


# -- seeding storage directly -------------------------------------------------------------------


async def push(storage: Storage, repository: str, tag: str | None, item: Any) -> None:
    await push_tree(StorageTarget(storage), repository, tag, item)


def put_blob(storage: Storage, repository: str, data: bytes, media_type: str) -> dict[str, Any]:
    digest = str(compute(data))
    writer = BlobWriter()
    writer.write(data)
    storage.put_blob(repository, digest, writer)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def put_manifest(storage: Storage, repository: str, tag: str, document: dict[str, Any]) -> str:
    body = json.dumps(document).encode()
    storage.put_manifest(repository, tag, body, document["mediaType"])
    return str(compute(body))


def image_with_config(storage: Storage, repository: str, tag: str, config: bytes | None) -> None:
    """An OCI image whose config blob holds ``config`` (None: the blob is never pushed)."""
    if config is None:
        descriptor = {"mediaType": mt.OCI_CONFIG, "digest": str(compute(b"gone")), "size": 4}
    else:
        descriptor = put_blob(storage, repository, config, mt.OCI_CONFIG)
    document = {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "config": descriptor}
    put_manifest(storage, repository, tag, document | {"layers": []})


def index_of(entries: list[dict[str, Any]], media_type: str = mt.OCI_INDEX) -> dict[str, Any]:
    return {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}


# -- the table ----------------------------------------------------------------------------------

Seeder = Callable[[Storage], Awaitable[None]]
Expected = dict[str, tuple[str, list[tuple[str, list[str]]]]]


@dataclass(frozen=True)
class Case:
    seed: Seeder
    expected: Expected
    contains: tuple[str, ...] = ()
    validation: Validation = "strict"


async def seed_nothing(storage: Storage) -> None:
    pass


async def seed_single_image(storage: Storage) -> None:
    await push(storage, "demo", "v1", build_image("linux/arm/v7"))


async def seed_docker_list(storage: Storage) -> None:
    platforms = ["linux/amd64", "linux/arm/v7", "linux/386"]
    await push(storage, "lib/tool", "2.0", build_index(platforms, media_type="docker"))


ATTESTED = build_image("linux/amd64", seed="attested")
ATTESTATION = build_artifact("application/vnd.in-toto+json", blobs=[b'{"predicate": {}}'])


def attested_index() -> tuple[dict[str, Any], list[Image]]:
    """An OCI index as BuildKit makes them: two images, the provenance of the first (platform
    unknown/unknown, marked as an attestation) and an entry without a platform."""
    arm = build_image("linux/arm64/v8", seed="attested")
    loose = build_image("linux/riscv64", seed="loose")
    attestation = ATTESTATION.descriptor() | {
        "platform": {"os": "unknown", "architecture": "unknown"},
        "annotations": {
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": ATTESTED.digest,
        },
    }
    entries = [ATTESTED.descriptor(), arm.descriptor(), attestation]
    entries.append(loose.descriptor(with_platform=False))
    return index_of(entries), [ATTESTED, arm, ATTESTATION, loose]


async def seed_oci_index(storage: Storage) -> None:
    document, children = attested_index()
    for child in children:
        await push(storage, "app", None, child)
    put_manifest(storage, "app", "1.0", document)


WINDOWS_2019 = {"os": "windows", "architecture": "amd64", "os.version": "10.0.17763.5576"}
WINDOWS_2022 = {
    "os": "windows",
    "architecture": "amd64",
    "os.version": "10.0.20348.2340",
    "os.features": ["win32k"],
}


async def seed_windows(storage: Storage) -> None:
    await push(storage, "win", "multi", build_index([WINDOWS_2019, WINDOWS_2022, "linux/amd64"]))
    await push(storage, "win", "ltsc2019", build_image(WINDOWS_2019, media_type="docker"))


SUBJECT = build_image("linux/amd64", seed="subject")
SBOM = build_artifact("application/spdx+json", subject=SUBJECT, blobs=[b"{}"])


async def seed_artifact(storage: Storage) -> None:
    await push(storage, "app", "v1", SUBJECT)
    await push(storage, "app", "sbom", SBOM)
    await push(storage, "app", "index", build_index([SUBJECT]))


async def seed_odd_content(storage: Storage) -> None:
    image_with_config(storage, "odd", "missing-config", None)
    image_with_config(storage, "odd", "not-json", b"\xff\xfe{ not json")
    image_with_config(storage, "odd", "array", b"[1, 2]")
    image_with_config(storage, "odd", "no-platform", b'{"rootfs": {}}')
    image_with_config(storage, "odd", "bad-type", b'{"os": 5, "architecture": "amd64"}')
    image_with_config(storage, "odd", "deep", b"[" * 200_000)
    padding = b"x" * CONFIG_READ_LIMIT
    huge = b'{"os": "linux", "architecture": "amd64", "pad": "' + padding + b'"}'
    image_with_config(storage, "odd", "huge", huge)
    image_with_config(storage, "odd", "half", b'{"architecture": "arm64"}')
    gone = {"mediaType": mt.OCI_MANIFEST, "digest": str(compute(b"nope")), "size": 4}
    gone["platform"] = {"os": "linux", "architecture": "s390x"}
    put_manifest(storage, "odd", "dangling", index_of([gone]))
    put_manifest(storage, "odd", "empty-index", index_of([]))


SCRIPT = "<script>alert(1)"
EVIL = '</dd><script>alert("x")</script><img src=x onerror=alert(2)>'


async def seed_escaping(storage: Storage) -> None:
    image = build_image({"os": "<i>os</i>", "architecture": "amd64"}, annotations={"n": EVIL})
    await push(storage, "evil<b>x", SCRIPT, image)
    entry = image.descriptor() | {"annotations": {EVIL: EVIL}}
    document = index_of([entry]) | {"annotations": {"org.opencontainers.image.title": EVIL}}
    put_manifest(storage, "evil<b>x", "index", document)


def attestation_note() -> str:
    return f"attestation of {short_digest(ATTESTED.digest)}"


CASES = {
    "empty-registry": Case(seed_nothing, {}, contains=("No repositories yet",)),
    "single-image": Case(seed_single_image, {"demo:v1": ("image", [("linux/arm/v7", [])])}),
    "docker-list": Case(
        seed_docker_list,
        {
            "lib/tool:2.0": (
                "Docker manifest list",
                [("linux/amd64", []), ("linux/arm/v7", []), ("linux/386", [])],
            )
        },
    ),
    "oci-index-attestation-platformless": Case(
        seed_oci_index,
        {
            "app:1.0": (
                "OCI index",
                [
                    ("linux/amd64", []),
                    ("linux/arm64/v8", []),
                    ("unknown/unknown", [attestation_note()]),
                    ("", ["no platform"]),
                ],
            )
        },
        contains=("attestation-manifest",),
    ),
    "windows-os-version": Case(
        seed_windows,
        {
            "win:ltsc2019": ("image", [("windows/amd64", [])]),
            "win:multi": (
                "OCI index",
                [("windows/amd64", []), ("windows/amd64", []), ("linux/amd64", [])],
            ),
        },
        contains=("10.0.17763.5576", "10.0.20348.2340", "win32k"),
    ),
    "artifact-and-referrers": Case(
        seed_artifact,
        {
            "app:index": ("OCI index", [("linux/amd64", [])]),
            "app:sbom": ("artifact", []),
            "app:v1": ("image", [("linux/amd64", [])]),
        },
        contains=(
            "application/spdx+json",
            "1 referrer",
            f"refers to {short_digest(SUBJECT.digest)}",
        ),
    ),
    "odd-content": Case(
        seed_odd_content,
        {
            "odd:array": ("image", [("", ["config is not a JSON object"])]),
            "odd:bad-type": ("image", [("", ["config platform unreadable"])]),
            "odd:dangling": ("OCI index", [("linux/s390x", ["not in this repository"])]),
            "odd:deep": ("image", [("", ["config is not JSON"])]),
            "odd:empty-index": ("OCI index", []),
            "odd:half": ("image", [("?/arm64", [])]),
            "odd:huge": ("image", [("", ["config too large to read"])]),
            "odd:missing-config": ("image", [("", ["config blob missing"])]),
            "odd:no-platform": ("image", [("", ["no platform in config"])]),
            "odd:not-json": ("image", [("", ["config is not JSON"])]),
        },
        contains=("empty index",),
        validation="sparse",
    ),
    "escaping": Case(
        seed_escaping,
        {
            f"evil<b>x:{SCRIPT}": ("image", [("<i>os</i>/amd64", [])]),
            "evil<b>x:index": ("OCI index", [("<i>os</i>/amd64", [])]),
        },
        contains=(
            "&lt;script&gt;alert(1)",
            "&lt;i&gt;os&lt;/i&gt;/amd64",
            'href="/ui/evil%3Cb%3Ex"',
        ),
        validation="sparse",
    ),
}


@pytest.fixture
def errors() -> Iterator[list[BaseException]]:
    """Exceptions the app's handlers raised; a test fails when there are any."""
    found: list[BaseException] = []
    yield found
    if found:
        raise found[0]


ClientMaker = Callable[..., Awaitable[test_utils.TestClient[web.Request, web.Application]]]


@pytest.fixture
async def make_client(
    errors: list[BaseException],
) -> AsyncIterator[ClientMaker]:
    clients: list[test_utils.TestClient[web.Request, web.Application]] = []

    async def make(
        storage: Storage, *, web_ui: bool = True, auth: AuthConfig | None = None
    ) -> test_utils.TestClient[web.Request, web.Application]:
        app = create_app(storage=storage, on_error=errors.append, auth=auth, web_ui=web_ui)
        client = test_utils.TestClient(test_utils.TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.mark.parametrize("case", [pytest.param(c, id=name) for name, c in CASES.items()])
async def test_page(case: Case, make_client: ClientMaker) -> None:
    storage = Storage(RegistryOptions(validation=case.validation))
    await case.seed(storage)
    client = await make_client(storage)
    response = await client.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    assert "script-src" not in response.headers["Content-Security-Policy"]
    html = await response.text()
    page = parse_page(html)
    assert summary(page) == case.expected
    for text in case.contains:
        assert text in html
    assert not re.search(r"<\s*(script|img|i|b)\b", html, re.I), "unescaped markup"
    # Every repository has its own page, linked from this one, showing the same tags.
    for name in {card.repository for card in page.cards}:
        assert repository_path(name) in page.links
        own = await client.get(repository_path(name))
        assert own.status == 200
        tagged = {k: v for k, v in summary(parse_page(await own.text())).items() if k[-1] != ":"}
        assert tagged == {k: v for k, v in case.expected.items() if k.startswith(name + ":")}


async def test_repository_page_lists_untagged_manifests(make_client: ClientMaker) -> None:
    storage = Storage()
    await seed_oci_index(storage)  # the index lists all four images: none is "untagged"
    await push(storage, "app", None, build_image("linux/ppc64le"))
    client = await make_client(storage)
    page = parse_page(await (await client.get("/ui/app")).text())
    untagged = [card for card in page.cards if card.tag == ""]
    assert [(card.kind, [row.platform for row in card.rows]) for card in untagged] == [
        ("image", ["linux/ppc64le"])
    ]
    index_page = parse_page(await (await client.get("/")).text())
    assert [card.tag for card in index_page.cards] == ["1.0"]
    assert "1 untagged" in (await (await client.get("/")).text())


async def test_a_bug_on_one_manifest_leaves_the_rest_of_the_page(
    make_client: ClientMaker, errors: list[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(webui_view._Describer, "config_platform", boom)
    storage = Storage()
    await seed_single_image(storage)
    await seed_docker_list(storage)
    client = await make_client(storage)
    response = await client.get("/")
    assert response.status == 200
    found = summary(parse_page(await response.text()))
    assert found["demo:v1"] == ("unknown", [])
    assert found["lib/tool:2.0"][0] == "Docker manifest list"
    assert "cannot be shown" in await response.text()
    assert [str(error) for error in errors] == ["boom"]  # the test harness hears of it
    errors.clear()


async def test_unknown_repository_is_an_html_404(make_client: ClientMaker) -> None:
    client = await make_client(Storage())
    response = await client.get("/ui/nothing/here")
    assert response.status == 404
    assert response.content_type == "text/html"
    assert "No repository nothing/here" in await response.text()


async def test_head_and_api_untouched(make_client: ClientMaker) -> None:
    storage = Storage()
    await seed_single_image(storage)
    with_page = await make_client(storage)
    without = await make_client(storage, web_ui=False)
    assert (await with_page.head("/")).status == 200
    root = await without.get("/")
    assert root.status == 404
    assert (await root.json())["errors"][0]["code"] == "NOT_FOUND"
    assert (await without.get("/ui/demo")).status == 404
    for path in ("/v2/", "/v2/_catalog", "/v2/demo/tags/list", "/v2/demo/manifests/v1"):
        a, b = await with_page.get(path), await without.get(path)
        assert (a.status, await a.read()) == (b.status, await b.read()), path


# -- auth ---------------------------------------------------------------------------------------

USERS = {"admin": "admin-pw", "bob": "bob-pw"}
POLICY = AccessPolicy(
    rules=(AccessRule("admin", "*", "*", catalog=True), AccessRule("bob", "team/*", ["pull"])),
    anonymous_pull=["team/*"],
)


def basic(user: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{USERS[user]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def seed_auth(storage: Storage) -> None:
    await push(storage, "team/app", "v1", build_image("linux/arm64/v8"))
    await push(storage, "secret/vault", "v1", build_image("linux/amd64"))


@pytest.mark.parametrize(
    ("user", "path", "status", "challenge"),
    [
        pytest.param(None, "/", 401, 'Basic realm="fakeregistry"', id="anonymous-index"),
        pytest.param("admin", "/", 200, None, id="admin-index"),
        pytest.param("bob", "/", 403, None, id="no-catalog-for-bob"),
        pytest.param(None, "/ui/team/app", 200, None, id="anonymous-pull-repository"),
        pytest.param(None, "/ui/secret/vault", 401, "Basic", id="anonymous-secret"),
        pytest.param("bob", "/ui/team/app", 200, None, id="bob-team"),
        pytest.param("bob", "/ui/secret/vault", 403, None, id="bob-secret"),
        pytest.param("bob", "/ui/secret/nothing", 403, None, id="bob-unknown-secret"),
    ],
)
async def test_basic_auth(
    make_client: ClientMaker, user: str | None, path: str, status: int, challenge: str | None
) -> None:
    storage = Storage()
    await seed_auth(storage)
    auth = AuthConfig(mode="basic", users=Users(USERS), policy=POLICY)
    client = await make_client(storage, auth=auth)
    response = await client.get(path, headers=basic(user) if user else {})
    assert response.status == status
    if challenge is not None:
        assert challenge in response.headers["WWW-Authenticate"]
    if status == 200:
        assert "linux/" in await response.text()
    else:
        assert "linux/" not in await response.text()


@pytest.mark.parametrize("mode", ["token", "basic"])
async def test_auth_on_page_needs_catalog_and_pull_on_everything(
    make_client: ClientMaker, mode: AuthMode
) -> None:
    storage = Storage()
    await seed_auth(storage)
    auth = AuthConfig(mode=mode, users=Users(USERS), policy=POLICY)
    client = await make_client(storage, auth=auth)
    refused = await client.get("/")
    assert refused.status == 401
    if mode == "token":
        challenge = refused.headers["WWW-Authenticate"]
        assert challenge.startswith("Bearer realm=")
        assert "registry:catalog:*" in challenge
        assert "repository:secret/vault:pull" in challenge
        scopes = ["registry:catalog:*", "repository:secret/vault:pull", "repository:team/app:pull"]
        answer = await client.get(
            "/token", params=[("scope", scope) for scope in scopes], headers=basic("admin")
        )
        headers = {"Authorization": "Bearer " + (await answer.json())["token"]}
    else:
        headers = basic("admin")
    allowed = await client.get("/", headers=headers)
    assert allowed.status == 200
    assert sorted(card.repository for card in parse_page(await allowed.text()).cards) == [
        "secret/vault",
        "team/app",
    ]


# -- in a browser -------------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def write_layout(root: Path, tagged: dict[str, tuple[bytes, str]], items: list[Image]) -> Path:
    """An OCI image layout: ``items`` (manifests and blobs) and the manifests of ``tagged``
    (``{tag: (body, media type)}``) named in ``index.json``."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def write(data: bytes) -> str:
        digest = compute(data)
        (blobs / digest.encoded).write_bytes(data)
        return str(digest)

    for item in items:
        write(item.manifest)
        for blob in item.blobs:
            write(blob.data)
    manifests = [
        {
            "mediaType": media_type,
            "digest": write(body),
            "size": len(body),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }
        for tag, (body, media_type) in tagged.items()
    ]
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": manifests}))
    return root


def test_browser_shows_platforms(tmp_path: Path) -> None:
    chromium = require_tool("chromium")
    document, children = attested_index()
    sbom = build_artifact("application/spdx+json", subject=ATTESTED, blobs=[b"{}"])
    layout = write_layout(
        tmp_path / "layout",
        {
            "1.0": (json.dumps(document).encode(), mt.OCI_INDEX),
            "sbom": (sbom.manifest, sbom.media_type),
        },
        [*children, sbom],
    )
    windows = "windows(10.0.17763.5576)/amd64"
    with (
        serve(
            "--seed-layout",
            f"{layout}=team/app",
            "--seed-image",
            "demo:1.0=linux/amd64,linux/arm64/v8,linux/arm/v7",
            "--seed-image",
            f"win/server:ltsc2019={windows},windows(10.0.20348+win32k)/amd64",
            "--seed-image",
            "tool:latest=linux/s390x",
        ) as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            assert page.title() == "fakeregistry"
            demo = page.locator('section[data-repository="demo"] article[data-tag="1.0"]')
            assert demo.locator(".kind").inner_text() == "OCI index"
            assert demo.locator("td.platform").all_inner_texts() == [
                "linux/amd64",
                "linux/arm64/v8",
                "linux/arm/v7",
            ]
            attested = page.locator('section[data-repository="team/app"] article[data-tag="1.0"]')
            assert attested.locator("td.platform").all_inner_texts() == [
                "linux/amd64",
                "linux/arm64/v8",
                "unknown/unknown",
                "—",
            ]
            notes = attested.locator("td.notes").all_inner_texts()
            assert notes == [
                "",
                "",
                f"attestation of {short_digest(ATTESTED.digest)}",
                "no platform",
            ]
            assert attested.locator("tr.entry").nth(0).locator("td.num").last.inner_text() == "1"
            sbom_card = page.locator('article[data-tag="sbom"]')
            assert sbom_card.locator(".kind").inner_text() == "artifact"
            assert "application/spdx+json" in sbom_card.inner_text()
            tool = page.locator('article[data-tag="latest"] td.platform')
            assert tool.all_inner_texts() == ["linux/s390x"]
            windows_rows = page.locator('section[data-repository="win/server"] tr.entry')
            assert windows_rows.count() == 2
            assert "10.0.17763.5576" in windows_rows.nth(0).inner_text()
            assert "win32k" in windows_rows.nth(1).inner_text()
            page.screenshot(path=str(tmp_path / "index.png"), full_page=True)
            page.click("text=win/server")
            page.wait_for_url("**/ui/win/server")
            assert page.locator("td.platform").all_inner_texts() == [
                "windows/amd64",
                "windows/amd64",
            ]
            page.screenshot(path=str(tmp_path / "repository.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "index.png").stat().st_size > 10_000


def test_serve_page_with_basic_auth() -> None:
    with serve("--seed-image", "demo:1", "--auth", "basic", "--user", "alice:pw") as url:
        assert httpx.get(url).status_code == 401
        answer = httpx.get(url, auth=("alice", "pw"))
        assert answer.status_code == 200
        assert "linux/amd64" in answer.text
