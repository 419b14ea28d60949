"""Conformance v1.1.1, Content Management workflow (tag, manifest and blob deletion): a port of
``conformance/04_management_test.go`` (``g.Context("Content Management")``) of
opencontainers/distribution-spec.

Every ``g.Specify`` is one test, in the Go order, against one registry for the module. This
workflow has no teardown, so OCI_DELETE_MANIFEST_BEFORE_BLOBS does not apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance import v111
from tests.conformance.v111 import (
    Suite,
    expect_status,
    populate_blob,
    populate_manifest,
    run_only_if,
)
from tests.conftest import STORES

GO_FILE = "conformance/04_management_test.go"
DEFAULT_TAG_NAME = "tagtest0"
# The variables the Go closure declares before its contexts.
INITIAL_VARS: dict[str, Any] = {"tagToDelete": "", "numTags": 0, "blobDeleteAllowed": True}


@pytest.fixture(scope="module", params=STORES)
def suite(request: pytest.FixtureRequest) -> Iterator[Suite]:
    with v111.start_suite(delete_manifest_before_blobs=True, store=request.param) as running:
        running.vars.update(INITIAL_VARS)
        yield running


# -- g.Context("Setup") -----------------------------------------------------------------------


def test_setup_populate_registry_with_test_config_blob(suite: Suite) -> None:
    """04_management_test.go, Content Management/Setup: "Populate registry with test config
    blob" (configs[3])."""
    run_only_if(suite.settings.run_content_management_setup)
    config = suite.data.configs[3]
    populate_blob(suite, config.digest, config.content_length, config.content)


def test_setup_populate_registry_with_test_layer(suite: Suite) -> None:
    """04_management_test.go, Content Management/Setup: "Populate registry with test layer"."""
    run_only_if(suite.settings.run_content_management_setup)
    data = suite.data
    populate_blob(
        suite, data.layer_blob_digest, data.layer_blob_content_length, data.layer_blob_data
    )


def test_setup_populate_registry_with_test_tag(suite: Suite) -> None:
    """04_management_test.go, Content Management/Setup: "Populate registry with test tag"
    (manifests[3] under ``tagtest0``)."""
    run_only_if(suite.settings.run_content_management_setup)
    suite.vars["tagToDelete"] = DEFAULT_TAG_NAME
    populate_manifest(suite, DEFAULT_TAG_NAME, suite.data.manifests[3].content)


def test_setup_check_how_many_tags_there_are_before_anything_gets_deleted(suite: Suite) -> None:
    """04_management_test.go, Content Management/Setup: "Check how many tags there are before
    anything gets deleted" (200 and a JSON tag list)."""
    run_only_if(suite.settings.run_content_management_setup)
    response = suite.client.request("GET", "/v2/<name>/tags/list")
    expect_status(response, 200)
    suite.vars["numTags"] = len(response.json()["tags"] or [])


# -- g.Context("Manifest delete") -------------------------------------------------------------


def test_delete_request_to_manifest_tag_should_return_202_unless_tag_deletion_is_disallowed(
    suite: Suite,
) -> None:
    """04_management_test.go, Content Management/Manifest delete: "DELETE request to manifest tag
    should return 202, unless tag deletion is disallowed (400/405)" (a 400 must carry
    ``UNSUPPORTED`` as its first error code)."""
    response = suite.client.request(
        "DELETE", "/v2/<name>/manifests/<reference>", reference=suite.vars["tagToDelete"]
    )
    expect_status(response, 400, 202, 405)
    if response.status_code == 400:
        codes = v111.error_codes(response)
        assert codes
        assert codes[0] == v111.UNSUPPORTED


def test_delete_request_to_manifest_digest_should_yield_202_response_unless_already_deleted(
    suite: Suite,
) -> None:
    """04_management_test.go, Content Management/Manifest delete: "DELETE request to manifest
    (digest) should yield 202 response unless already deleted" (202 or 404)."""
    response = suite.client.request(
        "DELETE", "/v2/<name>/manifests/<digest>", digest=suite.data.manifests[3].digest
    )
    expect_status(response, 202, 404)


def test_get_request_to_deleted_manifest_url_should_yield_404_response_unless_delete_is_disallowed(
    suite: Suite,
) -> None:
    """04_management_test.go, Content Management/Manifest delete: "GET request to deleted
    manifest URL should yield 404 response, unless delete is disallowed" (404 or 200; the Go
    check sends no Accept header)."""
    response = suite.client.request(
        "GET", "/v2/<name>/manifests/<digest>", digest=suite.data.manifests[3].digest
    )
    expect_status(response, 404, 200)


def test_get_request_to_tags_list_should_reflect_manifest_deletion(suite: Suite) -> None:
    """04_management_test.go, Content Management/Manifest delete: "GET request to tags list
    should reflect manifest deletion" (200, fewer tags than before)."""
    response = suite.client.request("GET", "/v2/<name>/tags/list")
    expect_status(response, 200)
    assert len(response.json()["tags"] or []) < suite.vars["numTags"]


# -- g.Context("Blob delete") -----------------------------------------------------------------


def test_delete_request_to_blob_url_should_yield_202_response(suite: Suite) -> None:
    """04_management_test.go, Content Management/Blob delete: "DELETE request to blob URL should
    yield 202 response" (config then layer; 202, 404 or 405; a 405 on the layer marks blob
    deletion as disallowed)."""
    run_only_if(suite.settings.run_content_management_setup)
    client, data = suite.client, suite.data
    response = client.request("DELETE", "/v2/<name>/blobs/<digest>", digest=data.configs[3].digest)
    expect_status(response, 202, 404, 405)
    response = client.request("DELETE", "/v2/<name>/blobs/<digest>", digest=data.layer_blob_digest)
    expect_status(response, 202, 404, 405)
    if response.status_code == 405:
        suite.vars["blobDeleteAllowed"] = False


def test_get_request_to_deleted_blob_url_should_yield_404_response(suite: Suite) -> None:
    """04_management_test.go, Content Management/Blob delete: "GET request to deleted blob URL
    should yield 404 response" (when blob deletion is allowed)."""
    run_only_if(suite.settings.run_content_management_setup)
    run_only_if(suite.vars["blobDeleteAllowed"])
    response = suite.client.request(
        "GET", "/v2/<name>/blobs/<digest>", digest=suite.data.configs[3].digest
    )
    expect_status(response, 404)
