"""L3, the registry client: speaks the distribution-spec over HTTP to any registry (ours, CNCF
distribution, a hosted one) and knows no storage. See :mod:`fakeregistry.client.client`."""

from fakeregistry.client.client import *  # noqa: F403
from fakeregistry.client.client import __all__ as __all__
