"""The auth of one registry: :class:`AuthConfig` combines users, rules and tokens and decides
each request (Basic or Bearer), and answers the token endpoint."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from fakeregistry.registry.auth.challenges import (
    basic_challenge,
    bearer_challenge,
    detail_of,
    parse_authorization,
    parse_basic,
)
from fakeregistry.registry.auth.policy import Access, AccessPolicy, parse_scopes
from fakeregistry.registry.auth.tokens import InvalidToken, IssuedToken, TokenAuthority
from fakeregistry.registry.auth.users import Users
from fakeregistry.rules.errors import ErrorCode, RegistryError

AuthMode = Literal["basic", "token"]


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
    """

    mode: AuthMode = "token"
    users: Users = field(default_factory=Users)
    policy: AccessPolicy = field(default_factory=AccessPolicy)
    realm: str = "fakeregistry"
    service: str = "fakeregistry"
    token_path: str = "/token"
    token_realm: str | None = None
    tokens: TokenAuthority | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("basic", "token"):
            raise ValueError(f"mode must be 'basic' or 'token', not {self.mode!r}")
        if not self.token_path.startswith("/") or self.token_path.startswith("/v2"):
            raise ValueError("token_path must start with '/' and lie outside /v2/")
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
        if self.mode == "basic":
            return self._authorize_basic(authorization, needed)
        return self._authorize_token(authorization, needed, self.token_realm or token_realm)

    def _authorize_basic(self, authorization: str | None, needed: Sequence[Access]) -> str | None:
        credentials = parse_basic(authorization)
        user: str | None = None
        if credentials is not None:
            name, password = credentials
            if not self.users.check(name, password):
                raise self._basic_unauthorized("invalid username or password")
            user = name
        elif not needed:
            raise self._basic_unauthorized(None)
        refused = [access for access in needed if not self.policy.permits(user, access)]
        if refused:
            if user is None:
                raise self._basic_unauthorized(detail_of(refused))
            raise RegistryError(ErrorCode.DENIED, detail_of(refused))
        return user

    def _basic_unauthorized(self, detail: str | None) -> RegistryError:
        return RegistryError(
            ErrorCode.UNAUTHORIZED,
            detail,
            headers={"WWW-Authenticate": basic_challenge(self.realm)},
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
            if not self.users.check(name, secret):
                raise self._basic_unauthorized("invalid username or password")
            user = name
        elif not self.policy.allows_anonymous:
            raise self._basic_unauthorized("anonymous access is not allowed")
        granted = [self.policy.grant(user, access) for access in parse_scopes(scopes)]
        return tokens.issue(user, [access for access in granted if access is not None])
