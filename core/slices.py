"""Long loops on the event loop give it back every few milliseconds.

The loop is shared: in embedded mode with the dashboard, in a service with the clients that
attach to it. A loop over 50,000 writes, or over the 100 articles of a batch (megabytes of
bodies read, encoded, parsed and hashed), held it for 40-60 ms at a time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

SLICE_SECONDS = 0.01


class Slicer:
    """Gives the loop back (`pause_if_due`) once `seconds` of work have passed since it was
    made or last gave it back; `before_pause` runs just before each time it does."""

    def __init__(
        self, seconds: float | None = None, before_pause: Callable[[], object] | None = None
    ) -> None:
        self.seconds = SLICE_SECONDS if seconds is None else seconds
        self.before_pause = before_pause
        self._end = time.perf_counter() + self.seconds

    async def pause_if_due(self) -> None:
        if time.perf_counter() >= self._end:
            if self.before_pause is not None:
                self.before_pause()
            await asyncio.sleep(0)
            self._end = time.perf_counter() + self.seconds


async def sliced(items: Iterable[T], seconds: float | None = None) -> AsyncIterator[T]:
    """The items, the loop given back between two of them once `seconds` have passed."""
    slicer = Slicer(seconds)
    for item in items:
        yield item
        await slicer.pause_if_due()
