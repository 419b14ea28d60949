"""Manifest answers replayed below aiohttp's web layer, while what they were computed from holds.

A manifest ``GET`` or ``HEAD`` is most of what a registry serves (every pull starts with one,
and test suites poll tags), and its answer is a pure function of the request's bytes and of
the stored content. Through aiohttp's web layer it costs a request object, routing, five
middlewares, a response object and its header preparation: the bare aiohttp handler that only
returns a fixed manifest runs at ~10x distribution on this project's machine, and ours, doing
the real work, at ~55% of it (README, Benchmarks).

So the connection layer (:mod:`fakeregistry.registry.http.protocol`) keeps, per application,
the bytes each such answer went out as, keyed by the exact bytes of the request's head
(request line and headers: the ``Accept`` list, ``If-None-Match``, ``Origin`` and anything
else a handler may look at are all in the key). A request whose head is byte-for-byte one
already answered, arriving on an idle connection, is answered by writing those bytes again
with the current ``Date``, and recorded in the request log as the web layer would have, while:

- the storage has not changed since (:attr:`Storage.generation` counts every change made
  through it) and its options are the same object (a harness swaps them per test);
- the handler's own check still holds: the repository, the tag's digest and the manifest
  object sent are the ones stored now (a test that pokes the dictionaries directly, as some
  corrupt a manifest on purpose, gets the new content);
- no fault, rate limit or warning is planned (:class:`~fakeregistry.registry.faults.FaultPlan`);
  an answer made while anything was planned is never kept (:func:`withdraw_offer`).

Only answers a handler offers (:func:`offer`: manifest ``GET``/``HEAD`` that returned normally,
``200`` or ``304``) are kept, only from applications with no auth (tokens expire and
credentials change who may pull), the ``spec`` personality (others keep per-request state:
rate limits, counters) and HTTP/1.1 requests (``Connection: close`` is answered alike, then
closed; not with ``Expect`` or ``Upgrade``, to which aiohttp answers more than the response).
An access log gets the line the web layer would have written. At most :data:`MAX_ENTRIES`
answers of at most :data:`MAX_ANSWER_BYTES` each and :data:`MAX_TOTAL_BYTES` in all (a client
sending endless distinct heads, ``?n=1``, ``?n=2`` ..., costs at most that).
``RegistryOptions(answer_cache=False)`` (``serve --no-answer-cache``) turns it off.
tests/test_answers.py holds each of these conditions and compares the replayed bytes with
the web layer's, byte for byte but the date.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import HttpVersion
from multidict import CIMultiDict, CIMultiDictProxy

from fakeregistry.registry.options import RegistryOptions
from fakeregistry.registry.storage import Storage

if TYPE_CHECKING:  # instrument withdraws offers: it imports this module
    from fakeregistry.registry.http.instrument import Instruments

__all__ = [
    "ANSWERS",
    "MAX_ANSWER_BYTES",
    "MAX_ENTRIES",
    "MAX_TOTAL_BYTES",
    "AnswerCache",
    "offer",
    "withdraw_offer",
]

MAX_ENTRIES = 512
# Manifests are capped at 4 MiB; those over 1 MiB are rare and cheap to answer anew by size.
MAX_ANSWER_BYTES = 1 << 20
MAX_TOTAL_BYTES = 32 << 20  # heads and answers together; past it the kept answers start over


@dataclass(frozen=True, slots=True)
class _Offer:
    still_true: Callable[[], bool]  # the handler's check that it would answer the same
    generation: int  # the storage's, when the answer was computed
    options: RegistryOptions  # the storage's options then (compared by identity)


_OFFERED: web.RequestKey[_Offer] = web.RequestKey("reusable_answer")

_DATE = b"\r\nDate: "
_DATE_LENGTH = len("Sun, 06 Nov 1994 08:49:37 GMT")


def withdraw_offer(request: web.Request) -> None:
    """Take back what the handler offered: something outside it shaped the answer (the fault
    plan, by :mod:`~fakeregistry.registry.http.instrument`)."""
    request.pop(_OFFERED, None)


def offer(request: web.Request, storage: Storage, still_true: Callable[[], bool]) -> None:
    """Offer this request's answer, computed from ``storage`` as it is now, for replay while
    ``still_true()`` holds and the storage is unchanged; called by a handler as it answers.
    (The answer is kept once sent, and only if nothing changed in between: a large body's
    write may wait for the client while another connection pushes.)"""
    request[_OFFERED] = _Offer(still_true, storage.generation, storage.options)


@dataclass(slots=True)
class _Answer:
    before_date: bytes  # status line and the headers before Date's value
    after_date: bytes  # the rest of the head, and the body
    still_true: Callable[[], bool]
    close: bool  # the request asked for Connection: close, and the answer says so
    logged: LoggedExchange  # what the request log and an access logger record of it


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """What aiohttp's access loggers (and ours, JSON) read of a request, for a replay."""

    remote: str | None
    method: str
    path: str
    path_qs: str
    version: HttpVersion
    headers: CIMultiDictProxy[str]

    def get(self, key: object, default: object = None) -> object:
        return default  # no request keys: a replay never has a signed-in user


