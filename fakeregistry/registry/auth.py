"""Who may do what: accounts, access rules, scopes and bearer tokens. No HTTP here.

A registry with auth answers in one of two ways, as CNCF distribution does:

- ``basic`` (distribution's ``htpasswd`` controller): each request carries
  ``Authorization: Basic``; a request without it is challenged with
  ``WWW-Authenticate: Basic realm="..."``.
- ``token`` (the Docker token specification): each request carries ``Authorization: Bearer
  <JWT>``; the JWT comes from the token endpoint on the same server, which checks Basic
  credentials and grants the requested access the rules allow. A request without a fitting
  token is challenged with ``Bearer realm="<token URL>",service="...",scope="..."``.

Access is named as the token specification names it, a resource type, a name and actions,
written as a scope: ``repository:team/app:pull,push`` or ``registry:catalog:*``. What a request
needs is what distribution asks (``registry/handlers/app.go``): GET and HEAD need ``pull``;
POST, PUT and PATCH need ``pull`` and ``push``; DELETE needs ``delete``; a mount's ``from``
needs ``pull`` on the source; ``/v2/_catalog`` needs ``registry:catalog:*``; ``/v2/`` needs only
a valid identity.

Outcomes: no or wrong credentials, or a missing, expired or tampered token, answer 401
``UNAUTHORIZED`` with a challenge. A valid token that lacks an access its user could be granted
answers 401 with ``error="insufficient_scope"`` (the client fetches a wider token); an access
the rules refuse to a signed-in user answers 403 ``DENIED``.

Everything here is plain Python: :class:`Users`, :class:`AccessPolicy` of :class:`AccessRule`
items, :class:`TokenAuthority` and the :class:`AuthConfig` that combines them for
``create_app(auth=...)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import bcrypt
import jwt
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from fakeregistry.rules.errors import ErrorCode, RegistryError
from fakeregistry.rules.reference import is_valid_repository

__all__ = [
    "ACTIONS",
    "CATALOG",
    "Access",
    "AccessPolicy",
    "AccessRule",
    "AuthConfig",
    "AuthMode",
    "InvalidToken",
    "IssuedToken",
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

PULL, PUSH, DELETE = "pull", "push", "delete"
# The actions a repository scope may name; "*" in a scope or a rule stands for all of them.
ACTIONS: tuple[str, ...] = (PULL, PUSH, DELETE)
ANY = "*"
_ORDER = {PULL: 0, PUSH: 1, DELETE: 2, ANY: 3}

AuthMode = Literal["basic", "token"]
TokenAlgorithm = Literal["ES256", "RS256"]
SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


# -- scopes ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Access:
    """Actions on one resource: ``Access("repository", "team/app", ("pull", "push"))``.

    ``scope`` spells it as the token specification does: ``repository:team/app:pull,push``.
    """

    type: str
    name: str
    actions: tuple[str, ...]

    @classmethod
    def repository(cls, name: str, *actions: str) -> Access:
        """``Access.repository("team/app", "pull")``."""
        return cls("repository", name, _ordered(actions))

    @property
    def scope(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"

    def as_claim(self) -> dict[str, Any]:
        """The entry of a token's ``access`` claim."""
        return {"type": self.type, "name": self.name, "actions": list(self.actions)}


# distribution: the catalog is the resource "registry:catalog" with the action "*".
CATALOG = Access("registry", "catalog", (ANY,))


def _ordered(actions: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(actions), key=lambda action: (_ORDER.get(action, 9), action)))


def is_scoped_name(name: str) -> bool:
    """True for a repository name that access can be granted on.

    Any name the registry accepts in ``sparse`` validation, except what could escape or widen
    a scope: ``.`` and ``..`` segments, ``*``, ``:``, ``,``, quotes, backslashes and non-ASCII.

    >>> is_scoped_name("team/app"), is_scoped_name("team/../admin"), is_scoped_name("team/*")
    (True, False, False)
    """
    if not is_valid_repository(name, strict=False):
        return False
    if any(not 33 <= ord(char) < 127 or char in '*:,"\\' for char in name):
        return False
    return all(part not in (".", "..") for part in name.split("/"))


