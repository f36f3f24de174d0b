"""The garbage collector during and between passes (core.collector): planning sets aside what
it made, so automatic full collections walk only what was made since; the scheduler collects
what was set aside after a full pass, so cycles are not kept for ever."""

from __future__ import annotations

import asyncio
import gc
import weakref

from core.collector import set_aside
from core.emulators.halo import HaloState
from core.emulators.seed import SeedSummary
from core.engine import Engine
from core.events import Event, PassFinished


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_setting_aside_collects_the_young_garbage_first() -> None:
    """Else a cycle that died a moment ago (an HTTP response and its stream) would be kept."""
    cycle = Cycle()
    gone = weakref.ref(cycle)
    del cycle

    set_aside()

    assert gone() is None
    assert gc.get_freeze_count() > 0


async def run_one_pass(engine: Engine) -> PassFinished:
    finished: list[PassFinished] = []

    def watch(event: Event) -> None:
        if isinstance(event, PassFinished):
            finished.append(event)
            engine.stop()

    engine.subscribe(watch)
    await asyncio.wait_for(engine.run_scheduler(), 30)
    return finished[0]


async def test_after_a_full_pass_the_scheduler_collects_cycles_set_aside(
    engine: Engine, seeded: SeedSummary, halo: HaloState
) -> None:
    cycle = Cycle()
    gone = weakref.ref(cycle)
    set_aside()
    del cycle
    gc.collect()
    assert gone() is not None  # set aside: no collection sees it

    finished = await run_one_pass(engine)

    assert finished.full and halo.articles
    assert gone() is None
    assert gc.get_freeze_count() > 0  # the survivors are set aside again


async def test_after_an_incremental_pass_nothing_is_collected(
    engine: Engine, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    cycle = Cycle()
    gone = weakref.ref(cycle)
    set_aside()
    del cycle

    finished = await run_one_pass(engine)

    assert not finished.full
    assert gone() is not None
    gc.unfreeze()
