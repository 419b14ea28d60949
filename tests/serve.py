"""``fakeregistry serve`` as a subprocess for tests: on a free port, stopped with SIGTERM."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def serve(*args: str, quiet: bool = True, stderr: list[str] | None = None) -> Iterator[str]:
    """Run ``fakeregistry serve --port 0 ARGS`` and yield its URL (``http[s]://127.0.0.1:PORT/``);
    stop it with SIGTERM afterwards. Its stderr goes to ``stderr`` when given."""
    command = [sys.executable, "-m", "fakeregistry", "serve", "--port", "0", *args]
    if quiet:
        command.append("--quiet")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.fullmatch(r"Serving on (https?://127\.0\.0\.1:\d+/)\n", first)
    if match is None:
        process.kill()
        _, err = process.communicate(timeout=10)
        pytest.fail(f"serve did not start: {first!r} {err}")
    try:
        yield match[1]
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
        assert "Traceback" not in err
        if stderr is not None:
            stderr.extend(err.splitlines())
    assert process.returncode == 0
