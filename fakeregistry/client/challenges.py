"""``WWW-Authenticate`` challenges (RFC 9110 11.6.1): what a registry's 401 asks for.

A registry asks for Basic credentials or for the Docker token flow::

    WWW-Authenticate: Bearer realm="https://auth.example/token",service="registry.example",
                      scope="repository:team/app:pull"
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Challenge", "parse_challenges"]

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM = re.compile(rf"\s*({_TOKEN})\s*=\s*(?:({_TOKEN})|\"((?:[^\"\\]|\\.)*)\")\s*")
_SCHEME = re.compile(rf"\s*({_TOKEN})")
_TOKEN68 = re.compile(r"\s*([A-Za-z0-9._~+/-]+=*)\s*(?=,|$)")


@dataclass(frozen=True, slots=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: scheme (lowercase) and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")

    @property
    def error(self) -> str | None:
        return self.params.get("error")


def parse_challenges(headers: Iterable[str]) -> list[Challenge]:
    """Every challenge in ``WWW-Authenticate`` header values (RFC 9110 11.6.1).

    A value may carry several challenges, and parameters may be tokens or quoted strings:

    >>> [c.scheme for c in parse_challenges(['Basic realm="r", Bearer realm="t",scope="a b"'])]
    ['basic', 'bearer']
    >>> parse_challenges(['Bearer realm="https://auth/token",error="insufficient_scope"'])[0].error
    'insufficient_scope'
    """
    found: list[Challenge] = []
    for header in headers:
        text, pos = header, 0
        while pos < len(text):
            while pos < len(text) and text[pos] in " \t,":
                pos += 1
            scheme = _SCHEME.match(text, pos)
            if scheme is None:
                break
            params: dict[str, str] = {}
            pos = scheme.end()
            while pos < len(text):
                param = _PARAM.match(text, pos)
                if param is None:
                    token68 = _TOKEN68.match(text, pos) if not params else None
                    if token68 is not None and token68.group(1):
                        params["token68"] = token68.group(1)
                        pos = token68.end()
                    break
                key = param.group(1).lower()
                value = param.group(2)
                if value is None:
                    value = re.sub(r"\\(.)", r"\1", param.group(3))
                params.setdefault(key, value)
                pos = param.end()
                if pos < len(text) and text[pos] == ",":
                    # Another parameter, or the next challenge: look past the comma.
                    after = pos + 1
                    if _PARAM.match(text, after) is not None:
                        pos = after
                        continue
                    break
                break
            found.append(Challenge(scheme.group(1).lower(), params))
    return found


def bearer_challenge(challenges: Iterable[Challenge]) -> Challenge | None:
    """The first ``Bearer`` challenge that names a realm (where tokens come from)."""
    return next((c for c in challenges if c.scheme == "bearer" and c.realm), None)
