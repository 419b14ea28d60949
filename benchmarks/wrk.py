"""Manifest GET load with ``wrk`` (Debian's ``wrk`` 4.x) and a Lua script that sets ``Accept``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

__all__ = ["WRK_BINARY", "WrkResult", "WrkSettings", "run_wrk"]

WRK_BINARY = "/usr/bin/wrk"

ACCEPT_SCRIPT = """\
-- Ask for the OCI image manifest as a registry client does (distribution-spec negotiation).
wrk.method = "GET"
wrk.headers["Accept"] = "{accept}"
"""

_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_REQUESTS = re.compile(r"(\d+) requests in")


@dataclass(frozen=True, slots=True)
class WrkSettings:
    threads: int = 1
    connections: int = 16
    duration: float = 10.0

    def describe(self) -> str:
        return f"wrk -t{self.threads} -c{self.connections} -d{self.duration:g}s"


@dataclass(frozen=True, slots=True)
class WrkResult:
    rate: float
    requests: int
    errors: int
    output: str


def wrk_path() -> str | None:
    if os.access(WRK_BINARY, os.X_OK):
        return WRK_BINARY
    return shutil.which("wrk")


def run_wrk(url: str, accept: str, settings: WrkSettings) -> WrkResult:
    """One wrk run against ``url`` (which must be on 127.0.0.1)."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"wrk only runs against 127.0.0.1, not {url}")
    binary = wrk_path()
    if binary is None:
        raise RuntimeError("wrk is not installed (Debian package 'wrk')")
    with tempfile.TemporaryDirectory(prefix="fakeregistry-wrk-") as tmp:
        script = os.path.join(tmp, "accept.lua")
        with open(script, "w") as file:
            file.write(ACCEPT_SCRIPT.format(accept=accept))
        command = [
            binary,
            f"-t{settings.threads}",
            f"-c{settings.connections}",
            f"-d{settings.duration:g}s",
            "--timeout",
            "5s",
            "-s",
            script,
            url,
        ]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=settings.duration + 60, check=False
        )
    output = result.stdout + result.stderr
    rate = _RATE.search(output)
    if result.returncode != 0 or rate is None:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{output}")
    errors = 0
    non_2xx = _NON_2XX.search(output)
    if non_2xx:
        errors += int(non_2xx[1])
    socket_errors = _SOCKET_ERRORS.search(output)
    if socket_errors:
        errors += sum(int(value) for value in socket_errors.groups())
    requests = _REQUESTS.search(output)
    return WrkResult(
        rate=float(rate[1]),
        requests=int(requests[1]) if requests else 0,
        errors=errors,
        output=output,
    )
