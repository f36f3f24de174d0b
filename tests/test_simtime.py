"""Simulated time: waits take no real time, and every wait moves the clock (however short)."""

from __future__ import annotations

import asyncio
import gc
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


def test_the_stall_meter_names_the_longest_callback_and_the_collector_inside_it() -> None:
    async def busy(seconds: float) -> None:
        await asyncio.sleep(0)
        ended = time.thread_time() + seconds
        while time.thread_time() < ended:
            pass

    async def collecting() -> None:
        await asyncio.sleep(0)
        gc.collect(0)

    async def main(loop: simtime.VirtualTimeLoop) -> simtime.StallMeter:
        with simtime.StallMeter() as meter:
            await asyncio.gather(busy(0.002), asyncio.create_task(busy(0.03), name="slow"))
            await collecting()
        return meter

    meter = simtime.run(main)
    assert 0.03 <= meter.longest < 0.2
    assert meter.where.startswith("slow")
    assert any("the garbage collector" in where for _spent, where in meter.worst)
    assert meter.collector_seconds > 0
    assert gc.callbacks.count(meter._collector) == 0