def parse_scope(text: str) -> Access | None:
    """One scope (``type:name:actions``) as the access it asks for, or None when it asks for
    nothing that can be granted.

    Unknown actions are dropped and ``*`` stands for pull, push and delete. Scopes with more or
    fewer than three parts, unknown resource types, resource classes (``repository(plugin)``)
    and names :func:`is_scoped_name` refuses give None.

    >>> parse_scope("repository:team/app:push,pull").scope
    'repository:team/app:pull,push'
    >>> parse_scope("repository:a/../b:push") is None, parse_scope("repository:a:b:pull") is None
    (True, True)
    """
    parts = text.split(":")
    if len(parts) != 3:
        return None
    kind, name, actions_text = parts
    actions = set(actions_text.split(","))
    if kind == "registry":
        return CATALOG if name == "catalog" and ANY in actions else None
    if kind != "repository" or not is_scoped_name(name):
        return None
    if ANY in actions:
        actions.update(ACTIONS)
    known = _ordered(action for action in actions if action in ACTIONS)
    return Access("repository", name, known) if known else None


def parse_scopes(values: Iterable[str]) -> list[Access]:
    """Scopes given as repeated parameters, each possibly space-joined, merged per resource
    (``["repository:a:pull", "repository:a:push repository:b:pull"]`` asks for pull and push
    on ``a`` and pull on ``b``). Scopes that ask for nothing grantable are left out."""
    merged: dict[tuple[str, str], set[str]] = {}
    for value in values:
        for text in value.split():
            access = parse_scope(text)
            if access is not None:
                merged.setdefault((access.type, access.name), set()).update(access.actions)
    return [Access(kind, name, _ordered(actions)) for (kind, name), actions in merged.items()]


def required_access(
    method: str, repository: str | None, *, catalog: bool = False, mount_from: str | None = None
) -> list[Access]:
    """What a request needs (distribution ``registry/handlers/app.go``, ``authorized``).

    >>> [a.scope for a in required_access("POST", "b", mount_from="a")]
    ['repository:b:pull,push', 'repository:a:pull']
    >>> required_access("GET", None)
    []
    """
    if repository is None:
        return [CATALOG] if catalog else []
    needed = [_method_access(method, repository)]
    if mount_from:
        needed.append(Access.repository(mount_from, PULL))
    return [access for access in needed if access.actions]


def _method_access(method: str, repository: str) -> Access:
    if method in ("GET", "HEAD"):
        return Access.repository(repository, PULL)
    if method in ("POST", "PUT", "PATCH"):
        return Access.repository(repository, PULL, PUSH)
    if method == "DELETE":
        return Access.repository(repository, DELETE)
    # Other methods change nothing (the router answers 405); like distribution, they need only
    # a valid identity.
    return Access.repository(repository)


# -- accounts -------------------------------------------------------------------------------


def parse_user(text: str) -> tuple[str, str]:
    """``NAME:PASSWORD`` (the password may contain colons) as a pair; ValueError otherwise."""
    name, colon, password = text.partition(":")
    if not colon or not name:
        raise ValueError(f"expected NAME:PASSWORD, got {text!r}")
    return name, password


_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")


class Users:
    """Accounts and their passwords: plain (``--user``) or bcrypt hashes (``--htpasswd``).

    >>> users = Users({"alice": "secret"})
    >>> users.check("alice", "secret"), users.check("alice", "guess"), users.check("bob", "")
    (True, False, False)

    A bcrypt check costs milliseconds by design; since Basic auth checks every request, a
    password once verified is remembered (as a salted hash) for the life of the object.
    """

    def __init__(self, passwords: Mapping[str, str] | None = None) -> None:
        self._plain: dict[str, bytes] = {}
        self._hashed: dict[str, bytes] = {}
        self._salt = secrets.token_bytes(16)
        self._verified: set[tuple[str, bytes]] = set()
        for name, password in (passwords or {}).items():
            self.add(name, password)

    @classmethod
    def from_htpasswd(cls, path: str | Path) -> Users:
        users = cls()
        users.load_htpasswd(path)
        return users

    def add(self, name: str, password: str) -> None:
        """Add (or replace) ``name`` with a plain password."""
        _check_user_name(name)
        self._hashed.pop(name, None)
        self._plain[name] = password.encode()

    def add_hash(self, name: str, hashed: str) -> None:
        """Add (or replace) ``name`` with a bcrypt hash (``$2y$``, ``$2b$`` or ``$2a$``)."""
        _check_user_name(name)
        if not hashed.startswith(_BCRYPT_PREFIXES):
            raise ValueError(
                f"the password of {name!r} is not a bcrypt hash; distribution reads only bcrypt"
                " entries (htpasswd -B)"
            )
        self._plain.pop(name, None)
        self._hashed[name] = hashed.encode()

    def load_htpasswd(self, path: str | Path) -> None:
        """Add the entries of an htpasswd file as distribution reads one: ``name:hash`` lines,
        blank lines and lines starting with ``#`` skipped; only bcrypt hashes."""
        text = Path(path).read_text(encoding="utf-8")
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, colon, hashed = line.partition(":")
            if not colon:
                raise ValueError(f"{path}:{number}: expected NAME:HASH")
            try:
                self.add_hash(name, hashed)
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from None

    def check(self, name: str, password: str) -> bool:
        """True when ``password`` is the password of ``name``."""
        given = password.encode()
        plain = self._plain.get(name)
        if plain is not None:
            return hmac.compare_digest(plain, given)
        hashed = self._hashed.get(name)
        if hashed is None:
            return False
        key = (name, hashlib.sha256(self._salt + given).digest())
        if key in self._verified:
            return True
        try:
            ok = bcrypt.checkpw(given, hashed)
        except ValueError:
            return False
        if ok:
            self._verified.add(key)
        return ok

    @property
    def names(self) -> list[str]:
        return sorted({*self._plain, *self._hashed})

    def __contains__(self, name: object) -> bool:
        return name in self._plain or name in self._hashed

    def __len__(self) -> int:
        return len(self._plain) + len(self._hashed)


