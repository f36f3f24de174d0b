"""The Textual internals `tui/textual_private.py` relies on are still there and still behave.

When one of these fails after a Textual upgrade, its message names what changed: adapt
`tui/textual_private.py`, the only module of the dashboard that touches Textual's private API.
"""

from __future__ import annotations

import inspect
from typing import Any

import textual
from rich.text import Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from tui.textual_private import (
    DATA_TABLE_ATTRIBUTES,
    DATA_TABLE_HOOKS,
    DATA_TABLE_PROPERTIES,
    TAB_ATTRIBUTES,
    VirtualDataTable,
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
    changed = [p for p in DATA_TABLE_PROPERTIES if not isinstance(getattr(DataTable, p), property)]
    assert not changed, f"{CHANGED}: DataTable.{', '.join(changed)} no longer a property"
    assert "_update_dimensions" in inspect.getsource(DataTable._on_idle), (
        f"{CHANGED}: DataTable._on_idle no longer calls _update_dimensions"
    )


def test_a_tab_still_keeps_its_label_in_a_private_attribute() -> None:
    from textual.widgets import Tab

    tab = Tab("Synced 10")
    missing = [name for name in TAB_ATTRIBUTES if not hasattr(tab, name)]
    assert not missing, f"{CHANGED}: Tab instances have no {', '.join(missing)}"
    assert tab.label is tab._label, f"{CHANGED}: Tab.label no longer reads Tab._label"


class ListRows:
    """A `RowSource` over a list of keys; a row's cells are its key and `row <key>`."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.asked: list[str] = []

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def key_at(self, index: int) -> str:
        return self.keys[index]

    def index_of(self, key: str) -> int:
        return self.keys.index(key)

    def cells(self, key: str) -> tuple[Text, Text]:
        self.asked.append(key)
        return Text(key), Text(f"row {key}")


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield VirtualDataTable()


async def test_a_virtual_table_shows_its_source_and_asks_only_for_the_rows_it_paints() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(VirtualDataTable)
        calls: list[Any] = []
        hook = table._update_dimensions

        def spy(new_rows: Any) -> None:
            calls.append(new_rows)
            hook(new_rows)

        table._update_dimensions = spy  # type: ignore[method-assign]
        table.add_column("Id", width=6, key="id")
        table.add_column("Name", width=10, key="name")
        await pilot.pause()
        assert calls, f"{CHANGED}: DataTable no longer calls _update_dimensions for new rows"
        source = ListRows([str(n) for n in range(1000)])
        table.attach(source)
        table.rows_changed()
        await pilot.pause()
        assert table.virtual_size.height == 1001  # the rows and the header
        assert 0 < len(set(source.asked)) <= 12, f"{CHANGED}: cells asked for rows not painted"
        assert str(table.get_cell("7", "name")) == "row 7"
        assert table.get_row_index("7") == 7
        assert [row.key.value for row in table.ordered_rows[3:6]] == ["3", "4", "5"]
        assert table.coordinate_to_cell_key(Coordinate(9, 1)).row_key == RowKey("9")
        table.move_cursor(row=500)
        await pilot.pause()
        assert table.scroll_y > 400, f"{CHANGED}: the cursor's row is not scrolled into view"
        source.keys[500:] = []  # rows went: the cursor is clamped to the last one
        table.rows_changed()
        await pilot.pause()
        assert table.cursor_coordinate.row == 499
        assert table.virtual_size.height == 501
        painted = [strip.text for strip in table.render_lines(table.size.region)]
        assert any("row 499" in line for line in painted)
        table.clear()  # back to the top; the rows are the source's and stay
        assert table.cursor_coordinate.row == 0 and table.row_count == 500
