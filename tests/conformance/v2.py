"""Support for the port of the conformance suite on distribution-spec ``main`` (the rewrite
known as "conformance v2", ``package main`` in ``conformance/``: run.go, api.go, testdata.go,
config.go, state.go; newest stored versions, e.g. run.go and config.go at 4fc4ecbe, api.go at
25168982, testdata.go at 216c04cd).

The Go runner walks a tree of named checks (``ChildRun``) against ``repo1``/``repo2`` of one
registry: ping, empty listings, every blob API for sha256 and for sha512, then for each
generated data set (images, indexes, artifacts, referrers, sha512 content, ...) push, tag list,
HEAD, GET, referrers and delete, and lastly manifest error cases. A check fails, passes, or is
*skipped* when the registry answered with a documented alternative (``errRegUnsupported``, e.g.
a 202 where a 201 was optional) or the configuration disables the API.

This module holds the request layer (api.go), the data generators (testdata.go) and the runner
steps (run.go); ``test_conformance_main.py`` turns each leaf of the tree into a pytest test.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import secrets
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pytest

from fakeregistry import RegistryOptions, RegistryServer

# -- config.go / testdata.go constants ----------------------------------------------------------

CHUNK_MIN = 1024
MT_EXAMPLE_CONF1 = "application/vnd.example.oci.conformance.v1"
MT_EXAMPLE_CONF2 = "application/vnd.example.oci.conformance.v2"
MT_OCTET_STREAM = "application/octet-stream"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_IMAGE = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MT_OCI_LAYER_PRE = "application/vnd.oci.image.layer.v1."
MT_OCI_LAYER_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_OCI_LAYER_ND = "application/vnd.oci.image.layer.nondistributable.v1.tar"
MT_OCI_LAYER_ND_GZ = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
MT_OCI_EMPTY_JSON = "application/vnd.oci.empty.v1+json"

SHA256 = "sha256"
SHA512 = "sha512"


class Unsupported(Exception):
    """``errRegUnsupported``: the registry took a documented alternative; the Go runner records
    the check as skipped, not failed."""


class Disabled(Exception):
    """``errAPITestDisabled``: the configuration turns the API off."""


def digest_of(data: bytes, algorithm: str = SHA256) -> str:
    """``digest.Algorithm.FromBytes``."""
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


EMPTY_DIGEST = digest_of(b"")


def rand_text() -> str:
    """Go's ``crypto/rand.Text``: 26 characters of the base32 alphabet."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "".join(secrets.choice(alphabet) for _ in range(26))


