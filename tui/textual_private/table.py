"""`VirtualDataTable`: Textual's `DataTable` reading one-line rows from a `RowSource` (see the
package's docstring)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Self

from rich.console import RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from tui.cell_line import cell_segments, one_line_text
from tui.textual_private.rows import (
    NoRows,
    RowSource,
    _Cells,
    _OrderedRows,
    _Positions,
    _Rows,
)

DATA_TABLE_ATTRIBUTES = (
    "rows",
    "_row_locations",
    "_data",
    "_update_count",
    "_line_cache",
    "_column_locations",
    "_cell_render_cache",
    "_show_hover_cursor",
)
"""Private (or internal) `DataTable` instance attributes `VirtualDataTable` replaces or bumps."""
DATA_TABLE_HOOKS = (
    "_update_dimensions",
    "_on_idle",
    "_get_offsets",
    "_get_row_region",
    "_highlight_cursor",
    "_clear_caches",
    "_render_cell",
    "_get_styles_to_render_cell",
    "_scroll_update",
)
"""Private `DataTable` methods: the ones overridden, the one that calls `_update_dimensions`,
and the ones `VirtualDataTable` calls."""
DATA_TABLE_PROPERTIES = ("ordered_rows", "_total_row_height")
"""`DataTable` properties `VirtualDataTable` overrides (they walk every row)."""


_PaintedRow = tuple[list[list[Segment]], list[list[Segment]]]
"""A row's fixed cells and scrollable cells, each a list of segments."""


