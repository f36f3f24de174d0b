"""A filter keystroke, a tick, a cursor move and `/` or esc do only the screen work they need at
50,000 rows (bench/bench_tui.py times it; here the work is counted): no layout pass of the whole
screen for a new row count or a longer filter text, a row's styles worked out once and a row
painted again only when the cursor comes or goes, and no whole-screen paint when the focus
moves."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widget import Widget

from core.models import ArticleRecord, Status
from tests.tui.fakes import FakeEngine, make_record
from tests.tui.pilot import SIZE, app_for, focused, press_one_by_one
from tui import columns, table_rows
from tui.app import HhsyncApp
from tui.cell_line import cell_segments
from tui.textual_private import table as private_table

ROWS = 3_000


def layouts_asked(widget: Widget) -> list[bool]:
    """Whether each `refresh` of `widget` from here on asks for a layout pass."""
    asked: list[bool] = []
    refresh = widget.refresh

    def counted(*regions: Any, layout: bool = False, **kwargs: Any) -> Any:
        asked.append(layout)
        return refresh(*regions, layout=layout, **kwargs)

    widget.refresh = counted  # type: ignore[method-assign]
    return asked


def big_app() -> HhsyncApp:
    """The dashboard on `ROWS` synced articles."""
    return app_for(FakeEngine([make_record(i) for i in range(1, ROWS + 1)]))


def cells_painted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of each cell the tables paint from here on."""
    painted: list[str] = []

    def counted(console: Any, text: Any, *args: Any) -> Any:
        painted.append(text.plain)
        return cell_segments(console, text, *args)

    monkeypatch.setattr(private_table, "cell_segments", counted)
    return painted


