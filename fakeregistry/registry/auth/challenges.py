"""The HTTP words of auth without HTTP: the ``WWW-Authenticate`` challenges the registry
answers with, and the credentials read from an ``Authorization`` header."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence

from fakeregistry.registry.auth.policy import Access


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


def parse_authorization(header: str | None, scheme: str) -> str | None:
    if not header:
        return None
    given, _, value = header.strip().partition(" ")
    if given.lower() != scheme:
        return None
    return value.strip() or None


def parse_basic(header: str | None) -> tuple[str, str] | None:
    value = parse_authorization(header, "basic")
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


def detail_of(needed: Sequence[Access]) -> str | None:
    return " ".join(access.scope for access in needed) or None
