"""The pure rules at the bottom: digests, media types, repository names, tags, references."""

from __future__ import annotations

import pytest

from fakeregistry.registry.storage import Blob, BlobWriter
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.digest import Digest, DigestError, compute
from fakeregistry.rules.errors import ErrorCode, RegistryError
from fakeregistry.rules.reference import (
    ImageReference,
    ImageReferenceError,
    is_valid_repository,
    is_valid_tag,
    split_reference,
)
from fakeregistry.rules.scope import Scope, ScopeError, covers, merge_scopes, parse_scopes

HEX64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        pytest.param(f"sha256:{HEX64}", True, id="sha256"),
        pytest.param("sha512:" + "0" * 128, True, id="sha512"),
        pytest.param("sha256:" + "0" * 63, False, id="sha256-short"),
        pytest.param("sha256:" + "0" * 65, False, id="sha256-long"),
        pytest.param("sha512:" + "0" * 64, False, id="sha512-with-sha256-length"),
        pytest.param("sha256:" + HEX64.upper(), False, id="uppercase-hex"),
        pytest.param("md5:" + "0" * 32, False, id="unregistered-algorithm"),
        pytest.param(HEX64, False, id="no-algorithm"),
        pytest.param("sha256:", False, id="no-encoded"),
        pytest.param(f"SHA256:{HEX64}", False, id="uppercase-algorithm"),
        pytest.param(f" sha256:{HEX64}", False, id="leading-space"),
        pytest.param("", False, id="empty"),
    ],
)
def test_digest_parse(text: str, valid: bool) -> None:
    assert Digest.is_valid(text) is valid
    if valid:
        assert str(Digest.parse(text)) == text
    else:
        with pytest.raises(DigestError):
            Digest.parse(text)


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_digest_compute_and_match(algorithm: str) -> None:
    digest = compute(b"", algorithm)
    assert digest.algorithm == algorithm
    assert digest.matches(b"")
    assert not digest.matches(b"x")
    if algorithm == "sha256":
        assert digest.encoded == HEX64


@pytest.mark.parametrize(
    ("pieces", "expected_chunks"),
    [
        pytest.param([b"a" * 10] * 3, 1, id="small-pieces-coalesce"),
        pytest.param([b"a" * 70000, b"b" * 70000], 2, id="large-pieces-kept"),
        pytest.param([b"a" * 10, b"b" * 70000], 1, id="small-then-large-coalesce"),
        pytest.param([b""], 0, id="empty"),
    ],
)
def test_blob_writer(pieces: list[bytes], expected_chunks: int) -> None:
    writer = BlobWriter()
    for piece in pieces:
        writer.write(piece)
    chunks = writer.finish()
    assert len(chunks) == expected_chunks
    assert b"".join(chunks) == b"".join(pieces)
    assert writer.hasher.hexdigest() == compute(b"".join(pieces)).encoded


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(0, None, id="whole"),
        pytest.param(3, 7, id="inside-first-chunk"),
        pytest.param(4, 9, id="across-chunks"),
        pytest.param(10, 11, id="last-byte"),
        pytest.param(11, None, id="past-end"),
        pytest.param(5, 99, id="end-clamped"),
    ],
)
def test_blob_range(start: int, end: int | None) -> None:
    data = b"0123456789A"
    blob = Blob("sha256:x", [data[:5], data[5:8], data[8:]])
    assert b"".join(bytes(p) for p in blob.iter_range(start, end)) == data[start:end]


@pytest.mark.parametrize(
    ("name", "strict", "sparse"),
    [
        pytest.param("library/debian", True, True, id="two-components"),
        pytest.param("a", True, True, id="one-char"),
        pytest.param("a.b_c__d-e---f", True, True, id="all-separators"),
        pytest.param("a/b/c/d", True, True, id="deep"),
        pytest.param("a/blobs/uploads", True, True, id="route-words"),
        pytest.param("Library/debian", False, True, id="uppercase"),
        pytest.param("a___b", False, True, id="triple-underscore"),
        pytest.param("a.-b", False, True, id="mixed-separators"),
        pytest.param("-a", False, True, id="leading-dash"),
        pytest.param("a/", False, False, id="trailing-slash"),
        pytest.param("a//b", False, False, id="empty-component"),
        pytest.param("", False, False, id="empty"),
        pytest.param("a b", False, False, id="space"),
        pytest.param("a" * 255, True, True, id="255-chars"),
        pytest.param("a" * 256, False, False, id="256-chars"),
    ],
)
def test_repository_names(name: str, strict: bool, sparse: bool) -> None:
    assert is_valid_repository(name) is strict
    assert is_valid_repository(name, strict=False) is sparse


