"""fakeregistry: an in-memory OCI distribution-spec registry for tests, CI and multi-arch pulls.

The public API::

    from fakeregistry import RegistryServer, RegistryOptions

    with RegistryServer(RegistryOptions(deletes=False)) as registry:
        ...  # registry.url is http://127.0.0.1:PORT
"""

from fakeregistry.digest import Digest, DigestError
from fakeregistry.errors import ErrorCode, RegistryError
from fakeregistry.http import create_app
from fakeregistry.options import RegistryOptions
from fakeregistry.reference import ImageReference
from fakeregistry.server import AsyncRegistryServer, RegistryServer
from fakeregistry.storage import Storage

__all__ = [
    "AsyncRegistryServer",
    "Digest",
    "DigestError",
    "ErrorCode",
    "ImageReference",
    "RegistryError",
    "RegistryOptions",
    "RegistryServer",
    "Storage",
    "create_app",
]

__version__ = "0.1.0"
