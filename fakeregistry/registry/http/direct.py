"""Large request bodies received straight into the memory that stores them.

aiohttp receives a body as new ``bytes`` of up to 256 KiB per read, and its parser copies each
piece into another new ``bytes`` object: two copies, and 4 KiB page faults on the kept copy.
On our own servers (:class:`fakeregistry.registry.http.protocol.RegistryRunner`, plain TCP) a
``PUT``/``PATCH``/``POST`` body declared by ``Content-Length`` of at least
:data:`DIRECT_MIN` bytes is instead read by the socket's ``recv_into`` into segments of private
anonymous memory (:func:`fakeregistry.registry.content.new_segment`), which become the stored
blob's chunks: one kernel copy per byte, no parser copy. A thread of the body's own hashes the
bytes as they land (``fakeregistry.registry.http.requests``), woken through
:attr:`DirectBody.on_progress`.

How: when the connection handler has parsed such a request's headers (and nothing of its body),
it holds the connection (reading paused, any bytes already read kept aside) until the request's
handler either **claims** the body (``stream_body``, through :class:`BodyReader`) or
**releases** it (any other reader, or a response sent without reading it). A claim switches the
transport to a :class:`DirectBody` (an ``asyncio.BufferedProtocol``) that reads exactly the
declared length and no byte more, then gives the connection back to aiohttp with a fresh HTTP
parser (the old one still expected the body) and the request's payload marked complete. A
release feeds the held bytes to aiohttp's parser as if nothing had happened.

What stays the same: the inactivity timeout and the memory ledger (bytes are counted as they
arrive; a body that does not fit fails at once, 413), the 400/408 answers for a body cut short
or stalled, and the exact bytes stored. TLS connections, chunked bodies and small ones take
aiohttp's path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestPayloadError

from fakeregistry.registry.content import SEGMENT_SIZE, new_segment

__all__ = ["DIRECT_MIN", "DirectBody", "HeldBody", "eligible_length", "is_plain_tcp"]

# Bodies from this size are received directly; smaller ones are not worth a protocol switch.
DIRECT_MIN = 1024 * 1024
_METHODS = frozenset({"PUT", "PATCH", "POST"})


class HeldBody:
    """A request whose body has not been read yet: the connection waits for a claim or a
    release, with the bytes read after its headers kept aside."""

    __slots__ = ("held", "length", "payload")

    def __init__(self, payload: StreamReader, length: int) -> None:
        self.payload = payload
        self.length = length
        self.held: list[bytes] = []


def eligible_length(message: RawRequestMessage, payload: StreamReader) -> int | None:
    """The body length of a request whose body may be received directly, else None."""
    if message.method not in _METHODS or message.chunked or message.upgrade:
        return None
    if message.compression is not None or payload.total_bytes:
        return None
    values = message.headers.getall("Content-Length", ())
    if len(values) != 1 or not values[0].isdigit() or len(values[0]) > 18:
        return None
    length = int(values[0])
    return length if length >= DIRECT_MIN else None


def is_plain_tcp(transport: asyncio.BaseTransport | None) -> bool:
    """A selector socket transport without TLS (the only one whose protocol can be switched to
    a buffered one and back mid-stream without side effects)."""
    return (
        transport is not None
        and type(transport).__name__ == "_SelectorSocketTransport"
        and transport.get_extra_info("sslcontext") is None
        and not transport.is_closing()
    )


class Connection(Protocol):
    """What :class:`DirectBody` needs of the connection handler it stands in for."""

    @property
    def transport(self) -> asyncio.Transport | None: ...

    def give_back(self, *, fresh_parser: bool) -> None: ...

    def resume_after_hold(self) -> None: ...

    def data_received(self, data: bytes) -> None: ...

    def eof_received(self) -> bool | None: ...

    def connection_lost(self, exc: BaseException | None) -> None: ...

    def pause_writing(self) -> None: ...

    def resume_writing(self) -> None: ...


class DirectBody(asyncio.BufferedProtocol):
    """Receives one body of a known length into stored segments, then hands the connection
    back. ``received`` grows as bytes land; :meth:`wait` wakes the reader."""

    def __init__(
        self,
        handler: Connection,
        held: HeldBody,
        count: Callable[[int], None],
    ) -> None:
        self._handler = handler
        self._payload = held.payload
        self._count = count
        self.length = held.length
        self.received = 0
        self.segments: list[memoryview] = []  # each filled up to its end, the last partly
        self._segment: memoryview | None = None
        self._offset = 0  # bytes filled in self._segment
        self._waiter: asyncio.Future[None] | None = None
        self._wanted = 0
        self.error: BaseException | None = None
        self.done = False
        self._leftover = b""
        # Called on the event loop after every received piece and when the body fails.
        self.on_progress: Callable[[], None] | None = None

    # -- reading (event loop callbacks) ----------------------------------------------------

    def start(self, held: list[bytes]) -> None:
        transport = self._handler.transport
        assert transport is not None
        data = b"".join(held)
        body, self._leftover = data[: self.length], data[self.length :]
        transport.set_protocol(self)
        if body:
            view = self.get_buffer(len(body))
            # ``body`` is at most one read; the first segment holds it whole.
            view[: len(body)] = body
            self.buffer_updated(len(body))
        if not self.done and self.error is None:
            transport.resume_reading()

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._segment is None or self._offset == len(self._segment):
            size = min(SEGMENT_SIZE, self.length - self.received)
            self._segment = memoryview(new_segment(size))
            self._offset = 0
            self.segments.append(self._segment[:0])
        end = min(len(self._segment), self._offset + self.length - self.received)
        return self._segment[self._offset : end]

    def buffer_updated(self, nbytes: int) -> None:
        try:
            self._count(nbytes)
        except Exception as exc:  # over the memory cap: stop here, answer with the error
            self._fail(exc)
            return
        assert self._segment is not None
        self._offset += nbytes
        self.segments[-1] = self._segment[: self._offset]
        self.received += nbytes
        if self.on_progress is not None:
            self.on_progress()
        if self.received == self.length:
            self._finish()
        elif self.received >= self._wanted:
            self._wake()

    def eof_received(self) -> bool | None:
        self._fail(ConnectionResetError(f"connection closed after {self.received} bytes"))
        return self._handler.eof_received()

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self.done:
            self._fail(exc or ConnectionResetError("connection lost"), give_back=False)
        self._handler.connection_lost(exc)

    def pause_writing(self) -> None:
        self._handler.pause_writing()

    def resume_writing(self) -> None:
        self._handler.resume_writing()

    # -- handing the connection back -------------------------------------------------------

    def _finish(self) -> None:
        """The whole body is here: aiohttp gets the connection back, with a parser that has
        not seen the body and the payload marked complete."""
        self.done = True
        self._handler.give_back(fresh_parser=True)
        self._payload.feed_eof()
        if self._leftover:
            leftover, self._leftover = self._leftover, b""
            self._handler.data_received(leftover)
        self._handler.resume_after_hold()
        self._wake()

    def _fail(self, exc: BaseException, *, give_back: bool = True) -> None:
        """Stop receiving (the connection is closed after the answer)."""
        if self.done:
            return
        self.done = True
        self.error = exc
        if self.on_progress is not None:
            self.on_progress()
        transport = self._handler.transport
        if transport is not None and not transport.is_closing():
            transport.pause_reading()
        if give_back:
            self._handler.give_back(fresh_parser=False)
        self._payload.set_exception(RequestPayloadError(str(exc)))
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- the reader's side -----------------------------------------------------------------

    async def wait(self, wanted: int) -> None:
        """Return once ``wanted`` bytes (or the whole body) arrived, or it failed."""
        if self.done or self.received >= wanted:
            return
        self._wanted = wanted
        self._waiter = asyncio.get_running_loop().create_future()
        await self._waiter

    def abandon(self) -> None:
        """The reader gave up (timeout, cancellation): stop receiving."""
        self._fail(TimeoutError("body reading abandoned"))

    def views(self, start: int, end: int) -> list[memoryview]:
        """The received bytes ``[start, end)`` as views into the segments."""
        out: list[memoryview] = []
        offset = 0
        for segment in self.segments:
            lo, hi = max(start - offset, 0), min(end - offset, len(segment))
            if lo < hi:
                out.append(segment[lo:hi])
            offset += len(segment)
            if offset >= end:
                break
        return out
