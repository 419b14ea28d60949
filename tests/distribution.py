"""CNCF distribution (Debian's ``docker-registry``) as a test registry: in-memory storage, on
127.0.0.1 and a free port, started and stopped around a test."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import require_tool

CONFIG = """\
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  inmemory: {{}}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  secret: fakeregistry-tests
"""


@dataclass(frozen=True)
class Distribution:
    """A running CNCF distribution: ``url`` (``http://127.0.0.1:PORT``) and ``host``."""

    url: str
    process: subprocess.Popen[bytes]

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def run_distribution(directory: Path, *, timeout: float = 20.0) -> Iterator[Distribution]:
    """Start ``docker-registry serve`` with a generated config; skip when it is not installed."""
    binary = require_tool("docker-registry")
    port = _free_port()
    config = directory / "config.yml"
    config.write_text(CONFIG.format(port=port))
    log = (directory / "registry.log").open("wb")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited with {process.returncode}: "
                    + (directory / "registry.log").read_text(errors="replace")
                )
            try:
                if httpx.get(url + "/v2/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"docker-registry did not answer on {url} in {timeout}s")
            time.sleep(0.05)
        yield Distribution(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
