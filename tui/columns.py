"""What each status table shows: its columns, how they share the width, and the cell values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.console import JustifyMethod
from rich.text import Text

from core.models import ArticleRecord, Status
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


def parse_time(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    return moment.astimezone() if moment.tzinfo is not None else moment


def short_time(value: str | datetime | None) -> str:
    """`06-30 14:02`: short enough for a table cell, local time when the value has a zone."""
    moment = parse_time(value)
    return moment.strftime("%m-%d %H:%M") if moment else ""


def clock_time(value: str | datetime | None) -> str:
    moment = parse_time(value)
    return moment.strftime("%H:%M:%S") if moment else ""


def long_time(value: str | datetime | None) -> str:
    moment = parse_time(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


def _text(value: str, style: str = "", justify: JustifyMethod = "left") -> Text:
    """One cell: every cell of every table is made here, so each is shown inert, on one line."""
    return Text(shown(value), style=style, overflow="ellipsis", no_wrap=True, justify=justify)


def _id(value: int | None) -> Text:
    return _text("" if value is None else str(value), "dim" if value is None else "", "right")


def _synced_note(record: ArticleRecord) -> Text:
    if record.skipped_files:
        count = len(record.skipped_files)
        return _text(f"{count} unsent", "yellow")
    if record.attachments:
        count = len(record.attachments)
        return _text(f"{count} file{'s' if count > 1 else ''}", "dim")
    return _text("")


def _pending_state(record: ArticleRecord) -> Text:
    if record.next_retry_at:
        return _text(f"retry {clock_time(record.next_retry_at)}", "yellow")
    if record.intent:
        return _text(f"{record.intent} in flight", "cyan")
    if record.reason:
        return _text(record.reason)
    return _text("new" if record.halo_id is None else "changed")


def _failed_fix(record: ArticleRecord) -> Text:
    """The hint is what the user acts on; the error stands in when there is none."""
    if record.hint:
        return _text(record.hint, "yellow")
    return _text(record.error or record.reason or "failed", "red")


def _http(record: ArticleRecord) -> Text:
    return _text(str(record.http_status) if record.http_status else "—", "red", "right")


ID = ColumnSpec("id", "Hudu", 6, justify="right")
TITLE = ColumnSpec("title", "Title", 16, flex=5)
SCOPE = ColumnSpec("scope", "Scope", 10, flex=2, limit=24)
HALO = ColumnSpec("halo", "Halo", 6, justify="right")
WHEN = ColumnSpec("when", "When", 11)

CellMaker = Callable[[ArticleRecord], Text]

TABLES: dict[Status, tuple[tuple[ColumnSpec, CellMaker], ...]] = {
    Status.SYNCED: (
        (ID, lambda r: _id(r.hudu_id)),
        (TITLE, lambda r: _text(r.title)),
        (SCOPE, lambda r: _text(r.scope)),
        (HALO, lambda r: _id(r.halo_id)),
        (ColumnSpec("when", "Synced", 11), lambda r: _text(short_time(r.last_synced_at))),
        (ColumnSpec("note", "Files", 8), _synced_note),
    ),
    Status.PENDING: (
        (ID, lambda r: _id(r.hudu_id)),
        (TITLE, lambda r: _text(r.title)),
        (SCOPE, lambda r: _text(r.scope)),
        (HALO, lambda r: _id(r.halo_id)),
        (ColumnSpec("when", "Edited", 11), lambda r: _text(short_time(r.hudu_updated_at))),
        (ColumnSpec("state", "State", 8, flex=1, limit=24), _pending_state),
    ),
    Status.SKIPPED: (
        (ID, lambda r: _id(r.hudu_id)),
        (TITLE, lambda r: _text(r.title)),
        (SCOPE, lambda r: _text(r.scope)),
        (HALO, lambda r: _id(r.halo_id)),
        (
            WHEN,
            lambda r: _text(short_time(r.last_attempt_at or r.last_synced_at or r.hudu_updated_at)),
        ),
        (ColumnSpec("reason", "Reason", 10, flex=3), lambda r: _text(r.reason, "dim")),
    ),
    Status.FAILED: (
        (ID, lambda r: _id(r.hudu_id)),
        (ColumnSpec("title", "Title", 16, flex=3), lambda r: _text(r.title)),
        (ColumnSpec("scope", "Scope", 8, flex=1, limit=20), lambda r: _text(r.scope)),
        (ColumnSpec("http", "HTTP", 4, justify="right"), _http),
        (ColumnSpec("tries", "Tries", 5, justify="right"), lambda r: _id(r.attempts)),
        (ColumnSpec("fix", "Fix", 14, flex=5), _failed_fix),
    ),
}


def columns_for(status: Status) -> tuple[ColumnSpec, ...]:
    return tuple(spec for spec, _ in TABLES[status])


def cells_for(status: Status, record: ArticleRecord) -> tuple[Text, ...]:
    return tuple(make(record) for _, make in TABLES[status])


def title_cell(status: Status, record: ArticleRecord) -> Text:
    """The Title cell alone (what a mark changes)."""
    return next(make(record) for spec, make in TABLES[status] if spec.key == "title")


def share_width(specs: Sequence[ColumnSpec], available: int, padding: int = 2) -> list[int]:
    """Widths that fill `available` cells: minimums first, then the rest by flex weight."""
    widths = [spec.width for spec in specs]
    spare = available - sum(widths) - padding * len(specs)
    growing = [i for i, spec in enumerate(specs) if spec.flex]
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


def matches(record: ArticleRecord, words: Sequence[str]) -> bool:
    """Every word of the filter appears in the id, the title, the scope, or the reason/error."""
    if not words:
        return True
    haystack = " ".join(
        (
            str(record.hudu_id),
            str(record.halo_id or ""),
            record.title,
            record.scope,
            record.reason,
            record.error,
        )
    ).casefold()
    return all(word in haystack for word in words)


def filter_words(text: str) -> list[str]:
    return text.casefold().split()
