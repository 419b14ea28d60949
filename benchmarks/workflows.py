"""Whole workflows, fakeregistry next to distribution in one run (servers taking turns):

- ``skopeo copy --all`` of a 7-platform OCI index (one 1 MiB random layer and a config per
  platform) from an OCI layout into the registry, and from the registry back into a new layout;
- an ``oras`` push of 50 small files, with the oras Python client (``oras.client.OrasClient``;
  the oras CLI is not installed here);
- 1,000 manifest PUTs, each a distinct manifest under its own tag (one keep-alive connection);
- a generated module of 500 tests using the ``fake_registry`` fixture (each pushes a small
  image and reads its manifest back), run by pytest once against our fixture and once in the
  plugin's external mode against one distribution process started for the session (its start
  is counted).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.ops import OCI_MANIFEST, sha256_digest
from benchmarks.rawhttp import Connection
from benchmarks.servers import Distribution, RegistryProcess
from fakeregistry.tools.builder import BuiltBlob, Image, Index, build_image, build_index

__all__ = [
    "PLATFORMS",
    "manifest_puts",
    "oras_push",
    "pytest_module",
    "skopeo_copies",
    "skopeo_path",
    "write_layout",
]

Log = Callable[[str], None]
PLATFORMS = (
    "linux/amd64",
    "linux/arm64/v8",
    "linux/arm/v7",
    "linux/arm/v6",
    "linux/386",
    "linux/ppc64le",
    "linux/s390x",
)
LAYER_SIZE = 1024 * 1024


def skopeo_path() -> str | None:
    return shutil.which("skopeo")


def write_layout(directory: Path) -> Index:
    """An OCI layout with a 7-platform index tagged ``latest``."""
    images = [
        build_image(platform, layers=[os.urandom(LAYER_SIZE), {"etc/os": platform}])
        for platform in PLATFORMS
    ]
    index = build_index(list(images))
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> None:
        (blobs / sha256_digest([data]).split(":", 1)[1]).write_bytes(data)

    for image in images:
        assert isinstance(image, Image)
        for blob in image.blobs:
            put(blob.data)
        put(image.manifest)
    put(index.manifest)
    (directory / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    descriptor = {
        **index.descriptor(),
        "annotations": {"org.opencontainers.image.ref.name": "latest"},
    }
    (directory / "index.json").write_text(
        json.dumps({"schemaVersion": 2, "mediaType": index.media_type, "manifests": [descriptor]})
    )
    return index


class _Skopeo:
    def __init__(self, root: Path) -> None:
        home = root / "home"
        config = home / ".config" / "containers"
        config.mkdir(parents=True)
        (config / "registries.conf").write_text(
            'unqualified-search-registries = []\nshort-name-mode = "disabled"\n'
        )
        self.policy = root / "policy.json"
        self.policy.write_text('{"default": [{"type": "insecureAcceptAnything"}]}')
        (root / "tmp").mkdir()
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "CONTAINERS_REGISTRIES_CONF": str(config / "registries.conf"),
            "TMPDIR": str(root / "tmp"),
        }

    def copy(self, source: str, dest: str, timeout: float) -> float:
        command = [
            "skopeo",
            "--policy",
            str(self.policy),
            "copy",
            "--all",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            source,
            dest,
        ]
        start = time.perf_counter()
        result = subprocess.run(
            command, env=self.env, capture_output=True, timeout=timeout, check=False
        )
        elapsed = time.perf_counter() - start
        if result.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr.decode()[-2000:]}")
        return elapsed


def skopeo_copies(
    servers: list[RegistryProcess], rounds: int, timeout: float, log: Log
) -> dict[str, tuple[list[float], list[float]]]:
    """Seconds of each ``copy --all`` in (layout -> registry) and out (registry -> layout)."""
    out: dict[str, tuple[list[float], list[float]]] = {s.name: ([], []) for s in servers}
    with tempfile.TemporaryDirectory(prefix="fakeregistry-bench-skopeo-") as tmp:
        root = Path(tmp)
        layout = root / "layout"
        write_layout(layout)
        skopeo = _Skopeo(root)
        for index in range(rounds):
            for server in servers:
                ref = f"docker://127.0.0.1:{server.port}/bench/multi{index}:latest"
                seconds_in = skopeo.copy(f"oci:{layout}:latest", ref, timeout)
                target = root / f"out-{server.port}-{index}"
                seconds_out = skopeo.copy(ref, f"oci:{target}:latest", timeout)
                shutil.rmtree(target)
                out[server.name][0].append(seconds_in)
                out[server.name][1].append(seconds_out)
                log(f"  skopeo {server.name}: in {seconds_in:.2f}s, out {seconds_out:.2f}s")
    return out


def oras_push(
    servers: list[RegistryProcess], rounds: int, files: int, log: Log
) -> dict[str, list[float]]:
    """Seconds of ``OrasClient.push`` of ``files`` small files (new content each round)."""
    import oras.client

    out: dict[str, list[float]] = {s.name: [] for s in servers}
    previous = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="fakeregistry-bench-oras-") as tmp:
        os.chdir(tmp)  # oras pushes files below the working directory only
        try:
            for index in range(rounds):
                for server in servers:
                    directory = Path(tmp) / f"{server.port}-{index}"
                    directory.mkdir()
                    names = []
                    for number in range(files):
                        path = directory / f"file{number:02d}.txt"
                        path.write_bytes(f"{server.name} {index} {number}\n".encode() * 40)
                        names.append(str(path.relative_to(tmp)))
                    client = oras.client.OrasClient(
                        hostname=f"127.0.0.1:{server.port}", insecure=True
                    )
                    start = time.perf_counter()
                    client.push(
                        target=f"127.0.0.1:{server.port}/bench/files:{index}",
                        files=names,
                        quiet=True,
                    )
                    out[server.name].append(time.perf_counter() - start)
                    log(f"  oras push {server.name}: {out[server.name][-1]:.2f}s")
        finally:
            os.chdir(previous)
    return out


def _small_blob(conn: Connection, name: str, data: bytes, timeout: float) -> BuiltBlob:
    from benchmarks.ops import push_blob

    blob = BuiltBlob(data, "application/octet-stream")
    push_blob(conn, name, [data], blob.digest, timeout)
    return blob


def manifest_puts(
    servers: list[RegistryProcess], count: int, timeout: float, log: Log
) -> dict[str, float]:
    """Manifest PUTs per second: ``count`` distinct manifests, each under its own tag."""
    out = {}
    for server in servers:
        with server.connect(timeout=timeout) as conn:
            config = _small_blob(conn, "bench/tags", b'{"architecture":"amd64","os":"linux"}', 30)
            layer = _small_blob(conn, "bench/tags", os.urandom(1000), 30)
            bodies = [
                json.dumps(
                    {
                        "schemaVersion": 2,
                        "mediaType": OCI_MANIFEST,
                        "config": {
                            **config.descriptor(),
                            "mediaType": "application/vnd.oci.image.config.v1+json",
                        },
                        "layers": [layer.descriptor()],
                        "annotations": {"n": str(number), "server": server.name},
                    }
                ).encode()
                for number in range(count)
            ]
            start = time.perf_counter()
            for number, body in enumerate(bodies):
                conn.request(
                    "PUT",
                    f"/v2/bench/tags/manifests/t{number}",
                    {"Content-Type": OCI_MANIFEST},
                    [body],
                    timeout=timeout,
                ).expect(201)
            out[server.name] = count / (time.perf_counter() - start)
        log(f"  {count} manifest PUTs {server.name}: {out[server.name]:,.0f}/s")
    return out


_TEST_MODULE = """
import httpx
import pytest

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.mark.parametrize("n", range({count}))
def test_push_and_read(fake_registry, n):
    ref = fake_registry.ref("app", f"v{{n}}")
    fake_registry.push_image(ref)
    repository = fake_registry.repository("app")
    response = httpx.get(
        f"{{fake_registry.url}}/v2/{{repository}}/manifests/v{{n}}",
        headers={{"Accept": OCI_MANIFEST}},
    )
    assert response.status_code == 200
