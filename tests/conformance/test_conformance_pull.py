"""Conformance v1.1.1, Pull workflow: a port of ``conformance/01_pull_test.go``
(``g.Context("Pull")``) of opencontainers/distribution-spec.

Every ``g.Specify`` is one test, in the Go order, against one registry for the module (the Go
suite is stateful: Setup pushes what the later checks read). The module runs twice, once per
``OCI_DELETE_MANIFEST_BEFORE_BLOBS`` teardown order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conformance import v111
from tests.conformance.v111 import (
    OCI_MANIFEST,
    Suite,
    expect_2xx_or,
    expect_status,
    populate_blob,
    populate_manifest,
    run_only_if,
    run_only_if_not,
)

GO_FILE = "conformance/01_pull_test.go"


@pytest.fixture(scope="module", params=v111.SUITE_PARAMS, ids=v111.SUITE_IDS)
def suite(request: pytest.FixtureRequest) -> Iterator[Suite]:
    with v111.start_suite(*request.param) as running:
        yield running


# -- g.Context("Setup") -----------------------------------------------------------------------


def test_setup_populate_registry_with_test_blob_config0(suite: Suite) -> None:
    """01_pull_test.go, Pull/Setup: "Populate registry with test blob" (configs[0])."""
    run_only_if(suite.settings.run_pull_setup)
    config = suite.data.configs[0]
    populate_blob(suite, config.digest, config.content_length, config.content)


def test_setup_populate_registry_with_test_blob_config1(suite: Suite) -> None:
    """01_pull_test.go, Pull/Setup: "Populate registry with test blob" (configs[1])."""
    run_only_if(suite.settings.run_pull_setup)
    config = suite.data.configs[1]
    populate_blob(suite, config.digest, config.content_length, config.content)


def test_setup_populate_registry_with_test_layer(suite: Suite) -> None:
    """01_pull_test.go, Pull/Setup: "Populate registry with test layer"."""
    run_only_if(suite.settings.run_pull_setup)
    data = suite.data
    populate_blob(
        suite, data.layer_blob_digest, data.layer_blob_content_length, data.layer_blob_data
    )


def test_setup_populate_registry_with_test_manifest_tag(suite: Suite) -> None:
    """01_pull_test.go, Pull/Setup: "Populate registry with test manifest" (manifests[0]
    under the tag ``tagtest0``)."""
    run_only_if(suite.settings.run_pull_setup)
    suite.vars["tag"] = v111.TEST_TAG_NAME
    populate_manifest(suite, v111.TEST_TAG_NAME, suite.data.manifests[0].content)


def test_setup_populate_registry_with_test_manifest_digest(suite: Suite) -> None:
    """01_pull_test.go, Pull/Setup: "Populate registry with test manifest" (manifests[1] by
    digest)."""
    run_only_if(suite.settings.run_pull_setup)
    manifest = suite.data.manifests[1]
    populate_manifest(suite, manifest.digest, manifest.content)


def test_setup_get_tag_name_from_environment(suite: Suite) -> None:
    """01_pull_test.go, Pull/Setup: "Get tag name from environment" (only without setup, i.e.
    when OCI_TAG_NAME, OCI_MANIFEST_DIGEST and OCI_BLOB_DIGEST are all set)."""
    run_only_if_not(suite.settings.run_pull_setup)
    if tag := os.environ.get(v111.ENV_TAG_NAME):
        suite.vars["tag"] = tag


# -- g.Context("Pull blobs") ------------------------------------------------------------------


def test_head_request_to_nonexistent_blob_should_result_in_404_response(suite: Suite) -> None:
    """01_pull_test.go, Pull/Pull blobs: "HEAD request to nonexistent blob should result in 404
    response"."""
    response = suite.client.request(
        "HEAD", "/v2/<name>/blobs/<digest>", digest=suite.data.dummy_digest
    )
    expect_status(response, 404)


