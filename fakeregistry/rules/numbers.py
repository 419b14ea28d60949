"""Numbers as the wire spells them: ASCII decimal digits only, and never unbounded.

Python's ``str.isdigit()`` and ``int()`` accept far more than HTTP or JSON allow: superscripts
(``"²".isdigit()`` is true, ``int("²")`` raises), other scripts' digits (``int("٣")`` is 3),
and strings of any length (``int()`` raises past 4,300 digits, and is quadratic below that).
Every number a request carries (``Content-Length``, ``Range``, ``Content-Range``, ``?n=``) is
read with :func:`parse_decimal`, which accepts ``[0-9]{1,max_digits}`` and nothing else.
"""

from __future__ import annotations

__all__ = ["INT64_DIGITS", "INT64_MAX", "parse_decimal"]

INT64_MAX = 2**63 - 1
# 9223372036854775807 has 19 digits: anything longer cannot be an int64, whatever it says.
INT64_DIGITS = 19

_ASCII_DIGITS = frozenset("0123456789")


def parse_decimal(text: str, max_digits: int = INT64_DIGITS) -> int | None:
    """The value of ``text`` if it is 1 to ``max_digits`` ASCII digits, else None.

    >>> parse_decimal("0042"), parse_decimal("²"), parse_decimal("+1"), parse_decimal("9" * 20)
    (42, None, None, None)
    """
    if not text or len(text) > max_digits or not _ASCII_DIGITS.issuperset(text):
        return None
    return int(text)
