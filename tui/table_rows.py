"""The rows of one status table: which articles, in which order, and their cells.

The order is kept sorted as rows come, go and change (a bisect per row, not a sort of the
table), and cells are made only for the rows painted (or sorted by what a cell shows), so a
tick of 500 changes or a filter keystroke costs little more at 50,000 rows than at 500.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

from rich.text import Text

from core.models import ArticleRecord, Status
from tui.columns import Cell, ColumnSpec, cells_for, haystack, title_cell
from tui.sorting import SortKey, SortOrder, key_maker

CACHED_ROWS = 2_000
"""Rows whose cells are kept (the ones painted lately); past it the cache starts again."""


class TableRows:
    """A `RowSource` (see `tui.textual_private`): row keys are Hudu ids as strings."""

    def __init__(
        self, status: Status, specs: Sequence[ColumnSpec], now: Callable[[], datetime]
    ) -> None:
        self.status = status
        self.specs = specs
        self.now = now
        self.records: dict[int, ArticleRecord] = {}
        """The articles shown (the filter's matches), by Hudu id."""
        self.marked: set[int] = set()
        self.mask: tuple[bool, ...] = tuple(True for _ in specs)
        """Which columns are shown."""
        self.order = SortOrder()
        self._key = key_maker(self.order, status, now)
        self._keys: dict[int, SortKey] = {}
        self._ascending: list[int] = []
        """The ids in ascending key order (shown reversed when the order is descending)."""
        self._cells: dict[int, tuple[Cell, ...]] = {}
        self._haystacks: dict[int, tuple[ArticleRecord, str]] = {}
        """What the filter searches in, per article (any status the table was filtered on)."""
        self._title = next(i for i, spec in enumerate(specs) if spec.key == "title")

    # ------------------------------------------------------------------ RowSource
    def __len__(self) -> int:
        return len(self._ascending)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.isdigit() and int(key) in self.records

    def key_at(self, index: int) -> str:
        return str(self.id_at(index))

    def index_of(self, key: str) -> int:
        return self.position(int(key))

    def cells(self, key: str) -> tuple[Cell, ...]:
        cells = self.cells_of(int(key))
        return tuple(cell for cell, shown in zip(cells, self.mask, strict=True) if shown)

    # ------------------------------------------------------------------ positions
    def id_at(self, index: int) -> int:
        ids = self._ascending
        return ids[len(ids) - 1 - index] if self.order.descending else ids[index]

    def position(self, hudu_id: int) -> int:
        """The row of an article shown (a bisect: ids are unique within the keys)."""
        keys = self._keys
        index = bisect_left(self._ascending, keys[hudu_id], key=keys.__getitem__)
        return len(self._ascending) - 1 - index if self.order.descending else index

    def in_order(self) -> Iterator[int]:
        return reversed(self._ascending) if self.order.descending else iter(self._ascending)

    # ------------------------------------------------------------------ cells
    def cells_of(self, hudu_id: int) -> tuple[Cell, ...]:
        """Every cell of a row shown (hidden columns too), the mark included."""
        cells = self._cells.get(hudu_id)
        if cells is None:
            record = self.records[hudu_id]
            cells = cells_for(self.status, record, self.now)
            if hudu_id in self.marked:
                title = self.marked_title(record)
                cells = (*cells[: self._title], title, *cells[self._title + 1 :])
            if len(self._cells) >= CACHED_ROWS:
                self._cells.clear()
            self._cells[hudu_id] = cells
        return cells

    def marked_title(self, record: ArticleRecord) -> Text:
        marked = Text.assemble(("● ", "bold reverse"), title_cell(self.status, record))
        marked.no_wrap, marked.overflow = True, "ellipsis"
        return marked

    def _key_of(self, record: ArticleRecord) -> SortKey:
        return self._key(record)

    # ------------------------------------------------------------------ changes
    def matches(self, record: ArticleRecord, words: Sequence[str]) -> bool:
        """Every word of the filter is in the id, the title, the scope or the reason/error."""
        text = self._haystack(record)
        return all(word in text for word in words)

    def _haystack(self, record: ArticleRecord) -> str:
        cached = self._haystacks.get(record.hudu_id)
        if cached is None or cached[0] is not record:
            cached = (record, haystack(record))
            self._haystacks[record.hudu_id] = cached
        return cached[1]

    def _matching(
        self, records: Iterable[ArticleRecord], words: Sequence[str]
    ) -> dict[int, ArticleRecord]:
        text = self._haystack
        if not words:  # the first fill: what the filter searches is made once, now
            return {r.hudu_id: r for r in records if text(r)}
        if len(words) == 1:
            word = words[0]
            return {r.hudu_id: r for r in records if word in text(r)}
        return {r.hudu_id: r for r in records if all(w in text(r) for w in words)}

    def fill(self, records: Iterable[ArticleRecord], words: Sequence[str]) -> set[int]:
        """Show the `records` that match `words`. The rows already shown keep their order, the
        others are sorted among themselves and merged in (two sorted runs: one linear pass).
        Returns the rows that stay but show another record."""
        shown = self._matching(records, words)
        old = self.records
        kept = [i for i in self._ascending if i in shown]
        self._keys = keys = {i: self._keys[i] for i in kept}
        self._cells = {i: cells for i, cells in self._cells.items() if i in shown}
        self.marked &= shown.keys()
        self.records = shown
        stale = [i for i in kept if shown[i] is not old[i]]
        for hudu_id in stale:
            self._cells.pop(hudu_id, None)
            keys[hudu_id] = self._key_of(shown[hudu_id])
        added = [i for i in shown if i not in old]
        for hudu_id in added:
            keys[hudu_id] = self._key_of(shown[hudu_id])
        added.sort(key=keys.__getitem__)
        kept += added
        if stale or (added and len(kept) > len(added)):
            kept.sort(key=keys.__getitem__)
        self._ascending = kept
        return set(stale)

    def upsert(self, record: ArticleRecord) -> tuple[bool, bool]:
        """Show `record` (it matches the filter): (added, moved to another row)."""
        hudu_id = record.hudu_id
        known = hudu_id in self.records
        self.records[hudu_id] = record
        self._cells.pop(hudu_id, None)
        key = self._key_of(record)
        if known and key == self._keys[hudu_id]:
            return False, False
        if known:
            self._unplace(hudu_id)
        self._keys[hudu_id] = key
        insort(self._ascending, hudu_id, key=self._keys.__getitem__)
        return not known, known

    def remove(self, hudu_id: int) -> None:
        """Take a row out (it left the table, or the filter hides it now)."""
        if hudu_id in self.records:
            self._unplace(hudu_id)
            del self.records[hudu_id]
            self._forget(hudu_id)

    def forget_text(self, hudu_ids: Iterable[int]) -> None:
        """The articles left the status: what the filter searched in for them goes."""
        for hudu_id in hudu_ids:
            self._haystacks.pop(hudu_id, None)

    def sort(self, order: SortOrder) -> None:
        self.order = order
        self._key = key_maker(order, self.status, self.now)
        records, keys = self.records, self._keys
        for hudu_id, record in records.items():
            keys[hudu_id] = self._key_of(record)
        self._ascending.sort(key=keys.__getitem__)

    def set_marks(self, hudu_ids: set[int]) -> None:
        """Mark exactly `hudu_ids` (of the rows shown); the rows that change make their cells
        again when next painted."""
        marked = hudu_ids & self.records.keys()
        for hudu_id in marked ^ self.marked:
            self._cells.pop(hudu_id, None)
        self.marked = marked

    def _unplace(self, hudu_id: int) -> None:
        keys = self._keys
        index = bisect_left(self._ascending, keys[hudu_id], key=keys.__getitem__)
        del self._ascending[index]

    def _forget(self, hudu_id: int) -> None:
        self._keys.pop(hudu_id, None)
        self._cells.pop(hudu_id, None)
        self.marked.discard(hudu_id)
