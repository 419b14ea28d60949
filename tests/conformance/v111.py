"""Support for the port of the v1.1.1 conformance suite (Ginkgo, ``conformance/*_test.go``).

This is ``conformance/setup.go`` (test data, environment toggles, error codes) and
``conformance/image.go`` (the JSON shapes it marshals) of opencontainers/distribution-spec as
they stood for the v1.1.1 release (the last Ginkgo-based state of ``main``; setup.go and
03_discovery_test.go at b5f09ebe, 01_pull_test.go at 47008ca9, 02_push_test.go at 11b8e3fb,
04_management_test.go at 3c7a4ac8), plus a small stand-in for the ``reggie`` HTTP client the
suite drives the registry with.

The Go suite runs its four workflows (pull, push, content discovery, content management) in
one process against one namespace; every workflow pushes its own content in a "Setup" context
and later checks depend on what earlier ones stored. The port keeps that: each test module gets
one registry for the module (:func:`start_suite`) and its tests run in the Go order.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import secrets
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from fakeregistry import RegistryOptions, RegistryServer
from tests.conftest import STORES

# -- setup.go constants -----------------------------------------------------------------------

ENV_AUTOMATIC_CROSSMOUNT = "OCI_AUTOMATIC_CROSSMOUNT"
ENV_DELETE_MANIFEST_BEFORE_BLOBS = "OCI_DELETE_MANIFEST_BEFORE_BLOBS"
ENV_CROSSMOUNT_NAMESPACE = "OCI_CROSSMOUNT_NAMESPACE"
ENV_NAMESPACE = "OCI_NAMESPACE"
ENV_TAG_NAME = "OCI_TAG_NAME"
ENV_MANIFEST_DIGEST = "OCI_MANIFEST_DIGEST"
ENV_BLOB_DIGEST = "OCI_BLOB_DIGEST"
ENV_TAG_LIST = "OCI_TAG_LIST"

EMPTY_LAYER_TEST_TAG = "emptylayer"
TEST_TAG_NAME = "tagtest0"
ARTIFACT_TYPE_FILTER = "artifactType"
NONEXISTENT_MANIFEST = ".INVALID_MANIFEST_NAME"
INVALID_MANIFEST_CONTENT = b"blablabla"
USER_AGENT = "distribution-spec-conformance-tests"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCTET_STREAM = "application/octet-stream"

# `echo 'you bothered to find out what was in here. Congratulations!' > test.txt;
# tar czvf test.tar.gz test.txt; base64 test.tar.gz` (setup.go, layerBase64String)
LAYER_BASE64 = (
    "H4sIAAAAAAAAA+3OQQrCMBCF4a49xXgBSUnaHMCTRBptQRNpp6i3t0UEV7oqIv7fYgbmzeJpHHSjVy0"
    "WZCa1c/MufWVe94N3RWlrZ72x3k/30nhbFWKWLPU0Dhp6keJ8im//PuU/6pZH2WVtYx8b0Sz7LjWSR5VLG6YRBumSzOlGtjkd+qD"
    "jMWiX07Befbs7AAAAAAAAAAAAAAAAAPyzO34MnqoAKAAA"
)

# The workflow bits and the error-code constants share one Go ``const`` block, so ``iota``
# runs on: pull=1<<0 .. contentManagement=1<<3, numWorkflows=1<<4=16, and BLOB_UNKNOWN=5 ..
# UNSUPPORTED=19. ``errorCodes`` is indexed by those, so its first five entries are "".
# setup.go builds 16 configs and manifests (one per "workflow"); the tests use 0 to 4.
NUM_WORKFLOWS = 1 << 4
_ERROR_CODE_NAMES = [
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "BLOB_UPLOAD_UNKNOWN",
    "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNKNOWN",
    "MANIFEST_UNVERIFIED",
    "NAME_INVALID",
    "NAME_UNKNOWN",
    "SIZE_INVALID",
    "TAG_INVALID",
    "UNAUTHORIZED",
    "DENIED",
    "UNSUPPORTED",
]
ERROR_CODES: list[str] = [""] * 5 + _ERROR_CODE_NAMES
UNSUPPORTED = ERROR_CODES[19]


def sha256(data: bytes) -> str:
    """``godigest.FromBytes``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def go_json_indent(value: Any) -> bytes:
    """``json.MarshalIndent(&v, "", "\\t")`` of an already Go-ordered value."""
    return json.dumps(value, indent="\t", separators=(",", ": "), ensure_ascii=False).encode()


def go_bytes(data: bytes | None) -> str | None:
    """How ``encoding/json`` writes a ``[]byte``: base64, or null for a nil slice."""
    return None if data is None else base64.b64encode(data).decode()