def cells_made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The Hudu ids of the rows whose cells the tables make from here on."""
    made: list[int] = []

    def counted(status: Status, record: ArticleRecord, now: Any) -> Any:
        made.append(record.hudu_id)
        return columns.cells_for(status, record, now)

    monkeypatch.setattr(table_rows, "cells_for", counted)
    return made


async def test_typing_in_the_filter_asks_for_no_layout_pass() -> None:
    app = big_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        dashboard = app.dashboard
        synced = dashboard.table(Status.SYNCED)
        await press_one_by_one(pilot, "slash")
        await pilot.pause()
        by_input, by_table = layouts_asked(dashboard.filter_input), layouts_asked(synced)
        by_tab = layouts_asked(dashboard.tabbed.get_tab("synced"))
        counts = []
        for key in ("v", "p", "n", "backspace", "backspace", "backspace"):
            await pilot.press(key)
            dashboard._filter_now()  # what the debounce timer runs
            await pilot.pause()
            counts.append(synced.row_count)
        assert counts[0] < ROWS and counts[2] < counts[0] and counts[-1] == ROWS
        assert not any(by_input)  # the input's text grew: it scrolls without a layout
        assert not any(by_table)  # the row count changed: only its scrollbar is sized again
        assert by_tab and not any(by_tab)  # its label is restyled, as wide as before
        assert synced.virtual_size.height == ROWS + 1


async def test_a_tick_that_fills_hidden_tables_asks_for_no_layout_pass() -> None:
    engine = FakeEngine([make_record(i) for i in range(1, ROWS + 1)])
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        failed = app.dashboard.table(Status.FAILED)
        asked = layouts_asked(failed)
        for hudu_id in range(1, 200):
            engine.change(hudu_id, status=Status.FAILED, error="Halo 500")
        app.drain()
        await pilot.pause()
        assert failed.row_count == 199
        assert not any(asked)  # never shown: its first layout sizes it
        await press_one_by_one(pilot, "4")
        await pilot.pause()
        assert failed.virtual_size.height == 200 and failed.max_scroll_y > 0


async def test_moving_the_cursor_paints_the_two_rows_it_leaves_and_reaches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = big_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        synced = app.dashboard.table(Status.SYNCED)
        painted = cells_painted(monkeypatch)
        await pilot.press("j")
        await pilot.pause()
        assert synced.cursor_coordinate.row == 1
        assert 0 < len(painted) <= 2 * len(synced.columns)


async def test_a_rows_styles_are_worked_out_once_not_per_cell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = big_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        synced = app.dashboard.table(Status.SYNCED)
        styles = type(synced)._get_styles_to_render_cell
        asked: list[bool] = []

        def counted(table: Any, *args: Any) -> Any:
            asked.append(True)
            return styles(table, *args)

        counted.cache_clear = styles.cache_clear  # type: ignore[attr-defined]  # lru_cache's
        monkeypatch.setattr(type(synced), "_get_styles_to_render_cell", counted)
        synced.repaint_cells()
        lines = synced.render_lines(synced.size.region)
        rows = len(lines) - 1  # under the header
        assert rows > 10 and len(synced.columns) >= 5
        # The stock table asks once per cell and once more per row (the space past the last
        # column); the header's cells are painted the stock way.
        assert len(asked) <= 2 * rows + len(synced.columns) + 1


async def test_opening_and_closing_the_filter_does_not_paint_the_whole_screen() -> None:
    app = big_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        dashboard = app.dashboard
        whole: list[bool] = []
        refresh = dashboard.refresh

        def counted(*regions: Any, repaint: bool = True, **kwargs: Any) -> Any:
            whole.append(repaint and not regions)
            return refresh(*regions, repaint=repaint, **kwargs)

        dashboard.refresh = counted  # type: ignore[method-assign]
        await press_one_by_one(pilot, "slash")
        await pilot.pause()
        assert focused(app) is dashboard.filter_input
        await press_one_by_one(pilot, "escape")
        await pilot.pause()
        assert focused(app) is dashboard.table(Status.SYNCED)
        assert not any(whole)


async def test_opening_and_closing_the_filter_keeps_the_table_in_place_and_paints_no_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The filter opens on the line under the table, and the table looks the same whether it
    or the filter has the focus: its rows are neither moved nor painted again."""
    app = big_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        dashboard = app.dashboard
        synced = dashboard.table(Status.SYNCED)
        region, shown = synced.region, synced.size.height
        painted = cells_painted(monkeypatch)
        await press_one_by_one(pilot, "slash")
        await pilot.pause()
        assert focused(app) is dashboard.filter_input and dashboard.filter_open
        assert synced.region == region and not painted
        await press_one_by_one(pilot, "escape")
        await pilot.pause()
        assert focused(app) is synced and not dashboard.filter_open
        assert synced.region == region and synced.size.height == shown and not painted


async def test_a_click_on_the_filter_line_opens_the_filter_and_leaving_it_empty_closes_it() -> None:
    app = app_for(FakeEngine([make_record(i) for i in range(1, 40)]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        dashboard = app.dashboard
        assert not dashboard.filter_open
        assert dashboard.filter_input.placeholder.startswith("none · press /")
        await pilot.click("#filter")
        await pilot.pause()
        assert focused(app) is dashboard.filter_input and dashboard.filter_open
        assert dashboard.filter_input.placeholder.startswith("title, scope")
        await pilot.press("down")  # back to the table with nothing typed
        await pilot.pause()
        assert focused(app) is dashboard.table(Status.SYNCED) and not dashboard.filter_open


async def test_esc_shows_the_rows_the_filter_hid_without_making_their_cells_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = big_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        dashboard = app.dashboard
        synced = dashboard.table(Status.SYNCED)
        made = cells_made(monkeypatch)
        top = synced.shown_rows.id_at(0)  # the cursor's article when filtered: it stays on top
        await press_one_by_one(pilot, "slash", *f"#{top}")
        dashboard._filter_now()
        await pilot.pause()
        assert 0 < synced.row_count < ROWS and made
        made.clear()
        await press_one_by_one(pilot, "escape")
        await pilot.pause()
        assert synced.row_count == ROWS and synced.scroll_offset.y == 0
        assert made == []
