"""A model of the registry, and a hypothesis state machine that interleaves push (monolithic
and chunked), mount, tag, delete, list and pull against it. After every step every stored
byte and every listing must match the model (issue 10).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from fakeregistry import RegistryServer
from fakeregistry.rules import mediatypes as mt
from tests.content import digest_of, image_manifest

REPOS = st.sampled_from(["a", "b", "team/c"])
TAGS = st.sampled_from(["latest", "v1", "v2"])
DATA = st.sampled_from([b"", b"x", b"layer one", b"layer two", b"{}", b"\x00" * 100])


@dataclass
class RepoModel:
    blobs: set[str] = field(default_factory=set)
    manifests: dict[str, bytes] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


class RegistryMachine(RuleBasedStateMachine):
    def __init__(self, server: RegistryServer, http: httpx.Client) -> None:
        super().__init__()
        server.reset()
        self.http = http
        self.content: dict[str, bytes] = {}  # every blob ever pushed, by digest
        self.repos: dict[str, RepoModel] = {}

    def _repo(self, name: str) -> RepoModel:
        return self.repos.setdefault(name, RepoModel())

    # -- steps ---------------------------------------------------------------------------

    @rule(repo=REPOS, data=DATA, chunked=st.booleans())
    def push_blob(self, repo: str, data: bytes, chunked: bool) -> None:
        digest = digest_of(data)
        if chunked:
            location = self.http.post(f"/v2/{repo}/blobs/uploads/").headers["Location"]
            half = len(data) // 2
            if half:
                response = self.http.patch(
                    location,
                    content=data[:half],
                    headers={"Content-Range": f"0-{half - 1}"},
                )
                assert response.status_code == 202, response.text
                location = response.headers["Location"]
            response = self.http.put(location, params={"digest": digest}, content=data[half:])
        else:
            response = self.http.post(
                f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=data
            )
        assert response.status_code == 201, response.text
        self.content[digest] = data
        self._repo(repo).blobs.add(digest)

    @rule(source=REPOS, dest=REPOS, data=DATA)
    def mount(self, source: str, dest: str, data: bytes) -> None:
        digest = digest_of(data)
        response = self.http.post(
            f"/v2/{dest}/blobs/uploads/", params={"mount": digest, "from": source}
        )
        if source in self.repos and digest in self.repos[source].blobs:
            assert response.status_code == 201, response.text
            self._repo(dest).blobs.add(digest)
        else:
            assert response.status_code == 202, response.text
            assert self.http.delete(response.headers["Location"]).status_code == 204

    @rule(repo=REPOS, tag=TAGS, config=DATA, layer=DATA)
    def push_image(self, repo: str, tag: str, config: bytes, layer: bytes) -> None:
        model = self.repos.get(repo)
        body = image_manifest(config, [layer])
        response = self.http.put(
            f"/v2/{repo}/manifests/{tag}", content=body, headers={"Content-Type": mt.OCI_MANIFEST}
        )
        needed = {digest_of(config), digest_of(layer)}
        if model is None or not needed <= model.blobs:
            assert response.status_code == 400, response.text
            assert response.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"
            return
        assert response.status_code == 201, response.text
        digest = digest_of(body)
        model.manifests[digest] = body
        model.tags[tag] = digest

    @rule(repo=REPOS, tag=TAGS, new_tag=TAGS)
    def retag(self, repo: str, tag: str, new_tag: str) -> None:
        model = self.repos.get(repo)
        if model is None or tag not in model.tags:
            return
        digest = model.tags[tag]
        response = self.http.put(
            f"/v2/{repo}/manifests/{new_tag}",
            content=model.manifests[digest],
            headers={"Content-Type": mt.OCI_MANIFEST},
        )
        assert response.status_code == 201, response.text
        model.tags[new_tag] = digest

    @rule(repo=REPOS, tag=TAGS)
    def delete_tag(self, repo: str, tag: str) -> None:
        response = self.http.delete(f"/v2/{repo}/manifests/{tag}")
        model = self.repos.get(repo)
        if model is None:
            assert response.status_code == 404
        elif tag in model.tags:
            assert response.status_code == 202, response.text
            del model.tags[tag]
        else:
            assert response.status_code == 404, response.text

    @rule(repo=REPOS, data=st.data())
    def delete_manifest(self, repo: str, data: st.DataObject) -> None:
        model = self.repos.get(repo)
        if model is None or not model.manifests:
            return
        digest = data.draw(st.sampled_from(sorted(model.manifests)))
        assert self.http.delete(f"/v2/{repo}/manifests/{digest}").status_code == 202
        del model.manifests[digest]
        model.tags = {t: d for t, d in model.tags.items() if d != digest}

    @rule(repo=REPOS, data=DATA)
    def delete_blob(self, repo: str, data: bytes) -> None:
        digest = digest_of(data)
        response = self.http.delete(f"/v2/{repo}/blobs/{digest}")
        model = self.repos.get(repo)
        if model is not None and digest in model.blobs:
            assert response.status_code == 202, response.text
            model.blobs.discard(digest)
        else:
            assert response.status_code == 404, response.text

    # -- what must hold after every step ------------------------------------------------------

    @invariant()
    def listings_match(self) -> None:
        catalog = self.http.get("/v2/_catalog").json()["repositories"]
        assert catalog == sorted(self.repos)
        for name, model in self.repos.items():
            tags = self.http.get(f"/v2/{name}/tags/list").json()["tags"]
            assert tags == sorted(model.tags)

    @invariant()
    def bytes_match(self) -> None:
        for name, model in self.repos.items():
            for tag, digest in model.tags.items():
                response = self.http.get(
                    f"/v2/{name}/manifests/{tag}", headers={"Accept": mt.OCI_MANIFEST}
                )
                assert response.status_code == 200
                assert response.headers["Docker-Content-Digest"] == digest
                assert response.content == model.manifests[digest]
            for digest, body in model.manifests.items():
                response = self.http.get(
                    f"/v2/{name}/manifests/{digest}", headers={"Accept": mt.OCI_MANIFEST}
                )
                assert response.content == body
            for digest in self.content:
                response = self.http.get(f"/v2/{name}/blobs/{digest}")
                if digest in model.blobs:
                    assert response.status_code == 200
                    assert response.content == self.content[digest]
                else:
                    assert response.status_code == 404

    @invariant()
    def usage_matches(self) -> None:
        usage = self.http.get("/healthz").json()["usage"]
        linked = {d for model in self.repos.values() for d in model.blobs}
        assert usage["blob_bytes"] == sum(len(self.content[d]) for d in linked)
        assert usage["manifest_bytes"] == sum(
            len(body) for model in self.repos.values() for body in model.manifests.values()
        )
        assert usage["upload_sessions"] == 0
        assert usage["receiving_bytes"] == 0


@pytest.fixture(scope="module")
def server() -> Iterator[RegistryServer]:
    errors: list[BaseException] = []
    with RegistryServer(on_error=errors.append) as running:
        yield running
    assert not errors, errors


def test_registry_matches_its_model(server: RegistryServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        run_state_machine_as_test(
            lambda: RegistryMachine(server, http),  # type: ignore[arg-type]
            settings=settings(
                max_examples=40,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