def _check_user_name(name: str) -> None:
    if not name or ":" in name or any(not char.isprintable() for char in name):
        raise ValueError(f"invalid user name {name!r}")


# -- access rules ---------------------------------------------------------------------------


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    # "*" matches any characters, "/" included: "team/*" covers team/app and team/app/sub.
    bare = pattern.replace(ANY, "a")
    if pattern != ANY and not is_scoped_name(bare):
        raise ValueError(f"invalid repository pattern {pattern!r}")
    return re.compile(
        "".join(".*" if part == ANY else re.escape(part) for part in re.split(r"(\*)", pattern))
        + r"\Z"
    )


def _strings(value: str | Collection[str], what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    items = tuple(value)
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"{what} must be strings, got {value!r}")
    return items


@dataclass(frozen=True, slots=True)
class AccessRule:
    """Grants ``actions`` on the repositories matching ``repositories``, and the catalog when
    ``catalog``, to ``user``: a user name, or ``"*"`` for every signed-in user.

    Patterns are repository names where ``*`` matches any characters, ``/`` included
    (``team/*`` covers ``team/app`` and ``team/app/cache``; ``*`` covers everything). Actions
    are ``pull``, ``push`` and ``delete``; ``*`` means all three.

    >>> AccessRule("alice", "team/*", ["pull"]).actions_on("alice", "team/app")
    frozenset({'pull'})
    """

    user: str = ANY
    repositories: str | Collection[str] = (ANY,)
    actions: str | Collection[str] = ACTIONS
    catalog: bool = False
    _patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.user, str) or not self.user:
            raise ValueError(f"a rule needs a user name or '*', got {self.user!r}")
        repositories = _strings(self.repositories, "repositories")
        actions = set(_strings(self.actions, "actions"))
        unknown = actions - {*ACTIONS, ANY}
        if unknown:
            raise ValueError(f"unknown actions {sorted(unknown)}; use pull, push, delete or *")
        if ANY in actions:
            actions = set(ACTIONS)
        object.__setattr__(self, "repositories", repositories)
        object.__setattr__(self, "actions", frozenset(actions))
        object.__setattr__(self, "_patterns", tuple(_compile_pattern(p) for p in repositories))

    def applies_to(self, user: str) -> bool:
        return self.user in (ANY, user)

    def matches(self, repository: str) -> bool:
        return any(pattern.match(repository) for pattern in self._patterns)

    def actions_on(self, user: str, repository: str) -> frozenset[str]:
        """The actions this rule grants ``user`` on ``repository`` (a scoped name)."""
        if self.applies_to(user) and self.matches(repository):
            return frozenset(self.actions)
        return frozenset()


