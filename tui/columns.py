"""What each status table shows: its columns, how they share the width, and the cell values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rich.console import JustifyMethod
from rich.text import Text

from core.models import ArticleRecord, Status
from tui.times import age
from tui.untrusted import shown


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    key: str
    label: str
    width: int
    """The minimum width in cells (the whole width when `flex` is 0)."""
    flex: int = 0
    """Share of the width left over once every column has its minimum."""
    limit: int = 0
    """Flexible columns stop growing here (0: no limit)."""
    justify: JustifyMethod = "left"
    gives_way: int = 0
    """When the minimums do not fit, columns are hidden in this order (1 first; 0: never)."""


def _text(value: str, style: str = "", justify: JustifyMethod = "left") -> Text:
    """One cell: every cell of every table is made here, so each is shown inert, on one line."""
    return Text(shown(value), style=style, overflow="ellipsis", no_wrap=True, justify=justify)


Now = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class TimedCell:
    """A cell whose text depends on the time now (an age, `retry in 3m`): its text is made
    when the table paints it, so ages grow by painting the rows shown again, none rebuilt."""

    template: str
    moment: str
    style: str = ""
    justify: JustifyMethod = "left"
    now: Now = field(default=datetime.now, compare=False, repr=False)

    @property
    def plain(self) -> str:
        return self.template.format(age(self.moment, self.now()))

    def __rich__(self) -> Text:
        return _text(self.plain, self.style, self.justify)

    def __str__(self) -> str:
        return self.plain


Cell = Text | TimedCell


def _id(value: int | None) -> Text:
    return _text("" if value is None else str(value), "dim" if value is None else "", "right")


def _synced_note(record: ArticleRecord, now: Now) -> Cell:
    if record.skipped_files:
        count = len(record.skipped_files)
        return _text(f"{count} unsent", "yellow")
    if record.attachments:
        count = len(record.attachments)
        return _text(f"{count} file{'s' if count > 1 else ''}", "dim")
    return _text("")


def _pending_state(record: ArticleRecord, now: Now) -> Cell:
    if record.next_retry_at:
        return TimedCell("retry {}", record.next_retry_at, "yellow", now=now)
    if record.intent:
        return _text(f"{record.intent} in flight", "cyan")
    if record.reason:
        return _text(record.reason)
    return _text("new" if record.halo_id is None else "changed")


def _failed_fix(record: ArticleRecord, now: Now) -> Cell:
    """The hint is what the user acts on; the error stands in when there is none."""
    if record.hint:
        return _text(record.hint, "yellow")
    return _text(record.error or record.reason or "failed", "red")


def _http(record: ArticleRecord, now: Now) -> Cell:
    return _text(str(record.http_status) if record.http_status else "—", "red", "right")


ID = ColumnSpec("id", "Hudu", 6, justify="right")
SCOPE = ColumnSpec("scope", "Scope", 10, flex=2, limit=24, gives_way=4)
HALO = ColumnSpec("halo", "Halo", 6, justify="right", gives_way=1)

CellMaker = Callable[[ArticleRecord, "Now"], "Cell"]


def _age(*values: str) -> CellMaker:
    """The age of the first of the record's `values` (field names) that is set."""

    def cell(record: ArticleRecord, now: Now) -> Cell:
        moment = next((v for v in (getattr(record, f) for f in values) if v), "")
        return TimedCell("{}", moment, justify="right", now=now)

    return cell