def test_head_request_to_existing_blob_should_yield_200(suite: Suite) -> None:
    """01_pull_test.go, Pull/Pull blobs: "HEAD request to existing blob should yield 200"
    (``Docker-Content-Digest``, when sent, must be the blob's digest)."""
    config = suite.data.configs[0]
    response = suite.client.request("HEAD", "/v2/<name>/blobs/<digest>", digest=config.digest)
    expect_status(response, 200)
    if header := response.headers.get("Docker-Content-Digest"):
        assert header == config.digest


def test_get_nonexistent_blob_should_result_in_404_response(suite: Suite) -> None:
    """01_pull_test.go, Pull/Pull blobs: "GET nonexistent blob should result in 404
    response"."""
    response = suite.client.request(
        "GET", "/v2/<name>/blobs/<digest>", digest=suite.data.dummy_digest
    )
    expect_status(response, 404)


def test_get_request_to_existing_blob_url_should_yield_200(suite: Suite) -> None:
    """01_pull_test.go, Pull/Pull blobs: "GET request to existing blob URL should yield 200"."""
    response = suite.client.request(
        "GET", "/v2/<name>/blobs/<digest>", digest=suite.data.configs[0].digest
    )
    expect_status(response, 200)


# -- g.Context("Pull manifests") --------------------------------------------------------------

ACCEPT_OCI_MANIFEST = {"Accept": OCI_MANIFEST}


def test_head_request_to_nonexistent_manifest_should_return_404(suite: Suite) -> None:
    """01_pull_test.go, Pull/Pull manifests: "HEAD request to nonexistent manifest should return
    404" (reference ``.INVALID_MANIFEST_NAME``)."""
    response = suite.client.request(
        "HEAD", "/v2/<name>/manifests/<reference>", reference=v111.NONEXISTENT_MANIFEST
    )
    expect_status(response, 404)


@pytest.mark.parametrize("index", [0, 1], ids=["manifest0", "manifest1"])
def test_head_request_to_manifest_path_digest_should_yield_200_response(
    suite: Suite, index: int
) -> None:
    """01_pull_test.go, Pull/Pull manifests: "HEAD request to manifest[0] path (digest) should
    yield 200 response" and "... manifest[1] ..." (``Docker-Content-Digest``, when sent, must
    match)."""
    manifest = suite.data.manifests[index]
    response = suite.client.request(
        "HEAD",
        "/v2/<name>/manifests/<digest>",
        digest=manifest.digest,
        headers=ACCEPT_OCI_MANIFEST,
    )
    expect_status(response, 200)
    if header := response.headers.get("Docker-Content-Digest"):
        assert header == manifest.digest


def test_head_request_to_manifest_path_tag_should_yield_200_response(suite: Suite) -> None:
    """01_pull_test.go, Pull/Pull manifests: "HEAD request to manifest path (tag) should yield
    200 response" (``Docker-Content-Digest``, when sent, is manifests[0]'s digest)."""
    tag = suite.var("tag")
    assert tag
    response = suite.client.request(
        "HEAD", "/v2/<name>/manifests/<reference>", reference=tag, headers=ACCEPT_OCI_MANIFEST
    )
    expect_status(response, 200)
    if header := response.headers.get("Docker-Content-Digest"):
        assert header == suite.data.manifests[0].digest


def test_get_nonexistent_manifest_should_return_404(suite: Suite) -> None:
    """01_pull_test.go, Pull/Pull manifests: "GET nonexistent manifest should return 404"."""
    response = suite.client.request(
        "GET", "/v2/<name>/manifests/<reference>", reference=v111.NONEXISTENT_MANIFEST
    )
    expect_status(response, 404)


@pytest.mark.parametrize("index", [0, 1], ids=["manifest0", "manifest1"])
def test_get_request_to_manifest_path_digest_should_yield_200_response(
    suite: Suite, index: int
) -> None:
    """01_pull_test.go, Pull/Pull manifests: "GET request to manifest[0] path (digest) should
    yield 200 response" and "... manifest[1] ..."."""
    response = suite.client.request(
        "GET",
        "/v2/<name>/manifests/<digest>",
        digest=suite.data.manifests[index].digest,
        headers=ACCEPT_OCI_MANIFEST,
    )
    expect_status(response, 200)


