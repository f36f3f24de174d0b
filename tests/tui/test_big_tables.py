"""A table of thousands of rows does work for the rows shown and the rows that changed only:
cells are made when a row is painted, and a tick puts each changed row in its place instead of
sorting the table (the work is counted; the timings at 50,000 rows are bench/bench_tui.py's)."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable
from typing import Any

import pytest
from textual.clock import MockClock

from core.models import ArticleRecord, Status
from tests.tui.fakes import FakeEngine, make_record
from tests.tui.pilot import (
    SIZE,
    app_for,
    count_cells_made,
    filter_rows,
    ids,
    log_text,
    press_one_by_one,
)
from tui import table_rows
from tui.app import make_app
from tui.collector import FULL_COLLECTIONS_HELD_BACK
from tui.settings import TuiSettings
from tui.sorting import SortOrder, key_maker
from tui.widgets import event_log
from tui.widgets.article_table import ArticleTable

ROWS = 5_000
SHOWN = SIZE[1]
"""No more rows than the terminal has lines can be painted."""


class CountedKey(tuple[object, ...]):
    """A sort key that counts the comparisons made with it."""

    compared = 0

    def __lt__(self, other: tuple[object, ...]) -> bool:
        CountedKey.compared += 1
        return tuple(self) < tuple(other)


def count_comparisons(monkeypatch: pytest.MonkeyPatch) -> None:
    def counted_maker(order: SortOrder, status: Status, now: Any) -> Any:
        make = key_maker(order, status, now)
        return lambda record: CountedKey(make(record))

    monkeypatch.setattr(table_rows, "key_maker", counted_maker)


def many_records() -> list[ArticleRecord]:
    return [make_record(i) for i in range(1, ROWS + 1)]


async def test_the_first_paint_makes_cells_for_the_rows_shown_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = count_cells_made(monkeypatch)
    app = app_for(FakeEngine(many_records()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        synced = app.dashboard.table(Status.SYNCED)
        assert synced.row_count == ROWS
        top = ids(synced)[:SHOWN]
        assert made and set(made) <= set(top)
        assert synced.get_cell(str(top[0]), "title").plain.endswith(f"#{top[0]}")


async def test_a_tick_places_the_rows_that_changed_without_sorting_the_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    count_comparisons(monkeypatch)
    made = count_cells_made(monkeypatch)
    engine = FakeEngine(many_records())
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        synced = app.dashboard.table(Status.SYNCED)
        select(synced, 2_500)
        made.clear()
        CountedKey.compared = 0
        changed = range(1_000, 1_100)
        for hudu_id in changed:  # renamed: each row moves elsewhere in the order
            engine.change(hudu_id, title=f"Zz renamed {hudu_id}", scope="Central KB")
        app.drain()
        await pilot.pause()
        assert CountedKey.compared < ROWS - 1  # sorting the table compares every row at least once
        assert ids(synced) == in_table_order(app.model.by_status[Status.SYNCED].values())
        assert synced.cursor_id == 2_500
        shown = set(ids(synced)[synced.cursor_coordinate.row - SHOWN : synced.cursor_row + SHOWN])
        assert set(made) <= shown  # the rows painted again, none of the others


def in_table_order(records: Iterable[ArticleRecord]) -> list[int]:
    """The ids in the first order of a table: scope, then title."""
    ordered = sorted(records, key=lambda r: (r.scope.casefold(), r.title.casefold(), r.hudu_id))
    return [r.hudu_id for r in ordered]


def select(table: Any, hudu_id: int) -> None:
    table.move_cursor(row=table.get_row_index(str(hudu_id)))


async def test_filtering_makes_cells_for_the_rows_shown_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = count_cells_made(monkeypatch)
    app = app_for(FakeEngine(many_records()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        synced = app.dashboard.table(Status.SYNCED)
        made.clear()
        await filter_rows(pilot, "vpn")
        assert synced.filter_text == "vpn"
        assert 0 < synced.row_count < ROWS
        top = ids(synced)[:SHOWN]
        assert made and set(made) <= set(top)
        await press_one_by_one(pilot, "slash", "end", "backspace", "enter")  # widens: "vp"
        await pilot.pause()
        assert synced.filter_text == "vp"
        assert ids(synced) == in_table_order(
            r for r in app.model.by_status[Status.SYNCED].values() if "vp" in r.title.casefold()
        )


async def test_clearing_a_filter_puts_the_hidden_rows_back_without_sorting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The order of every row is kept while a filter hides most of them, through ticks that
    move hidden rows too: widening or clearing picks the rows shown from it in one pass."""
    count_comparisons(monkeypatch)
    engine = FakeEngine(many_records())
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        synced = app.dashboard.table(Status.SYNCED)
        await filter_rows(pilot, "vpn")
        hidden = ROWS - synced.row_count
        assert hidden > ROWS // 2
        for hudu_id in range(1_000, 1_100):  # hidden or shown, each moves in the order
            engine.change(hudu_id, title=f"Zz renamed {hudu_id}", scope="Central KB")
        app.drain()
        await pilot.pause()
        CountedKey.compared = 0
        await press_one_by_one(pilot, "slash", "end", "backspace", "enter")  # widens: "vp"
        await pilot.pause()
        await press_one_by_one(pilot, "slash", "escape")  # clears
        await pilot.pause()
        assert synced.filter_text == ""
        # Sorting the rows put back would compare each of them; finding the rows painted (a
        # bisect each) compares a few hundred times.
        assert CountedKey.compared < hidden // 2
        assert ids(synced) == in_table_order(app.model.by_status[Status.SYNCED].values())