def descriptor(
    media_type: str,
    digest: str,
    size: int,
    *,
    annotations: Mapping[str, str] | None = None,
    data: bytes | None = None,
    artifact_type: str | None = None,
    new_unspecified_field: bytes | None = None,
) -> dict[str, Any]:
    """image.go ``descriptor``: the fields in struct order; ``newUnspecifiedField`` has no
    ``omitempty``, so it is always written (null when nil)."""
    out: dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": size}
    if annotations:
        out["annotations"] = dict(sorted(annotations.items()))
    if data:
        out["data"] = go_bytes(data)
    if artifact_type:
        out["artifactType"] = artifact_type
    out["newUnspecifiedField"] = go_bytes(new_unspecified_field)
    return out


def manifest(
    config: dict[str, Any],
    layers: list[dict[str, Any]],
    *,
    media_type: str | None = OCI_MANIFEST,
    artifact_type: str | None = None,
    subject: dict[str, Any] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """image.go ``manifest`` in struct order (``layers`` has no ``omitempty``)."""
    out: dict[str, Any] = {"schemaVersion": 2}
    if media_type:
        out["mediaType"] = media_type
    if artifact_type:
        out["artifactType"] = artifact_type
    out["config"] = config
    out["layers"] = layers
    if subject is not None:
        out["subject"] = subject
    if annotations:
        out["annotations"] = dict(sorted(annotations.items()))
    return out


@dataclass(frozen=True)
class TestBlob:
    """setup.go ``TestBlob``: content, its length as the header string, and its digest."""

    __test__ = False  # not a pytest class

    content: bytes
    content_length: str
    digest: str

    @classmethod
    def of(cls, content: bytes) -> TestBlob:
        return cls(content, str(len(content)), sha256(content))


def random_string(n: int) -> str:
    """setup.go ``randomString`` (crypto/rand over the same alphabet)."""
    letters = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-"
    return "".join(secrets.choice(letters) for _ in range(n))


def random_blob(size: int, seed: int) -> bytes:
    """setup.go ``randomBlob``: reproducible pseudo-random bytes for a seed."""
    return random.Random(seed).randbytes(size)


@dataclass
class ChunkedBlob:
    """setup.go ``setupChunkedBlob``: testBlobB split after ``size/2+1`` bytes."""

    blob: bytes
    digest: str
    chunk1: bytes
    chunk1_length: str
    chunk1_range: str
    chunk2: bytes
    chunk2_length: str
    chunk2_range: str

    @classmethod
    def make(cls, size: int, seed: int) -> ChunkedBlob:
        blob = random_blob(size, seed + 2)
        chunk1, chunk2 = blob[: size // 2 + 1], blob[size // 2 + 1 :]
        return cls(
            blob=blob,
            digest=sha256(blob),
            chunk1=chunk1,
            chunk1_length=str(len(chunk1)),
            chunk1_range=f"0-{len(chunk1) - 1}",
            chunk2=chunk2,
            chunk2_length=str(len(chunk2)),
            chunk2_range=f"{len(chunk1)}-{len(blob) - 1}",
        )


@dataclass
class Data:
    """Everything setup.go's ``init()`` builds."""

    seed: int
    configs: list[TestBlob]
    manifests: list[TestBlob]
    layer_blob_data: bytes
    layer_blob_digest: str
    layer_blob_content_length: str
    empty_layer_manifest_content: bytes
    empty_layer_manifest_digest: str
    test_blob_a: bytes
    test_blob_a_length: str
    test_blob_a_digest: str
    chunked: ChunkedBlob
    empty_json_blob: bytes
    empty_json_descriptor: dict[str, Any]
    test_ref_blob_a: TestBlob
    test_ref_blob_b: TestBlob
    test_ref_artifact_type_a: str
    test_ref_artifact_type_b: str
    test_ref_artifact_type_index: str
    test_annotation_key: str
    test_annotation_values: dict[str, str]
    refs_manifest_a_config: TestBlob
    refs_manifest_b_config: TestBlob
    refs_manifest_a_layer: TestBlob
    refs_manifest_b_layer: TestBlob
    refs_manifest_c_layer: TestBlob
    refs_index: TestBlob
    dummy_digest: str

    def setup_chunked_blob(self, size: int) -> None:
        self.chunked = ChunkedBlob.make(size, self.seed)


def build_data(seed: int | None = None) -> Data:
    """Port of setup.go ``init()`` (the data part)."""
    seed = secrets.randbits(31) if seed is None else seed
    configs = []
    for _ in range(NUM_WORKFLOWS):
        # "in order to get a unique blob digest, we create a new author field for the config
        # on each run."
        config = {
            "author": random_string(16),
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": []},
        }
        blob = TestBlob.of(go_json_indent(config))
        if v := os.environ.get(ENV_BLOB_DIGEST):
            blob = TestBlob(blob.content, blob.content_length, v)
        configs.append(blob)

    layer = base64.b64decode(LAYER_BASE64)
    layer_digest = sha256(layer)
    layers = [descriptor(OCI_LAYER_GZIP, layer_digest, len(layer))]

    manifests = []
    for i in range(NUM_WORKFLOWS):
        config_descriptor = descriptor(
            OCI_CONFIG,
            configs[i].digest,
            len(configs[i].content),
            data=configs[i].content,  # "must be the config content."
            new_unspecified_field=b"hello world",  # "content doesn't matter."
        )
        blob = TestBlob.of(go_json_indent(manifest(config_descriptor, layers)))
        if v := os.environ.get(ENV_MANIFEST_DIGEST):
            blob = TestBlob(blob.content, blob.content_length, v)
        manifests.append(blob)

    # "used in push test": no mediaType, no layers.
    empty_layer = go_json_indent(
        manifest(
            descriptor(
                OCI_CONFIG,
                configs[1].digest,
                len(configs[1].content),
                data=configs[1].content,
                new_unspecified_field=b"hello world",
            ),
            [],
            media_type=None,
        )
    )

    test_blob_a = random_blob(42, seed + 1)

    # "used in referrers test (artifacts with Subject field set)"
    empty_json_blob = b"{}"
    empty_json = descriptor(OCI_EMPTY, sha256(empty_json_blob), len(empty_json_blob))
    ref_a = TestBlob.of(b"NHL Peanut Butter on my NHL bagel")
    ref_b = TestBlob.of(b"NBA Strawberry Jam on my NBA croissant")
    type_a = "application/vnd.nhl.peanut.butter.bagel"
    type_b = "application/vnd.nba.strawberry.jam.croissant"
    key = "org.opencontainers.conformance.test"
    values: dict[str, str] = {}

    def subject_of(m: TestBlob) -> dict[str, Any]:
        return descriptor(OCI_MANIFEST, sha256(m.content), len(m.content))

    def referrer(document: dict[str, Any]) -> TestBlob:
        blob = TestBlob.of(go_json_indent(document))
        if document.get("annotations"):
            values[blob.digest] = document["annotations"][key]
        return blob

    # "artifact with Subject ref using config.MediaType = artifactType"
    a_config = referrer(
        manifest(
            descriptor(type_a, ref_a.digest, len(ref_a.content)),
            [empty_json],
            subject=subject_of(manifests[4]),
            annotations={key: "test config a"},
        )
    )
    b_config = referrer(
        manifest(
            descriptor(type_b, ref_b.digest, len(ref_b.content)),
            [empty_json],
            subject=subject_of(manifests[4]),
            annotations={key: "test config b"},
        )
    )
    # "artifact with Subject ref using ArtifactType, config.MediaType = emptyJSON"
    a_layer = referrer(
        manifest(
            empty_json,
            [descriptor(type_a, ref_a.digest, len(ref_a.content))],
            artifact_type=type_a,
            subject=subject_of(manifests[4]),
            annotations={key: "test layer a"},
        )
    )
    b_layer = referrer(
        manifest(
            empty_json,
            [descriptor(type_b, ref_b.digest, len(ref_b.content))],
            artifact_type=type_b,
            subject=subject_of(manifests[4]),
            annotations={key: "test layer b"},
        )
    )
    # "ManifestCLayerArtifact is the same as B but based on a subject that has not been pushed"
    c_layer = TestBlob.of(
        go_json_indent(
            manifest(
                empty_json,
                [descriptor(type_b, ref_b.digest, len(ref_b.content))],
                artifact_type=type_b,
                subject=subject_of(manifests[3]),
            )
        )
    )
    type_index = "application/vnd.food.stand"
    index_document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "artifactType": type_index,
        "manifests": [
            descriptor(OCI_MANIFEST, a_config.digest, len(a_config.content)),
            descriptor(OCI_MANIFEST, a_layer.digest, len(a_layer.content)),
        ],
        "subject": subject_of(manifests[4]),
        "annotations": {key: "test index"},
    }
    index = referrer(index_document)

    return Data(
        seed=seed,
        configs=configs,
        manifests=manifests,
        layer_blob_data=layer,
        layer_blob_digest=layer_digest,
        layer_blob_content_length=str(len(layer)),
        empty_layer_manifest_content=empty_layer,
        empty_layer_manifest_digest=sha256(empty_layer),
        test_blob_a=test_blob_a,
        test_blob_a_length=str(len(test_blob_a)),
        test_blob_a_digest=sha256(test_blob_a),
        chunked=ChunkedBlob.make(42, seed),
        empty_json_blob=empty_json_blob,
        empty_json_descriptor=empty_json,
        test_ref_blob_a=ref_a,
        test_ref_blob_b=ref_b,
        test_ref_artifact_type_a=type_a,
        test_ref_artifact_type_b=type_b,
        test_ref_artifact_type_index=type_index,
        test_annotation_key=key,
        test_annotation_values=values,
        refs_manifest_a_config=a_config,
        refs_manifest_b_config=b_config,
        refs_manifest_a_layer=a_layer,
        refs_manifest_b_layer=b_layer,
        refs_manifest_c_layer=c_layer,
        refs_index=index,
        dummy_digest=sha256(b"hello world"),
    )


# -- the reggie client ------------------------------------------------------------------------


class Reggie:
    """What the suite uses of github.com/bloodorangeio/reggie: requests on path templates with
    ``<name>``, ``<reference>`` and ``<digest>`` filled in (``<name>`` defaults to
    ``OCI_NAMESPACE``), the conformance user agent, and no ``Accept`` header unless the check
    sets one (Go's HTTP client sends none)."""

    def __init__(self, base_url: str, namespace: str) -> None:
        self.default_name = namespace
        self.http = httpx.Client(base_url=base_url, timeout=30, follow_redirects=True)
        self.http.headers["User-Agent"] = USER_AGENT
        del self.http.headers["Accept"]

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        name: str | None = None,
        reference: str | None = None,
        digest: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> httpx.Response:
        path = path.replace("<name>", name or self.default_name)
        if reference is not None:
            path = path.replace("<reference>", reference)
        if digest is not None:
            path = path.replace("<digest>", digest)
        return self.http.request(
            method, path, headers=dict(headers or {}), params=dict(params or {}), content=body
        )


def relative_location(response: httpx.Response) -> str:
    """reggie ``Response.GetRelativeLocation``: the ``Location`` header's path and query."""
    location = str(response.headers.get("Location", ""))
    url = httpx.URL(location)
    if not url.is_absolute_url:
        return location
    query = url.query.decode()
    return url.path + (f"?{query}" if query else "")


def error_codes(response: httpx.Response) -> list[str]:
    """reggie ``Response.Errors``: the ``code`` of each entry of the error envelope."""
    body = response.json()
    return [str(entry.get("code", "")) for entry in body["errors"]]


def is_2xx(response: httpx.Response) -> bool:
    """``SatisfyAll(BeNumerically(">=", 200), BeNumerically("<", 300))``."""
    return 200 <= response.status_code < 300


def describe(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url} -> {response.status_code} {response.text[:500]}"


# -- suite state ------------------------------------------------------------------------------


def _parse_bool(value: str) -> bool:
    """Go's ``strconv.ParseBool`` (invalid input is false, as the suite ignores the error)."""
    return value in ("1", "t", "T", "TRUE", "true", "True")


@dataclass
class Settings:
    """The environment toggles setup.go reads, with the values this port runs by default."""

    namespace: str
    crossmount_namespace: str
    delete_manifest_before_blobs: bool
    run_pull_setup: bool
    run_push_setup: bool
    run_content_discovery_setup: bool
    run_content_management_setup: bool
    run_automatic_crossmount_test: bool
    automatic_crossmount_enabled: bool

    @classmethod
    def from_environment(cls, delete_manifest_before_blobs: bool) -> Settings:
        env = os.environ
        # OCI_AUTOMATIC_CROSSMOUNT is three-valued: unset skips the automatic-content-discovery
        # checks, 1 says the registry mounts without ``from``, 0 says it does not. This
        # registry does not (like distribution), so the port runs with 0 unless told otherwise.
        automatic = env.get(ENV_AUTOMATIC_CROSSMOUNT, "0")
        return cls(
            namespace=env.get(ENV_NAMESPACE, "oci-conformance/distribution-test"),
            crossmount_namespace=env.get(ENV_CROSSMOUNT_NAMESPACE) or f"conformance-{uuid.uuid4()}",
            delete_manifest_before_blobs=delete_manifest_before_blobs,
            run_pull_setup=not (
                env.get(ENV_TAG_NAME) and env.get(ENV_MANIFEST_DIGEST) and env.get(ENV_BLOB_DIGEST)
            ),
            run_push_setup=True,
            run_content_discovery_setup=not env.get(ENV_TAG_LIST),
            run_content_management_setup=True,
            run_automatic_crossmount_test=True,
            automatic_crossmount_enabled=_parse_bool(automatic),
        )


@dataclass
class Suite:
    """One module's run: the registry, the client, setup.go's data and the variables the Go
    closures share between ``g.Specify`` blocks."""

    server: RegistryServer
    client: Reggie
    data: Data
    settings: Settings
    vars: dict[str, Any] = field(default_factory=dict)

    def var(self, name: str) -> Any:
        """A value an earlier check stored; the check fails if that check did not run."""
        if name not in self.vars:
            pytest.fail(f"{name} was not set by an earlier check (did it fail?)")
        return self.vars[name]


# OCI_DELETE_MANIFEST_BEFORE_BLOBS decides where the Teardown contexts register the manifest
# deletions; setup.go defaults it to true. Each module runs once in each order.
TEARDOWN_ORDERS = [True, False]
TEARDOWN_ORDER_IDS = ["manifests-before-blobs", "blobs-before-manifests"]
# ... and against each store (tests/conftest.py STORES).
SUITE_PARAMS = [(order, store) for store in STORES for order in TEARDOWN_ORDERS]
SUITE_IDS = [f"{name}-{store}" for store in STORES for name in TEARDOWN_ORDER_IDS]


@contextmanager
def start_suite(delete_manifest_before_blobs: bool, store: str = "memory") -> Iterator[Suite]:
    """A fresh registry (in memory, or on disk in a temporary directory) and client for one
    module run. Server-side exceptions fail the run."""
    errors: list[BaseException] = []
    scratch = tempfile.TemporaryDirectory(prefix="fakeregistry-store-")
    storage_dir = scratch.name if store == "disk" else None
    server = RegistryServer(RegistryOptions(), on_error=errors.append, storage_dir=storage_dir)
    server.start()
    settings = Settings.from_environment(delete_manifest_before_blobs)
    client = Reggie(server.url, settings.namespace)
    try:
        yield Suite(server=server, client=client, data=build_data(), settings=settings)
    finally:
        client.close()
        server.stop()
        scratch.cleanup()
    if errors:
        raise errors[0]


def run_only_if(condition: bool) -> None:
    """setup.go ``RunOnlyIf``: Ginkgo skips the spec."""
    if not condition:
        pytest.skip("you have skipped this test.")


def run_only_if_not(condition: bool) -> None:
    """setup.go ``RunOnlyIfNot``."""
    if condition:
        pytest.skip("you have skipped this test.")


# -- helpers for the checks -------------------------------------------------------------------


def expect_status(response: httpx.Response, *codes: int) -> None:
    """``Expect(resp.StatusCode()).To(Equal(code))`` / ``SatisfyAny(Equal(a), Equal(b), ...)``."""
    assert response.status_code in codes, f"expected one of {codes}: {describe(response)}"


def expect_2xx(response: httpx.Response) -> None:
    assert is_2xx(response), f"expected a 2xx status: {describe(response)}"


def expect_2xx_or(response: httpx.Response, *codes: int) -> None:
    """``SatisfyAny(SatisfyAll(>= 200, < 300), Equal(code), ...)``."""
    assert is_2xx(response) or response.status_code in codes, (
        f"expected a 2xx status or one of {codes}: {describe(response)}"
    )


def populate_blob(suite: Suite, digest: str, length: str, content: bytes) -> httpx.Response:
    """The Setup contexts' blob push: ``POST /v2/<name>/blobs/uploads/`` (status unchecked),
    then ``PUT`` to its location with ``?digest=``, ``Content-Type: application/octet-stream``,
    ``Content-Length`` and the body; the PUT must be 2xx."""
    client = suite.client
    response = client.request("POST", "/v2/<name>/blobs/uploads/")
    response = client.request(
        "PUT",
        relative_location(response),
        params={"digest": digest},
        headers={"Content-Type": OCTET_STREAM, "Content-Length": length},
        body=content,
    )
    expect_2xx(response)
    return response


def populate_manifest(
    suite: Suite, reference: str, content: bytes, media_type: str = OCI_MANIFEST
) -> httpx.Response:
    """The Setup contexts' manifest push: ``PUT /v2/<name>/manifests/<reference>``; 2xx."""
    response = suite.client.request(
        "PUT",
        "/v2/<name>/manifests/<reference>",
        reference=reference,
        headers={"Content-Type": media_type},
        body=content,
    )
    expect_2xx(response)
    return response
