"""SlidingWindowLimiter with a fake clock and a fake sleep: nothing here really sleeps."""

from __future__ import annotations

import asyncio
import random

import pytest

from core.ratelimit import SlidingWindowLimiter


class FakeTime:
    """One clock for monotonic and wall time; `sleep` records the wait and moves the clock."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class LowJitter(random.Random):
    """Every jitter at its lower bound, so waits can be asserted exactly."""

    def uniform(self, a: float, b: float) -> float:
        return a


def limiter(time: FakeTime, n: int = 3, window: float = 10.0, **kw: object) -> SlidingWindowLimiter:
    return SlidingWindowLimiter(n, window, clock=time.clock, sleep=time.sleep, **kw)  # type: ignore[arg-type]


async def test_under_the_limit_nothing_waits() -> None:
    time = FakeTime()
    lim = limiter(time)
    assert [await lim.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert time.sleeps == []
    assert lim.in_window == 3


async def test_the_window_slides_instead_of_refilling() -> None:
    time = FakeTime(0.0)
    lim = limiter(time)
    for at in (0.0, 1.0, 2.0):
        time.now = at
        await lim.acquire()
    time.now = 5.0
    assert await lim.acquire() == pytest.approx(5.0)  # until the request at t=0 leaves
    assert time.now == pytest.approx(10.0)
    assert await lim.acquire() == pytest.approx(1.0)  # then the one at t=1, not a new bucket
    time.now = 30.0
    assert lim.in_window == 0


async def test_concurrent_tasks_never_overrun_the_window() -> None:
    time = FakeTime(0.0)
    lim = limiter(time, n=3, window=10.0)
    stamps: list[float] = []

    async def one() -> None:
        await lim.acquire()
        stamps.append(time.now)

    await asyncio.gather(*(one() for _ in range(10)))
    assert len(stamps) == 10
    for i, start in enumerate(stamps):
        in_window = [s for s in stamps[i:] if s < start + 10.0]
        assert len(in_window) <= 3
    assert max(stamps) == pytest.approx(30.0)


async def test_on_wait_hears_every_wait() -> None:
    time = FakeTime(0.0)
    heard: list[tuple[float, str]] = []
    lim = limiter(time, n=1, window=60.0, on_wait=lambda s, why: heard.append((s, why)))
    await lim.acquire()
    await lim.acquire()
    assert heard == [(60.0, "rate limit")]


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        SlidingWindowLimiter(0, 60.0)
