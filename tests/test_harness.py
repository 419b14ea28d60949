"""The ``fake_registry`` fixture's handle: builders, request log, faults, settings.

These tests use the plugin the way a user does (the fixture comes from the installed
``pytest11`` entry point) and check every effect over plain HTTP.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from fakeregistry import FakeRegistry, FeatureUnavailable, Image
from fakeregistry.rules import mediatypes as mt
from tests.oci_layout import write_image, write_index

ACCEPT = {"Accept": ", ".join(sorted(mt.MANIFEST_TYPES))}


def get(registry: FakeRegistry, path: str, **kwargs: object) -> httpx.Response:
    return httpx.get(registry.url + path, headers=ACCEPT, timeout=10, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("media_type", "manifest_type"),
    [
        pytest.param("oci", mt.OCI_MANIFEST, id="oci"),
        pytest.param("docker", mt.DOCKER_MANIFEST, id="docker"),
    ],
)
def test_push_image(fake_registry: FakeRegistry, media_type: str, manifest_type: str) -> None:
    image = fake_registry.push_image(
        "app:1.0",
        platform="linux/arm/v7",
        layers=[{"hello.txt": "hi"}, b"raw"],
        media_type=media_type,  # type: ignore[arg-type]
    )
    response = get(fake_registry, "/v2/app/manifests/1.0")
    assert response.content == image.manifest
    assert response.headers["Content-Type"] == manifest_type
    assert response.headers["Docker-Content-Digest"] == image.digest
    config = json.loads(get(fake_registry, f"/v2/app/blobs/{image.config.digest}").content)
    assert (config["os"], config["architecture"], config["variant"]) == ("linux", "arm", "v7")
    assert len(config["rootfs"]["diff_ids"]) == 2
    assert get(fake_registry, f"/v2/app/blobs/{image.layers[1].digest}").content == b"raw"


@pytest.mark.parametrize(
    ("media_type", "index_type"),
    [
        pytest.param("oci", mt.OCI_INDEX, id="oci-index"),
        pytest.param("docker", mt.DOCKER_MANIFEST_LIST, id="docker-list"),
    ],
)
def test_push_index(fake_registry: FakeRegistry, media_type: str, index_type: str) -> None:
    index = fake_registry.push_index(
        "multi:latest",
        ["linux/amd64", "linux/arm64/v8", "windows(10.0.17763)/amd64"],
        media_type=media_type,  # type: ignore[arg-type]
    )
    response = get(fake_registry, "/v2/multi/manifests/latest")
    assert response.headers["Content-Type"] == index_type
    entries = json.loads(response.content)["manifests"]
    assert [e["platform"] for e in entries] == [
        {"os": "linux", "architecture": "amd64"},
        {"os": "linux", "architecture": "arm64", "variant": "v8"},
        {"os": "windows", "architecture": "amd64", "os.version": "10.0.17763"},
    ]
    for child in index.children:
        assert get(fake_registry, f"/v2/multi/manifests/{child.digest}").status_code == 200
    assert len({child.digest for child in index.children}) == 3


def test_push_artifact_is_a_referrer(fake_registry: FakeRegistry) -> None:
    image = fake_registry.push_image("app:1.0")
    sig = fake_registry.push_artifact(
        "app", subject=image, artifact_type="application/vnd.example.sig", blobs=[b"sig"]
    )
    index = get(fake_registry, f"/v2/app/referrers/{image.digest}").json()
    assert [m["digest"] for m in index["manifests"]] == [sig.digest]
    assert get(fake_registry, "/v2/app/tags/list").json()["tags"] == ["1.0"]


def test_full_references_and_ref_helper(fake_registry: FakeRegistry) -> None:
    ref = fake_registry.ref("ns/app", "v2")
    assert ref == f"{fake_registry.host}/ns/app:v2"
    image = fake_registry.push_image(ref)
    assert fake_registry.ref("ns/app", image.digest).endswith(f"/ns/app@{image.digest}")
    assert get(fake_registry, "/v2/ns/app/manifests/v2").status_code == 200


def test_each_test_starts_empty_part_one(fake_registry: FakeRegistry) -> None:
    fake_registry.push_image("leftover:1")
    fake_registry.configure(deletes=False)
    fake_registry.fail("GET", r"/v2/$", status=503)


def test_each_test_starts_empty_part_two(fake_registry: FakeRegistry) -> None:
    assert get(fake_registry, "/v2/_catalog").json() == {"repositories": []}
    assert get(fake_registry, "/v2/").status_code == 200
    assert fake_registry.server is not None
    assert fake_registry.server.options.deletes is True
    assert [str(r) for r in fake_registry.requests] == [
        "GET /v2/_catalog -> 200",
        "GET /v2/ -> 200",
    ]


@pytest.mark.fake_registry(
    images=["seeded:1", ("multi:1", ["linux/amd64", "linux/s390x"])], deletes=False
)
def test_marker_seeds_and_configures(fake_registry: FakeRegistry) -> None:
    assert get(fake_registry, "/v2/_catalog").json() == {"repositories": ["multi", "seeded"]}
    index = get(fake_registry, "/v2/multi/manifests/1").json()
    assert [m["platform"]["architecture"] for m in index["manifests"]] == ["amd64", "s390x"]
    assert httpx.delete(fake_registry.url + "/v2/seeded/manifests/1").status_code == 405


def test_load_layout(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    single = write_image(tmp_path / "single", tag="v1")
    multi = write_index(tmp_path / "multi", tag="v2")
    assert fake_registry.load_layout(single.path, "one") == ["v1"]
    assert fake_registry.load_layout(multi.path, "many") == ["v2"]
    response = get(fake_registry, "/v2/many/manifests/v2")
    assert response.headers["Docker-Content-Digest"] == multi.digest
    for digest in multi.manifests:
        assert get(fake_registry, f"/v2/many/manifests/{digest}").status_code == 200
    assert get(fake_registry, "/v2/one/manifests/v1").headers["Docker-Content-Digest"] == (
        single.digest
    )


def test_request_log_and_assertions(fake_registry: FakeRegistry) -> None:
    fake_registry.push_image("app:1")  # seeding does not go through HTTP: not logged
    get(fake_registry, "/v2/app/manifests/1")
    get(fake_registry, "/v2/app/manifests/2")
    found = fake_registry.assert_requested("GET", r"/manifests/", count=2)
    assert [r.status for r in found] == [200, 404]
    assert found[0].headers["Accept"] == ACCEPT["Accept"]
    fake_registry.assert_requested("get", r"/manifests/2$", status=404)
    with pytest.raises(AssertionError, match=r"(?s)exactly 3 .*GET /v2/app/manifests/2 -> 404"):
        fake_registry.assert_requested("GET", r"/manifests/", count=3)
    with pytest.raises(AssertionError, match="at least one PUT"):
        fake_registry.assert_requested("PUT")


def test_fail_times_and_after(fake_registry: FakeRegistry) -> None:
    fault = fake_registry.fail("GET", r"^/v2/$", status=503, times=2, after=1)
    statuses = [get(fake_registry, "/v2/").status_code for _ in range(5)]
    assert statuses == [200, 503, 503, 200, 200]
    assert (fault.matched, fault.fired) == (5, 2)


def test_fail_custom_body_and_headers(fake_registry: FakeRegistry) -> None:
    fake_registry.fail(path=r"^/v2/$", status=401, headers={"WWW-Authenticate": 'Basic realm="x"'})
    response = get(fake_registry, "/v2/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="x"'
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"
    fake_registry.fail(path="/v2/_catalog", status=502, body="bad gateway")
    gateway = get(fake_registry, "/v2/_catalog")
    assert (gateway.status_code, gateway.text) == (502, "bad gateway")


def test_drop_connection(fake_registry: FakeRegistry) -> None:
    fake_registry.fail("GET", r"^/v2/$", drop_connection=True, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        get(fake_registry, "/v2/")
    assert get(fake_registry, "/v2/").status_code == 200


def test_truncate_blob_body(fake_registry: FakeRegistry) -> None:
    blob = fake_registry.push_blob("app", b"0123456789" * 1000)
    fake_registry.fail("GET", r"/blobs/", truncate_body=100, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        get(fake_registry, f"/v2/app/blobs/{blob.digest}")
    assert get(fake_registry, f"/v2/app/blobs/{blob.digest}").content == b"0123456789" * 1000


def test_delay(fake_registry: FakeRegistry) -> None:
    fake_registry.delay(0.2, "GET", r"^/v2/$")
    response = get(fake_registry, "/v2/")
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.2


def test_rate_limit_like_docker_hub(fake_registry: FakeRegistry) -> None:
    fake_registry.push_image("app:1")
    fake_registry.rate_limit(2, window=60)
    first = get(fake_registry, "/v2/app/manifests/1")
    assert first.headers["ratelimit-limit"] == "2;w=60"
    assert first.headers["ratelimit-remaining"] == "1;w=60"
    assert first.headers["docker-ratelimit-source"] == "127.0.0.1"
    assert httpx.head(fake_registry.url + "/v2/app/manifests/1", headers=ACCEPT).status_code == 200
    assert get(fake_registry, "/v2/app/manifests/1").status_code == 200
    refused = get(fake_registry, "/v2/app/manifests/1")
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "TOOMANYREQUESTS"
    assert refused.headers["ratelimit-remaining"] == "0;w=60"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_warnings(fake_registry: FakeRegistry) -> None:
    fake_registry.warn("this registry is deprecated")
    fake_registry.warn("second")
    response = get(fake_registry, "/v2/")
    assert response.headers.get_list("Warning") == [
        '299 - "this registry is deprecated"',
        '299 - "second"',
    ]
    with pytest.raises(ValueError, match="quotes"):
        fake_registry.warn('a "quoted" text')


def test_factory_gives_independent_registries(fake_registry_factory: object) -> None:
    assert callable(fake_registry_factory)
    first: FakeRegistry = fake_registry_factory()
    second: FakeRegistry = fake_registry_factory(deletes=False)
    first.push_image("only-here:1")
    assert first.url != second.url
    assert get(second, "/v2/_catalog").json() == {"repositories": []}
    assert second.server is not None
    assert second.server.options.deletes is False


async def test_async_twins(fake_registry: FakeRegistry) -> None:
    image, index = await asyncio.gather(
        fake_registry.apush_image("a:1"),
        fake_registry.apush_index("b:1", ["linux/amd64", "linux/arm64"]),
    )
    blob = await fake_registry.apush_blob("c", b"data")
    artifact = await fake_registry.apush_artifact("a", subject=image)
    async with httpx.AsyncClient(base_url=fake_registry.url, headers=ACCEPT) as http:
        assert (await http.get("/v2/a/manifests/1")).content == image.manifest
        assert (await http.get(f"/v2/b/manifests/{index.digest}")).status_code == 200
        assert (await http.get(f"/v2/c/blobs/{blob.digest}")).content == b"data"
        assert (await http.get(f"/v2/a/manifests/{artifact.digest}")).status_code == 200


def test_feature_unavailable_without_instruments() -> None:
    from fakeregistry import RegistryServer

    with RegistryServer() as server:
        handle = FakeRegistry.for_server(server)
        with pytest.raises(FeatureUnavailable, match="request log"):
            _ = handle.requests


@pytest.mark.fake_registry(tls=True, auth="basic", users={"alice": "secret"})
def test_marker_tls_and_basic_auth(fake_registry: FakeRegistry) -> None:
    assert fake_registry.url.startswith("https://127.0.0.1:")
    assert fake_registry.credentials == ("alice", "secret")
    assert fake_registry.ca_path is not None
    assert Path(fake_registry.ca_path).read_text().startswith("-----BEGIN CERTIFICATE-----")
    fake_registry.push_image("app:1")
    url = f"{fake_registry.url}/v2/app/tags/list"
    assert fake_registry.ssl_context is not None
    with httpx.Client(verify=fake_registry.ssl_context) as http:
        denied = http.get(url)
        assert denied.status_code == 401
        assert denied.headers["WWW-Authenticate"].startswith("Basic realm=")
        assert http.get(url, auth=fake_registry.credentials).json()["tags"] == ["1"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)  # the system trust store does not know the throwaway CA


@pytest.mark.fake_registry(auth="token", anonymous_pull=True)
def test_marker_token_auth_with_anonymous_pull(fake_registry: FakeRegistry) -> None:
    fake_registry.push_image("app:1")
    url = f"{fake_registry.url}/v2/app/tags/list"
    challenge = httpx.get(url)
    assert challenge.status_code == 401
    params = dict(
        part.split("=", 1) for part in challenge.headers["WWW-Authenticate"][7:].split(",")
    )
    realm, service, scope = (params[k].strip('"') for k in ("realm", "service", "scope"))
    token = httpx.get(realm, params={"service": service, "scope": scope}).json()["token"]
    pulled = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
    assert pulled.json()["tags"] == ["1"]
    anonymous_push = httpx.post(
        f"{fake_registry.url}/v2/app/blobs/uploads/", headers={"Authorization": f"Bearer {token}"}
    )
    assert anonymous_push.status_code == 401


@pytest.mark.interop
@pytest.mark.fake_registry(tls=True, auth="token", users={"bob": "hunter2"})
def test_marker_tls_token_with_skopeo(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    from tests.conftest import require_tool
    from tests.skopeo import Skopeo

    skopeo = Skopeo(require_tool("skopeo"), tmp_path / "skopeo", {fake_registry.host})
    layout = write_index(tmp_path / "layout", tag="v1")
    assert fake_registry.ca_path is not None
    cert_dir = str(Path(fake_registry.ca_path).parent)
    destination = f"docker://{fake_registry.ref('team/app', 'v1')}"
    skopeo.run(
        "copy",
        "--all",
        "--dest-creds",
        "bob:hunter2",
        "--dest-cert-dir",
        cert_dir,
        f"oci:{layout.path}:v1",
        destination,
    )
    raw = skopeo.run(
        "inspect", "--raw", "--creds", "bob:hunter2", "--cert-dir", cert_dir, destination
    ).stdout
    assert raw == (layout.path / "blobs" / "sha256" / layout.digest.split(":")[1]).read_bytes()
    denied = skopeo.try_run("inspect", "--raw", "--cert-dir", cert_dir, destination)
    assert denied.returncode != 0
    fake_registry.assert_requested("GET", r"^/token$")


@pytest.mark.parametrize(
    ("host", "engine", "expected"),
    [
        pytest.param("linux/arm/v6", "moby", "linux/arm/v6", id="raspberry-pi-zero-moby"),
        pytest.param("linux/arm/v7", "moby", "linux/arm/v7", id="raspberry-pi-3-moby"),
        pytest.param("linux/arm64", "moby", "linux/arm64/v8", id="arm64-host"),
        pytest.param("linux/amd64", "docker-1.10", "linux/amd64", id="docker-1.10-amd64"),
    ],
)
def test_pull_through_the_handle(
    fake_registry: FakeRegistry, host: str, engine: str, expected: str
) -> None:
    index = fake_registry.push_index(
        "app:1",
        ["linux/amd64", "linux/arm/v6", "linux/arm/v7", "linux/arm64/v8"],
        media_type="docker",
    )
    result = fake_registry.pull("app:1", platform=host, engine=engine)
    assert result.digest == index.digest
    (chosen,) = [c for c in index.children if c.digest == result.manifest.digest]
    assert isinstance(chosen, Image)
    assert chosen.platform_json is not None
    assert "/".join(chosen.platform_json.values()) == expected
