"""The History tab: the last passes, newest first (`hhsync history`), read from the engine when
the dashboard opens and again after each pass."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import DataTable

from core.events import Event, PassFinished
from core.history import PassRecord
from tui.columns import parse_time, short_time
from tui.pass_text import duration
from tui.untrusted import shown
from tui.workers import EngineWorkers

HISTORY_LIMIT = 500
COLUMNS = (
    "Started",
    "Took",
    "Trigger",
    "Kind",
    "Created",
    "Updated",
    "Removed",
    "Restored",
    "Failed",
    "Halo req",
    "Hudu req",
    "Waits",
    "Note",
)
NUMBERS = frozenset(COLUMNS[4:12])
"""The columns of counts, right-aligned."""


def history_cells(record: PassRecord) -> list[Text]:
    """One pass as the row's cells, every one inert (the note may quote Halo)."""
    started, finished = parse_time(record.started_at), parse_time(record.finished_at)
    took = duration((finished - started).total_seconds()) if started and finished else ""
    counts = (
        record.created,
        record.updated,
        record.removed,
        record.restored,
        record.failed,
        record.halo_requests,
        record.hudu_requests,
    )
    values = (
        short_time(record.started_at),
        took,
        record.cause,
        "full" if record.full else "incr",
        *(f"{n:,}" for n in counts),
        f"{record.waits} ({duration(record.waited_seconds)})" if record.waits else "0",
        f"stopped: {record.error}" if record.error else "",
    )
    alarming = {"Failed": record.failed > 0, "Note": bool(record.error)}
    return [
        Text(
            shown(value),
            style="red" if alarming.get(column) else "",
            justify="right" if column in NUMBERS else "left",
            no_wrap=True,
            overflow="ellipsis",
        )
        for column, value in zip(COLUMNS, values, strict=True)
    ]


class HistoryView(DataTable[Text]):
    """The passes the engine keeps, one row each."""

    class Loaded(Message):
        """The engine answered with its passes."""

        def __init__(self, passes: list[PassRecord]) -> None:
            super().__init__()
            self.passes = passes

    class LoadFailed(Message):
        def __init__(self, error: Exception) -> None:
            super().__init__()
            self.error = error

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.passes: list[PassRecord] = []
        self._unsubscribe: Callable[[], None] | None = None

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)
        app = self.app
        if isinstance(app, EngineWorkers):
            self._unsubscribe = app.engine.subscribe(self._seen)
        self.reload()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _seen(self, event: Event) -> None:
        """The engine listener: after a pass (not a dry run), read the history again."""
        if isinstance(event, PassFinished) and not event.dry_run:
            self.call_later(self.reload)

    @work(exclusive=True, group="history", exit_on_error=False)
    async def reload(self) -> None:
        app = self.app
        if not isinstance(app, EngineWorkers):
            return
        try:
            passes = await app.engine.history(HISTORY_LIMIT)
        except Exception as error:
            self.post_message(self.LoadFailed(error))
        else:
            self.post_message(self.Loaded(passes))

    def on_history_view_loaded(self, message: Loaded) -> None:
        self.passes = message.passes
        self.clear()
        for record in message.passes:
            self.add_row(*history_cells(record))

    def on_history_view_load_failed(self, message: LoadFailed) -> None:
        self.app.notify(shown(f"The pass history could not be read: {message.error}"))
