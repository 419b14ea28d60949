"""Ceilings: the same work done by the simplest thing that can do it, measured in the same run.

- ``hash_rate``: hashlib on one core over a buffer as large as a blob (sha256, sha512);
- ``python -m benchmarks.ceilings raw``: a blocking server speaking just enough HTTP for the
  benchmark's client. An upload (``POST`` answers 202 and a ``Location``, ``PUT``/``PATCH`` with
  a ``Content-Length``) is only ``recv_into`` a reused 1 MiB buffer, or with ``?keep=1``
  ``recv_into`` fresh anonymous memory in 64 MiB segments that it keeps for good, as an
  in-memory store must (on a VM, memory the guest has not touched lately can fault far
  slower than copying: the physical limit of storing, not of receiving); ``GET /blob/N?via=sendall``
  answers N bytes with ``sendall`` from memory, ``?via=sendfile`` with ``os.sendfile`` from
  a ``memfd`` (1 MiB per call, as the registry writes). The loopback ceilings: what
  receiving and sending cost with nothing else done;
- ``python -m benchmarks.ceilings aiohttp``: a bare aiohttp application answering every GET
  with a fixed manifest and the headers a registry sends (no middleware, no routing beyond
  one catch-all route, no access log): the manifest GET ceiling of any aiohttp registry.

Both servers print ``Serving on http://127.0.0.1:PORT/`` first, as ``fakeregistry serve``.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import socket
import sys
import threading
import time
from collections.abc import Sequence

__all__ = ["MB", "hash_rate"]

MB = 1_000_000
_HOST = "127.0.0.1"
_RECV = 1024 * 1024
_SEGMENT = 64 * 1024 * 1024  # as fakeregistry.registry.storage.SEGMENT_SIZE
# What ``?keep=1`` uploads received, kept until the server exits.
_KEPT: list[mmap.mmap] = []
# The largest body the raw server sends (the benchmark's blobs are at most 256 MiB).
_MAX_SEND = 256 * 1024 * 1024

MANIFEST = (
    b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
    b'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'
    + b"a"
    * 64
    + b'","size":300},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",'
    b'"digest":"sha256:' + b"b" * 64 + b'","size":200}]}'
)


def hash_rate(algorithm: str, data: memoryview | bytes) -> float:
    """MB/s of one ``hashlib`` pass over ``data`` on this thread."""
    start = time.perf_counter()
    hashlib.new(algorithm, data).digest()
    return len(data) / (time.perf_counter() - start) / MB


# -- the raw server ------------------------------------------------------------------------


class _Source:
    """The bytes the raw server sends: in memory, and in a memfd for sendfile (made lazily,
    at most ``_MAX_SEND`` bytes, of one repeated random MiB: the client does not check them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._size = 0
        self._memory = b""
        self._fd = -1

    def get(self, size: int) -> tuple[memoryview, int]:
        with self._lock:
            if size > self._size:
                block = os.urandom(_RECV)
                self._memory = block * ((size + _RECV - 1) // _RECV)
                if self._fd >= 0:
                    os.close(self._fd)
                self._fd = os.memfd_create("ceiling")
                os.write(self._fd, self._memory)
                self._size = len(self._memory)
            return memoryview(self._memory)[:size], self._fd


def _read_head(sock: socket.socket, buffer: bytearray) -> tuple[bytes, bytes] | None:
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            return None
        buffer += data
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    del buffer[:]
    return head, rest


def _serve_connection(sock: socket.socket, source: _Source) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    scratch = memoryview(bytearray(_RECV))
    buffer = bytearray()
    with sock:
        while True:
            parsed = _read_head(sock, buffer)
            if parsed is None:
                return
            head, rest = parsed
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            left = length - len(rest)
            if left < 0:
                buffer += rest[length:]
            if "keep=1" in target and left > 0:
                if not _receive_kept(sock, left):
                    return
                left = 0
            while left > 0:
                got = sock.recv_into(scratch, min(left, _RECV))
                if not got:
                    return
                left -= got
            if method == "POST":
                sock.sendall(
                    b"HTTP/1.1 202 Accepted\r\nLocation: /upload/1\r\nContent-Length: 0\r\n\r\n"
                )
            elif method in ("PUT", "PATCH"):
                sock.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
            elif target.startswith("/blob/"):
                path, _, query = target.partition("?")
                size = int(path.rsplit("/", 1)[1])
                body, fd = source.get(size)
                sock.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
                # In pieces of 1 MiB, as fakeregistry writes: one sendall of 256 MiB was slower
                # (1.9-2.6 GB/s) than the registry itself (up to 4 GB/s).
                if "via=sendfile" in query:
                    offset = 0
                    while offset < size:
                        count = min(size - offset, _RECV)
                        offset += os.sendfile(sock.fileno(), fd, offset, count)
                else:
                    for offset in range(0, size, _RECV):
                        sock.sendall(body[offset : offset + _RECV])
            else:
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")


def _receive_kept(sock: socket.socket, left: int) -> bool:
    """Receive ``left`` bytes into fresh segments that are kept; False if the client left."""
    while left > 0:
        segment = mmap.mmap(-1, min(_SEGMENT, left))
        _KEPT.append(segment)
        view, offset = memoryview(segment), 0
        while offset < len(segment):
            got = sock.recv_into(view[offset:], min(len(segment) - offset, _RECV))
            if not got:
                return False
            offset += got
        left -= len(segment)
    return True


def serve_raw() -> None:
    listener = socket.create_server((_HOST, 0))
    print(f"Serving on http://{_HOST}:{listener.getsockname()[1]}/", flush=True)
    source = _Source()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=_serve_connection, args=(conn, source), daemon=True).start()


# -- the bare aiohttp handler --------------------------------------------------------------


def serve_aiohttp() -> None:
    import asyncio

    from aiohttp import web

    digest = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
    headers = {
        "Docker-Content-Digest": digest,
        "ETag": f'"{digest}"',
        "Content-Type": "application/vnd.oci.image.manifest.v1+json",
        "Docker-Distribution-API-Version": "registry/2.0",
    }

    async def manifest(request: web.Request) -> web.Response:
        return web.Response(body=MANIFEST, headers=headers)

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", manifest)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, _HOST, 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        print(f"Serving on http://{_HOST}:{port}/", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    kind = args[0] if args else ""
    if kind == "raw":
        serve_raw()
    elif kind == "aiohttp":
        serve_aiohttp()
    else:
        print("usage: python -m benchmarks.ceilings raw|aiohttp", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
