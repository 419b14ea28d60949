"""Conformance v1.1.1, Content Discovery workflow (tag listing and the referrers API): a port of
``conformance/03_discovery_test.go`` (``g.Context("Content Discovery")``) of
opencontainers/distribution-spec.

Every ``g.Specify`` is one test, in the Go order, against one registry for the module; the
"References setup" check pushes the artifacts (with ``subject``) the referrers checks list. The
module runs once per ``OCI_DELETE_MANIFEST_BEFORE_BLOBS`` teardown order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conformance import v111
from tests.conformance.v111 import (
    OCI_INDEX,
    Suite,
    expect_2xx_or,
    expect_status,
    populate_blob,
    populate_manifest,
    run_only_if,
    run_only_if_not,
)

GO_FILE = "conformance/03_discovery_test.go"
EMPTY_JSON_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
# The variables the Go closure declares before its contexts.
INITIAL_VARS: dict[str, Any] = {"numTags": 4}  # and a fresh tagList


@pytest.fixture(scope="module", params=v111.SUITE_PARAMS, ids=v111.SUITE_IDS)
def suite(request: pytest.FixtureRequest) -> Iterator[Suite]:
    with v111.start_suite(*request.param) as running:
        running.vars.update(INITIAL_VARS, tagList=[])
        yield running


def _tag_list(response: httpx.Response) -> list[str]:
    """setup.go ``getTagList``: the ``tags`` of the body, [] when it does not parse."""
    try:
        tags = response.json().get("tags")
    except ValueError:
        return []
    return list(tags) if isinstance(tags, list) else []


# -- g.Context("Setup") -----------------------------------------------------------------------


def test_setup_populate_registry_with_test_blob(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/Setup: "Populate registry with test blob"
    (configs[2])."""
    run_only_if(suite.settings.run_content_discovery_setup)
    config = suite.data.configs[2]
    populate_blob(suite, config.digest, config.content_length, config.content)


