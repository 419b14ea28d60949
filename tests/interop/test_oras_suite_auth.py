"""The oras wheel's own test suite in its auth mode, against our registry with TLS and Basic auth.

``ORAS_AUTH=true`` with ``ORAS_USER``/``ORAS_PASS`` makes the suite run its ``with_auth(True)``
tests (login and logout, push and pull of a directory with ``auth_backend="basic"`` and
``tls_verify=False``, a custom Docker config path) and skip its unauthenticated ones.
test_oras_suite.py runs the same suite without auth; the subprocess set-up follows it, except
that its ``oras_suite_plugin`` (which skips the auth tests) is not loaded and HOME is a
directory of the test's own, since ``login`` writes ``~/.docker/config.json``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakeregistry import RegistryServer
from fakeregistry.registry.auth import AuthConfig, Users
from tests.interop.oras_suite import EXCLUDED, NOT_INHERITED, oras_suite

pytestmark = pytest.mark.interop

USER, PASSWORD = "myuser", "mypass"

# The suite's tests for an authenticated registry; each must pass, none may be skipped.
AUTH_TESTS = {
    "tests.test_oras.test_login_logout",
    "tests.test_oras.test_directory_push_pull_selfsigned_auth",
    "tests.test_oras.test_custom_docker_config_path",
}
# The reason the suite's conftest gives for skipping its unauthenticated tests in auth mode.
UNAUTHENTICATED_REASON = "test requires un-authenticated access to registry"


@pytest.fixture
def secure_registry() -> Iterator[RegistryServer]:
    auth = AuthConfig(mode="basic", users=Users({USER: PASSWORD}))
    errors: list[BaseException] = []
    with RegistryServer(tls=True, auth=auth, on_error=errors.append) as server:
        yield server
    if errors:
        raise errors[0]


def test_oras_suite_auth_mode(secure_registry: RegistryServer, tmp_path: Path) -> None:
    root = tmp_path / "oras-suite"
    shutil.copytree(oras_suite(), root / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    with_auth(enabled): needs a registry with or without auth\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.pop("DOCKER_CONFIG", None)
    env.update(
        ORAS_HOST="127.0.0.1",
        ORAS_PORT=str(secure_registry.port),
        ORAS_AUTH="true",
        ORAS_USER=USER,
        ORAS_PASS=PASSWORD,
        HOME=str(home),
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
    passed: set[str] = set()
    for case in ET.parse(report).iter("testcase"):
        name = f"{case.get('classname')}.{case.get('name')}"
        assert case.find("failure") is None, output
        assert case.find("error") is None, output
        skipped = case.find("skipped")
        if skipped is None:
            passed.add(name)
        else:
            assert name not in AUTH_TESTS, output
            assert skipped.get("message") == UNAUTHENTICATED_REASON, output
    assert passed >= AUTH_TESTS, output
    # The pushes went through auth into the store.
    repositories = secure_registry.call(lambda: sorted(secure_registry.storage.repositories))
    assert "dinosaur/directory" in repositories