class VirtualDataTable(DataTable[RenderableType]):
    """A `DataTable` of one-line rows read from a `RowSource`, with fixed column widths (every
    `add_column` needs `width=`). After the source changes, call `rows_changed`; rows are never
    added or removed through the table (`add_row`, `remove_row`)."""

    _source: RowSource = NoRows()

    def __init__(self, **kwargs: Any) -> None:
        self._rows_painted: LRUCache[Hashable, _PaintedRow] = LRUCache(1000)
        """Body rows painted, by row and whether the cursor or the mouse is on it (made first:
        the stock `__init__` clears the caches)."""
        super().__init__(**kwargs)
        self._rows_known = 0
        """The row count when `rows_changed` last ran."""
        self.attach(NoRows())

    def attach(self, source: RowSource) -> None:
        """Show the rows of `source` (instead of the table's own)."""
        self._source = source
        self.rows = _Rows(source)  # type: ignore[assignment]
        self._data = _Cells(source, self)  # type: ignore[assignment]
        self._row_locations = _Positions(source)  # type: ignore[assignment]

    def rows_changed(self, *, repaint: bool = True) -> None:
        """The source changed (rows came, went, moved or show other cells): forget what was
        painted, size the scrollable area, keep the cursor on a row; paint the rows shown
        again unless `repaint` is False (the caller knows none of them changed)."""
        was_empty, self._rows_known = not self._rows_known, len(self._source)
        self._update_count += 1
        # What was painted is kept by the update count: none of it can be asked for again.
        # Dropped now, not as newer rows push it out, it is no work for the garbage collector.
        self._rows_painted.clear()
        self._line_cache.clear()
        self.fit_virtual_size()
        self.cursor_coordinate = self.cursor_coordinate  # clamped to the rows there are
        self.hover_coordinate = self.hover_coordinate
        shows_cursor = self.show_cursor and self.cursor_type != "none"
        if was_empty and self.row_count and self.columns and shows_cursor:
            self._highlight_cursor()
        if repaint:
            self.refresh()

    def clear(self, columns: bool = False) -> Self:
        """Back to the top, and without columns if asked: the rows are the source's and stay."""
        source = self._source
        self.attach(NoRows())
        super().clear(columns)
        self.attach(source)
        self.rows_changed()
        return self

    def set_columns(self, columns: Sequence[tuple[Text, int, str]]) -> None:
        """Replace the columns with (label, width, key); the rows stay, the cursor goes to the
        top (as `clear(columns=True)` does)."""
        source = self._source
        self.attach(NoRows())
        super().clear(columns=True)
        for label, width, key in columns:
            self.add_column(label, width=width, key=key)
        self.attach(source)
        self.rows_changed()

    def repaint_cells(self) -> None:
        """Paint the rows shown again from their cells (a cell whose text depends on the time
        makes it again): the stock table keeps what it painted until a cell is updated."""
        self._clear_caches()
        self.refresh()

    def fit_virtual_size(self) -> None:
        """Size the scrollable area from the row count and the fixed column widths. A new row
        count that leaves the scrollbars as they were is set without the layout pass of the
        whole screen that `virtual_size` asks for (a filter keystroke, a tick), when the
        table's height does not follow its rows: only the scrollbar is sized again."""
        header_height = self.header_height if self.show_header else 0
        width = sum(column.get_render_width(self) for column in self.columns.values())
        size = Size(width, self.row_count + header_height)
        old = self.virtual_size
        if size == old:
            return
        if self.styles.auto_dimensions or size.width != old.width:
            self.virtual_size = size  # the table's own size may change
            return
        if not self.size:  # not laid out yet (a tab not shown yet): its first layout sizes it
            self.set_reactive(VirtualDataTable.virtual_size, size)
            return
        bars = (self.show_vertical_scrollbar, self.show_horizontal_scrollbar)
        self.set_reactive(VirtualDataTable.virtual_size, size)
        self._scroll_update(size)
        if (self.show_vertical_scrollbar, self.show_horizontal_scrollbar) != bars:
            self.refresh(layout=True)  # a scrollbar came or went: the rows' width changes

    _style_in_paint: Style | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        """The stock method, the table's style worked out once, not again for each line."""
        self._style_in_paint = None
        self._style_in_paint = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._style_in_paint = None

    @property
    def rich_style(self) -> Style:
        style = self._style_in_paint
        return style if style is not None else super().rich_style

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> _PaintedRow:
        """Replaces the stock method for a body row under a row cursor: the styles the stock one
        works out for each cell are worked out once a row, and the row is kept by whether the
        cursor or the mouse is on it, not by where they are (a cursor move paints two rows),
        and by the styles it is painted with, not by the focus (a table that looks the same
        with or without it is not painted again when the focus comes or goes)."""
        value = row_key.value
        if (
            value is None
            or self.cursor_type != "row"
            or self.fixed_columns
            or (self._labelled_row_exists and self.show_row_labels)
            or value not in self._source
        ):
            return super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
        row_index = self._source.index_of(value)
        cursor = row_index == cursor_location.row
        hover = row_index == hover_location.row
        show_cursor, show_hover = self.show_cursor, self._show_hover_cursor
        row_style = self._get_row_style(row_index, base_style)
        component_style, post_style = self._body_cell_styles(hover, cursor)
        key = (
            row_key,
            line_no,
            row_style,
            component_style,
            post_style,
            cursor,
            hover,
            show_cursor,
            show_hover,
            self._update_count,
        )
        cache = self._rows_painted
        painted = cache.get(key)
        if painted is not None:
            return painted
        cells = self._source.cells(value)
        console, padding = self.app.console, self.cell_padding
        under = row_style + component_style  # + a cell's meta: as the stock order, having none
        row: list[list[Segment]] = []
        table_width = self._row_label_column_width
        for column_index, column in enumerate(self.ordered_columns):
            width = column.get_render_width(self)
            table_width += width
            text = one_line_text(cells[column_index])
            if text is None or width <= 2 * padding:
                lines = super()._render_cell(
                    row_index, column_index, row_style, width, cursor, hover
                )
                row.append(lines[line_no])
                continue
            pre_style = under + Style.from_meta({"row": row_index, "column": column_index})
            row.append(cell_segments(console, text, width, padding, pre_style, post_style))
        extend_style, _ = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, show_cursor, show_hover, False, False
        )
        extend_style = row_style + extend_style
        extend_style += Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        row.append([Segment(" " * max(0, self.size.width - table_width), extend_style)])
        cache[key] = painted = ([], row)
        return painted

    def _body_cell_styles(self, hover: bool, cursor: bool) -> tuple[Style, Style]:
        """A body cell's component and post styles, by Textual's own rule."""
        return self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """Replaces the stock method for a body cell of one line of text (the same segments,
        cached under the same key); a header or a cell of another kind goes the stock way."""
        if row_index < max(self.fixed_rows, 0) or column_index < max(self.fixed_columns, 0):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or row_key.value is None or column_key is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cache = self._cell_render_cache
        lines = cache.get(key)
        if lines is not None:
            return lines
        text = one_line_text(self._source.cells(row_key.value)[column_index])
        if text is None or width <= 2 * self.cell_padding:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._body_cell_styles(hover, cursor)
        meta = Style.from_meta({"row": row_index, "column": column_index})
        pre_style = base_style + meta + component_style
        segments = cell_segments(
            self.app.console, text, width, self.cell_padding, pre_style, post_style
        )
        cache[key] = lines = [segments]
        return lines

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._rows_painted.clear()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Replaces the stock method, which measures every cell of every new row."""
        self.fit_virtual_size()

    @property
    def ordered_rows(self) -> _OrderedRows:  # type: ignore[override]
        return _OrderedRows(self._source, range(len(self._source)))

    @property
    def _total_row_height(self) -> int:
        return len(self._source)

    def _get_offsets(self, y: int) -> tuple[RowKey, int]:
        """Replaces the stock method, which lists every line of every row once per change."""
        if self.show_header:
            if y < self.header_height:
                return self._header_row_key, y
            y -= self.header_height
        if not 0 <= y < len(self._source):
            raise LookupError(f"Y coord {y!r} is greater than total height")
        return RowKey(self._source.key_at(y)), 0

    def _get_row_region(self, row_index: int) -> Region:
        """Replaces the stock method, which adds up the height of every row above."""
        if not self.is_valid_row_index(row_index):
            return Region(0, 0, 0, 0)
        width = sum(column.get_render_width(self) for column in self.columns.values())
        y = row_index + (self.header_height if self.show_header else 0)
        return Region(0, y, max(self.size.width, width), 1)