def go_json(value: Any) -> bytes:
    """``json.Marshal`` of an already Go-ordered value."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# -- config.go ----------------------------------------------------------------------------------


def _env_bool(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "t", "true")


@dataclass(frozen=True)
class Config:
    """config.go ``config`` defaults for a spec version ("1.1" or "1.1+dev"), everything else at
    its default (all data types on except ``sparse``)."""

    version: str
    repo1: str = "conformance/repo1"
    repo2: str = "conformance/repo2"
    blobs_digest_header: bool = False
    blobs_mount_anonymous: bool = True
    blobs_upload_cancel: bool = False
    manifests_digest_header: bool = False
    manifests_tag_param: bool = False
    referrer: bool = True
    data_sha512: bool = True
    data_empty_blob: bool = True
    # OCI_DATA_SPARSE: manifests naming blobs and manifests that were never pushed.
    data_sparse: bool = field(default_factory=lambda: _env_bool("OCI_DATA_SPARSE"))

    @classmethod
    def for_version(cls, version: str) -> Config:
        if version == "1.1+dev":
            return cls(
                version=version,
                blobs_upload_cancel=True,
                blobs_digest_header=True,
                manifests_digest_header=True,
                manifests_tag_param=True,
            )
        if version == "1.1":
            return cls(version=version)
        raise ValueError(f"unsupported config version {version}")


# -- testdata.go --------------------------------------------------------------------------------


@dataclass
class GenOpts:
    """testdata.go ``genOptS``."""

    algo: str = SHA256
    annotations: dict[str, str] | None = None
    annotation_uniq: bool = False
    artifact_type: str = ""
    blob_size: int = 0
    comp: str = "gzip"
    config_bytes: bytes | None = None
    config_media_type: str = ""
    descriptor_media_type: str = ""
    extra_field: bool = False
    layer_bytes: bytes | None = None
    layer_count: int = 0
    layer_media_type: str = ""
    platform: dict[str, str] | None = None
    platforms: list[dict[str, str] | None] | None = None
    set_data: bool = False
    subject: dict[str, Any] | None = None
    tag: str = ""


GenOpt = Callable[[GenOpts], None]


def _apply(opts: GenOpts, more: tuple[GenOpt, ...]) -> GenOpts:
    for opt in more:
        opt(opts)
    return opts


def gen_with_algo(algo: str) -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.algo = algo

    return opt


def gen_with_annotations(annotations: dict[str, str]) -> GenOpt:
    def opt(o: GenOpts) -> None:
        if o.annotations is None:
            o.annotations = annotations
        else:
            o.annotations.update(annotations)

    return opt


def gen_with_annotation_uniq() -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.annotation_uniq = True

    return opt


def gen_with_artifact_type(artifact_type: str) -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.artifact_type = artifact_type

    return opt


def gen_with_compress(comp: str) -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.comp = comp

    return opt


def gen_with_config_bytes(data: bytes) -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.config_bytes = data

    return opt


def gen_with_config_media_type(media_type: str) -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.config_media_type = media_type

    return opt


def gen_with_descriptor_data() -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.set_data = True

    return opt


def gen_with_descriptor_media_type(media_type: str) -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.descriptor_media_type = media_type

    return opt


def gen_with_extra_field() -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.extra_field = True

    return opt


def gen_with_layer_bytes(data: bytes) -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.layer_bytes = data

    return opt


def gen_with_layer_count(count: int) -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.layer_count = count

    return opt


def gen_with_layer_media_type(media_type: str) -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.layer_media_type = media_type

    return opt


def gen_with_platform(platform: dict[str, str]) -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.platform = platform

    return opt


def gen_with_platforms(platforms: list[dict[str, str] | None]) -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.platforms = platforms

    return opt


def gen_with_blob_size(size: int) -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.blob_size = size

    return opt


def gen_with_subject(subject: dict[str, Any]) -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.subject = dict(subject)

    return opt


def gen_with_tag(tag: str) -> GenOpt:
    def opt(o: GenOpts) -> None:
        o.tag = tag

    return opt


AMD64 = {"architecture": "amd64", "os": "linux"}
ARM64 = {"architecture": "arm64", "os": "linux"}


def descriptor_json(desc: Mapping[str, Any]) -> dict[str, Any]:
    """image-spec ``Descriptor`` in struct order, ``omitempty`` fields dropped."""
    out: dict[str, Any] = {
        "mediaType": desc["mediaType"],
        "digest": desc["digest"],
        "size": desc["size"],
    }
    for key in ("urls", "annotations", "data", "platform", "artifactType"):
        value = desc.get(key)
        if value:
            out[key] = dict(sorted(value.items())) if key == "annotations" else value
    return out


def _with_extra_field(document: dict[str, Any], extra: bool) -> dict[str, Any]:
    """testdata.go ``genAddJSONFields``: one more field ``org.<random>`` after the others."""
    if extra:
        document[f"org.{rand_text()}"] = rand_text()
    return document


@dataclass
class TestData:
    """testdata.go ``testData``: one data set's content and what the checks expect of it."""

    __test__ = False  # not a pytest class

    name: str
    tags: dict[str, str] = field(default_factory=dict)
    tag_pushed: dict[str, bool] = field(default_factory=dict)
    desc: dict[str, dict[str, Any]] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[str, bytes] = field(default_factory=dict)
    man_order: list[str] = field(default_factory=list)
    referrers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pull_opts: dict[str, set[str]] = field(default_factory=dict)
    push_opts: dict[str, set[str]] = field(default_factory=dict)

    def _descriptor(self, media_type: str, digest: str, body: bytes, set_data: bool) -> None:
        self.desc[digest] = {"mediaType": media_type, "digest": digest, "size": len(body)}
        if set_data:
            self.desc[digest]["data"] = base64.b64encode(body).decode()

    def add_blob(self, data: bytes, *opts: GenOpt) -> str:
        o = _apply(GenOpts(descriptor_media_type=MT_OCTET_STREAM), opts)
        digest = digest_of(data, o.algo)
        self.blobs[digest] = data
        self._descriptor(o.descriptor_media_type, digest, data, o.set_data)
        return digest

    def gen_blob(self, *opts: GenOpt) -> tuple[str, bytes]:
        o = _apply(GenOpts(blob_size=2048), opts)
        data = secrets.token_bytes(o.blob_size)
        return self.add_blob(data, *opts), data

    def gen_layer(self, file_num: int, *opts: GenOpt) -> tuple[str, str, bytes]:
        """A layer holding one small text file: compressed digest, "uncompressed" digest, body.

        As in testdata.go, the uncompressed buffer is never written, so the uncompressed digest
        (used as the config's diff_id) is that of zero bytes.
        """
        o = _apply(GenOpts(comp="gzip"), opts)
        content = (
            f"Conformance test file contents for file number {file_num}.\n"
            f"Todays lucky number is {secrets.randbelow(2**63 - 1)}\n"
        ).encode()
        tar_buffer = io.BytesIO()
        with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            info = tarfile.TarInfo(f"./conformance-{file_num}.txt")
            info.size = len(content)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(content))
        if o.comp == "gzip":
            body, media_type = gzip.compress(tar_buffer.getvalue(), mtime=0), MT_OCI_LAYER_GZ
        else:
            body, media_type = tar_buffer.getvalue(), MT_OCI_LAYER
        uncompressed = b""
        dig_comp = digest_of(body, o.algo)
        dig_uncomp = digest_of(uncompressed, o.algo)
        self.blobs[dig_comp] = body
        self._descriptor(media_type, dig_comp, body, o.set_data)
        self._descriptor(MT_OCI_LAYER, dig_uncomp, uncompressed, o.set_data)
        return dig_comp, dig_uncomp, body

    def gen_config(
        self, platform: Mapping[str, str], layers: list[str], *opts: GenOpt
    ) -> tuple[str, bytes]:
        o = _apply(GenOpts(config_media_type=MT_OCI_CONFIG), opts)
        document: dict[str, Any] = {"author": "OCI Conformance Test"}
        document.update(_platform_json(platform))
        document["config"] = {}
        document["rootfs"] = {"type": "layers", "diff_ids": list(layers)}
        body = go_json(_with_extra_field(document, o.extra_field))
        digest = digest_of(body, o.algo)
        self.blobs[digest] = body
        self._descriptor(o.config_media_type, digest, body, o.set_data)
        return digest, body

    def _register(
        self, document: dict[str, Any], o: GenOpts, artifact_type: str
    ) -> tuple[str, bytes]:
        body = go_json(_with_extra_field(document, o.extra_field))
        digest = digest_of(body, o.algo)
        self.manifests[digest] = body
        self.man_order.append(digest)
        self._descriptor(document["mediaType"], digest, body, o.set_data)
        if o.subject is not None:
            self.referrers.setdefault(o.subject["digest"], []).append(
                {
                    "mediaType": document["mediaType"],
                    "artifactType": artifact_type,
                    "digest": digest,
                    "size": len(body),
                    "annotations": document.get("annotations") or {},
                }
            )
        if o.tag:
            self.tags[o.tag] = digest
        return digest, body

    def _annotations(self, o: GenOpts) -> dict[str, str] | None:
        annotations = o.annotations
        if o.annotation_uniq:
            annotations = dict(annotations or {})
            annotations[f"org.example.{rand_text()}"] = rand_text()
        return annotations

    def gen_manifest(
        self, config: Mapping[str, Any], layers: Sequence[Mapping[str, Any]], *opts: GenOpt
    ) -> tuple[str, bytes]:
        o = _apply(GenOpts(), opts)
        document: dict[str, Any] = {"schemaVersion": 2, "mediaType": MT_OCI_IMAGE}
        if o.artifact_type:
            document["artifactType"] = o.artifact_type
        document["config"] = descriptor_json(config)
        document["layers"] = [descriptor_json(layer) for layer in layers]
        if o.subject is not None:
            document["subject"] = descriptor_json(o.subject)
        if annotations := self._annotations(o):
            document["annotations"] = dict(sorted(annotations.items()))
        return self._register(document, o, o.artifact_type or config["mediaType"])

    def gen_manifest_full(self, *opts: GenOpt) -> str:
        o = _apply(GenOpts(layer_count=2, platform=AMD64), opts)
        compressed: list[str] = []
        uncompressed: list[str] = []
        for number in range(o.layer_count):
            if not o.layer_media_type or o.layer_media_type.startswith(MT_OCI_LAYER_PRE):
                dig_c, dig_uc, _ = self.gen_layer(number, *opts)
                compressed.append(dig_c)
                uncompressed.append(dig_uc)
            else:
                layer_opts = (gen_with_descriptor_media_type(o.layer_media_type), *opts)
                if o.layer_bytes is not None:
                    digest = self.add_blob(o.layer_bytes, *layer_opts)
                else:
                    digest, _ = self.gen_blob(*layer_opts)
                compressed.append(digest)
                uncompressed.append(digest)
        if not o.config_media_type or o.config_media_type == MT_OCI_CONFIG:
            config, _ = self.gen_config(o.platform or AMD64, uncompressed, *opts)
        else:
            config = self.add_blob(
                o.config_bytes or b"",
                gen_with_descriptor_media_type(o.config_media_type),
                *opts,
            )
        layers = [self.desc[digest] for digest in compressed]
        digest, _ = self.gen_manifest(self.desc[config], layers, *opts)
        return digest

    def gen_index(
        self, platforms: list[dict[str, str] | None], manifests: list[str], *opts: GenOpt
    ) -> tuple[str, bytes]:
        o = _apply(GenOpts(), opts)
        if len(platforms) != len(manifests):
            raise ValueError("genIndex requires the same number of platforms and layers")
        document: dict[str, Any] = {"schemaVersion": 2, "mediaType": MT_OCI_INDEX}
        if o.artifact_type:
            document["artifactType"] = o.artifact_type
        entries = []
        for platform, digest in zip(platforms, manifests, strict=True):
            entry = dict(self.desc[digest])
            if platform is not None:
                entry["platform"] = _platform_json(platform)
            entries.append(descriptor_json(entry))
        document["manifests"] = entries
        if o.subject is not None:
            document["subject"] = descriptor_json(o.subject)
        if annotations := self._annotations(o):
            document["annotations"] = dict(sorted(annotations.items()))
        return self._register(document, o, o.artifact_type)

    def gen_index_full(self, *opts: GenOpt) -> str:
        o = _apply(GenOpts(platforms=[AMD64, ARM64]), opts)
        platforms = o.platforms if o.platforms is not None else [AMD64, ARM64]
        images = []
        for platform in platforms:
            assert platform is not None
            images.append(self.gen_manifest_full(gen_with_platform(platform), *opts))
        digest, _ = self.gen_index(list(platforms), images, *opts)
        return digest