async def test_a_tick_that_changes_no_row_on_screen_paints_no_row() -> None:
    engine = FakeEngine(many_records())
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        synced = app.dashboard.table(Status.SYNCED)
        top = ids(synced)[:SHOWN]
        painted: list[int] = []
        render_line = synced.render_line

        def counted(y: int) -> Any:
            painted.append(y)
            return render_line(y)

        synced.render_line = counted  # type: ignore[method-assign]
        below = ids(synced)[SHOWN * 2 :: 50][:40]
        for hudu_id in below:
            engine.change(hudu_id, last_synced_at="2026-07-01T08:00:00")
        app.drain()
        await pilot.pause()
        assert ids(synced)[:SHOWN] == top
        assert len(painted) <= 1  # the layout a tab's new count asks for may paint one line
        painted.clear()
        engine.change(top[3], last_synced_at="2026-07-01T08:00:00")  # on screen: painted
        app.drain()
        await pilot.pause()
        assert 1 + 3 in painted  # below the header


async def test_text_that_narrows_the_filter_searches_only_the_rows_shown() -> None:
    app = app_for(FakeEngine(many_records()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        synced = app.dashboard.table(Status.SYNCED)
        await filter_rows(pilot, "vpn")
        shown = set(synced.shown_rows.records)
        searched: list[int] = []
        search = synced.shown_rows.search

        def counted(ids: list[int], words: Any) -> tuple[list[int], set[int]]:
            searched.extend(ids)
            return search(ids, words)

        synced.shown_rows.search = counted  # type: ignore[method-assign]
        await press_one_by_one(pilot, "slash", "end", *" setup", "enter")
        await pilot.pause()
        assert synced.filter_text == "vpn setup"
        assert searched and set(searched) <= shown  # each key searched the rows "vpn" left
        assert len(shown) < ROWS


async def test_a_tick_of_failures_updates_the_logs_count_once() -> None:
    engine = FakeEngine(many_records())
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        log = app.dashboard.event_log
        counted: list[str] = []
        show_position = log.show_position

        def spy() -> None:
            counted.append("position")
            show_position()

        log.show_position = spy  # type: ignore[method-assign]
        fail(engine, range(1, 51))
        app.drain()
        await pilot.pause()
        assert counted == ["position"]
        assert "50 entries" in str(log.border_subtitle)


async def test_a_log_never_shown_makes_no_lines_and_shows_each_kept_entry_once() -> None:
    """Entries that come while the Log tab has never been shown are kept as text only (the
    last `log_max_lines`); showing the tab writes each of those once."""
    engine = FakeEngine(many_records())
    app = make_app(
        engine, clock=MockClock(), autostart=False, settings=TuiSettings(log_max_lines=30)
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        log = app.dashboard.event_log
        fail(engine, range(1, 81))
        app.drain()
        await pilot.pause()
        assert not log.lines and "30 entries" in str(log.border_subtitle)
        await pilot.press("5")
        await pilot.pause()
        shown = failures_shown(app)
        assert shown and len(shown) == len(set(shown))  # each once (the log keeps 30 lines)
        assert shown[-1] == "80" and int(shown[0]) > 50  # the last ones


async def test_the_log_writes_its_last_entries_once_and_then_only_what_came_while_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Showing the Log tab wrote every entry again each time (~2 ms an entry: 7 s with 4,000);
    now the last `WRITTEN_AT_ONCE` are written the first time, and then only new ones."""
    monkeypatch.setattr(event_log, "WRITTEN_AT_ONCE", 10)
    engine = FakeEngine(many_records())
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        log = app.dashboard.event_log
        fail(engine, range(1, 31))
        app.drain()
        await pilot.press("5")
        await pilot.pause()
        assert failures_shown(app) == [str(n) for n in range(21, 31)]
        assert "the last 10 shown" in str(log.border_subtitle)
        await press_one_by_one(pilot, "1")
        fail(engine, range(31, 34))
        app.drain()
        await press_one_by_one(pilot, "5")
        await pilot.pause()
        # the 10 written before, then the 3 that came while hidden (not the last 10 of 33)
        assert failures_shown(app) == [str(n) for n in range(21, 34)]


def fail(engine: FakeEngine, hudu_ids: Iterable[int]) -> None:
    """Halo refuses each of these articles (a 500)."""
    for hudu_id in hudu_ids:
        engine.change(hudu_id, status=Status.FAILED, error="Halo 500", http_status=500)


def failures_shown(app: Any) -> list[str]:
    """The Hudu ids of the failures the Log tab shows, in order."""
    return re.findall(r"” #(\d+) \(", log_text(app))


async def test_what_the_first_paint_made_leaves_the_collectors_sight_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Full collections walk every object not frozen: the caches of the first paint made one
    stall a tick by ~60 ms at 50,000 rows. While the app runs, Python's own full collections
    are held back (`tui.collector` makes them on a quiet timer)."""
    freezes: list[bool] = []
    painted: list[bool] = []
    freeze = gc.freeze

    def counted() -> None:
        freezes.append(bool(painted))
        freeze()

    monkeypatch.setattr(gc, "freeze", counted)
    render_line = ArticleTable.render_line

    def spy(table: ArticleTable, y: int) -> Any:
        painted.append(True)
        return render_line(table, y)

    monkeypatch.setattr(ArticleTable, "render_line", spy)  # from before the first paint
    thresholds = gc.get_threshold()
    app = app_for(FakeEngine(many_records()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert gc.isenabled() and gc.get_threshold()[2] == FULL_COLLECTIONS_HELD_BACK
    assert freezes == [False, True]
    assert gc.get_threshold() == thresholds  # the process's, given back


async def test_clearing_a_filter_keeps_the_cursors_article_on_screen() -> None:
    """The keys act on the cursor's row: after esc it is one the user sees, not one scrolled
    off the screen."""
    app = app_for(FakeEngine(many_records()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        synced = app.dashboard.table(Status.SYNCED)
        await filter_rows(pilot, "vpn")
        await press_one_by_one(pilot, "end")
        await pilot.pause()
        chosen = synced.cursor_id
        assert chosen is not None and synced.cursor_coordinate.row > SHOWN
        await press_one_by_one(pilot, "slash", "escape")
        await pilot.pause()

        assert synced.filter_text == "" and synced.cursor_id == chosen
        assert chosen in synced.shown_ids()
