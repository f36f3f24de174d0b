"""Simulated time for benchmarks and tests: an asyncio loop whose clock jumps to the next timer.

`VirtualTimeLoop` answers `time()` from a virtual clock. When nothing is ready to run, instead
of sleeping until the next timer it moves the clock there at once, so a pass that waits 15
minutes for Halo's rate limit takes as long as its CPU work. Everything that waits through
the loop (`asyncio.sleep`, timeouts, the clients' limiters given `loop.time` as their clock,
the emulators given `wall` as theirs) shares that one time. Real I/O still works, but does not
advance the clock: meant for in-process transports (`httpx.ASGITransport`).

`StallMeter` measures the longest a single callback held the loop, less the time spent inside
an in-process emulator (between `enter` and `leave`, and in the callbacks that continue it).
It counts the loop thread's CPU time by default: on a busy machine, wall time would count the
time other processes had the CPU.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import math
import selectors
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")

EPOCH = 1_767_225_600.0
"""Where simulated wall time starts: 2026-01-01T00:00:00Z."""


class _FastForwardSelector(selectors.DefaultSelector):
    """Polls real I/O without blocking; with nothing ready, moves the clock to the timeout."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # no timer at all: only real I/O or another thread can wake us
            return super().select(0.05)
        # At least one step of the float: a wait shorter than that would never move the clock.
        self.now = max(self.now + timeout, math.nextafter(self.now, math.inf))
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on simulated time (see the module)."""

    def __init__(self) -> None:
        self._selector_clock = _FastForwardSelector()
        super().__init__(self._selector_clock)

    def time(self) -> float:
        # Each reading is a step of the float later, as a real clock would be: code that polls
        # the clock until a deadline passes (a limiter sleeping 0 s) cannot spin forever.
        clock = self._selector_clock
        clock.now = math.nextafter(clock.now, math.inf)
        return clock.now

    def call_later(
        self, delay: float, callback: Callable[..., object], *args: object, context: Any = None
    ) -> asyncio.TimerHandle:
        """A positive wait ends at least one step of the float later (else a limiter waiting
        for a window to slide would wait for nothing, forever)."""
        when = self.time() + delay
        if delay > 0:
            when = max(when, math.nextafter(self.time(), math.inf))
        return self.call_at(when, callback, *args, context=context)

    def wall(self) -> float:
        """Simulated seconds since the Unix epoch."""
        return EPOCH + self._selector_clock.now

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)


def run(main: Callable[[VirtualTimeLoop], Coroutine[Any, Any, T]]) -> T:
    """Run `main(loop)` to completion on a new `VirtualTimeLoop`."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main(loop))
    finally:
        loop.close()


_INSIDE: contextvars.ContextVar[bool] = contextvars.ContextVar("inside_emulator", default=False)


async def inline(work: Callable[[], object]) -> None:
    """Runs `work` on the loop's thread after giving the loop a turn, where a worker thread
    would have run it (`core.durability.Offload`): a thread's real time would let the
    virtual clock jump past it."""
    await asyncio.sleep(0)
    work()


class StallMeter:
    """While entered, the longest time one loop callback ran (`longest`, in seconds of `clock`) and
    what it was (`where`), not counting the time spent inside emulators (`emulator_seconds`):
    from `enter` to `leave`, and whole callbacks of tasks or continuations begun inside."""

    def __init__(self, clock: Callable[[], float] = time.thread_time) -> None:
        self.clock = clock
        self.longest = 0.0
        self.where = ""
        self.worst: list[tuple[float, str]] = []
        """The five longest callbacks: (seconds, where)."""
        self.callbacks = 0
        self.emulator_seconds = 0.0
        self.collector_seconds = 0.0
        """Time the cyclic garbage collector ran while entered (emulators' callbacks too)."""
        self._collecting = 0.0
        self._span: float | None = None
        self._original: Callable[[asyncio.Handle], None] | None = None

    def enter(self) -> contextvars.Token[bool]:
        """Emulator code starts (in this callback); the token is for `leave`."""
        if self._span is None:
            self._span = self.clock()
        return _INSIDE.set(True)

    def leave(self, token: contextvars.Token[bool]) -> None:
        _INSIDE.reset(token)
        if self._span is not None:
            self.emulator_seconds += self.clock() - self._span
            self._span = None

    def reset(self) -> None:
        self.longest, self.where, self.worst = 0.0, "", []

    def _collector(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._collecting = self.clock()
        else:
            self.collector_seconds += self.clock() - self._collecting

    def __enter__(self) -> StallMeter:
        original = asyncio.Handle._run
        self._original = original
        meter = self

        def timed(handle: asyncio.Handle) -> None:
            started = meter.clock()
            emulator, collector = meter.emulator_seconds, meter.collector_seconds
            context: contextvars.Context | None = getattr(handle, "_context", None)
            if context is not None and context.get(_INSIDE):
                meter._span = started  # an emulator's own task or continuation
            try:
                original(handle)
            finally:
                ended = meter.clock()
                if meter._span is not None:  # the emulator was suspended, not left
                    meter.emulator_seconds += ended - meter._span
                    meter._span = None
                spent = ended - started - (meter.emulator_seconds - emulator)
                meter.callbacks += 1
                if len(meter.worst) < 5 or spent > meter.worst[-1][0]:
                    where = _describe(handle)
                    if collected := meter.collector_seconds - collector:
                        where += f" (the garbage collector: {collected * 1e3:.1f} ms)"
                    meter.worst = sorted([*meter.worst, (spent, where)])[::-1][:5]
                    meter.longest, meter.where = meter.worst[0]

        asyncio.Handle._run = timed  # type: ignore[assignment,method-assign]
        gc.callbacks.append(self._collector)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._collector in gc.callbacks:
            gc.callbacks.remove(self._collector)
        if self._original is not None:
            asyncio.Handle._run = self._original  # type: ignore[assignment,method-assign]
            self._original = None


def _describe(handle: asyncio.Handle) -> str:
    """The callback, or for a task's step, the task: where its coroutine waits now."""
    callback = getattr(handle, "_callback", None)
    task = getattr(callback, "__self__", None)
    if isinstance(task, asyncio.Task):
        awaiting: Any = task.get_coro()
        frames = []
        while awaiting is not None and getattr(awaiting, "cr_frame", None) is not None:
            frame = awaiting.cr_frame
            frames.append(f"{frame.f_code.co_name}:{frame.f_lineno}")
            awaiting = awaiting.cr_await
        return f"{task.get_name()}: {' > '.join(frames[-4:])}"[:300]
    return repr(handle)[:160]
