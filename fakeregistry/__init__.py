"""fakeregistry: an in-memory OCI distribution-spec registry for tests, CI and multi-arch pulls.

The public API::

    from fakeregistry import RegistryServer, RegistryOptions

    with RegistryServer(RegistryOptions(deletes=False)) as registry:
        ...  # registry.url is http://127.0.0.1:PORT

Names are imported on first use (PEP 562), so ``import fakeregistry`` — which pytest does for
every run once the plugin is installed — costs almost nothing until a registry is needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "AsyncRegistryServer": "fakeregistry.server",
    "Digest": "fakeregistry.digest",
    "DigestError": "fakeregistry.digest",
    "ErrorCode": "fakeregistry.errors",
    "ExternalSession": "fakeregistry.session",
    "FakeRegistry": "fakeregistry.harness",
    "Fault": "fakeregistry.faults",
    "FeatureUnavailable": "fakeregistry.errors",
    "HandleConfig": "fakeregistry.session",
    "Image": "fakeregistry.builder",
    "ImageReference": "fakeregistry.reference",
    "Index": "fakeregistry.builder",
    "RateLimit": "fakeregistry.faults",
    "RecordedRequest": "fakeregistry.requestlog",
    "RegistryError": "fakeregistry.errors",
    "RegistryOptions": "fakeregistry.options",
    "RegistryServer": "fakeregistry.server",
    "RegistrySession": "fakeregistry.session",
    "RequestLog": "fakeregistry.requestlog",
    "ServerError": "fakeregistry.session",
    "Session": "fakeregistry.session",
    "Storage": "fakeregistry.storage",
    "build_artifact": "fakeregistry.builder",
    "build_image": "fakeregistry.builder",
    "build_index": "fakeregistry.builder",
    "create_app": "fakeregistry.http",
}

# Spelled out for type checkers and linters; tests/test_layers.py checks it equals _EXPORTS.
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fakeregistry' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from fakeregistry.builder import Image, Index, build_artifact, build_image, build_index
    from fakeregistry.digest import Digest, DigestError
    from fakeregistry.errors import ErrorCode, FeatureUnavailable, RegistryError
    from fakeregistry.faults import Fault, RateLimit
    from fakeregistry.harness import FakeRegistry
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
