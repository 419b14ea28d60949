"""L3, the registry client: speaks the distribution-spec over HTTP to any registry (ours, CNCF
distribution, a hosted one) and knows no storage. See :mod:`fakeregistry.client.client`, and
:mod:`fakeregistry.client.connection` for the one *connection* argument the tools take."""

from fakeregistry.client.client import *  # noqa: F403
from fakeregistry.client.client import __all__ as _client_all
from fakeregistry.client.connection import Connection, connect, sync_twin

__all__ = [*_client_all, "Connection", "connect", "sync_twin"]
