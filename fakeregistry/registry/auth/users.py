"""Accounts and their passwords: plain ones given on the command line, or the bcrypt
hashes of an htpasswd file as distribution reads one."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from pathlib import Path

import bcrypt


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
