"""Shared fixtures: a fresh registry per test, and an HTTP client for it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from fakeregistry import RegistryOptions, RegistryServer

pytest_plugins = ["pytester"]

# --doctest-modules imports every module under tests/; this one patches oras when imported, so
# only the oras suite's own subprocess may load it (tests/interop/test_oras_suite.py).
collect_ignore = ["interop/oras_suite_plugin.py"]

RegistryFactory = Callable[..., RegistryServer]

# In CI every external client is installed, so a test that would skip for a missing client
# must fail instead (.ci/run sets this).
REQUIRE_CLIENTS = os.environ.get("FAKEREGISTRY_REQUIRE_CLIENTS") == "1"


def require_tool(name: str) -> str:
    """The path of an external command, or skip (fail under FAKEREGISTRY_REQUIRE_CLIENTS=1)."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian package or PyPI; .ci/run installs it)"
        if REQUIRE_CLIENTS:
            pytest.fail(message)
        pytest.skip(message)
    return path


# The stores a registry can keep its content in; test modules that run their tables over both
# override the ``store`` fixture with ``params=STORES`` (``store_params``).
STORES = ("memory", "disk")


@pytest.fixture
def store() -> str:
    """Which store ``make_registry`` uses: ``memory`` unless a module asks for both."""
    return "memory"


@pytest.fixture
def make_registry(
    store: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RegistryFactory]:
    """Start registries with given options (``make_registry(deletes=False)``); all are stopped
    after the test. Server-side exceptions fail the test. With ``store == "disk"`` each one keeps
    its content in a fresh directory (``fakeregistry serve --storage``)."""
    servers: list[RegistryServer] = []
    errors: list[BaseException] = []

    def make(**options: Any) -> RegistryServer:
        storage_dir = tmp_path_factory.mktemp("store") if store == "disk" else None
        server = RegistryServer(
            RegistryOptions(**options), on_error=errors.append, storage_dir=storage_dir
        ).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
    if errors:
        raise errors[0]


@pytest.fixture
def registry(make_registry: RegistryFactory) -> RegistryServer:
    """A fresh registry with default options on 127.0.0.1."""
    return make_registry()


@pytest.fixture
def http(registry: RegistryServer) -> Iterator[httpx.Client]:
    """An HTTP client whose base URL is ``registry``."""
    with httpx.Client(base_url=registry.url, timeout=30) as client:
        yield client
