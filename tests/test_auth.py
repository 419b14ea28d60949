"""Basic and token auth: every refusal is the right status and error code, carries the right
challenge, and changes nothing in the store; what is allowed works end to end.

The registries here share one set of users and rules:

- ``admin`` may do everything everywhere and list the catalog (it seeds the content);
- ``alice`` may pull, push and delete under ``team/`` and list the catalog;
- ``bob`` may pull under ``team/``;
- anonymous users may pull under ``public/``.

Seeded content: an image ``team/app:v1``, an image ``secret/vault:v1``, an image ``public/lib:v1``
and an open upload session in ``team/app``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fakeregistry import RegistryServer, create_app
from fakeregistry.registry.auth import (
    Access,
    AccessPolicy,
    AccessRule,
    AuthConfig,
    AuthMode,
    TokenAuthority,
    Users,
    bearer_challenge,
    is_scoped_name,
    parse_scope,
    parse_scopes,
    required_access,
)
from fakeregistry.rules.mediatypes import OCI_MANIFEST
from tests.content import Pushed, digest_of, push_image

KEY = ec.generate_private_key(ec.SECP256R1())
SERVICE = "fakeregistry"
USERS = {"admin": "admin-pw", "alice": "alice-pw", "bob": "bob-pw"}
POLICY = AccessPolicy(
    rules=(
        AccessRule("admin", "*", "*", catalog=True),
        AccessRule("alice", "team/*", "*", catalog=True),
        AccessRule("bob", "team/*", ["pull"]),
    ),
    anonymous_pull=["public/*"],
)


# -- helpers ----------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token: str) -> dict[str, Any]:
    """A token's claims, unverified (to look at what the endpoint granted)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def forge(header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Seeded:
    app: Pushed
    vault: Pushed
    public: Pushed
    upload: str


