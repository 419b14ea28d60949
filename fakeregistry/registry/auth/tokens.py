"""The registry's bearer tokens: JWTs signed by a :class:`TokenAuthority` (ES256 or RS256),
carrying the token specification's ``access`` claim, and verified against that key only."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from fakeregistry.registry.auth.policy import Access
from fakeregistry.rules.scope import covers

TokenAlgorithm = Literal["ES256", "RS256"]
SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


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
        return covers(self.access, [needed], wildcard=True)


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
