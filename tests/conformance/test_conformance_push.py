"""Conformance v1.1.1, Push workflow: a port of ``conformance/02_push_test.go``
(``g.Context("Push")``) of opencontainers/distribution-spec, including the cross-repository
mount checks.

Every ``g.Specify`` is one test, in the Go order, against one registry for the module; checks
read what earlier ones stored (``lastResponse``, ``prevResponse`` in the Go closures). The module
runs once per ``OCI_DELETE_MANIFEST_BEFORE_BLOBS`` teardown order.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.conformance import v111
from tests.conformance.v111 import (
    OCI_MANIFEST,
    OCTET_STREAM,
    Suite,
    expect_2xx_or,
    expect_status,
    relative_location,
    run_only_if,
    run_only_if_not,
)

GO_FILE = "conformance/02_push_test.go"


@pytest.fixture(scope="module", params=v111.SUITE_PARAMS, ids=v111.SUITE_IDS)
def suite(request: pytest.FixtureRequest) -> Iterator[Suite]:
    with v111.start_suite(*request.param) as running:
        yield running


def _last(suite: Suite) -> httpx.Response:
    response = suite.var("lastResponse")
    assert isinstance(response, httpx.Response)
    return response


# -- g.Context("Blob Upload Streamed") --------------------------------------------------------


def test_patch_request_with_blob_in_body_should_yield_202_response(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Streamed: "PATCH request with blob in body should yield
    202 response" (POST opens a session with a Location; a PATCH without Content-Range streams
    testBlobA)."""
    client = suite.client
    response = client.request("POST", "/v2/<name>/blobs/uploads/")
    assert response.headers.get("Location"), v111.describe(response)
    response = client.request(
        "PATCH",
        relative_location(response),
        headers={"Content-Type": OCTET_STREAM},
        body=suite.data.test_blob_a,
    )
    expect_status(response, 202)
    suite.vars["lastResponse"] = response


