"""The disk store's durable file steps (fakeregistry.registry.disk.files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fakeregistry.registry.disk import files

DATA = os.urandom(3 * 1024 * 1024 + 5)


def _refuse_links(source: object, target: object) -> None:
    raise OSError("hard links not supported here")


@pytest.mark.parametrize("links", [True, False], ids=["hard-link", "no-hard-links-copy"])
def test_link_or_copy_gives_the_bytes_a_second_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, links: bool
) -> None:
    source = tmp_path / "a" / "blob"
    source.parent.mkdir()
    source.write_bytes(DATA)
    if not links:
        monkeypatch.setattr(os, "link", _refuse_links)
    target = tmp_path / "b" / "blob"
    files.link_or_copy(source, target)
    assert target.read_bytes() == DATA
    assert (os.stat(target).st_ino == os.stat(source).st_ino) is links
    assert sorted(p.name for p in target.parent.iterdir()) == ["blob"]  # no temporary left


def test_write_atomic_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "d" / "index.json"
    files.write_atomic(target, b"old")
    files.write_atomic(target, DATA)
    assert target.read_bytes() == DATA
    assert sorted(p.name for p in target.parent.iterdir()) == ["index.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "index.json"
    files.write_atomic(target, b"old")

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        files.write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.json"]
