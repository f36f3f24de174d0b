"""The garbage collector during and between passes (core.collector): a pass sets aside what
it made, step by step, so automatic full collections walk only the last step's objects; the
scheduler collects what was set aside after a full pass, so cycles are not kept for ever."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

import core.writer
from core.collector import set_aside
from core.emulators.halo import HaloState
from core.emulators.seed import SeedSummary
from core.engine import Engine
from core.events import Event, PassFinished
from tests.conftest import EngineFactory


class Cycle:
    def __init__(self) -> None:
        self.me = self


async def test_a_pass_sets_aside_what_each_batch_left(
    make_engine: EngineFactory, seeded: SeedSummary, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(hhsync_batch_size=5)
    await engine.open()
    frozen: list[int] = []

    def set_aside_counted() -> None:
        set_aside()
        frozen.append(gc.get_freeze_count())

    monkeypatch.setattr(core.writer, "set_aside", set_aside_counted)
    gc.unfreeze()

    summary = await engine.sync_now()

    assert len(frozen) >= -(-summary.created // 5) > 1
    assert min(frozen) > 0


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