def _platform_json(platform: Mapping[str, str]) -> dict[str, str]:
    """image-spec ``Platform`` in struct order."""
    out = {"architecture": platform["architecture"], "os": platform["os"]}
    if variant := platform.get("variant"):
        out["variant"] = variant
    return out


def detect_media_type(body: bytes) -> str:
    """api.go ``detectMediaType``: the body's ``mediaType``, else the OCI image manifest."""
    try:
        value = json.loads(body).get("mediaType")
    except (ValueError, AttributeError):
        return MT_OCI_IMAGE
    return str(value) if isinstance(value, str) and value else MT_OCI_IMAGE


def detect_subject(body: bytes) -> dict[str, Any] | None:
    """api.go ``detectSubject``."""
    try:
        subject = json.loads(body).get("subject")
    except (ValueError, AttributeError):
        return None
    return dict(subject) if isinstance(subject, dict) else None


# -- api.go -------------------------------------------------------------------------------------


def set_query(url: str, key: str, value: str) -> str:
    """``qa := u.Query(); qa.Set(key, value); u.RawQuery = qa.Encode()`` (keys sorted)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != key]
    query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(sorted(query))))


def add_query(url: str, key: str, value: str) -> str:
    """``apiWithURLParam``: ``params.Add(key, value)`` then ``Encode`` (keys sorted)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), (key, value)]
    return urlunsplit(parts._replace(query=urlencode(sorted(query, key=lambda kv: kv[0]))))


def describe(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url} -> {response.status_code} {response.text[:300]!r}"


def expect_status(response: httpx.Response, *codes: int) -> None:
    """``apiExpectStatus``."""
    assert response.status_code in codes, (
        f"unexpected status code, expected one of {list(codes)}: {describe(response)}"
    )


def expect_header(response: httpx.Response, key: str, value: str = "") -> None:
    """``apiExpectHeader``: present (``value == ""``) or one of its values equal to ``value``."""
    values = response.headers.get_list(key)
    if value == "":
        assert values, f"missing header {key!r}: {describe(response)}"
    else:
        assert value in values, f"header {key!r}: expected {value!r}, received {values}"


def expect_body(response: httpx.Response, body: bytes) -> None:
    """``apiExpectBody``."""
    assert response.content == body, (
        f"body contents mismatch: expected {len(body)} bytes, received {len(response.content)} "
        f"({describe(response)})"
    )


