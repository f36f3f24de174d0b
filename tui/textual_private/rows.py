"""What a `VirtualDataTable` reads its rows from, and the stand-ins for the stock table's own
row dicts that read them from it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol, overload

from rich.console import RenderableType
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, Row, RowKey


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