@dataclass
class Env:
    """A running registry with auth, its seeded content, and ways to get credentials."""

    registry: RegistryServer
    http: httpx.Client
    mode: AuthMode
    seeded: Seeded = field(init=False)

    @property
    def realm(self) -> str:
        return f"{self.registry.url}/token"

    def token(self, user: str | None, *scopes: str) -> str:
        """A token from the endpoint for ``user`` (None: anonymous) asking for ``scopes``."""
        headers = basic(user, USERS[user]) if user else {}
        response = self.http.get(
            "/token", params={"service": SERVICE, "scope": list(scopes)}, headers=headers
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token

    def auth(self, user: str, *scopes: str) -> dict[str, str]:
        """Credentials of ``user`` as this registry's mode wants them."""
        if self.mode == "basic":
            return basic(user, USERS[user])
        return bearer(self.token(user, *scopes))

    def snapshot(self) -> Any:
        """Everything the store holds, to compare before and after a refused request."""

        def take() -> Any:
            store = self.registry.storage
            return (
                sorted(store.blobs),
                {
                    name: (sorted(repo.blobs), sorted(repo.manifests), dict(repo.tags))
                    for name, repo in store.repositories.items()
                },
                {upload.id: (upload.repository, upload.size) for upload in store.uploads.values()},
            )

        return self.registry.call(take)


def _config(mode: AuthMode, policy: AccessPolicy = POLICY) -> AuthConfig:
    return AuthConfig(
        mode=mode,
        users=Users(USERS),
        policy=policy,
        tokens=TokenAuthority(service=SERVICE, key=KEY) if mode == "token" else None,
    )


@pytest.fixture
def start_env() -> Iterator[Callable[..., Env]]:
    servers: list[RegistryServer] = []
    clients: list[httpx.Client] = []
    errors: list[BaseException] = []

    def start(mode: AuthMode, policy: AccessPolicy = POLICY) -> Env:
        registry = RegistryServer(auth=_config(mode, policy), on_error=errors.append).start()
        servers.append(registry)
        client = httpx.Client(base_url=registry.url, timeout=30)
        clients.append(client)
        env = Env(registry, client, mode)
        env.seeded = _seed(env)
        return env

    yield start
    for client in clients:
        client.close()
    for server in servers:
        server.stop()
    if errors:
        raise errors[0]


def _seed(env: Env) -> Seeded:
    scopes = ["repository:team/app:*", "repository:secret/vault:*", "repository:public/lib:*"]
    with httpx.Client(
        base_url=env.registry.url, headers=env.auth("admin", *scopes), timeout=30
    ) as admin:
        app = push_image(admin, "team/app", "v1", seed="app")
        vault = push_image(admin, "secret/vault", "v1", seed="vault")
        public = push_image(admin, "public/lib", "v1", seed="public")
        started = admin.post("/v2/team/app/blobs/uploads/")
        assert started.status_code == 202, started.text
    return Seeded(app, vault, public, started.headers["Docker-Upload-UUID"])


def _raw_get(env: Env, path: str, headers: dict[str, str]) -> httpx.Response:
    """GET ``path`` exactly as written (httpx would resolve ``..`` before sending)."""
    url = httpx.URL(env.registry.url)
    assert url.host
    assert url.port
    connection = http.client.HTTPConnection(url.host, url.port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        raw = connection.getresponse()
        return httpx.Response(raw.status, headers=raw.getheaders(), content=raw.read())
    finally:
        connection.close()


# -- the refusals -----------------------------------------------------------------------------

Send = Callable[[Env], httpx.Response]


@dataclass(frozen=True)
class Refusal:
    send: Send
    status: int
    code: str
    # The WWW-Authenticate header, with {realm} for the token URL; None: must be absent.
    challenge: str | None


def _manifest(repo: str) -> str:
    return f"/v2/{repo}/manifests/v1"


def _get(repo: str, headers: Callable[[Env], dict[str, str]] = lambda env: {}) -> Send:
    return lambda env: env.http.get(_manifest(repo), headers=headers(env))


def _put_manifest(repo: str, headers: Callable[[Env], dict[str, str]]) -> Send:
    def send(env: Env) -> httpx.Response:
        pushed = env.seeded.app
        return env.http.put(
            f"/v2/{repo}/manifests/v2",
            content=pushed.body,
            headers={"Content-Type": pushed.media_type, **headers(env)},
        )

    return send


def _push_blob(repo: str, headers: Callable[[Env], dict[str, str]]) -> Send:
    data = b"a blob that must not land"
    return lambda env: env.http.post(
        f"/v2/{repo}/blobs/uploads/",
        params={"digest": digest_of(data)},
        content=data,
        headers=headers(env),
    )


def _patch_upload(headers: Callable[[Env], dict[str, str]]) -> Send:
    return lambda env: env.http.patch(
        f"/v2/team/app/blobs/uploads/{env.seeded.upload}",
        content=b"chunk",
        headers={"Content-Type": "application/octet-stream", **headers(env)},
    )


def _delete(repo: str, headers: Callable[[Env], dict[str, str]]) -> Send:
    def send(env: Env) -> httpx.Response:
        pushed = env.seeded.vault if repo == "secret/vault" else env.seeded.app
        return env.http.delete(f"/v2/{repo}/manifests/{pushed.digest}", headers=headers(env))

    return send


def _mount(headers: Callable[[Env], dict[str, str]]) -> Send:
    def send(env: Env) -> httpx.Response:
        layer = env.seeded.vault.blobs[1]
        return env.http.post(
            "/v2/team/app/blobs/uploads/",
            params={"mount": layer, "from": "secret/vault"},
            headers=headers(env),
        )

    return send


def _catalog(headers: Callable[[Env], dict[str, str]]) -> Send:
    return lambda env: env.http.get("/v2/_catalog", headers=headers(env))


def _as(user: str, *scopes: str) -> Callable[[Env], dict[str, str]]:
    return lambda env: env.auth(user, *scopes)


def _as_anonymous(*scopes: str) -> Callable[[Env], dict[str, str]]:
    return lambda env: bearer(env.token(None, *scopes))


def _token_by(authority: Callable[[], TokenAuthority], **issue: Any) -> Callable[[Env], Any]:
    def headers(env: Env) -> dict[str, str]:
        access = [Access.repository("team/app", "pull", "push", "delete")]
        return bearer(authority().issue("alice", access, **issue).token)

    return headers


def _forged(kind: str) -> Callable[[Env], dict[str, str]]:
    """alice's pull-only token for team/app, altered to claim push and delete."""

    def headers(env: Env) -> dict[str, str]:
        token = env.token("alice", "repository:team/app:pull")
        header_text, payload_text, signature = token.split(".")
        header = json.loads(_unb64(header_text))
        payload = json.loads(_unb64(payload_text))
        payload["access"] = [Access.repository("team/app", "pull", "push", "delete").as_claim()]
        if kind == "payload":  # new claims under the old signature
            return bearer(forge(header, payload, lambda _: _unb64(signature)))
        if kind == "none":
            return bearer(forge({"alg": "none", "typ": "JWT"}, payload, lambda _: b""))
        if kind == "hs256":  # HMAC keyed with the public key: the classic algorithm confusion
            pem = KEY.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            signer: Callable[[bytes], bytes] = lambda data: hmac.new(  # noqa: E731
                pem, data, hashlib.sha256
            ).digest()
            return bearer(forge({"alg": "HS256", "typ": "JWT"}, payload, signer))
        raise AssertionError(kind)

    return headers


def _escaped(scope: str) -> Callable[[Env], dict[str, str]]:
    """alice's token for a scope that tries to escape ``team/`` (granted nothing)."""
    return lambda env: bearer(env.token("alice", scope))


def _bearer_challenge(scope: str | None, error: str | None = None) -> str:
    text = 'Bearer realm="{realm}",service="fakeregistry"'
    if scope:
        text += f',scope="{scope}"'
    if error:
        text += f',error="{error}"'
    return text


BASIC = 'Basic realm="fakeregistry"'
ALL = "pull,push,delete"

TOKEN_REFUSALS = [
    # No or wrong credentials.
    pytest.param(
        Refusal(
            _get("team/app"), 401, "UNAUTHORIZED", _bearer_challenge("repository:team/app:pull")
        ),
        id="no-credentials-pull",
    ),
    pytest.param(
        Refusal(
            _push_blob("team/app", lambda env: {}),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:pull,push"),
        ),
        id="no-credentials-push",
    ),
    pytest.param(
        Refusal(
            _delete("team/app", lambda env: {}),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:delete"),
        ),
        id="no-credentials-delete",
    ),
    pytest.param(
        Refusal(lambda env: env.http.get("/v2/"), 401, "UNAUTHORIZED", _bearer_challenge(None)),
        id="no-credentials-base",
    ),
    pytest.param(
        Refusal(
            _catalog(lambda env: {}),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("registry:catalog:*"),
        ),
        id="no-credentials-catalog",
    ),
    pytest.param(
        Refusal(
            _get("team/app", lambda env: basic("alice", USERS["alice"])),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:pull"),
        ),
        id="basic-credentials-where-a-token-is-needed",
    ),
    pytest.param(
        Refusal(
            lambda env: env.http.get("/token", headers=basic("alice", "wrong")),
            401,
            "UNAUTHORIZED",
            BASIC,
        ),
        id="token-endpoint-wrong-password",
    ),
    pytest.param(
        Refusal(
            lambda env: env.http.get("/token", headers=basic("mallory", "alice-pw")),
            401,
            "UNAUTHORIZED",
            BASIC,
        ),
        id="token-endpoint-unknown-user",
    ),
    pytest.param(
        Refusal(
            lambda env: env.http.post(
                "/token",
                data={"grant_type": "password", "username": "alice", "password": "wrong"},
            ),
            401,
            "UNAUTHORIZED",
            BASIC,
        ),
        id="token-endpoint-oauth-wrong-password",
    ),
    pytest.param(
        Refusal(
            lambda env: env.http.get("/token", headers={"Authorization": "Basic !!!"}),
            401,
            "UNAUTHORIZED",
            BASIC,
        ),
        id="token-endpoint-malformed-credentials",
    ),
    # Tokens that are not (or no longer) good.
    pytest.param(
        Refusal(
            _get("team/app", _token_by(lambda: TokenAuthority(key=KEY), now=time.time() - 3600)),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:pull", "invalid_token"),
        ),
        id="expired-token",
    ),
    pytest.param(
        Refusal(
            _get("team/app", _token_by(lambda: TokenAuthority(key=KEY), now=time.time() + 3600)),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:pull", "invalid_token"),
        ),
        id="token-not-yet-valid",
    ),
    pytest.param(
        Refusal(
            _push_blob("team/app", _token_by(lambda: TokenAuthority())),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:pull,push", "invalid_token"),
        ),
        id="token-signed-by-another-key",
    ),
    pytest.param(
        Refusal(
            _get("team/app", _token_by(lambda: TokenAuthority(key=KEY, service="elsewhere"))),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:pull", "invalid_token"),
        ),
        id="token-for-another-service",
    ),
    pytest.param(
        Refusal(
            _get("team/app", _token_by(lambda: TokenAuthority(key=KEY, issuer="someone-else"))),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:pull", "invalid_token"),
        ),
        id="token-from-another-issuer",
    ),
    pytest.param(
        Refusal(
            _put_manifest("team/app", _forged("payload")),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:pull,push", "invalid_token"),
        ),
        id="tampered-claims",
    ),
    pytest.param(
        Refusal(
            _put_manifest("team/app", _forged("none")),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:pull,push", "invalid_token"),
        ),
        id="tampered-alg-none",
    ),
    pytest.param(
        Refusal(
            _delete("team/app", _forged("hs256")),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:delete", "invalid_token"),
        ),
        id="tampered-alg-hs256-with-public-key",
    ),
    pytest.param(
        Refusal(
            _get("team/app", lambda env: bearer("not.a.token")),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:pull", "invalid_token"),
        ),
        id="garbage-token",
    ),
    # Good tokens, wrong use.
    pytest.param(
        Refusal(
            _push_blob("team/other", _as("alice", "repository:team/app:pull,push")),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/other:pull,push", "insufficient_scope"),
        ),
        id="token-for-repo-a-on-repo-b",
    ),
    pytest.param(
        Refusal(
            _get("secret/vault", _as("alice", "repository:team/app:pull")),
            403,
            "DENIED",
            None,
        ),
        id="token-for-repo-a-on-forbidden-repo-b",
    ),
    pytest.param(
        Refusal(
            _put_manifest("team/app", _as("alice", "repository:team/app:pull")),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:pull,push", "insufficient_scope"),
        ),
        id="pull-only-token-push-may-upgrade",
    ),
    pytest.param(
        Refusal(
            _delete("team/app", _as("alice", "repository:team/app:pull")),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:delete", "insufficient_scope"),
        ),
        id="pull-only-token-delete-may-upgrade",
    ),
    pytest.param(
        Refusal(
            _push_blob("team/app", _as("bob", f"repository:team/app:{ALL}")), 403, "DENIED", None
        ),
        id="reader-token-push",
    ),
    pytest.param(
        Refusal(_patch_upload(_as("bob", f"repository:team/app:{ALL}")), 403, "DENIED", None),
        id="reader-token-patch-upload",
    ),
    pytest.param(
        Refusal(
            _put_manifest("team/app", _as("bob", f"repository:team/app:{ALL}")),
            403,
            "DENIED",
            None,
        ),
        id="reader-token-push-manifest",
    ),
    pytest.param(
        Refusal(_delete("team/app", _as("bob", f"repository:team/app:{ALL}")), 403, "DENIED", None),
        id="reader-token-delete",
    ),
    pytest.param(
        Refusal(
            _mount(_as("alice", "repository:team/app:pull,push", "repository:secret/vault:pull")),
            403,
            "DENIED",
            None,
        ),
        id="mount-from-unreadable-repository",
    ),
    pytest.param(
        Refusal(_mount(_as("alice", "repository:team/app:pull,push")), 403, "DENIED", None),
        id="mount-from-unreadable-repository-not-asked",
    ),
    pytest.param(
        Refusal(_catalog(_as("bob", "registry:catalog:*")), 403, "DENIED", None),
        id="catalog-without-permission",
    ),
    pytest.param(
        Refusal(
            _push_blob("public/lib", _as_anonymous("repository:public/lib:pull,push")),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:public/lib:pull,push", "insufficient_scope"),
        ),
        id="anonymous-token-push",
    ),
    pytest.param(
        Refusal(
            _get("team/app", _as_anonymous("repository:team/app:pull")),
            401,
            "UNAUTHORIZED",
            _bearer_challenge("repository:team/app:pull", "insufficient_scope"),
        ),
        id="anonymous-token-private-pull",
    ),
    # Scopes and paths that try to leave team/.
    pytest.param(
        Refusal(
            _get("secret/vault", _escaped("repository:team/../secret/vault:pull")),
            403,
            "DENIED",
            None,
        ),
        id="scope-dotdot",
    ),
    pytest.param(
        Refusal(_get("secret/vault", _escaped("repository:*:pull")), 403, "DENIED", None),
        id="scope-wildcard",
    ),
    pytest.param(
        Refusal(_get("secret/vault", _escaped("repository:team/*:pull")), 403, "DENIED", None),
        id="scope-wildcard-suffix",
    ),
    pytest.param(
        Refusal(
            _delete("secret/vault", _escaped("repository:team/app:pull:secret/vault:delete")),
            403,
            "DENIED",
            None,
        ),
        id="scope-extra-colons",
    ),
    pytest.param(
        Refusal(
            lambda env: _raw_get(
                env,
                "/v2/team/../secret/vault/manifests/v1",
                bearer(env.token("alice", "repository:team/../secret/vault:pull")),
            ),
            403,
            "DENIED",
            None,
        ),
        id="path-dotdot",
    ),
]


BASIC_REFUSALS = [
    pytest.param(Refusal(_get("team/app"), 401, "UNAUTHORIZED", BASIC), id="no-credentials"),
    pytest.param(
        Refusal(lambda env: env.http.get("/v2/"), 401, "UNAUTHORIZED", BASIC),
        id="no-credentials-base",
    ),
    pytest.param(
        Refusal(_catalog(lambda env: {}), 401, "UNAUTHORIZED", BASIC), id="no-credentials-catalog"
    ),
    pytest.param(
        Refusal(_get("team/app", lambda env: basic("alice", "wrong")), 401, "UNAUTHORIZED", BASIC),
        id="wrong-password",
    ),
    pytest.param(
        Refusal(
            _push_blob("team/app", lambda env: basic("mallory", "x")), 401, "UNAUTHORIZED", BASIC
        ),
        id="unknown-user",
    ),
    pytest.param(
        Refusal(
            _get("team/app", lambda env: {"Authorization": "Basic !!!"}),
            401,
            "UNAUTHORIZED",
            BASIC,
        ),
        id="malformed-credentials",
    ),
    pytest.param(
        Refusal(
            _get("team/app", lambda env: bearer(TokenAuthority(key=KEY).issue("alice", []).token)),
            401,
            "UNAUTHORIZED",
            BASIC,
        ),
        id="bearer-token-where-basic-is-needed",
    ),
    pytest.param(
        Refusal(_push_blob("public/lib", lambda env: {}), 401, "UNAUTHORIZED", BASIC),
        id="anonymous-push",
    ),
    pytest.param(
        Refusal(_push_blob("team/app", _as("bob")), 403, "DENIED", None), id="reader-push"
    ),
    pytest.param(Refusal(_patch_upload(_as("bob")), 403, "DENIED", None), id="reader-patch-upload"),
    pytest.param(Refusal(_delete("team/app", _as("bob")), 403, "DENIED", None), id="reader-delete"),
    pytest.param(Refusal(_get("secret/vault", _as("alice")), 403, "DENIED", None), id="other-repo"),
    pytest.param(
        Refusal(_delete("secret/vault", _as("alice")), 403, "DENIED", None), id="other-repo-delete"
    ),
    pytest.param(Refusal(_mount(_as("alice")), 403, "DENIED", None), id="mount-from-unreadable"),
    pytest.param(Refusal(_catalog(_as("bob")), 403, "DENIED", None), id="catalog-reader"),
    pytest.param(
        Refusal(
            lambda env: _raw_get(
                env, "/v2/team/../secret/vault/manifests/v1", basic("alice", USERS["alice"])
            ),
            403,
            "DENIED",
            None,
        ),
        id="path-dotdot",
    ),
]


def _check_refusal(env: Env, refusal: Refusal) -> None:
    before = env.snapshot()
    response = refusal.send(env)
    assert response.status_code == refusal.status, response.text
    errors = response.json()["errors"]
    assert [error["code"] for error in errors] == [refusal.code]
    challenge = response.headers.get("WWW-Authenticate")
    if refusal.challenge is None:
        assert challenge is None
    else:
        assert challenge == refusal.challenge.format(realm=env.realm)
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert env.snapshot() == before


@pytest.mark.parametrize("refusal", TOKEN_REFUSALS)
def test_token_refusals(start_env: Callable[..., Env], refusal: Refusal) -> None:
    _check_refusal(start_env("token"), refusal)


@pytest.mark.parametrize("refusal", BASIC_REFUSALS)
def test_basic_refusals(start_env: Callable[..., Env], refusal: Refusal) -> None:
    _check_refusal(start_env("basic"), refusal)


def test_head_refusal_has_challenge_and_no_body(start_env: Callable[..., Env]) -> None:
    env = start_env("token")
    response = env.http.head(_manifest("team/app"))
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["WWW-Authenticate"] == _bearer_challenge(
        "repository:team/app:pull"
    ).format(realm=env.realm)


# -- what is allowed --------------------------------------------------------------------------


def _challenge_params(header: str) -> dict[str, str]:
    scheme, _, rest = header.partition(" ")
    assert scheme == "Bearer"
    return dict(re.findall(r'(\w+)="([^"]*)"', rest))


def test_token_flow_push_pull_and_scope_upgrade(start_env: Callable[..., Env]) -> None:
    env = start_env("token")
    # The client starts with a pull token, is told what it lacks, and asks again.
    headers = bearer(env.token("alice", "repository:team/new:pull"))
    refused = env.http.post("/v2/team/new/blobs/uploads/", headers=headers)
    assert refused.status_code == 401
    params = _challenge_params(refused.headers["WWW-Authenticate"])
    assert params == {
        "realm": env.realm,
        "service": SERVICE,
        "scope": "repository:team/new:pull,push",
        "error": "insufficient_scope",
    }
    answer = env.http.get(
        params["realm"],
        params={"service": params["service"], "scope": params["scope"]},
        headers=basic("alice", USERS["alice"]),
    )
    assert answer.status_code == 200
    with httpx.Client(base_url=env.registry.url, headers=bearer(answer.json()["token"])) as alice:
        pushed = push_image(alice, "team/new", "v1", seed="new")
        got = alice.get(_manifest("team/new"), headers={"Accept": pushed.media_type})
        assert got.status_code == 200
        assert got.content == pushed.body
        # Deleting needs its own action.
        manifest_url = f"/v2/team/new/manifests/{pushed.digest}"
        assert alice.delete(manifest_url).status_code == 401
    deleter = bearer(env.token("alice", "repository:team/new:delete"))
    assert env.http.delete(manifest_url, headers=deleter).status_code == 202
    # A reader pulls with a pull token.
    reader = bearer(env.token("bob", "repository:team/app:pull"))
    got = env.http.get(_manifest("team/app"), headers={"Accept": OCI_MANIFEST, **reader})
    assert got.status_code == 200
    assert got.content == env.seeded.app.body


def test_mount_with_pull_on_the_source(start_env: Callable[..., Env]) -> None:
    env = start_env("token")
    layer = env.seeded.app.blobs[1]
    headers = bearer(env.token("alice", "repository:team/copy:push,pull repository:team/app:pull"))
    mounted = env.http.post(
        "/v2/team/copy/blobs/uploads/", params={"mount": layer, "from": "team/app"}, headers=headers
    )
    assert mounted.status_code == 201
    assert env.http.head(f"/v2/team/copy/blobs/{layer}", headers=headers).status_code == 200


def test_catalog_with_catalog_scope(start_env: Callable[..., Env]) -> None:
    env = start_env("token")
    response = env.http.get(
        "/v2/_catalog", headers=bearer(env.token("alice", "registry:catalog:*"))
    )
    assert response.status_code == 200
    assert response.json()["repositories"] == ["public/lib", "secret/vault", "team/app"]


def test_token_endpoint_answer(start_env: Callable[..., Env]) -> None:
    env = start_env("token")
    before = int(time.time())
    response = env.http.get(
        "/token",
        params=[
            ("service", SERVICE),
            ("scope", "repository:team/app:pull"),
            ("scope", "repository:team/app:push repository:team/b:delete registry:catalog:*"),
            ("scope", "repository:secret/vault:pull"),
        ],
        headers=basic("alice", USERS["alice"]),
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"token", "access_token", "expires_in", "issued_at"}
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["issued_at"])
    claims = jwt.decode(body["token"], KEY.public_key(), algorithms=["ES256"], audience=SERVICE)
    assert claims["sub"] == "alice"
    assert claims["iss"] == "fakeregistry"
    assert before <= claims["iat"] <= claims["exp"] - 300 <= int(time.time())
    assert jwt.get_unverified_header(body["token"])["alg"] == "ES256"
    # Repeated and space-joined scopes merge per repository; what the rules refuse is left out.
    assert claims["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull", "push"]},
        {"type": "repository", "name": "team/b", "actions": ["delete"]},
        {"type": "registry", "name": "catalog", "actions": ["*"]},
    ]


