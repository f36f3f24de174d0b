"""A client-side sliding-window rate limiter: at most N requests in any window of W seconds."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

WaitHook = Callable[[float, str], None]
"""Called with (seconds, reason) before a deliberate wait, so the engine can show it."""

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]


class SlidingWindowLimiter:
    """A true sliding window (not a refilling bucket), shared by every call to one host.

    Waiters queue on one lock, so concurrent tasks on a loop are served in arrival order and
    the window is never overrun.
    """

    def __init__(
        self,
        max_requests: int,
        window_seconds: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        on_wait: WaitHook | None = None,
    ) -> None:
        if max_requests < 1 or window_seconds <= 0:
            raise ValueError("max_requests must be >= 1 and window_seconds > 0")
        self.max_requests = max_requests
        self.window_seconds = window_seconds
        self.on_wait = on_wait
        self._clock = clock
        self._sleep = sleep
        self._stamps: deque[float] = deque()
        self._lock = asyncio.Lock()
        self.acquired = 0
        """Requests let through since the limiter was made (a pass's cost: core.history)."""

    def __repr__(self) -> str:
        return f"SlidingWindowLimiter({self.max_requests}, {self.window_seconds})"

    def _expire(self, now: float) -> None:
        horizon = now - self.window_seconds
        while self._stamps and self._stamps[0] <= horizon:
            self._stamps.popleft()

    @property
    def in_window(self) -> int:
        """Requests counted in the current window."""
        self._expire(self._clock())
        return len(self._stamps)

    async def acquire(self) -> float:
        """Wait until one more request fits in the window, record it, return the seconds waited."""
        waited = 0.0
        async with self._lock:
            while True:
                now = self._clock()
                self._expire(now)
                if len(self._stamps) < self.max_requests:
                    self._stamps.append(now)
                    self.acquired += 1
                    return waited
                delay = self._stamps[0] + self.window_seconds - now
                if self.on_wait is not None:
                    self.on_wait(delay, "rate limit")
                await self._sleep(delay)
                waited += delay
