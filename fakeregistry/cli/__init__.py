"""L6, the ``fakeregistry`` command: ``serve``, ``pull``, ``platforms`` and ``manifest``."""

from fakeregistry.cli.main import main

__all__ = ["main"]