def test_token_endpoint_oauth_password_grant(start_env: Callable[..., Env]) -> None:
    env = start_env("token")
    response = env.http.post(
        "/token",
        data={
            "grant_type": "password",
            "username": "bob",
            "password": USERS["bob"],
            "service": SERVICE,
            "scope": "repository:team/app:pull,push",
            "client_id": "test",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == "repository:team/app:pull"
    assert claims_of(body["access_token"])["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull"]}
    ]
    refresh = env.http.post("/token", data={"grant_type": "refresh_token", "refresh_token": "x"})
    assert refresh.status_code == 400
    assert refresh.json()["errors"][0]["code"] == "UNSUPPORTED"


def test_token_endpoint_refuses_another_service(start_env: Callable[..., Env]) -> None:
    env = start_env("token")
    response = env.http.get(
        "/token", params={"service": "elsewhere"}, headers=basic("alice", USERS["alice"])
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED"


def test_anonymous_token_pulls_public(start_env: Callable[..., Env]) -> None:
    env = start_env("token")
    token = env.token(None, "repository:public/lib:pull,push", "repository:team/app:pull")
    claims = claims_of(token)
    assert claims["sub"] == ""
    assert claims["access"] == [{"type": "repository", "name": "public/lib", "actions": ["pull"]}]
    assert env.http.get("/v2/", headers=bearer(token)).status_code == 200
    got = env.http.get(_manifest("public/lib"), headers={"Accept": OCI_MANIFEST, **bearer(token)})
    assert got.status_code == 200
    assert got.content == env.seeded.public.body


def test_no_anonymous_tokens_without_anonymous_pull(start_env: Callable[..., Env]) -> None:
    closed = AccessPolicy(rules=POLICY.rules)
    env = start_env("token", closed)
    response = env.http.get("/token", params={"scope": "repository:public/lib:pull"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == BASIC
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_basic_flow(start_env: Callable[..., Env]) -> None:
    env = start_env("basic")
    alice = basic("alice", USERS["alice"])
    assert env.http.get("/v2/", headers=alice).status_code == 200
    with httpx.Client(base_url=env.registry.url, headers=alice) as client:
        pushed = push_image(client, "team/basic", "v1", seed="basic")
    got = env.http.get(
        _manifest("team/basic"), headers={"Accept": OCI_MANIFEST, **basic("bob", "bob-pw")}
    )
    assert got.content == pushed.body
    # Anonymous pull is open under public/ only.
    assert (
        env.http.get(_manifest("public/lib"), headers={"Accept": OCI_MANIFEST}).status_code == 200
    )
    assert env.http.get(f"/v2/public/lib/blobs/{env.seeded.public.blobs[0]}").status_code == 200
    assert env.http.get(_manifest("team/app")).status_code == 401


@pytest.mark.parametrize("mode", ["basic", "token"])
def test_default_policy(mode: AuthMode) -> None:
    """Without rules every user may do everything, anonymous users nothing."""
    config = AuthConfig(mode=mode, users=Users({"u": "p"}))
    everything = [Access.repository("any/where", "pull", "push", "delete")]
    with RegistryServer(auth=config) as registry, httpx.Client(base_url=registry.url) as client:
        headers = basic("u", "p")
        if mode == "token":
            answer = client.get(
                "/token",
                params={"scope": "repository:any/where:* registry:catalog:*"},
                headers=headers,
            )
            headers = bearer(answer.json()["token"])
            assert claims_of(answer.json()["token"])["access"] == [
                *(access.as_claim() for access in everything),
                {"type": "registry", "name": "catalog", "actions": ["*"]},
            ]
            assert client.get("/token").status_code == 401
        with httpx.Client(base_url=registry.url, headers=headers) as user:
            push_image(user, "any/where", "v1")
            assert user.get("/v2/_catalog").json() == {"repositories": ["any/where"]}
        assert client.get(_manifest("any/where")).status_code == 401


def _paths(app: web.Application) -> set[str]:
    return {resource.canonical for resource in app.router.resources()}


def test_open_registry_adds_no_auth() -> None:
    open_app = create_app()
    secured = create_app(auth=AuthConfig(mode="basic", users=Users({"u": "p"})))
    assert len(secured.middlewares) == len(open_app.middlewares) + 1
    assert "/token" not in _paths(open_app)
    token_app = create_app(auth=AuthConfig(users=Users({"u": "p"})))
    assert "/token" in _paths(token_app)


# -- scopes, names, rules ---------------------------------------------------------------------

ESCAPING_SCOPES = [
    "repository:team/../secret/vault:pull",
    "repository:team/app/../../secret/vault:pull",
    "repository:./team/app:pull",
    "repository:*:pull",
    "repository:team/*:pull",
    "repository:team/app*:pull",
    "repository:team/app:pull:secret/vault",
    "repository:secret/vault:x:pull",
    "repository:team/app",
    "repository::pull",
    'repository:team/app",scope="x:pull',
    "repository(plugin):team/app:pull",
    "registry:catalog:pull",
    "registry:other:*",
    "repository:team/app:admin",
    "repository:team/app:",
]


@pytest.mark.parametrize("scope", ESCAPING_SCOPES)
def test_scopes_that_escape_grant_nothing(start_env: Callable[..., Env], scope: str) -> None:
    env = start_env("token")
    assert parse_scope(scope) is None
    assert claims_of(env.token("alice", scope))["access"] == []


PARSED_SCOPES = {
    "repository:team/app:pull": "repository:team/app:pull",
    "repository:team/app:push,pull": "repository:team/app:pull,push",
    "repository:team/app:*": "repository:team/app:pull,push,delete",
    "repository:team/app:pull,admin": "repository:team/app:pull",
    "registry:catalog:*": "registry:catalog:*",
    "repository:Sparse/Name_OK:pull": "repository:Sparse/Name_OK:pull",
}


@pytest.mark.parametrize(("text", "scope"), PARSED_SCOPES.items())
def test_parse_scope(text: str, scope: str) -> None:
    parsed = parse_scope(text)
    assert parsed is not None
    assert parsed.scope == scope


def test_parse_scopes_merges_repeated_and_space_joined() -> None:
    merged = parse_scopes(["repository:a:pull", "repository:a:push  repository:b:pull", ""])
    assert [access.scope for access in merged] == ["repository:a:pull,push", "repository:b:pull"]


SCOPED_NAMES = {
    True: ["team/app", "a", "a/b/c", "Upper/Case", "with.dots/x_y-z"],
    False: ["", "a/../b", "..", "./a", "a/.", "a*", "*", "a:b", "a,b", 'a"b', "a\\b", "a b", "é"],
}


@pytest.mark.parametrize(
    ("name", "expected"), [(name, ok) for ok, names in SCOPED_NAMES.items() for name in names]
)
def test_is_scoped_name(name: str, expected: bool) -> None:
    assert is_scoped_name(name) is expected


RULE_MATCHES = {
    True: ["team/app", "team/app/cache", "team/x"],
    False: ["team", "teams/app", "other/team/app", "team/../x"],
}


@pytest.mark.parametrize(
    ("repository", "expected"), [(r, ok) for ok, names in RULE_MATCHES.items() for r in names]
)
def test_rule_pattern(repository: str, expected: bool) -> None:
    policy = AccessPolicy(rules=(AccessRule("alice", "team/*", ["pull"]),))
    assert (policy.actions_on("alice", repository) == {"pull"}) is expected
    assert policy.actions_on("bob", repository) == frozenset()
    assert policy.actions_on(None, repository) == frozenset()


@pytest.mark.parametrize(
    ("method", "mount_from", "scopes"),
    [
        ("GET", None, ["repository:r:pull"]),
        ("HEAD", None, ["repository:r:pull"]),
        ("POST", None, ["repository:r:pull,push"]),
        ("PUT", None, ["repository:r:pull,push"]),
        ("PATCH", None, ["repository:r:pull,push"]),
        ("DELETE", None, ["repository:r:delete"]),
        ("POST", "src", ["repository:r:pull,push", "repository:src:pull"]),
        ("OPTIONS", None, []),
    ],
)
def test_required_access(method: str, mount_from: str | None, scopes: list[str]) -> None:
    needed = required_access(method, "r", mount_from=mount_from)
    assert [access.scope for access in needed] == scopes


def test_bearer_challenge_format() -> None:
    needed = [Access.repository("b", "pull", "push"), Access.repository("a", "pull")]
    assert bearer_challenge("https://h/token", "svc", needed, "insufficient_scope") == (
        'Bearer realm="https://h/token",service="svc",'
        'scope="repository:b:pull,push repository:a:pull",error="insufficient_scope"'
    )


def test_policy_file_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "access.yaml"
    yaml_file.write_text(
        "anonymous_pull: ['public/*']\n"
        "rules:\n"
        "  - user: alice\n"
        "    repositories: ['team/*']\n"
        "    actions: [pull, push]\n"
        "  - user: '*'\n"
        "    repository: shared\n"
        "    actions: [pull]\n"
        "  - user: admin\n"
        "    catalog: true\n"
    )
    json_file = tmp_path / "access.json"
    json_file.write_text(
        json.dumps(
            {
                "anonymous_pull": ["public/*"],
                "rules": [
                    {"user": "alice", "repositories": ["team/*"], "actions": ["pull", "push"]},
                    {"user": "*", "repository": "shared", "actions": ["pull"]},
                    {"user": "admin", "catalog": True},
                ],
            }
        )
    )
    for policy in (AccessPolicy.load(yaml_file), AccessPolicy.load(json_file)):
        assert policy.actions_on("alice", "team/x") == {"pull", "push"}
        assert policy.actions_on("bob", "shared") == {"pull"}
        assert policy.actions_on("bob", "public/p") == {"pull"}
        assert policy.actions_on(None, "public/p") == {"pull"}
        assert policy.actions_on(None, "shared") == frozenset()
        assert policy.actions_on("admin", "team/x") == frozenset()
        assert policy.may_list_catalog("admin")
        assert not policy.may_list_catalog("alice")
        assert not policy.may_list_catalog(None)


@pytest.mark.parametrize(
    "text",
    [
        "rules: [{user: alice, actions: [pull, admin]}]",
        "rules: [{user: alice, repositories: ['team/../x']}]",
        "rules: [{user: alice, repo: 'team/*'}]",
        "rules: [{user: alice, repository: a, repositories: [b]}]",
        "rules: [{user: alice, catalog: yes please}]",
        "rules: {user: alice}",
        "anonymous: true",
        "anonymous_pull: 3",
        "- just a list",
        "rules: [{user: alice, actions: [pull]",
    ],
)
def test_policy_file_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "access.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        AccessPolicy.load(path)


def test_htpasswd_bcrypt(tmp_path: Path) -> None:
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode()
    apache_style = "$2y$" + hashed[4:]  # htpasswd -B writes $2y$
    path = tmp_path / "htpasswd"
    path.write_text(f"# users\n\nalice:{apache_style}\n  bob:{hashed}  \n")
    users = Users.from_htpasswd(path)
    assert users.names == ["alice", "bob"]
    assert users.check("alice", "s3cret")
    assert users.check("alice", "s3cret")  # remembered
    assert not users.check("alice", "S3cret")
    assert users.check("bob", "s3cret")
    assert not users.check("carol", "s3cret")


@pytest.mark.parametrize(
    "line",
    ["alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "alice:$apr1$x$y", "alice:plain", "no-colon"],
)
def test_htpasswd_only_bcrypt(tmp_path: Path, line: str) -> None:
    path = tmp_path / "htpasswd"
    path.write_text(line + "\n")
    with pytest.raises(ValueError, match="htpasswd:1"):
        Users.from_htpasswd(path)
