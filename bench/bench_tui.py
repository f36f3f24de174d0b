"""Dashboard benchmark: first paint with 10,000 mapped articles, and one tick of 500 events;
at 50,000 (issue 10): first paint, a tick of 500 row changes, and filtering as the user types.

Run: `python bench/bench_tui.py` (exit status 1 when a bound is broken). The fake engine is the
one the pilot tests use; the figures are for the UI alone, the engine is not involved.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.clock import MockClock

from core.events import ArticleChanged, Event
from core.models import ArticleRecord, Status
from tests.tui.fakes import FakeEngine, make_record
from tui.app import HhsyncApp, make_app

ARTICLES = 10_000
BATCH = 500
ROUNDS = 5
FIRST_PAINT_BOUND = 2.0
BATCH_BOUND = 0.25
"""A tick is 0.25 s: applying 500 events within one keeps up with 2,000 events a second."""


def mapped_articles(count: int = ARTICLES) -> list[ArticleRecord]:
    statuses = [Status.SYNCED] * 14 + [Status.PENDING] * 3 + [Status.SKIPPED] * 2 + [Status.FAILED]
    return [make_record(i, statuses[i % len(statuses)]) for i in range(1, count + 1)]


def batch_of_events(app: HhsyncApp, round_no: int) -> list[Event]:
    """Half moves (pending → synced, synced → failed), half in-place updates of synced rows."""
    records = app.model.records
    pending = [r for r in records.values() if r.status == Status.PENDING][: BATCH // 4]
    synced = [r for r in records.values() if r.status == Status.SYNCED]
    to_fail = synced[: BATCH // 4]
    to_touch = synced[BATCH // 4 : BATCH // 4 + BATCH // 2]
    stamp = f"2026-07-0{round_no + 1}T10:00:00"
    events: list[Event] = []
    events += [
        ArticleChanged(replace(r, status=Status.SYNCED, halo_id=9_000_000 + r.hudu_id))
        for r in pending
    ]
    events += [
        ArticleChanged(replace(r, status=Status.FAILED, error="Halo 500", http_status=500))
        for r in to_fail
    ]
    events += [ArticleChanged(replace(r, last_synced_at=stamp)) for r in to_touch]
    return events


async def measure() -> tuple[float, list[float], list[float]]:
    """Wall time to first paint; CPU time (what blocks the UI) to apply and repaint a batch."""
    engine = FakeEngine(mapped_articles())
    app = make_app(engine, clock=MockClock(), autostart=False)
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.dashboard.table(Status.SYNCED)
        while table.virtual_size.height < table.row_count:
            await pilot.pause()
        first_paint = time.perf_counter() - started
        applies: list[float] = []
        ticks: list[float] = []
        for round_no in range(ROUNDS):
            app.pending_events.extend(batch_of_events(app, round_no))
            begin = time.process_time()
            app.drain()
            applies.append(time.process_time() - begin)
            await pilot.pause()
            ticks.append(time.process_time() - begin)
        assert app.model.count(Status.FAILED) > 0
    return first_paint, applies, ticks


SCALE_ARTICLES = 50_000
SCALE_FIRST_PAINT_BOUND = 3.0
SCALE_TICK_BOUND = 0.100
KEYSTROKE_BOUND = 0.100
TYPED = "vpn setup"
"""Typed into the filter one key at a time (the first keys match the most rows)."""


async def measure_at_scale() -> tuple[float, list[float], list[float]]:
    """At 50,000 articles: wall time to first paint; CPU time to apply and repaint a tick of
    500 row changes; CPU time from each keystroke in the filter to the table repainted."""
    engine = FakeEngine(mapped_articles(SCALE_ARTICLES))
    app = make_app(engine, clock=MockClock(), autostart=False)
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.dashboard.table(Status.SYNCED)
        while table.virtual_size.height < table.row_count:
            await pilot.pause()
        first_paint = time.perf_counter() - started
        ticks: list[float] = []
        for round_no in range(ROUNDS):
            app.pending_events.extend(batch_of_events(app, round_no))
            begin = time.process_time()
            app.drain()
            await pilot.pause()
            ticks.append(time.process_time() - begin)
        dashboard = app.dashboard
        dashboard.open_filter()
        await pilot.pause()
        keystrokes: list[float] = []
        for typed in range(1, len(TYPED) + 1):
            begin = time.process_time()
            dashboard.filter_input.value = TYPED[:typed]
            dashboard._filter_now()  # what the debounce timer runs once typing pauses
            await pilot.pause()
            keystrokes.append(time.process_time() - begin)
        assert 0 < table.row_count < app.model.count(Status.SYNCED)
    return first_paint, ticks, keystrokes


def scale_report() -> list[str]:
    """Print the 50,000-article figures; returns the bounds broken."""
    first_paint, ticks, keystrokes = asyncio.run(measure_at_scale())
    print(f"\narticles mapped:               {SCALE_ARTICLES:,}")
    print(
        f"first paint:                   {first_paint:.2f} s   (bound {SCALE_FIRST_PAINT_BOUND} s)"
    )
    print(
        f"apply + repaint {BATCH} (CPU):   median {statistics.median(ticks) * 1000:.0f} ms,"
        f" worst {max(ticks) * 1000:.0f} ms   (bound {SCALE_TICK_BOUND * 1000:.0f} ms)"
    )
    print(
        f"filter, a keystroke (CPU):     median {statistics.median(keystrokes) * 1000:.0f} ms,"
        f" worst {max(keystrokes) * 1000:.0f} ms   (bound {KEYSTROKE_BOUND * 1000:.0f} ms)"
    )
    broken = []
    if first_paint > SCALE_FIRST_PAINT_BOUND:
        broken.append("first paint at 50,000")
    if max(ticks) > SCALE_TICK_BOUND:
        broken.append("batch of events at 50,000")
    if max(keystrokes) > KEYSTROKE_BOUND:
        broken.append("filter keystroke at 50,000")
    return broken


def main() -> int:
    first_paint, applies, ticks = asyncio.run(measure())
    worst_tick = max(ticks)
    print(f"articles mapped:               {ARTICLES:,}")
    print(f"first paint:                   {first_paint:.2f} s   (bound {FIRST_PAINT_BOUND} s)")
    print(
        f"apply {BATCH} events (CPU):      median {statistics.median(applies) * 1000:.0f} ms,"
        f" worst {max(applies) * 1000:.0f} ms"
    )
    print(
        f"apply + repaint (CPU):         median {statistics.median(ticks) * 1000:.0f} ms,"
        f" worst {worst_tick * 1000:.0f} ms   (bound {BATCH_BOUND * 1000:.0f} ms)"
    )
    broken = []
    if first_paint > FIRST_PAINT_BOUND:
        broken.append("first paint")
    if worst_tick > BATCH_BOUND:
        broken.append("batch of events")
    broken += scale_report()
    if broken:
        print("BOUND BROKEN: " + ", ".join(broken))
        return 1
    print("all bounds met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
