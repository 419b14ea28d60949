"""The test suite shipped inside the oras wheel (``oras/tests``), run against our registry.

The suite's conftest reads ORAS_HOST and ORAS_PORT for an unauthenticated registry (ORAS_AUTH,
ORAS_USER and ORAS_PASS for one with auth). It runs in a pytest subprocess of its own, on a copy
of the suite in tmp_path: some of its tests write files next to themselves, and neither our
pytest configuration (``filterwarnings = error``) nor our pytest plugins may leak into it.
``oras_suite_plugin`` skips its auth-mode tests and scales down its 16 GiB chunked push.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fakeregistry import RegistryServer
from tests.interop.oras_suite import AUTH_REASON, EXCLUDED, NOT_INHERITED, PLUGIN, oras_suite

pytestmark = pytest.mark.interop


def test_oras_suite(registry: RegistryServer, tmp_path: Path) -> None:
    root = tmp_path / "oras-suite"
    # Leftovers of an interrupted in-place run of the suite (chunked is a 16 GiB sparse file).
    leftovers = shutil.ignore_patterns("__pycache__", "chunked", "some:file", ":somefile")
    shutil.copytree(oras_suite(), root / "tests", ignore=leftovers)
    shutil.copy(PLUGIN, root)
    (root / "pytest.ini").write_text("[pytest]\n")
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.update(
        ORAS_HOST="127.0.0.1",
        ORAS_PORT=str(registry.port),
        # Only the plugins named here: not ours (an entry point) nor any other installed one.
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    report = tmp_path / "report.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests",
        "-c",
        "pytest.ini",
        "--rootdir",
        str(root),
        "-p",
        "oras_suite_plugin",
        "-p",
        "no:cacheprovider",
        f"--basetemp={tmp_path / 'basetemp'}",
        f"--junitxml={report}",
        "-ra",
        *(f"--deselect={test}" for test in EXCLUDED),
    ]

    result = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=900, check=False
    )

    output = f"$ {' '.join(command)}\n{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, output
    outcomes: dict[str, list[str]] = {"passed": [], "skipped": [], "failed": []}
    for case in ET.parse(report).iter("testcase"):
        name = f"{case.get('classname')}.{case.get('name')}"
        skipped = case.find("skipped")
        if case.find("failure") is not None or case.find("error") is not None:
            outcomes["failed"].append(name)
        elif skipped is not None:
            outcomes["skipped"].append(f"{name}: {skipped.get('message')}")
            assert skipped.get("message") == AUTH_REASON, output
        else:
            outcomes["passed"].append(name)
    assert not outcomes["failed"], output
    assert outcomes["passed"], output
