"""Only the HTTP layer imports ``aiohttp.web`` (import-linter checks the rest of the layering;
it cannot name a submodule of another distribution, so this one is checked here)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "fakeregistry"
HTTP_LAYER = PACKAGE / "http"
# Wrappers that start servers may name web.AppRunner; they live above the HTTP layer.
ALLOWED = {PACKAGE / "server.py"}


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
        if HTTP_LAYER not in p.parents and p not in ALLOWED
    ],
)
def test_no_aiohttp_web_outside_the_http_layer(path: Path) -> None:
    assert not imports_aiohttp_web(path)


def test_public_names_are_all_importable() -> None:
    import fakeregistry

    assert sorted(fakeregistry.__all__) == sorted(fakeregistry._EXPORTS)
    for name in fakeregistry.__all__:
        assert getattr(fakeregistry, name) is not None
