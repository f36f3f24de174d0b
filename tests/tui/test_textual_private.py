"""The Textual internals `tui/textual_private.py` relies on are still there and still behave.

When one of these fails after a Textual upgrade, its message names what changed: adapt
`tui/textual_private.py`, the only module of the dashboard that touches Textual's private API.
"""

from __future__ import annotations

import inspect
from collections import deque
from typing import Any

import pytest
import textual
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, RichLog
from textual.widgets.data_table import DuplicateKey, RowKey

from tui.textual_private import (
    DATA_TABLE_ATTRIBUTES,
    DATA_TABLE_HOOKS,
    RICH_LOG_ATTRIBUTES,
    FixedLayoutDataTable,
    bound_unrendered_writes,
)

CHANGED = f"Textual {textual.__version__} changed what tui/textual_private.py relies on"


def test_data_table_still_has_the_private_attributes_it_uses() -> None:
    table: DataTable[Text] = DataTable()
    missing = [name for name in DATA_TABLE_ATTRIBUTES if not hasattr(table, name)]
    assert not missing, f"{CHANGED}: DataTable instances have no {', '.join(missing)}"


def test_data_table_still_has_the_hook_it_overrides() -> None:
    missing = [name for name in DATA_TABLE_HOOKS if not callable(getattr(DataTable, name, None))]
    assert not missing, f"{CHANGED}: DataTable has no method {', '.join(missing)}"
    parameters = list(inspect.signature(DataTable._update_dimensions).parameters)
    assert parameters == ["self", "new_rows"], (
        f"{CHANGED}: DataTable._update_dimensions now takes {parameters}"
    )
    assert "_update_dimensions" in inspect.getsource(DataTable._on_idle), (
        f"{CHANGED}: DataTable._on_idle no longer calls _update_dimensions"
    )


def test_rich_log_still_holds_back_writes_in_a_deque() -> None:
    log = RichLog()
    for name in RICH_LOG_ATTRIBUTES:
        assert isinstance(getattr(log, name, None), deque), (
            f"{CHANGED}: RichLog.{name} is no longer a deque"
        )
    bound_unrendered_writes(log, 5)
    for n in range(20):
        log.write(f"line {n}")  # no size yet: held back
    held = log._deferred_renders
    assert len(held) == 5, f"{CHANGED}: RichLog no longer holds writes back in _deferred_renders"


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield FixedLayoutDataTable()


async def test_fixed_layout_table_is_sized_by_its_hook_and_drops_many_rows_at_once() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(FixedLayoutDataTable)
        calls: list[Any] = []
        hook = table._update_dimensions

        def spy(new_rows: Any) -> None:
            calls.append(new_rows)
            hook(new_rows)

        table._update_dimensions = spy  # type: ignore[method-assign]
        table.add_column("Id", width=6, key="id")
        for n in range(10):
            table.add_row(Text(str(n)), key=str(n))
        await pilot.pause()
        assert calls, f"{CHANGED}: DataTable no longer calls _update_dimensions for new rows"
        assert table.virtual_size.height == 11  # ten rows and the header
        table.move_cursor(row=9)
        table.remove_row_keys({RowKey("2"), RowKey("5"), RowKey("9")})
        await pilot.pause()
        order = [row.key.value for row in table.ordered_rows]
        assert order == ["0", "1", "3", "4", "6", "7", "8"], f"{CHANGED}: rows after removal"
        assert table.get_row_index("6") == 4
        assert table.cursor_coordinate.row == 6  # clamped to the last row
        assert table.virtual_size.height == 8
        table.add_row(Text("10"), key="10")  # the index still works for Textual's own calls
        table.update_cell("10", "id", Text("ten"))
        await pilot.pause()
        assert table.get_row_index("10") == 7
        assert str(table.get_cell("10", "id")) == "ten"


async def test_rows_added_at_once_are_what_add_row_makes() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(FixedLayoutDataTable)
        table.add_column("Id", width=6, key="id")
        table.add_column("Name", width=10, key="name")
        table.add_rows_at_once((str(n), (Text(str(n)), Text(f"row {n}"))) for n in range(10))
        table.add_rows_at_once([])
        await pilot.pause()
        assert [row.key.value for row in table.ordered_rows] == [str(n) for n in range(10)]
        assert table.get_row_index("7") == 7
        assert str(table.get_cell("7", "name")) == "row 7"
        assert table.virtual_size.height == 11, f"{CHANGED}: rows added at once are not sized"
        assert table.cursor_coordinate.row == 0
        table.add_row(Text("10"), Text("row 10"), key="10")  # Textual's own calls still work
        table.update_cell("10", "name", Text("ten"))
        table.move_cursor(row=10)
        await pilot.pause()
        assert str(table.get_cell("10", "name")) == "ten"
        assert table.cursor_coordinate.row == 10
        with pytest.raises(DuplicateKey):
            table.add_rows_at_once([("3", (Text("3"), Text("again")))])


def test_the_footer_still_builds_its_keys_as_footer_key_widgets_naming_their_action() -> None:
    from textual.widgets._footer import FooterKey

    key = FooterKey("q", "q", "Quit", "quit")
    assert key.action == "quit", f"{CHANGED}: FooterKey no longer keeps its action"
    source = inspect.getsource(Footer.compose)
    assert "FooterKey(" in source, f"{CHANGED}: Footer.compose no longer yields FooterKey widgets"