_RULE_KEYS = {"user", "repositories", "repository", "actions", "catalog"}
_POLICY_KEYS = {"anonymous_pull", "rules"}


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """Who may do what. Without arguments: every signed-in user may pull, push and delete
    everywhere and list the catalog; anonymous users may do nothing.

    ``anonymous_pull`` opens pull to requests without credentials: ``True`` everywhere, or a
    list of repository patterns. Signed-in users may always do what anonymous users may. Rules
    only grant; whatever no rule grants is refused.

    A file (YAML or JSON) says the same::

        anonymous_pull: ["public/*"]    # or true / false
        rules:
          - user: alice                 # a user name, or "*" for every signed-in user
            repositories: ["team/*"]    # or `repository: team/*`
            actions: [pull, push]       # pull, push, delete or "*"
          - user: admin
            actions: ["*"]
            catalog: true               # registry:catalog:*
    """

    rules: tuple[AccessRule, ...] = (AccessRule(catalog=True),)
    anonymous_pull: bool | str | Collection[str] = False
    _anonymous: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        value = self.anonymous_pull
        if isinstance(value, bool):
            patterns: tuple[str, ...] = (ANY,) if value else ()
        else:
            patterns = _strings(value, "anonymous_pull patterns")
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "anonymous_pull", patterns)
        object.__setattr__(self, "_anonymous", tuple(_compile_pattern(p) for p in patterns))

    @property
    def allows_anonymous(self) -> bool:
        """True when anonymous users may pull something."""
        return bool(self._anonymous)

    def with_anonymous_pull(self, patterns: bool | str | Collection[str] = True) -> AccessPolicy:
        """This policy with anonymous pull opened (or closed, with ``False``)."""
        return replace(self, anonymous_pull=patterns)

    def actions_on(self, user: str | None, repository: str) -> frozenset[str]:
        """The actions ``user`` (None: anonymous) may take on ``repository``."""
        if not is_scoped_name(repository):
            return frozenset()
        granted: set[str] = set()
        if any(pattern.match(repository) for pattern in self._anonymous):
            granted.add(PULL)
        if user is not None:
            for rule in self.rules:
                granted |= rule.actions_on(user, repository)
        return frozenset(granted)

    def may_list_catalog(self, user: str | None) -> bool:
        return user is not None and any(r.catalog and r.applies_to(user) for r in self.rules)

    def grant(self, user: str | None, requested: Access) -> Access | None:
        """The part of ``requested`` that ``user`` may have, or None when nothing."""
        if requested.type == CATALOG.type and requested.name == CATALOG.name:
            return CATALOG if ANY in requested.actions and self.may_list_catalog(user) else None
        if requested.type != "repository":
            return None
        allowed = self.actions_on(user, requested.name)
        actions = _ordered(action for action in requested.actions if action in allowed)
        return Access(requested.type, requested.name, actions) if actions else None

    def permits(self, user: str | None, access: Access) -> bool:
        """True when ``user`` may have all of ``access``."""
        granted = self.grant(user, access)
        return granted is not None and set(access.actions) <= set(granted.actions)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccessPolicy:
        """A policy from parsed YAML or JSON (see the class documentation)."""
        if not isinstance(data, Mapping):
            raise ValueError("an access file holds a mapping with 'rules' and 'anonymous_pull'")
        unknown = set(data) - _POLICY_KEYS
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}; expected {sorted(_POLICY_KEYS)}")
        rules_data = data.get("rules", [])
        if not isinstance(rules_data, list):
            raise ValueError("'rules' must be a list")
        rules = tuple(_rule_from_dict(item) for item in rules_data)
        anonymous = data.get("anonymous_pull", False)
        if not isinstance(anonymous, bool | str | list):
            raise ValueError("'anonymous_pull' must be true, false or a list of patterns")
        return cls(rules=rules, anonymous_pull=anonymous)

    @classmethod
    def load(cls, path: str | Path) -> AccessPolicy:
        """A policy from a YAML or JSON file."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: {exc}") from None
        try:
            return cls.from_dict(data if data is not None else {})
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None


def _rule_from_dict(item: Any) -> AccessRule:
    if not isinstance(item, Mapping):
        raise ValueError(f"a rule is a mapping, got {item!r}")
    unknown = set(item) - _RULE_KEYS
    if unknown:
        raise ValueError(f"unknown rule keys {sorted(unknown)}; expected {sorted(_RULE_KEYS)}")
    if "repository" in item and "repositories" in item:
        raise ValueError("give 'repository' or 'repositories', not both")
    repositories = item.get("repositories", item.get("repository", ANY))
    catalog = item.get("catalog", False)
    if not isinstance(catalog, bool):
        raise ValueError("'catalog' must be true or false")
    user = item.get("user", ANY)
    if not isinstance(user, str):
        raise ValueError(f"'user' must be a string, got {user!r}")
    actions = item.get("actions", [] if catalog else ACTIONS)
    return AccessRule(user=user, repositories=repositories, actions=actions, catalog=catalog)


# -- tokens ---------------------------------------------------------------------------------


class InvalidToken(Exception):
    """A bearer token that is malformed, expired, not ours or not meant for this service."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token as the token endpoint hands it out."""

    token: str
    subject: str | None
    access: tuple[Access, ...]
    issued_at: int
    expires_in: int

    def response(self) -> dict[str, Any]:
        """The endpoint's JSON answer: ``token`` and its OAuth2 twin ``access_token``,
        ``expires_in`` (seconds) and ``issued_at`` (RFC 3339)."""
        stamp = datetime.fromtimestamp(self.issued_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "token": self.token,
            "access_token": self.token,
            "expires_in": self.expires_in,
            "issued_at": stamp,
        }


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says: who (None: anonymous) and which access."""

    subject: str | None
    access: tuple[Access, ...]
    expires_at: int

    def permits(self, needed: Access) -> bool:
        """True when the token grants every action of ``needed`` (or ``*`` on its resource)."""
        held: set[str] = set()
        for access in self.access:
            if access.type == needed.type and access.name == needed.name:
                held.update(access.actions)
        return ANY in held or set(needed.actions) <= held


class TokenAuthority:
    """Signs and verifies the registry's bearer tokens (JWT, RS256 or ES256).

    Tokens carry ``iss``, ``sub`` (empty for anonymous), ``aud`` (the service), ``exp``,
    ``nbf``, ``iat``, ``jti`` and the ``access`` claim of the token specification::

        "access": [{"type": "repository", "name": "team/app", "actions": ["pull", "push"]}]

    Verification accepts only this authority's key and algorithm (so ``alg: none`` and HMAC
    tokens made with the public key fail), and checks expiry, audience and issuer.
    """

    def __init__(
        self,
        *,
        service: str = "fakeregistry",
        issuer: str = "fakeregistry",
        key: SigningKey | None = None,
        algorithm: TokenAlgorithm = "ES256",
        lifetime: int = 300,
    ) -> None:
        if algorithm not in ("ES256", "RS256"):
            raise ValueError(f"algorithm must be 'ES256' or 'RS256', not {algorithm!r}")
        if lifetime <= 0:
            raise ValueError("token lifetime must be positive")
        if key is None:
            key = (
                ec.generate_private_key(ec.SECP256R1())
                if algorithm == "ES256"
                else rsa.generate_private_key(public_exponent=65537, key_size=2048)
            )
        wanted = ec.EllipticCurvePrivateKey if algorithm == "ES256" else rsa.RSAPrivateKey
        if not isinstance(key, wanted):
            raise ValueError(f"{algorithm} needs a {wanted.__name__}")
        if isinstance(key, ec.EllipticCurvePrivateKey) and not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("ES256 needs a P-256 key")
        self.service = service
        self.issuer = issuer
        self.algorithm: TokenAlgorithm = algorithm
        self.lifetime = lifetime
        self._key = key
        self.public_key = key.public_key()
        der = self.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.key_id = base64.b32encode(hashlib.sha256(der).digest()[:20]).decode().rstrip("=")

    def issue(
        self,
        subject: str | None,
        access: Iterable[Access],
        *,
        now: float | None = None,
        lifetime: int | None = None,
    ) -> IssuedToken:
        """A token for ``subject`` (None: anonymous) granting ``access``; ``now`` and
        ``lifetime`` default to the clock and the authority's lifetime."""
        issued_at = int(time.time() if now is None else now)
        seconds = self.lifetime if lifetime is None else lifetime
        granted = tuple(access)
        claims = {
            "iss": self.issuer,
            "sub": subject or "",
            "aud": self.service,
            "exp": issued_at + seconds,
            "nbf": issued_at,
            "iat": issued_at,
            "jti": secrets.token_hex(12),
            "access": [item.as_claim() for item in granted],
        }
        token = jwt.encode(
            claims, self._key, algorithm=self.algorithm, headers={"kid": self.key_id}
        )
        return IssuedToken(token, subject or None, granted, issued_at, seconds)

    def verify(self, token: str) -> TokenClaims:
        """The claims of ``token``; :class:`InvalidToken` unless it is one of ours, for this
        service, and current."""
        if not token.isascii():
            # A JWT is base64url and dots; PyJWT would fail on encoding, not with its errors.
            raise InvalidToken("a token is ASCII")
        try:
            claims = jwt.decode(
                token,
                self.public_key,
                algorithms=[self.algorithm],
                audience=self.service,
                issuer=self.issuer,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc) or type(exc).__name__) from None
        subject = claims["sub"]
        if not isinstance(subject, str):
            raise InvalidToken("the subject must be a string")
        return TokenClaims(subject or None, _access_claim(claims.get("access", [])), claims["exp"])


