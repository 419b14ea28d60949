"""How the tools reach a registry: one *connection* argument that pull, manifest-tool, signing,
the harness and the CLI all take, and their synchronous twins.

A connection is either a :class:`~fakeregistry.client.config.HostConfig` (plain HTTP, TLS
verification, CA file, credentials) that applies to the reference's registry, or a
:class:`~fakeregistry.client.client.RegistryClient` to use as it is (it is not closed, so one
client can serve many calls and keep its tokens). ``None`` means ``HostConfig()``: plain HTTP
for loopback hosts, HTTPS elsewhere, anonymous.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import ParamSpec, TypeAlias, TypeVar

from fakeregistry.client.client import RegistryClient
from fakeregistry.client.config import HostConfig
from fakeregistry.runtime.loopthread import run_in_fresh_loop

__all__ = ["Connection", "connect", "sync_twin"]

Connection: TypeAlias = HostConfig | RegistryClient

P = ParamSpec("P")
T = TypeVar("T")


@contextlib.asynccontextmanager
async def connect(registry: str, connection: Connection | None) -> AsyncIterator[RegistryClient]:
    """A client for *registry*: the one passed in (left open), or a new one made from the
    :class:`HostConfig` (closed on exit)."""
    if isinstance(connection, RegistryClient):
        yield connection
        return
    async with RegistryClient({registry: connection or HostConfig()}) as own:
        yield own


def sync_twin(function: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """The synchronous twin of an async tool function: the same parameters and result, run on
    a fresh event loop in its own thread, so it works inside or outside a running loop.

    A :class:`RegistryClient` passed as ``connection`` is closed afterwards (its session
    belongs to that thread's loop); it may be used again, and opens a new session then.
    """

    @functools.wraps(function)
    def twin(*args: P.args, **kwargs: P.kwargs) -> T:
        connection = kwargs.get("connection")
        return run_in_fresh_loop(
            lambda: function(*args, **kwargs),
            name=f"fakeregistry-{function.__name__}",
            cleanup=connection.close if isinstance(connection, RegistryClient) else None,
        )

    twin.__doc__ = (
        f":func:`{function.__name__}` for synchronous code, with the same parameters "
        "(see :func:`fakeregistry.client.connection.sync_twin`)."
    )
    return twin