@pytest.mark.parametrize(
    ("tag", "valid"),
    [
        pytest.param("latest", True, id="latest"),
        pytest.param("v1.0.0-rc_1", True, id="semver"),
        pytest.param("_underscore", True, id="leading-underscore"),
        pytest.param("A" * 128, True, id="128-chars"),
        pytest.param("A" * 129, False, id="129-chars"),
        pytest.param(".hidden", False, id="leading-dot"),
        pytest.param("-dash", False, id="leading-dash"),
        pytest.param("a:b", False, id="colon"),
        pytest.param("a/b", False, id="slash"),
        pytest.param("", False, id="empty"),
    ],
)
def test_tags(tag: str, valid: bool) -> None:
    assert is_valid_tag(tag) is valid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("debian", "docker.io/library/debian:latest", id="official-image"),
        pytest.param("debian:jessie", "docker.io/library/debian:jessie", id="official-tag"),
        pytest.param("estesp/debian:jessie", "docker.io/estesp/debian:jessie", id="user-repo"),
        pytest.param("index.docker.io/debian", "docker.io/library/debian:latest", id="legacy"),
        pytest.param("localhost/x", "localhost/x:latest", id="localhost"),
        pytest.param("127.0.0.1:5000/ns/repo:v1", "127.0.0.1:5000/ns/repo:v1", id="host-port"),
        pytest.param(
            f"host:5000/repo@sha256:{HEX64}",
            f"host:5000/repo@sha256:{HEX64}",
            id="by-digest",
        ),
        pytest.param(
            f"repo:tag@sha256:{HEX64}",
            f"docker.io/library/repo:tag@sha256:{HEX64}",
            id="tag-and-digest",
        ),
    ],
)
def test_image_reference(text: str, expected: str) -> None:
    assert str(ImageReference.parse(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("Debian", id="uppercase"),
        pytest.param("repo:.bad", id="bad-tag"),
        pytest.param("repo@sha256:abc", id="bad-digest"),
        pytest.param(" repo", id="space"),
    ],
)
def test_image_reference_invalid(text: str) -> None:
    with pytest.raises(ImageReferenceError):
        ImageReference.parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("app", ("app", None, None), id="name"),
        pytest.param("team/app:1.0", ("team/app", "1.0", None), id="tag"),
        pytest.param("localhost:5000/app", ("localhost:5000/app", None, None), id="port-not-tag"),
        pytest.param(
            "localhost:5000/app:v1", ("localhost:5000/app", "v1", None), id="port-and-tag"
        ),
        pytest.param("app@sha256:abc", ("app", None, "sha256:abc"), id="digest"),
        pytest.param("app:1@sha256:abc", ("app", "1", "sha256:abc"), id="tag-and-digest"),
        pytest.param("app:", ("app", "", None), id="empty-tag"),
        pytest.param("", ("", None, None), id="empty"),
    ],
)
def test_split_reference(text: str, expected: tuple[str, str | None, str | None]) -> None:
    assert split_reference(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("repository:a/b:push,pull", "repository:a/b:pull,push", id="ordered"),
        pytest.param("repository:a:pull,pull,", "repository:a:pull", id="repeats-and-empty"),
        pytest.param("repository:host:5000/a:pull", "repository:host:5000/a:pull", id="port"),
        pytest.param("registry:catalog:*", "registry:catalog:*", id="catalog"),
        pytest.param("repository(plugin):a:pull", "repository(plugin):a:pull", id="class"),
        pytest.param("repository:a:", "repository:a:", id="no-actions"),
    ],
)
def test_scope_parse_and_format(text: str, expected: str) -> None:
    scope = Scope.parse(text)
    assert str(scope) == expected
    assert Scope.parse(str(scope)) == scope


@pytest.mark.parametrize("text", ["", "repository", "repository:a", ":a:pull"])
def test_scope_invalid(text: str) -> None:
    with pytest.raises(ScopeError):
        Scope.parse(text)


def test_scope_merge_parse_and_covers() -> None:
    found = parse_scopes(["repository:b:pull repository:a:push", "junk", "repository:a:pull"])
    merged = merge_scopes(found)
    assert [str(s) for s in merged] == ["repository:a:pull,push", "repository:b:pull"]
    assert covers(merged, [Scope.repository("a", "push"), Scope.repository("b", "pull")])
    assert not covers(merged, [Scope.repository("b", "push")])
    assert not covers([Scope.repository("c", "*")], [Scope.repository("c", "pull")])
    assert covers([Scope.repository("c", "*")], [Scope.repository("c", "pull")], wildcard=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param([], set(), id="none"),
        pytest.param([mt.OCI_MANIFEST], {mt.OCI_MANIFEST}, id="one"),
        pytest.param(
            [f"{mt.OCI_MANIFEST};q=0.9, {mt.OCI_INDEX}", mt.DOCKER_MANIFEST],
            {mt.OCI_MANIFEST, mt.OCI_INDEX, mt.DOCKER_MANIFEST},
            id="split-and-params-dropped",
        ),
        pytest.param([" , ,"], set(), id="empty-parts"),
    ],
)
def test_accepted_types(headers: list[str], expected: set[str]) -> None:
    assert mt.accepted_types(headers) == expected


# -- one root for the errors the library raises on purpose ------------------------------------


def _error_classes() -> list[type[BaseException]]:
    from fakeregistry.client import RegistryClientError
    from fakeregistry.engine.pull import PullError
    from fakeregistry.engine.selection import NoMatchingManifest
    from fakeregistry.platforms.platform import PlatformError
    from fakeregistry.rules.digest import DigestError
    from fakeregistry.rules.errors import FeatureUnavailable, RegistryError
    from fakeregistry.rules.reference import ImageReferenceError
    from fakeregistry.tools.manifesttool import ManifestToolError
    from fakeregistry.tools.seed import SeedError
    from fakeregistry.trust.errors import TrustError

    return [
        RegistryError, FeatureUnavailable, RegistryClientError, PullError, NoMatchingManifest,
        PlatformError, DigestError, ImageReferenceError, ManifestToolError, SeedError, TrustError,
    ]  # fmt: skip


@pytest.mark.parametrize("error", _error_classes(), ids=lambda e: e.__name__)
def test_every_library_error_shares_one_root(error: type[BaseException]) -> None:
    from fakeregistry.rules.errors import FakeRegistryError

    assert issubclass(error, FakeRegistryError)


@pytest.mark.parametrize("code", list(ErrorCode), ids=str)
def test_error_table_row(code: ErrorCode) -> None:
    """Each code is one row: wire value, a 4xx/5xx status and the spec's message."""
    assert code.value == code.name
    assert 400 <= code.status < 600
    assert code.message
    assert code.message == code.message.strip()
    assert RegistryError(code).status == code.status
