"""Where the test suite shipped in the oras wheel is, and what of it our runs leave out."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_CLIENTS

# Only tests that need the internet are left out; each talks to ghcr.io.
EXCLUDED = [
    # Lists the 1500+ tags of ghcr.io/channel-mirrors/conda-forge/linux-aarch64/arrow-cpp.
    "tests/test_oras.py::test_get_many_tags",
    # Lists tags on ghcr.io over TLS with verification off and a bogus CA bundle.
    "tests/test_oras.py::test_ssl_no_verify",
    # Expect an SSLError from ghcr.io with a bogus CA bundle (offline: a connection error).
    "tests/test_oras.py::test_ssl_verify_fails_if_bad_ca",
    "tests/test_oras.py::test_ssl_verify_fails_fast_if_bad_ca",
]

# Must match oras_suite_plugin.AUTH_REASON (that module is not imported here: it patches oras).
AUTH_REASON = "auth mode: issue 4"
PLUGIN = Path(__file__).with_name("oras_suite_plugin.py")

# Settings of our own run that must not reach the suite's.
NOT_INHERITED = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONWARNINGS", "ORAS_AUTH")


def oras_suite() -> Path:
    """The ``tests`` directory inside the installed oras package."""
    spec = importlib.util.find_spec("oras")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        suite = Path(location) / "tests"
        if (suite / "conftest.py").is_file():
            return suite
    message = (
        "the oras package with its bundled tests is not installed (PyPI; pip install -e '.[test]')"
    )
    if REQUIRE_CLIENTS:
        pytest.fail(message)
    pytest.skip(message)