class Api:
    """api.go ``api``: each method sends the requests of one operation and raises
    ``AssertionError`` where the Go code returns an error, :class:`Unsupported` where it returns
    ``errRegUnsupported``."""

    def __init__(self, registry: str) -> None:
        self.registry = registry
        # Like Go's http.DefaultClient: follows redirects, sends no Accept header of its own.
        self.http = httpx.Client(timeout=120, follow_redirects=True)
        del self.http.headers["Accept"]

    def close(self) -> None:
        self.http.close()

    def do(
        self,
        method: str,
        url: str,
        *,
        headers: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
        content_length: int | None = None,
    ) -> httpx.Response:
        """``api.Do``. A body with ``apiWithContentLength`` is sent with that length; a body
        without it goes out the way Go's client sends a body of unknown length, chunked."""
        content: bytes | Iterator[bytes] | None
        if content_length is not None:
            content = body if body is not None else b""
            assert len(content) == content_length
        elif body:
            content = iter([body])
        else:
            content = body
        return self.http.request(method, url, headers=headers or [], content=content)

    def url(self, repo: str, *path: str) -> str:
        return "/".join((self.registry + "/v2", repo, *path))

    @staticmethod
    def verify_digest(response: httpx.Response, digest: str, require: bool) -> None:
        """``VerifyDigest``: ``Docker-Content-Digest`` equals the digest when sent, and must be
        sent under ``RequireDigestHeader``."""
        header = response.headers.get("Docker-Content-Digest", "")
        if not header:
            assert not require, (
                f"registry did not return a Docker-Content-Digest header: {describe(response)}"
            )
        elif digest:
            assert header == digest, (
                f"Docker-Content-Digest header value expected {digest!r}, received {header!r}"
            )

    # -- blobs

    def blob_delete(self, repo: str, digest: str) -> None:
        response = self.do("DELETE", self.url(repo, "blobs", digest))
        expect_status(response, 202, 404, 405)
        if response.status_code == 405:
            raise Unsupported(f"registry returned status {response.status_code}")

    def blob_get(
        self, repo: str, digest: str, headers: list[tuple[str, str]] | None = None
    ) -> httpx.Response:
        return self.do("GET", self.url(repo, "blobs", digest), headers=headers)

    def blob_get_exists_full(
        self, repo: str, digest: str, td: TestData, require_digest: bool
    ) -> None:
        response = self.blob_get(repo, digest)
        expect_status(response, 200)
        value = td.blobs.get(digest)
        if value is not None and (len(value) > 0 or digest == EMPTY_DIGEST):
            expect_body(response, value)
            expect_header(response, "Content-Length", str(len(value)))
        self.verify_digest(response, digest, require_digest)

    def blob_head(self, repo: str, digest: str) -> httpx.Response:
        return self.do("HEAD", self.url(repo, "blobs", digest))

    def blob_head_exists(self, repo: str, digest: str, td: TestData, require_digest: bool) -> None:
        response = self.blob_head(repo, digest)
        expect_status(response, 200)
        expect_body(response, b"")
        value = td.blobs.get(digest)
        if value is not None and (len(value) > 0 or digest == EMPTY_DIGEST):
            expect_header(response, "Content-Length", str(len(value)))
        self.verify_digest(response, digest, require_digest)

    def blob_verify_location(self, url: str, location: str, body: bytes) -> None:
        """``BlobVerifyLocation``: the Location answers GET with the blob."""
        assert location, "location header missing"
        response = self.do("GET", urljoin(url, location))
        expect_body(response, body)
        expect_status(response, 200)

    def blob_mount(self, repo: str, source: str, digest: str, td: TestData) -> None:
        body = td.blobs[digest]
        url = set_query(self.url(repo, "blobs", "uploads/"), "mount", digest)
        if source:
            url = set_query(url, "from", source)
        response = self.do("POST", url)
        expect_status(response, 201, 202)
        location = response.headers.get("Location", "")
        assert location, "blob post did not return a location"
        unsupported = None
        if response.status_code == 202:
            # fallback to post+put
            url = set_query(urljoin(url, location), "digest", digest)
            response = self.do(
                "PUT",
                url,
                headers=[("Content-Type", MT_OCTET_STREAM)],
                body=body,
                content_length=len(body),
            )
            expect_status(response, 201)
            location = response.headers.get("Location", location)
            unsupported = f"registry returned status 202, fell back to blob POST+PUT ({source=})"
        self.verify_digest(response, digest, False)
        self.blob_verify_location(url, location, body)
        if unsupported:
            raise Unsupported(unsupported)

    def blob_patch_chunked(
        self, repo: str, digest: str, td: TestData, flags: set[str], require_digest: bool
    ) -> str:
        """``BlobPatchChunked``; returns the ``OCI-Chunk-Min-Length`` the POST answered."""
        body = td.blobs[digest]
        bad = "ExpectBadDigest" in flags
        url = self.url(repo, "blobs", "uploads/")
        response = self.do("POST", url, content_length=0)
        expect_status(response, 202)
        min_str = str(response.headers.get("OCI-Chunk-Min-Length", ""))
        location = response.headers.get("Location", "")
        chunk_size = len(body) // 3 + 1
        if min_str and int(min_str) > chunk_size:
            chunk_size = int(min_str)
        chunk_size = min(max(chunk_size, CHUNK_MIN), len(body))
        last_byte = -1
        final: httpx.Response | None = None
        while last_byte < len(body) - 1:
            if "OutOfOrderChunks" in flags:
                assert location, "blob request did not return a location"
                url = urljoin(url, location)
                # send an out of order chunk, skipping ahead or back to the beginning
                bad_start = last_byte + 1 + chunk_size
                if bad_start >= len(body):
                    bad_start = 0
                bad_last = min(bad_start + chunk_size - 1, len(body) - 1)
                method, chunk_url = "PATCH", url
                if "PutLastChunk" in flags and bad_last == len(body) - 1:
                    method, chunk_url = "PUT", set_query(url, "digest", digest)
                    url = chunk_url
                response = self.do(
                    method,
                    chunk_url,
                    headers=[
                        ("Content-Type", MT_OCTET_STREAM),
                        ("Content-Range", f"{bad_start}-{bad_last}"),
                    ],
                    body=body[bad_start : bad_last + 1],
                    content_length=bad_last - bad_start + 1,
                )
                expect_status(response, 416)
                location = response.headers.get("Location") or location
                # recover with a GET request to find the new location/range
                response = self.do("GET", url)
                expect_status(response, 204)
                location = response.headers.get("Location") or location
                range_header = response.headers.get("Range", "")
                assert range_header.startswith("0-"), (
                    f"content-range header is missing the 0- prefix: {range_header!r}"
                )
                range_last = int(range_header[2:])
                if last_byte >= 0:
                    assert range_last == last_byte, (
                        f"content-range unexpected, received {range_header!r}, "
                        f'expected "0-{last_byte}"'
                    )
            assert location, "blob request did not return a location"
            url = urljoin(url, location)
            start = last_byte + 1
            last_byte = min(start + chunk_size - 1, len(body) - 1)
            headers = [("Content-Type", MT_OCTET_STREAM), ("Content-Range", f"{start}-{last_byte}")]
            chunk = body[start : last_byte + 1]
            if "PutLastChunk" in flags and last_byte == len(body) - 1:
                url = set_query(url, "digest", digest)
                response = self.do(
                    "PUT", url, headers=headers, body=chunk, content_length=len(chunk)
                )
                if bad:
                    expect_status(response, 400)
                else:
                    expect_status(response, 201)
                    location = response.headers.get("Location") or location
                    final = response
            else:
                response = self.do(
                    "PATCH", url, headers=headers, body=chunk, content_length=len(chunk)
                )
                expect_status(response, 202)
                location = response.headers.get("Location") or location
        if "PutLastChunk" not in flags:
            assert location, "blob patch did not return a location"
            url = set_query(urljoin(url, location), "digest", digest)
            response = self.do(
                "PUT", url, headers=[("Content-Type", MT_OCTET_STREAM)], content_length=0
            )
            if bad:
                expect_status(response, 400)
            else:
                expect_status(response, 201)
                location = response.headers.get("Location") or location
                final = response
        if bad:
            return min_str
        assert final is not None
        self.verify_digest(final, digest, require_digest)
        self.blob_verify_location(url, location, body)
        return min_str

    def blob_patch_stream(
        self, repo: str, digest: str, td: TestData, flags: set[str], require_digest: bool
    ) -> None:
        body = td.blobs[digest]
        url = self.url(repo, "blobs", "uploads/")
        response = self.do("POST", url, content_length=0)
        expect_status(response, 202)
        location = response.headers.get("Location", "")
        assert location, "blob post did not return a location"
        url = urljoin(url, location)
        response = self.do("PATCH", url, headers=[("Content-Type", MT_OCTET_STREAM)], body=body)
        expect_status(response, 202)
        location = response.headers.get("Location", "")
        assert location, "blob patch did not return a location"
        url = set_query(urljoin(url, location), "digest", digest)
        response = self.do(
            "PUT", url, headers=[("Content-Type", MT_OCTET_STREAM)], content_length=0
        )
        if "ExpectBadDigest" in flags:
            expect_status(response, 400)
            return
        expect_status(response, 201)
        expect_header(response, "Location")
        location = response.headers.get("Location", location)
        self.verify_digest(response, digest, require_digest)
        self.blob_verify_location(url, location, body)

    def blob_post_cancel(self, repo: str) -> None:
        url = self.url(repo, "blobs", "uploads/")
        response = self.do("POST", url)
        expect_status(response, 202)
        location = response.headers.get("Location", "")
        assert location, "blob post did not return a location"
        response = self.do("DELETE", urljoin(url, location), content_length=0)
        expect_status(response, 204)

    def blob_post_only(
        self, repo: str, digest: str, td: TestData, flags: set[str], require_digest: bool
    ) -> None:
        body = td.blobs[digest]
        bad = "ExpectBadDigest" in flags
        url = set_query(self.url(repo, "blobs", "uploads/"), "digest", digest)
        response = self.do(
            "POST",
            url,
            headers=[("Content-Type", MT_OCTET_STREAM)],
            body=body,
            content_length=len(body),
        )
        if bad:
            expect_status(response, 400, 202)
        else:
            expect_status(response, 201, 202)
            expect_header(response, "Location")
        location = response.headers.get("Location", "")
        if response.status_code == 202:
            # fallback to a PUT request, but track the unsupported API
            url = set_query(urljoin(url, location), "digest", digest)
            response = self.do(
                "PUT",
                url,
                headers=[("Content-Type", MT_OCTET_STREAM)],
                body=body,
                content_length=len(body),
            )
            expect_status(response, 400 if bad else 201)
            raise Unsupported("registry does not support content in the POST, fallback to PUT")
        if bad:
            return
        self.verify_digest(response, digest, require_digest)
        self.blob_verify_location(url, location, body)

    def blob_post_put(
        self, repo: str, digest: str, td: TestData, flags: set[str], require_digest: bool
    ) -> None:
        body = td.blobs[digest]
        url = self.url(repo, "blobs", "uploads/")
        response = self.do("POST", url)
        expect_status(response, 202)
        location = response.headers.get("Location", "")
        assert location, "blob post did not return a location"
        url = set_query(urljoin(url, location), "digest", digest)
        response = self.do(
            "PUT",
            url,
            headers=[("Content-Type", MT_OCTET_STREAM)],
            body=body,
            content_length=len(body),
        )
        if "ExpectBadDigest" in flags:
            expect_status(response, 400)
            return
        expect_status(response, 201)
        location = response.headers.get("Location", "")
        self.verify_digest(response, digest, require_digest)
        self.blob_verify_location(url, location, body)

    # -- manifests

    ACCEPT: ClassVar[list[tuple[str, str]]] = [("Accept", MT_OCI_INDEX), ("Accept", MT_OCI_IMAGE)]

    def manifest_delete(self, repo: str, reference: str) -> None:
        response = self.do("DELETE", self.url(repo, "manifests", reference))
        expect_status(response, 202, 404, 400, 405)
        if response.status_code in (400, 405):
            raise Unsupported(f"registry returned status {response.status_code}")

    def manifest_get(self, repo: str, reference: str) -> httpx.Response:
        return self.do("GET", self.url(repo, "manifests", reference), headers=self.ACCEPT)

    def manifest_head(self, repo: str, reference: str) -> httpx.Response:
        return self.do("HEAD", self.url(repo, "manifests", reference), headers=self.ACCEPT)

    def manifest_get_exists(
        self, repo: str, reference: str, digest: str, td: TestData, require_digest: bool
    ) -> None:
        response = self.manifest_get(repo, reference)
        expect_status(response, 200)
        value = td.manifests.get(digest)
        if value:
            expect_body(response, value)
            expect_header(response, "Content-Type", detect_media_type(value))
            expect_header(response, "Content-Length", str(len(value)))
            self.verify_digest(response, digest, require_digest)
        else:
            assert not require_digest

    def manifest_head_exists(
        self, repo: str, reference: str, digest: str, td: TestData, require_digest: bool
    ) -> None:
        response = self.manifest_head(repo, reference)
        expect_status(response, 200)
        expect_body(response, b"")
        value = td.manifests.get(digest)
        if value:
            expect_header(response, "Content-Type", detect_media_type(value))
            expect_header(response, "Content-Length", str(len(value)))
            self.verify_digest(response, digest, require_digest)

    def manifest_put(
        self,
        repo: str,
        reference: str,
        digest: str,
        td: TestData,
        referrers_enabled: bool,
        *,
        tags: list[str] | None = None,
        flags: set[str] | None = None,
    ) -> httpx.Response:
        """``ManifestPut``: 201 with a Location that serves the exact bytes; ``OCI-Subject``
        when the manifest has a subject; 400 under ``ExpectBadDigest``. The body goes out
        without a Content-Length, as Go sends it."""
        body = td.manifests[digest]
        url = self.url(repo, "manifests", reference)
        for tag in tags or []:
            url = add_query(url, "tag", tag)
        media_type = detect_media_type(body)
        response = self.do("PUT", url, headers=[("Content-Type", media_type)], body=body)
        if "ExpectBadDigest" in (flags or set()):
            expect_status(response, 400)
            return response
        expect_status(response, 201)
        if referrers_enabled and (subject := detect_subject(body)) is not None:
            expect_header(response, "OCI-Subject", subject["digest"])
        header = response.headers.get("Docker-Content-Digest", "")
        assert not header or header == digest, (
            f"Docker-Content-Digest header value expected {digest!r}, received {header!r}"
        )
        location = response.headers.get("Location", "")
        assert location, "manifest put did not return a location"
        check = self.do("GET", urljoin(url, location), headers=self.ACCEPT)
        expect_status(check, 200)
        expect_header(check, "Content-Type", media_type)
        expect_header(check, "Content-Length", str(len(body)))
        expect_body(check, body)
        return response

    # -- discovery

    def ping(self) -> httpx.Response:
        return self.do("GET", self.registry + "/v2/")

    def referrers_list(self, repo: str, digest: str, **params: str) -> tuple[httpx.Response, Any]:
        url = self.url(repo, "referrers", digest)
        for key, value in params.items():
            url = add_query(url, key, value)
        response = self.do("GET", url)
        expect_header(response, "Content-Type", MT_OCI_INDEX)
        expect_status(response, 200)
        index = response.json()
        invalid = "referrers response is not a valid OCI index (media type and schema version)"
        assert index.get("mediaType") == MT_OCI_INDEX, invalid
        assert index.get("schemaVersion") == 2, invalid
        return response, index

    def tag_list(self, repo: str, **params: str) -> list[str]:
        url = self.url(repo, "tags", "list")
        for key, value in params.items():
            url = add_query(url, key, value)
        response = self.do("GET", url)
        expect_status(response, 200, 404)
        if response.status_code == 404:
            return []
        tags = response.json().get("tags") or []
        assert isinstance(tags, list)
        return [str(tag) for tag in tags]