def test_setup_populate_registry_with_test_layer(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/Setup: "Populate registry with test layer"."""
    run_only_if(suite.settings.run_content_discovery_setup)
    data = suite.data
    populate_blob(
        suite, data.layer_blob_digest, data.layer_blob_content_length, data.layer_blob_data
    )


def test_setup_populate_registry_with_test_tags(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/Setup: "Populate registry with test tags"
    (manifests[2] under test0..test3, each 2xx; then the tag list is read)."""
    run_only_if(suite.settings.run_content_discovery_setup)
    tag_list: list[str] = suite.vars["tagList"]
    for i in range(suite.vars["numTags"]):
        tag = f"test{i}"
        tag_list.append(tag)
        populate_manifest(suite, tag, suite.data.manifests[2].content)
    response = suite.client.request("GET", "/v2/<name>/tags/list")
    suite.vars["tagList"] = _tag_list(response)


def test_setup_populate_registry_with_test_tags_no_push(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/Setup: "Populate registry with test tags (no
    push)" (only with OCI_TAG_LIST set)."""
    run_only_if_not(suite.settings.run_content_discovery_setup)
    suite.vars["tagList"] = os.environ.get(v111.ENV_TAG_LIST, "").split(",")


def test_setup_references_setup(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/Setup: "References setup": the empty JSON blob
    (whose digest is checked), testRefBlobA, the artifacts A (config type and artifactType
    forms) and the index artifact, all with subject manifests[4] before it exists; then
    configs[4], the layer and manifests[4] (tag ``tagtest0``); then testRefBlobB, artifacts B
    and artifact C, whose subject manifests[3] is never pushed here. Every push is 2xx and every
    manifest push with a subject answers ``OCI-Subject`` with the subject's digest."""
    run_only_if(suite.settings.run_content_discovery_setup)
    data = suite.data
    empty_json = data.empty_json_descriptor
    assert empty_json["digest"] == EMPTY_JSON_DIGEST
    populate_blob(suite, empty_json["digest"], str(empty_json["size"]), data.empty_json_blob)
    ref_a = data.test_ref_blob_a
    populate_blob(suite, ref_a.digest, ref_a.content_length, ref_a.content)

    subject4 = data.manifests[4].digest
    for artifact in (data.refs_manifest_a_config, data.refs_manifest_a_layer):
        response = populate_manifest(suite, artifact.digest, artifact.content)
        assert response.headers.get("OCI-Subject") == subject4, v111.describe(response)
    response = populate_manifest(suite, data.refs_index.digest, data.refs_index.content, OCI_INDEX)
    assert response.headers.get("OCI-Subject") == subject4, v111.describe(response)

    config = data.configs[4]
    populate_blob(suite, config.digest, config.content_length, config.content)
    populate_blob(
        suite, data.layer_blob_digest, data.layer_blob_content_length, data.layer_blob_data
    )
    populate_manifest(suite, v111.TEST_TAG_NAME, data.manifests[4].content)

    ref_b = data.test_ref_blob_b
    populate_blob(suite, ref_b.digest, ref_b.content_length, ref_b.content)
    for artifact in (data.refs_manifest_b_config, data.refs_manifest_b_layer):
        response = populate_manifest(suite, artifact.digest, artifact.content)
        assert response.headers.get("OCI-Subject") == subject4, v111.describe(response)
    artifact = data.refs_manifest_c_layer
    response = populate_manifest(suite, artifact.digest, artifact.content)
    assert response.headers.get("OCI-Subject") == data.manifests[3].digest, v111.describe(response)


# -- g.Context("Test content discovery endpoints (listing tags)") -----------------------------


def test_get_request_to_list_tags_should_yield_200_response(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/listing tags: "GET request to list tags should
    yield 200 response" (the count seen here drives the paging checks)."""
    response = suite.client.request("GET", "/v2/<name>/tags/list")
    expect_status(response, 200)
    suite.vars["tagList"] = _tag_list(response)
    suite.vars["numTags"] = len(suite.vars["tagList"])


def test_get_number_of_tags_should_be_limitable_by_n_query_parameter(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/listing tags: "GET number of tags should be
    limitable by `n` query parameter" (exactly ``numTags/2`` tags)."""
    num_results = suite.var("numTags") // 2
    response = suite.client.request("GET", "/v2/<name>/tags/list", params={"n": str(num_results)})
    expect_status(response, 200)
    suite.vars["tagList"] = _tag_list(response)
    assert len(suite.vars["tagList"]) == num_results


def test_get_start_of_tag_is_set_by_last_query_parameter(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/listing tags: "GET start of tag is set by `last`
    query parameter". As in v1.1.1, the assertions run on the first page (the second response
    is only checked for 200): at most ``n`` tags, containing the ``last`` value."""
    num_results = suite.var("numTags") // 2
    response = suite.client.request("GET", "/v2/<name>/tags/list", params={"n": str(num_results)})
    tag_list = _tag_list(response)
    suite.vars["tagList"] = tag_list
    response = suite.client.request(
        "GET",
        "/v2/<name>/tags/list",
        params={"n": str(num_results), "last": tag_list[num_results - 1]},
    )
    expect_status(response, 200)
    assert len(tag_list) <= num_results
    assert tag_list[num_results - 1] in tag_list


# -- g.Context("Test content discovery endpoints (listing references)") -----------------------


def _referrers(suite: Suite, digest: str, **params: str) -> tuple[httpx.Response, list[Any]]:
    response = suite.client.request(
        "GET", "/v2/<name>/referrers/<digest>", digest=digest, params=params
    )
    expect_status(response, 200)
    assert response.headers.get("Content-Type") == OCI_INDEX, v111.describe(response)
    manifests = response.json().get("manifests") or []
    assert isinstance(manifests, list)
    return response, manifests


def _check_annotations(suite: Suite, manifests: list[Any]) -> None:
    key = suite.data.test_annotation_key
    for entry in manifests:
        annotations = entry.get("annotations") or {}
        assert len(annotations) == 1, entry
        assert annotations.get(key) == suite.data.test_annotation_values.get(entry["digest"])


def test_get_request_to_nonexistent_blob_should_result_in_empty_200_response(
    suite: Suite,
) -> None:
    """03_discovery_test.go, Content Discovery/listing references: "GET request to nonexistent
    blob should result in empty 200 response" (Content-Type is the OCI index type)."""
    _, manifests = _referrers(suite, suite.data.dummy_digest)
    assert len(manifests) == 0


def test_get_request_to_existing_blob_should_yield_200(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/listing references: "GET request to existing blob
    should yield 200" (five referrers of manifests[4], each with exactly its one annotation)."""
    _, manifests = _referrers(suite, suite.data.manifests[4].digest)
    assert len(manifests) == 5
    assert manifests[0]["digest"] != manifests[1]["digest"]
    _check_annotations(suite, manifests)


def test_get_request_to_existing_blob_with_filter_should_yield_200(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/listing references: "GET request to existing blob
    with filter should yield 200" (``?artifactType=`` A: with ``OCI-Filters-Applied:
    artifactType`` exactly the two A artifacts; without the header, all five and a warning)."""
    data = suite.data
    response, manifests = _referrers(
        suite, data.manifests[4].digest, artifactType=data.test_ref_artifact_type_a
    )
    if response.headers.get("OCI-Filters-Applied"):
        assert len(manifests) == 2
        assert response.headers["OCI-Filters-Applied"] == v111.ARTIFACT_TYPE_FILTER
    else:
        assert len(manifests) == 5
        print("WARNING: filtering by artifact-type is not implemented")
    _check_annotations(suite, manifests)


def test_get_request_to_missing_manifest_should_yield_200(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/listing references: "GET request to missing
    manifest should yield 200" (manifests[3] was never pushed; its one referrer is artifact
    C)."""
    _, manifests = _referrers(suite, suite.data.manifests[3].digest)
    assert len(manifests) == 1
    assert manifests[0]["digest"] == suite.data.refs_manifest_c_layer.digest


# -- g.Context("Teardown") --------------------------------------------------------------------


def _delete_created_manifests(suite: Suite) -> None:
    data = suite.data
    references = [
        data.refs_index.digest,
        data.manifests[2].digest,
        data.manifests[4].digest,
        data.refs_manifest_a_config.digest,
        data.refs_manifest_a_layer.digest,
        v111.TEST_TAG_NAME,
        data.refs_manifest_b_config.digest,
        data.refs_manifest_b_layer.digest,
        data.refs_manifest_c_layer.digest,
    ]
    for reference in references:
        response = suite.client.request("DELETE", "/v2/<name>/manifests/<digest>", digest=reference)
        expect_2xx_or(response, 405, 404)


def test_teardown_delete_created_manifest_and_associated_tags_before_blobs(
    suite: Suite,
) -> None:
    """03_discovery_test.go, Content Discovery/Teardown: "Delete created manifest & associated
    tags" (every manifest, and the tag ``tagtest0``; 2xx, 405 or 404), registered before the
    blob deletes when OCI_DELETE_MANIFEST_BEFORE_BLOBS is true."""
    run_only_if(suite.settings.delete_manifest_before_blobs)
    run_only_if(suite.settings.run_content_discovery_setup)
    _delete_created_manifests(suite)


def test_teardown_delete_config_blob_created_in_tests(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/Teardown: "Delete config blob created in tests"
    (configs[2]; 2xx or 405)."""
    run_only_if(suite.settings.run_content_discovery_setup)
    response = suite.client.request(
        "DELETE", "/v2/<name>/blobs/<digest>", digest=suite.data.configs[2].digest
    )
    expect_2xx_or(response, 405)


def test_teardown_delete_layer_blob_created_in_setup(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/Teardown: "Delete layer blob created in setup"
    (2xx or 405)."""
    run_only_if(suite.settings.run_content_discovery_setup)
    response = suite.client.request(
        "DELETE", "/v2/<name>/blobs/<digest>", digest=suite.data.layer_blob_digest
    )
    expect_2xx_or(response, 405)


def test_teardown_delete_created_manifest_and_associated_tags_after_blobs(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/Teardown: "Delete created manifest & associated
    tags", registered after the blob deletes when OCI_DELETE_MANIFEST_BEFORE_BLOBS is false."""
    run_only_if_not(suite.settings.delete_manifest_before_blobs)
    run_only_if(suite.settings.run_content_discovery_setup)
    _delete_created_manifests(suite)


def test_teardown_references_teardown(suite: Suite) -> None:
    """03_discovery_test.go, Content Discovery/Teardown: "References teardown" (the referrer
    manifests and manifests[4] before or after configs[4], both reference blobs and the empty
    JSON blob, per OCI_DELETE_MANIFEST_BEFORE_BLOBS; 2xx, 405 or 404 each)."""
    run_only_if(suite.settings.run_content_discovery_setup)
    data, client = suite.data, suite.client

    def delete(response: httpx.Response) -> None:
        expect_2xx_or(response, 405, 404)

    def delete_manifests() -> None:
        for reference in (data.refs_index.digest, data.refs_manifest_a_config.digest):
            delete(
                client.request("DELETE", "/v2/<name>/manifests/<reference>", reference=reference)
            )
        delete(
            client.request(
                "DELETE",
                "/v2/<name>/manifests/<reference>",
                reference=data.refs_manifest_a_layer.digest,
            )
        )
        delete(
            client.request(
                "DELETE", "/v2/<name>/manifests/<digest>", digest=data.manifests[4].digest
            )
        )
        for reference in (data.refs_manifest_b_config.digest, data.refs_manifest_b_layer.digest):
            delete(
                client.request("DELETE", "/v2/<name>/manifests/<reference>", reference=reference)
            )

    if suite.settings.delete_manifest_before_blobs:
        delete_manifests()
    for digest in (
        data.configs[4].digest,
        data.test_ref_blob_a.digest,
        data.test_ref_blob_b.digest,
        data.empty_json_descriptor["digest"],
    ):
        delete(client.request("DELETE", "/v2/<name>/blobs/<digest>", digest=digest))
    if not suite.settings.delete_manifest_before_blobs:
        delete_manifests()
