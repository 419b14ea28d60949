"""The module paths of fakeregistry 0.1 (``fakeregistry.auth``, ``fakeregistry.tls``, …) keep
importing after the package was regrouped into layer folders.

An old name is an alias: importing it imports the new module and binds the same module object
under the old name, so ``fakeregistry.auth.AuthConfig is fakeregistry.registry.auth.AuthConfig``.
New code and the docs use the new paths; these exist so that code written against 0.1 runs.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

# Old dotted name (below ``fakeregistry.``) -> its home now. A prefix maps its submodules too:
# ``http.blobs`` -> ``registry.http.blobs``; the longest matching prefix wins.
MOVED: dict[str, str] = {
    "auth": "registry.auth",
    "builder": "tools.builder",
    "cpuinfo": "platforms.cpuinfo",
    "digest": "rules.digest",
    "errors": "rules.errors",
    "faults": "registry.faults",
    "harness": "testing.harness",
    "http": "registry.http",
    "http.webui": "registry.webui",
    "loopthread": "runtime.loopthread",
    "manifesttool": "tools.manifesttool",
    "mediatypes": "rules.mediatypes",
    "model": "rules.model",
    "negotiation": "registry.negotiation",
    "options": "registry.options",
    "platform": "platforms.platform",
    "reference": "rules.reference",
    "requestlog": "registry.requestlog",
    "seed": "tools.seed",
    "selection": "engine.selection",
    "server": "registry.server",
    "session": "testing.session",
    "storage": "registry.storage",
    "tls": "registry.tls",
}

_PREFIX = "fakeregistry."


def new_name(old: str) -> str | None:
    """The module an old ``fakeregistry.…`` name now lives at, or None if it did not move.

    >>> new_name("fakeregistry.http.blobs")
    'fakeregistry.registry.http.blobs'
    >>> new_name("fakeregistry.rules.digest") is None
    True
    """
    if not old.startswith(_PREFIX):
        return None
    rest = old[len(_PREFIX) :]
    parts = rest.split(".")
    for cut in range(len(parts), 0, -1):
        home = MOVED.get(".".join(parts[:cut]))
        if home is not None:
            return _PREFIX + ".".join([home, *parts[cut:]])
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target
        self.own_spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.target)
        self.own_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system stamped the alias's spec on the shared module; give it back its own.
        module.__spec__ = self.own_spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        home = new_name(fullname)
        if home is None:
            return None
        is_package = importlib.util.find_spec(home) is not None and hasattr(
            importlib.import_module(home), "__path__"
        )
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(home), is_package=is_package)


def install() -> None:
    """Put the alias finder first on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