TABLES: dict[Status, tuple[tuple[ColumnSpec, CellMaker], ...]] = {
    Status.SYNCED: (
        (ID, lambda r, _: _id(r.hudu_id)),
        (ColumnSpec("title", "Title", 32, flex=5), lambda r, _: _text(r.title)),
        (SCOPE, lambda r, _: _text(r.scope)),
        (ColumnSpec("halo", "Halo", 6, justify="right", gives_way=2), lambda r, _: _id(r.halo_id)),
        (ColumnSpec("when", "Synced", 6, justify="right", gives_way=3), _age("last_synced_at")),
        (ColumnSpec("note", "Files", 8, gives_way=1), _synced_note),
    ),
    Status.PENDING: (
        (ID, lambda r, _: _id(r.hudu_id)),
        (ColumnSpec("title", "Title", 26, flex=5), lambda r, _: _text(r.title)),
        (SCOPE, lambda r, _: _text(r.scope)),
        (HALO, lambda r, _: _id(r.halo_id)),
        (ColumnSpec("when", "Edited", 6, justify="right", gives_way=2), _age("hudu_updated_at")),
        (ColumnSpec("state", "State", 8, flex=1, limit=24, gives_way=3), _pending_state),
    ),
    Status.SKIPPED: (
        (ID, lambda r, _: _id(r.hudu_id)),
        (ColumnSpec("title", "Title", 20, flex=5), lambda r, _: _text(r.title)),
        (
            ColumnSpec("scope", "Scope", 10, flex=2, limit=24, gives_way=3),
            lambda r, _: _text(r.scope),
        ),
        (HALO, lambda r, _: _id(r.halo_id)),
        (
            ColumnSpec("when", "Age", 5, justify="right", gives_way=2),
            _age("last_attempt_at", "last_synced_at", "hudu_updated_at"),
        ),
        (ColumnSpec("reason", "Reason", 24, flex=3), lambda r, _: _text(r.reason, "dim")),
    ),
    Status.FAILED: (
        (ID, lambda r, _: _id(r.hudu_id)),
        (ColumnSpec("title", "Title", 18, flex=3), lambda r, _: _text(r.title)),
        (
            ColumnSpec("scope", "Scope", 8, flex=1, limit=20, gives_way=3),
            lambda r, _: _text(r.scope),
        ),
        (ColumnSpec("http", "HTTP", 4, justify="right", gives_way=2), _http),
        (
            ColumnSpec("tries", "Tries", 5, justify="right", gives_way=1),
            lambda r, _: _id(r.attempts),
        ),
        (ColumnSpec("fix", "Fix", 28, flex=5), _failed_fix),
    ),
}


def columns_for(status: Status) -> tuple[ColumnSpec, ...]:
    return tuple(spec for spec, _ in TABLES[status])


def cells_for(status: Status, record: ArticleRecord, now: Now) -> tuple[Cell, ...]:
    return tuple(make(record, now) for _, make in TABLES[status])


def cell_maker(status: Status, key: str) -> CellMaker:
    """How the column `key` of the status's table makes its cell (the first column's if the
    table has none of that key)."""
    makers = TABLES[status]
    return next((make for spec, make in makers if spec.key == key), makers[0][1])


def title_cell(status: Status, record: ArticleRecord) -> Text:
    """The Title cell alone (what a mark changes)."""
    cell = next(make(record, datetime.now) for spec, make in TABLES[status] if spec.key == "title")
    return cell if isinstance(cell, Text) else Text(str(cell))


def share_width(specs: Sequence[ColumnSpec], available: int, padding: int = 2) -> list[int]:
    """Widths that fill `available` cells: while the minimums do not fit, columns give way in
    their order (hidden: width 0); then the rest goes by flex weight."""
    widths = [spec.width for spec in specs]
    for spec in sorted((s for s in specs if s.gives_way), key=lambda s: s.gives_way):
        if sum(w + padding for w in widths if w) <= available:
            break
        widths[specs.index(spec)] = 0
    spare = available - sum(w + padding for w in widths if w)
    growing = [i for i, spec in enumerate(specs) if spec.flex and widths[i]]
    while spare > 0 and growing:
        weight = sum(specs[i].flex for i in growing)
        given = 0
        for i in list(growing):
            share = max(1, spare * specs[i].flex // weight)
            limit = specs[i].limit
            if limit and widths[i] + share >= limit:
                share = max(0, limit - widths[i])
                growing.remove(i)
            share = min(share, spare - given)
            widths[i] += share
            given += share
        spare -= given
        if given == 0:
            break
    return widths


def haystack(record: ArticleRecord) -> str:
    """What the filter searches: the id, the Halo id, the title, the scope, the reason and
    the error, case-folded."""
    return " ".join(
        (
            str(record.hudu_id),
            str(record.halo_id or ""),
            record.title,
            record.scope,
            record.reason,
            record.error,
        )
    ).casefold()


def filter_words(text: str) -> list[str]:
    return text.casefold().split()
