"""Under the Failed table: the highlighted article's whole error and, above all, its fix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from core.models import ArticleRecord
from tui.times import age
from tui.untrusted import NO_KNOWN_FIX, shown_record


def render_failure(record: ArticleRecord, now: datetime) -> Table:
    """The fix (or that hhsync knows none) first, as a short terminal shows only the top,
    then Halo's error, then the title and facts."""
    record = shown_record(record)
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(no_wrap=True, style="bold", width=5)
    grid.add_column(ratio=1, overflow="fold")
    facts: list[str] = []
    if record.http_status:
        facts.append(f"HTTP {record.http_status}")
    facts.append(f"{record.attempts} {'try' if record.attempts == 1 else 'tries'}")
    if record.next_retry_at:
        facts.append(f"next retry {age(record.next_retry_at, now)}")
    elif record.last_attempt_at:
        facts.append(f"last try {age(record.last_attempt_at, now)} ago")
    if record.hint:
        grid.add_row(Text("Fix", "bold yellow"), Text(record.hint, "bold yellow"))
    else:
        grid.add_row("Fix", Text(f"{NO_KNOWN_FIX} · enter shows everything hhsync knows", "dim"))
    grid.add_row("Error", Text(record.error or record.reason or "no error recorded", "red"))
    grid.add_row("", Text.assemble((record.title, "bold"), (" · " + " · ".join(facts), "dim")))
    return grid


class FailureNote(Static):
    """Shown while the Failed table has a highlighted row; `show(None)` hides it."""

    def __init__(
        self, *, now: Callable[[], datetime] = datetime.now, id: str | None = None
    ) -> None:
        super().__init__("", id=id)
        self.record: ArticleRecord | None = None
        self._now = now

    def show(self, record: ArticleRecord | None) -> None:
        if record == self.record and self.display == (record is not None):
            return
        self.record = record
        self.display = record is not None
        if record is not None:
            self.update(render_failure(record, self._now()))

    def refresh_age(self) -> None:
        if self.record is not None:
            self.update(render_failure(self.record, self._now()))