# -- run.go -------------------------------------------------------------------------------------

BLOB_APIS = ["post+put", "post only", "stream", "chunked"]  # run.go blobAPIs, in order
BLOB_API_TESTS = [
    "post only",
    "post+put",
    "chunked single",
    "stream",
    "mount",
    "mount anonymous",
    "mount missing",
    "post cancel",
]
BLOB_API_TESTS_CHUNKED = [
    "chunked multi",
    "chunked multi and put chunk",
    "chunked out-of-order",
    "chunked out-of-order and put chunk",
]
RANGE_TESTS = [
    "range 500-1499",
    "range 500-",
    "range -500",
    "range 2000-5000",
    "range 500-0",
    "range 5000-10000",
]
BAD_DIGEST_TESTS = [
    "bad digest post only",
    "bad digest post+put",
    "bad digest chunked",
    "bad digest chunked and put chunk",
    "bad digest stream",
]
DATA_PHASES = ["push", "tag-list", "head", "pull", "referrers", "delete"]

# run.go GenerateData, in order: (name, description, enabled when).
DATA_TESTS = [
    "image",
    "image-uncompressed",
    "large-manifest",
    "index",
    "nested-index",
    "empty-index",
    "artifact",
    "artifact-index",
    "artifact-without-layers",
    "artifacts-with-subject",
    "index-with-subject",
    "missing-subject",
    "data-field",
    "non-distributable-layers",
    "custom-fields",
    "no-layers",
    "sparse",
    "sha512",
    "tag-param-sha256",
    "tag-param-sha512",
    "bad-digest-image",
]


