"""Simulated time: waits take no real time, and every wait moves the clock (however short)."""

from __future__ import annotations

import asyncio
import time

from core import simtime
from core.ratelimit import SlidingWindowLimiter


def test_a_rate_limited_burst_takes_simulated_minutes_and_no_real_time() -> None:
    async def main(loop: simtime.VirtualTimeLoop) -> float:
        limiter = SlidingWindowLimiter(290, 300.0, clock=loop.time)
        started = loop.time()
        await asyncio.gather(*(limiter.acquire() for _ in range(900)))
        return loop.time() - started

    real = time.perf_counter()
    simulated = simtime.run(main)
    assert 900 <= simulated < 1_000  # three windows of waiting for 900 requests
    assert time.perf_counter() - real < 5


def test_a_wait_shorter_than_the_clock_can_show_still_moves_it() -> None:
    async def main(loop: simtime.VirtualTimeLoop) -> bool:
        await asyncio.sleep(1_000_000.1)
        before = loop.time()
        await asyncio.sleep(1e-12)
        return loop.time() > before

    assert simtime.run(main)
