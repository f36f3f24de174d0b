"""The rows of one status table: which articles, in which order, and their cells.

The order is kept sorted as rows come, go and change (a bisect per row, not a sort of the
table), and cells are made only for the rows painted (or sorted by what a cell shows), so a
tick of 500 changes or a filter keystroke costs little more at 50,000 rows than at 500.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import compress, repeat
from operator import contains

from rich.text import Text

from core.models import ArticleRecord, Status
from tui.columns import Cell, ColumnSpec, cells_for, haystack, title_cell
from tui.sorting import SortKey, SortOrder, key_maker

CACHED_ROWS = 2_000
"""Rows whose cells are kept (the ones painted lately); past it the cache starts again."""


class Matched(Mapping[int, ArticleRecord]):
    """The filter's matches: the records of `ids`, looked up in every record of the table (a
    first keystroke at 50,000 rows copied 8,750 of them into a new dict: ~5 ms)."""

    __slots__ = ("every", "ids")

    def __init__(self, every: Mapping[int, ArticleRecord], ids: set[int]) -> None:
        self.every = every
        self.ids = ids

    def __getitem__(self, hudu_id: int) -> ArticleRecord:
        if hudu_id not in self.ids:
            raise KeyError(hudu_id)
        return self.every[hudu_id]

    def __contains__(self, hudu_id: object) -> bool:
        return hudu_id in self.ids

    def __iter__(self) -> Iterator[int]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def keys(self) -> set[int]:  # type: ignore[override]
        return self.ids


class TableRows:
    """A `RowSource` (see `tui.textual_private`): row keys are Hudu ids as strings."""

    def __init__(
        self, status: Status, specs: Sequence[ColumnSpec], now: Callable[[], datetime]
    ) -> None:
        self.status = status
        self.specs = specs
        self.now = now
        self._every: dict[int, ArticleRecord] = {}
        """Every article of the status, by Hudu id."""
        self.records: Mapping[int, ArticleRecord] = self._every
        """The articles shown: `_every` itself when there is no filter, else its `Matched`."""
        self.marked: set[int] = set()
        self.mask: tuple[bool, ...] = tuple(True for _ in specs)
        """Which columns are shown."""
        self.order = SortOrder()
        self._key = key_maker(self.order, status, now)
        self._keys: dict[int, SortKey] = {}
        """The sort key of every article."""
        self._all: list[int] = []
        """Every id in ascending key order."""
        self._ascending: list[int] = self._all
        """The ids shown in ascending key order (shown reversed when the order is descending);
        `_all` itself when there is no filter."""
        self._words: list[str] = []
        self._cells: dict[int, tuple[Cell, ...]] = {}
        self._texts: dict[int, str] = {}
        """What the filter searches in, for every article of the status (made as rows come)."""
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

    # ------------------------------------------------------------------ changes
    def matches(self, hudu_id: int, words: Sequence[str]) -> bool:
        """Every word of the filter is in the id, the title, the scope or the reason/error."""
        text = self._texts[hudu_id]
        return all(word in text for word in words)

    def search(self, ids: list[int], words: Sequence[str]) -> tuple[list[int], set[int]]:
        """The articles of `ids` that match `words`, in the same order and as a set. The loops
        run in C (`map`, `compress`): a Python loop per row was most of a first keystroke at
        35,000 rows. Many rows are searched in the order their texts were made, which is their
        order in memory (in the table's order each text is a cache miss: 3 times slower), then
        picked in the table's order."""
        texts = self._texts
        if len(ids) * 4 < len(texts):
            found = list(map(texts.__getitem__, ids))
            for word in words:
                hits = list(map(contains, found, repeat(word)))
                ids, found = list(compress(ids, hits)), list(compress(found, hits))
            return ids, set(ids)
        every: Iterable[int] = texts.keys()
        searched: Iterable[str] = texts.values()
        for word in words:
            hits = list(map(contains, searched, repeat(word)))
            every, searched = list(compress(every, hits)), list(compress(searched, hits))
        matched = set(every)
        shown = list(compress(ids, map(matched.__contains__, ids)))
        return shown, matched if len(shown) == len(matched) else set(shown)

    def fill(
        self,
        records: Iterable[ArticleRecord] | None,
        words: Sequence[str],
        *,
        narrowing: bool = False,
    ) -> set[int]:
        """Show those of `records` (every article of the status; None: the rows the table
        holds, kept by `put` and `remove`) that match `words`; when the words only narrow the
        last ones (`narrowing`), only the rows shown are searched. The order of every article
        is kept through ticks and filters, so the rows shown are picked from it in one pass,
        never sorted. Returns the rows that stay but show another record."""
        changed = self._take(records) if records is not None else []
        narrowing = narrowing and not changed  # the rows shown may be out of order then
        old = self.records
        self._words = list(words)
        if not words:
            self.records, self._ascending = self._every, self._all
        else:
            ids, matched = self.search(self._ascending if narrowing else self._all, words)
            self.records = Matched(self._every, matched)
            self._ascending = ids
        shown_now = self.records
        unmarked = self.marked - shown_now.keys()
        for hudu_id in unmarked:  # the cells of rows hidden stay: esc shows them again
            self._cells.pop(hudu_id, None)
        self.marked -= unmarked
        return {i for i in changed if i in old and i in shown_now}

    def _take(self, records: Iterable[ArticleRecord]) -> list[int]:
        """Make the full order hold exactly `records`; the ids whose record changed."""
        every, keys = self._every, self._keys
        records = list(records)
        changed = [r.hudu_id for r in records if every.get(r.hudu_id) is not r]
        if not changed and len(records) == len(every):  # the ticks kept it: the usual case
            return changed
        incoming = {r.hudu_id: r for r in records}
        gone = [i for i in every if i not in incoming]
        if len(changed) + len(gone) > len(every) // 8:
            texts = self._texts
            self._texts = {  # what the filter searches is made now, not at a key
                i: texts[i] if every.get(i) is r else haystack(r) for i, r in incoming.items()
            }
            make = self._key
            self._keys = keys = {i: make(record) for i, record in incoming.items()}
            self._every = incoming
            self._all = sorted(incoming, key=keys.__getitem__)
        else:
            for hudu_id in gone:
                self._unplace(self._all, hudu_id)
                del every[hudu_id], keys[hudu_id], self._texts[hudu_id]
            for hudu_id in changed:
                if hudu_id in every:
                    self._unplace(self._all, hudu_id)
                every[hudu_id] = incoming[hudu_id]
                self._texts[hudu_id] = haystack(incoming[hudu_id])
                keys[hudu_id] = self._key(incoming[hudu_id])
                insort(self._all, hudu_id, key=keys.__getitem__)
        for hudu_id in (*changed, *gone):
            self._cells.pop(hudu_id, None)
        return changed

    @property
    def _filtered(self) -> bool:
        return self._ascending is not self._all

    @property
    def _matched(self) -> set[int]:
        """The ids shown through the filter (only while there is one)."""
        assert isinstance(self.records, Matched)
        return self.records.ids

    def put(self, record: ArticleRecord) -> tuple[bool, bool, bool]:
        """`record` is in the table's status now: it takes its place in the full order and is
        shown if it matches the filter. Returns (shown now and not before, moved to another
        row, hidden now and shown before)."""
        hudu_id = record.hudu_id
        key = self._key(record)
        known = hudu_id in self._every
        reordered = not known or key != self._keys[hudu_id]
        filtered = self._filtered
        was_shown = hudu_id in self.records
        if not known or self._every[hudu_id] is not record:
            self._texts[hudu_id] = haystack(record)
        show = not filtered or self.matches(hudu_id, self._words)
        if known and reordered:
            self._unplace(self._all, hudu_id)
        if filtered and was_shown and (reordered or not show):
            self._unplace(self._ascending, hudu_id)
        self._every[hudu_id] = record
        self._keys[hudu_id] = key
        self._cells.pop(hudu_id, None)
        by_key = self._keys.__getitem__
        if reordered:
            insort(self._all, hudu_id, key=by_key)
        if filtered and show:
            self._matched.add(hudu_id)
            if reordered or not was_shown:
                insort(self._ascending, hudu_id, key=by_key)
        elif filtered and was_shown:
            self._matched.discard(hudu_id)
            self.marked.discard(hudu_id)
        return show and not was_shown, show and was_shown and reordered, was_shown and not show

    def remove(self, hudu_id: int) -> None:
        """The article left the table's status."""
        if hudu_id not in self._every:
            return
        if self._filtered and hudu_id in self.records:
            self._unplace(self._ascending, hudu_id)
            self._matched.discard(hudu_id)
        self._unplace(self._all, hudu_id)
        del self._every[hudu_id], self._keys[hudu_id], self._texts[hudu_id]
        self._cells.pop(hudu_id, None)
        self.marked.discard(hudu_id)

    def sort(self, order: SortOrder) -> None:
        self.order = order
        self._key = key_maker(order, self.status, self.now)
        make = self._key
        self._keys = keys = {i: make(record) for i, record in self._every.items()}
        self._all.sort(key=keys.__getitem__)
        if self._filtered:
            shown = self.records
            self._ascending = [i for i in self._all if i in shown]

    def set_marks(self, hudu_ids: set[int]) -> None:
        """Mark exactly `hudu_ids` (of the rows shown); the rows that change make their cells
        again when next painted."""
        marked = hudu_ids & self.records.keys()
        for hudu_id in marked ^ self.marked:
            self._cells.pop(hudu_id, None)
        self.marked = marked

    def _unplace(self, ids: list[int], hudu_id: int) -> None:
        keys = self._keys
        del ids[bisect_left(ids, keys[hudu_id], key=keys.__getitem__)]