class Outcome:
    """Errors of one check, kept going like the Go code's ``errs`` slices: failures fail the
    test, and ``Unsupported``/``Disabled`` alone make it a skip (the Go runner's statuses)."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.skips: list[str] = []

    def run(self, what: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Run one step; True when it succeeded."""
        try:
            function(*args, **kwargs)
        except (Unsupported, Disabled) as exc:
            self.skips.append(f"{what}: {type(exc).__name__}: {exc}")
            return False
        except AssertionError as exc:
            self.failures.append(f"{what}: {exc}")
            return False
        return True

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def finish(self) -> None:
        if self.failures:
            pytest.fail("\n".join(self.failures), pytrace=False)
        if self.skips:
            pytest.skip("; ".join(self.skips))


@dataclass
class BlobGroup:
    """State of ``TestBlobAPIs`` for one digest algorithm."""

    td: TestData
    digests: dict[str, str]
    min_chunk_size: int = CHUNK_MIN
    range_digest: str | None = None
    range_body: bytes = b""


class Runner:
    """run.go ``runner``: configuration, the request layer, the generated data and the
    bookkeeping ``TestPushBlobAny`` uses to spread pushes over every blob API."""

    def __init__(self, server: RegistryServer, config: Config) -> None:
        self.server = server
        self.config = config
        self.api = Api(server.url)
        self.data: dict[str, TestData] = {}
        self.data_tests: list[str] = []
        self.blob_groups: dict[str, BlobGroup] = {}
        self.blob_apis_tested: set[str] = set()
        self.blob_apis_tested_by_algo: dict[str, set[str]] = {}
        self.api_passed: set[str] = set()
        self.api_failed: set[str] = set()
        self.generate_data()

    def close(self) -> None:
        self.api.close()

    @property
    def repo(self) -> str:
        return self.config.repo1

    @property
    def repo2(self) -> str:
        return self.config.repo2

    # -- GenerateData

    def _add(self, name: str, description: str) -> TestData:
        td = self.data[name] = TestData(description)
        self.data_tests.append(name)
        return td

    def generate_data(self) -> None:
        config = self.config
        extra_annotations = {"org.opencontainers.conformance": "hello conformance test"}
        platforms: list[dict[str, str] | None] = [AMD64, ARM64]

        self._add("image", "Image").gen_manifest_full(gen_with_tag("image"))
        self._add("image-uncompressed", "Image Uncompressed").gen_manifest_full(
            gen_with_tag("image-uncompressed"), gen_with_compress("uncompressed")
        )
        large = {f"large-annotation-{i}": "A" * 10000 for i in range(390)}
        self._add("large-manifest", "Image with Large Manifest").gen_manifest_full(
            gen_with_tag("large-manifest"), gen_with_annotations(large)
        )
        self._add("index", "Index").gen_index_full(
            gen_with_tag("index"), gen_with_platforms(platforms)
        )
        td = self._add("nested-index", "Nested Index")
        dig1 = td.gen_index_full(gen_with_platforms(platforms))
        dig2 = td.gen_index_full(gen_with_platforms(platforms))
        td.gen_index([None, None], [dig1, dig2], gen_with_tag("index-of-index"))
        self._add("empty-index", "Empty Index").gen_index_full(
            gen_with_tag("index"), gen_with_platforms([])
        )
        artifact_opts = (
            gen_with_artifact_type(MT_EXAMPLE_CONF1),
            gen_with_config_media_type(MT_OCI_EMPTY_JSON),
            gen_with_config_bytes(b"{}"),
            gen_with_layer_count(1),
            gen_with_layer_media_type(MT_EXAMPLE_CONF1),
        )
        self._add("artifact", "Artifact").gen_manifest_full(
            gen_with_tag("artifact"), *artifact_opts
        )
        self._add("artifact-index", "Artifact Index").gen_index_full(
            gen_with_tag("artifact-index"), gen_with_platforms(platforms), *artifact_opts
        )
        self._add("artifact-without-layers", "Artifact without Layers").gen_manifest_full(
            gen_with_tag("artifact-without-layers"),
            gen_with_artifact_type(MT_EXAMPLE_CONF1),
            gen_with_config_media_type(MT_OCI_EMPTY_JSON),
            gen_with_config_bytes(b"{}"),
            gen_with_layer_count(1),
            gen_with_layer_bytes(b"{}"),
            gen_with_layer_media_type(MT_OCI_EMPTY_JSON),
        )

        td = self._add("artifacts-with-subject", "Artifacts with Subject")
        subject = td.desc[td.gen_manifest_full(gen_with_tag("image"))]
        td.gen_manifest_full(gen_with_subject(subject))
        for artifact_type, layer_type, tag in (
            (MT_EXAMPLE_CONF1, MT_EXAMPLE_CONF1, "tagged-artifact1"),
            (MT_EXAMPLE_CONF2, MT_OCTET_STREAM, "tagged-artifact2"),
        ):
            td.gen_manifest_full(
                gen_with_artifact_type(artifact_type),
                gen_with_annotations(dict(extra_annotations)),
                gen_with_annotation_uniq(),
                gen_with_config_media_type(MT_OCI_EMPTY_JSON),
                gen_with_config_bytes(b"{}"),
                gen_with_layer_count(1),
                gen_with_layer_media_type(layer_type),
                gen_with_subject(subject),
                gen_with_tag(tag),
            )

        td = self._add("index-with-subject", "Index with Subject")
        subject = td.desc[td.gen_index_full(gen_with_tag("index"))]
        td.gen_index_full(
            gen_with_artifact_type(MT_EXAMPLE_CONF1),
            gen_with_annotations(dict(extra_annotations)),
            gen_with_annotation_uniq(),
            gen_with_config_media_type(MT_OCI_EMPTY_JSON),
            gen_with_config_bytes(b"{}"),
            gen_with_layer_count(1),
            gen_with_layer_media_type(MT_EXAMPLE_CONF1),
            gen_with_subject(subject),
            gen_with_tag("tagged-artifact"),
        )

        missing = {
            "mediaType": MT_OCI_IMAGE,
            "size": 123,
            "digest": digest_of(b"missing content"),
        }
        self._add("missing-subject", "Missing Subject").gen_manifest_full(
            gen_with_artifact_type(MT_EXAMPLE_CONF1),
            gen_with_annotations(dict(extra_annotations)),
            gen_with_annotation_uniq(),
            gen_with_config_media_type(MT_OCI_EMPTY_JSON),
            gen_with_config_bytes(b"{}"),
            gen_with_layer_count(1),
            gen_with_layer_media_type(MT_EXAMPLE_CONF1),
            gen_with_subject(missing),
            gen_with_tag("tagged-artifact"),
        )
        self._add("data-field", "Data Field").gen_manifest_full(
            gen_with_tag("data-field"), gen_with_descriptor_data()
        )

        td = self._add("non-distributable-layers", "Non-distributable Layers")
        diff_ids = [digest_of(secrets.token_bytes(256))]
        digest = digest_of(secrets.token_bytes(256))
        layers: list[dict[str, Any]] = [
            {
                "mediaType": MT_OCI_LAYER_ND_GZ,
                "digest": digest,
                "size": 123456,
                "urls": ["https://store.example.com/blobs/sha256/" + digest.split(":")[1]],
            }
        ]
        digest = digest_of(secrets.token_bytes(256))
        diff_ids.append(digest)
        layers.append(
            {
                "mediaType": MT_OCI_LAYER_ND,
                "digest": digest,
                "size": 12345,
                "urls": ["https://store.example.com/blobs/sha256/" + digest.split(":")[1]],
            }
        )
        compressed, uncompressed, _ = td.gen_layer(1)
        diff_ids.append(uncompressed)
        layers.append(td.desc[compressed])
        config_digest, _ = td.gen_config(AMD64, diff_ids)
        td.gen_manifest(td.desc[config_digest], layers, gen_with_tag("non-distributable-image"))

        self._add("custom-fields", "Custom Fields").gen_index_full(
            gen_with_tag("custom-fields"), gen_with_platforms(platforms), gen_with_extra_field()
        )
        self._add("no-layers", "No Layers").gen_manifest_full(
            gen_with_tag("no-layers"), gen_with_layer_count(0)
        )
        # sparse manifests missing layers/platforms (config.go Data.Sparse, off by default)
        if not config.data_sparse:
            self.data["sparse"] = TestData("Sparse Manifests")
        else:
            td = self._add("sparse", "Sparse Manifests")
            td.gen_manifest_full(gen_with_tag("sparse-image"))
            for digest in list(td.blobs):
                if td.desc[digest]["mediaType"].startswith(MT_OCI_LAYER_PRE):
                    # "remove the first layer we find"
                    del td.desc[digest], td.blobs[digest]
                    break
            # "for the index, make an image and a random digest/descriptor, add both to an index"
            image = td.gen_manifest_full(gen_with_platform(AMD64))
            random_digest = digest_of(secrets.token_bytes(1024))
            td.desc[random_digest] = {
                "mediaType": MT_OCI_IMAGE,
                "digest": random_digest,
                "size": 1024,
            }
            td.gen_index([AMD64, ARM64], [image, random_digest], gen_with_tag("sparse-index"))
        # "non-canonical digests require tag parameters to push tags, so only test by digest"
        if config.data_sha512:
            self._add("sha512", "Digest Algorithm sha512").gen_index_full(gen_with_algo(SHA512))
        for name, algo in (("tag-param-sha256", SHA256), ("tag-param-sha512", SHA512)):
            if not config.manifests_tag_param or (algo == SHA512 and not config.data_sha512):
                self.data[name] = TestData(name)
                continue
            td = self._add(name, "Tag Param" + (" sha512" if algo == SHA512 else ""))
            td.gen_index_full(gen_with_tag(name), gen_with_algo(algo))
            for i, digest in enumerate(td.man_order):
                td.tags[f"{name}-{i}"] = digest
                td.push_opts[digest] = {"TagParam"}

        td = self._add("bad-digest-image", "Bad Digest Image")
        digest = td.gen_manifest_full()
        td.pull_opts[digest] = {"SkipPullTest"}
        td.push_opts[digest] = {"ExpectBadDigest"}
        # "add some whitespace to make the digest mismatch"
        td.manifests[digest] += b"  "

    # -- blob pushes

    def _record(self, api: str, ok: bool) -> None:
        (self.api_passed if ok else self.api_failed).add(api)

    def push_blob_with(
        self, api: str, td: TestData, repo: str, digest: str, flags: set[str] | None = None
    ) -> str:
        """``TestPushBlob{PostPut,PostOnly,PatchStream,PatchChunked}``; returns the chunked
        POST's ``OCI-Chunk-Min-Length``."""
        flags = flags or set()
        require = self.config.blobs_digest_header
        min_length = ""
        try:
            if api == "post+put":
                self.api.blob_post_put(repo, digest, td, flags, require)
            elif api == "post only":
                self.api.blob_post_only(repo, digest, td, flags, require)
            elif api == "stream":
                self.api.blob_patch_stream(repo, digest, td, flags, require)
            elif api == "chunked":
                min_length = self.api.blob_patch_chunked(repo, digest, td, flags, require)
            else:
                raise AssertionError(f"unknown blob API {api}")
        except BaseException:
            self._record(api, False)
            raise
        self._record(api, True)
        return min_length

    def push_blob_any(
        self, td: TestData, repo: str, digest: str, flags: set[str] | None = None
    ) -> None:
        """``TestPushBlobAny``: untested APIs first, then those untested with this digest
        algorithm, then the ones known to work; the first success wins."""
        algo = digest.split(":", 1)[0]
        tested_by_algo = self.blob_apis_tested_by_algo.setdefault(algo, set())
        order: list[str] = [api for api in BLOB_APIS if api not in self.blob_apis_tested]
        order += [api for api in BLOB_APIS if api not in tested_by_algo and api not in order]
        order += [
            api
            for api in BLOB_APIS
            if api in self.api_passed and api not in self.api_failed and api not in order
        ]
        order += [api for api in BLOB_APIS if api not in order]
        errors: list[BaseException] = []
        for api in order:
            self.blob_apis_tested.add(api)
            tested_by_algo.add(api)
            try:
                self.push_blob_with(api, td, repo, digest, flags)
            except (AssertionError, Unsupported) as exc:
                errors.append(exc)
                continue
            return
        if all(isinstance(e, Unsupported) for e in errors):
            raise Unsupported("; ".join(str(e) for e in errors))
        raise AssertionError("; ".join(f"{type(e).__name__}: {e}" for e in errors))

    def head_blob(
        self, td: TestData, repo: str, digest: str, flags: set[str] | None = None
    ) -> None:
        if "SkipPullTest" in (flags or set()):
            return
        self.api.blob_head_exists(repo, digest, td, self.config.blobs_digest_header)

    def pull_blob(
        self, td: TestData, repo: str, digest: str, flags: set[str] | None = None
    ) -> None:
        if "SkipPullTest" in (flags or set()):
            return
        self.api.blob_get_exists_full(repo, digest, td, self.config.blobs_digest_header)

    def delete_blob(self, repo: str, digest: str) -> None:
        """``TestDeleteBlob``: DELETE (202, 404 or 405), then HEAD must be 404 (blobs atomic)."""
        self.api.blob_delete(repo, digest)
        response = self.api.blob_head(repo, digest)
        expect_status(response, 404)

    # -- manifests

    def push_manifest_digest(self, td: TestData, repo: str, digest: str) -> None:
        """``TestPushManifestDigest`` (with ``?tag=`` parameters under ``TagParam``: every tag
        must come back in ``OCI-Tag``)."""
        flags = td.push_opts.get(digest, set())
        tags: list[str] = []
        if "TagParam" in flags:
            if not self.config.manifests_tag_param:
                raise Disabled("api Manifest put with tag params is disabled in the configuration")
            tags = [tag for tag, d in td.tags.items() if d == digest]
        response = self.api.manifest_put(
            repo, digest, digest, td, self.config.referrer, tags=tags, flags=flags
        )
        missing = []
        for tag in tags:
            values = [
                part.strip()
                for value in response.headers.get_list("OCI-Tag")
                for part in value.split(",")
            ]
            if tag in values:
                td.tag_pushed[tag] = True
            else:
                missing.append(tag)
        if missing:
            raise Unsupported(f"header missing OCI-Tag: {', '.join(missing)}")

    def push_manifest_tag(self, td: TestData, repo: str, tag: str, digest: str) -> None:
        if td.tag_pushed.get(tag):
            return  # "tag already pushed (likely as a tag parameter in the digest push)"
        flags = td.push_opts.get(digest, set())
        self.api.manifest_put(repo, tag, digest, td, self.config.referrer, flags=flags)
        td.tag_pushed[tag] = True

    def delete_tag(self, td: TestData, repo: str, tag: str) -> None:
        """``TestDeleteTag``: DELETE the tag, then HEAD of the tag must be 404."""
        if not td.tag_pushed.get(tag):
            return
        self.api.manifest_delete(repo, tag)
        expect_status(self.api.manifest_head(repo, tag), 404)

    def delete_manifest(self, repo: str, digest: str) -> None:
        """``TestDeleteManifest``: DELETE by digest, then HEAD must be 404."""
        self.api.manifest_delete(repo, digest)
        expect_status(self.api.manifest_head(repo, digest), 404)


@contextmanager
def start_runner(version: str, store: str = "memory") -> Iterator[Runner]:
    """A fresh registry (in memory, or on disk in a temporary directory) and runner (generator
    for a fixture). Server-side exceptions fail."""
    errors: list[BaseException] = []
    config = Config.for_version(version)
    # Sparse manifests are only accepted when the registry skips reference checks.
    options = RegistryOptions(validation="sparse") if config.data_sparse else RegistryOptions()
    scratch = tempfile.TemporaryDirectory(prefix="fakeregistry-store-")
    storage_dir = scratch.name if store == "disk" else None
    server = RegistryServer(options, on_error=errors.append, storage_dir=storage_dir).start()
    runner = Runner(server, config)
    try:
        yield runner
    finally:
        runner.close()
        server.stop()
        scratch.cleanup()
    if errors:
        raise errors[0]


VERSIONS = os.environ.get("OCI_VERSIONS", "1.1 1.1+dev").split()
