"""The connection layer of our own servers: what aiohttp answers before the app sees a request.

aiohttp parses the request line, headers and body framing itself, and answers what it cannot
parse with a text/plain 400 that no middleware sees. :class:`RegistryRunner` (used by
:class:`~fakeregistry.registry.server.RegistryServer`,
:class:`~fakeregistry.registry.server.AsyncRegistryServer` and ``fakeregistry serve``) serves
an application with a request handler that changes three things, and leaves everything else to
aiohttp:

- **JSON errors.** Protocol errors (a bad request line, ``Content-Length: -1``, an odd
  ``Transfer-Encoding``, over-long lines, too many headers, raw bytes aiohttp refuses) are
  answered with the spec's error envelope (``REQUEST_INVALID``), and the connection is closed
  as aiohttp does.
- **Complete requests first.** aiohttp's C parser drops every request it parsed from a piece
  of data when a later part of that same piece is malformed (a request followed by junk in one
  TCP segment was never answered). Data is fed to the parser in pieces that end after each
  header block, so what was complete is queued before the error is found, and answered
  before the error is.
- **Framing errors end the body.** When the C parser finds a broken chunked framing after the
  first chunk, it forgets the body without telling the handler reading it, which then waited
  forever. The handler's body is now failed at once (``RequestPayloadError``), so the request
  is answered 400 and the connection closed.

It also turns aiohttp's request-body decompression off: bodies are kept exactly as sent
(:mod:`fakeregistry.registry.http.bodies` refuses a ``Content-Encoding``).

This reaches into aiohttp internals (the handler's message queue, the class its server
creates); tests/test_attack_framing.py holds each behaviour so an aiohttp upgrade that
changes them fails loudly. An application run by another runner (aiohttp's test utilities)
keeps aiohttp's own behaviour there; docs/hardening.md lists what differs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, cast

from aiohttp import web
from aiohttp.http_parser import HttpRequestParser, RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import MAX_MSG_QUEUE_SIZE, RequestHandler, RequestPayloadError
from aiohttp.web_request import BaseRequest

from fakeregistry.registry.http.answers import ANSWERS, AnswerCache
from fakeregistry.registry.http.direct import DirectBody, HeldBody, eligible_length, is_plain_tcp
from fakeregistry.registry.http.middleware import API_VERSION_HEADER
from fakeregistry.rules.errors import ErrorCode, RegistryError, error_body

__all__ = [
    "RegistryRunner",
    "claim_body",
    "close_without_lingering",
    "release_body",
    "release_unclaimed",
    "split_after_heads",
]

log = logging.getLogger("fakeregistry")

_HEAD_END = b"\r\n\r\n"
# Pipelined requests rarely come more than a few to a segment; past this many pieces the rest
# of the data is fed in one (a body full of blank CRLF lines is not split into thousands).
_MAX_PIECES = 16


def split_after_heads(data: bytes) -> list[bytes]:
    """``data`` cut after each ``CRLF CRLF`` (at most :data:`_MAX_PIECES` pieces)."""
    end = data.find(_HEAD_END)
    if end < 0 or end + len(_HEAD_END) == len(data):
        return [data]
    pieces: list[bytes] = []
    start = 0
    while end >= 0 and len(pieces) < _MAX_PIECES - 1:
        pieces.append(data[start : end + len(_HEAD_END)])
        start = end + len(_HEAD_END)
        end = data.find(_HEAD_END, start)
    if start < len(data):
        pieces.append(data[start:])
    return pieces


def close_without_lingering(request: web.Request) -> None:
    """Once this request is answered, close its connection at once: do not read on (and
    throw away) the rest of a body that was refused or stalled, as aiohttp otherwise does for
    up to 10 s. Pair it with ``Connection: close`` on the answer."""
    protocol = request.protocol
    if isinstance(protocol, RequestHandler):
        protocol._lingering_time = 0.0


# The body a connection holds for its handler to claim (see fakeregistry.registry.http.direct),
# by connection: RequestHandler has __slots__, and instances are re-classed, so _Handler cannot
# add attributes of its own.
_HELD: dict[RequestHandler, HeldBody] = {}
# Connections whose parser may hold part of a request (a head cut in two, body bytes): a head
# arriving there is not replayed (fakeregistry.registry.http.answers), as it is not a request
# of its own. Conservative: a body's end is not tracked, the next bodiless request clears it.
_MID_MESSAGE: set[RequestHandler] = set()
# The head (and the message parsed from it) of each connection's latest bodiless GET or HEAD,
# for its answer to be kept once sent.
_HEADS: dict[RequestHandler, tuple[RawRequestMessage, bytes]] = {}
# A replayed answer is written without waiting for the transport to drain; past this much
# unsent data the web layer answers, which waits.
_REPLAY_MAX_BUFFERED = 1 << 20


class _Handler(RequestHandler):
    __slots__ = ()  # same layout as RequestHandler: instances are re-classed, not built

    def data_received(self, data: bytes) -> None:
        if _HELD:  # almost always empty
            held = _HELD.get(self)
            if held is not None:
                held.held.append(data)  # read before reading paused; the claim or release uses it
                return
        end = data.find(_HEAD_END)
        if end < 0 or end + len(_HEAD_END) == len(data):
            self._feed(data, ())  # at most one header block, and it ends the data: one piece
            return
        pieces = split_after_heads(data)
        for index, piece in enumerate(pieces):
            if not self._feed(piece, pieces[index + 1 :]):
                return

    def _feed(self, piece: bytes, rest: Sequence[bytes]) -> bool:
        """Parse ``piece``; False when the rest is not to be parsed now."""
        if self._replay(piece):
            return self._keepalive  # after a Connection: close answer, nothing more is read
        messages = self._messages
        queued = len(messages)
        super().data_received(piece)
        if len(messages) == queued:  # no request ended (a parse error queues one too)
            _MID_MESSAGE.add(self)
            return not (self._force_close or self._close)
        self._note_end(piece, len(messages) - queued)
        if self._parse_failed(queued):
            self._fail_bodies()
            return False  # the parser is broken now; the connection closes after the answer
        if self._force_close or self._close:
            return False
        return not self._hold(rest)

    def _replay(self, piece: bytes) -> bool:
        """Answer ``piece``, a whole request head, with a kept answer if the connection is
        idle (nothing queued or in progress, so answers stay in order) and the parser is
        between requests."""
        manager = self._manager
        answers = self._answers()
        if answers is None or manager is None:
            return False
        waiter = self._waiter
        if waiter is None or waiter.done() or self in _MID_MESSAGE:
            return False
        transport = self.transport
        if (
            transport is None
            or not self._keepalive
            or transport.get_write_buffer_size() > _REPLAY_MAX_BUFFERED
        ):
            return False
        replayed = answers.replay(piece)
        if replayed is None:
            return False
        started = self._loop.time()
        data, close, logged = replayed
        transport.write(data)
        if self._logging_enabled and self.access_logger is not None:
            peer = transport.get_extra_info("peername")
            remote = peer[0] if isinstance(peer, tuple | list) and peer else None
            # The loggers read attributes only: these stand in for the request and response
            # objects a replay never builds (tests/test_answers.py compares the lines).
            self.access_logger.log(
                cast(BaseRequest, logged.request(remote)),
                cast(web.StreamResponse, logged),
                self._loop.time() - started,
            )
        if close:  # as aiohttp ends a Connection: close exchange: the data goes, then FIN
            self._keepalive = False
            transport.close()
        # What aiohttp's loop does per request: count it, and push the idle deadline on.
        self._request_count += 1
        manager.requests_count += 1
        self._next_keepalive_close_time = self._loop.time() + self._keepalive_timeout
        return True

    def _answers(self) -> AnswerCache | None:
        """The application's replayable answers, if it keeps any."""
        manager = self._manager
        return manager.answers if isinstance(manager, _Server) else None

    def _note_end(self, piece: bytes, ended: int) -> None:
        """Requests ended in ``piece``: is the parser between requests now, and is the last
        one a bodiless GET or HEAD whose answer may be kept?"""
        message, payload = self._messages[-1]
        if not piece.endswith(_HEAD_END) or not payload.is_eof():
            _MID_MESSAGE.add(self)
            return
        _MID_MESSAGE.discard(self)
        if (
            ended == 1
            and isinstance(message, RawRequestMessage)
            and message.method in ("GET", "HEAD")
            and "Expect" not in message.headers
            and "Upgrade" not in message.headers
            and self._answers() is not None
        ):
            _HEADS[self] = (message, piece)

    async def finish_response(
        self, request: BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        sent = await super().finish_response(request, resp, start_time)
        if _HEADS:
            pending = _HEADS.pop(self, None)
            answers = self._answers()
            if (
                pending is not None
                and pending[0] is request._message
                and not sent[1]
                and answers is not None
            ):
                try:
                    answers.keep(pending[1], request, sent[0])
                except Exception:  # the answer is sent; not keeping it only costs speed
                    log.exception("could not keep a manifest answer for replay")
        return sent

    def _hold(self, rest: Sequence[bytes]) -> bool:
        """Hold the connection if the request just parsed has a body to receive directly."""
        message, payload = self._messages[-1]
        if not isinstance(message, RawRequestMessage) or not isinstance(payload, StreamReader):
            return False
        length = eligible_length(message, payload)
        if length is None or not is_plain_tcp(self.transport):
            return False
        held = _HELD[self] = HeldBody(payload, length)
        held.held.extend(rest)
        assert self.transport is not None
        self.transport.pause_reading()
        return True

    def claim(self, payload: StreamReader, count: Callable[[int], None]) -> DirectBody | None:
        held = _HELD.get(self)
        if held is None or held.payload is not payload or not is_plain_tcp(self.transport):
            return None
        del _HELD[self]
        body = DirectBody(self, held, count)
        body.start(held.held)
        return body

    def release(self, payload: StreamReader) -> None:
        held = _HELD.get(self)
        if held is None or held.payload is not payload:
            return
        del _HELD[self]
        for data in held.held:
            self.data_received(data)
        self.resume_after_hold()

    def give_back(self, *, fresh_parser: bool) -> None:
        """The end of a directly received body: this handler is the transport's protocol
        again (reading still paused); with ``fresh_parser`` the next request is parsed from
        its first byte, without it the connection closes after the answer."""
        if fresh_parser:
            self._parser = _new_parser(self)
            _MID_MESSAGE.discard(self)
        else:
            self._lingering_time = 0.0
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.set_protocol(self)

    def resume_after_hold(self) -> None:
        """Read on, unless another body is held or aiohttp's flow control holds reading."""
        transport = self.transport
        if transport is None or transport.is_closing() or self in _HELD:
            return
        if not self._reading_paused and not self._buffer_paused:
            transport.resume_reading()

    def connection_lost(self, exc: BaseException | None) -> None:
        _HELD.pop(self, None)
        _MID_MESSAGE.discard(self)
        _HEADS.pop(self, None)
        super().connection_lost(exc)

    def _parse_failed(self, queued: int) -> bool:
        messages = self._messages
        if len(messages) == queued + 1:
            return not isinstance(messages[-1][0], RawRequestMessage)
        return any(
            not isinstance(message, RawRequestMessage)
            for message, _ in list(self._messages)[queued:]
        )

    def _fail_bodies(self) -> None:
        """Fail every body still being received: the parser will never finish it."""
        error = web.RequestPayloadError("the request body's framing is broken")
        payloads = [payload for message, payload in self._messages if message is not None]
        current = self._current_request
        if current is not None:
            payloads.append(current.content)
        for payload in payloads:
            if not payload.is_eof() and payload.exception() is None:
                payload.set_exception(error)
                # Close after the answer without aiohttp's "lingering" read of the rest of the
                # body, which would meet the error just set and log it as unhandled.
                self._lingering_time = 0.0

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("response already started; cannot send an error")
        if status >= 500:
            log.error("error handling request", exc_info=exc)
        else:
            log.debug("malformed request: %s", exc)
        code = ErrorCode.UNKNOWN if status >= 500 else ErrorCode.REQUEST_INVALID
        detail = " ".join(str(exc or message or "").split())[:300] or None
        response = web.Response(
            status=status,
            body=error_body(RegistryError(code, detail, status=status)),
            content_type="application/json",
            headers=API_VERSION_HEADER,
        )
        response.force_close()
        return response


def _new_parser(handler: RequestHandler) -> HttpRequestParser:
    """A parser as aiohttp's RequestHandler makes one, for the same connection."""
    manager: Any = handler._manager
    kwargs = manager._kwargs if manager is not None else {}
    return HttpRequestParser(
        handler,
        handler._loop,
        handler._read_bufsize,
        max_line_size=handler.max_line_size,
        max_field_size=handler.max_field_size,
        max_headers=handler.max_headers,
        payload_exception=RequestPayloadError,
        auto_decompress=kwargs.get("auto_decompress", True),
        max_msg_queue_size=MAX_MSG_QUEUE_SIZE,
    )


def claim_body(request: web.Request, count: Callable[[int], None]) -> DirectBody | None:
    """Receive ``request``'s body directly into stored segments, when the connection held it
    for that (:mod:`fakeregistry.registry.http.direct`); else None: read ``request.content``.
    ``count(n)`` is called as bytes arrive, and may raise to refuse them."""
    protocol = request.protocol
    if isinstance(protocol, _Handler):
        return protocol.claim(request.content, count)
    return None


def release_body(request: web.Request) -> None:
    """Let aiohttp read ``request``'s body as usual if the connection held it (idempotent)."""
    protocol = request.protocol
    if isinstance(protocol, _Handler):
        protocol.release(request.content)


def release_unclaimed(request: web.Request) -> None:
    """For the ``on_response_prepare`` hook: a response sent without reading a held body
    releases it, so aiohttp reads (or drops) the rest as it does for any unread body."""
    if _HELD:  # almost always empty: a manifest GET pays one dict truth test
        release_body(request)


class _Server(web.Server):
    # The application's replayable answers (fakeregistry.registry.http.answers), if it has any.
    answers: AnswerCache | None = None

    def __call__(self) -> RequestHandler:
        handler = super().__call__()
        handler.__class__ = _Handler
        return handler


class RegistryRunner(web.AppRunner):
    """An :class:`aiohttp.web.AppRunner` whose connections answer protocol errors in JSON,
    answer complete requests before junk that follows them, end broken bodies at once, and
    never decompress request bodies."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        kwargs.setdefault("auto_decompress", False)
        super().__init__(app, **kwargs)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _Server
        if isinstance(server, _Server):
            server.answers = self.app.get(ANSWERS)
        return server

    async def stop_gracefully(self, timeout: float) -> None:
        """Stop accepting connections, let the requests in flight finish for up to ``timeout``
        seconds, then close every connection (``fakeregistry serve`` on SIGTERM).

        Not aiohttp's own ``cleanup()`` alone: it marks every connection closing first, and a
        closing connection drops the data that arrives on it, so an upload in flight never got
        the rest of its body and was cut off after the timeout. Here the bodies keep arriving
        until their requests are answered (or the time is up)."""
        for site in list(self.sites):
            await site.stop()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        server = self.server
        while server is not None and loop.time() < deadline and _busy(server):
            await asyncio.sleep(0.02)
        # What is still running past the deadline gets a moment, then is cancelled.
        self._shutdown_timeout = min(1.0, max(deadline - loop.time(), 0.0))
        await self.cleanup()


def _busy(server: web.Server) -> bool:
    # aiohttp's handler sets _request_in_progress from the request line to the end of the
    # response; tests/test_operations.py holds the graceful shutdown to it.
    return any(getattr(conn, "_request_in_progress", False) for conn in server.connections)
