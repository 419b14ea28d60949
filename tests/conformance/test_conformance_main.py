"""Conformance on distribution-spec ``main`` ("conformance v2", ``conformance/run.go``
``TestAll``): every leaf check of the Go runner's tree, in its order, as one pytest test.

Test ids are the Go result names (``ChildRun`` paths under "OCI Conformance Test"), prefixed
with the configuration: ``1.1`` is the default of ``OCI_VERSION``; ``1.1+dev`` also turns on
upload cancel, required ``Docker-Content-Digest`` headers and ``?tag=`` parameters on manifest
push. Every API, both repositories (``repo2`` for mounts) and every data type but ``sparse``
(off by default in both) are on, including sha512 blobs and manifests and the referrers API.

Each configuration runs against its own registry, shared by its checks in order. A check the
Go runner would record as skipped (``errRegUnsupported``: the registry took an allowed
alternative such as 202 instead of an optional 201; or an API the configuration disables) is a
pytest skip here, with the Go message.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.conformance import v2
from tests.conformance.v2 import (
    BAD_DIGEST_TESTS,
    BLOB_API_TESTS,
    BLOB_API_TESTS_CHUNKED,
    DATA_PHASES,
    DATA_TESTS,
    RANGE_TESTS,
    SHA256,
    SHA512,
    BlobGroup,
    Config,
    Disabled,
    Outcome,
    Runner,
    TestData,
    Unsupported,
    expect_status,
)
from tests.conftest import STORES

# Data sets that carry artifacts with a ``subject`` (the only ones with a "referrers" node).
REFERRER_DATA = {"artifacts-with-subject", "index-with-subject", "missing-subject"}


@pytest.fixture(scope="module", params=STORES)
def runners(request: pytest.FixtureRequest) -> Iterator[dict[str, Runner]]:
    """One registry and runner per configuration and store, created on first use."""
    store = str(request.param)
    with ExitStack() as stack:

        class Lazy(dict[str, Runner]):
            def __missing__(self, version: str) -> Runner:
                runner = self[version] = stack.enter_context(v2.start_runner(version, store))
                return runner

        yield Lazy()


def enabled_data_tests(config: Config) -> list[str]:
    """The data sets run.go ``GenerateData`` enables for ``config``."""
    names = []
    for name in DATA_TESTS:
        if name == "sparse" and not config.data_sparse:
            continue  # Data.Sparse is false by default
        if name == "sha512" and not config.data_sha512:
            continue
        if name.startswith("tag-param") and not config.manifests_tag_param:
            continue
        if name == "tag-param-sha512" and not config.data_sha512:
            continue
        names.append(name)
    return names


def _ids(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"{version}:{name}" for version, name in pairs]


# -- ping and empty repository ------------------------------------------------------------------


@pytest.mark.parametrize("version", v2.VERSIONS)
def test_ping(runners: dict[str, Runner], version: str) -> None:
    """run.go ``TestPing`` ("OCI Conformance Test/ping"): ``GET /v2/`` is answered (the Go
    check sets no expectation on the status)."""
    runners[version].api.ping()


EMPTY_STEPS = [(version, name) for version in v2.VERSIONS for name in ("tag list", "referrers")]


@pytest.mark.parametrize(("version", "name"), EMPTY_STEPS, ids=_ids(EMPTY_STEPS))
def test_empty(runners: dict[str, Runner], version: str, name: str) -> None:
    """run.go ``TestEmpty`` ("empty/tag list", "empty/referrers"): before anything is pushed,
    the tag list of repo1 is 200 with JSON or 404; the referrers of a random digest are 200 with
    ``Content-Type`` and body an OCI index (``mediaType``, ``schemaVersion`` 2)."""
    runner = runners[version]
    if name == "tag list":
        runner.api.tag_list(runner.repo)
    else:
        runner.api.referrers_list(runner.repo, v2.digest_of(v2.rand_text().encode()))


# -- blob APIs, per digest algorithm --------------------------------------------------------------


def _blob_steps(version: str) -> list[str]:
    config = Config.for_version(version)
    algos = [SHA256, SHA512] if config.data_sha512 else [SHA256]
    steps = []
    for algo in algos:
        prefix = f"{algo} blobs"
        steps.append(f"{prefix}/get-missing")
        steps += [f"{prefix}/{name}" for name in BLOB_API_TESTS + BLOB_API_TESTS_CHUNKED]
        steps += [f"{prefix}/range requests/{name}" for name in RANGE_TESTS]
        steps += [f"{prefix}/{name}" for name in ("empty", "emptyJSON")]
        steps += [f"{prefix}/{name}" for name in BAD_DIGEST_TESTS]
    return steps


BLOB_STEPS = [(version, step) for version in v2.VERSIONS for step in _blob_steps(version)]


def _group(runner: Runner, algo: str) -> BlobGroup:
    """``TestBlobAPIs`` preamble: the data set "blobs-<algo>" and a 512 byte blob for each of
    the first eight API tests."""
    group = runner.blob_groups.get(algo)
    if group is None:
        td = TestData(f"Blobs {algo}")
        runner.data[f"blobs-{algo}"] = td
        digests = {}
        for name in BLOB_API_TESTS:
            digests[name], _ = td.gen_blob(v2.gen_with_blob_size(512), v2.gen_with_algo(algo))
        group = runner.blob_groups[algo] = BlobGroup(td, digests)
    return group


def _blob_api_test(runner: Runner, group: BlobGroup, algo: str, name: str) -> None:
    """One iteration of ``TestBlobAPIs``' loop over ``blobAPITests``: push with the API under
    test, HEAD and GET the blob when that succeeded, then delete it (from repo2 too after a
    mount). A mount of a blob ``from`` a repository that lacks it must not succeed (202, then
    the blob is pushed)."""
    out = Outcome()
    td, repo, repo2 = group.td, runner.repo, runner.repo2
    config = runner.config
    if name.startswith("chunked") and name != "chunked single":
        # "generate a blob large enough to span three chunks"
        group.digests[name], _ = td.gen_blob(
            v2.gen_with_blob_size(group.min_chunk_size * 3 - 5), v2.gen_with_algo(algo)
        )
    digest = group.digests[name]
    ok = False
    api = ""
    if name == "post only":
        api = "post only"
        ok = out.run(name, runner.push_blob_with, api, td, repo, digest)
    elif name == "post+put":
        api = "post+put"
        ok = out.run(name, runner.push_blob_with, api, td, repo, digest)
    elif name.startswith("chunked"):
        api = "chunked"
        flags = set()
        if name.endswith("put chunk"):
            flags.add("PutLastChunk")
        if "out-of-order" in name:
            flags.add("OutOfOrderChunks")
        found: list[str] = []

        def chunked() -> None:
            found.append(runner.push_blob_with(api, td, repo, digest, flags))

        ok = out.run(name, chunked)
        if name == "chunked single" and found and found[0].isdigit():
            group.min_chunk_size = max(group.min_chunk_size, int(found[0]))
    elif name == "stream":
        api = "stream"
        ok = out.run(name, runner.push_blob_with, api, td, repo, digest)
    elif name == "post cancel":
        api = "post+put"

        def cancel() -> None:
            if not config.blobs_upload_cancel:
                raise Disabled("api Blob upload cancel is disabled in the configuration")
            runner.api.blob_post_cancel(repo)

        ok = out.run("blob-post-cancel", cancel)
    elif name in ("mount", "mount anonymous"):
        out.run("push to repo2", runner.push_blob_any, td, repo2, digest)

        def mount() -> None:
            if name == "mount anonymous" and not config.blobs_mount_anonymous:
                raise Disabled("api Blob anonymous mount is disabled in the configuration")
            runner.api.blob_mount(repo, repo2 if name == "mount" else "", digest, td)

        ok = out.run(f"blob-{name.replace(' ', '-')}", mount)
    elif name == "mount missing":

        def mount_missing() -> None:
            try:
                runner.api.blob_mount(repo, repo2, digest, td)
            except Unsupported:
                return
            raise AssertionError("blob mount of missing blob incorrectly succeeded")

        ok = out.run("blob-mount", mount_missing)
    else:
        pytest.fail(f"unknown api test {name}")
    if api:
        runner.blob_apis_tested.add(api)
        runner.blob_apis_tested_by_algo.setdefault(algo, set()).add(api)
    if ok and name != "post cancel":
        out.run("blob-head", runner.head_blob, td, repo, digest)
        out.run("blob-get", runner.pull_blob, td, repo, digest)
    out.run("blob-delete", runner.delete_blob, repo, digest)
    if name in ("mount", "mount anonymous"):
        out.run("blob-delete repo2", runner.delete_blob, repo2, digest)
    out.finish()


RANGES: dict[str, tuple[str, Any]] = {
    # name: (Range header, (start, end) of the expected 206 body, or None for 416)
    "range 500-1499": ("bytes=500-1499", (500, 1500)),
    "range 500-": ("bytes=500-", (500, 2048)),
    "range -500": ("bytes=-500", (2048 - 500, 2048)),
    "range 2000-5000": ("bytes=2000-5000", (2000, 2048)),
    "range 500-0": ("bytes=500-0", None),
    "range 5000-10000": ("bytes=5000-10000", None),
}


def _range_test(runner: Runner, group: BlobGroup, algo: str, name: str) -> None:
    """run.go ``TestBlobAPIs`` "range requests": a 2048 byte blob answers ``Range`` with 206,
    the bytes, ``Content-Length`` and ``Content-Range: bytes a-b/2048`` (or ``/*``), and 416
    for unsatisfiable ranges. A plain 200 with the whole blob is "range request unsupported"
    (a skip in the Go runner)."""
    td = group.td
    if name == RANGE_TESTS[0]:
        digest, body = td.gen_blob(v2.gen_with_blob_size(2048), v2.gen_with_algo(algo))
        try:
            runner.push_blob_any(td, runner.repo, digest)
        except (AssertionError, Unsupported) as exc:
            pytest.skip(f"setup failed to push the blob for range requests: {exc}")
        group.range_digest, group.range_body = digest, body
    if group.range_digest is None:
        pytest.skip("the blob for the range requests was not pushed")
    digest, body = group.range_digest, group.range_body
    out = Outcome()
    header, expected = RANGES[name]

    def check() -> None:
        response = runner.api.blob_get(runner.repo, digest, headers=[("Range", header)])
        if (
            response.status_code == 200
            and response.content == body
            and response.headers.get("Content-Length") == str(len(body))
        ):
            raise Unsupported("range request unsupported, full blob returned")
        if expected is None:
            expect_status(response, 416)
            return
        start, end = expected
        v2.expect_body(response, body[start:end])
        expect_status(response, 206)
        v2.expect_header(response, "Content-Length", str(end - start))
        content_range = response.headers.get_list("Content-Range")
        assert (
            f"bytes {start}-{end - 1}/{len(body)}" in content_range
            or f"bytes {start}-{end - 1}/*" in content_range
        ), f"Content-Range {content_range}"

    out.run(name, check)
    if name == RANGE_TESTS[-1]:
        out.run("blob-delete", runner.delete_blob, runner.repo, digest)
    out.finish()


def _well_known_test(runner: Runner, group: BlobGroup, algo: str, name: str) -> None:
    """run.go ``TestBlobAPIs`` well known blob contents: the empty blob (``Data.EmptyBlob``)
    and ``{}`` are pushed, HEAD, GET and deleted."""
    data = b"" if name == "empty" else b"{}"
    if name == "empty" and not runner.config.data_empty_blob:
        pytest.skip("data type emptyBlob is disabled in the configuration")
    td = group.td
    digest = v2.digest_of(data, algo)
    td.blobs[digest] = data
    out = Outcome()
    out.run("push", runner.push_blob_any, td, runner.repo, digest)
    out.run("blob-head", runner.head_blob, td, runner.repo, digest)
    out.run("blob-get", runner.pull_blob, td, runner.repo, digest)
    out.run("blob-delete", runner.delete_blob, runner.repo, digest)
    out.finish()


BAD_DIGEST_API = {
    "bad digest post only": "post only",
    "bad digest post+put": "post+put",
    "bad digest chunked": "chunked",
    # run.go passes the same options as "bad digest chunked" (no PutLastChunk).
    "bad digest chunked and put chunk": "chunked",
    "bad digest stream": "stream",
}


def _bad_digest_test(runner: Runner, group: BlobGroup, algo: str, name: str) -> None:
    """run.go ``TestBlobAPIs`` "test the various blob push APIs with a bad digest": the body has
    "oh no" appended after its digest was taken; the closing request must be 400 (the POST of
    post-only may instead be 202, then the PUT must be 400)."""
    td = group.td
    if name == BAD_DIGEST_TESTS[0]:
        for test in BAD_DIGEST_TESTS:
            digest, _ = td.gen_blob(
                v2.gen_with_blob_size(group.min_chunk_size * 3 - 5), v2.gen_with_algo(algo)
            )
            td.blobs[digest] += b"oh no"  # corrupt the blob bytes
            group.digests[test] = digest
    out = Outcome()
    out.run(
        name,
        runner.push_blob_with,
        BAD_DIGEST_API[name],
        td,
        runner.repo,
        group.digests[name],
        {"ExpectBadDigest"},
    )
    out.finish()


@pytest.mark.parametrize(("version", "step"), BLOB_STEPS, ids=_ids(BLOB_STEPS))
def test_blobs(runners: dict[str, Runner], version: str, step: str) -> None:
    """run.go ``TestBlobAPIs`` for sha256 and sha512 ("<algo> blobs/..."): get-missing (404),
    each blob push API (post only, post+put, chunked with one chunk, several chunks, the last
    one by PUT, out-of-order chunks answered 416 and recovered with a GET that is 204 with
    ``Range: 0-<last byte>``, streamed PATCH, mount from repo2, anonymous mount, mount of a blob
    repo2 lacks, upload cancel), range requests, the empty and ``{}`` blobs, and bad digests.
    See the helpers for each branch."""
    runner = runners[version]
    algo, _, name = step.partition(" blobs/")
    group = _group(runner, algo)
    if name == "get-missing":
        response = runner.api.blob_get(runner.repo, group.digests["post cancel"])
        expect_status(response, 404)
    elif name.startswith("range requests/"):
        _range_test(runner, group, algo, name.removeprefix("range requests/"))
    elif name in ("empty", "emptyJSON"):
        _well_known_test(runner, group, algo, name)
    elif name.startswith("bad digest"):
        _bad_digest_test(runner, group, algo, name)
    else:
        _blob_api_test(runner, group, algo, name)


# -- data sets ------------------------------------------------------------------------------------


def _data_steps(version: str) -> list[str]:
    steps = []
    for name in DATA_TESTS:
        for phase in DATA_PHASES:
            if phase == "referrers" and name not in REFERRER_DATA:
                continue  # run.go TestReferrers adds no node without referrers
            steps.append(f"{name}/{phase}")
    return steps


DATA_STEPS = [(version, step) for version in v2.VERSIONS for step in _data_steps(version)]


def _push(runner: Runner, td: TestData, out: Outcome) -> None:
    """run.go ``TestPush``: every blob (any API), every manifest by digest in order (201, a
    Location serving the bytes, ``OCI-Subject`` for a subject, 400 for the bad-digest image,
    ``OCI-Tag`` for ``?tag=``), then every tag."""
    for digest in td.blobs:
        flags = td.push_opts.get(digest)
        out.run(f"push blob {digest}", runner.push_blob_any, td, runner.repo, digest, flags)
    for i, digest in enumerate(td.man_order):
        out.run(f"push manifest {i} {digest}", runner.push_manifest_digest, td, runner.repo, digest)
    for tag, digest in td.tags.items():
        out.run(f"push manifest tag {tag}", runner.push_manifest_tag, td, runner.repo, tag, digest)


def _tag_list(runner: Runner, td: TestData, out: Outcome) -> None:
    """run.go ``TestList``: every tag of the data set is listed; with two or more tags, ``?last=``
    set to the middle one (in sorted order) leaves out that half and keeps the rest."""
    tags = runner.api.tag_list(runner.repo)
    for tag in td.tags:
        if tag not in tags:
            out.fail(f"missing tag {tag!r} from listing {tags}")
    if len(tags) >= 2:
        ordered = sorted(tags)
        end = len(ordered) // 2
        last = ordered[end - 1]
        partial = runner.api.tag_list(runner.repo, last=last)
        for tag in ordered[:end]:
            if tag in partial:
                out.fail(f"tag {tag!r} returned when last set to {last!r}")
        for tag in ordered[end:]:
            if tag not in partial:
                out.fail(f"tag {tag!r} missing when last set to {last!r}")


def _head(runner: Runner, td: TestData, out: Outcome) -> None:
    """run.go ``TestHead``: HEAD of each tag and manifest digest (200, no body, the manifest's
    ``Content-Type`` and ``Content-Length``, matching ``Docker-Content-Digest``) and of each
    blob (200, ``Content-Length``)."""
    require = runner.config.manifests_digest_header
    for tag, digest in td.tags.items():
        if "SkipPullTest" not in td.pull_opts.get(digest, set()):
            out.run(
                f"manifest-head-by-tag {tag}",
                runner.api.manifest_head_exists,
                runner.repo,
                tag,
                digest,
                td,
                require,
            )
    for digest in td.man_order:
        if "SkipPullTest" not in td.pull_opts.get(digest, set()):
            out.run(
                f"manifest-head-by-digest {digest}",
                runner.api.manifest_head_exists,
                runner.repo,
                digest,
                digest,
                td,
                require,
            )
    for digest in td.blobs:
        out.run(f"blob-head {digest}", runner.head_blob, td, runner.repo, digest)


def _pull(runner: Runner, td: TestData, out: Outcome) -> None:
    """run.go ``TestPull``: GET of each tag and manifest digest (200, the exact bytes, their
    ``Content-Type`` and ``Content-Length``) and of each blob."""
    require = runner.config.manifests_digest_header
    for tag, digest in td.tags.items():
        if "SkipPullTest" not in td.pull_opts.get(digest, set()):
            out.run(
                f"manifest-by-tag {tag}",
                runner.api.manifest_get_exists,
                runner.repo,
                tag,
                digest,
                td,
                require,
            )
    for digest in td.man_order:
        if "SkipPullTest" not in td.pull_opts.get(digest, set()):
            out.run(
                f"manifest-by-digest {digest}",
                runner.api.manifest_get_exists,
                runner.repo,
                digest,
                digest,
                td,
                require,
            )
    for digest in td.blobs:
        out.run(f"blob-get {digest}", runner.pull_blob, td, runner.repo, digest)


def _matches(entry: dict[str, Any], goal: dict[str, Any]) -> bool:
    annotations = entry.get("annotations") or {}
    return (
        entry.get("digest") == goal["digest"]
        and entry.get("mediaType") == goal["mediaType"]
        and entry.get("size") == goal["size"]
        and (entry.get("artifactType") or "") == goal["artifactType"]
        and all(annotations.get(k) == v for k, v in goal["annotations"].items())
    )


def _referrers(runner: Runner, td: TestData, out: Outcome) -> None:
    """run.go ``TestReferrers``: for each subject, every expected referrer is listed (digest,
    media type, size, artifactType, annotations); filtered by each artifactType, the registry
    sets ``OCI-Filters-Applied: artifactType`` (else "unsupported") and returns those referrers
    and no others."""
    assert td.referrers, "data set without referrers"
    for subject, goals in td.referrers.items():

        def listed(subject: str = subject, goals: list[dict[str, Any]] = goals) -> None:
            _, index = runner.api.referrers_list(runner.repo, subject)
            for goal in goals:
                assert any(_matches(e, goal) for e in index["manifests"]), (
                    f"entry missing from referrers list, subject {subject}, referrer {goal}"
                )

        out.run(f"referrers {subject}", listed)
        for artifact_type in dict.fromkeys(goal["artifactType"] for goal in goals):

            def filtered(
                subject: str = subject, goals: list[dict[str, Any]] = goals, at: str = artifact_type
            ) -> None:
                response, index = runner.api.referrers_list(runner.repo, subject, artifactType=at)
                header = response.headers.get("OCI-Filters-Applied", "")
                applied = any(f.strip() == "artifactType" for f in header.split(","))
                for goal in goals:
                    if (not applied or goal["artifactType"] == at) and not any(
                        _matches(e, goal) for e in index["manifests"]
                    ):
                        raise AssertionError(
                            f"entry missing from referrers list, subject {subject}, referrer {goal}"
                        )
                if not applied:
                    raise Unsupported(
                        "registry does not set the expected OCI-Filters-Applied header for "
                        "the artifactType"
                    )
                for entry in index["manifests"]:
                    assert (entry.get("artifactType") or "") == at, (
                        f"referrers filter for artifactType {at} included descriptor {entry}"
                    )

            out.run(f"referrers {subject} artifactType={artifact_type}", filtered)


def _delete(runner: Runner, td: TestData, out: Outcome) -> None:
    """run.go ``TestDelete``: each pushed tag (DELETE 202, then HEAD 404), each manifest newest
    first (DELETE by digest, then HEAD 404), each blob (DELETE, then HEAD 404). 404 on DELETE is
    accepted; 400/405 is "unsupported"."""
    for tag in td.tags:
        out.run(f"tag-delete {tag}", runner.delete_tag, td, runner.repo, tag)
    for i, digest in enumerate(reversed(td.man_order)):
        out.run(f"manifest-delete {i} {digest}", runner.delete_manifest, runner.repo, digest)
    for digest in td.blobs:
        out.run(f"blob-delete {digest}", runner.delete_blob, runner.repo, digest)


PHASES = {
    "push": _push,
    "tag-list": _tag_list,
    "head": _head,
    "pull": _pull,
    "referrers": _referrers,
    "delete": _delete,
}


@pytest.mark.parametrize(("version", "step"), DATA_STEPS, ids=_ids(DATA_STEPS))
def test_data(runners: dict[str, Runner], version: str, step: str) -> None:
    """run.go ``TestAll``, the loop over ``dataTests`` ("<data set>/<phase>"): push, tag-list,
    head, pull, referrers (for data sets with a subject) and delete, for each data set of
    ``GenerateData``: image, uncompressed image, a ~3.9 MB manifest, index, nested index, empty
    index, artifact, artifact index, artifact without layers, artifacts with a subject, an
    index with a subject, an artifact whose subject is missing, descriptors with ``data``,
    non-distributable layers (not pushed), custom JSON fields, no layers, sha512 content, tag
    parameters (sha256 and sha512, 1.1+dev) and an image whose manifest does not match its
    digest (400)."""
    runner = runners[version]
    name, _, phase = step.partition("/")
    if name not in enabled_data_tests(runner.config):
        pytest.skip(f"data set {name} is disabled in the {version} configuration")
    td = runner.data[name]
    assert name in runner.data_tests
    assert (name in REFERRER_DATA) == bool(td.referrers)
    out = Outcome()
    PHASES[phase](runner, td, out)
    out.finish()


# -- manifest error conditions --------------------------------------------------------------------

ERROR_STEPS = [
    (version, name)
    for version in v2.VERSIONS
    for name in ("missing-manifest/by-digest", "missing-manifest/by-tag", "invalid-digest-format")
]


@pytest.mark.parametrize(("version", "name"), ERROR_STEPS, ids=_ids(ERROR_STEPS))
def test_manifest_errors(runners: dict[str, Runner], version: str, name: str) -> None:
    """run.go ``TestManifestErrors``: GET of a random manifest digest and of a random tag is 404;
    a manifest pushed to ``sha256:baddigeststring`` is 400 and fetching that reference is 404 or
    400; then the data set is deleted like any other."""
    runner = runners[version]
    api, repo = runner.api, runner.repo
    if name == "missing-manifest/by-digest":
        expect_status(api.manifest_get(repo, v2.digest_of(secrets.token_bytes(1024))), 404)
        return
    if name == "missing-manifest/by-tag":
        tag = f"missing-{v2.rand_text().lower()[:20]}"
        expect_status(api.manifest_get(repo, tag), 404)
        return
    td = runner.data["invalid-manifest-digest"] = TestData("Invalid Manifest Digest")
    digest = td.gen_manifest_full(v2.gen_with_layer_count(1))
    out = Outcome()
    for blob in td.blobs:
        out.run(f"push blob {blob}", runner.push_blob_any, td, repo, blob)
    out.run(
        "manifest-put",
        api.manifest_put,
        repo,
        "sha256:baddigeststring",
        digest,
        td,
        runner.config.referrer,
        flags={"ExpectBadDigest"},
    )

    def get_bad() -> None:
        expect_status(api.manifest_get(repo, "sha256:baddigeststring"), 404, 400)

    out.run("manifest-get", get_bad)
    _delete(runner, td, out)
    out.finish()
