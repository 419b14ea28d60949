"""The pytest plugin as users meet it: in a fresh pytest run, through the entry point.

Each test writes a small test project with ``pytester`` and runs pytest on it in a subprocess,
so the plugin is loaded exactly as ``pip install fakeregistry`` loads it.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import httpx
import pytest

from tests.distribution import run_distribution

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

ISOLATION = """
    import httpx

    def test_first(fake_registry):
        fake_registry.push_image("app:1")
        assert httpx.get(fake_registry.url + "/v2/_catalog").json() == {"repositories": ["app"]}

    def test_second_sees_nothing(fake_registry):
        assert httpx.get(fake_registry.url + "/v2/_catalog").json() == {"repositories": []}
        assert len(fake_registry.requests) == 1

    def test_same_server_reused(fake_registry, fake_registry_server):
        assert fake_registry.url == fake_registry_server.server().url
"""

SYNC_AND_ASYNC = """
    import httpx
    import pytest

    def test_sync(fake_registry):
        fake_registry.push_image("app:1")
        assert httpx.get(fake_registry.url + "/v2/app/tags/list").json()["tags"] == ["1"]

    @pytest.mark.asyncio
    async def test_asyncio_function_loop(fake_registry):
        await fake_registry.apush_image("app:2")
        fake_registry.push_image("app:3")  # the sync builder works inside a running loop too
        async with httpx.AsyncClient() as http:
            tags = (await http.get(fake_registry.url + "/v2/app/tags/list")).json()["tags"]
        assert tags == ["2", "3"]

    @pytest.mark.asyncio(loop_scope="session")
    async def test_asyncio_session_loop(fake_registry):
        await fake_registry.apush_index("multi:1", ["linux/amd64", "linux/arm64"])
        async with httpx.AsyncClient() as http:
            response = await http.get(fake_registry.url + "/v2/multi/tags/list")
        assert response.json()["tags"] == ["1"]

    @pytest.mark.anyio
    async def test_anyio(fake_registry):
        blob = await fake_registry.apush_blob("app", b"x")
        async with httpx.AsyncClient() as http:
            response = await http.get(f"{fake_registry.url}/v2/app/blobs/{blob.digest}")
        assert response.content == b"x"

    @pytest.fixture
    def anyio_backend():
        return "asyncio"
"""

SERVER_ERROR = """
    import httpx

    def test_server_bug_fails_the_test(fake_registry):
        def broken(*args):
            raise RuntimeError("boom inside the registry")
        fake_registry.server.call(setattr, fake_registry.server.storage, "list_tags", broken)
        response = httpx.get(fake_registry.url + "/v2/app/tags/list")
        assert response.status_code == 500
        assert response.json()["errors"][0]["code"] == "UNKNOWN"

    def test_next_test_is_fine(fake_registry):
        assert httpx.get(fake_registry.url + "/v2/").status_code == 200
"""

XDIST = """
    import os
    import pathlib

    import pytest

    @pytest.mark.parametrize("n", range(6))
    def test_record_url(fake_registry, n):
        fake_registry.push_image(f"app:{n}")
        worker = os.environ["PYTEST_XDIST_WORKER"]
        with open(pathlib.Path(__file__).parent / f"urls-{worker}.txt", "a") as out:
            out.write(fake_registry.url + "\\n")
"""


@pytest.mark.parametrize(
    ("source", "args", "outcomes"),
    [
        pytest.param(ISOLATION, (), {"passed": 3}, id="isolation-between-tests"),
        pytest.param(
            SYNC_AND_ASYNC,
            ("-p", "anyio", "-o", "asyncio_mode=strict"),
            {"passed": 4},
            id="sync-async-anyio-strict-mode",
        ),
        pytest.param(
            SYNC_AND_ASYNC,
            ("-o", "asyncio_mode=auto"),
            {"passed": 4},
            id="sync-async-anyio-auto-mode",
        ),
        pytest.param(SERVER_ERROR, (), {"passed": 2, "errors": 1}, id="server-error-fails-test"),
    ],
)
def test_plugin_run(
    pytester: pytest.Pytester, source: str, args: tuple[str, ...], outcomes: dict[str, int]
) -> None:
    pytester.makepyfile(textwrap.dedent(source))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    result.assert_outcomes(**outcomes)
    if "errors" in outcomes:
        result.stdout.fnmatch_lines(
            ["*fakeregistry raised while serving this test*", "*RuntimeError: boom inside*"]
        )


PORTABLE = """
    import httpx
    import pytest

    ACCEPT = {"Accept": "application/vnd.oci.image.index.v1+json, "
                        "application/vnd.oci.image.manifest.v1+json"}

    def test_builders_push_over_http(fake_registry):
        index = fake_registry.push_index("app:1", ["linux/amd64", "linux/arm64/v8"])
        name = fake_registry.repository("app")
        response = httpx.get(f"{fake_registry.url}/v2/{name}/manifests/1", headers=ACCEPT)
        assert response.headers["Docker-Content-Digest"] == index.digest
        result = fake_registry.pull("app:1", platform="linux/arm64")
        assert result.platform.architecture == "arm64"

    def test_each_test_has_its_own_prefix(fake_registry):
        name = fake_registry.repository("app")
        response = httpx.get(f"{fake_registry.url}/v2/{name}/tags/list")
        assert response.status_code == 404

    def test_request_log_skips_outside_our_server(fake_registry):
        httpx.get(fake_registry.url + "/v2/")
        fake_registry.assert_requested("GET", "^/v2/$", count=1)

    def test_faults_skip_outside_our_server(fake_registry):
        fake_registry.fail("GET", "/v2/", status=500)

    @pytest.mark.fake_registry(auth="basic")
    def test_auth_marker_skips_outside_our_server(fake_registry):
        pass

    def test_factory_skips_outside_our_server(fake_registry_factory):
        fake_registry_factory()
"""


@pytest.mark.interop
def test_external_registry_mode_against_distribution(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(textwrap.dedent(PORTABLE))
    with run_distribution(tmp_path) as distribution:
        own = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
        external = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "-rs", "--fake-registry-url", distribution.url
        )
        # The same setting through the environment, as CI would give it.
        os.environ["FAKEREGISTRY_URL"] = distribution.url
        try:
            from_env = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
        finally:
            del os.environ["FAKEREGISTRY_URL"]
        catalog = httpx.get(distribution.url + "/v2/_catalog").json()["repositories"]
    own.assert_outcomes(passed=6)
    for result in (external, from_env):
        result.assert_outcomes(passed=2, skipped=4)
        result.stdout.fnmatch_lines_random(
            [
                "*the request log needs fakeregistry's own server*",
                "*fault injection needs fakeregistry's own server*",
                "*tls/auth settings need fakeregistry's own server*",
                "*fake_registry_factory needs fakeregistry's own servers*",
            ]
        )
    assert catalog
    assert all(name.startswith("fakeregistry-") for name in catalog), catalog


def test_fixture_docstrings_show_usage(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "fake_registry -- *",
            "*Usage: ``def test_push(fake_registry): fake_registry.push_image(*",
            "fake_registry_factory -- *",
            "*Usage: ``source, mirror = fake_registry_factory()*",
        ]
    )


def test_xdist_workers_have_their_own_server(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.makepyfile(textwrap.dedent(XDIST))
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    urls = {
        worker: set((pytester.path / f"urls-{worker}.txt").read_text().split())
        for worker in ("gw0", "gw1")
    }
    assert all(len(found) == 1 for found in urls.values()), urls
    assert urls["gw0"] != urls["gw1"]
