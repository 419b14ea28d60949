"""The auth of one registry: :class:`AuthConfig` combines users, rules and tokens and decides
each request (Basic or Bearer), and answers the token endpoint."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from fakeregistry.registry.auth.challenges import (
    basic_challenge,
    bearer_challenge,
    detail_of,
    parse_authorization,
    parse_basic,
)
from fakeregistry.registry.auth.policy import CATALOG, Access, AccessPolicy, parse_scopes
from fakeregistry.registry.auth.tokens import InvalidToken, IssuedToken, TokenAuthority
from fakeregistry.registry.auth.users import Users
from fakeregistry.registry.personality import Personality
from fakeregistry.registry.personality import rules as pr
from fakeregistry.rules.errors import ErrorCode, RegistryError

AuthMode = Literal["basic", "token"]

# The account a personality's registry has when the caller names none.
PERSONALITY_USERS = {"user": "password"}


@dataclass(kw_only=True)
class AuthConfig:
    """Auth for ``create_app(options, auth=AuthConfig(...))``; ``auth=None`` is an open
    registry.

    - ``mode``: ``"token"`` (Bearer tokens from the token endpoint at ``token_path``) or
      ``"basic"`` (credentials on every request).
    - ``users``, ``policy``: who exists and what each may do (:class:`AccessPolicy`).
    - ``realm``: the Basic realm (of the registry in ``basic`` mode, of the token endpoint in
      ``token`` mode).
    - ``service``: the token audience and the challenge's ``service``.
    - ``token_realm``: the token URL named in challenges; by default the token endpoint of the
      server as the client addressed it (``https://<Host header><token_path>``).
    - ``tokens``: the signing authority, made (ES256, fresh key) when not given.
    - ``personality``: the registry whose auth shape to answer with (its challenge, token
      JSON, Basic handling, scope grammar, refresh tokens); made by :meth:`for_personality`.
    """

    mode: AuthMode = "token"
    users: Users = field(default_factory=Users)
    policy: AccessPolicy = field(default_factory=AccessPolicy)
    realm: str = "fakeregistry"
    service: str = "fakeregistry"
    token_path: str = "/token"
    token_realm: str | None = None
    tokens: TokenAuthority | None = None
    personality: Personality | None = None
    _refresh: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def for_personality(
        cls,
        personality: Personality,
        *,
        users: Users | None = None,
        policy: AccessPolicy | None = None,
    ) -> AuthConfig | None:
        """Auth in ``personality``'s shape (None when the registry it copies asks for none):
        its scheme, service and token path, anonymous pull where it issues anonymous tokens
        (added to ``policy``), and the token lifetime it documents. ``users`` defaults to
        :data:`PERSONALITY_USERS`."""
        challenge = personality.rule(pr.Challenge)
        if challenge is None:
            return None
        policy = policy or AccessPolicy()
        anonymous = personality.rule(pr.AnonymousTokens)
        if anonymous is not None and anonymous.allowed and not policy.allows_anonymous:
            policy = policy.with_anonymous_pull()
        service = challenge.service or "fakeregistry"
        fields = personality.rule(pr.TokenFields)
        lifetime = fields.expires_in if fields is not None and fields.expires_in else 300
        basic = challenge.scheme == "basic"
        return cls(
            mode="basic" if basic else "token",
            users=users if users is not None else Users(PERSONALITY_USERS),
            policy=policy,
            realm=challenge.basic_realm or "fakeregistry",
            service=service,
            token_path="/" if basic else challenge.realm_path,
            tokens=None if basic else TokenAuthority(service=service, lifetime=lifetime),
            personality=personality,
        )

    def rule(self, kind: type[pr.R]) -> pr.R | None:
        return self.personality.rule(kind) if self.personality is not None else None

    def __post_init__(self) -> None:
        if self.mode not in ("basic", "token"):
            raise ValueError(f"mode must be 'basic' or 'token', not {self.mode!r}")
        # Outside /v2/, or a path no API route takes (Quay's is /v2/auth: one segment).
        inside = self.token_path.removeprefix("/v2/")
        if not self.token_path.startswith("/") or (
            self.token_path.startswith("/v2")
            and (inside == self.token_path or "/" in inside or inside in ("", "_catalog"))
        ):
            raise ValueError("token_path must start with '/' and lie outside the /v2/ API")
        if self.mode == "token" and self.tokens is None:
            self.tokens = TokenAuthority(service=self.service)
        if self.tokens is not None and self.tokens.service != self.service:
            raise ValueError("the token authority serves another service than this config")

    def _authority(self) -> TokenAuthority:
        # Token mode always has one (__post_init__); a basic-mode registry issues none.
        if self.tokens is None:
            raise RegistryError(ErrorCode.UNSUPPORTED, "this registry issues no tokens")
        return self.tokens

    # The registry side ------------------------------------------------------------------------

    def authorize(
        self, authorization: str | None, needed: Sequence[Access], *, token_realm: str = ""
    ) -> str | None:
        """The user a request acts as (None: anonymous) when it may have ``needed`` (empty:
        any valid identity); raises the 401 or 403 :class:`RegistryError` otherwise.

        ``token_realm`` is the token URL for challenges when the config names none.
        """
        realm = self.token_realm or token_realm
        if self.mode == "basic":
            return self._authorize_basic(authorization, needed, realm)
        fallback = self.rule(pr.BasicRealmFallback)
        if fallback is not None and CATALOG in needed and parse_basic(authorization) is None:
            # Harbor: "we do not support providing a token to list catalog".
            raise self._basic_unauthorized(detail_of(needed), fallback.realm)
        basic_rule = self.rule(pr.BasicOnApi)
        if basic_rule is not None and parse_basic(authorization) is not None:
            if not basic_rule.accepted:
                raise RegistryError(
                    ErrorCode.DENIED, message=basic_rule.message, status=basic_rule.status
                )
            return self._authorize_basic(authorization, needed, realm)
        return self._authorize_token(authorization, needed, realm)

    def _authorize_basic(
        self, authorization: str | None, needed: Sequence[Access], realm: str = ""
    ) -> str | None:
        credentials = parse_basic(authorization)
        user: str | None = None
        if credentials is not None:
            name, password = credentials
            if not self._check_user(name, password):
                raise self._basic_unauthorized("invalid username or password", realm)
            user = name
        elif not needed:
            raise self._basic_unauthorized(None, realm)
        refused = [access for access in needed if not self.policy.permits(user, access)]
        if refused:
            if user is None:
                raise self._basic_unauthorized(detail_of(refused), realm)
            raise RegistryError(ErrorCode.DENIED, detail_of(refused))
        return user

    def _check_user(self, name: str, password: str) -> bool:
        refresh = self.rule(pr.RefreshTokens)
        if refresh is not None and name == refresh.user:
            return password in self._refresh
        return self.users.check(name, password)

    def _basic_unauthorized(
        self, detail: str | None, realm: str = "", fixed_realm: str | None = None
    ) -> RegistryError:
        challenge = basic_challenge(fixed_realm or self.realm)
        shape = self.rule(pr.Challenge)
        if fixed_realm is None and shape is not None and shape.scheme == "basic":
            # ECR: the realm is the registry's URL, and a service follows it.
            challenge = basic_challenge(shape.basic_realm or realm or self.realm)
            if shape.service:
                challenge += f',service="{shape.service}"'
        fallback = self.rule(pr.BasicRealmFallback)
        if fixed_realm is None and fallback is not None:
            challenge = basic_challenge(fallback.realm)
        return RegistryError(
            ErrorCode.UNAUTHORIZED, detail, headers={"WWW-Authenticate": challenge}
        )

    def _authorize_token(
        self, authorization: str | None, needed: Sequence[Access], realm: str
    ) -> str | None:
        tokens = self._authority()
        token = parse_authorization(authorization, "bearer")
        if token is None:
            raise self._bearer_unauthorized(realm, needed, None, detail_of(needed))
        try:
            claims = tokens.verify(token)
        except InvalidToken as exc:
            fallback = self.rule(pr.BasicRealmFallback)
            if fallback is not None:
                raise self._basic_unauthorized(str(exc), fixed_realm=fallback.realm) from None
            raise self._bearer_unauthorized(realm, needed, "invalid_token", str(exc)) from None
        missing = [access for access in needed if not claims.permits(access)]
        if not missing:
            return claims.subject
        user = claims.subject
        if user is not None and not all(self.policy.permits(user, a) for a in missing):
            # No token this user can get would do: asking again is pointless.
            raise RegistryError(ErrorCode.DENIED, detail_of(missing))
        raise self._bearer_unauthorized(realm, needed, "insufficient_scope", detail_of(missing))

    def _bearer_unauthorized(
        self, realm: str, needed: Sequence[Access], error: str | None, detail: str | None
    ) -> RegistryError:
        challenge = bearer_challenge(realm, self.service, needed, error)
        shape = self.rule(pr.Challenge)
        if shape is not None and shape.ping_scope and not needed:
            # GHCR: the /v2/ ping names a literal placeholder scope.
            challenge += f',scope="{shape.ping_scope}"'
        return RegistryError(
            ErrorCode.UNAUTHORIZED, detail, headers={"WWW-Authenticate": challenge}
        )

    # The token endpoint ---------------------------------------------------------------------

    def issue_token(
        self,
        authorization: str | None,
        scopes: Iterable[str],
        service: str | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
    ) -> IssuedToken:
        """What the token endpoint answers: a token granting the requested scopes the rules
        allow (scopes that ask for nothing grantable are left out, never an error).

        Credentials come from ``authorization`` (Basic) or ``username``/``password`` (the
        OAuth2 password grant). Without any, an anonymous token when anonymous pull is open,
        else 401; wrong credentials are 401 with a Basic challenge; a foreign ``service`` 400.
        """
        tokens = self._authority()
        actions = self.rule(pr.ScopeActions)
        if actions is not None:
            for scope in scopes:
                for part in scope.split():
                    wanted = part.rsplit(":", 1)[-1].split(",") if part.count(":") >= 2 else []
                    if any(action not in actions.allowed for action in wanted):
                        raise RegistryError(
                            ErrorCode.INVALID_REQUEST,
                            message=f"Unable to decode repository and actions: {part}",
                        )
        if service and service != self.service:
            raise RegistryError(
                ErrorCode.UNSUPPORTED,
                f"unknown service {service!r}; this token server serves {self.service!r}",
                status=400,
            )
        credentials = (username, password or "") if username else parse_basic(authorization)
        user: str | None = None
        if credentials is not None:
            name, secret = credentials
            if not self._check_user(name, secret):
                raise self._basic_unauthorized("invalid username or password")
            user = self._refresh.get(secret, name) if name == self._refresh_user() else name
        elif not self.policy.allows_anonymous:
            raise self._basic_unauthorized("anonymous access is not allowed")
        granted = [self.policy.grant(user, access) for access in parse_scopes(scopes)]
        return tokens.issue(user, [access for access in granted if access is not None])

    # Token responses and ACR's refresh tokens --------------------------------------------

    def token_response(self, issued: IssuedToken) -> dict[str, Any]:
        """The token endpoint's JSON for ``issued``, with the fields the personality sends."""
        body = issued.response()
        shape = self.rule(pr.TokenFields)
        if shape is not None and shape.fields is not None:
            for name in ("token", "access_token"):
                if name not in shape.fields:
                    del body[name]
            if shape.expires_in is None:
                body.pop("expires_in", None)
                body.pop("issued_at", None)
        return body

    def _refresh_user(self) -> str | None:
        refresh = self.rule(pr.RefreshTokens)
        return refresh.user if refresh is not None else None

    def issue_refresh_token(self, access_token: str | None) -> str:
        """ACR's ``/oauth2/exchange``: a refresh token for the user a bearer token of ours (the
        stand-in for the Entra ID token) names; 401 when it names none."""
        try:
            claims = self._authority().verify(access_token or "")
        except InvalidToken as exc:
            raise RegistryError(ErrorCode.UNAUTHORIZED, str(exc)) from None
        if claims.subject is None:
            raise RegistryError(ErrorCode.UNAUTHORIZED, "an anonymous token cannot be exchanged")
        refresh = secrets.token_urlsafe(24)
        self._refresh[refresh] = claims.subject
        return refresh

    def issue_from_refresh(self, refresh_token: str | None, scopes: Iterable[str]) -> IssuedToken:
        """``grant_type=refresh_token``: an access token for the refresh token's user."""
        user = self._refresh.get(refresh_token or "")
        if user is None:
            raise RegistryError(ErrorCode.UNAUTHORIZED, "unknown refresh token")
        granted = [self.policy.grant(user, access) for access in parse_scopes(scopes)]
        return self._authority().issue(user, [a for a in granted if a is not None])