"""


def pytest_module(count: int, compare: bool, timeout: float, log: Log) -> dict[str, float]:
    """Seconds of one pytest run of ``count`` tests with our fixture and, with ``compare``,
    against one distribution process started for the session (start included)."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="fakeregistry-bench-pytest-") as tmp:
        directory = Path(tmp)
        (directory / "pytest.ini").write_text("[pytest]\n")
        module = directory / "test_workflow.py"
        module.write_text(textwrap.dedent(_TEST_MODULE.format(count=count)))
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"]
        env = {**os.environ, "PYTEST_ADDOPTS": ""}
        for key in [k for k in env if k.startswith("FAKEREGISTRY_")]:
            del env[key]

        def run(extra: list[str]) -> float:
            start = time.perf_counter()
            result = subprocess.run(
                [*command, *extra, str(module)],
                cwd=directory,
                capture_output=True,
                env=env,
                timeout=timeout,
                check=False,
            )
            if result.returncode:
                raise RuntimeError(f"pytest failed:\n{result.stdout.decode()[-3000:]}")
            return time.perf_counter() - start

        out["fakeregistry"] = run([])
        log(f"  pytest {count} tests, fake_registry fixture: {out['fakeregistry']:.1f}s")
        if compare:
            start = time.perf_counter()
            with Distribution() as registry:
                started = time.perf_counter() - start
                url = f"http://127.0.0.1:{registry.port}"
                out["distribution"] = started + run(["--fake-registry-url", url])
            log(f"  pytest {count} tests, distribution: {out['distribution']:.1f}s")
    return out
