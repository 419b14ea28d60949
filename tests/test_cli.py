"""``fakeregistry serve`` as a user runs it: a real process, a real port, real signals."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import httpx
import pytest


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "fakeregistry", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.fullmatch(r"Serving on (http://127\.0\.0\.1:(\d+)/)\n", first)
    assert match, first
    assert match[2] != "0"
    return process, match[1]


@pytest.mark.parametrize(
    ("args", "stop", "logged"),
    [
        pytest.param((), signal.SIGTERM, True, id="sigterm-with-access-log"),
        pytest.param((), signal.SIGINT, True, id="ctrl-c"),
        pytest.param(("--quiet",), signal.SIGTERM, False, id="quiet"),
    ],
)
def test_serve(args: tuple[str, ...], stop: signal.Signals, logged: bool) -> None:
    process, url = start(*args)
    try:
        response = httpx.get(url + "v2/")
        assert response.status_code == 200
        assert response.json() == {}
        assert httpx.get(url + "v2/nope/tags/list").status_code == 404
    finally:
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    lines = [line for line in stderr.splitlines() if line]
    if logged:
        assert len(lines) == 2, stderr
        assert '"GET /v2/ HTTP/1.1" 200' in lines[0]
        assert '"GET /v2/nope/tags/list HTTP/1.1" 404' in lines[1]
    else:
        assert lines == []
    assert "Traceback" not in stderr


def test_serve_port_in_use() -> None:
    process, url = start("--quiet")
    try:
        port = url.rsplit(":", 1)[1].strip("/")
        busy = subprocess.run(
            [sys.executable, "-m", "fakeregistry", "serve", "--port", port],
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert busy.returncode == 1
        assert "cannot listen" in busy.stderr
        assert "Traceback" not in busy.stderr
    finally:
        process.terminate()
        process.communicate(timeout=10)
