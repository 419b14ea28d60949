"""The attack suite over HTTP: every defect class of issue 10 and its variants, as table rows,
against an in-process registry and against ``fakeregistry serve``.

Each row is one request a hostile or broken client might send, and the answer it must get:
never a 5xx, always the spec's JSON error envelope with the right status and code, and
nothing stored that the client did not push exactly.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from fakeregistry.rules import mediatypes as mt
from tests.attack import PASSWORD, USER, Target, assert_error, target
from tests.content import canonical, digest_of, image_manifest, push_blob, push_image

REPO = "attack/repo"
EMPTY = digest_of(b"")
BLOB = b"0123456789" * 10
BLOB_DIGEST = digest_of(BLOB)
HUGE = "9" * 5000  # past Python's 4,300-digit int() limit
LONG = "9" * 20  # past int64


@pytest.fixture(scope="module", params=["in-process", "serve"])
def registry(request: pytest.FixtureRequest) -> Iterator[Target]:
    with target(request.param) as found, found.client() as http:
        push_blob(http, REPO, b"")
        push_blob(http, REPO, BLOB)
        push_image(http, REPO, "v1")
        yield found


def new_upload(http: httpx.Client, repo: str = REPO) -> str:
    response = http.post(f"/v2/{repo}/blobs/uploads/")
    assert response.status_code == 202
    return str(response.headers["Location"])


@dataclass(frozen=True)
class Attack:
    method: str
    path: str  # "{upload}" is a fresh upload session's location
    status: int
    code: str
    headers: dict[str, str | bytes] = field(default_factory=dict)
    body: bytes | None = None
    then: Callable[[httpx.Client, httpx.Response], None] | None = None


def _not_stored(digest: str) -> Callable[[httpx.Client, httpx.Response], None]:
    def check(http: httpx.Client, response: httpx.Response) -> None:
        assert http.head(f"/v2/{REPO}/blobs/{digest}").status_code == 404

    return check


def _manifest(document: object, *, raw: bytes | None = None) -> bytes:
    return raw if raw is not None else json.dumps(document).encode()


def _image_doc(**changes: object) -> dict[str, object]:
    document: dict[str, object] = json.loads(image_manifest(b"{}", [b"layer"]))
    document.update(changes)
    return document


MANIFEST_CT: dict[str, str | bytes] = {"Content-Type": mt.OCI_MANIFEST}
INFLATED = b"A" * 100_000
GZIPPED = gzip.compress(INFLATED)

ATTACKS: dict[str, Attack] = {
    # 2: deep nesting is 400 MANIFEST_INVALID, never RecursionError's 500.
    "2-deep-arrays": Attack(
        "PUT", f"/v2/{REPO}/manifests/t", 400, "MANIFEST_INVALID", MANIFEST_CT, b"[" * 100_000
    ),
    "2-deep-objects": Attack(
        "PUT",
        f"/v2/{REPO}/manifests/t",
        400,
        "MANIFEST_INVALID",
        MANIFEST_CT,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    ),
    "2-deep-in-unknown-field": Attack(
        "PUT",
        f"/v2/{REPO}/manifests/t",
        400,
        "MANIFEST_INVALID",
        MANIFEST_CT,
        _manifest(None, raw=canonical(_image_doc())[:-1] + b',"x":' + b"[" * 65 + b"]" * 65 + b"}"),
    ),
    "2-deep-index": Attack(
        "PUT",
        f"/v2/{REPO}/manifests/t",
        400,
        "MANIFEST_INVALID",
        {"Content-Type": mt.OCI_INDEX},
        b'{"schemaVersion":2,"manifests":' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    ),
    # 3: numbers past 4,300 digits (and past int64) are 416, never int()'s 500.
    "3-range-end-huge": Attack(
        "GET", f"/v2/{REPO}/blobs/{BLOB_DIGEST}", 416, "RANGE_INVALID", {"Range": f"bytes=0-{HUGE}"}
    ),
    "3-range-suffix-huge": Attack(
        "GET", f"/v2/{REPO}/blobs/{BLOB_DIGEST}", 416, "RANGE_INVALID", {"Range": f"bytes=-{HUGE}"}
    ),
    "3-range-start-huge": Attack(
        "GET", f"/v2/{REPO}/blobs/{BLOB_DIGEST}", 416, "RANGE_INVALID", {"Range": f"bytes={HUGE}-"}
    ),
    "3-range-past-int64": Attack(
        "GET", f"/v2/{REPO}/blobs/{BLOB_DIGEST}", 416, "RANGE_INVALID", {"Range": f"bytes=0-{LONG}"}
    ),
    "3-range-unicode-digits": Attack(
        "GET",
        f"/v2/{REPO}/blobs/{BLOB_DIGEST}",
        416,
        "RANGE_INVALID",
        {"Range": "bytes=0-\u0663".encode()},
    ),
    "3-range-head-huge": Attack(
        "HEAD", f"/v2/{REPO}/blobs/{BLOB_DIGEST}", 416, "", {"Range": f"bytes=0-{HUGE}"}
    ),
    "3-content-range-huge-start": Attack(
        "PATCH", "{upload}", 416, "RANGE_INVALID", {"Content-Range": f"{HUGE}-1"}, b"x"
    ),
    "3-content-range-huge-end": Attack(
        "PATCH", "{upload}", 416, "RANGE_INVALID", {"Content-Range": f"0-{HUGE}"}, b"x"
    ),
    "3-content-range-past-int64": Attack(
        "PATCH", "{upload}", 416, "RANGE_INVALID", {"Content-Range": f"0-{LONG}"}, b"x"
    ),
    "3-content-range-on-put": Attack(
        "PUT",
        "{upload}?digest=" + digest_of(b"x"),
        416,
        "RANGE_INVALID",
        {"Content-Range": f"0-{HUGE}"},
        b"x",
    ),
    # 4: only ASCII digits count in ?n= (superscript two passes str.isdigit(); Arabic-Indic and
    # fullwidth digits pass int()).
    **{
        f"4-{where}-n-{name}": Attack("GET", f"{path}?n={value}", 400, "PAGINATION_NUMBER_INVALID")
        for where, path in (("catalog", "/v2/_catalog"), ("tags", f"/v2/{REPO}/tags/list"))
        for name, value in (
            ("superscript", "%C2%B2"),
            ("arabic-indic", "%D9%A3"),
            ("fullwidth", "%EF%BC%91"),
            ("plus", "%2B1"),
            ("minus", "-1"),
            ("space", "%201"),
            ("huge", HUGE),
            ("hex", "0x10"),
        )
    },
    # 5, 6, 15: any Content-Encoding but identity is refused before a byte is read; nothing
    # is inflated or stored.
    **{
        f"6-{kind}-{encoding}": Attack(
            method,
            path,
            415,
            "UNSUPPORTED",
            {"Content-Encoding": encoding, **extra},
            body,
            then=_not_stored(digest_of(INFLATED)) if method == "POST" else None,
        )
        for encoding, body in (
            ("gzip", GZIPPED),
            ("deflate", zlib.compress(INFLATED)),
            ("br", b"\x0b\x02\x80hello\x03"),
            ("zstd", b"(\xb5/\xfd hello"),
            ("x-gzip", GZIPPED),
            ("gzip, identity", GZIPPED),
            ("bogus", b"hello"),
        )
        for kind, method, path, extra in (
            ("monolithic", "POST", f"/v2/{REPO}/blobs/uploads/?digest={digest_of(INFLATED)}", {}),
            ("patch", "PATCH", "{upload}", {}),
            ("put", "PUT", "{upload}?digest=" + digest_of(INFLATED), {}),
            ("manifest", "PUT", f"/v2/{REPO}/manifests/t", MANIFEST_CT),
        )
    },
    **{
        f"5-broken-{encoding}-{kind}": Attack(
            method, path, 415, "UNSUPPORTED", {"Content-Encoding": encoding}, b"not that at all"
        )
        for encoding in ("gzip", "deflate")
        for kind, method, path in (
            ("monolithic", "POST", f"/v2/{REPO}/blobs/uploads/?digest={EMPTY}"),
            ("patch", "PATCH", "{upload}"),
            ("manifest", "PUT", f"/v2/{REPO}/manifests/t"),
        )
    },
    # 11: what Go's decoder refuses is refused here too.
    "11-schema-version-float": Attack(
        "PUT",
        f"/v2/{REPO}/manifests/t",
        400,
        "MANIFEST_INVALID",
        MANIFEST_CT,
        canonical(_image_doc()).replace(b'"schemaVersion":2', b'"schemaVersion":2.0'),
    ),
    "11-schema-version-exponent": Attack(
        "PUT",
        f"/v2/{REPO}/manifests/t",
        400,
        "MANIFEST_INVALID",
        MANIFEST_CT,
        canonical(_image_doc()).replace(b'"schemaVersion":2', b'"schemaVersion":2e0'),
    ),
    "11-size-2-64": Attack(
        "PUT",
        f"/v2/{REPO}/manifests/t",
        400,
        "MANIFEST_INVALID",
        MANIFEST_CT,
        canonical(_image_doc()).replace(b'"size":2}', b'"size":18446744073709551616}'),
    ),
    "11-size-float": Attack(
        "PUT",
        f"/v2/{REPO}/manifests/t",
        400,
        "MANIFEST_INVALID",
        MANIFEST_CT,
        canonical(_image_doc()).replace(b'"size":2}', b'"size":2.0}'),
    ),
    "11-size-huge-digits": Attack(
        "PUT",
        f"/v2/{REPO}/manifests/t",
        400,
        "MANIFEST_INVALID",
        MANIFEST_CT,
        canonical(_image_doc()).replace(b'"size":2}', b'"size":' + HUGE.encode() + b"}"),
    ),
    "11-utf16": Attack(
        "PUT",
        f"/v2/{REPO}/manifests/t",
        400,
        "MANIFEST_INVALID",
        MANIFEST_CT,
        canonical(_image_doc()).decode().encode("utf-16"),
    ),
    "11-utf16-le-no-bom": Attack(
        "PUT",
        f"/v2/{REPO}/manifests/t",
        400,
        "MANIFEST_INVALID",
        MANIFEST_CT,
        canonical(_image_doc()).decode().encode("utf-16-le"),
    ),
    "11-utf8-bom": Attack(
        "PUT",
        f"/v2/{REPO}/manifests/t",
        400,
        "MANIFEST_INVALID",
        MANIFEST_CT,
        b"\xef\xbb\xbf" + canonical(_image_doc()),
    ),
    "11-nan": Attack(
        "PUT",
        f"/v2/{REPO}/manifests/t",
        400,
        "MANIFEST_INVALID",
        MANIFEST_CT,
        canonical(_image_doc(x=1))[:-1].replace(b'"x":1', b'"x":NaN') + b"}",
    ),
    "11-invalid-utf8": Attack(
        "PUT",
        f"/v2/{REPO}/manifests/t",
        400,
        "MANIFEST_INVALID",
        MANIFEST_CT,
        canonical(_image_doc(x="\u00e9")).replace(b"\\u00e9", b"\xe9"),
    ),
    # 12: a suffix of a zero-length blob is unsatisfiable.
    **{
        f"12-empty-blob-{name}": Attack(
            "GET", f"/v2/{REPO}/blobs/{EMPTY}", 416, "RANGE_INVALID", {"Range": value}
        )
        for name, value in (
            ("suffix-5", "bytes=-5"),
            ("suffix-1", "bytes=-1"),
            ("start-0", "bytes=0-"),
            ("start-0-end-0", "bytes=0-0"),
        )
    },
    "12-suffix-zero": Attack(
        "GET", f"/v2/{REPO}/blobs/{BLOB_DIGEST}", 416, "RANGE_INVALID", {"Range": "bytes=-0"}
    ),
    # 14: what the app sees is answered in JSON (aiohttp's 417 included).
    "14-expect-bogus": Attack("GET", "/v2/", 417, "UNSUPPORTED", {"Expect": "bogus"}),
    "14-header-past-line-limit": Attack(
        "PATCH", "{upload}", 400, "REQUEST_INVALID", {"Content-Range": f"{HUGE}-{HUGE}"}, b"x"
    ),
    "14-expect-bogus-unknown-path": Attack("GET", "/nope", 417, "UNSUPPORTED", {"Expect": "x"}),
    "14-unknown-path": Attack("GET", "/v2/nope/x", 404, "NOT_FOUND"),
    "14-unknown-method-on-route": Attack("PROPFIND", "/v2/", 405, "UNSUPPORTED"),
}


def _as_bytes(headers: dict[str, str | bytes]) -> dict[bytes, bytes]:
    return {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in headers.items()}


@pytest.mark.parametrize("attack", [pytest.param(a, id=name) for name, a in ATTACKS.items()])
def test_attack(registry: Target, attack: Attack) -> None:
    with registry.client() as http:
        path = attack.path
        if "{upload}" in path:
            location = new_upload(http)
            path = path.replace("{upload}", location)
        before = http.get(f"/v2/{REPO}/tags/list").json()
        response = http.request(
            attack.method, path, headers=_as_bytes(attack.headers), content=attack.body
        )
        if attack.method == "HEAD":
            assert response.status_code == attack.status
        else:
            assert_error(response, attack.status, attack.code)
        if attack.then is not None:
            attack.then(http, response)
        if "{upload}" in attack.path:
            # A refused request leaves the session as it was: empty and still open.
            state = http.get(location)
            if state.status_code == 204:
                assert state.headers["Range"] == "0-0"
            else:
                assert_error(state, 404, "BLOB_UPLOAD_UNKNOWN")  # a failed PUT ends it
        assert http.get(f"/v2/{REPO}/tags/list").json() == before
        assert http.get(f"/v2/{REPO}/blobs/{BLOB_DIGEST}").content == BLOB


def test_range_reply_of_empty_blob(registry: Target) -> None:
    """Defect 12: ``416`` with ``Content-Range: bytes */0``, not 206 ``bytes 0--1/0``."""
    with registry.client() as http:
        response = http.get(f"/v2/{REPO}/blobs/{EMPTY}", headers={"Range": "bytes=-5"})
        assert_error(response, 416, "RANGE_INVALID")
        assert response.headers["Content-Range"] == "bytes */0"
        # A suffix longer than a non-empty blob is the whole blob (RFC 9110 14.1.3).
        whole = http.get(f"/v2/{REPO}/blobs/{BLOB_DIGEST}", headers={"Range": "bytes=-500"})
        assert whole.status_code == 206
        assert whole.headers["Content-Range"] == f"bytes 0-{len(BLOB) - 1}/{len(BLOB)}"
        assert whole.content == BLOB


def test_gzip_body_is_never_inflated(registry: Target) -> None:
    """Defect 6: the monolithic POST naming the inflated digest stores nothing; the same
    bytes sent as they are (no Content-Encoding) are stored exactly as sent."""
    with registry.client() as http:
        refused = http.post(
            f"/v2/{REPO}/blobs/uploads/",
            params={"digest": digest_of(INFLATED)},
            headers={"Content-Encoding": "gzip"},
            content=GZIPPED,
        )
        assert_error(refused, 415, "UNSUPPORTED")
        assert refused.headers["Accept-Encoding"] == "identity"
        assert http.head(f"/v2/{REPO}/blobs/{digest_of(INFLATED)}").status_code == 404
        stored = push_blob(http, REPO, GZIPPED)
        assert http.get(f"/v2/{REPO}/blobs/{stored}").content == GZIPPED
        identity = http.post(
            f"/v2/{REPO}/blobs/uploads/",
            params={"digest": digest_of(b"plain")},
            headers={"Content-Encoding": "identity"},
            content=b"plain",
        )
        assert identity.status_code == 201


# -- 8, 9: auth ---------------------------------------------------------------------------------


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(("in-process", "token"), id="in-process-token"),
        pytest.param(("in-process", "basic"), id="in-process-basic"),
        pytest.param(("serve", "token"), id="serve-token"),
        pytest.param(("serve", "basic"), id="serve-basic"),
    ],
)
def auth_registry(request: pytest.FixtureRequest) -> Iterator[tuple[Target, str]]:
    kind, mode = request.param
    with target(kind, auth=mode) as found:
        yield found, mode


NON_ASCII_AUTHORIZATION = {
    "bearer-latin1": "Bearer \u00e9t\u00e9",
    "bearer-cjk": "Bearer \u4e2d\u6587",
    "basic-latin1": "Basic \u00e9\u00e9\u00e9\u00e9",
    "basic-cjk": "Basic \u4e2d\u6587",
    "basic-valid-b64-of-latin1": "Basic " + "w6k6w6k=",  # "é:é" in UTF-8: a valid sign-in form
    "bare-latin1": "\u00e9",
    "basic-invalid-utf8-in-b64": "Basic /w==",
}


@pytest.mark.parametrize(
    "value", [pytest.param(v, id=k) for k, v in NON_ASCII_AUTHORIZATION.items()]
)
def test_non_ascii_authorization(auth_registry: tuple[Target, str], value: str) -> None:
    """Defect 8: 401 with the challenge, never 500, for Bearer and Basic, on the API (and on
    the web page, which ``serve`` turns on)."""
    registry, _ = auth_registry
    paths = ["/v2/", f"/v2/{REPO}/tags/list", f"/v2/{REPO}/blobs/uploads/"]
    if registry.kind == "serve":
        paths += ["/", "/ui/x"]
    with registry.client() as http:
        for path in paths:
            response = http.get(path, headers={b"Authorization": value.encode()})
            assert_error(response, 401, "UNAUTHORIZED")
            assert "WWW-Authenticate" in response.headers


@pytest.fixture(scope="module", params=["in-process", "serve"])
def token_registry(request: pytest.FixtureRequest) -> Iterator[Target]:
    with target(request.param, auth="token") as found:
        yield found


@pytest.mark.parametrize(
    "value", [pytest.param(v, id=k) for k, v in NON_ASCII_AUTHORIZATION.items()]
)
def test_non_ascii_authorization_on_token_endpoint(token_registry: Target, value: str) -> None:
    """Defect 8 on ``/token``: 401 with the Basic challenge."""
    with token_registry.client() as http:
        response = http.get(
            "/token?scope=repository:x:pull", headers={b"Authorization": value.encode()}
        )
        assert_error(response, 401, "UNAUTHORIZED")
        assert response.headers["WWW-Authenticate"].startswith("Basic ")


TOKEN_FORMS: dict[str, tuple[str, bytes]] = {
    "unknown-charset": (
        "application/x-www-form-urlencoded; charset=no-such-charset",
        b"grant_type=password&username=alice&password=alice-pw",
    ),
    "latin1-charset": (
        "application/x-www-form-urlencoded; charset=latin-1",
        b"grant_type=password&username=alice&password=alice-pw",
    ),
    "invalid-utf8": ("application/x-www-form-urlencoded", b"grant_type=password&username=\xff"),
    "invalid-utf8-escaped": (
        "application/x-www-form-urlencoded",
        b"grant_type=password&username=%FF%FE",
    ),
    "multipart-no-boundary": ("multipart/form-data", b"--x\r\n\r\n"),
    "multipart-no-name": (
        "multipart/form-data; boundary=x",
        b"--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--\r\n",
    ),
    "multipart-truncated": (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\npass',
    ),
    "json": ("application/json", b'{"grant_type":"password"}'),
    "no-content-type": ("", b"grant_type=password"),
    "too-many-fields": ("application/x-www-form-urlencoded", b"&".join([b"a=1"] * 500)),
    "too-large": ("application/x-www-form-urlencoded", b"a=" + b"x" * 100_000),
    "gzip": ("application/x-www-form-urlencoded", gzip.compress(b"grant_type=password")),
}


@pytest.mark.parametrize("form", [pytest.param(v, id=k) for k, v in TOKEN_FORMS.items()])
def test_malformed_token_forms(token_registry: Target, form: tuple[str, bytes]) -> None:
    """Defect 9: 400 (JSON), never 500, and a good form still gets a token afterwards."""
    content_type, body = form
    headers = {"Content-Type": content_type} if content_type else {}
    if body.startswith(b"\x1f\x8b"):
        headers["Content-Encoding"] = "gzip"
    with token_registry.client() as http:
        response = http.post("/token", headers=headers, content=body)
        assert 400 <= response.status_code < 500, response.text
        assert response.status_code != 401
        assert_error(response, response.status_code)
        good = http.post(
            "/token",
            data={"grant_type": "password", "username": USER, "password": PASSWORD},
        )
        assert good.status_code == 200, good.text
        assert good.json()["token"]


def test_token_form_accepts_utf8_charset(token_registry: Target) -> None:
    with token_registry.client() as http:
        response = http.post(
            "/token",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
            content=f"grant_type=password&username={USER}&password={PASSWORD}".encode(),
        )
        assert response.status_code == 200, response.text
