"""The order of a status table: by which column, which way, and each row's sort key."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text

from core.models import ArticleRecord, Status
from tui.columns import ColumnSpec, parse_time

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


def sort_key(
    order: SortOrder, status: Status, record: ArticleRecord, cells: Sequence[Text], index: int
) -> SortKey:
    """The row's key for `order`; `cells` are the row's cells and `index` the sorted column's
    place among them (columns with no better key sort by what they show). The Hudu id breaks
    ties, so equal keys keep one order."""
    column, hudu_id = order.column, record.hudu_id
    if column == "id":
        return (hudu_id,)
    if column == "title":
        return (record.title.casefold(), hudu_id)
    if column == "scope":
        return (record.scope.casefold(), record.title.casefold(), hudu_id)
    if column == "halo":
        return (record.halo_id is None, record.halo_id or 0, hudu_id)
    if column == "when":
        return (_moment(_when(status)(record)), hudu_id)
    if column == "http":
        return (record.http_status or 0, hudu_id)
    if column == "tries":
        return (record.attempts, hudu_id)
    return (cells[index].plain.casefold(), hudu_id)
