"""Go's standard library as containerd and the engines call it, for byte-exact behaviour.

The engines are Go programs: their errors quote with ``%q``, their specifiers join with
``path.Join``, their numbers parse with ``strconv``. Python's look-alikes differ at the edges
(``int(" 7")`` is 7, ``str.isdigit`` takes ``"²"``, ``os.path.normpath`` is not ``path.Clean``),
so the rules that must answer as Go does use these instead::

    >>> go_atoi("-12"), go_atoi("12a"), go_parse_uint("256", 8)
    (-12, None, None)
    >>> go_path_join("", "linux", "", "arm64"), go_path_clean("a/../../b/./c/")
    ('linux/arm64', '../b/c')
    >>> print(go_quote("tab\\there"))
    "tab\\there"

Pure, standard library only.
"""

from __future__ import annotations

import re

__all__ = [
    "DIGITS",
    "GoEscapeError",
    "go_atoi",
    "go_parse_uint",
    "go_path_clean",
    "go_path_join",
    "go_path_unescape",
    "go_quote",
]

# ASCII decimal digits, one or more (what strconv accepts after an optional sign).
DIGITS = re.compile(r"[0-9]+")
_SIGNED_DIGITS = re.compile(r"[+-]?[0-9]+")

_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(text: str) -> str:
    """``text`` as Go's ``%q`` / ``strconv.Quote`` prints it, for byte-exact error messages.

    >>> print(go_quote('a"b\\\\c'), go_quote("tab\\there"), go_quote("é"))
    "a\\"b\\\\c" "tab\\there" "é"
    """
    out = ['"']
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80 or 0xDC80 <= ord(ch) <= 0xDCFF:
            # ASCII control bytes, and the invalid UTF-8 bytes surrogateescape smuggled in.
            out.append(f"\\x{ord(ch) & 0xFF:02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def go_atoi(text: str) -> int | None:
    """``strconv.Atoi``: optional sign and ASCII digits only; ``None`` where Go errors.

    >>> go_atoi("+7"), go_atoi(" 7"), go_atoi("²"), go_atoi(str(2**63))
    (7, None, None, None)
    """
    if not _SIGNED_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def go_parse_uint(text: str, bits: int) -> int | None:
    """``strconv.ParseUint(text, 10, bits)``: ASCII digits that fit *bits*; else ``None``.

    >>> go_parse_uint("255", 8), go_parse_uint("-1", 8), go_parse_uint("65536", 16)
    (255, None, None)
    """
    if not DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value < 2**bits else None


class GoEscapeError(ValueError):
    """Go's ``url.EscapeError``: ``invalid URL escape "%zz"``."""


def go_path_unescape(text: str) -> str:
    """Go's ``url.PathUnescape``: ``%XX`` to bytes, ``+`` kept, bad escapes rejected.

    >>> go_path_unescape("a%2Bb+c")
    'a+b+c'
    >>> go_path_unescape("%zz")
    Traceback (most recent call last):
    ...
    fakeregistry.platforms.go.GoEscapeError: invalid URL escape "%zz"
    """
    raw = bytearray()
    i = 0
    data = text.encode("utf-8", "surrogateescape")
    while i < len(data):
        if data[i] == 0x25:  # "%"
            hexdigits = data[i + 1 : i + 3]
            # Go: `if i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2])`, reporting at most 3 bytes.
            if len(hexdigits) < 2 or not all(chr(b) in "0123456789abcdefABCDEF" for b in hexdigits):
                bad = data[i : i + 3].decode("utf-8", "surrogateescape")
                raise GoEscapeError(f"invalid URL escape {go_quote(bad)}")
            raw.append(int(hexdigits, 16))
            i += 3
        else:
            raw.append(data[i])
            i += 1
    return raw.decode("utf-8", "surrogateescape")


def go_path_clean(path: str) -> str:
    """Go's ``path.Clean`` (lexical: drops empty and ``.`` segments, folds ``..``).

    >>> go_path_clean(""), go_path_clean("/../a//b/"), go_path_clean("a/..")
    ('.', '/a/b', '.')
    """
    if not path:
        return "."
    rooted = path.startswith("/")
    out: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(segment)
    joined = "/".join(out)
    if rooted:
        return "/" + joined
    return joined or "."


def go_path_join(*elements: str) -> str:
    """Go's ``path.Join``: join the elements from the first non-empty one, then Clean.

    >>> go_path_join("linux", "arm", "v7"), go_path_join("", ""), go_path_join("windows", "", "")
    ('linux/arm/v7', '', 'windows')
    """
    for i, element in enumerate(elements):
        if element:
            return go_path_clean("/".join(elements[i:]))
    return ""