def test_put_request_to_session_url_with_digest_should_yield_201_response(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Streamed: "PUT request to session URL with digest
    should yield 201 response" (201 with a Location). The Go check sets ``Content-Length`` to
    the blob's length but sends no body; Go's HTTP client drops that header and sends an empty
    body, which is what this request does."""
    response = suite.client.request(
        "PUT",
        relative_location(_last(suite)),
        params={"digest": suite.data.test_blob_a_digest},
        headers={"Content-Type": OCTET_STREAM},
    )
    expect_status(response, 201)
    assert response.headers.get("Location")


# -- g.Context("Blob Upload Monolithic") ------------------------------------------------------


def test_monolithic_get_nonexistent_blob_should_result_in_404_response(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Monolithic: "GET nonexistent blob should result in 404
    response"."""
    response = suite.client.request(
        "GET", "/v2/<name>/blobs/<digest>", digest=suite.data.dummy_digest
    )
    expect_status(response, 404)


def test_post_request_with_digest_and_blob_should_yield_a_201_or_202(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Monolithic: "POST request with digest and blob should
    yield a 201 or 202" (with a Location either way)."""
    config = suite.data.configs[1]
    response = suite.client.request(
        "POST",
        "/v2/<name>/blobs/uploads/",
        params={"digest": config.digest},
        headers={"Content-Length": config.content_length, "Content-Type": OCTET_STREAM},
        body=config.content,
    )
    assert response.headers.get("Location"), v111.describe(response)
    expect_status(response, 201, 202)
    suite.vars["lastResponse"] = response


def test_get_request_to_blob_url_from_prior_request_should_yield_200_or_404(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Monolithic: "GET request to blob URL from prior request
    should yield 200 or 404 based on response code" (404 after a 202, else 200)."""
    last = _last(suite)
    response = suite.client.request(
        "GET", "/v2/<name>/blobs/<digest>", digest=suite.data.configs[1].digest
    )
    expect_status(response, 404 if last.status_code == 202 else 200)


def test_post_request_should_yield_a_session_id(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Monolithic: "POST request should yield a session ID"
    (202)."""
    response = suite.client.request("POST", "/v2/<name>/blobs/uploads/")
    expect_status(response, 202)
    suite.vars["lastResponse"] = response


def test_put_upload_of_a_blob_should_yield_a_201_response(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Monolithic: "PUT upload of a blob should yield a 201
    Response" (configs[1] to the session, with a Location)."""
    config = suite.data.configs[1]
    response = suite.client.request(
        "PUT",
        relative_location(_last(suite)),
        params={"digest": config.digest},
        headers={"Content-Length": config.content_length, "Content-Type": OCTET_STREAM},
        body=config.content,
    )
    assert response.headers.get("Location"), v111.describe(response)
    expect_status(response, 201)


def test_get_request_to_existing_blob_should_yield_200_response(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Monolithic: "GET request to existing blob should yield
    200 response"."""
    response = suite.client.request(
        "GET", "/v2/<name>/blobs/<digest>", digest=suite.data.configs[1].digest
    )
    expect_status(response, 200)


def test_put_upload_of_a_layer_blob_should_yield_a_201_response(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Monolithic: "PUT upload of a layer blob should yield a
    201 Response"."""
    client, data = suite.client, suite.data
    response = client.request("POST", "/v2/<name>/blobs/uploads/")
    response = client.request(
        "PUT",
        relative_location(response),
        params={"digest": data.layer_blob_digest},
        headers={"Content-Length": data.layer_blob_content_length, "Content-Type": OCTET_STREAM},
        body=data.layer_blob_data,
    )
    assert response.headers.get("Location"), v111.describe(response)
    expect_status(response, 201)


def test_get_request_to_existing_layer_should_yield_200_response(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Monolithic: "GET request to existing layer should yield
    200 response"."""
    response = suite.client.request(
        "GET", "/v2/<name>/blobs/<digest>", digest=suite.data.layer_blob_digest
    )
    expect_status(response, 200)


# -- g.Context("Blob Upload Chunked") ---------------------------------------------------------


def _patch_chunk(
    suite: Suite, location: str, chunk: bytes, length: str, range_: str
) -> httpx.Response:
    return suite.client.request(
        "PATCH",
        location,
        headers={"Content-Type": OCTET_STREAM, "Content-Length": length, "Content-Range": range_},
        body=chunk,
    )


def test_out_of_order_blob_upload_should_return_416(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Chunked: "Out-of-order blob upload should return 416"
    (the second chunk first; testBlobB is rebuilt when ``OCI-Chunk-Min-Length`` is above the
    chunk size)."""
    response = suite.client.request(
        "POST", "/v2/<name>/blobs/uploads/", headers={"Content-Length": "0"}
    )
    assert response.headers.get("Location"), v111.describe(response)
    min_size = int(response.headers.get("OCI-Chunk-Min-Length") or 0)
    if min_size > len(suite.data.chunked.chunk1):
        suite.data.setup_chunked_blob(min_size * 2 - 2)
    chunked = suite.data.chunked
    response = _patch_chunk(
        suite,
        relative_location(response),
        chunked.chunk2,
        chunked.chunk2_length,
        chunked.chunk2_range,
    )
    expect_status(response, 416)


def test_patch_request_with_first_chunk_should_return_202(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Chunked: "PATCH request with first chunk should return
    202" (and ``Range`` is the chunk's range)."""
    response = suite.client.request(
        "POST", "/v2/<name>/blobs/uploads/", headers={"Content-Length": "0"}
    )
    assert response.headers.get("Location"), v111.describe(response)
    suite.vars["prevResponse"] = response
    chunked = suite.data.chunked
    response = _patch_chunk(
        suite,
        relative_location(response),
        chunked.chunk1,
        chunked.chunk1_length,
        chunked.chunk1_range,
    )
    expect_status(response, 202)
    assert response.headers.get("Range") == chunked.chunk1_range
    suite.vars["lastResponse"] = response


def test_retry_previous_blob_chunk_should_return_416(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Chunked: "Retry previous blob chunk should return 416"
    (the first chunk again, to the POST's location)."""
    chunked = suite.data.chunked
    response = _patch_chunk(
        suite,
        relative_location(suite.var("prevResponse")),
        chunked.chunk1,
        chunked.chunk1_length,
        chunked.chunk1_range,
    )
    expect_status(response, 416)


def test_get_on_stale_blob_upload_should_return_204_with_a_range_and_location(
    suite: Suite,
) -> None:
    """02_push_test.go, Push/Blob Upload Chunked: "Get on stale blob upload should return 204
    with a range and location"."""
    response = suite.client.request("GET", relative_location(suite.var("prevResponse")))
    expect_status(response, 204)
    assert response.headers.get("Location")
    assert response.headers.get("Range") == suite.data.chunked.chunk1_range
    suite.vars["lastResponse"] = response


def test_patch_request_with_second_chunk_should_return_202(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Chunked: "PATCH request with second chunk should return
    202" (to the location the GET returned; with a Location)."""
    chunked = suite.data.chunked
    response = _patch_chunk(
        suite,
        relative_location(_last(suite)),
        chunked.chunk2,
        chunked.chunk2_length,
        chunked.chunk2_range,
    )
    expect_status(response, 202)
    assert response.headers.get("Location")
    suite.vars["lastResponse"] = response


def test_put_request_with_digest_should_return_201(suite: Suite) -> None:
    """02_push_test.go, Push/Blob Upload Chunked: "PUT request with digest should return 201"
    (``Content-Length: 0``; with a Location)."""
    response = suite.client.request(
        "PUT",
        relative_location(_last(suite)),
        params={"digest": suite.data.chunked.digest},
        headers={"Content-Length": "0", "Content-Type": OCTET_STREAM},
    )
    expect_status(response, 201)
    assert response.headers.get("Location")


# -- g.Context("Cross-Repository Blob Mount") -------------------------------------------------


def test_cross_mounting_of_a_blob_without_the_from_argument_should_yield_session_id(
    suite: Suite,
) -> None:
    """02_push_test.go, Push/Cross-Repository Blob Mount: "Cross-mounting of a blob without the
    from argument should yield session id" (``?mount=`` of a digest nobody has, into
    OCI_CROSSMOUNT_NAMESPACE: 202 with a Location)."""
    response = suite.client.request(
        "POST",
        "/v2/<name>/blobs/uploads/",
        name=suite.settings.crossmount_namespace,
        params={"mount": suite.data.dummy_digest},
    )
    expect_status(response, 202)
    assert response.headers.get("Location")


def test_post_request_to_mount_another_repositorys_blob_should_return_201_or_202(
    suite: Suite,
) -> None:
    """02_push_test.go, Push/Cross-Repository Blob Mount: "POST request to mount another
    repository's blob should return 201 or 202" (testBlobA from OCI_NAMESPACE)."""
    response = suite.client.request(
        "POST",
        "/v2/<name>/blobs/uploads/",
        name=suite.settings.crossmount_namespace,
        params={"mount": suite.data.test_blob_a_digest, "from": suite.settings.namespace},
    )
    expect_status(response, 201, 202)
    suite.vars["lastResponse"] = response


def test_get_request_to_test_digest_within_cross_mount_namespace_should_return_200(
    suite: Suite,
) -> None:
    """02_push_test.go, Push/Cross-Repository Blob Mount: "GET request to test digest within
    cross-mount namespace should return 200" (after a 201 only: its Location must be
    ``/v2/<crossmount>/blobs/<digest>``)."""
    last = _last(suite)
    run_only_if(last.status_code == 201)
    expected = f"/v2/{suite.settings.crossmount_namespace}/blobs/{suite.data.test_blob_a_digest}"
    assert relative_location(last) == expected
    response = suite.client.request("GET", relative_location(last))
    expect_status(response, 200)


def test_cross_mounting_of_nonexistent_blob_should_yield_session_id(suite: Suite) -> None:
    """02_push_test.go, Push/Cross-Repository Blob Mount: "Cross-mounting of nonexistent blob
    should yield session id" (after a 202 only: its Location is an upload session of the
    cross-mount namespace)."""
    last = _last(suite)
    run_only_if(last.status_code == 202)
    prefix = f"/v2/{suite.settings.crossmount_namespace}/blobs/uploads/"
    assert relative_location(last).startswith(prefix)


def _mount_without_from(suite: Suite) -> httpx.Response:
    return suite.client.request(
        "POST",
        "/v2/<name>/blobs/uploads/",
        name=suite.settings.crossmount_namespace,
        params={"mount": suite.data.test_blob_a_digest},
    )


def test_cross_mounting_without_from_and_automatic_content_discovery_enabled_should_return_201(
    suite: Suite,
) -> None:
    """02_push_test.go, Push/Cross-Repository Blob Mount: "Cross-mounting without from, and
    automatic content discovery enabled should return a 201" (only with
    OCI_AUTOMATIC_CROSSMOUNT=1)."""
    settings = suite.settings
    run_only_if(settings.run_automatic_crossmount_test)
    run_only_if(_last(suite).status_code == 201)
    run_only_if(settings.automatic_crossmount_enabled)
    expect_status(_mount_without_from(suite), 201)


def test_cross_mounting_without_from_and_automatic_content_discovery_disabled_should_return_202(
    suite: Suite,
) -> None:
    """02_push_test.go, Push/Cross-Repository Blob Mount: "Cross-mounting without from, and
    automatic content discovery disabled should return a 202" (with OCI_AUTOMATIC_CROSSMOUNT=0,
    this port's default)."""
    settings = suite.settings
    run_only_if(settings.run_automatic_crossmount_test)
    run_only_if(_last(suite).status_code == 201)
    run_only_if_not(settings.automatic_crossmount_enabled)
    expect_status(_mount_without_from(suite), 202)


# -- g.Context("Manifest Upload") -------------------------------------------------------------


def test_manifest_upload_get_nonexistent_manifest_should_return_404(suite: Suite) -> None:
    """02_push_test.go, Push/Manifest Upload: "GET nonexistent manifest should return 404"."""
    response = suite.client.request(
        "GET", "/v2/<name>/manifests/<reference>", reference=v111.NONEXISTENT_MANIFEST
    )
    expect_status(response, 404)


def test_put_should_accept_a_manifest_upload(suite: Suite) -> None:
    """02_push_test.go, Push/Manifest Upload: "PUT should accept a manifest upload"
    (manifests[1] under the tags test0..test3; 201 with a Location each)."""
    for i in range(4):
        response = suite.client.request(
            "PUT",
            "/v2/<name>/manifests/<reference>",
            reference=f"test{i}",
            headers={"Content-Type": OCI_MANIFEST},
            body=suite.data.manifests[1].content,
        )
        assert response.headers.get("Location"), v111.describe(response)
        expect_status(response, 201)


def test_registry_should_accept_a_manifest_upload_with_no_layers(suite: Suite) -> None:
    """02_push_test.go, Push/Manifest Upload: "Registry should accept a manifest upload with no
    layers" (tag ``emptylayer``; anything but 201 is only a warning in the Go suite)."""
    response = suite.client.request(
        "PUT",
        "/v2/<name>/manifests/<reference>",
        reference=v111.EMPTY_LAYER_TEST_TAG,
        headers={"Content-Type": OCI_MANIFEST},
        body=suite.data.empty_layer_manifest_content,
    )
    if response.status_code == 201:
        location = response.headers.get("Location", "")
        suite.vars["emptyLayerManifestRef"] = location
        assert location
    else:
        suite.vars["emptyLayerManifestRef"] = ""
        print("WARNING: image manifest with no layers is not supported", file=sys.stderr)


def test_get_request_to_manifest_url_digest_should_yield_200_response(suite: Suite) -> None:
    """02_push_test.go, Push/Manifest Upload: "GET request to manifest URL (digest) should yield
    200 response"."""
    response = suite.client.request(
        "GET",
        "/v2/<name>/manifests/<digest>",
        digest=suite.data.manifests[1].digest,
        headers={"Accept": OCI_MANIFEST},
    )
    expect_status(response, 200)


# -- g.Context("Teardown") --------------------------------------------------------------------


def _delete_manifests(suite: Suite) -> None:
    client = suite.client
    response = client.request(
        "DELETE", "/v2/<name>/manifests/<digest>", digest=suite.data.manifests[1].digest
    )
    expect_2xx_or(response, 405)
    if suite.vars.get("emptyLayerManifestRef"):
        response = client.request(
            "DELETE",
            "/v2/<name>/manifests/<reference>",
            reference=suite.data.empty_layer_manifest_digest,
        )
        expect_2xx_or(response, 405)


def test_teardown_delete_manifest_created_in_tests_before_blobs(suite: Suite) -> None:
    """02_push_test.go, Push/Teardown: "Delete manifest created in tests" (manifests[1], then the
    no-layers manifest if it was accepted; 2xx or 405), registered before the blob deletes when
    OCI_DELETE_MANIFEST_BEFORE_BLOBS is true."""
    run_only_if(suite.settings.delete_manifest_before_blobs)
    run_only_if(suite.settings.run_push_setup)
    _delete_manifests(suite)


def test_teardown_delete_config_blob_created_in_tests(suite: Suite) -> None:
    """02_push_test.go, Push/Teardown: "Delete config blob created in tests" (configs[1]; 2xx,
    404 or 405)."""
    run_only_if(suite.settings.run_push_setup)
    response = suite.client.request(
        "DELETE", "/v2/<name>/blobs/<digest>", digest=suite.data.configs[1].digest
    )
    expect_2xx_or(response, 404, 405)


def test_teardown_delete_layer_blob_created_in_setup(suite: Suite) -> None:
    """02_push_test.go, Push/Teardown: "Delete layer blob created in setup" (2xx, 404 or
    405)."""
    run_only_if(suite.settings.run_push_setup)
    response = suite.client.request(
        "DELETE", "/v2/<name>/blobs/<digest>", digest=suite.data.layer_blob_digest
    )
    expect_2xx_or(response, 404, 405)


def test_teardown_delete_manifest_created_in_tests_after_blobs(suite: Suite) -> None:
    """02_push_test.go, Push/Teardown: "Delete manifest created in tests", registered after the
    blob deletes when OCI_DELETE_MANIFEST_BEFORE_BLOBS is false."""
    run_only_if_not(suite.settings.delete_manifest_before_blobs)
    run_only_if(suite.settings.run_push_setup)
    _delete_manifests(suite)
