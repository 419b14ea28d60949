"""Durable file operations: what the disk store does so that a 201 means the bytes survive.

Every file that becomes visible is written elsewhere first, flushed with ``fsync``, renamed into
place and its directory flushed too (POSIX makes a rename atomic but not durable until the
directory is synced). A crash at any moment therefore leaves either the old file or the complete
new one, never a part of it. Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "TEMP_MARK",
    "fsync_dir",
    "fsync_file",
    "install",
    "link_or_copy",
    "make_dirs",
    "remove",
    "write_atomic",
]

# Temporary files written beside their final name carry this mark; they are removed on start.
TEMP_MARK = ".tmp-"


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (new, renamed or removed names) to disk."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush a file's bytes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(path: Path) -> None:
    """``mkdir -p`` whose new directories are durable (each parent flushed after its child)."""
    missing: list[Path] = []
    current = path
    while not current.is_dir():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir()
        fsync_dir(directory.parent)


def install(source: Path, target: Path) -> None:
    """Move a complete, flushed file to ``target`` (replacing it) and make the name durable."""
    make_dirs(target.parent)
    os.replace(source, target)
    fsync_dir(target.parent)


def _replace_with(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Put what ``write`` writes into a temporary file beside ``target``, fsync it and rename
    it over ``target``; the temporary file is removed if anything fails."""
    temporary = target.with_name(f"{target.name}{TEMP_MARK}{uuid.uuid4().hex}")
    try:
        with open(temporary, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        remove(temporary)
        raise


def write_atomic(target: Path, data: bytes) -> None:
    """Replace ``target`` with ``data``: a temporary file beside it, fsync, rename, fsync."""
    make_dirs(target.parent)
    _replace_with(target, lambda file: file.write(data))
    fsync_dir(target.parent)


def link_or_copy(source: Path, target: Path) -> None:
    """Give the file at ``source`` a second name ``target`` (a hard link, so the bytes are stored
    once; a flushed copy where the filesystem has no hard links), durably."""
    make_dirs(target.parent)
    try:
        os.link(source, target)
    except FileExistsError:
        return
    except OSError:
        with open(source, "rb") as src:
            _replace_with(target, lambda dst: shutil.copyfileobj(src, dst, 1024 * 1024))
    fsync_dir(target.parent)


def remove(path: Path) -> bool:
    """Remove a file if it exists; True when it did."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
