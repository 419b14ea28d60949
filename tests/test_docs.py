"""Every example module in docs/pytest-plugin.md runs and passes, as a user would paste it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).parent.parent / "docs" / "pytest-plugin.md"
# An example is a ```python block under an "### " heading of the Examples section.
_SECTION = re.compile(r"^### (.+?)\n(.*?)(?=^### |\Z)", re.S | re.M)
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def examples() -> list[object]:
    text = DOC.read_text().split("## Examples", 1)[1]
    found: list[object] = []
    for title, body in _SECTION.findall(text):
        code = "\n\n".join(_BLOCK.findall(body))
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        found.append(pytest.param(code, id=slug))
    return found


@pytest.mark.parametrize("code", examples())
def test_doc_example(pytester: pytest.Pytester, code: str) -> None:
    assert "def test_" in code
    pytester.makepyfile(code)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()
    assert outcomes.get("errors", 0) == 0, result.stdout.str()
    assert outcomes.get("passed", 0) == code.count("\ndef test_") + code.startswith("def test_")
