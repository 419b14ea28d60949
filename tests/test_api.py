"""The registry's HTTP API, one row per behaviour of docs/registry-behaviour.md.

Every row runs against a fresh registry: ``setup`` pushes what the row needs over HTTP and
returns names for the values it made (digests, upload paths), which the request and the
expectations refer to as ``{name}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from fakeregistry.rules import mediatypes as mt
from tests.conftest import STORES, RegistryFactory
from tests.content import (
    canonical,
    digest_of,
    image_manifest,
    push_artifact,
    push_blob,
    push_image,
    push_index,
)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    """Every row runs against the in-memory store and the disk store."""
    return str(request.param)


Vars = dict[str, str]
Setup = Callable[[httpx.Client], Vars]
ANY = object()  # a header that must be present, whatever its value

BLOB = b"hello, registry"
BLOB_DIGEST = digest_of(BLOB)
BLOB_SHA512 = digest_of(BLOB, "sha512")
MISSING = digest_of(b"never pushed")
OCI_ACCEPT = ", ".join(sorted(mt.MANIFEST_TYPES))


def nothing(http: httpx.Client) -> Vars:
    return {}


def blob(http: httpx.Client) -> Vars:
    push_blob(http, "repo", BLOB)
    return {"digest": BLOB_DIGEST}


def upload(http: httpx.Client) -> Vars:
    response = http.post("/v2/repo/blobs/uploads/")
    return {"upload": response.headers["Location"].split("127.0.0.1", 1)[1].split(":", 1)[1][5:]}


def upload_with(data: bytes) -> Setup:
    def setup(http: httpx.Client) -> Vars:
        found = upload(http)
        http.patch(found["upload"], content=data)
        return found

    return setup


def image(media_type: str = mt.OCI_MANIFEST, tag: str = "latest") -> Setup:
    def setup(http: httpx.Client) -> Vars:
        pushed = push_image(http, "repo", tag, media_type=media_type)
        return {"digest": pushed.digest, "config": pushed.blobs[0], "layer": pushed.blobs[1]}

    return setup


def docker_list(with_amd64: bool = True, child_type: str = mt.DOCKER_MANIFEST) -> Setup:
    def setup(http: httpx.Client) -> Vars:
        arm = push_image(http, "repo", None, media_type=child_type, architecture="arm64")
        children = [(arm, {"os": "linux", "architecture": "arm64", "variant": "v8"})]
        found = {"arm": arm.digest}
        if with_amd64:
            amd = push_image(http, "repo", None, media_type=child_type, architecture="amd64")
            children.append((amd, {"os": "linux", "architecture": "amd64"}))
            found["amd"] = amd.digest
        pushed = push_index(http, "repo", "multi", children, media_type=mt.DOCKER_MANIFEST_LIST)
        return {**found, "digest": pushed.digest}

    return setup


def oci_index(http: httpx.Client) -> Vars:
    child = push_image(http, "repo", None)
    pushed = push_index(http, "repo", "multi", [(child, {"os": "linux", "architecture": "amd64"})])
    return {"digest": pushed.digest, "child": child.digest}


def referrers(http: httpx.Client) -> Vars:
    subject = push_image(http, "repo", "latest")
    sig = push_artifact(
        http, "repo", subject, "application/vnd.example.sig", annotations={"k": "v"}
    )
    sbom = push_artifact(http, "repo", subject, "application/spdx+json", payload=b"sbom")
    return {"subject": subject.digest, "sig": sig.digest, "sbom": sbom.digest}


def tags(*names: str) -> Setup:
    def setup(http: httpx.Client) -> Vars:
        pushed = push_image(http, "repo", names[0])
        for name in names[1:]:
            http.put(
                f"/v2/repo/manifests/{name}",
                content=pushed.body,
                headers={"Content-Type": pushed.media_type},
            )
        return {"digest": pushed.digest}

    return setup


def repos(*names: str) -> Setup:
    def setup(http: httpx.Client) -> Vars:
        for name in names:
            push_blob(http, name, BLOB)
        return {}

    return setup


def manifest_with_missing_blob(http: httpx.Client) -> Vars:
    config = canonical({"os": "linux", "architecture": "amd64"})
    push_blob(http, "repo", config)
    body = image_manifest(config, [b"missing layer"])
    return {"body": body.decode(), "missing": digest_of(b"missing layer")}


@dataclass
class Case:
    """One request against a fresh registry, and what must come back."""

    method: str
    path: str
    status: int
    setup: Setup = nothing
    params: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Callable[[Vars], bytes] = b""
    error: str | None = None
    expect_headers: dict[str, object] = field(default_factory=dict)
    absent_headers: tuple[str, ...] = ()
    expect_body: bytes | Callable[[Vars], bytes] | None = None
    expect_json: Any = None
    options: dict[str, Any] = field(default_factory=dict)
    after: Callable[[httpx.Client, Vars], None] | None = None


def case(id: str, *args: Any, **kwargs: Any) -> Any:
    return pytest.param(Case(*args, **kwargs), id=id)


def fmt(value: Any, found: Vars) -> Any:
    return value.format(**found) if isinstance(value, str) else value


def still_has_blob(http: httpx.Client, found: Vars) -> None:
    assert http.head(f"/v2/repo/blobs/{BLOB_DIGEST}").status_code == 200


def blob_gone(http: httpx.Client, found: Vars) -> None:
    assert http.get(f"/v2/repo/blobs/{found['digest']}").status_code == 404


def upload_gone(http: httpx.Client, found: Vars) -> None:
    assert http.get(found["upload"]).status_code == 404


def nothing_stored(http: httpx.Client, found: Vars) -> None:
    assert http.get("/v2/_catalog").json() == {"repositories": []}


def manifest_gone(http: httpx.Client, found: Vars) -> None:
    assert http.get("/v2/repo/manifests/latest", headers={"Accept": OCI_ACCEPT}).status_code == 404
    response = http.get(f"/v2/repo/manifests/{found['digest']}", headers={"Accept": OCI_ACCEPT})
    assert response.status_code == 404


def only_tag_gone(http: httpx.Client, found: Vars) -> None:
    assert http.get("/v2/repo/manifests/latest", headers={"Accept": OCI_ACCEPT}).status_code == 404
    response = http.get(f"/v2/repo/manifests/{found['digest']}", headers={"Accept": OCI_ACCEPT})
    assert response.status_code == 200
    assert http.get("/v2/repo/tags/list").json()["tags"] == ["other"]


def tag_unchanged(http: httpx.Client, found: Vars) -> None:
    response = http.get("/v2/repo/manifests/latest", headers={"Accept": OCI_ACCEPT})
    assert response.headers["Docker-Content-Digest"] == found["digest"]


GENERAL = [
    case(
        "base-endpoint",
        "GET",
        "/v2/",
        200,
        expect_json={},
        expect_headers={
            "Docker-Distribution-API-Version": "registry/2.0",
            "Content-Type": "application/json",
        },
    ),
    case("base-endpoint-head", "HEAD", "/v2/", 200),
    case("unknown-route-json-404", "GET", "/v2/repo/nothing-here", 404, error="NOT_FOUND"),
    case("method-not-allowed", "PATCH", "/v2/repo/manifests/latest", 405, error="UNSUPPORTED"),
    case("name-invalid-uppercase", "GET", "/v2/Repo/tags/list", 400, error="NAME_INVALID"),
    case("name-invalid-double-slash", "GET", "/v2/a//b/tags/list", 400, error="NAME_INVALID"),
    case("name-invalid-trailing-dash", "GET", "/v2/repo-/tags/list", 400, error="NAME_INVALID"),
    case("name-too-long", "GET", "/v2/" + "a" * 256 + "/tags/list", 400, error="NAME_INVALID"),
    case(
        "name-sparse-accepts-uppercase",
        "POST",
        "/v2/Repo/blobs/uploads/",
        202,
        options={"validation": "sparse"},
    ),
    case(
        "name-with-route-words",
        "GET",
        "/v2/a/blobs/manifests/tags/list",
        200,
        setup=repos("a/blobs/manifests"),
        expect_json={"name": "a/blobs/manifests", "tags": []},
    ),
]

BLOBS = [
    case(
        "blob-get",
        "GET",
        "/v2/repo/blobs/{digest}",
        200,
        setup=blob,
        expect_body=BLOB,
        expect_headers={
            "Content-Length": str(len(BLOB)),
            "Docker-Content-Digest": BLOB_DIGEST,
            "Content-Type": "application/octet-stream",
            "ETag": f'"{BLOB_DIGEST}"',
        },
    ),
    case(
        "blob-head",
        "HEAD",
        "/v2/repo/blobs/{digest}",
        200,
        setup=blob,
        expect_body=b"",
        expect_headers={"Content-Length": str(len(BLOB)), "Docker-Content-Digest": BLOB_DIGEST},
    ),
    case("blob-unknown", "GET", f"/v2/repo/blobs/{MISSING}", 404, setup=blob, error="BLOB_UNKNOWN"),
    case("blob-head-unknown", "HEAD", f"/v2/repo/blobs/{MISSING}", 404, setup=blob),
    case(
        "blob-other-repo-invisible",
        "GET",
        f"/v2/other/blobs/{BLOB_DIGEST}",
        404,
        setup=blob,
        error="BLOB_UNKNOWN",
    ),
    case(
        "blob-digest-invalid",
        "GET",
        "/v2/repo/blobs/sha256:abc",
        400,
        setup=blob,
        error="DIGEST_INVALID",
    ),
    case(
        "blob-digest-unsupported-algorithm",
        "GET",
        "/v2/repo/blobs/md5:" + "a" * 32,
        400,
        error="DIGEST_INVALID",
    ),
    case(
        "blob-digest-uppercase-hex",
        "GET",
        "/v2/repo/blobs/sha256:" + "A" * 64,
        400,
        error="DIGEST_INVALID",
    ),
    case(
        "range-closed",
        "GET",
        "/v2/repo/blobs/{digest}",
        206,
        setup=blob,
        headers={"Range": "bytes=0-4"},
        expect_body=BLOB[0:5],
        expect_headers={"Content-Range": f"bytes 0-4/{len(BLOB)}", "Content-Length": "5"},
    ),
    case(
        "range-open-end",
        "GET",
        "/v2/repo/blobs/{digest}",
        206,
        setup=blob,
        headers={"Range": "bytes=7-"},
        expect_body=BLOB[7:],
        expect_headers={"Content-Range": f"bytes 7-{len(BLOB) - 1}/{len(BLOB)}"},
    ),
    case(
        "range-suffix",
        "GET",
        "/v2/repo/blobs/{digest}",
        206,
        setup=blob,
        headers={"Range": "bytes=-3"},
        expect_body=BLOB[-3:],
    ),
    case(
        "range-end-clamped",
        "GET",
        "/v2/repo/blobs/{digest}",
        206,
        setup=blob,
        headers={"Range": "bytes=10-999"},
        expect_body=BLOB[10:],
        expect_headers={"Content-Range": f"bytes 10-{len(BLOB) - 1}/{len(BLOB)}"},
    ),
    case(
        "range-start-past-end",
        "GET",
        "/v2/repo/blobs/{digest}",
        416,
        setup=blob,
        headers={"Range": f"bytes={len(BLOB)}-"},
        error="RANGE_INVALID",
        expect_headers={"Content-Range": f"bytes */{len(BLOB)}"},
    ),
    case(
        "range-start-after-end",
        "GET",
        "/v2/repo/blobs/{digest}",
        416,
        setup=blob,
        headers={"Range": "bytes=5-2"},
        error="RANGE_INVALID",
    ),
    case(
        "range-malformed",
        "GET",
        "/v2/repo/blobs/{digest}",
        416,
        setup=blob,
        headers={"Range": "pages=1-2"},
        error="RANGE_INVALID",
    ),
    case("blob-delete", "DELETE", "/v2/repo/blobs/{digest}", 202, setup=blob, after=blob_gone),
    case(
        "blob-delete-unknown",
        "DELETE",
        f"/v2/repo/blobs/{MISSING}",
        404,
        setup=blob,
        error="BLOB_UNKNOWN",
    ),
    case(
        "blob-delete-disabled",
        "DELETE",
        "/v2/repo/blobs/{digest}",
        405,
        setup=blob,
        error="UNSUPPORTED",
        options={"deletes": False},
        after=still_has_blob,
    ),
]

UPLOADS = [
    case(
        "upload-start",
        "POST",
        "/v2/repo/blobs/uploads/",
        202,
        expect_headers={
            "Location": ANY,
            "Docker-Upload-UUID": ANY,
            "Range": "0-0",
            "Content-Length": "0",
        },
    ),
    case(
        "upload-monolithic-post",
        "POST",
        "/v2/repo/blobs/uploads/",
        201,
        params={"digest": BLOB_DIGEST},
        body=BLOB,
        expect_headers={
            "Location": f"/v2/repo/blobs/{BLOB_DIGEST}",
            "Docker-Content-Digest": BLOB_DIGEST,
        },
        after=still_has_blob,
    ),
    case(
        "upload-monolithic-sha512",
        "POST",
        "/v2/repo/blobs/uploads/",
        201,
        params={"digest": BLOB_SHA512},
        body=BLOB,
        expect_headers={"Docker-Content-Digest": BLOB_SHA512},
    ),
    case(
        "upload-monolithic-mismatch",
        "POST",
        "/v2/repo/blobs/uploads/",
        400,
        params={"digest": MISSING},
        body=BLOB,
        error="DIGEST_INVALID",
        after=nothing_stored,
    ),
    case(
        "upload-monolithic-bad-digest",
        "POST",
        "/v2/repo/blobs/uploads/",
        400,
        params={"digest": "sha256:nothex"},
        body=BLOB,
        error="DIGEST_INVALID",
    ),
    case(
        "upload-put-whole-body",
        "PUT",
        "{upload}",
        201,
        setup=upload,
        params={"digest": BLOB_DIGEST},
        body=BLOB,
        after=still_has_blob,
        expect_headers={"Location": f"/v2/repo/blobs/{BLOB_DIGEST}"},
    ),
    case(
        "upload-put-sha512",
        "PUT",
        "{upload}",
        201,
        setup=upload,
        params={"digest": BLOB_SHA512},
        body=BLOB,
        expect_headers={"Docker-Content-Digest": BLOB_SHA512},
    ),
    case(
        "upload-patch-then-put-sha512",
        "PUT",
        "{upload}",
        201,
        setup=upload_with(BLOB[:4]),
        params={"digest": BLOB_SHA512},
        body=BLOB[4:],
    ),
    case(
        "upload-patch-stream",
        "PATCH",
        "{upload}",
        202,
        setup=upload,
        body=BLOB,
        expect_headers={"Range": f"0-{len(BLOB) - 1}", "Location": ANY},
    ),
    case(
        "upload-patch-chunk",
        "PATCH",
        "{upload}",
        202,
        setup=upload,
        body=BLOB[:5],
        headers={"Content-Range": "0-4"},
        expect_headers={"Range": "0-4"},
    ),
    case(
        "upload-patch-second-chunk",
        "PATCH",
        "{upload}",
        202,
        setup=upload_with(BLOB[:5]),
        body=BLOB[5:],
        headers={"Content-Range": f"5-{len(BLOB) - 1}"},
        expect_headers={"Range": f"0-{len(BLOB) - 1}"},
    ),
    case(
        "upload-patch-out-of-order",
        "PATCH",
        "{upload}",
        416,
        setup=upload_with(BLOB[:5]),
        body=BLOB[8:],
        headers={"Content-Range": f"8-{len(BLOB) - 1}"},
        error="RANGE_INVALID",
    ),
    case(
        "upload-patch-overlapping",
        "PATCH",
        "{upload}",
        416,
        setup=upload_with(BLOB[:5]),
        body=BLOB[3:],
        headers={"Content-Range": f"3-{len(BLOB) - 1}"},
        error="RANGE_INVALID",
    ),
    case(
        "upload-patch-range-length-mismatch",
        "PATCH",
        "{upload}",
        400,
        setup=upload,
        body=BLOB,
        headers={"Content-Range": "0-3"},
        error="SIZE_INVALID",
    ),
    case(
        "upload-patch-range-malformed",
        "PATCH",
        "{upload}",
        416,
        setup=upload,
        body=BLOB,
        headers={"Content-Range": "zero-four"},
        error="RANGE_INVALID",
    ),
    case(
        "upload-put-final-chunk-out-of-order",
        "PUT",
        "{upload}",
        416,
        setup=upload_with(BLOB[:5]),
        params={"digest": BLOB_DIGEST},
        body=BLOB[9:],
        headers={"Content-Range": f"9-{len(BLOB) - 1}"},
        error="RANGE_INVALID",
    ),
    case(
        "upload-put-missing-digest",
        "PUT",
        "{upload}",
        400,
        setup=upload_with(BLOB),
        error="DIGEST_INVALID",
        after=upload_gone,
    ),
    case(
        "upload-put-wrong-digest",
        "PUT",
        "{upload}",
        400,
        setup=upload_with(BLOB),
        params={"digest": MISSING},
        error="DIGEST_INVALID",
        after=upload_gone,
    ),
    case(
        "upload-status-empty",
        "GET",
        "{upload}",
        204,
        setup=upload,
        expect_headers={"Range": "0-0", "Location": ANY, "Docker-Upload-UUID": ANY},
    ),
    case(
        "upload-status-after-chunk",
        "GET",
        "{upload}",
        204,
        setup=upload_with(BLOB),
        expect_headers={"Range": f"0-{len(BLOB) - 1}"},
    ),
    case(
        "upload-status-unknown",
        "GET",
        "/v2/repo/blobs/uploads/nope",
        404,
        error="BLOB_UPLOAD_UNKNOWN",
    ),
    case(
        "upload-other-repo-unknown",
        "GET",
        "/v2/other/blobs/uploads/{upload_id}",
        404,
        setup=lambda http: {**upload(http), "upload_id": upload(http)["upload"].rsplit("/")[-1]},
        error="BLOB_UPLOAD_UNKNOWN",
    ),
    case("upload-cancel", "DELETE", "{upload}", 204, setup=upload_with(BLOB), after=upload_gone),
    case(
        "upload-cancel-unknown",
        "DELETE",
        "/v2/repo/blobs/uploads/nope",
        404,
        error="BLOB_UPLOAD_UNKNOWN",
    ),
    case(
        "mount-from-repo",
        "POST",
        "/v2/other/blobs/uploads/",
        201,
        setup=blob,
        params={"mount": BLOB_DIGEST, "from": "repo"},
        expect_headers={
            "Location": f"/v2/other/blobs/{BLOB_DIGEST}",
            "Docker-Content-Digest": BLOB_DIGEST,
        },
    ),
    case(
        "mount-missing-blob-opens-session",
        "POST",
        "/v2/other/blobs/uploads/",
        202,
        setup=blob,
        params={"mount": MISSING, "from": "repo"},
        expect_headers={"Location": ANY},
    ),
    case(
        "mount-without-from-opens-session",
        "POST",
        "/v2/other/blobs/uploads/",
        202,
        setup=blob,
        params={"mount": BLOB_DIGEST},
    ),
    case(
        "mount-from-unknown-repo",
        "POST",
        "/v2/other/blobs/uploads/",
        202,
        setup=blob,
        params={"mount": BLOB_DIGEST, "from": "nope"},
    ),
    case(
        "mount-bad-digest",
        "POST",
        "/v2/other/blobs/uploads/",
        400,
        params={"mount": "sha256:zz", "from": "repo"},
        error="DIGEST_INVALID",
    ),
]


def body_of(key: str) -> Callable[[Vars], bytes]:
    return lambda found: found[key].encode()


MANIFESTS = [
    case(
        "manifest-put-by-tag",
        "PUT",
        "/v2/repo/manifests/v1",
        201,
        setup=lambda http: {**image()(http), "body": ""},
        headers={"Content-Type": mt.OCI_MANIFEST},
        body=lambda found: image_manifest(
            canonical({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}),
            [b"layer repo amd64 "],
        ),
        expect_headers={
            "Location": "/v2/repo/manifests/{digest}",
            "Docker-Content-Digest": "{digest}",
        },
    ),
    case(
        "manifest-get-by-tag",
        "GET",
        "/v2/repo/manifests/latest",
        200,
        setup=image(),
        headers={"Accept": mt.OCI_MANIFEST},
        expect_headers={
            "Content-Type": mt.OCI_MANIFEST,
            "Docker-Content-Digest": "{digest}",
            "ETag": '"{digest}"',
        },
    ),
    case(
        "manifest-get-by-digest",
        "GET",
        "/v2/repo/manifests/{digest}",
        200,
        setup=image(),
        headers={"Accept": mt.OCI_MANIFEST},
    ),
    case(
        "manifest-head",
        "HEAD",
        "/v2/repo/manifests/latest",
        200,
        setup=image(),
        headers={"Accept": mt.OCI_MANIFEST},
        expect_body=b"",
        expect_headers={"Content-Length": ANY, "Docker-Content-Digest": "{digest}"},
    ),
    case(
        "manifest-if-none-match",
        "GET",
        "/v2/repo/manifests/latest",
        304,
        setup=image(),
        headers={"Accept": mt.OCI_MANIFEST, "If-None-Match": '"{digest}"'},
    ),
    case(
        "manifest-if-none-match-other",
        "GET",
        "/v2/repo/manifests/latest",
        200,
        setup=image(),
        headers={"Accept": mt.OCI_MANIFEST, "If-None-Match": f'"{MISSING}"'},
    ),
    case(
        "manifest-unknown-tag",
        "GET",
        "/v2/repo/manifests/nope",
        404,
        setup=image(),
        error="MANIFEST_UNKNOWN",
    ),
    case(
        "manifest-unknown-digest",
        "GET",
        f"/v2/repo/manifests/{MISSING}",
        404,
        setup=image(),
        error="MANIFEST_UNKNOWN",
    ),
    case("manifest-unknown-repo", "GET", "/v2/nope/manifests/latest", 404, error="NAME_UNKNOWN"),
    case(
        "manifest-bad-digest-reference",
        "GET",
        "/v2/repo/manifests/sha256:short",
        400,
        setup=image(),
        error="DIGEST_INVALID",
    ),
    case(
        "manifest-put-bad-digest-reference",
        "PUT",
        "/v2/repo/manifests/sha256:baddigeststring",
        400,
        setup=image(),
        headers={"Content-Type": mt.OCI_MANIFEST},
        body=lambda found: b"{}",
        error="DIGEST_INVALID",
    ),
    case(
        "manifest-put-digest-mismatch",
        "PUT",
        f"/v2/repo/manifests/{MISSING}",
        400,
        setup=image(),
        headers={"Content-Type": mt.OCI_MANIFEST},
        body=lambda found: image_manifest(
            canonical({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}),
            [b"layer repo amd64 "],
        ),
        error="DIGEST_INVALID",
    ),
    case(
        "manifest-put-invalid-tag",
        "PUT",
        "/v2/repo/manifests/-bad",
        400,
        setup=image(),
        headers={"Content-Type": mt.OCI_MANIFEST},
        body=b"{}",
        error="MANIFEST_INVALID",
    ),
    case(
        "manifest-put-not-json",
        "PUT",
        "/v2/repo/manifests/v1",
        400,
        headers={"Content-Type": mt.OCI_MANIFEST},
        body=b"{not json",
        error="MANIFEST_INVALID",
        after=nothing_stored,
    ),
    case(
        "manifest-put-no-content-type",
        "PUT",
        "/v2/repo/manifests/v1",
        400,
        body=b'{"schemaVersion":2}',
        error="MANIFEST_INVALID",
    ),
    case(
        "manifest-put-unknown-content-type",
        "PUT",
        "/v2/repo/manifests/v1",
        400,
        headers={"Content-Type": "application/json"},
        body=b'{"schemaVersion":2}',
        error="MANIFEST_INVALID",
    ),
    case(
        "manifest-put-schema1-refused",
        "PUT",
        "/v2/repo/manifests/v1",
        400,
        headers={"Content-Type": mt.DOCKER_SCHEMA1_SIGNED},
        body=b'{"schemaVersion":1}',
        error="MANIFEST_INVALID",
    ),
    case(
        "manifest-put-media-type-mismatch",
        "PUT",
        "/v2/repo/manifests/v1",
        400,
        setup=image(),
        headers={"Content-Type": mt.OCI_INDEX},
        body=lambda found: canonical(
            {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "manifests": []}
        ),
        error="MANIFEST_INVALID",
    ),
    case(
        "manifest-put-wrong-schema-version",
        "PUT",
        "/v2/repo/manifests/v1",
        400,
        headers={"Content-Type": mt.OCI_INDEX},
        body=canonical({"schemaVersion": 3, "manifests": []}),
        error="MANIFEST_INVALID",
    ),
    case(
        "manifest-put-content-type-params-ignored",
        "PUT",
        "/v2/repo/manifests/v1",
        201,
        headers={"Content-Type": mt.OCI_INDEX + "; charset=utf-8"},
        body=canonical({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []}),
    ),
    case(
        "manifest-put-missing-blob",
        "PUT",
        "/v2/repo/manifests/v1",
        400,
        setup=manifest_with_missing_blob,
        headers={"Content-Type": mt.OCI_MANIFEST},
        body=body_of("body"),
        error="MANIFEST_BLOB_UNKNOWN",
        expect_json={
            "errors": [
                {
                    "code": "MANIFEST_BLOB_UNKNOWN",
                    "message": "manifest references a manifest or blob unknown to registry",
                    "detail": "{missing}",
                }
            ]
        },
    ),
    case(
        "manifest-put-missing-blob-sparse",
        "PUT",
        "/v2/repo/manifests/v1",
        201,
        setup=manifest_with_missing_blob,
        headers={"Content-Type": mt.OCI_MANIFEST},
        body=body_of("body"),
        options={"validation": "sparse"},
    ),
    case(
        "manifest-put-index-missing-child",
        "PUT",
        "/v2/repo/manifests/v1",
        400,
        headers={"Content-Type": mt.OCI_INDEX},
        body=canonical(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_INDEX,
                "manifests": [{"mediaType": mt.OCI_MANIFEST, "digest": MISSING, "size": 1}],
            }
        ),
        error="MANIFEST_BLOB_UNKNOWN",
    ),
    case(
        "manifest-put-too-large",
        "PUT",
        "/v2/repo/manifests/v1",
        413,
        headers={"Content-Type": mt.OCI_INDEX},
        body=b" " * 2048,
        options={"max_manifest_size": 1024},
        error="SIZE_INVALID",
    ),
    case(
        "manifest-put-4mib-accepted",
        "PUT",
        "/v2/repo/manifests/v1",
        201,
        headers={"Content-Type": mt.OCI_INDEX},
        body=canonical(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_INDEX,
                "manifests": [],
                "annotations": {"pad": "x" * (4 * 1024 * 1024 - 200)},
            }
        ),
    ),
    case(
        "manifest-put-subject-sets-oci-subject",
        "PUT",
        "/v2/repo/manifests/sig",
        201,
        setup=lambda http: {**image()(http), **{"sig": ""}},
        headers={"Content-Type": mt.OCI_MANIFEST},
        body=lambda found: canonical(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_MANIFEST,
                "artifactType": "a/b",
                "config": {
                    "mediaType": mt.OCI_CONFIG,
                    "digest": found["config"],
                    "size": len(
                        canonical(
                            {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}
                        )
                    ),
                },
                "layers": [],
                "subject": {"mediaType": mt.OCI_MANIFEST, "digest": found["digest"], "size": 1},
            }
        ),
        expect_headers={"OCI-Subject": "{digest}"},
    ),
    case(
        "manifest-put-subject-need-not-exist",
        "PUT",
        "/v2/repo/manifests/sig",
        201,
        setup=image(),
        headers={"Content-Type": mt.OCI_MANIFEST},
        body=lambda found: canonical(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_MANIFEST,
                "config": {
                    "mediaType": mt.OCI_CONFIG,
                    "digest": found["config"],
                    "size": len(
                        canonical(
                            {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}
                        )
                    ),
                },
                "layers": [],
                "subject": {"mediaType": mt.OCI_MANIFEST, "digest": MISSING, "size": 1},
            }
        ),
        expect_headers={"OCI-Subject": MISSING},
    ),
    case(
        "manifest-put-subject-no-header-when-referrers-off",
        "PUT",
        "/v2/repo/manifests/sig",
        201,
        setup=image(),
        options={"referrers": False},
        headers={"Content-Type": mt.OCI_MANIFEST},
        body=lambda found: canonical(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_MANIFEST,
                "config": {
                    "mediaType": mt.OCI_CONFIG,
                    "digest": found["config"],
                    "size": len(
                        canonical(
                            {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}
                        )
                    ),
                },
                "layers": [],
                "subject": {"mediaType": mt.OCI_MANIFEST, "digest": MISSING, "size": 1},
            }
        ),
        absent_headers=("OCI-Subject",),
    ),
    case(
        "manifest-put-by-digest-with-tags",
        "PUT",
        "/v2/repo/manifests/{child}",
        201,
        setup=lambda http: {**image()(http), "child": image()(http)["digest"]},
        params=[("tag", "a"), ("tag", "b")],
        headers={"Content-Type": mt.OCI_MANIFEST},
        body=lambda found: image_manifest(
            canonical({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}),
            [b"layer repo amd64 "],
        ),
        expect_headers={"OCI-Tag": "a, b"},
    ),
    case(
        "manifest-delete-tag",
        "DELETE",
        "/v2/repo/manifests/latest",
        202,
        setup=tags("latest", "other"),
        after=only_tag_gone,
    ),
    case(
        "manifest-delete-digest-removes-tags",
        "DELETE",
        "/v2/repo/manifests/{digest}",
        202,
        setup=tags("latest", "other"),
        after=manifest_gone,
    ),
    case(
        "manifest-delete-unknown",
        "DELETE",
        f"/v2/repo/manifests/{MISSING}",
        404,
        setup=image(),
        error="MANIFEST_UNKNOWN",
    ),
    case(
        "manifest-delete-disabled",
        "DELETE",
        "/v2/repo/manifests/latest",
        405,
        setup=image(),
        options={"deletes": False},
        error="UNSUPPORTED",
        after=tag_unchanged,
    ),
    case(
        "docker-manifest-served-without-accept",
        "GET",
        "/v2/repo/manifests/latest",
        200,
        setup=image(mt.DOCKER_MANIFEST),
        expect_headers={"Content-Type": mt.DOCKER_MANIFEST},
    ),
]

NEGOTIATION = [
    case(
        "oci-manifest-not-accepted",
        "GET",
        "/v2/repo/manifests/latest",
        404,
        setup=image(),
        headers={"Accept": mt.DOCKER_MANIFEST},
        error="MANIFEST_UNKNOWN",
    ),
    case(
        "oci-manifest-no-accept",
        "GET",
        "/v2/repo/manifests/latest",
        404,
        setup=image(),
        error="MANIFEST_UNKNOWN",
    ),
    case(
        "oci-manifest-accept-with-params",
        "GET",
        "/v2/repo/manifests/latest",
        200,
        setup=image(),
        headers={"Accept": f"text/plain, {mt.OCI_MANIFEST};q=0.5"},
    ),
    case(
        "oci-manifest-lenient",
        "GET",
        "/v2/repo/manifests/latest",
        200,
        setup=image(),
        options={"negotiation": "lenient"},
    ),
    case(
        "oci-index-not-accepted",
        "GET",
        "/v2/repo/manifests/multi",
        404,
        setup=oci_index,
        headers={"Accept": mt.OCI_MANIFEST},
        error="MANIFEST_UNKNOWN",
    ),
    case(
        "oci-index-accepted",
        "GET",
        "/v2/repo/manifests/multi",
        200,
        setup=oci_index,
        headers={"Accept": mt.OCI_INDEX},
        expect_headers={"Content-Type": mt.OCI_INDEX},
    ),
    case(
        "docker-list-accepted",
        "GET",
        "/v2/repo/manifests/multi",
        200,
        setup=docker_list(),
        headers={"Accept": mt.DOCKER_MANIFEST_LIST},
        expect_headers={"Docker-Content-Digest": "{digest}"},
    ),
    case(
        "docker-list-by-tag-old-client-gets-amd64",
        "GET",
        "/v2/repo/manifests/multi",
        200,
        setup=docker_list(),
        headers={"Accept": mt.DOCKER_MANIFEST},
        expect_headers={"Docker-Content-Digest": "{amd}", "Content-Type": mt.DOCKER_MANIFEST},
    ),
    case(
        "docker-list-by-digest-returned-as-is",
        "GET",
        "/v2/repo/manifests/{digest}",
        200,
        setup=docker_list(),
        headers={"Accept": mt.DOCKER_MANIFEST},
        expect_headers={"Docker-Content-Digest": "{digest}"},
    ),
    case(
        "docker-list-no-amd64",
        "GET",
        "/v2/repo/manifests/multi",
        404,
        setup=docker_list(with_amd64=False),
        headers={"Accept": mt.DOCKER_MANIFEST},
        error="MANIFEST_UNKNOWN",
    ),
    case(
        # distribution checks only a schema2 child against Accept after the rewrite.
        "docker-list-amd64-oci-child-served",
        "GET",
        "/v2/repo/manifests/multi",
        200,
        setup=docker_list(child_type=mt.OCI_MANIFEST),
        headers={"Accept": mt.DOCKER_MANIFEST},
        expect_headers={"Docker-Content-Digest": "{amd}", "Content-Type": mt.OCI_MANIFEST},
    ),
    case(
        "docker-list-amd64-schema2-child-not-accepted",
        "GET",
        "/v2/repo/manifests/multi",
        400,
        setup=docker_list(),
        headers={"Accept": mt.OCI_MANIFEST},
        error="MANIFEST_INVALID",
    ),
]

DISCOVERY = [
    case(
        "tags-list",
        "GET",
        "/v2/repo/tags/list",
        200,
        setup=tags("b", "a", "c"),
        expect_json={"name": "repo", "tags": ["a", "b", "c"]},
        absent_headers=("Link",),
    ),
    case("tags-list-unknown-repo", "GET", "/v2/nope/tags/list", 404, error="NAME_UNKNOWN"),
    case(
        "tags-list-empty-is-list",
        "GET",
        "/v2/repo/tags/list",
        200,
        setup=blob,
        expect_json={"name": "repo", "tags": []},
    ),
    case(
        "tags-list-n",
        "GET",
        "/v2/repo/tags/list",
        200,
        setup=tags("a", "b", "c"),
        params={"n": "2"},
        expect_json={"name": "repo", "tags": ["a", "b"]},
        expect_headers={"Link": '</v2/repo/tags/list?last=b&n=2>; rel="next"'},
    ),
    case(
        "tags-list-n-last",
        "GET",
        "/v2/repo/tags/list",
        200,
        setup=tags("a", "b", "c"),
        params={"n": "2", "last": "b"},
        expect_json={"name": "repo", "tags": ["c"]},
        absent_headers=("Link",),
    ),
    case(
        "tags-list-last-need-not-exist",
        "GET",
        "/v2/repo/tags/list",
        200,
        setup=tags("a", "c"),
        params={"last": "b"},
        expect_json={"name": "repo", "tags": ["c"]},
    ),
    case(
        "tags-list-n-zero",
        "GET",
        "/v2/repo/tags/list",
        200,
        setup=tags("a"),
        params={"n": "0"},
        expect_json={"name": "repo", "tags": []},
        absent_headers=("Link",),
    ),
    case(
        "tags-list-n-exact-no-link",
        "GET",
        "/v2/repo/tags/list",
        200,
        setup=tags("a", "b"),
        params={"n": "2"},
        absent_headers=("Link",),
    ),
    case(
        "tags-list-n-invalid",
        "GET",
        "/v2/repo/tags/list",
        400,
        setup=tags("a"),
        params={"n": "-1"},
        error="PAGINATION_NUMBER_INVALID",
    ),
    case(
        "tags-list-n-not-number",
        "GET",
        "/v2/repo/tags/list",
        400,
        setup=tags("a"),
        params={"n": "ten"},
        error="PAGINATION_NUMBER_INVALID",
    ),
    case(
        "catalog",
        "GET",
        "/v2/_catalog",
        200,
        setup=repos("b", "a/x", "a"),
        expect_json={"repositories": ["a", "a/x", "b"]},
    ),
    case(
        "catalog-paged",
        "GET",
        "/v2/_catalog",
        200,
        setup=repos("b", "a", "c"),
        params={"n": "1", "last": "a"},
        expect_json={"repositories": ["b"]},
        expect_headers={"Link": '</v2/_catalog?last=b&n=1>; rel="next"'},
    ),
    case(
        "catalog-n-invalid",
        "GET",
        "/v2/_catalog",
        400,
        params={"n": "x"},
        error="PAGINATION_NUMBER_INVALID",
    ),
    case(
        "referrers",
        "GET",
        "/v2/repo/referrers/{subject}",
        200,
        setup=referrers,
        expect_headers={"Content-Type": mt.OCI_INDEX},
        absent_headers=("OCI-Filters-Applied",),
        expect_json={
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                {
                    "mediaType": mt.OCI_MANIFEST,
                    "digest": "{sig}",
                    "size": ANY,
                    "artifactType": "application/vnd.example.sig",
                    "annotations": {"k": "v"},
                },
                {
                    "mediaType": mt.OCI_MANIFEST,
                    "digest": "{sbom}",
                    "size": ANY,
                    "artifactType": "application/spdx+json",
                },
            ],
        },
    ),
    case(
        "referrers-filtered",
        "GET",
        "/v2/repo/referrers/{subject}",
        200,
        setup=referrers,
        params={"artifactType": "application/spdx+json"},
        expect_headers={"OCI-Filters-Applied": "artifactType"},
        expect_json={
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                {
                    "mediaType": mt.OCI_MANIFEST,
                    "digest": "{sbom}",
                    "size": ANY,
                    "artifactType": "application/spdx+json",
                }
            ],
        },
    ),
    case(
        "referrers-none",
        "GET",
        f"/v2/repo/referrers/{MISSING}",
        200,
        setup=referrers,
        expect_json={"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []},
    ),
    case(
        "referrers-unknown-repo",
        "GET",
        f"/v2/nope/referrers/{MISSING}",
        200,
        expect_json={"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []},
    ),
    case(
        "referrers-bad-digest", "GET", "/v2/repo/referrers/sha256:zz", 400, error="DIGEST_INVALID"
    ),
    case(
        "referrers-disabled",
        "GET",
        "/v2/repo/referrers/{subject}",
        404,
        setup=referrers,
        options={"referrers": False},
    ),
    case(
        "referrers-gone-after-delete",
        "GET",
        "/v2/repo/referrers/{subject}",
        200,
        setup=lambda http: (
            found := referrers(http),
            http.delete(f"/v2/repo/manifests/{found['sig']}"),
        )[0],
        expect_json={
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                {
                    "mediaType": mt.OCI_MANIFEST,
                    "digest": "{sbom}",
                    "size": ANY,
                    "artifactType": "application/spdx+json",
                }
            ],
        },
    ),
]


def matches(expected: Any, actual: Any, found: Vars) -> bool:
    if expected is ANY:
        return True
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(matches(v, actual[k], found) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(e, a, found) for e, a in zip(expected, actual, strict=True))
        )
    return bool(fmt(expected, found) == actual)


@pytest.mark.parametrize("row", [*GENERAL, *BLOBS, *UPLOADS, *MANIFESTS, *NEGOTIATION, *DISCOVERY])
def test_api(row: Case, make_registry: RegistryFactory) -> None:
    registry = make_registry(**row.options)
    with httpx.Client(base_url=registry.url, timeout=30) as http:
        found = row.setup(http)
        body = row.body(found) if callable(row.body) else row.body
        headers = {k: fmt(v, found) for k, v in row.headers.items()}
        response = http.request(
            row.method, fmt(row.path, found), params=row.params, headers=headers, content=body
        )
        assert response.status_code == row.status, response.text
        assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
        for name, value in row.expect_headers.items():
            assert name in response.headers, f"missing {name}"
            if value is not ANY:
                assert response.headers[name] == fmt(value, found), name
        for name in row.absent_headers:
            assert name not in response.headers, f"unexpected {name}"
        if row.error is not None:
            assert response.headers["Content-Type"].startswith("application/json")
            entries = response.json()["errors"]
            assert entries[0]["code"] == row.error, entries
            assert isinstance(entries[0]["message"], str)
        if row.expect_body is not None:
            expected = row.expect_body(found) if callable(row.expect_body) else row.expect_body
            assert response.content == expected
        if row.expect_json is not None:
            assert matches(row.expect_json, json.loads(response.content), found), response.text
        if row.after is not None:
            row.after(http, found)
