"""An event loop on a daemon thread, and the way other threads hand it work."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread", "run_in_fresh_loop"]

T = TypeVar("T")


class LoopThread:
    """Runs an event loop on its own thread until :meth:`stop`.

    Sync code submits coroutines with :meth:`run` (blocks for the result); async code on another
    loop awaits :meth:`arun` without blocking its own loop. Exceptions come back to the caller.
    """

    def __init__(self, name: str = "fakeregistry") -> None:
        self._name = name
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, setup: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
        """Start the thread; ``setup()`` runs on the loop first and its failure is raised here."""
        if self._thread is not None:
            return
        loop = asyncio.new_event_loop()
        started: concurrent.futures.Future[None] = concurrent.futures.Future()

        def main() -> None:
            asyncio.set_event_loop(loop)
            try:
                if setup is not None:
                    loop.run_until_complete(setup())
            except BaseException as exc:
                started.set_exception(exc)
                loop.close()
                return
            started.set_result(None)
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        thread = threading.Thread(target=main, name=self._name, daemon=True)
        thread.start()
        try:
            started.result()
        except BaseException:
            thread.join()
            raise
        self.loop, self._thread = loop, thread

    def stop(self, teardown: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
        """Run ``teardown()`` on the loop, then stop it and join the thread."""
        if self._thread is None or self.loop is None:
            return
        if teardown is not None:
            self.run(teardown())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self._thread = self.loop = None

    def in_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        if self.loop is None:
            coroutine.close()
            raise RuntimeError(f"{self._name} loop is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the loop and wait for its result (from another thread)."""
        if self.in_thread():
            coroutine.close()
            raise RuntimeError("LoopThread.run() called from the loop's own thread")
        return self.submit(coroutine).result()

    async def arun(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Await ``coroutine`` running on the loop, from another event loop."""
        return await asyncio.wrap_future(self.submit(coroutine))


def run_in_fresh_loop(
    make: Callable[[], Awaitable[T]],
    *,
    name: str = "fakeregistry",
    cleanup: Callable[[], Awaitable[None]] | None = None,
) -> T:
    """Run ``make()`` to completion on a fresh event loop in its own thread and return its
    result (or raise its exception). Works inside or outside a running loop, which is what the
    synchronous twins of async APIs need; ``cleanup()`` runs on that loop afterwards (closing
    a client whose session belongs to it)."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    async def main() -> T:
        try:
            return await make()
        finally:
            if cleanup is not None:
                await cleanup()

    def run() -> None:
        try:
            future.set_result(asyncio.run(main()))
        except BaseException as exc:
            future.set_exception(exc)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    thread.join()
    return future.result()