def _access_claim(value: Any) -> tuple[Access, ...]:
    if not isinstance(value, list):
        raise InvalidToken("the access claim must be a list")
    out = []
    for item in value:
        if not isinstance(item, dict):
            raise InvalidToken("an access entry must be an object")
        kind, name, actions = item.get("type"), item.get("name"), item.get("actions", [])
        if not isinstance(kind, str) or not isinstance(name, str) or not isinstance(actions, list):
            raise InvalidToken("an access entry needs type, name and actions")
        if not all(isinstance(action, str) for action in actions):
            raise InvalidToken("actions must be strings")
        out.append(Access(kind, name, tuple(actions)))
    return tuple(out)


# -- challenges and the decision --------------------------------------------------------------


def _quoted(value: str) -> str:
    return json.dumps(value)  # names are ASCII without quotes or backslashes: plain quoting


def basic_challenge(realm: str) -> str:
    """``Basic realm="<realm>"``."""
    return f"Basic realm={_quoted(realm)}"


def bearer_challenge(
    realm: str, service: str, needed: Sequence[Access] = (), error: str | None = None
) -> str:
    """``Bearer realm="...",service="...",scope="..."[,error="..."]`` as distribution writes
    it; several resources are space-joined in one ``scope``."""
    text = f"Bearer realm={_quoted(realm)},service={_quoted(service)}"
    scopes = " ".join(access.scope for access in needed if access.actions)
    if scopes:
        text += f",scope={_quoted(scopes)}"
    if error:
        text += f",error={_quoted(error)}"
    return text


