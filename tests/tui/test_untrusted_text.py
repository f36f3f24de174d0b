"""Text from Hudu, Halo or the keyboard is shown as written: `[/b]` in a title, an error or the
filter is not Textual markup (which raised and closed the dashboard)."""

from __future__ import annotations

from datetime import datetime

from textual.widgets import Static

from core.events import PassFinished
from core.models import Status
from tests.tui.fakes import FakeEngine, make_record
from tests.tui.pilot import (
    SIZE,
    app_for,
    plain,
    press_one_by_one,
    run_command,
    select,
    toasts,
)
from tui.screens.confirm import ConfirmScreen

LOOKS_LIKE_MARKUP = "[/b] VPN [link=x] notes"


def engine_with_markup_title() -> FakeEngine:
    engine = FakeEngine()
    engine.add(make_record(70, title=LOOKS_LIKE_MARKUP, scope="AAA"))
    return engine


async def test_a_notice_quotes_a_title_as_written() -> None:
    app = app_for(engine_with_markup_title())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        select(app.dashboard.table(Status.SYNCED), 70)
        await run_command(app, pilot, "r")
        assert app.is_running
        assert toasts(app)[-1] == ("Resynced", f"“{LOOKS_LIKE_MARKUP}” is synced")


async def test_the_unlink_question_quotes_a_title_as_written() -> None:
    app = app_for(engine_with_markup_title())
    async with app.run_test(size=SIZE) as pilot:
        select(app.dashboard.table(Status.SYNCED), 70)
        await pilot.press("u")
        assert app.is_running and isinstance(app.screen, ConfirmScreen)
        question = app.screen.query_one("#confirm-question", Static)
        assert LOOKS_LIKE_MARKUP in plain(question.render())


async def test_the_empty_note_quotes_the_filter_as_written() -> None:
    app = app_for(FakeEngine())
    async with app.run_test(size=SIZE) as pilot:
        await press_one_by_one(pilot, "slash", *"[/b]")
        await pilot.pause(0.3)
        assert app.is_running
        note = app.dashboard.empty_notes[Status.SYNCED]
        assert "“[/b]”" in plain(note.render())


async def test_a_pass_stopped_by_an_error_shows_it_as_written() -> None:
    engine = FakeEngine()
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        moment = datetime(2026, 6, 30, 14, 0)
        engine.emit(PassFinished(False, moment, moment, 0, 0, 0, 0, 0, "Halo said [/b]"))
        app.drain()
        await pilot.pause()
        assert app.is_running
        assert "stopped: Halo said [/b]" in app.dashboard.pass_status.summary_text
        assert toasts(app)[-1] == ("Pass stopped", "Halo said [/b]")
