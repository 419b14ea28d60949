"""The disk store (``fakeregistry serve --storage DIR``): the registry's content in a directory
that reads as one OCI image layout per repository, durable before every 201.

- :mod:`~fakeregistry.registry.disk.files`: fsync, atomic renames, hard links;
- :mod:`~fakeregistry.registry.disk.layout`: a repository directory as an OCI image layout;
- :mod:`~fakeregistry.registry.disk.store`: :class:`DiskStorage`, the store itself.
"""

from __future__ import annotations

import os

from fakeregistry.registry.disk.store import DiskStorage, DiskUpload, FileBlob
from fakeregistry.registry.options import RegistryOptions
from fakeregistry.registry.storage import Storage

__all__ = ["DiskStorage", "DiskUpload", "FileBlob", "open_storage"]


def open_storage(
    options: RegistryOptions | None = None, storage_dir: str | os.PathLike[str] | None = None
) -> Storage:
    """The store a registry with ``options`` serves: on disk in ``storage_dir`` when given,
    else in memory."""
    if storage_dir is None:
        return Storage(options)
    return DiskStorage(storage_dir, options)
