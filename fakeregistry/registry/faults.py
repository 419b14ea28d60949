"""Fault injection: failures, delays, rate limits and warnings a test asks the registry for.

Rules are plain data kept apart from HTTP; :mod:`fakeregistry.registry.http.instrument` applies
them.
Each rule matches requests by method and a path regex (``re.search``), lets ``after`` matching
requests through, then fires ``times`` times (``None``: every time).
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Fault", "FaultPlan", "RateDecision", "RateLimit"]

# distribution-spec "Warnings": each at most 4096 bytes in total is what clients must accept.
MAX_WARNINGS_BYTES = 4096


def _matches(
    method: str | None, path: re.Pattern[str] | None, req_method: str, req_path: str
) -> bool:
    return (method is None or method.upper() == req_method) and (
        path is None or path.search(req_path) is not None
    )


@dataclass(slots=True)
class Fault:
    """What to do to a matching request.

    - ``status``: answer with this status instead of serving; the body is the spec's error
      envelope for the status (``body`` replaces it) and ``headers`` are added.
    - ``delay``: seconds to wait before answering (or failing).
    - ``drop_connection``: close the connection without answering.
    - ``truncate_body``: serve normally but cut the body after this many bytes, keeping the
      full ``Content-Length``, then close the connection.
    """

    method: str | None = None
    path: str | None = None
    status: int | None = None
    times: int | None = None
    after: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    delay: float = 0.0
    drop_connection: bool = False
    truncate_body: int | None = None
    matched: int = 0
    fired: int = 0
    _pattern: re.Pattern[str] | None = None

    def __post_init__(self) -> None:
        if not (self.status or self.delay or self.drop_connection or self.headers) and (
            self.truncate_body is None
        ):
            raise ValueError(
                "a fault needs an effect: status, delay, drop_connection, truncate_body or headers"
            )
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status, not {self.status}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for every time)")
        if self.after < 0 or self.delay < 0 or (self.truncate_body or 0) < 0:
            raise ValueError("after, delay and truncate_body cannot be negative")
        self._pattern = re.compile(self.path) if self.path is not None else None

    def take(self, method: str, path: str) -> bool:
        """Count a request; True when this fault fires for it."""
        if not _matches(self.method, self._pattern, method, path):
            return False
        self.matched += 1
        if self.matched <= self.after:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.fired += 1
        return True


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The outcome of one request against a rate limit, and the headers it earns."""

    allowed: bool
    headers: dict[str, str]


@dataclass(slots=True)
class RateLimit:
    """A sliding-window limit that answers 429 ``TOOMANYREQUESTS`` like Docker Hub.

    Every counted response carries ``ratelimit-limit: <limit>;w=<window>``,
    ``ratelimit-remaining: <n>;w=<window>`` and ``docker-ratelimit-source``; a refused one also
    ``Retry-After`` (seconds until the oldest counted request leaves the window). By default
    only manifest GETs count, as on Docker Hub (HEAD requests are free there).
    """

    limit: int
    window: float = 21600.0
    method: str | None = "GET"
    path: str | None = r"/manifests/"
    source: str = "127.0.0.1"
    clock: Callable[[], float] = time.monotonic
    _hits: deque[float] = field(default_factory=deque)
    _pattern: re.Pattern[str] | None = None

    def __post_init__(self) -> None:
        if self.limit < 0 or self.window <= 0:
            raise ValueError("limit must be >= 0 and window > 0")
        self._pattern = re.compile(self.path) if self.path is not None else None

    def check(self, method: str, path: str) -> RateDecision | None:
        """None when the request is not counted; else whether it may pass, with headers."""
        if not _matches(self.method, self._pattern, method, path):
            return None
        now = self.clock()
        while self._hits and now - self._hits[0] >= self.window:
            self._hits.popleft()
        window = f"w={int(self.window)}"
        headers = {
            "ratelimit-limit": f"{self.limit};{window}",
            "docker-ratelimit-source": self.source,
        }
        if len(self._hits) >= self.limit:
            retry = self.window - (now - self._hits[0]) if self._hits else self.window
            headers["ratelimit-remaining"] = f"0;{window}"
            headers["Retry-After"] = str(max(1, int(retry + 0.999)))
            return RateDecision(False, headers)
        self._hits.append(now)
        headers["ratelimit-remaining"] = f"{self.limit - len(self._hits)};{window}"
        return RateDecision(True, headers)


@dataclass(slots=True)
class FaultPlan:
    """Everything injected into one registry; cleared between tests."""

    faults: list[Fault] = field(default_factory=list)
    rate_limits: list[RateLimit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add_warning(self, text: str) -> None:
        if '"' in text or "\n" in text or "\r" in text:
            raise ValueError("a warning text cannot contain quotes or line breaks")
        total = sum(len(w) for w in self.warnings) + len(text)
        if total > MAX_WARNINGS_BYTES:
            raise ValueError(f"warnings may hold {MAX_WARNINGS_BYTES} bytes in all")
        self.warnings.append(text)

    def clear(self) -> None:
        self.faults.clear()
        self.rate_limits.clear()
        self.warnings.clear()

    @property
    def empty(self) -> bool:
        return not (self.faults or self.rate_limits or self.warnings)

    def fault_for(self, method: str, path: str) -> Fault | None:
        """The first fault that fires for this request (every matching fault counts it)."""
        chosen = None
        for fault in self.faults:
            if fault.take(method, path) and chosen is None:
                chosen = fault
        return chosen
