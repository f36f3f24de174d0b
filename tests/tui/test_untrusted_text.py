"""Text from Hudu, Halo or the keyboard is shown as written and inert: `[/b]` in a title, an
error or the filter is not Textual markup (which raised and closed the dashboard), and no
escape sequence, bell or bidi override in a title or an error reaches what a widget renders
(the terminal would clear the screen, set the clipboard, ring, or show the title reversed)."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static

from core.events import EngineLogged, PassFinished
from core.models import ArticleRecord, Status
from core.text import BIDI_CONTROLS
from tests.tui.fakes import FakeEngine, make_record
from tests.tui.pilot import (
    SIZE,
    app_for,
    log_text,
    plain,
    press_one_by_one,
    rendered_lines,
    rendered_segments,
    run_command,
    select,
    toasts,
)
from tui.app import HhsyncApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen
from tui.untrusted import BIDI_TITLE_NOTE, NO_KNOWN_FIX, shown
from tui.widgets.header import SyncHeader

LOOKS_LIKE_MARKUP = "[/b] VPN [link=x] notes"
HOSTILE_TITLES = {
    71: "Rejected \x1b[2J clear",
    72: "Evil \x1b]52;c;ZWNobyBoaQ==\x07 osc52",
    73: "Bell \x07\x07 and \x1b[5mblink\x1b[0m",
    74: "Invoice \u202egpj.exe",
    75: "[bold red]Looks like markup[/]",
    76: "Evil too \x1b]52;c;ZWNobyBoaQ==\x1b\\ osc52 ended by ST",
}
"""Titles an editor of a Hudu article may choose (issue 12), by Hudu id."""
SCOPE = "Hostile Co"


def raw_controls(text: str) -> set[str]:
    """Characters that would act on a terminal: C0 and C1 controls, bidi controls."""
    return {c for c in text if unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS}


def assert_inert(widget: Widget) -> str:
    """No control character in what `widget` renders, nor in a link it carries; its text."""
    lines = rendered_segments(widget)
    texts = ["".join(s.text for s in line) for line in lines]
    found = set().union(*(raw_controls(text) for text in texts))
    assert found == set(), f"{type(widget).__name__} renders {found}"
    links = [s.style.link for line in lines for s in line if s.style and s.style.link]
    assert all(raw_controls(link) == set() for link in links), links
    return "\n".join(texts)


def hostile(hudu_id: int, status: Status = Status.SYNCED, **changes: object) -> ArticleRecord:
    title = HOSTILE_TITLES[hudu_id]
    return make_record(
        hudu_id,
        status,
        title=title,
        scope=SCOPE,
        hudu_url=f"https://acme.huducloud.com/kba/\x1b]52;c;eA==\x07{hudu_id}",
        **changes,
    )


def failed(hudu_id: int, hint: str = "") -> ArticleRecord:
    title = HOSTILE_TITLES[hudu_id]
    return hostile(
        hudu_id,
        Status.FAILED,
        error=f"Halo 400: the article name '{title}' was refused\nby a workflow rule",
        http_status=400,
        hint=hint,
        attempts=1,
    )


def engine_with_hostile_titles(status: Status = Status.SYNCED) -> FakeEngine:
    engine = FakeEngine()
    for hudu_id in HOSTILE_TITLES:
        engine.add(failed(hudu_id) if status == Status.FAILED else hostile(hudu_id))
    return engine


async def row_line(app: HhsyncApp, pilot: Pilot[Any], hudu_id: int) -> tuple[str, str]:
    """The Synced table's header line and the rendered line of the article's row (scrolled
    into view)."""
    table = app.dashboard.table(Status.SYNCED)
    select(table, hudu_id)
    await pilot.pause()
    lines = rendered_lines(table)
    row = table.get_row_index(str(hudu_id)) - round(table.scroll_y)
    return lines[0], lines[table.header_height + row]


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


@pytest.mark.parametrize("size", [SIZE, (80, 24), (60, 15)])
async def test_a_hostile_title_keeps_its_row_inert_and_in_its_columns(
    size: tuple[int, int],
) -> None:
    app = app_for(engine_with_hostile_titles())
    async with app.run_test(size=size) as pilot:
        rows = {}
        for hudu_id in HOSTILE_TITLES:
            header, rows[hudu_id] = await row_line(app, pilot, hudu_id)
            assert_inert(app.dashboard.table(Status.SYNCED))
            scope_at = header.index("Scope")
            assert rows[hudu_id][scope_at : scope_at + len(SCOPE)] == SCOPE, rows[hudu_id]
        assert "Rejected ␛[2J" in rows[71]
        assert "Evil ␛]52;c" in rows[72]
        assert "Bell ␇␇ and" in rows[73]
        assert "Invoice �gpj.exe" in rows[74]
        assert "[bold red]Looks" in rows[75]


async def test_the_detail_shows_a_hostile_title_inert_and_says_it_is_disguised() -> None:
    app = app_for(engine_with_hostile_titles())
    async with app.run_test(size=SIZE) as pilot:
        for hudu_id, title in HOSTILE_TITLES.items():
            select(app.dashboard.table(Status.SYNCED), hudu_id)
            await pilot.press("enter")
            await pilot.pause()  # the row's selection reaches the app as a message
            assert isinstance(app.screen, DetailScreen)
            text = " ".join(assert_inert(app.screen.query_one("#detail-body")).split())
            disguised = "\u202e" in title
            assert (" ".join(BIDI_TITLE_NOTE.split()) in text) is disguised, hudu_id
            assert f"Title {shown(title)}" in text
            await pilot.press("escape")


async def test_the_log_and_the_fix_panel_show_hostile_errors_inert() -> None:
    app = app_for(FakeEngine())
    async with app.run_test(size=SIZE) as pilot:
        engine = app.engine
        assert isinstance(engine, FakeEngine)
        for hudu_id in HOSTILE_TITLES:
            engine.add(failed(hudu_id))
        engine.emit(EngineLogged("WARNING", f"Halo refused '{HOSTILE_TITLES[72]}'"))
        app.drain()
        await press_one_by_one(pilot, "l")
        text = assert_inert(app.dashboard.event_log)
        assert all(raw_controls(line) == set() for line in log_text(app).splitlines())
        assert "“Evil ␛]52;c;ZWNobyBoaQ==␇ osc52”" in log_text(app)
        assert NO_KNOWN_FIX in " ".join(log_text(app).split()) and text
        await press_one_by_one(pilot, "4")
        failed_table = app.dashboard.table(Status.FAILED)
        assert_inert(failed_table)
        select(failed_table, 72)
        await pilot.pause()
        note = " ".join(assert_inert(app.dashboard.failure_note).split())
        assert "Evil ␛]52;c;ZWNobyBoaQ==␇ osc52" in note
        assert NO_KNOWN_FIX in note


async def test_notices_and_the_unlink_question_show_a_hostile_title_inert() -> None:
    app = app_for(engine_with_hostile_titles())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        select(app.dashboard.table(Status.SYNCED), 72)
        await run_command(app, pilot, "r")
        assert toasts(app)[-1] == ("Resynced", "“Evil ␛]52;c;ZWNobyBoaQ==␇ osc52” is synced")
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Evil ␛]52" in assert_inert(app.screen.query_one("#confirm-question"))


async def test_the_header_shows_hosts_inert() -> None:
    engine = FakeEngine()
    engine.hudu_label = "hudu\x1b]52;c;eA==\x07.test"
    app = app_for(engine)
    async with app.run_test(size=SIZE):
        assert "hudu␛]52;c;eA==␇.test" in assert_inert(app.query_one(SyncHeader))
