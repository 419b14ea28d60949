"""Only the registry's HTTP side imports ``aiohttp.web`` (import-linter checks the rest of the
layering; it cannot name a submodule of another distribution, so this one is checked here)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fakeregistry._compat import MOVED

PACKAGE = Path(__file__).parent.parent / "fakeregistry"
# The API handlers and the web page.
HTTP_LAYERS = (PACKAGE / "registry" / "http", PACKAGE / "registry" / "webui")
# The factory that composes them, and the server that binds sockets (it names web.AppRunner).
ALLOWED = {PACKAGE / "registry" / "app.py", PACKAGE / "registry" / "server.py"}


def imports_aiohttp_web(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (
            (node.module == "aiohttp" and any(alias.name == "web" for alias in node.names))
            or (node.module or "").startswith("aiohttp.web")
        ):
            return True
        if isinstance(node, ast.Import) and any(
            a.name.startswith("aiohttp.web") for a in node.names
        ):
            return True
    return False


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, id=str(p.relative_to(PACKAGE)))
        for p in sorted(PACKAGE.rglob("*.py"))
        if not any(layer in p.parents for layer in HTTP_LAYERS) and p not in ALLOWED
    ],
)
def test_no_aiohttp_web_outside_the_http_layer(path: Path) -> None:
    assert not imports_aiohttp_web(path)


def test_public_names_are_all_importable() -> None:
    import fakeregistry

    assert sorted(fakeregistry.__all__) == sorted(fakeregistry._EXPORTS)
    for name in fakeregistry.__all__:
        assert getattr(fakeregistry, name) is not None


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(f"fakeregistry.{old}", f"fakeregistry.{new}", id=old)
        for old, new in sorted(MOVED.items())
    ],
)
def test_old_module_paths_alias_the_new_modules(old: str, new: str) -> None:
    """Code written against the 0.1 layout (``fakeregistry.auth``, ``fakeregistry.http.webui``…)
    gets the very module object the new path names, with its own spec."""
    import importlib

    module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert module.__spec__ is not None
    assert module.__spec__.name == new


def test_old_submodule_of_a_moved_package_resolves_by_prefix() -> None:
    import importlib

    assert importlib.import_module("fakeregistry.http.blobs") is importlib.import_module(
        "fakeregistry.registry.http.blobs"
    )


def test_the_public_api_the_readme_names() -> None:
    """The names issue 9 keeps public, from the package root, with ``pull`` the function (not
    the 0.1 module, which would shadow it)."""
    import inspect

    from fakeregistry import (
        AsyncRegistryServer,
        FakeRegistry,
        Platform,
        RegistryOptions,
        RegistryServer,
        build_image,
        build_index,
        create_app,
        pull,
        pull_sync,
        select_manifest,
    )

    assert inspect.iscoroutinefunction(pull)
    assert not inspect.iscoroutinefunction(pull_sync)
    assert pull_sync.__wrapped__ is pull  # type: ignore[attr-defined]
    assert Platform.parse("linux/arm64").format() == "linux/arm64"
    for value in (AsyncRegistryServer, FakeRegistry, RegistryOptions, RegistryServer):
        assert isinstance(value, type)
    for function in (build_image, build_index, create_app, select_manifest):
        assert callable(function)
