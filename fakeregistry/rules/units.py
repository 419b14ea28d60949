"""Sizes as people read them: the one formatter the CLI and the web page share.

Powers of 1000 with the units ``docker images`` prints (``B``, ``kB``, ``MB``, ``GB``, ``TB``),
one decimal above bytes:

>>> [format_size(n) for n in (0, 999, 1000, 1_500, 999_949, 2_000_000, 3 * 10**9, 10**15)]
['0 B', '999 B', '1.0 kB', '1.5 kB', '999.9 kB', '2.0 MB', '3.0 GB', '1000.0 TB']
"""

from __future__ import annotations

__all__ = ["SIZE_UNITS", "format_size"]

SIZE_UNITS = ("B", "kB", "MB", "GB", "TB")


def format_size(size: int) -> str:
    """``size`` bytes as ``512 B``, ``1.5 kB``, ``2.0 MB``…; past the last unit the number
    grows (``1000.0 TB``).

    >>> format_size(1234), format_size(-1)
    ('1.2 kB', '-1 B')
    """
    value = float(size)
    step = 0
    while abs(value) >= 1000 and step < len(SIZE_UNITS) - 1:
        value /= 1000
        step += 1
    return f"{size} B" if step == 0 else f"{value:.1f} {SIZE_UNITS[step]}"
