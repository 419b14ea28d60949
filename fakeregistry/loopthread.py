"""An event loop on a daemon thread, and the way other threads hand it work."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread"]

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
