"""Pilot tests for issue 13: the dashboard acts on the row the user sees."""

from __future__ import annotations

import asyncio

import pytest
from textual.clock import MockClock

from core.events import EngineLogged, Origin
from core.models import ArticleRecord, Status
from tests.tui.fakes import FIXED, FakeEngine, make_record
from tests.tui.pilot import (
    app_for,
    commands_done,
    log_text,
    press_one_by_one,
    run_command,
    select,
    toasts,
)
from tui.app import make_app
from tui.screens.confirm import ConfirmScreen


async def test_resize_keeps_the_cursor_row_on_screen_and_keys_act_on_it() -> None:
    engine = FakeEngine([make_record(i) for i in range(1, 201)])
    app = app_for(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        synced.move_cursor(row=25)
        await pilot.pause()
        chosen = synced.cursor_id
        for size in ((80, 24), (60, 15)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            await pilot.pause()
            row = synced.cursor_coordinate.row
            visible = synced.scrollable_content_region.height - synced.header_height
            assert synced.cursor_id == chosen
            assert synced.scroll_y <= row < synced.scroll_y + visible, (size, row, synced.scroll_y)
        await press_one_by_one(pilot, "u")
        record = engine.record(chosen or 0)
        assert isinstance(app.screen, ConfirmScreen) and record is not None
        assert record.title in app.screen.question


class TwoStepEngine(FakeEngine):
    """Resyncs as the real engine does: the article is pending while its write runs (one tick
    sees it gone from Synced), then synced again."""

    def __init__(self, records: list[ArticleRecord]) -> None:
        super().__init__(records)
        self.written = asyncio.Event()

    async def resync(self, hudu_id: int, origin: Origin = Origin.COMMAND) -> ArticleRecord:
        self.change(hudu_id, status=Status.PENDING, reason="resync")
        await self.written.wait()
        return await super().resync(hudu_id, origin)


async def test_r_keeps_the_cursor_on_its_article_while_it_is_rewritten() -> None:
    engine = TwoStepEngine([make_record(i) for i in range(1, 60)])
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        await press_one_by_one(pilot, "g", *"jjjjj")
        chosen = synced.cursor_id
        await pilot.press("r")
        await pilot.pause()
        app.drain()  # the tick that sees the article pending
        await pilot.pause()
        engine.written.set()
        await commands_done(app)
        app.drain()  # and the one that sees it synced again
        await pilot.pause()
        assert synced.cursor_id == chosen
        engine.written = asyncio.Event()
        engine.written.set()
        await run_command(app, pilot, "r")
        assert [c for c in engine.calls if c[0] == "resync"] == [("resync", chosen)] * 2


async def test_after_u_y_the_cursor_stays_on_the_article_and_r_relinks_it() -> None:
    engine = FakeEngine([make_record(i) for i in range(1, 60)])
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        await press_one_by_one(pilot, "g", *"jjjjj")
        chosen = synced.cursor_id
        await run_command(app, pilot, "u", "y")
        assert ("unlink", chosen) in engine.calls
        _title, message = toasts(app)[-1]
        assert "r relinks it" in message
        assert app.selected_id() == chosen
        await run_command(app, pilot, "r")
        assert engine.calls[-1] == ("resync", chosen)
        record = engine.record(chosen or 0)
        assert record is not None and record.status == Status.SYNCED


async def test_the_unlink_dialog_names_the_id_and_scope() -> None:
    engine = FakeEngine()
    app = app_for(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        chosen = app.dashboard.table(Status.SYNCED).cursor_id
        record = engine.record(chosen or 0)
        assert record is not None
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        assert f"#{record.hudu_id}" in app.screen.question
        assert record.scope in app.screen.question
        assert f"#{record.halo_id}" in app.screen.detail


@pytest.mark.parametrize(
    ("tab", "hudu_id", "says"), [("3", 30, "draft"), ("2", 20, "no Halo copy")]
)
async def test_unlink_is_not_offered_without_a_halo_copy(tab: str, hudu_id: int, says: str) -> None:
    engine = FakeEngine()
    app = app_for(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await press_one_by_one(pilot, tab)
        select(app.dashboard.current_table(), hudu_id)  # type: ignore[arg-type]
        await pilot.pause()
        await run_command(app, pilot, "u")
        assert not isinstance(app.screen, ConfirmScreen)
        assert not [c for c in engine.calls if c[0] == "unlink"]
        assert says in toasts(app)[-1][1]
        record = engine.record(hudu_id)
        assert record is not None and not record.unlinked


async def test_a_skipped_article_with_a_halo_copy_can_be_unlinked_and_keeps_its_reason() -> None:
    reason = "synced without diagram.vsdx: over 25 MB"
    engine = FakeEngine([make_record(33, Status.SKIPPED, reason=reason, halo_id=5033)])
    app = app_for(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await press_one_by_one(pilot, "3")
        await run_command(app, pilot, "u", "y")
        assert engine.calls[-1] == ("unlink", 33)
        table = app.dashboard.table(Status.SKIPPED)
        assert table.cursor_id == 33
        assert reason in str(table.get_row("33")[-1])


async def test_dashboard_actions_are_written_to_the_log_with_time_id_and_title() -> None:
    engine = FakeEngine()
    app = make_app(engine, clock=MockClock(), now=lambda: FIXED)
    async with app.run_test(size=(120, 40)) as pilot:
        chosen = app.dashboard.table(Status.SYNCED).cursor_id
        record = engine.record(chosen or 0)
        assert record is not None
        failed = app.model.count(Status.FAILED)
        await run_command(app, pilot, "r")
        await run_command(app, pilot, "u", "y")
        await run_command(app, pilot, "R")
        await run_command(app, pilot, "p")
        await run_command(app, pilot, "p", "5")
        text = log_text(app)
        named = f"“{record.title}” #{chosen} ({record.scope})"
        assert f"Resync of {named} from the dashboard" in text
        assert f"Unlink of {named} from the dashboard" in text
        assert f"Retry of {failed} articles from the dashboard" in text
        assert "Pause from the dashboard" in text
        assert "Resume from the dashboard" in text
        assert "14:02:11" in text  # the time of each entry


async def test_the_log_tab_wraps_at_its_width_after_hide_show_and_resize() -> None:
    engine = FakeEngine()
    app = app_for(engine)
    long = "word " * 50
    async with app.run_test(size=(120, 40)) as pilot:
        await press_one_by_one(pilot, "5")
        engine.emit(EngineLogged("INFO", "before " + long, FIXED))
        app.drain()
        await press_one_by_one(pilot, "1")
        engine.emit(EngineLogged("INFO", "hidden " + long, FIXED))
        app.drain()
        await press_one_by_one(pilot, "5")
        await pilot.pause()
        lines = log_text(app).splitlines()
        assert max(len(line.rstrip()) for line in lines if "hidden" in line) > 60, lines
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        lines = log_text(app).splitlines()
        assert lines and max(len(line.rstrip()) for line in lines) <= 80, lines
