"""A pytest plugin loaded (``-p oras_suite_plugin``) into the run of the test suite shipped in
the oras wheel (see test_oras_suite.py); not a test module of ours.

- Tests marked ``with_auth(True)`` need a registry with TLS and Basic auth: they are skipped
  with the reason "auth mode: issue 4" (the suite would skip them anyway, saying only that they
  need an authenticated registry).
- ``test_chunked_push`` pushes a file of ``default_chunksize * 1024`` bytes in chunks of
  ``default_chunksize``: 16 GiB in 16 MiB chunks, which an in-memory registry would hold in RAM.
  The chunk size is shrunk to 64 KiB, so the file is 64 MiB sent in the same 1024 PATCH
  requests. oras binds the chunk size as a default argument when ``oras.provider`` is imported,
  so this module must be imported first (``-p`` plugins are, before conftest and test modules).
"""

from __future__ import annotations

import sys

import oras.defaults
import pytest

CHUNK_SIZE = 64 * 1024
AUTH_REASON = "auth mode: issue 4"

assert "oras.provider" not in sys.modules, "load this plugin before oras.provider is imported"
oras.defaults.default_chunksize = CHUNK_SIZE


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "with_auth(enabled): needs a registry with (True) or without (False) auth"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("with_auth")
        if marker is not None and marker.args and marker.args[0] is True:
            item.add_marker(pytest.mark.skip(reason=AUTH_REASON))
