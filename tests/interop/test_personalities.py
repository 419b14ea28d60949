"""Real clients against every personality: skopeo ``copy --all`` of a multi-platform image in
and out (and ``delete``), the oras Python client's push and pull of an artifact, and our
simulated pull. Each succeeds where the real registry lets it and fails where it refuses
(deletes on ghcr and distribution, a still-tagged digest on Docker Hub, Docker media types on
zot, referrers where there is no referrers API).

One server per personality is shared by its cases (each uses repositories of its own), so the
whole module costs a few seconds per personality.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from fakeregistry.client import HostConfig, RegistryClient
from fakeregistry.engine.pull import pull_sync
from fakeregistry.registry.personality import NAMES, rules
from tests.conftest import require_tool
from tests.interop.test_oras import _require_module
from tests.oci_layout import write_image, write_index
from tests.personality_api import USER, Api, start
from tests.skopeo import Skopeo

pytestmark = pytest.mark.interop

CREDS = f"{USER[0]}:{USER[1]}"
_counter = itertools.count()

# What the real registry refuses, by personality (the table's rules, spelled out per client).
DELETE_REFUSED = {"dockerhub", "ghcr", "distribution-2.8", "distribution-3"}
REFERRERS_ABSENT = {"dockerhub", "ghcr", "distribution-2.8", "distribution-3"}


async def _referrers(host: str, connection: HostConfig, repo: str, digest: str) -> list[Any]:
    async with RegistryClient({host: connection}) as client:
        return list(await client.referrers(f"{host}/{repo}", digest))


def _repo(api: Api) -> str:
    return f"library/case{next(_counter)}"


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Api]]:
    made: dict[str, Api] = {}
    yield made
    for api in made.values():
        api.close()
        api.server.stop()


def _api(servers: dict[str, Api], name: str) -> Api:
    if name not in servers:
        servers[name] = start(name)
    return servers[name]


def _skopeo(api: Api, root: Path) -> Skopeo:
    hosts = {api.server.host}
    if api.server.blob_host_url:
        hosts.add(api.server.blob_host_url.split("://", 1)[1])
    return Skopeo(require_tool("skopeo"), root, hosts)


@pytest.mark.parametrize("name", NAMES)
def test_skopeo_copy_all_in_and_out(name: str, servers: dict[str, Api], tmp_path: Path) -> None:
    api = _api(servers, name)
    skopeo = _skopeo(api, tmp_path / "skopeo")
    image = write_index(tmp_path / "source")
    repo = _repo(api)
    remote = f"docker://{api.server.host}/{repo}:v1"

    pushed = skopeo.copy(f"oci:{image.path}:{image.tag}", remote, "--all", "--dest-creds", CREDS)
    assert pushed == image.digest
    out = tmp_path / "out"
    pulled = skopeo.copy(remote, f"oci:{out}:v1", "--all", "--src-creds", CREDS)
    assert pulled == image.digest
    assert (out / "blobs" / "sha256" / image.digest.split(":")[1]).is_file()

    # skopeo delete resolves the tag and deletes the manifest by digest.
    deleted = skopeo.try_run("delete", "--tls-verify=false", "--creds", CREDS, remote)
    if name in DELETE_REFUSED:
        assert deleted.returncode != 0, deleted.stderr.decode()
    else:
        assert deleted.returncode == 0, deleted.stderr.decode()


def test_skopeo_docker_format_is_refused_by_zot(servers: dict[str, Api], tmp_path: Path) -> None:
    api = _api(servers, "zot")
    skopeo = _skopeo(api, tmp_path / "skopeo")
    image = write_image(tmp_path / "source")
    remote = f"docker://{api.server.host}/{_repo(api)}:v1"
    refused = skopeo.try_run(
        "copy",
        "--dest-tls-verify=false",
        "--format",
        "v2s2",
        f"oci:{image.path}:{image.tag}",
        remote,
    )
    assert refused.returncode != 0
    assert "uploading manifest v1" in refused.stderr.decode()
    assert "manifest invalid" in refused.stderr.decode()


@pytest.mark.parametrize("name", NAMES)
def test_oras_push_pull(
    name: str, servers: dict[str, Api], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_module = _require_module("oras.client")
    api = _api(servers, name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "notes.txt").write_bytes(b"artifact for " + name.encode() + b"\n" * 50)
    (tmp_path / "data.bin").write_bytes(os.urandom(3000))
    basic = api.auth is not None and api.auth.mode == "basic"
    oras: Any = client_module.OrasClient(
        hostname=api.server.host, insecure=True, auth_backend="basic" if basic else "token"
    )
    repo = _repo(api)
    if api.auth is not None:
        oras.auth.set_basic_auth(*USER)
    if api.auth is not None and not basic:
        # oras-py answers a 401 with the token it already holds (it asks again only after a
        # 403), so against any token registry, distribution included, a push that starts with
        # a pull-scoped request fails; hand it a push token from the personality's endpoint.
        body = api.token(f"repository:{repo}:pull,push").json()
        oras.auth.set_token_auth(body.get("token") or body["access_token"])
    target = f"{api.server.host}/{repo}:art"
    pushed = oras.push(files=["notes.txt", "data.bin"], target=target)
    assert pushed.status_code == 201
    files = oras.pull(target=target, outdir=str(tmp_path / "out"))
    assert sorted(Path(f).name for f in files) == ["data.bin", "notes.txt"]
    assert (tmp_path / "out" / "data.bin").read_bytes() == (tmp_path / "data.bin").read_bytes()


@pytest.mark.parametrize("name", NAMES)
def test_simulated_pull_and_referrers(name: str, servers: dict[str, Api]) -> None:
    api = _api(servers, name)
    repo = _repo(api)
    index = api.handle.push_index(f"{repo}:v1", ["linux/amd64", "linux/arm64/v8"])
    connection = api.handle.connection
    result = pull_sync(f"{api.server.host}/{repo}:v1", connection=connection, host="linux/arm64")
    assert result.platform is not None
    assert result.platform.architecture == "arm64"
    assert result.layers
    redirect = api.personality.rule(rules.BlobRedirect)
    storage = [
        t
        for t in result.trace
        if api.server.blob_host_url and t.url.startswith(api.server.blob_host_url)
    ]
    if redirect is not None:
        assert storage, "the layers were not fetched from the storage host"
        assert all(t.status == 200 for t in storage)
    else:
        assert not storage

    # A signature attached by subject: found through the referrers API where it exists.
    artifact = api.handle.push_artifact(f"{repo}", subject=index)
    found = asyncio.run(_referrers(api.server.host, connection, f"{repo}", index.digest))
    if name in REFERRERS_ABSENT:
        assert found == []  # the client falls back to the tag schema, which nobody wrote
    else:
        assert [d.digest for d in found] == [artifact.digest]


@pytest.mark.parametrize("name", ["dockerhub", "quay", "acr"])
async def test_forwarding_authorization_across_the_redirect_fails(
    name: str, servers: dict[str, Api]
) -> None:
    """A client that re-sends the registry's Authorization to the storage host is refused, as
    S3 refuses it; the same request without it succeeds."""
    api = _api(servers, name)
    repo = _repo(api)
    image = api.handle.push_image(f"{repo}:v1")
    headers = api.authorization(f"repository:{repo}:pull")
    layer = image.layers[0]
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"{api.server.url}/v2/{repo}/blobs/{layer.digest}",
            headers=headers,
            allow_redirects=False,
        ) as first:
            assert first.status in (302, 307)
            location = first.headers["Location"]
        async with session.get(location, headers=headers) as forwarded:
            assert forwarded.status == 400
            assert "Only one auth mechanism allowed" in await forwarded.text()
        async with session.get(location) as clean:
            assert clean.status == 200
            assert await clean.read() == layer.data


def test_our_client_drops_authorization_on_the_redirect(servers: dict[str, Api]) -> None:
    api = _api(servers, "dockerhub")
    repo = _repo(api)
    image = api.handle.push_image(f"{repo}:v1")
    config = HostConfig(plain_http=True, username=USER[0], password=USER[1])

    async def fetch() -> tuple[bytes, list[Any]]:
        async with RegistryClient({api.server.host: config}) as client:
            with client.recording() as trace:
                data = await client.get_blob(f"{api.server.host}/{repo}", image.layers[0].digest)
            return data, trace

    data, trace = asyncio.run(fetch())
    assert data == image.layers[0].data
    assert [t.status for t in trace][-2:] == [307, 200]
