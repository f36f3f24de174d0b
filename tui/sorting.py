"""The order of a status table: by which column, which way, and each row's sort key."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.models import ArticleRecord, Status
from tui.columns import ColumnSpec, Now, cell_maker
from tui.times import parse_time

SortKey = tuple[object, ...]
UP, DOWN = "▲", "▼"


@dataclass(frozen=True, slots=True)
class SortOrder:
    column: str = "scope"
    """A column key of the table; the first order is scope, then title (as Hudu groups them)."""
    descending: bool = False

    def moved(self, specs: Sequence[ColumnSpec], step: int) -> SortOrder:
        """The column `step` places to the right (wrapping), same direction."""
        keys = [spec.key for spec in specs]
        index = keys.index(self.column) if self.column in keys else 0
        return SortOrder(keys[(index + step) % len(keys)], self.descending)

    def flipped(self) -> SortOrder:
        return SortOrder(self.column, not self.descending)

    def label(self, spec: ColumnSpec) -> str:
        """The column header: its name, with ▲ or ▼ when the table is sorted by it."""
        if spec.key != self.column:
            return spec.label
        return f"{spec.label} {DOWN if self.descending else UP}"

    def describe(self, specs: Sequence[ColumnSpec]) -> str:
        """`Title, descending`: what a notice says of the order."""
        name = next((s.label for s in specs if s.key == self.column), self.column)
        return f"{name}, {'descending' if self.descending else 'ascending'}"


def _moment(value: str) -> float:
    moment = parse_time(value)
    return moment.timestamp() if moment is not None else float("-inf")


def _when(status: Status) -> Callable[[ArticleRecord], str]:
    """The time the table's When column shows for the status."""
    if status == Status.SYNCED:
        return lambda r: r.last_synced_at
    if status == Status.PENDING:
        return lambda r: r.hudu_updated_at
    return lambda r: r.last_attempt_at or r.last_synced_at or r.hudu_updated_at


RowKeyMaker = Callable[[ArticleRecord], SortKey]


def key_maker(order: SortOrder, status: Status, now: Now = datetime.now) -> RowKeyMaker:
    """A row's key for `order` (columns with no better key sort by the text of their cell,
    made alone). The Hudu id breaks ties, so equal keys keep one order."""
    column = order.column
    if column == "id":
        return lambda r: (r.hudu_id,)
    if column == "title":
        return lambda r: (r.title.casefold(), r.hudu_id)
    if column == "scope":
        return lambda r: (r.scope.casefold(), r.title.casefold(), r.hudu_id)
    if column == "halo":
        return lambda r: (r.halo_id is None, r.halo_id or 0, r.hudu_id)
    if column == "when":
        when = _when(status)
        return lambda r: (_moment(when(r)), r.hudu_id)
    if column == "http":
        return lambda r: (r.http_status or 0, r.hudu_id)
    if column == "tries":
        return lambda r: (r.attempts, r.hudu_id)
    cell = cell_maker(status, column)
    return lambda r: (cell(r, now).plain.casefold(), r.hudu_id)
