"""Running the registry for people: ``--read-only``, ``--cors-origin``, ``--log-format json`` and
graceful shutdown on SIGTERM (docs/storage.md, "Operations")."""

from __future__ import annotations

import dataclasses
import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fakeregistry.registry.http.operations import EXPOSED_HEADERS
from tests.conftest import RegistryFactory
from tests.content import digest_of, push_image
from tests.serve import serve

ORIGIN = "http://app.example"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v2/repo/blobs/uploads/"),
        ("PUT", "/v2/repo/manifests/latest"),
        ("PATCH", "/v2/repo/blobs/uploads/x"),
        ("DELETE", "/v2/repo/manifests/latest"),
        ("DELETE", "/v2/repo/blobs/sha256:" + "0" * 64),
    ],
)
def test_read_only_refuses_writes(make_registry: RegistryFactory, method: str, path: str) -> None:
    registry = make_registry(read_only=True)
    with httpx.Client(base_url=registry.url) as http:
        response = http.request(method, path, content=b"{}")
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED"


def test_read_only_serves_pulls(make_registry: RegistryFactory) -> None:
    registry = make_registry()
    with httpx.Client(base_url=registry.url) as http:
        pushed = push_image(http, "repo", "v1")
        read_only = dataclasses.replace(registry.options, read_only=True)
        registry.call(setattr, registry.storage, "options", read_only)
        assert http.get(f"/v2/repo/blobs/{pushed.blobs[1]}").status_code == 200
        manifest = http.get("/v2/repo/manifests/v1", headers={"Accept": pushed.media_type})
        assert digest_of(manifest.content) == pushed.digest
        assert http.get("/v2/repo/tags/list").json()["tags"] == ["v1"]
        assert http.get("/v2/_catalog").status_code == 200
        assert http.delete("/v2/repo/manifests/v1").status_code == 405


def test_cors_preflight_and_exposed_headers(make_registry: RegistryFactory) -> None:
    registry = make_registry(cors_origins=(ORIGIN,))
    with httpx.Client(base_url=registry.url) as http:
        preflight = http.options(
            "/v2/repo/blobs/uploads/",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
        assert preflight.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
        pushed = push_image(http, "repo", "v1")
        response = http.get(f"/v2/repo/blobs/{pushed.blobs[0]}", headers={"Origin": ORIGIN})
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"Docker-Content-Digest", "Location", "Range"} <= exposed
        assert response.headers["Access-Control-Expose-Headers"] == EXPOSED_HEADERS
        missing = http.get("/v2/repo/manifests/nope", headers={"Origin": ORIGIN})
        assert missing.headers["Access-Control-Allow-Origin"] == ORIGIN
        other = http.get("/v2/", headers={"Origin": "http://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers
        plain = http.options(
            "/v2/",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "Access-Control-Allow-Origin" not in plain.headers


def test_cors_preflight_needs_no_credentials_under_auth(tmp_path: Path) -> None:
    stderr: list[str] = []
    args = ("--auth", "basic", "--user", "alice:secret", "--cors-origin", "*")
    with serve(*args, stderr=stderr) as url:
        preflight = httpx.options(
            f"{url}v2/repo/manifests/latest",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PUT"},
        )
        assert preflight.status_code == 204
        denied = httpx.get(f"{url}v2/", headers={"Origin": ORIGIN})
        assert denied.status_code == 401
        assert denied.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "WWW-Authenticate" in denied.headers["Access-Control-Expose-Headers"]


def test_json_access_log_has_one_line_per_request() -> None:
    stderr: list[str] = []
    with serve(
        "--log-format",
        "json",
        "--auth",
        "basic",
        "--user",
        "alice:secret",
        quiet=False,
        stderr=stderr,
    ) as url:
        httpx.get(f"{url}v2/", auth=("alice", "secret"))
        httpx.head(f"{url}v2/repo/manifests/latest", auth=("alice", "secret"))
        httpx.get(f"{url}v2/")
    lines = [json.loads(line) for line in stderr if line.startswith("{")]
    assert [(x["method"], x["path"], x["status"], x["user"]) for x in lines] == [
        ("GET", "/v2/", 200, "alice"),
        ("HEAD", "/v2/repo/manifests/latest", 404, "alice"),
        ("GET", "/v2/", 401, None),
    ]
    for line in lines:
        assert set(line) >= {"method", "path", "status", "bytes", "duration", "user"}
        assert isinstance(line["bytes"], int)
        assert isinstance(line["duration"], float)
    assert lines[1]["bytes"] == 0  # HEAD sends no body


def test_sigterm_finishes_an_upload_in_flight() -> None:
    """SIGTERM stops accepting connections but lets a slow PATCH finish and be answered."""
    command = [sys.executable, "-m", "fakeregistry", "serve", "--port", "0", "--quiet"]
    process = subprocess.Popen(
        [*command, "--shutdown-timeout", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    match = re.fullmatch(r"Serving on http://127\.0\.0\.1:(\d+)/\n", process.stdout.readline())
    assert match is not None
    port = int(match[1])
    try:
        location = httpx.post(f"http://127.0.0.1:{port}/v2/repo/blobs/uploads/").headers["Location"]
        path = httpx.URL(location).raw_path.decode()
        data = b"x" * 300_000
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(
                f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(data)}\r\n"
                "Content-Type: application/octet-stream\r\n\r\n".encode()
            )
            sock.sendall(data[:1000])
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=2)
            for start in range(1000, len(data), 50_000):
                sock.sendall(data[start : start + 50_000])
                time.sleep(0.1)
            answer = sock.recv(4096).decode()
        assert answer.startswith("HTTP/1.1 202"), answer
        assert f"Range: 0-{len(data) - 1}" in answer
        process.communicate(timeout=20)
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