def _parse_authorization(header: str | None, scheme: str) -> str | None:
    if not header:
        return None
    given, _, value = header.strip().partition(" ")
    if given.lower() != scheme:
        return None
    return value.strip() or None


def _parse_basic(header: str | None) -> tuple[str, str] | None:
    value = _parse_authorization(header, "basic")
    if value is None:
        return None
    if not value.isascii():
        return ("", "")  # base64 is ASCII: a failed sign-in, not an anonymous request
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return ("", "")  # present but unreadable: a failed sign-in, not an anonymous request
    name, _, password = decoded.partition(":")
    return name, password


def _detail(needed: Sequence[Access]) -> str | None:
    return " ".join(access.scope for access in needed) or None


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
        credentials = _parse_basic(authorization)
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
                raise self._basic_unauthorized(_detail(refused))
            raise RegistryError(ErrorCode.DENIED, _detail(refused))
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
        assert self.tokens is not None
        token = _parse_authorization(authorization, "bearer")
        if token is None:
            raise self._bearer_unauthorized(realm, needed, None, _detail(needed))
        try:
            claims = self.tokens.verify(token)
        except InvalidToken as exc:
            raise self._bearer_unauthorized(realm, needed, "invalid_token", str(exc)) from None
        missing = [access for access in needed if not claims.permits(access)]
        if not missing:
            return claims.subject
        user = claims.subject
        if user is not None and not all(self.policy.permits(user, a) for a in missing):
            # No token this user can get would do: asking again is pointless.
            raise RegistryError(ErrorCode.DENIED, _detail(missing))
        raise self._bearer_unauthorized(realm, needed, "insufficient_scope", _detail(missing))

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
        if self.tokens is None:
            raise RegistryError(ErrorCode.UNSUPPORTED, "this registry issues no tokens")
        if service and service != self.service:
            raise RegistryError(
                ErrorCode.UNSUPPORTED,
                f"unknown service {service!r}; this token server serves {self.service!r}",
                status=400,
            )
        credentials = (username, password or "") if username else _parse_basic(authorization)
        user: str | None = None
        if credentials is not None:
            name, secret = credentials
            if not self.users.check(name, secret):
                raise self._basic_unauthorized("invalid username or password")
            user = name
        elif not self.policy.allows_anonymous:
            raise self._basic_unauthorized("anonymous access is not allowed")
        granted = [self.policy.grant(user, access) for access in parse_scopes(scopes)]
        return self.tokens.issue(user, [access for access in granted if access is not None])
