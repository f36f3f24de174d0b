"""Issue 13, defect 6: each key says what it did, or why it could not."""

from __future__ import annotations

import asyncio

from textual.command import CommandList, CommandPalette

from core.events import Origin
from core.models import ArticleRecord, Status
from tests.tui.fakes import FakeEngine, make_record, sample_records
from tests.tui.pilot import (
    app_for,
    commands_done,
    header_state,
    plain,
    press_one_by_one,
    run_command,
    screen_workers_done,
    select,
    toasts,
)
from tui.screens.detail import DetailScreen
from tui.widgets.header import render_header


class DraftKeepingEngine(FakeEngine):
    """Resyncs as the engine does an article Hudu still has as a draft: it stays skipped."""

    async def resync(self, hudu_id: int, origin: Origin = Origin.COMMAND) -> ArticleRecord:
        record = self.record(hudu_id)
        if record is not None and record.reason == "draft":
            self.calls.append(("resync", hudu_id))
            return record
        return await super().resync(hudu_id, origin)


class SlowPauseEngine(FakeEngine):
    """The engine answers `pause` only when told (a service over a slow link)."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = asyncio.Event()

    async def pause(self, origin: Origin = Origin.COMMAND) -> None:
        await self.answer.wait()
        await super().pause(origin)


def header_text(app: object) -> str:
    return plain(render_header(header_state(app)), 120)  # type: ignore[arg-type]


async def test_r_on_a_skipped_article_says_it_is_skipped_and_why() -> None:
    engine = DraftKeepingEngine()
    app = app_for(engine)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await press_one_by_one(pilot, "3")
        select(app.dashboard.table(Status.SKIPPED), 30)
        await run_command(app, pilot, "r")
        title, message = toasts(app)[-1]
        record = engine.record(30)
        assert record is not None
        assert title == f"“{record.title}” #30 is skipped"
        assert "draft" in message and "Resynced" not in title


async def test_p_during_a_pass_says_pausing_at_once_then_paused_after_this_pass() -> None:
    engine = SlowPauseEngine()
    app = app_for(engine)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        engine.start_pass(full=True)
        engine.progress(48, 100)
        app.drain()
        await press_one_by_one(pilot, "p")
        assert "● full pass 48% · ⏸ pausing…" in header_text(app)
        engine.answer.set()
        await run_command(app, pilot)
        assert "● full pass 48% · ⏸ paused after this pass" in header_text(app)
        assert toasts(app)[-1][0] == "Paused after this pass"
        engine.finish_pass(full=True)
        app.drain()
        assert "⏸ paused" in header_text(app) and "pass 48%" not in header_text(app)


async def test_full_sync_during_a_pass_is_queued_once() -> None:
    engine = FakeEngine()
    app = app_for(engine)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        engine.start_pass(full=False)
        app.drain()
        engine.gate = asyncio.Event()  # the queued sync waits for the pass, as the engine's lock
        await press_one_by_one(pilot, "S")
        await pilot.pause()
        assert toasts(app)[-1][1].startswith("Full sync queued")
        await press_one_by_one(pilot, "S", "s")
        assert "already queued" in toasts(app)[-2][1]
        assert "already queued" in toasts(app)[-1][1]
        engine.gate.set()
        await commands_done(app)
        assert [c for c in engine.calls if c[0] == "sync_now"] == [("sync_now", True)]


async def test_keys_on_an_empty_tab_say_why_they_cannot_act() -> None:
    engine = FakeEngine([r for r in sample_records() if r.status != Status.FAILED])
    app = app_for(engine)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await press_one_by_one(pilot, "4")
        for key in ("u", "r", "enter"):
            await press_one_by_one(pilot, key)
            await pilot.pause()
            assert toasts(app)[-1][1] == "The Failed tab is empty: no article to act on", key
        assert not isinstance(app.screen, DetailScreen)
        assert not [c for c in engine.calls if c[0] in ("resync", "unlink")]
        await press_one_by_one(pilot, "1", "slash", *"zzz", "enter")
        await pilot.pause(0.3)
        await press_one_by_one(pilot, "r")
        assert "matches “zzz”" in toasts(app)[-1][1]


async def test_the_palette_offers_the_app_keys_and_none_of_textuals_own() -> None:
    engine = FakeEngine([make_record(1)])
    app = app_for(engine)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await press_one_by_one(pilot, "4", "ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        for query, expected in (
            ("screenshot", 0),
            ("maximize", 0),
            ("theme", 0),
            ("unlink", 2),
        ):  # Unlink, Undo the last unlink
            await press_one_by_one(pilot, *query)
            await pilot.pause(0.3)
            await screen_workers_done(app, pilot)
            assert app.screen.query_one(CommandList).option_count == expected, query
            await press_one_by_one(pilot, *["backspace"] * len(query))
        await press_one_by_one(pilot, *"unlink", "enter")
        await pilot.pause(0.3)
        assert toasts(app)[-1][1] == "The Failed tab is empty: no article to act on"
