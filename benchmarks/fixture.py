"""``python -m benchmarks.fixture``: what the pytest fixture costs, next to starting CNCF
distribution as a process (what tests that run ``registry:2`` pay).

- session start: ``RegistrySession().acquire()`` on a cold session: a server on its own thread,
  bound and ready (median of repeated starts), and separately the one-off cost of importing
  the package;
- per-test overhead: ``acquire()`` + ``check()`` on a warm session, which is everything the
  ``fake_registry`` fixture does (reset storage, log, faults and options; make the handle);
- per-test overhead through pytest itself: a generated module of N trivial tests run once with
  the fixture and once without, the difference divided by N (fixture machinery included);
- distribution start: ``docker-registry serve`` with in-memory storage until ``/v2/`` answers
  (polled every millisecond).

Goals (issue "The pytest plugin"): per-test overhead at most 1 ms, session start at most 50 ms.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.report import Goal, Row, format_table, median
from benchmarks.servers import Distribution
from fakeregistry import HandleConfig, RegistrySession

__all__ = ["main"]


def session_start(rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        session = RegistrySession()
        started = time.perf_counter()
        session.acquire()
        samples.append((time.perf_counter() - started) * 1000)
        session.close()
    return samples


def per_test(rounds: int) -> list[float]:
    session = RegistrySession()
    config = HandleConfig()
    try:
        handle = session.acquire(config)
        handle.push_image("warm:1")  # a test that leaves content behind, reset next time
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            handle = session.acquire(config)
            session.check([handle])
            samples.append((time.perf_counter() - started) * 1000)
        return samples
    finally:
        session.close()


_MODULE = """
import pytest

@pytest.mark.parametrize("n", range({count}))
def test_case({fixture}n):
    pass
"""


def _pytest_seconds(directory: Path, count: int, fixture: bool) -> float:
    module = directory / f"test_{'with' if fixture else 'without'}.py"
    module.write_text(
        textwrap.dedent(_MODULE.format(count=count, fixture="fake_registry, " if fixture else ""))
    )
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(module)],
        cwd=directory,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTEST_ADDOPTS": ""},
        timeout=600,
    )
    return time.perf_counter() - started


def per_test_through_pytest(count: int, rounds: int) -> list[float]:
    samples = []
    with tempfile.TemporaryDirectory(prefix="fakeregistry-fixture-") as tmp:
        directory = Path(tmp)
        (directory / "pytest.ini").write_text("[pytest]\n")
        for _ in range(rounds):
            without = _pytest_seconds(directory, count, fixture=False)
            with_fixture = _pytest_seconds(directory, count, fixture=True)
            samples.append((with_fixture - without) / count * 1000)
    return samples


def import_cost(rounds: int) -> list[float]:
    """``import fakeregistry`` in a fresh interpreter, less the interpreter's own start."""

    def run(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
        return time.perf_counter() - started

    return [(run("import fakeregistry") - run("pass")) * 1000 for _ in range(rounds)]


def distribution_start(rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        registry = Distribution()
        started = time.perf_counter()
        registry._spawn()
        deadline = started + 30
        try:
            while time.perf_counter() < deadline:
                try:
                    with registry.connect(timeout=1.0) as conn:
                        if conn.request("GET", "/v2/").status == 200:
                            break
                except OSError:
                    time.sleep(0.001)
            else:
                raise RuntimeError("distribution did not start within 30 s")
            samples.append((time.perf_counter() - started) * 1000)
        finally:
            registry.stop()
    return samples


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fixture", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args(argv)
    starts, resets, pytest_rounds, tests = (5, 200, 1, 200) if args.quick else (20, 2000, 3, 500)
    rows = [
        Row(
            "session start",
            "ms",
            ours_samples=session_start(starts),
            goal=Goal("at_most", 50, "<= 50 ms"),
            note="a RegistryServer thread bound and answering",
        ),
        Row(
            "import fakeregistry (once per session)",
            "ms",
            ours_samples=import_cost(starts),
            note="paid by every pytest run that loads the plugin's fixtures",
        ),
        Row(
            "per-test overhead (reset + handle)",
            "ms",
            ours_samples=per_test(resets),
            goal=Goal("at_most", 1, "<= 1 ms"),
        ),
        Row(
            f"per-test overhead through pytest ({tests} tests)",
            "ms",
            ours_samples=per_test_through_pytest(tests, pytest_rounds),
            goal=Goal("at_most", 1, "<= 1 ms"),
        ),
    ]
    if Distribution.available():
        start = rows[0]
        start.theirs_samples = distribution_start(starts if args.quick else 10)
    for row in rows:
        row.ours = median(row.ours_samples)
        row.theirs = median(row.theirs_samples)
    print(format_table(rows))
    print(
        "\ndistribution column: starting CNCF distribution 2.8.2 (in-memory) as a process until "
        "/v2/ answers; ratio < 1 means fakeregistry is faster"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