def test_get_request_to_manifest_path_tag_should_yield_200_response(suite: Suite) -> None:
    """01_pull_test.go, Pull/Pull manifests: "GET request to manifest path (tag) should yield 200
    response"."""
    tag = suite.var("tag")
    assert tag
    response = suite.client.request(
        "GET", "/v2/<name>/manifests/<reference>", reference=tag, headers=ACCEPT_OCI_MANIFEST
    )
    expect_status(response, 200)


# -- g.Context("Error codes") -----------------------------------------------------------------


def test_400_response_body_should_contain_oci_conforming_json_message(suite: Suite) -> None:
    """01_pull_test.go, Pull/Error codes: "400 response body should contain OCI-conforming JSON
    message": ``GET /v2/<name>/manifests/sha256:totallywrong`` (with a manifest Content-Type and
    the body ``blablabla``) is 400 or 404; a 400 carries an error envelope whose first code is
    one of setup.go's ``errorCodes`` (which, by an ``iota`` quirk, also holds five "")."""
    response = suite.client.request(
        "GET",
        "/v2/<name>/manifests/<reference>",
        reference="sha256:totallywrong",
        headers={"Content-Type": OCI_MANIFEST},
        body=v111.INVALID_MANIFEST_CONTENT,
    )
    expect_status(response, 400, 404)
    if response.status_code == 400:
        codes = v111.error_codes(response)
        assert codes
        assert codes[0] in v111.ERROR_CODES


# -- g.Context("Teardown") --------------------------------------------------------------------


def _delete_manifest(suite: Suite, index: int) -> None:
    response = suite.client.request(
        "DELETE", "/v2/<name>/manifests/<digest>", digest=suite.data.manifests[index].digest
    )
    expect_2xx_or(response, 405)


def _delete_blob(suite: Suite, digest: str) -> None:
    response = suite.client.request("DELETE", "/v2/<name>/blobs/<digest>", digest=digest)
    expect_2xx_or(response, 404, 405)


@pytest.mark.parametrize("index", [0, 1], ids=["manifest0", "manifest1"])
def test_teardown_delete_manifest_created_in_setup_before_blobs(suite: Suite, index: int) -> None:
    """01_pull_test.go, Pull/Teardown: "Delete manifest[0] created in setup" and "Delete
    manifest[1] created in setup", registered before the blob deletes when
    OCI_DELETE_MANIFEST_BEFORE_BLOBS is true (2xx or 405)."""
    run_only_if(suite.settings.delete_manifest_before_blobs)
    run_only_if(suite.settings.run_pull_setup)
    _delete_manifest(suite, index)


@pytest.mark.parametrize("index", [0, 1], ids=["config0", "config1"])
def test_teardown_delete_config_blob_created_in_setup(suite: Suite, index: int) -> None:
    """01_pull_test.go, Pull/Teardown: "Delete config[0] blob created in setup" and "Delete
    config[1] blob created in setup" (2xx, 404 or 405)."""
    run_only_if(suite.settings.run_pull_setup)
    _delete_blob(suite, suite.data.configs[index].digest)


def test_teardown_delete_layer_blob_created_in_setup(suite: Suite) -> None:
    """01_pull_test.go, Pull/Teardown: "Delete layer blob created in setup" (2xx, 404 or
    405)."""
    run_only_if(suite.settings.run_pull_setup)
    _delete_blob(suite, suite.data.layer_blob_digest)


@pytest.mark.parametrize("index", [0, 1], ids=["manifest0", "manifest1"])
def test_teardown_delete_manifest_created_in_setup_after_blobs(suite: Suite, index: int) -> None:
    """01_pull_test.go, Pull/Teardown: "Delete manifest[0] created in setup" and "Delete
    manifest[1] created in setup", registered after the blob deletes when
    OCI_DELETE_MANIFEST_BEFORE_BLOBS is false (2xx or 405)."""
    run_only_if_not(suite.settings.delete_manifest_before_blobs)
    run_only_if(suite.settings.run_pull_setup)
    _delete_manifest(suite, index)
