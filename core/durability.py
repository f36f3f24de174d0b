"""The fsyncs of a pass's writes, off the event loop.

Each store commit is fsynced before it returns, on the caller's thread: for the engine, the
event loop the dashboard and the service's clients share. On this machine's disk an fsync
took under a millisecond at the median and up to two seconds at worst, every one of them a
freeze of the dashboard. While a pass takes its plan and writes to Halo, commits only write
their journal line (the kernel holds it: a killed process loses nothing) and a worker thread
fsyncs:

- before each POST, for the rows that say a create is on its way (`made_durable`): after a
  power cut, the next pass looks those articles up by marker instead of creating them again;
- when the plan is taken and when the writes end, for everything else.

A commit outside the writes (a pause, an unlink from the dashboard) is fsynced as it is made,
and so is everything not yet fsynced before it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from core.store import MappingStore

Offload = Callable[[Callable[[], None]], Awaitable[None]]
"""Runs a blocking call away from the event loop (`asyncio.to_thread`; in simulated time,
`core.simtime.inline`: a thread's real time would let the virtual clock jump)."""


class DeferredFsync:
    """Commits made inside `writes()` leave their fsync to `made_durable` and to its end."""

    def __init__(self, store: MappingStore, offload: Offload = asyncio.to_thread) -> None:
        self.store = store
        self.offload = offload

    @contextlib.asynccontextmanager
    async def writes(self) -> AsyncIterator[None]:
        outer = self.store.defer_fsync
        self.store.defer_fsync = True
        try:
            yield
        finally:
            self.store.defer_fsync = outer
        if not outer:
            await self.offload(self.store.sync)

    async def made_durable(self) -> None:
        """Every commit so far fsynced, by a worker thread."""
        if self.store.defer_fsync:
            await self.offload(self.store.sync)
