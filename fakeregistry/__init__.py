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

from fakeregistry import _compat

_compat.install()

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "AsyncRegistryServer": "fakeregistry.registry.server",
    "Digest": "fakeregistry.rules.digest",
    "DigestError": "fakeregistry.rules.digest",
    "ErrorCode": "fakeregistry.rules.errors",
    "ExternalSession": "fakeregistry.testing.session",
    "FakeRegistry": "fakeregistry.testing.harness",
    "Fault": "fakeregistry.registry.faults",
    "FeatureUnavailable": "fakeregistry.rules.errors",
    "HandleConfig": "fakeregistry.testing.session",
    "Image": "fakeregistry.tools.builder",
    "ImageReference": "fakeregistry.rules.reference",
    "Index": "fakeregistry.tools.builder",
    "RateLimit": "fakeregistry.registry.faults",
    "RecordedRequest": "fakeregistry.registry.requestlog",
    "RegistryError": "fakeregistry.rules.errors",
    "RegistryOptions": "fakeregistry.registry.options",
    "RegistryServer": "fakeregistry.registry.server",
    "RegistrySession": "fakeregistry.testing.session",
    "RequestLog": "fakeregistry.registry.requestlog",
    "ServerError": "fakeregistry.testing.session",
    "Session": "fakeregistry.testing.session",
    "Platform": "fakeregistry.platforms.platform",
    "PullResult": "fakeregistry.engine.pull",
    "Storage": "fakeregistry.registry.storage",
    "build_artifact": "fakeregistry.tools.builder",
    "build_image": "fakeregistry.tools.builder",
    "build_index": "fakeregistry.tools.builder",
    "create_app": "fakeregistry.registry.app",
    "pull": "fakeregistry.engine.pull",
    "pull_sync": "fakeregistry.engine.pull",
    "select_manifest": "fakeregistry.engine.selection",
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
    "Platform",
    "PullResult",
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
    "pull",
    "pull_sync",
    "select_manifest",
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
    from fakeregistry.engine.pull import PullResult, pull, pull_sync
    from fakeregistry.engine.selection import select_manifest
    from fakeregistry.platforms.platform import Platform
    from fakeregistry.registry.app import create_app
    from fakeregistry.registry.faults import Fault, RateLimit
    from fakeregistry.registry.options import RegistryOptions
    from fakeregistry.registry.requestlog import RecordedRequest, RequestLog
    from fakeregistry.registry.server import AsyncRegistryServer, RegistryServer
    from fakeregistry.registry.storage import Storage
    from fakeregistry.rules.digest import Digest, DigestError
    from fakeregistry.rules.errors import ErrorCode, FeatureUnavailable, RegistryError
    from fakeregistry.rules.reference import ImageReference
    from fakeregistry.testing.harness import FakeRegistry
    from fakeregistry.testing.session import (
        ExternalSession,
        HandleConfig,
        RegistrySession,
        ServerError,
        Session,
    )
    from fakeregistry.tools.builder import Image, Index, build_artifact, build_image, build_index
