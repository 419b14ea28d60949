"""The two registries under test, each in a process of its own on 127.0.0.1.

- fakeregistry: ``python -m fakeregistry serve --port 0 --quiet``; its first stdout line says
  ``Serving on http://HOST:PORT/``.
- CNCF distribution 2.8 (Debian's ``docker-registry``): in-memory storage, a free port, access
  log off and log level ``warn``, from a config file written to a temporary directory.

Both are polled on ``GET /v2/`` until they answer 200, and are stopped (SIGTERM, then SIGKILL)
when the ``with`` block ends.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from types import TracebackType
from typing import Self

from benchmarks.rawhttp import Connection

__all__ = [
    "DISTRIBUTION_BINARY",
    "Distribution",
    "FakeRegistry",
    "ModuleServer",
    "ProcessMemory",
    "RegistryProcess",
    "bare_aiohttp",
    "distribution_version",
    "instrumented_registry",
    "raw_ceiling",
]

HOST = "127.0.0.1"
DISTRIBUTION_BINARY = "/usr/bin/docker-registry"
_SERVING = re.compile(r"^Serving on http://([^/]+):(\d+)/\s*$")


class ProcessMemory:
    """``VmRSS`` and ``VmHWM`` of a process, in bytes, from ``/proc/<pid>/status``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def _field(self, name: str) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith(name + ":"):
                    value, unit = line.split()[1:3]
                    assert unit == "kB", line
                    return int(value) * 1024
        raise KeyError(name)

    @property
    def rss(self) -> int:
        return self._field("VmRSS")

    @property
    def hwm(self) -> int:
        return self._field("VmHWM")

    def reset_peak(self) -> bool:
        """Reset ``VmHWM`` to the current RSS (Linux: write 5 to ``clear_refs``)."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as refs:
                refs.write("5")
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class RegistryProcess:
    """A registry server process; ``with`` starts it and waits for ``/v2/``, then stops it."""

    name = "registry"

    def __init__(self, startup_timeout: float = 30.0) -> None:
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._stderr: list[bytes] = []
        self._drainer: threading.Thread | None = None

    @property
    def host(self) -> str:
        return HOST

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def memory(self) -> ProcessMemory:
        return ProcessMemory(self.pid)

    def connect(self, timeout: float = 60.0) -> Connection:
        return Connection(HOST, self.port, timeout=timeout)

    def _spawn(self) -> None:
        raise NotImplementedError

    def _drain_stderr(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if len(self._stderr) < 200:
                self._stderr.append(line)

    def stderr_tail(self) -> str:
        return b"".join(self._stderr[-20:]).decode(errors="replace")

    def start(self) -> Self:
        self._spawn()
        assert self.process is not None
        self._drainer = threading.Thread(
            target=self._drain_stderr, args=(self.process,), daemon=True
        )
        self._drainer.start()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at startup:\n{self.stderr_tail()}")
            try:
                with self.connect(timeout=2.0) as conn:
                    if conn.request("GET", "/v2/").status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer /v2/ within {self.startup_timeout}s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self._close_pipes(process)

    def _close_pipes(self, process: subprocess.Popen[bytes]) -> None:
        # The stderr reader ends at EOF; close the pipes after it (no ResourceWarning).
        if self._drainer is not None:
            self._drainer.join(timeout=10)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ModuleServer(RegistryProcess):
    """``python -m MODULE ARGS...`` whose first stdout line is ``Serving on http://HOST:PORT/``."""

    def __init__(self, name: str, command: list[str], startup_timeout: float = 30.0) -> None:
        super().__init__(startup_timeout)
        self.name = name
        self.command = command

    def _spawn(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", *self.command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        # readline blocks; bound it with a timer that kills a server that never says "Serving".
        timer = threading.Timer(self.startup_timeout, self.process.kill)
        timer.start()
        try:
            line = self.process.stdout.readline().decode(errors="replace")
        finally:
            timer.cancel()
        match = _SERVING.match(line)
        if match is None:
            self.stop()
            raise RuntimeError(f"{self.name}'s first line was {line!r}, not 'Serving on ...'")
        if match[1] != HOST:
            self.stop()
            raise RuntimeError(f"fakeregistry serves on {match[1]}, expected {HOST}")
        self.port = int(match[2])


class FakeRegistry(ModuleServer):
    """``python -m fakeregistry serve --port 0 --quiet`` (plus ``extra_args``)."""

    name = "fakeregistry"

    def __init__(self, extra_args: tuple[str, ...] = (), startup_timeout: float = 30.0) -> None:
        command = ["fakeregistry", "serve", "--port", "0", "--quiet", *extra_args]
        super().__init__("fakeregistry", command, startup_timeout)
        self.extra_args = extra_args


def instrumented_registry(*, answer_cache: bool = True) -> ModuleServer:
    """fakeregistry with the request log and fault middleware installed but idle (with
    ``answer_cache=False``, every manifest GET through aiohttp's web layer)."""
    if answer_cache:
        return ModuleServer("fakeregistry+instruments", ["benchmarks.instrumented"])
    return ModuleServer(
        "fakeregistry+instruments, web layer",
        ["benchmarks.instrumented", "--no-answer-cache"],
    )


def raw_ceiling() -> ModuleServer:
    """The loopback ceiling server (only ``recv_into``, ``sendall``, ``sendfile``)."""
    return ModuleServer("loopback ceiling", ["benchmarks.ceilings", "raw"])


def bare_aiohttp() -> ModuleServer:
    """A bare aiohttp handler answering a fixed manifest."""
    return ModuleServer("bare aiohttp", ["benchmarks.ceilings", "aiohttp"])


DISTRIBUTION_CONFIG = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  inmemory: {{}}
http:
  addr: 127.0.0.1:{port}
"""


class Distribution(RegistryProcess):
    """CNCF distribution with in-memory storage, configured by a generated file."""

    name = "distribution"

    def __init__(self, binary: str = DISTRIBUTION_BINARY, startup_timeout: float = 30.0) -> None:
        super().__init__(startup_timeout)
        self.binary = binary
        self._tmp: str | None = None

    @staticmethod
    def available(binary: str = DISTRIBUTION_BINARY) -> bool:
        return os.access(binary, os.X_OK)

    def _spawn(self) -> None:
        self.port = free_port()
        self._tmp = tempfile.mkdtemp(prefix="fakeregistry-bench-")
        config = os.path.join(self._tmp, "config.yml")
        with open(config, "w") as file:
            file.write(DISTRIBUTION_CONFIG.format(port=self.port))
        env = {key: value for key, value in os.environ.items() if not key.startswith("REGISTRY_")}
        self.process = subprocess.Popen(
            [self.binary, "serve", config],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )

    def stop(self) -> None:
        super().stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def distribution_version(binary: str = DISTRIBUTION_BINARY) -> str:
    try:
        result = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return result.stdout.strip() or result.stderr.strip() or "unknown"
