"""``python -m benchmarks.instrumented``: fakeregistry as the pytest fixture serves it, with the
request log and the fault middleware installed but idle (no fault planned, nobody reading the
log), in a process of its own like ``fakeregistry serve --quiet``. The manifest GET goal is
measured against this one, since tests use it. ``--no-answer-cache``: every request through
the web layer (fakeregistry.registry.http.answers), for comparing."""

from __future__ import annotations

import asyncio
import signal
import sys

from fakeregistry.registry.faults import FaultPlan
from fakeregistry.registry.http.instrument import Instruments
from fakeregistry.registry.options import RegistryOptions
from fakeregistry.registry.requestlog import RequestLog
from fakeregistry.registry.server import AsyncRegistryServer


async def main() -> None:
    options = RegistryOptions(answer_cache="--no-answer-cache" not in sys.argv[1:])
    server = AsyncRegistryServer(options, instruments=Instruments(RequestLog(), FaultPlan()))
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"Serving on {server.url}/", flush=True)
    await stop.wait()
    await server.stop()


if __name__ == "__main__":
    asyncio.run(main())
