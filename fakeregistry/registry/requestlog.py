"""The log of requests a registry served, for tests to assert on."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = ["RecordedRequest", "RequestLog"]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the registry saw it, and the status it answered with."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    status: int
    duration: float

    def __str__(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.path}{query} -> {self.status}"


# What the instrument middleware keeps of a request: method, path, query, headers (the request's
# own read-only headers), status, duration. A RecordedRequest is made of it only when the log is
# read: most requests of a test are never looked at, and making a frozen dataclass and a dict
# of the headers was a fifth of what an idle request log cost a manifest GET.
_Raw = tuple[str, str, str, Mapping[str, str], int, float]


def _entry(raw: _Raw) -> RecordedRequest:
    method, path, query, headers, status, duration = raw
    return RecordedRequest(method, path, query, dict(headers), status, duration)


class RequestLog:
    """Requests in the order they were answered. Safe to read from another thread."""

    def __init__(self) -> None:
        self._entries: list[RecordedRequest | _Raw] = []
        self._lock = threading.Lock()

    def record(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def record_request(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        status: int,
        duration: float,
    ) -> None:
        """Record a request as :meth:`record` does; ``headers`` must not change afterwards
        (a request's own headers do not): they are copied into a dict when the log is read."""
        with self._lock:
            self._entries.append((method, path, query, headers, status, duration))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _materialized(self) -> list[RecordedRequest]:
        """Every entry as a RecordedRequest (the caller holds the lock)."""
        entries = self._entries
        for index, entry in enumerate(entries):
            if isinstance(entry, tuple):
                entries[index] = _entry(entry)
        return entries  # type: ignore[return-value]

    def __iter__(self) -> Iterator[RecordedRequest]:
        with self._lock:
            return iter(list(self._materialized()))

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> RecordedRequest:
        with self._lock:
            entry = self._entries[index]
            if isinstance(entry, tuple):
                entry = self._entries[index] = _entry(entry)
            return entry

    def filter(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        status: int | None = None,
    ) -> list[RecordedRequest]:
        """Requests with this method (any case), a path matching the regex ``path``
        (``re.search``: ``r"/manifests/"`` matches every manifest request) and this status."""
        pattern = re.compile(path) if path is not None else None
        return [
            entry
            for entry in self
            if (method is None or entry.method == method.upper())
            and (pattern is None or pattern.search(entry.path))
            and (status is None or entry.status == status)
        ]

    def assert_requested(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        count: int | None = None,
        status: int | None = None,
    ) -> list[RecordedRequest]:
        """Assert that matching requests were made (exactly ``count`` of them if given) and
        return them; the failure message lists every request the registry saw.

        >>> log = RequestLog()
        >>> log.assert_requested("GET", r"/v2/$", count=0)
        []
        """
        found = self.filter(method, path, status=status)
        if (count is None and not found) or (count is not None and len(found) != count):
            want = "at least one" if count is None else f"exactly {count}"
            seen = "\n".join(f"  {entry}" for entry in self) or "  (none)"
            raise AssertionError(
                f"expected {want} {method or 'any'} request matching {path!r}"
                + (f" answered {status}" if status is not None else "")
                + f", found {len(found)}; the registry saw:\n{seen}"
            )
        return found
