"""L3, the registry client: speaks the distribution-spec over HTTP to any registry (ours, CNCF
distribution, a hosted one) and knows no storage.

One concept per module: :mod:`~fakeregistry.client.client` (:class:`RegistryClient`, over
:mod:`~fakeregistry.client.manifests`, :mod:`~fakeregistry.client.blobs` and
:mod:`~fakeregistry.client.listings`), :mod:`~fakeregistry.client.transport` (session, TLS,
requests and 401 retries), :mod:`~fakeregistry.client.tokens` (the token flow),
:mod:`~fakeregistry.client.challenges` (``WWW-Authenticate``), :mod:`~fakeregistry.client.config`
(:class:`HostConfig`), :mod:`~fakeregistry.client.results`, :mod:`~fakeregistry.client.errors`,
and :mod:`~fakeregistry.client.connection` for the one *connection* argument the tools take.
Import the names from here.
"""

from fakeregistry.client.blobs import UploadMethod
from fakeregistry.client.challenges import Challenge, parse_challenges
from fakeregistry.client.client import RegistryClient
from fakeregistry.client.config import HostConfig, is_loopback
from fakeregistry.client.connection import Connection, connect, sync_twin
from fakeregistry.client.errors import (
    AuthenticationError,
    DigestMismatchError,
    ErrorDetail,
    NotFoundError,
    RegistryClientError,
    RegistryConnectionError,
    RegistryHTTPError,
    SizeMismatchError,
)
from fakeregistry.client.manifests import DEFAULT_MANIFEST_ACCEPT
from fakeregistry.client.results import BlobDownload, FetchedManifest, PingResult, TraceEntry
from fakeregistry.rules.scope import Scope, merge_scopes

__all__ = [
    "DEFAULT_MANIFEST_ACCEPT",
    "AuthenticationError",
    "BlobDownload",
    "Challenge",
    "Connection",
    "DigestMismatchError",
    "ErrorDetail",
    "FetchedManifest",
    "HostConfig",
    "NotFoundError",
    "PingResult",
    "RegistryClient",
    "RegistryClientError",
    "RegistryConnectionError",
    "RegistryHTTPError",
    "Scope",
    "SizeMismatchError",
    "TraceEntry",
    "UploadMethod",
    "connect",
    "is_loopback",
    "merge_scopes",
    "parse_challenges",
    "sync_twin",
]
