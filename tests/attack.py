"""Shared pieces of the attack suite: registries to attack (in-process and ``serve``), raw
sockets, and checks that an answer is the spec's error envelope."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from fakeregistry import RegistryOptions, RegistryServer
from fakeregistry.registry.auth import AccessPolicy, AccessRule, AuthConfig, AuthMode, Users
from tests.serve import serve

USER, PASSWORD = "alice", "alice-pw"
BODY_TIMEOUT = 2.0


@dataclass
class Target:
    """A registry under attack: its base URL and, in-process, the errors its handlers raised."""

    kind: str
    url: str
    errors: list[BaseException] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.url.rstrip("/").rsplit(":", 1)[1])

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url.rstrip("/"), timeout=30, **kwargs)  # type: ignore[arg-type]


def _auth(mode: AuthMode) -> AuthConfig:
    users = Users()
    users.add(USER, PASSWORD)
    return AuthConfig(
        mode=mode, users=users, policy=AccessPolicy(rules=(AccessRule(USER, "*", "*"),))
    )


@contextmanager
def target(kind: str, auth: AuthMode | None = None, **options: object) -> Iterator[Target]:
    """``kind`` "in-process" (a :class:`RegistryServer`) or "serve" (the command), with a
    short body timeout; ``auth`` basic or token with one user who may do everything."""
    if kind == "serve":
        args = ["--body-timeout", str(options.pop("body_timeout", BODY_TIMEOUT))]
        for name, value in options.items():
            args += [f"--{name.replace('_', '-')}", str(value)]
        if auth is not None:
            args += ["--auth", auth, "--user", f"{USER}:{PASSWORD}"]
        with serve(*args) as url:
            yield Target(kind, url.rstrip("/"))
        return
    found = Target(kind, "")
    opts = RegistryOptions(**{"body_timeout": BODY_TIMEOUT, **options})  # type: ignore[arg-type]
    with RegistryServer(
        opts, on_error=found.errors.append, auth=_auth(auth) if auth else None
    ) as server:
        found.url = server.url
        yield found
    assert not found.errors, found.errors


def raw_exchange(
    port: int, segments: Sequence[bytes], *, pause: float = 0.2, timeout: float = 10.0
) -> bytes:
    """Send ``segments`` (pausing between them, so each is its own TCP segment) and read until
    the server closes the connection or ``timeout`` passes (then ``<<OPEN>>`` is appended)."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for index, segment in enumerate(segments):
            if index:
                time.sleep(pause)
            sock.sendall(segment)
        sock.settimeout(timeout)
        out = b""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                data = sock.recv(65536)
                if not data:
                    return out
                out += data
        except TimeoutError:
            pass
        except ConnectionResetError:
            return out
        return out + b"<<OPEN>>"


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def parse_responses(data: bytes) -> list[RawResponse]:
    """The HTTP/1.x responses in ``data`` (Content-Length framed, as ours all are)."""
    out: list[RawResponse] = []
    rest = data
    while rest.startswith(b"HTTP/1."):
        head, _, rest = rest.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        out.append(RawResponse(status, headers, rest[:length]))
        rest = rest[length:]
    return out


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    """``response`` is ``status`` with the spec's JSON error envelope (and ``code`` first)."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].split(";")[0] == "application/json", response.headers
    entries = response.json()["errors"]
    assert entries, response.text
    assert all({"code", "message"} <= entry.keys() for entry in entries)
    if code is not None:
        assert entries[0]["code"] == code, entries
