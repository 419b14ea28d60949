"""pytest fixtures for fakeregistry: a real registry per test, in milliseconds.

Loaded through the ``pytest11`` entry point ``fakeregistry``; all logic lives in the
``fakeregistry`` package (``fakeregistry.session``, ``fakeregistry.harness``), and this module
only wires it into pytest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fakeregistry import FakeRegistry, HandleConfig, RegistrySession

__all__ = ["fake_registry", "fake_registry_factory", "fake_registry_server"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fake_registry(images=[...], layout=(path, repo), tls=False, auth=None|'basic'|'token', "
        "users={name: password}, anonymous_pull=False, deletes=..., referrers=..., "
        "negotiation=..., validation=...): set up the test's fake_registry",
    )


@pytest.fixture(scope="session")
def fake_registry_server() -> Iterator[RegistrySession]:
    """The session's registries, one server per configuration and xdist worker.
    Usage: ``fake_registry_server.server().url`` (``fake_registry`` hands them out cleared).
    """
    session = RegistrySession()
    yield session
    session.close()


@pytest.fixture
def fake_registry(
    request: pytest.FixtureRequest, fake_registry_server: RegistrySession
) -> Iterator[FakeRegistry]:
    """A real registry on 127.0.0.1, empty at the start of each test.
    Usage: ``def test_push(fake_registry): fake_registry.push_image("app:1.0")``

    Builders (``push_image``, ``push_index``, ``push_artifact``, ``push_blob``, ``pull``) and
    their ``a``-prefixed awaitable twins, the request log (``requests``,
    ``assert_requested``), fault injection (``fail``, ``delay``, ``rate_limit``, ``warn``) and
    ``configure(**options)``; the ``fake_registry`` marker seeds images and sets options.
    """
    marker = request.node.get_closest_marker("fake_registry")
    config = HandleConfig.from_marker(marker.kwargs if marker else {})
    handle = fake_registry_server.acquire(config)
    yield handle
    fake_registry_server.check([handle])


@pytest.fixture
def fake_registry_factory(
    fake_registry_server: RegistrySession,
) -> Iterator[Callable[..., FakeRegistry]]:
    """More independent registries (copying between two, mirrors), stopped after the test.
    Usage: ``source, mirror = fake_registry_factory(), fake_registry_factory(deletes=False)``
    """
    made: list[FakeRegistry] = []

    def make(**options: Any) -> FakeRegistry:
        handle = fake_registry_server.new_registry(**options)
        made.append(handle)
        return handle

    yield make
    try:
        fake_registry_server.check(made)
    finally:
        fake_registry_server.release_extra()
