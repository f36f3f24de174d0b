"""Running the engine's commands for requests: each as its own task, shielded from the request,
so a client that disconnects (or a server shutting down a connection) never cancels a command
half-way through a pass or a write."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from core.errors import HhsyncError

T = TypeVar("T")


class ServiceStopping(HhsyncError):
    """The service takes no new command while it stops."""

    hint = "run the command again once the service is back"


class CommandRunner:
    def __init__(self) -> None:
        self.stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def run(self, command: Callable[[], Coroutine[Any, Any, T]]) -> T:
        if self.stopping:
            raise ServiceStopping("the hhsync service is stopping")
        task: asyncio.Task[T] = asyncio.ensure_future(command())
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return await asyncio.shield(task)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved here: the request that wanted it may be gone

    async def wait(self, timeout: float) -> None:
        """Until every command in flight has finished (at most `timeout` seconds)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def cancel(self) -> None:
        """Cancel the commands in flight (a second SIGINT: stop now)."""
        for task in set(self._tasks):
            task.cancel()
