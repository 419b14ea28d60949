"""fakeregistry: an in-memory OCI distribution-spec registry for tests, CI and multi-arch pulls.

The public API::

    from fakeregistry import RegistryServer, RegistryOptions

    with RegistryServer(RegistryOptions(deletes=False)) as registry:
        ...  # registry.url is http://127.0.0.1:PORT
"""

from fakeregistry.builder import Image, Index, build_artifact, build_image, build_index
from fakeregistry.digest import Digest, DigestError
from fakeregistry.errors import ErrorCode, RegistryError
from fakeregistry.faults import Fault, RateLimit
from fakeregistry.harness import FakeRegistry, FeatureUnavailable
from fakeregistry.http import create_app
from fakeregistry.options import RegistryOptions
from fakeregistry.reference import ImageReference
from fakeregistry.requestlog import RecordedRequest, RequestLog
from fakeregistry.server import AsyncRegistryServer, RegistryServer
from fakeregistry.session import (
    ExternalSession,
    HandleConfig,
    RegistrySession,
    ServerError,
    Session,
)
from fakeregistry.storage import Storage

__all__ = [
    "AsyncRegistryServer",
    "Digest",
    "DigestError",
    "ErrorCode",
    "ExternalSession",
    "FakeRegistry",
    "Fault",
    "FeatureUnavailable",
    "HandleConfig",
    "Image",
    "ImageReference",
    "Index",
    "RateLimit",
    "RecordedRequest",
    "RegistryError",
    "RegistryOptions",
    "RegistryServer",
    "RegistrySession",
    "RequestLog",
    "ServerError",
    "Session",
    "Storage",
    "build_artifact",
    "build_image",
    "build_index",
    "create_app",
]

__version__ = "0.1.0"
