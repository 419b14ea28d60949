"""Registry personalities, one row per rule and personality: each rule of the table
(fakeregistry.registry.personality) is checked on the wire against a server of its
personality (one per personality, shared by its rows; every row uses repositories of its own).

The checks are written once per rule kind (``CHECKS``), so a rule added to the table is tested
by its kind's check, and a kind without one fails ``test_every_rule_kind_is_checked``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakeregistry.cli.main import main
from fakeregistry.registry.http.blobhost import BLOB_HOST
from fakeregistry.registry.personality import FACTS, NAMES, PERSONALITIES, Personality, rules
from fakeregistry.registry.personality import rules as pr
from fakeregistry.rules import mediatypes as mt
from tests.personality_api import USER, Api, challenge_params, start

DOCS = Path(__file__).resolve().parent.parent / "docs" / "personalities.md"
_names = itertools.count()


def _repo(prefix: str = "team/app") -> str:
    return f"{prefix}{next(_names)}"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    document: dict[str, list[dict[str, Any]]] = response.json()
    return document["errors"]


def _code(response: httpx.Response) -> str:
    return str(_errors(response)[0]["code"])


def _image(api: Api, repo: str, tag: str = "v1") -> str:
    image = api.handle.push_image(f"{repo}:{tag}")
    return image.digest


def _tags(api: Api, repo: str, tags: list[str]) -> None:
    digest = _image(api, repo, tags[0])
    manifest = api.request(
        "GET", f"/v2/{repo}/manifests/{digest}", headers={"Accept": mt.OCI_MANIFEST}
    ).content
    for tag in tags[1:]:
        put = api.request(
            "PUT",
            f"/v2/{repo}/manifests/{tag}",
            content=manifest,
            headers={"Content-Type": mt.OCI_MANIFEST},
        )
        assert put.status_code == 201, put.text


def _session(api: Api, repo: str) -> str:
    started = api.request("POST", f"/v2/{repo}/blobs/uploads/")
    assert started.status_code == 202, started.text
    return started.headers["Location"]


# -- checks, one per rule kind ------------------------------------------------------------


def check_host_alias(api: Api, rule: pr.HostAlias) -> None:
    # Informational: shown by `fakeregistry personalities`; every host name reaches 127.0.0.1.
    assert rule.alias in rule.describe()
    assert rule.api_host in rule.describe()


def check_needs_library_prefix(api: Api, rule: pr.NeedsLibraryPrefix) -> None:
    response = api.request("GET", "/v2/openjdk/manifests/latest", "repository:openjdk:pull")
    assert response.status_code == 401
    header = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in header
    assert 'scope="repository:openjdk:pull"' in header
    assert _errors(response)[0]["detail"] == [
        {"Type": "repository", "Class": "", "Name": "openjdk", "Action": "pull"}
    ]
    # With library/ the same name is an ordinary unknown manifest.
    assert api.request("GET", "/v2/library/openjdk/manifests/latest").status_code == 404


def check_name_depth(api: Api, rule: pr.NameDepth) -> None:
    deep = "/".join(["g"] * rule.max_components) + "/x"
    response = api.request("GET", f"/v2/{deep}/manifests/latest")
    assert response.status_code == 401
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    fits = "/".join(["g"] * rule.max_components)
    assert api.request("GET", f"/v2/{fits}/manifests/latest").status_code == 404


def check_challenge(api: Api, rule: pr.Challenge) -> None:
    response = api.http.get("/v2/")
    assert response.status_code == 401
    header = response.headers["WWW-Authenticate"]
    params = challenge_params(header)
    if rule.scheme == "basic":
        assert header.startswith("Basic ")
        assert params == {"realm": api.server.url + "/", "service": rule.service}
        assert api.request("GET", "/v2/").status_code == 200
        return
    assert header.startswith("Bearer ")
    expected = {"realm": api.server.url + rule.realm_path, "service": rule.service}
    if rule.ping_scope:
        expected["scope"] = rule.ping_scope
    assert params == expected
    assert api.request("GET", "/v2/").status_code == 200


def check_token_fields(api: Api, rule: pr.TokenFields) -> None:
    body = api.token("repository:a/b:pull").json()
    if rule.fields is not None:
        assert {"token", "access_token"} & set(body) == set(rule.fields)
    assert body.get("expires_in") == rule.expires_in


def check_anonymous_tokens(api: Api, rule: pr.AnonymousTokens) -> None:
    repo = _repo()
    _image(api, repo)
    answer = api.token(f"repository:{repo}:pull", user=None)
    if not rule.allowed:
        assert answer.status_code == 401
        return
    assert answer.status_code == 200
    pulled = api.request("GET", f"/v2/{repo}/tags/list", f"repository:{repo}:pull", user=None)
    assert pulled.status_code == 200
    # Anonymous or not, a request without a token is challenged: the exchange is required.
    assert api.http.get(f"/v2/{repo}/tags/list").status_code == 401


def check_refresh_tokens(api: Api, rule: pr.RefreshTokens) -> None:
    repo = _repo()
    _image(api, repo)
    config = api.auth
    stand_in = api.token().json()["access_token"]  # this server's token stands in for Entra ID
    exchanged = api.http.post(
        rule.exchange_path,
        data={"grant_type": "access_token", "service": config.service, "access_token": stand_in},
    )
    assert exchanged.status_code == 200, exchanged.text
    refresh = exchanged.json()["refresh_token"]
    answer = api.http.post(
        config.token_path,
        data={
            "grant_type": "refresh_token",
            "service": config.service,
            "scope": f"repository:{repo}:pull",
            "refresh_token": refresh,
        },
    )
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"access_token"}
    listed = api.http.get(
        f"/v2/{repo}/tags/list",
        headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
    )
    assert listed.status_code == 200
    # `docker login -u 00000000-0000-0000-0000-000000000000 -p <refresh token>`.
    assert api.token(f"repository:{repo}:pull", user=(rule.user, refresh)).status_code == 200
    assert api.token(f"repository:{repo}:pull", user=(rule.user, "forged")).status_code == 401


def check_password_grant_refused(api: Api, rule: pr.PasswordGrantRefused) -> None:
    config = api.auth
    answer = api.http.post(
        config.token_path,
        data={
            "grant_type": "password",
            "service": config.service,
            "username": USER[0],
            "password": USER[1],
        },
    )
    assert answer.status_code == 400


def check_scope_actions(api: Api, rule: pr.ScopeActions) -> None:
    answer = api.token("repository:a/b:pull,delete")
    assert answer.status_code == 400
    assert _code(answer) == "INVALID_REQUEST"
    assert api.token("repository:a/b:*").status_code == 200


def check_basic_on_api(api: Api, rule: pr.BasicOnApi) -> None:
    repo = _repo()
    _image(api, repo)
    response = api.http.get(f"/v2/{repo}/tags/list", auth=USER)
    if rule.accepted:
        assert response.status_code == 200
        return
    assert response.status_code == rule.status
    assert _errors(response)[0] == {"code": rule.code, "message": rule.message}


def check_basic_realm_fallback(api: Api, rule: pr.BasicRealmFallback) -> None:
    catalog = api.http.get("/v2/_catalog")
    assert catalog.status_code == 401
    assert catalog.headers["WWW-Authenticate"] == f'Basic realm="{rule.realm}"'
    forged = api.http.get("/v2/a/b/tags/list", headers={"Authorization": "Bearer forged"})
    assert forged.status_code == 401
    assert forged.headers["WWW-Authenticate"] == f'Basic realm="{rule.realm}"'


def check_unauthenticated_head(api: Api, rule: pr.UnauthenticatedHead) -> None:
    repo = _repo("library/app")
    _image(api, repo)
    assert api.http.head(f"/v2/{repo}/manifests/v1").status_code == 401
    assert api.request("HEAD", f"/v2/{repo}/manifests/v1").status_code == 200


def check_upload_status(api: Api, rule: pr.UploadStatus) -> None:
    repo = _repo()
    location = _session(api, repo)
    patched = api.request(
        "PATCH",
        location,
        f"repository:{repo}:*",
        content=b"chunk",
        headers={"Content-Range": "0-4", "Content-Type": mt.OCTET_STREAM},
    )
    assert patched.status_code == rule.status
    finished = api.request(
        "PUT",
        patched.headers["Location"] + f"?digest={_digest(b'chunk')}",
        f"repository:{repo}:*",
    )
    assert finished.status_code == 201


def check_upload_location_relative(api: Api, rule: pr.UploadLocationRelative) -> None:
    assert _session(api, _repo()).startswith("/v2/")


def check_upload_uuid_header(api: Api, rule: pr.UploadUuidHeader) -> None:
    started = api.request("POST", f"/v2/{_repo()}/blobs/uploads/")
    assert rule.name in started.headers
    assert "Docker-Upload-UUID" not in started.headers


def check_monolithic_content_type(api: Api, rule: pr.MonolithicContentType) -> None:
    repo = _repo()
    target = f"/v2/{repo}/blobs/uploads/?digest={_digest(b'whole')}"
    refused = api.request("POST", target, content=b"whole")
    assert refused.status_code == 415
    accepted = api.request(
        "POST", target, content=b"whole", headers={"Content-Type": rule.content_type}
    )
    assert accepted.status_code == 201


def check_content_range_ignored(api: Api, rule: pr.ContentRangeIgnored) -> None:
    repo = _repo()
    location = _session(api, repo)
    # The spec (and distribution 3) answer 416: this chunk does not start at 0.
    patched = api.request(
        "PATCH",
        location,
        f"repository:{repo}:*",
        content=b"12345",
        headers={"Content-Range": "7-11"},
    )
    assert patched.status_code == 202


def check_mount_ignored(api: Api, rule: pr.MountIgnored) -> None:
    source, target = _repo(), _repo()
    image = api.handle.push_image(f"{source}:v1")
    digest = image.layers[0].digest
    mounted = api.request(
        "POST",
        f"/v2/{target}/blobs/uploads/?mount={digest}&from={source}",
        f"repository:{target}:*",
        f"repository:{source}:pull",
    )
    assert mounted.status_code == 202
    assert api.request("HEAD", f"/v2/{target}/blobs/{digest}").status_code == 404


def check_mount_from_without_mount(api: Api, rule: pr.MountFromWithoutMount) -> None:
    response = api.request("POST", f"/v2/{_repo()}/blobs/uploads/?from=other/repo")
    assert response.status_code == 405


def check_manifest_types_refused(api: Api, rule: pr.ManifestTypesRefused) -> None:
    repo = _repo()
    for media_type in rule.media_types:
        body = json.dumps({"schemaVersion": 2, "mediaType": media_type}).encode()
        response = api.request(
            "PUT",
            f"/v2/{repo}/manifests/v1",
            content=body,
            headers={"Content-Type": media_type},
        )
        assert response.status_code == rule.status
        assert _errors(response)[0]["detail"] == {"mediaType": media_type}


def check_delete_refused(api: Api, rule: pr.DeleteRefused) -> None:
    repo = _repo()
    digest = _image(api, repo)
    expected = {"code": rule.code, "message": rule.message}
    if rule.target in ("tag", "any"):
        by_tag = api.request("DELETE", f"/v2/{repo}/manifests/v1")
        assert by_tag.status_code == rule.status
        assert _errors(by_tag)[0] == expected
    if rule.target in ("tagged-digest", "any"):
        by_digest = api.request("DELETE", f"/v2/{repo}/manifests/{digest}")
        assert by_digest.status_code == rule.status
        assert _errors(by_digest)[0] == expected
    if rule.target == "any":
        layer = api.request("GET", f"/v2/{repo}/manifests/{digest}").json()["layers"][0]
        blob = api.request("DELETE", f"/v2/{repo}/blobs/{layer['digest']}")
        assert blob.status_code == rule.status
    else:
        # Untagged (or by digest) deletes still work.
        assert api.request("HEAD", f"/v2/{repo}/manifests/v1").status_code == 200


def check_catalog_absent(api: Api, rule: pr.CatalogAbsent) -> None:
    response = api.request("GET", "/v2/_catalog", "registry:catalog:*")
    assert response.status_code == rule.status


def _list(api: Api, repo: str, query: str = "") -> httpx.Response:
    response = api.request("GET", f"/v2/{repo}/tags/list{query}")
    assert response.status_code == 200, response.text
    return response


def check_page_default(api: Api, rule: pr.PageDefault) -> None:
    repo = _repo()
    _tags(api, repo, [f"t{i:03}" for i in range(rule.n + 3)])
    first = _list(api, repo)
    assert len(first.json()["tags"]) == rule.n
    assert 'rel="next"' in first.headers["Link"]
    everything = _list(api, repo, f"?n={rule.n + 10}")
    assert len(everything.json()["tags"]) == rule.n + 3
    assert "Link" not in everything.headers


def check_page_cap(api: Api, rule: pr.PageCap) -> None:
    repo = _repo()
    _tags(api, repo, [f"t{i:03}" for i in range(rule.n + 3)])
    for query in ("", f"?n={rule.n * 5}"):
        page = _list(api, repo, query)
        assert len(page.json()["tags"]) == rule.n
        assert 'rel="next"' in page.headers["Link"]
    assert len(_list(api, repo, "?n=2").json()["tags"]) == 2


def check_page_limit_error(api: Api, rule: pr.PageLimitError) -> None:
    repo = _repo()
    _image(api, repo)
    response = api.request("GET", f"/v2/{repo}/tags/list?n={rule.max_n + 1}")
    assert response.status_code == rule.status
    assert _errors(response) == [{"code": rule.code, "message": rule.message}]
    assert _list(api, repo, f"?n={rule.max_n}").status_code == 200


def check_paging_ignored(api: Api, rule: pr.PagingIgnored) -> None:
    repo = _repo()
    _tags(api, repo, ["a", "b", "c"])
    page = _list(api, repo, "?n=1&last=a")
    assert page.json()["tags"] == ["a", "b", "c"]
    assert "Link" not in page.headers


def check_link_style(api: Api, rule: pr.LinkStyle) -> None:
    repo = _repo()
    _tags(api, repo, ["a", "b", "c"])
    link = _list(api, repo, "?n=2").headers["Link"]
    if rule.style == "absolute":
        assert link == f'<{api.server.url}/v2/{repo}/tags/list?n=2&last=b>; rel="next"'
    else:
        assert link == f'</v2/{repo}/tags/list?last=b&n=2&orderby=>; rel="next"'


def check_tag_order(api: Api, rule: pr.TagOrder) -> None:
    repo = _repo()
    _tags(api, repo, ["zeta", "alpha", "mid"])
    assert _list(api, repo).json()["tags"] == ["zeta", "alpha", "mid"]
    page = _list(api, repo, "?n=1&last=zeta")
    assert page.json()["tags"] == ["alpha"]


def check_listing_content_type(api: Api, rule: pr.ListingContentType) -> None:
    repo = _repo()
    _image(api, repo)
    assert _list(api, repo).headers["Content-Type"] == rule.content_type


def check_referrers_absent(api: Api, rule: pr.ReferrersAbsent) -> None:
    repo = _repo()
    image = api.handle.push_image(f"{repo}:v1")
    assert api.request("GET", f"/v2/{repo}/referrers/{image.digest}").status_code == 404
    artifact = api.handle.push_artifact(f"{repo}:sig", subject=image)
    manifest = api.request(
        "GET", f"/v2/{repo}/manifests/{artifact.digest}", headers={"Accept": mt.OCI_MANIFEST}
    ).content
    put = api.request(
        "PUT",
        f"/v2/{repo}/manifests/again",
        content=manifest,
        headers={"Content-Type": mt.OCI_MANIFEST},
    )
    assert put.status_code == 201
    assert "OCI-Subject" not in put.headers


def check_referrers_unknown_subject(api: Api, rule: pr.ReferrersUnknownSubject) -> None:
    repo = _repo()
    image = api.handle.push_image(f"{repo}:v1")
    unknown = api.request("GET", f"/v2/{repo}/referrers/{_digest(b'nothing')}")
    assert unknown.status_code == 400
    assert _code(unknown) == "MANIFEST_INVALID"
    assert api.request("GET", f"/v2/{repo}/referrers/{image.digest}").status_code == 200


def check_error_rewrite(api: Api, rule: pr.ErrorRewrite) -> None:
    repo = _repo()
    _image(api, repo)
    if rule.code == "MANIFEST_UNKNOWN" or rule.code is None:
        response = api.request("GET", f"/v2/{repo}/manifests/missing")
    elif rule.code == "NAME_UNKNOWN":
        response = api.request("GET", f"/v2/{_repo()}/tags/list")
    else:
        assert rule.code == "UNSUPPORTED"
        # The core's UNSUPPORTED: deletes switched off.
        options = api.server.options
        api.server.call(
            setattr, api.server.storage, "options", dataclasses.replace(options, deletes=False)
        )
        try:
            digest = api.request("HEAD", f"/v2/{repo}/manifests/v1").headers[
                "Docker-Content-Digest"
            ]
            response = api.request("DELETE", f"/v2/{repo}/manifests/{digest}")
        finally:
            api.server.call(setattr, api.server.storage, "options", options)
    assert response.status_code == (rule.to_status or response.status_code)
    if rule.to_code:
        assert _code(response) == rule.to_code
    if rule.content_type:
        assert response.headers["Content-Type"] == rule.content_type


def check_extra_header(api: Api, rule: pr.ExtraHeader) -> None:
    assert rule.name in api.request("GET", "/v2/").headers
    assert rule.name in api.request("GET", f"/v2/{_repo()}/manifests/missing").headers


def check_rate_limit(api: Api, rule: pr.RateLimit) -> None:
    repo = _repo("library/app")
    _image(api, repo)
    path = f"/v2/{repo}/manifests/v1"
    accept = {"Accept": mt.OCI_MANIFEST}
    first = api.request("GET", path, headers=accept)
    assert first.headers["ratelimit-limit"] == f"{rule.authenticated};w={rule.window}"
    remaining = int(first.headers["ratelimit-remaining"].split(";")[0])
    assert first.headers["docker-ratelimit-source"] == "127.0.0.1"
    head = api.request("HEAD", path, headers=accept)
    assert int(head.headers["ratelimit-remaining"].split(";")[0]) == remaining  # HEAD is free
    second = api.request("GET", path, headers=accept)
    assert int(second.headers["ratelimit-remaining"].split(";")[0]) == remaining - 1
    # Past the limit (a copy of the personality with a limit of 2): 429 with Hub's body.
    tight = dataclasses.replace(
        api.personality,
        rules=tuple(
            dataclasses.replace(r, anonymous=2, authenticated=2)
            if isinstance(r, pr.RateLimit)
            else r
            for r in api.personality.rules
        ),
    )
    small = start(tight)
    try:
        _image(small, repo)
        statuses = [small.request("GET", path, headers=accept).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        refused = small.request("GET", path, headers=accept)
        assert _errors(refused) == [{"code": "TOOMANYREQUESTS", "message": rule.message}]
        assert small.request("HEAD", path, headers=accept).status_code == 200
    finally:
        small.close()
        small.server.stop()


def check_blob_redirect(api: Api, rule: pr.BlobRedirect) -> None:
    repo = _repo("library/app")
    image = api.handle.push_image(f"{repo}:v1")
    layer = image.layers[0]
    path = f"/v2/{repo}/blobs/{layer.digest}"
    redirect = api.request("GET", path)
    assert redirect.status_code == rule.status
    location = redirect.headers["Location"]
    assert api.server.blob_host_url is not None
    assert location.startswith(api.server.blob_host_url + "/")
    if rule.html_body:
        assert redirect.headers["Content-Type"].startswith("text/html")
        assert location in redirect.text
    # The storage host serves it without the registry's credentials ...
    fetched = httpx.get(location)
    assert fetched.status_code == 200
    assert fetched.content == layer.data
    ranged = httpx.get(location, headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206
    assert ranged.content == layer.data[:4]
    # ... and refuses them, as S3 does; a forged signature and an expired URL are refused too.
    forwarded = httpx.get(location, headers=api.authorization(f"repository:{repo}:pull"))
    assert forwarded.status_code == 400
    assert "<Code>InvalidArgument</Code>" in forwarded.text
    assert httpx.get(location.replace("signature=", "signature=0")).status_code == 403
    blob_host = api.server._server.app[BLOB_HOST]
    expired = blob_host.sign(repo, layer.digest, expiry=-1, template=rule.path)
    assert "Request has expired" in httpx.get(expired).text
    # HEAD and unknown blobs answer on the registry itself.
    assert api.request("HEAD", path).status_code == 200
    assert api.request("GET", f"/v2/{repo}/blobs/{_digest(b'none')}").status_code == 404


CHECKS: dict[type[pr.Rule], Callable[[Api, Any], None]] = {
    pr.HostAlias: check_host_alias,
    pr.NeedsLibraryPrefix: check_needs_library_prefix,
    pr.NameDepth: check_name_depth,
    pr.Challenge: check_challenge,
    pr.TokenFields: check_token_fields,
    pr.AnonymousTokens: check_anonymous_tokens,
    pr.RefreshTokens: check_refresh_tokens,
    pr.PasswordGrantRefused: check_password_grant_refused,
    pr.ScopeActions: check_scope_actions,
    pr.BasicOnApi: check_basic_on_api,
    pr.BasicRealmFallback: check_basic_realm_fallback,
    pr.UnauthenticatedHead: check_unauthenticated_head,
    pr.UploadStatus: check_upload_status,
    pr.UploadLocationRelative: check_upload_location_relative,
    pr.UploadUuidHeader: check_upload_uuid_header,
    pr.MonolithicContentType: check_monolithic_content_type,
    pr.ContentRangeIgnored: check_content_range_ignored,
    pr.MountIgnored: check_mount_ignored,
    pr.MountFromWithoutMount: check_mount_from_without_mount,
    pr.ManifestTypesRefused: check_manifest_types_refused,
    pr.DeleteRefused: check_delete_refused,
    pr.CatalogAbsent: check_catalog_absent,
    pr.PageDefault: check_page_default,
    pr.PageCap: check_page_cap,
    pr.PageLimitError: check_page_limit_error,
    pr.PagingIgnored: check_paging_ignored,
    pr.LinkStyle: check_link_style,
    pr.TagOrder: check_tag_order,
    pr.ListingContentType: check_listing_content_type,
    pr.ReferrersAbsent: check_referrers_absent,
    pr.ReferrersUnknownSubject: check_referrers_unknown_subject,
    pr.ErrorRewrite: check_error_rewrite,
    pr.ExtraHeader: check_extra_header,
    pr.RateLimit: check_rate_limit,
    pr.BlobRedirect: check_blob_redirect,
}

ROWS = [
    pytest.param(p, rule, id=f"{p.name}-{i}-{rule.kind}")
    for p in PERSONALITIES.values()
    for i, rule in enumerate(p.rules)
]


@pytest.fixture(scope="module")
def apis() -> Iterator[dict[str, Api]]:
    """One server per personality, started on first use, shared by its rows."""
    made: dict[str, Api] = {}
    yield made
    for api in made.values():
        api.close()
        api.server.stop()


@pytest.mark.parametrize(("personality", "rule"), ROWS)
def test_rule(personality: Personality, rule: pr.Rule, apis: dict[str, Api]) -> None:
    if personality.name not in apis:
        apis[personality.name] = start(personality)
    CHECKS[type(rule)](apis[personality.name], rule)


def test_every_rule_kind_is_checked() -> None:
    kinds = {getattr(rules, name) for name in rules.__all__ if name not in ("R", "Rule")}
    assert kinds == set(CHECKS)


def test_every_fact_is_cited_in_the_docs() -> None:
    text = DOCS.read_text()
    used = {rule.fact for p in PERSONALITIES.values() for rule in p.rules}
    assert used <= set(FACTS)
    missing = [fact for fact in sorted(FACTS) if f"`{fact}`" not in text]
    assert not missing, f"docs/personalities.md does not cite {missing}"
    for name in NAMES:
        assert re.search(rf"^## .*`{re.escape(name)}`", text, re.M), name


@pytest.mark.parametrize("name", NAMES)
def test_the_spec_core_where_no_rule_says_otherwise(name: str, apis: dict[str, Api]) -> None:
    """Without a rule of a kind, a personality answers as the core: referrers exist, PATCH is
    202, tag deletes work (where deletes are allowed at all), tags/list is lexical."""
    if name not in apis:
        apis[name] = start(name)
    api = apis[name]
    p = api.personality
    repo = _repo("library/app")
    image = api.handle.push_image(f"{repo}:v1")
    if not p.rule(pr.ReferrersAbsent):
        assert api.request("GET", f"/v2/{repo}/referrers/{image.digest}").status_code == 200
    if not p.rule(pr.UploadStatus):
        location = _session(api, repo)
        patched = api.request("PATCH", location, content=b"x", headers={"Content-Range": "0-0"})
        assert patched.status_code == 202
    if not p.all(pr.DeleteRefused):
        assert api.request("DELETE", f"/v2/{repo}/manifests/v1").status_code == 202
    if not p.rule(pr.TagOrder) and not p.rule(pr.PageDefault) and not p.rule(pr.PageCap):
        _tags(api, repo, ["b", "a"])
        assert _list(api, repo).json()["tags"] == sorted(_list(api, repo).json()["tags"])


def test_personalities_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["personalities"]) == 0
    out = capsys.readouterr().out
    for p in PERSONALITIES.values():
        assert f"{p.name}: {p.title} (facts as of {p.as_of})" in out
    assert "[regclient-blob, C 2026-07-01]" in out
    assert main(["personalities", "quay", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in records] == ["quay"]
    assert {r["kind"] for r in records[0]["rules"]} >= {"TokenFields", "PageCap"}


def test_unknown_personality_is_refused() -> None:
    from fakeregistry import RegistryOptions

    with pytest.raises(ValueError, match="unknown personality 'artifactory'"):
        RegistryOptions(personality="artifactory")


# -- the switches: serve, the marker (session), the web page -------------------------------


def test_serve_personality() -> None:
    from tests.test_cli import start as serve

    process, url = serve("--personality", "ghcr", "--quiet")
    try:
        ping = httpx.get(url + "v2/")
        assert ping.status_code == 401
        assert 'scope="repository:user/image:pull"' in ping.headers["WWW-Authenticate"]
        token = httpx.get(url + "token", params={"scope": "repository:a/b:pull"}, auth=USER)
        assert token.status_code == 200
        assert "X-GitHub-Request-Id" in httpx.get(url + "v2/").headers
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_serve_personality_refuses_auth() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "fakeregistry", "serve", "--personality", "ecr", "--auth", "basic"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "brings its own auth" in done.stderr


def test_marker_personality_shares_a_server_per_personality() -> None:
    from fakeregistry import HandleConfig
    from fakeregistry.testing.session import RegistrySession

    session = RegistrySession()
    try:
        config = HandleConfig.from_marker({"personality": "ecr", "images": ["team/app:1"]})
        assert config.users == {"user": "password"}
        first = session.acquire(config)
        assert first.server is not None
        assert first.server.auth is not None
        assert first.server.auth.mode == "basic"
        assert first.pull("team/app:1").layers
        again = session.acquire(HandleConfig.from_marker({"personality": "ecr"}))
        assert again.url == first.url
        assert httpx.get(f"{again.url}/v2/_catalog", auth=USER).json() == {"repositories": []}
        assert session.acquire(HandleConfig()).url != first.url
        with pytest.raises(ValueError, match="personality is fixed"):
            again.configure(personality="ghcr")
        again.configure(deletes=False)  # other options still change per test
        assert again.server is not None
        assert again.server.options.persona.name == "ecr"
    finally:
        session.close()
    with pytest.raises(TypeError, match="brings its own auth"):
        HandleConfig.from_marker({"personality": "ghcr", "auth": "token"})
    with pytest.raises(TypeError, match="unknown personality"):
        HandleConfig.from_marker({"personality": "nexus"})


async def test_web_page_names_the_personality() -> None:
    from aiohttp import test_utils

    from fakeregistry import RegistryOptions
    from fakeregistry.registry.app import create_app
    from fakeregistry.registry.storage import Storage

    for name, shown in (("zot", True), ("spec", False)):
        app = create_app(storage=Storage(RegistryOptions(personality=name)), web_ui=True)
        async with test_utils.TestClient(test_utils.TestServer(app)) as client:
            text = await (await client.get("/")).text()
        assert ("Personality: <b>zot</b>" in text) is shown
