"""One status table (Synced, Pending, Skipped or Failed), patched in place tick by tick.

Rows are keyed by the Hudu id and kept in the table's `SortOrder` (scope, then title, until
the user picks a column). Marked rows carry a marker before their title. A tick only touches what
changed: cells that differ are updated, new rows are added, and rows that left go in one bulk
removal (the stock `DataTable.remove_row` re-indexes every row per call). A table that is not
shown is sorted when it is next shown (`needs_sort`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.coordinate import Coordinate
from textual.events import Resize
from textual.widgets.data_table import ColumnKey, RowKey

from core.models import ArticleRecord, Status
from tui.bindings import TABLE_BINDINGS
from tui.columns import cells_for, columns_for, filter_words, matches, share_width, title_cell
from tui.sorting import SortKey, SortOrder, key_maker
from tui.textual_private import FixedLayoutDataTable


class ArticleTable(FixedLayoutDataTable):
    """The articles of one status; `status` and the Hudu id of the cursor row say what it is
    showing."""

    BINDINGS: ClassVar[list[BindingType]] = [*TABLE_BINDINGS]

    def __init__(self, status: Status, *, id: str | None = None) -> None:
        super().__init__(
            id=id, cursor_type="row", zebra_stripes=False, cell_padding=1, show_row_labels=False
        )
        self.status = status
        self.specs = columns_for(status)
        self.filter_text = ""
        self._words: list[str] = []
        self._cells: dict[int, tuple[Text, ...]] = {}
        """The cells shown, the mark included."""
        self._order: dict[int, SortKey] = {}
        self.order = SortOrder()
        self._key = key_maker(self.order, status, self.specs)
        self.marked: set[int] = set()
        """Rows marked with space (a row that leaves the table loses its mark)."""
        self._title = next(i for i, spec in enumerate(self.specs) if spec.key == "title")
        self.needs_sort = False
        self._away: tuple[int, int | None] | None = None
        """(article, stand-in): the cursor's article left the table (a resync shows it pending
        while Halo takes it) and the cursor moved to the stand-in row; while it stays there, the
        cursor goes back to the article when it returns."""

    def ensure_columns(self) -> None:
        if self.columns:
            return
        for spec, width in zip(self.specs, share_width(self.specs, 80), strict=True):
            label = Text(self.order.label(spec), justify=spec.justify)
            self.add_column(label, width=width, key=spec.key)

    def on_resize(self, event: Resize) -> None:
        """Share the new width among the columns (Textual's own resize handling follows)."""
        self.ensure_columns()
        available = self.scrollable_content_region.width or self.size.width
        widths = share_width(self.specs, max(available - 1, 40))
        for spec, width in zip(self.specs, widths, strict=True):
            self.columns[ColumnKey(spec.key)].width = width
        self.fit_virtual_size()
        # A smaller table can leave the cursor row below the view: no row would look selected
        # while the keys act on it. Once the new size is laid out, scroll to the cursor.
        self.call_after_refresh(self.show_cursor_row)

    def show_cursor_row(self) -> None:
        """Scroll so that the cursor row is on screen."""
        if self.row_count and self.is_mounted:
            self.move_cursor(row=self.cursor_coordinate.row, scroll=True)

    @property
    def cursor_id(self) -> int | None:
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    # ------------------------------------------------------------------ filling
    def set_filter(self, text: str, records: Iterable[ArticleRecord]) -> None:
        self.filter_text = text
        self._words = filter_words(text)
        self.rebuild(records)

    def rebuild(self, records: Iterable[ArticleRecord]) -> None:
        """Clear and refill from the model (start-up, filter changes)."""
        self.ensure_columns()
        keep = self.cursor_id
        self.clear()
        self._cells.clear()
        self._order.clear()
        self._add_all(r for r in records if matches(r, self._words))
        self.marked &= self._cells.keys()  # a row the filter hides loses its mark
        self.sort_rows()
        self._restore_cursor(keep)
        self.show_position()

    def apply(self, upserts: Iterable[ArticleRecord], removals: set[int]) -> None:
        """Patch the table with one tick's changes for this status."""
        keep = self.cursor_id
        before = self.cursor_coordinate.row
        scrolled = self.scroll_y
        gone = {i for i in removals if i in self._cells}
        new: list[ArticleRecord] = []
        added = False
        for record in upserts:
            hudu_id = record.hudu_id
            if not matches(record, self._words):
                if hudu_id in self._cells:
                    gone.add(hudu_id)
                continue
            gone.discard(hudu_id)
            old = self._cells.get(hudu_id)
            if old is None:
                new.append(record)
                added = True
                continue
            cells = self._shown_cells(record)
            for spec, before_cell, cell in zip(self.specs, old, cells, strict=True):
                if before_cell != cell:
                    self.update_cell(str(hudu_id), spec.key, cell)
            self._cells[hudu_id] = cells
            order = self._key(record, cells)
            if order != self._order[hudu_id]:
                self._order[hudu_id] = order
                added = True
        if gone:
            self.remove_rows(gone)
        self._add_all(new)
        if added:
            self.needs_sort = True
        if self.needs_sort and self.display and self.is_on_screen:
            self.sort_rows()
        if keep is not None and (gone or added):
            self.fit_virtual_size()
            target = self._returning(keep)
            if target == keep and before == 0 and scrolled == 0:
                self._restore_cursor(None)
            else:
                self._restore_cursor(target, fallback=before)
                shift = self.cursor_coordinate.row - before
                if shift:
                    self.scroll_to(y=scrolled + shift, animate=False, immediate=True)
            if keep not in self._cells:
                self._away = (keep, self.cursor_id)
        if gone or new:
            self.show_position()

    def _returning(self, keep: int) -> int:
        """The article the cursor should be on: `keep`, or the one that left from under the
        cursor and is back while the cursor has not moved from its stand-in."""
        if self._away is None:
            return keep
        away, stand_in = self._away
        if stand_in != keep:
            self._away = None  # the user moved on
            return keep
        if away in self._cells:
            self._away = None
            return away
        return keep

    def sort_rows(self) -> None:
        order = self._order
        self.sort_by_row_key(lambda key: order[int(key.value or 0)], reverse=self.order.descending)
        self.needs_sort = False

    def sort_by(self, order: SortOrder, records: Iterable[ArticleRecord]) -> None:
        """Sort by another column or direction; the cursor stays on its article. `records` are
        the table's articles (their keys for the new order)."""
        keep = self.cursor_id
        self.order = order
        self._key = make = key_maker(order, self.status, self.specs)
        cells, keys = self._cells, self._order
        for record in records:
            hudu_id = record.hudu_id
            if hudu_id in cells:
                keys[hudu_id] = make(record, cells[hudu_id])
        for spec in self.specs:
            self.columns[ColumnKey(spec.key)].label = Text(order.label(spec), justify=spec.justify)
        self.sort_rows()
        if keep is not None:
            self.move_cursor(row=self.get_row_index(str(keep)), scroll=True)

    # ------------------------------------------------------------------ marks
    def toggle_mark(self, record: ArticleRecord) -> None:
        if record.hudu_id in self._cells:
            self.set_marks(self.marked ^ {record.hudu_id}, [record])

    def set_marks(self, hudu_ids: set[int], records: Iterable[ArticleRecord]) -> None:
        """Mark exactly `hudu_ids` (of the rows shown); `records` are the rows that change. Only
        their title cells are made again, in one update of the table (10,000 rows at once)."""
        self.marked = hudu_ids & self._cells.keys()
        column = self.specs[self._title].key
        titles: dict[str, Text] = {}
        for record in records:
            hudu_id = record.hudu_id
            cells = self._cells.get(hudu_id)
            if cells is not None:
                title = self._title_cell(record)
                self._cells[hudu_id] = (*cells[: self._title], title, *cells[self._title + 1 :])
                titles[str(hudu_id)] = title
        self.replace_cells(column, titles)
        self.show_position()

    def _title_cell(self, record: ArticleRecord) -> Text:
        title = title_cell(self.status, record)
        if record.hudu_id not in self.marked:
            return title
        marked = Text.assemble(("● ", "bold reverse"), title)
        marked.no_wrap, marked.overflow = True, "ellipsis"
        return marked

    def _shown_cells(self, record: ArticleRecord) -> tuple[Text, ...]:
        cells = cells_for(self.status, record)
        if record.hudu_id not in self.marked:
            return cells
        return (*cells[: self._title], self._title_cell(record), *cells[self._title + 1 :])

    # ------------------------------------------------------------------ position
    def show_position(self) -> None:
        """`123 of 1,915 · 3 marked` in the bottom border: where the cursor is."""
        count = self.row_count
        where = f"{self.cursor_coordinate.row + 1:,} of {count:,}" if count else "0 of 0"
        marked = f" · {len(self.marked):,} marked" if self.marked else ""
        text = f" {where}{marked} "
        if self.border_subtitle != text:
            self.border_subtitle = text

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:
        super().watch_cursor_coordinate(old, new)
        if old.row != new.row:
            self.show_position()

    def half_page(self, step: int) -> None:
        """`ctrl+d` / `ctrl+u`: move the cursor half a screen of rows down or up."""
        if not self.row_count:
            return
        half = max(1, (self.scrollable_content_region.height - self.header_height) // 2)
        row = self.cursor_coordinate.row + step * half
        self.move_cursor(row=max(0, min(row, self.row_count - 1)))

    def remove_rows(self, hudu_ids: Iterable[int]) -> None:
        """Remove many rows with one re-index instead of one per row."""
        present = [i for i in hudu_ids if i in self._cells]
        for hudu_id in present:
            del self._cells[hudu_id]
            del self._order[hudu_id]
            self.marked.discard(hudu_id)
        self.remove_row_keys({RowKey(str(i)) for i in present})

    def _add_all(self, records: Iterable[ArticleRecord]) -> None:
        """Add rows at the bottom, with one cursor update for all (`add_rows_at_once`)."""
        cells, order = self._cells, self._order

        def rows() -> Iterator[tuple[str, tuple[Text, ...]]]:
            for record in records:
                hudu_id = record.hudu_id
                cells[hudu_id] = row = self._shown_cells(record)
                order[hudu_id] = self._key(record, row)
                yield str(hudu_id), row

        self.add_rows_at_once(rows())

    def _restore_cursor(self, hudu_id: int | None, fallback: int = 0) -> None:
        """Keep the cursor on its article; at the very top it stays on the first row instead,
        so a table being filled shows its newest rows rather than chasing one."""
        if not self.row_count:
            return
        key = RowKey(str(hudu_id))
        if hudu_id is not None and key in self.rows:
            row = self.get_row_index(key)
        else:
            row = min(fallback, self.row_count - 1)
        if row != self.cursor_coordinate.row:
            self.move_cursor(row=row, scroll=False)
