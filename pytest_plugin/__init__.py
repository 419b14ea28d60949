"""pytest fixtures for fakeregistry: a real registry per test, in milliseconds.

Loaded through the ``pytest11`` entry point ``fakeregistry``; all logic lives in the
``fakeregistry`` package (``fakeregistry.testing.session``, ``fakeregistry.testing.harness``), and
this module
only wires it into pytest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

# Only this light module is imported when pytest loads the plugin; the registry itself (aiohttp,
# cryptography, ...) is imported when a test first asks for a fixture, so test runs that never
# use one pay nothing.
from fakeregistry.rules.errors import FeatureUnavailable

if TYPE_CHECKING:
    from fakeregistry import FakeRegistry, Session

__all__ = ["fake_registry", "fake_registry_factory", "fake_registry_server"]

# Command-line option, ini key and environment variable of each external-registry setting.
_SETTINGS = {
    "url": ("--fake-registry-url", "fake_registry_url", "FAKEREGISTRY_URL"),
    "username": ("--fake-registry-username", "fake_registry_username", "FAKEREGISTRY_USERNAME"),
    "password": ("--fake-registry-password", "fake_registry_password", "FAKEREGISTRY_PASSWORD"),
    "ca_file": ("--fake-registry-ca-file", "fake_registry_ca_file", "FAKEREGISTRY_CA_FILE"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fakeregistry", "fake container registry")
    helps = {
        "url": "run fake_registry tests against this registry (http(s)://HOST[:PORT]) instead "
        "of fakeregistry's own server; each test gets its own repository prefix",
        "username": "user name for --fake-registry-url",
        "password": "password for --fake-registry-url (prefer the environment variable)",
        "ca_file": "CA bundle to trust for --fake-registry-url",
    }
    for name, (option, ini, env) in _SETTINGS.items():
        group.addoption(option, dest=f"fake_registry_{name}", default=None, help=helps[name])
        parser.addini(ini, f"{helps[name]} (or ${env})", default=None)
    group.addoption(
        "--fake-registry-insecure",
        action="store_true",
        default=False,
        help="skip TLS verification for --fake-registry-url",
    )


def _setting(config: pytest.Config, name: str) -> str | None:
    _option, ini, env = _SETTINGS[name]
    value = config.getoption(f"fake_registry_{name}") or config.getini(ini) or os.environ.get(env)
    return str(value) if value else None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fake_registry(images=[...], layout=(path, repo), tls=False, auth=None|'basic'|'token', "
        "users={name: password}, anonymous_pull=False, deletes=..., referrers=..., "
        "negotiation=..., validation=..., personality='spec'|'dockerhub'|'ghcr'|...): set up the "
        "test's fake_registry",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """A feature the external registry cannot emulate skips the test, with the reason."""
    try:
        return (yield)
    except FeatureUnavailable as exc:
        pytest.skip(f"fakeregistry: {exc}")


@pytest.fixture(scope="session")
def fake_registry_server(pytestconfig: pytest.Config) -> Iterator[Session]:
    """The session's registries, one server per configuration and xdist worker.
    Usage: ``fake_registry_server.acquire()`` (``fake_registry`` hands them out cleared).
    """
    from fakeregistry import ExternalSession, RegistrySession

    url = _setting(pytestconfig, "url")
    session: Session
    if url:
        session = ExternalSession(
            url,
            username=_setting(pytestconfig, "username"),
            password=_setting(pytestconfig, "password"),
            ca_file=_setting(pytestconfig, "ca_file"),
            insecure=bool(pytestconfig.getoption("fake_registry_insecure")),
        )
    else:
        session = RegistrySession()
    yield session
    session.close()


@pytest.fixture
def fake_registry(
    request: pytest.FixtureRequest, fake_registry_server: Session
) -> Iterator[FakeRegistry]:
    """A real registry on 127.0.0.1, empty at the start of each test.
    Usage: ``def test_push(fake_registry): fake_registry.push_image("app:1.0")``

    Builders (``push_image``, ``push_index``, ``push_artifact``, ``push_blob``, ``pull``) and
    their ``a``-prefixed awaitable twins, the request log (``requests``,
    ``assert_requested``), fault injection (``fail``, ``delay``, ``rate_limit``, ``warn``) and
    ``configure(**options)``; the ``fake_registry`` marker seeds images and sets options.
    With ``--fake-registry-url`` the same tests run against another registry.
    """
    from fakeregistry import HandleConfig

    marker = request.node.get_closest_marker("fake_registry")
    config = HandleConfig.from_marker(marker.kwargs if marker else {})
    try:
        handle = fake_registry_server.acquire(config)
    except FeatureUnavailable as exc:
        pytest.skip(f"fakeregistry: {exc}")
    yield handle
    fake_registry_server.check([handle])


@pytest.fixture
def fake_registry_factory(
    fake_registry_server: Session,
) -> Iterator[Callable[..., FakeRegistry]]:
    """More independent registries (copying between two, mirrors), stopped after the test.
    Usage: ``source, mirror = fake_registry_factory(), fake_registry_factory(deletes=False)``
    """
    made: list[FakeRegistry] = []

    def make(**options: Any) -> FakeRegistry:
        try:
            handle = fake_registry_server.new_registry(**options)
        except FeatureUnavailable as exc:
            pytest.skip(f"fakeregistry: {exc}")
        made.append(handle)
        return handle

    yield make
    try:
        fake_registry_server.check(made)
    finally:
        fake_registry_server.release_extra()