@dataclass(frozen=True, slots=True)
class LoggedExchange:
    """A kept answer as the request log and an access logger record it: the response's side
    (``status``, ``body_length``, ``content_length``, ``headers``) and the request's, less the
    peer."""

    method: str
    path: str
    query: str
    path_qs: str
    version: HttpVersion
    request_headers: CIMultiDictProxy[str]
    status: int
    body_length: int
    content_length: int | None
    headers: CIMultiDictProxy[str]

    def request(self, remote: str | None) -> LoggedRequest:
        return LoggedRequest(
            remote, self.method, self.path, self.path_qs, self.version, self.request_headers
        )


class AnswerCache:
    """The answers of one application that can be replayed, and the conditions they hold on."""

    def __init__(self, storage: Storage, instruments: Instruments | None) -> None:
        self._storage = storage
        self._instruments = instruments
        self._answers: dict[bytes, _Answer] = {}
        self._bytes = 0  # of the kept heads and answers
        self._generation = storage.generation
        self._options = storage.options
        self.replayed = 0  # requests answered by replay (tests and benchmarks read it)

    def __len__(self) -> int:
        return len(self._answers)

    @property
    def size(self) -> int:
        """Bytes of the kept heads and answers."""
        return self._bytes

    def _current(self) -> bool:
        """Whether the kept answers are of the current content (forgetting them if not) and
        replay is on."""
        storage = self._storage
        if storage.generation != self._generation or storage.options is not self._options:
            self._answers.clear()
            self._bytes = 0
            self._generation = storage.generation
            self._options = storage.options
            return False
        return storage.options.answer_cache

    def _quiet(self) -> bool:
        return self._instruments is None or self._instruments.plan.empty

    def replay(self, head: bytes) -> tuple[bytes, bool, LoggedExchange] | None:
        """The bytes to send for a request whose head is ``head``, whether to close the
        connection after them and what to write to an access log; or None: ask the app."""
        answer = self._answers.get(head)
        if answer is None or not self._current() or not self._quiet():
            return None
        if not answer.still_true():
            del self._answers[head]
            self._bytes -= _size(head, answer)
            return None
        started = time.perf_counter()
        self.replayed += 1
        data = b"".join((answer.before_date, rfc822_formatted_time().encode(), answer.after_date))
        logged = answer.logged
        if self._instruments is not None:
            self._instruments.log.record_request(
                logged.method,
                logged.path,
                logged.query,
                logged.request_headers,
                logged.status,
                time.perf_counter() - started,
            )
        return data, answer.close, logged

    def keep(self, head: bytes, request: web.BaseRequest, response: web.StreamResponse) -> None:
        """Keep the answer just sent for ``request`` (whose head was ``head``) if its handler
        offered it and nothing made it depend on more than the request's bytes."""
        offered = request.get(_OFFERED)
        if offered is None:
            return
        self._current()
        if (
            offered.generation != self._generation
            or offered.options is not self._options
            or not self._options.answer_cache
            or not isinstance(response, web.Response)
            or request.version != (1, 1)
        ):
            return
        body = response.body
        if request.method == "HEAD" or response.status == 304:
            body = b""
        if not isinstance(body, bytes) or len(body) > MAX_ANSWER_BYTES:
            return
        lines = [f"HTTP/1.1 {response.status} {response.reason}"]
        lines.extend(f"{name}: {value}" for name, value in response.headers.items())
        head_out = ("\r\n".join(lines) + "\r\n\r\n").encode()
        at = head_out.find(_DATE)
        if at < 0:
            return
        at += len(_DATE)
        answer = _Answer(
            head_out[:at],
            head_out[at + _DATE_LENGTH :] + body,
            offered.still_true,
            not response.keep_alive,
            LoggedExchange(
                request.method,
                request.path,
                request.query_string,
                request.path_qs,
                request.version,
                request.headers,
                response.status,
                response.body_length,
                response.content_length,
                CIMultiDictProxy(CIMultiDict(response.headers)),
            ),
        )
        replaced = self._answers.pop(head, None)  # kept before, not replayed (a plan, a queue)
        if replaced is not None:
            self._bytes -= _size(head, replaced)
        size = _size(head, answer)
        if len(self._answers) >= MAX_ENTRIES or self._bytes + size > MAX_TOTAL_BYTES:
            self._answers.clear()
            self._bytes = 0
        self._answers[head] = answer
        self._bytes += size


def _size(head: bytes, answer: _Answer) -> int:
    return len(head) + len(answer.before_date) + len(answer.after_date)


ANSWERS = web.AppKey("answers", AnswerCache)
