"""JSON text read the way Go's ``encoding/json`` reads it, cheaply and with bounded effort.

distribution, containerd, docker and skopeo decode manifests with Go's decoder, so a manifest
they cannot decode must not be stored here either. Python's ``json`` module is more lenient:
it guesses UTF-16 and UTF-32 from ``bytes``, skips a UTF-8 byte order mark, accepts ``NaN`` and
``Infinity``, and recurses once per nesting level (``[`` repeated 100,000 times raises
``RecursionError``). :func:`loads` refuses all of these before or while parsing:

- the text must be UTF-8 (RFC 8259 section 8.1) without a byte order mark;
- ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON;
- nesting deeper than :data:`MAX_DEPTH` is refused before the parser sees it, with a few
  passes of C-speed string operations (no Python loop over the text).

Integer fields are checked by the caller (:mod:`fakeregistry.rules.model`): Go refuses ``2.0`` and
``2e0`` for an ``int`` and anything past 2**63-1 for an ``int64``, so the parsed value must be a
Python ``int`` in range (:func:`is_int64`).
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeGuard

from fakeregistry.rules.errors import FakeRegistryError
from fakeregistry.rules.numbers import INT64_MAX

__all__ = ["MAX_DEPTH", "JSONTextError", "is_int64", "loads"]

# Real manifests nest 5 levels deep (index > manifests > descriptor > platform > features).
# Go's decoder stops at 10,000; ours is far lower so the check stays a handful of passes.
MAX_DEPTH = 64

_BOM = b"\xef\xbb\xbf"
# A JSON string (unrolled: no backtracking); removed before the brackets are counted.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


class JSONTextError(FakeRegistryError, ValueError):
    """The text is not JSON Go's decoder would read (the message says why)."""


def _reject_constant(name: str) -> Any:
    raise JSONTextError(f"{name} is not a JSON value")


def nesting_problem(text: str, limit: int = MAX_DEPTH) -> str | None:
    """Why the brackets of ``text`` (outside strings) are refused, or None: they nest deeper
    than ``limit``, or do not balance. Each pass deletes the innermost ``[]``/``{}`` pairs, so
    ``limit`` passes empty any balanced text of depth up to ``limit``."""
    skeleton = _NOT_BRACKETS.sub("", _STRING.sub("", text))
    for _ in range(limit):
        if not skeleton:
            return None
        shorter = skeleton.replace("[]", "").replace("{}", "")
        if len(shorter) == len(skeleton):
            return "brackets do not balance"
        skeleton = shorter
    return f"JSON nests deeper than {limit} levels" if skeleton else None


def loads(body: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``body`` as UTF-8 JSON text; :class:`JSONTextError` when Go's decoder would not
    read it (or it nests deeper than ``max_depth``)."""
    if body.startswith(_BOM):
        raise JSONTextError("JSON text must not start with a byte order mark")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONTextError(f"JSON text must be UTF-8: {exc}") from None
    problem = nesting_problem(text, max_depth)
    if problem is not None:
        raise JSONTextError(problem)
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except JSONTextError:
        raise
    except (ValueError, RecursionError) as exc:
        raise JSONTextError(f"not valid JSON: {exc}") from None


def is_int64(value: Any, *, minimum: int = 0) -> TypeGuard[int]:
    """True for a JSON integer (not ``2.0``, not a boolean) in ``[minimum, 2**63-1]``."""
    return type(value) is int and minimum <= value <= INT64_MAX
