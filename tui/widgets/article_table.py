"""One status table (Synced, Pending, Skipped or Failed), patched in place tick by tick.

Rows are keyed by the Hudu id and kept in the table's `SortOrder` (scope, then title, until
the user picks a column). Marked rows carry a marker before their title. The rows live in a
`TableRows` (their order, kept sorted row by row, and their cells, made when painted); the
table shows them through `VirtualDataTable`, so a tick touches only the rows that changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import ClassVar, cast

from rich.text import Text
from textual.binding import BindingType
from textual.coordinate import Coordinate
from textual.events import Resize
from textual.reactive import Reactive
from textual.widgets.data_table import ColumnKey, RowKey

from core.models import ArticleRecord, Status
from tui.bindings import TABLE_BINDINGS
from tui.columns import Cell, columns_for, filter_words, share_width
from tui.sorting import SortOrder
from tui.table_rows import TableRows
from tui.textual_private import VirtualDataTable


class ArticleTable(VirtualDataTable):
    """The articles of one status; `status` and the Hudu id of the cursor row say what it is
    showing."""

    BINDINGS: ClassVar[list[BindingType]] = [*TABLE_BINDINGS]

    position: Reactive[str] = Reactive("", layout=False, repaint=False)
    """Where the cursor is: `123 of 1,915 · 3 marked`."""

    def __init__(
        self,
        status: Status,
        *,
        now: Callable[[], datetime] = datetime.now,
        id: str | None = None,
    ) -> None:
        super().__init__(
            id=id, cursor_type="row", zebra_stripes=False, cell_padding=1, show_row_labels=False
        )
        self.status = status
        self.now = now
        """The time ages are counted to (the app's clock)."""
        self.specs = columns_for(status)
        self.filter_text = ""
        self._words: list[str] = []
        self.shown_rows = TableRows(status, self.specs, now)
        self.attach(self.shown_rows)
        self.shown_keys: tuple[str, ...] = ()
        """The columns shown, in order; the others gave way to a narrow terminal."""
        self._away: tuple[int, int | None] | None = None
        """(article, stand-in): the cursor's article left the table (a resync shows it pending
        while Halo takes it) and the cursor moved to the stand-in row; while it stays there, the
        cursor goes back to the article when it returns."""

    def ensure_columns(self) -> None:
        if not self.columns:
            self._lay_out(share_width(self.specs, 80))

    def on_resize(self, event: Resize) -> None:
        """Share the new width among the columns (Textual's own resize handling follows)."""
        available = self.scrollable_content_region.width or self.size.width
        self._lay_out(share_width(self.specs, max(available - 1, 20)))
        self.fit_virtual_size()
        # A smaller table can leave the cursor row below the view: no row would look selected
        # while the keys act on it. Once the new size is laid out, scroll to the cursor.
        self.call_after_refresh(self.show_cursor_row)

    def _lay_out(self, widths: list[int]) -> None:
        """Set the column widths (0: hidden). When the columns shown change, they are added
        again (the rows stay), the cursor and scroll kept."""
        shown = tuple(spec.key for spec, width in zip(self.specs, widths, strict=True) if width)
        if shown == self.shown_keys:
            for spec, width in zip(self.specs, widths, strict=True):
                if width:
                    self.columns[ColumnKey(spec.key)].width = width
            return
        row, scrolled = self.cursor_coordinate.row, self.scroll_y
        self.shown_keys = shown
        self.shown_rows.mask = tuple(bool(width) for width in widths)
        self.set_columns(
            [
                (Text(self.order.label(spec), justify=spec.justify), width, spec.key)
                for spec, width in zip(self.specs, widths, strict=True)
                if width
            ]
        )
        if self.row_count:
            self.move_cursor(row=min(row, self.row_count - 1), scroll=False)
            self.scroll_to(y=scrolled, animate=False, immediate=True)

    @property
    def order(self) -> SortOrder:
        return self.shown_rows.order

    @property
    def marked(self) -> set[int]:
        """Rows marked with space (a row that leaves the table loses its mark)."""
        return self.shown_rows.marked

    def show_cursor_row(self) -> None:
        """Scroll so that the cursor row is on screen."""
        if self.row_count and self.is_mounted:
            self.move_cursor(row=self.cursor_coordinate.row, scroll=True)

    def action_select_cursor(self) -> None:
        """`enter`: the row's detail; on an empty table the app says why there is none."""
        if self.row_count:
            super().action_select_cursor()
        else:
            self.call_next(self.run_action, "app.detail")

    def get_cell(self, row_key: RowKey | str, column_key: ColumnKey | str) -> Cell:
        return cast(Cell, super().get_cell(row_key, column_key))

    @property
    def cursor_id(self) -> int | None:
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    # ------------------------------------------------------------------ filling
    def set_filter(self, text: str) -> None:
        """Show the rows that match `text` (of those the ticks keep: `apply`). Text that only
        narrows the filter (each word is within a word of the new text) searches only the rows
        shown."""
        words, old = filter_words(text), self._words
        narrowing = bool(old) and all(any(word in new for new in words) for word in old)
        self.filter_text = text
        self._words = words
        self.rebuild(None, narrowing=narrowing)

    def rebuild(self, records: Iterable[ArticleRecord] | None, *, narrowing: bool = False) -> None:
        """Refill from the model (start-up; None: from the rows held, on a filter change),
        back at the top, the cursor on its article if it is still shown. A row the filter
        hides loses its mark."""
        self.ensure_columns()
        keep = self.cursor_id
        shown = self.shown_ids()
        changed = self.shown_rows.fill(records, self._words, narrowing=narrowing)
        self.rows_changed(repaint=False)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._restore_cursor(keep)
        self.show_position()
        now_shown = self.shown_ids()
        if now_shown != shown or not changed.isdisjoint(now_shown):
            self.refresh()

    def apply(self, upserts: Iterable[ArticleRecord], removals: set[int]) -> None:
        """Patch the table with one tick's changes for this status."""
        keep = self.cursor_id
        before = self.cursor_coordinate.row
        scrolled = self.scroll_y
        shown = self.shown_ids()
        rows = self.shown_rows
        gone = False
        for hudu_id in removals:
            gone = gone or hudu_id in rows.records
            rows.remove(hudu_id)
        added = moved = False
        for record in upserts:
            came, reordered, hidden = rows.put(record)
            added, moved, gone = added or came, moved or reordered, gone or hidden
        self.rows_changed(repaint=False)
        if keep is not None and (gone or added or moved):
            target = self._returning(keep)
            if target == keep and before == 0 and scrolled == 0:
                self._restore_cursor(None)
            else:
                self._restore_cursor(target, fallback=before)
                shift = self.cursor_coordinate.row - before
                if shift:
                    self.scroll_to(y=scrolled + shift, animate=False, immediate=True)
            if keep not in rows.records:
                self._away = (keep, self.cursor_id)
        if gone or added:
            self.show_position()
        now_shown = self.shown_ids()
        changed = removals.union(r.hudu_id for r in upserts)
        if now_shown != shown or not changed.isdisjoint(now_shown):
            self.refresh()

    def shown_ids(self) -> list[int]:
        """The articles of the rows on screen."""
        top = round(self.scroll_y)
        bottom = min(top + self.scrollable_content_region.height, self.row_count)
        return [self.shown_rows.id_at(row) for row in range(top, bottom)]

    def _returning(self, keep: int) -> int:
        """The article the cursor should be on: `keep`, or the one that left from under the
        cursor and is back while the cursor has not moved from its stand-in."""
        if self._away is None:
            return keep
        away, stand_in = self._away
        if stand_in != keep:
            self._away = None  # the user moved on
            return keep
        if away in self.shown_rows.records:
            self._away = None
            return away
        return keep

    def refresh_ages(self) -> None:
        """Ages grow: paint the rows shown again (their `TimedCell`s make their text then)."""
        self.repaint_cells()

    def sort_by(self, order: SortOrder) -> None:
        """Sort by another column or direction; the cursor stays on its article."""
        keep = self.cursor_id
        self.shown_rows.sort(order)
        for spec in self.specs:
            if spec.key in self.shown_keys:
                label = Text(order.label(spec), justify=spec.justify)
                self.columns[ColumnKey(spec.key)].label = label
        self.rows_changed()
        if keep is not None:
            self.move_cursor(row=self.get_row_index(str(keep)), scroll=True)

    # ------------------------------------------------------------------ marks
    def toggle_mark(self, record: ArticleRecord) -> None:
        if record.hudu_id in self.shown_rows.records:
            self.set_marks(self.marked ^ {record.hudu_id})

    def set_marks(self, hudu_ids: set[int]) -> None:
        """Mark exactly `hudu_ids` (of the rows shown)."""
        self.shown_rows.set_marks(hudu_ids)
        self.rows_changed()
        self.show_position()

    # ------------------------------------------------------------------ position
    def show_position(self) -> None:
        """`123 of 1,915 · 3 marked` (`3 of 12 matching` when filtered): where the cursor is
        (the screen shows it under the table)."""
        count = self.row_count
        where = f"{self.cursor_coordinate.row + 1:,} of {count:,}" if count else "0 of 0"
        if self.filter_text:
            where += " matching"
        marked = f" · {len(self.marked):,} marked" if self.marked else ""
        self.position = f"{where}{marked}"

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
