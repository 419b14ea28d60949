"""The top layer, the ``fakeregistry`` command: ``serve``, ``pull``, ``platforms`` and ``manifest``
(a module each, over ``common``), with ``sign``, ``verify`` and ``keygen`` from
:mod:`fakeregistry.trust.commands`; :mod:`~fakeregistry.cli.main` parses and dispatches."""

from fakeregistry.cli.main import main

__all__ = ["main"]
