"""Every use of Textual's private API, in one module (Textual is pinned in pyproject.toml).

Two things the dashboard needs that Textual offers no public way to do:

- `VirtualDataTable`: a `DataTable` whose rows are one line each, with fixed column widths, and
  come from a `RowSource` (`attach`): the table asks it for the row at a position, the position
  of a row and a row's cells, only for the rows it paints. The stock table keeps a `Row`, a key
  and every cell of every row in its own dicts and walks them all on each change (its line
  offsets, its ordered rows, its row index): 50,000 articles cost seconds to add and a
  re-index per tick. Its `rows`, `_data` and `_row_locations` are replaced by views of the
  source, and the private hooks that walk every row (`_update_dimensions`, `_get_offsets`,
  `_get_row_region`, `ordered_rows`) by ones that go straight to a position. Its
  `_render_cell` paints a cell of one line of text itself (`tui.cell_line`), a fifth of the
  stock cost, which a screen of rows repainted on each tick or keystroke adds up to.
- `KeyFooter`: Textual's footer with the keys of some actions (help, quit) docked at its right
  end, so a narrow terminal cuts the others; it marks the footer's private `FooterKey` widgets.
- `relabel`: a tab's label set without the layout pass `Tab.label` asks for, when it is as
  wide as before (the count of a status tab changes on most ticks).
- `bound_unrendered_writes`: until a `RichLog` has a size (the Log tab before it is first shown)
  it keeps every write in an unbounded private deque; a dashboard left open for days would grow
  and then stall when the tab is opened.

`tests/tui/test_textual_private.py` checks every name listed below against the installed
Textual and says which one changed. After a Textual upgrade, only this module needs adapting.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, Self, overload

from rich.cells import cell_len
from rich.console import RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.geometry import Region, Size
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import DataTable, Footer, RichLog, Static, Tab
from textual.widgets._footer import FooterKey
from textual.widgets.data_table import ColumnKey, Row, RowKey

from tui.cell_line import cell_segments, one_line_text

DATA_TABLE_ATTRIBUTES = (
    "rows",
    "_row_locations",
    "_data",
    "_update_count",
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
)
"""Private `DataTable` methods: the ones overridden, the one that calls `_update_dimensions`,
and the ones `VirtualDataTable` calls."""
DATA_TABLE_PROPERTIES = ("ordered_rows", "_total_row_height")
"""`DataTable` properties `VirtualDataTable` overrides (they walk every row)."""
TAB_ATTRIBUTES = ("_label",)
"""Private `Tab` instance attributes `relabel` sets."""
RICH_LOG_ATTRIBUTES = ("_deferred_renders",)
"""Private `RichLog` instance attributes `bound_unrendered_writes` replaces."""


class RowSource(Protocol):
    """The rows a `VirtualDataTable` shows, in order, by key (a string)."""

    def __len__(self) -> int: ...

    def __contains__(self, key: object) -> bool: ...

    def key_at(self, index: int) -> str: ...

    def index_of(self, key: str) -> int:
        """The position of a row that is there (`key in source`)."""
        ...

    def cells(self, key: str) -> Sequence[RenderableType]:
        """The cells of a row that is there, one per column of the table, in order."""
        ...


class NoRows:
    """A source with no rows (a table before `attach`, and while its columns change)."""

    def __len__(self) -> int:
        return 0

    def __contains__(self, key: object) -> bool:
        return False

    def key_at(self, index: int) -> str:
        raise IndexError(index)

    def index_of(self, key: str) -> int:
        raise KeyError(key)

    def cells(self, key: str) -> Sequence[RenderableType]:
        raise KeyError(key)


def _value(key: object) -> str | None:
    return key.value if isinstance(key, RowKey) else key if isinstance(key, str) else None


class _SourceKeys:
    """The row keys of a source, as the stand-ins below all answer for them."""

    source: RowSource

    def __contains__(self, key: object) -> bool:
        value = _value(key)
        return value is not None and value in self.source

    def __len__(self) -> int:
        return len(self.source)

    def __iter__(self) -> Iterator[RowKey]:
        source = self.source
        return (RowKey(source.key_at(index)) for index in range(len(source)))

    def _known(self, key: RowKey | str) -> str:
        value = _value(key)
        if value is None or value not in self.source:
            raise KeyError(key)
        return value


class _Rows(_SourceKeys, Mapping[RowKey, Row]):
    """Stands for `DataTable.rows` (row key → `Row`): every row is one line."""

    def __init__(self, source: RowSource) -> None:
        self.source = source

    def __getitem__(self, key: RowKey | str) -> Row:
        return Row(RowKey(self._known(key)), 1)

    def clear(self) -> None:
        """Nothing to drop: the rows are the source's."""


