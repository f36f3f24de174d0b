"""What the pilot tests share: the terminal size, waiting for commands, reading widgets."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from rich.console import Console
from rich.segment import Segment
from textual import events
from textual.clock import MockClock
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import TabbedContent

from core.models import ArticleRecord, Status
from tests.tui.fakes import FIXED, FakeEngine
from tui import table_rows
from tui.app import HhsyncApp, make_app
from tui.columns import Cell, Now, cells_for
from tui.state import HeaderState
from tui.widgets.article_table import ArticleTable
from tui.widgets.header import SyncHeader

SIZE = (120, 40)


def plain(renderable: Any, width: int = 120) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def rendered_segments(widget: Widget) -> list[list[Segment]]:
    """What `widget` hands the screen now, line by line: the segments Textual writes to the
    terminal (their text, and their style, whose link becomes an escape sequence too)."""
    strips = widget.render_lines(Region(0, 0, *widget.outer_size))
    return [list(strip) for strip in strips]


def rendered_lines(widget: Widget) -> list[str]:
    """The text of each line `widget` renders now."""
    return ["".join(s.text for s in line) for line in rendered_segments(widget)]


def position_shown(app: HhsyncApp) -> str:
    """The cursor's position as painted on the line under the tables."""
    return rendered_lines(app.dashboard.table_status.position)[0].strip()


def labels(app: HhsyncApp) -> dict[str, str]:
    tabs = app.query_one(TabbedContent)
    return {
        tab_id: tabs.get_tab(tab_id).label_text
        for tab_id in ("synced", "pending", "skipped", "failed")
    }


def filtered_tabs(app: HhsyncApp) -> set[str]:
    """The status tabs whose count is underlined: their table is filtered."""
    tabs = app.query_one(TabbedContent)
    return {
        tab_id
        for tab_id in ("synced", "pending", "skipped", "failed")
        if any("underline" in str(span.style) for span in tabs.get_tab(tab_id).label.spans)
    }


async def commands_done(app: HhsyncApp) -> None:
    """Wait for the engine commands (not the scheduler, which runs until quit)."""
    commands = [w for w in app.workers if w.group == "commands"]
    if commands:  # an empty list would mean "every worker"
        await app.workers.wait_for_complete(commands)


def count_cells_made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The Hudu id of each row whose cells a table makes from here on."""
    made: list[int] = []

    def counted(status: Status, record: ArticleRecord, now: Now) -> tuple[Cell, ...]:
        made.append(record.hudu_id)
        return cells_for(status, record, now)

    monkeypatch.setattr(table_rows, "cells_for", counted)
    return made


def ids(table: ArticleTable) -> list[int]:
    return [int(row.key.value or 0) for row in table.ordered_rows]


def select(table: ArticleTable, hudu_id: int) -> None:
    """Put the cursor on an article's row."""
    table.move_cursor(row=table.get_row_index(str(hudu_id)))


def header_state(app: HhsyncApp) -> HeaderState:
    state = app.query_one(SyncHeader).state
    assert state is not None
    return state


def focused(app: HhsyncApp) -> Widget | None:
    """The focused widget, read afresh (a type checker keeps an earlier `app.focused` check)."""
    return app.focused


def app_for(engine: FakeEngine) -> HhsyncApp:
    """The dashboard on `engine`, its time now fixed (`FIXED`), so ages and log times hold."""
    return make_app(engine, clock=MockClock(), now=lambda: FIXED)


def burst(app: HhsyncApp, *keys: tuple[str, str | None]) -> None:
    """Queue keys all at once, as a paste or a slow SSH link delivers them (through Textual's
    private driver: a pilot presses keys one message at a time)."""
    driver = app._driver
    assert driver is not None
    for key, char in keys:
        event = events.Key(key, char)
        event.set_sender(app)
        driver.send_message(event)


def log_text(app: HhsyncApp) -> str:
    return "\n".join(line.text for line in app.dashboard.event_log.lines)


def toasts(app: HhsyncApp) -> list[tuple[str, str]]:
    """(title, message) of every notification shown (Textual keeps the list private)."""
    return [(n.title, n.message) for n in app._notifications]


async def screen_workers_done(app: HhsyncApp, pilot: Pilot[Any], seconds: float = 5) -> None:
    """Wait (a while at most) for the workers of the screen shown, e.g. the command palette's
    search: one still running when the app exits queries widgets already gone."""
    screen = app.screen
    async with asyncio.timeout(seconds):
        while any(w.node is screen and w.is_running for w in app.workers):
            await pilot.pause(0.02)


async def press_one_by_one(pilot: Pilot[Any], *keys: str) -> None:
    """Each key once the screen has handled the one before: `pilot.press("2", "down")` sends
    `down` as soon as the app looks idle, sometimes before the new tab has the focus."""
    for key in keys:
        await pilot.press(key)


async def filter_rows(pilot: Pilot[Any], text: str) -> None:
    """Type `text` into the filter (opened with /, closed with enter) and let it apply."""
    await press_one_by_one(pilot, "slash", *text, "enter")
    await pilot.pause()


async def run_command(app: HhsyncApp, pilot: Pilot[Any], *keys: str) -> None:
    """Press the keys, wait for the engine commands they started, apply their events."""
    await press_one_by_one(pilot, *keys)
    await commands_done(app)
    app.drain()
    await pilot.pause()
