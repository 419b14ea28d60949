"""Who may do what: accounts, access rules, scopes and bearer tokens. No HTTP here.

A registry with auth answers in one of two ways, as CNCF distribution does:

- ``basic`` (distribution's ``htpasswd`` controller): each request carries
  ``Authorization: Basic``; a request without it is challenged with
  ``WWW-Authenticate: Basic realm="..."``.
- ``token`` (the Docker token specification): each request carries ``Authorization: Bearer
  <JWT>``; the JWT comes from the token endpoint on the same server, which checks Basic
  credentials and grants the requested access the rules allow. A request without a fitting
  token is challenged with ``Bearer realm="<token URL>",service="...",scope="..."``.

Outcomes: no or wrong credentials, or a missing, expired or tampered token, answer 401
``UNAUTHORIZED`` with a challenge. A valid token that lacks an access its user could be granted
answers 401 with ``error="insufficient_scope"`` (the client fetches a wider token); an access
the rules refuse to a signed-in user answers 403 ``DENIED``.

Everything here is plain Python, one concept per module: ``users`` (:class:`Users`, htpasswd),
``policy`` (:class:`Access` scopes, :func:`required_access`, the :class:`AccessPolicy` of
:class:`AccessRule` items), ``tokens`` (:class:`TokenAuthority`), ``challenges`` (the
``WWW-Authenticate`` and ``Authorization`` texts) and ``config`` (the :class:`AuthConfig` that
combines them for ``create_app(auth=...)``).
"""

from __future__ import annotations

from fakeregistry.registry.auth.challenges import basic_challenge, bearer_challenge
from fakeregistry.registry.auth.config import AuthConfig, AuthMode
from fakeregistry.registry.auth.policy import (
    ACTIONS,
    CATALOG,
    Access,
    AccessPolicy,
    AccessRule,
    is_scoped_name,
    parse_scope,
    parse_scopes,
    required_access,
)
from fakeregistry.registry.auth.tokens import (
    InvalidToken,
    IssuedToken,
    SigningKey,
    TokenAlgorithm,
    TokenAuthority,
    TokenClaims,
)
from fakeregistry.registry.auth.users import Users, parse_user
from fakeregistry.rules.scope import ANY, DELETE, PULL, PUSH

__all__ = [
    "ACTIONS",
    "ANY",
    "CATALOG",
    "DELETE",
    "PULL",
    "PUSH",
    "Access",
    "AccessPolicy",
    "AccessRule",
    "AuthConfig",
    "AuthMode",
    "InvalidToken",
    "IssuedToken",
    "SigningKey",
    "TokenAlgorithm",
    "TokenAuthority",
    "TokenClaims",
    "Users",
    "basic_challenge",
    "bearer_challenge",
    "is_scoped_name",
    "parse_scope",
    "parse_scopes",
    "parse_user",
    "required_access",
]