class _Cells(_SourceKeys, Mapping[RowKey, dict[ColumnKey, RenderableType]]):
    """Stands for `DataTable._data` (row key → column key → cell), made from the source when
    asked for: only the rows painted have their cells made."""

    def __init__(self, source: RowSource, table: DataTable[RenderableType]) -> None:
        self.source = source
        self.table = table

    def __getitem__(self, key: RowKey | str) -> dict[ColumnKey, RenderableType]:
        value = self._known(key)
        columns = [column.key for column in self.table.ordered_columns]
        return dict(zip(columns, self.source.cells(value), strict=True))

    def clear(self) -> None:
        """Nothing to drop: the cells are the source's."""


class _Positions(_SourceKeys):
    """Stands for `DataTable._row_locations` (a two-way row key ↔ position dict)."""

    def __init__(self, source: RowSource) -> None:
        self.source = source

    def get(self, key: RowKey) -> int | None:
        value = _value(key)
        return self.source.index_of(value) if value is not None and value in self.source else None

    def get_key(self, index: int) -> RowKey | None:
        return RowKey(self.source.key_at(index)) if 0 <= index < len(self.source) else None

    def contains_value(self, index: int) -> bool:
        return 0 <= index < len(self.source)


class _OrderedRows(Sequence[Row]):
    """Stands for `DataTable.ordered_rows`: positions `span` of the source, made when read."""

    def __init__(self, source: RowSource, span: range) -> None:
        self.source = source
        self.span = span

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> _OrderedRows: ...

    def __getitem__(self, index: int | slice) -> Row | _OrderedRows:
        if isinstance(index, slice):
            return _OrderedRows(self.source, self.span[index])
        return Row(RowKey(self.source.key_at(self.span[index])), 1)

    def __len__(self) -> int:
        return len(self.span)


class VirtualDataTable(DataTable[RenderableType]):
    """A `DataTable` of one-line rows read from a `RowSource`, with fixed column widths (every
    `add_column` needs `width=`). After the source changes, call `rows_changed`; rows are never
    added or removed through the table (`add_row`, `remove_row`)."""

    _source: RowSource = NoRows()

    def __init__(self, **kwargs: Any) -> None:
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
        """Size the scrollable area from the row count and the fixed column widths."""
        header_height = self.header_height if self.show_header else 0
        width = sum(column.get_render_width(self) for column in self.columns.values())
        self.virtual_size = Size(width, self.row_count + header_height)

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
        component_style, post_style = self._get_styles_to_render_cell(
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
        meta = Style.from_meta({"row": row_index, "column": column_index})
        pre_style = base_style + meta + component_style
        segments = cell_segments(
            self.app.console, text, width, self.cell_padding, pre_style, post_style
        )
        cache[key] = lines = [segments]
        return lines

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


class KeyFooter(Footer):
    """The footer, with the keys of `PINNED` kept together at the right end, made again only
    when its keys change (the stock one is, ~30 ms, each time the app refreshes its bindings)."""

    PINNED = ("help", "quit")
    DEFAULT_CSS = """
    KeyFooter #pinned-keys {
        dock: right;
        width: auto;
        height: 1;
    }
    """

    _composed_keys: tuple[object, ...] | None = None

    def _keys_shown(self) -> tuple[object, ...]:
        return tuple(
            (b.key, b.key_display, b.description, b.action, b.group, b.show, enabled, tooltip)
            for _, b, enabled, tooltip in self.screen.active_bindings.values()
        )

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if (
            self._composed_keys is not None
            and screen is self.screen
            and self._keys_shown() == self._composed_keys
        ):
            return
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        self._composed_keys = self._keys_shown() if widgets else None
        pinned: dict[str, FooterKey] = {}
        for widget in widgets:
            if isinstance(widget, FooterKey) and widget.action in self.PINNED:
                pinned[widget.action] = widget
            else:
                yield widget
        keys = [pinned[action] for action in self.PINNED if action in pinned]
        if keys:
            yield Horizontal(*keys, id="pinned-keys")


def relabel(tab: Tab, label: str) -> None:
    """Give `tab` a new label; one as wide as before is painted again without the layout pass of
    the whole screen that `Tab.label` asks for (~10 ms a tick)."""
    if tab.label.cell_length != cell_len(label):
        tab.label = label
        return
    tab._label = Content.from_text(label)
    Static.update(tab, tab._label, layout=False)


def bound_unrendered_writes(log: RichLog, max_writes: int) -> None:
    """Keep at most the last `max_writes` writes a `RichLog` holds back until it has a size."""
    log._deferred_renders = deque(log._deferred_renders, maxlen=max_writes)
