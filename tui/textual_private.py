"""Every use of Textual's private API, in one module (Textual is pinned in pyproject.toml).

Two things the dashboard needs that Textual offers no public way to do:

- `FixedLayoutDataTable`: a `DataTable` whose columns have fixed widths and whose rows are one
  line each. It overrides the private hook `_update_dimensions` (run on idle with the rows added
  since): the stock one measures every cell of every new row, most of the first paint with
  10,000 articles, while with fixed widths the virtual size follows from the row count. It adds
  many rows with one cursor update (`add_rows_at_once`): the stock `add_row` re-assigns the
  cursor for each row, running its validators and watchers, half of what is left of that first
  paint. And it removes many rows with one rebuild of the row index (`remove_row_keys`): the
  stock `remove_row` rebuilds it once per row, which turns a tick that moves thousands of rows
  out of a table into seconds. It sorts by row key (`sort_by_row_key`) without handing every
  row's cells to the key, and replaces a column's cells in many rows with one refresh
  (`replace_cells`: marking 10,000 rows).
- `bound_unrendered_writes`: until a `RichLog` has a size (the Log tab before it is first shown)
  it keeps every write in an unbounded private deque; a dashboard left open for days would grow
  and then stall when the tab is opened.

`tests/tui/test_textual_private.py` checks every name listed below against the installed
Textual and says which one changed. After a Textual upgrade, only this module needs adapting.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import textual
from rich.text import Text
from textual.geometry import Size
from textual.widgets import DataTable, RichLog
from textual.widgets.data_table import ColumnKey, DuplicateKey, Row, RowKey

try:
    from textual._two_way_dict import TwoWayDict
except ImportError as error:  # pragma: no cover - only after a Textual upgrade
    raise ImportError(
        f"Textual {textual.__version__} has no textual._two_way_dict.TwoWayDict, which "
        "tui/textual_private.py uses to rebuild a DataTable's row index: adapt that module"
    ) from error

DATA_TABLE_ATTRIBUTES = (
    "_row_locations",
    "_data",
    "_new_rows",
    "_updated_cells",
    "_require_update_dimensions",
    "_update_count",
)
"""Private `DataTable` instance attributes `add_rows_at_once`, `remove_row_keys`,
`replace_cells` and `sort_by_row_key` read or write."""
DATA_TABLE_HOOKS = ("_update_dimensions", "_on_idle", "_highlight_cursor")
"""Private `DataTable` methods: the one overridden, the one that calls it, and the one
`add_rows_at_once` calls as `add_row` does."""
RICH_LOG_ATTRIBUTES = ("_deferred_renders",)
"""Private `RichLog` instance attributes `bound_unrendered_writes` replaces."""


class FixedLayoutDataTable(DataTable[Text]):
    """A `DataTable` with fixed column widths and one-line rows, which can drop many rows at
    once. Subclasses must keep every column's width fixed (`add_column(width=...)`)."""

    def fit_virtual_size(self) -> None:
        """Size the scrollable area from the row count and the fixed column widths."""
        header_height = self.header_height if self.show_header else 0
        width = sum(column.get_render_width(self) for column in self.columns.values())
        self.virtual_size = Size(width, self.row_count + header_height)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Replaces the stock method: no cell needs measuring (see the module docstring)."""
        self.fit_virtual_size()

    def add_rows_at_once(self, rows: Iterable[tuple[str, Sequence[Text]]]) -> None:
        """Add one-line rows (key, cells) at the bottom, as `add_row` does for each, with one
        cursor update and one refresh for all."""
        was_empty = not self.rows
        before = len(self.rows)
        column_keys = [column.key for column in self.ordered_columns]
        locations, data = self._row_locations, self._data
        for key, cells in rows:
            row_key = RowKey(key)
            if row_key in locations:
                raise DuplicateKey(f"The row key {row_key!r} already exists.")
            locations[row_key] = len(self.rows)
            data[row_key] = dict(zip(column_keys, cells, strict=True))
            self.rows[row_key] = Row(row_key, 1)
            self._new_rows.add(row_key)
        if len(self.rows) == before:
            return
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if was_empty and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self._update_count += 1
        self.check_idle()

    def sort_by_row_key(self, key: Callable[[RowKey], Any], *, reverse: bool = False) -> None:
        """`sort`, with the key computed from the row key alone: the stock one hands the key
        every row's cells, three times slower on 10,000 rows."""
        ordered = sorted(self._data, key=key, reverse=reverse)
        self._row_locations = TwoWayDict({row_key: n for n, row_key in enumerate(ordered)})
        self._update_count += 1
        self.refresh()

    def replace_cells(self, column: str, cells: dict[str, Text]) -> None:
        """`update_cell` for many rows of one column (row key → cell), with one refresh: the
        stock one bumps the update count and refreshes per cell. Widths stay as they are."""
        if not cells:
            return
        data, column_key = self._data, ColumnKey(column)
        for key, cell in cells.items():
            data[RowKey(key)][column_key] = cell
        self._update_count += 1
        self.refresh()

    def remove_row_keys(self, keys: set[RowKey]) -> None:
        """Remove the rows of `keys` (all present) with one re-index instead of one per row."""
        if not keys:
            return
        for key in keys:
            del self.rows[key]
            del self._data[key]
            self._new_rows.discard(key)
        locations = self._row_locations
        survivors = sorted((locations.get(key), key) for key in locations if key not in keys)
        self._row_locations = TwoWayDict(
            {key: position for position, (_, key) in enumerate(survivors)}
        )
        self._updated_cells = {cell for cell in self._updated_cells if cell.row_key not in keys}
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate  # clamp it, as `remove_row` does
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=True)
        self.check_idle()


def bound_unrendered_writes(log: RichLog, max_writes: int) -> None:
    """Keep at most the last `max_writes` writes a `RichLog` holds back until it has a size."""
    log._deferred_renders = deque(log._deferred_renders, maxlen=max_writes)
