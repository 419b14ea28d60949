"""A minimal blocking HTTP/1.1 client for 127.0.0.1, made to cost the benchmark as little CPU as
possible: a request body is handed to ``sendall`` as the caller's buffers (no copy, no
re-chunking), and a response body can be received straight into a preallocated buffer with
``recv_into``. It speaks just enough HTTP for a registry: ``Content-Length`` and chunked bodies,
keep-alive, no redirects, no proxies.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

__all__ = ["Connection", "HTTPError", "Response"]

Buffer = bytes | bytearray | memoryview

_RECV = 1 << 20


class HTTPError(Exception):
    """A malformed response, or a status the caller did not expect."""


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    # Bytes received into the caller's buffer (``into=``), when one was given.
    received: int = 0

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def expect(self, *statuses: int) -> Self:
        if self.status not in statuses:
            raise HTTPError(f"HTTP {self.status} (wanted {statuses}): {self.body[:300]!r}")
        return self


class Connection:
    """One keep-alive connection to ``host:port``; every socket call is bounded by ``timeout``."""

    def __init__(self, host: str, port: int, timeout: float = 60.0) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"benchmarks only talk to the loopback address, not {host!r}")
        self.host = host
        self.port = port
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    def _connect(self) -> socket.socket:
        if self._sock is None:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
            self._buffer = b""
        return self._sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def path_of(self, location: str) -> str:
        """The request target of a ``Location`` value (absolute URLs must point back here)."""
        parts = urlsplit(location)
        if parts.scheme and (parts.hostname not in (self.host, "localhost", "127.0.0.1")):
            raise HTTPError(f"refusing to follow {location!r} off the loopback address")
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def request(
        self,
        method: str,
        target: str,
        headers: dict[str, str] | None = None,
        body: Sequence[Buffer] = (),
        *,
        into: bytearray | memoryview | None = None,
        timeout: float | None = None,
    ) -> Response:
        """Send one request and read its response. ``body`` is sent part by part as given; with
        ``into`` the response body lands in that buffer (``Response.received`` bytes of it)."""
        sock = self._connect()
        sock.settimeout(self.timeout if timeout is None else timeout)
        length = sum(len(part) for part in body)
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        sent_headers = dict(headers or {})
        if body or method in ("POST", "PUT", "PATCH"):
            sent_headers.setdefault("Content-Length", str(length))
        lines.extend(f"{name}: {value}" for name, value in sent_headers.items())
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            sock.sendall(head)
            for part in body:
                sock.sendall(part)
            return self._read_response(sock, method, into)
        except BaseException:
            self.close()
            raise

    # -- reading ------------------------------------------------------------------------------

    def _fill(self, sock: socket.socket) -> None:
        data = sock.recv(_RECV)
        if not data:
            raise HTTPError("connection closed by the server")
        self._buffer += data

    def _read_line(self, sock: socket.socket) -> bytes:
        while b"\r\n" not in self._buffer:
            self._fill(sock)
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line

    def _read_exact(self, sock: socket.socket, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill(sock)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _read_response(
        self, sock: socket.socket, method: str, into: bytearray | memoryview | None
    ) -> Response:
        while b"\r\n\r\n" not in self._buffer:
            self._fill(sock)
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise HTTPError(f"bad status line {status_line!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        response = Response(status, headers)
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return response
        if headers.get("transfer-encoding", "").lower() == "chunked":
            pieces: list[bytes] = []
            while True:
                size = int(self._read_line(sock).split(b";", 1)[0], 16)
                if size == 0:
                    while self._read_line(sock):
                        pass
                    break
                pieces.append(self._read_exact(sock, size))
                self._read_exact(sock, 2)
            data = b"".join(pieces)
            if into is not None:
                into[: len(data)] = data
                response.received = len(data)
            else:
                response.body = data
        elif "content-length" in headers:
            length = int(headers["content-length"])
            if into is not None and length <= len(into):
                response.received = self._recv_into(sock, memoryview(into), length)
            else:
                response.body = self._read_exact(sock, length)
        else:
            raise HTTPError("response without a length (connection-delimited bodies unsupported)")
        if headers.get("connection", "").lower() == "close":
            self.close()
        return response

    def _recv_into(self, sock: socket.socket, view: memoryview, length: int) -> int:
        have = min(len(self._buffer), length)
        view[:have] = self._buffer[:have]
        self._buffer = self._buffer[have:]
        while have < length:
            got = sock.recv_into(view[have:length], min(length - have, 4 * _RECV))
            if not got:
                raise HTTPError(f"connection closed after {have} of {length} body bytes")
            have += got
        return have
