"""The dashboard: live tables of the engine's articles, and keys that feed commands back to it.

Threading rule (harlequin's): engine commands run in async workers that only await the engine
and return; results and errors come back through `Worker.StateChanged`, handled here on the
app, which owns every widget. Engine events are buffered by an O(1) listener and applied on a
short tick, folded per article, inside one `batch_update()` (tui-anchors §3).
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.clock import Clock
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Label, RichLog, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from core.errors import HhsyncError
from core.events import (
    ArticleChanged,
    EngineLogged,
    Event,
    PassFinished,
    PassProgressed,
    PassStarted,
    RateLimitWaited,
)
from core.models import ArticleRecord, Status
from tui.columns import clock_time, parse_time
from tui.commands import HhsyncCommands
from tui.model import STATUSES, ArticleModel, TickBatch, fold
from tui.port import EnginePort
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen
from tui.screens.help import HelpScreen
from tui.settings import TuiSettings
from tui.state import PassCommand, PassRequests
from tui.widgets.article_table import ArticleTable
from tui.widgets.failure_note import FailureNote
from tui.widgets.header import HeaderState, SyncHeader
from tui.widgets.pass_status import PassStatus, pass_counts, pass_log_line, pass_summary

TAB_IDS: tuple[str, ...] = (*(str(s) for s in STATUSES), "log")
TAB_TITLES: dict[str, str] = {
    "synced": "Synced",
    "pending": "Pending",
    "skipped": "Skipped",
    "failed": "Failed",
    "log": "Log",
}
EMPTY_NOTES: dict[Status, str] = {
    Status.SYNCED: "Nothing synced yet · s starts a pass",
    Status.PENDING: "Nothing waiting: every change is in Halo",
    Status.SKIPPED: "Nothing skipped",
    Status.FAILED: "No failures",
}
LEVEL_STYLES = {"DEBUG": "dim", "INFO": "", "WARNING": "yellow", "ERROR": "bold red"}
TABLE_ACTIONS = ("resync", "unlink", "detail")


class FilterInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.close_filter", "Clear filter"),
        Binding("down", "app.focus_table", "Back to the table", show=False),
    ]


class HhsyncApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "hhsync"
    COMMANDS = App.COMMANDS | {HhsyncCommands}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sync(False)", "Sync", id="sync", tooltip="Run an incremental pass now"),
        Binding(
            "S",
            "sync(True)",
            "Full sync",
            show=False,
            id="full-sync",
            tooltip="Compare every article in scope with Halo",
        ),
        Binding(
            "r", "resync", "Resync", id="resync", tooltip="Push the article again, even unchanged"
        ),
        Binding(
            "u",
            "unlink",
            "Unlink",
            id="unlink",
            tooltip="Stop syncing the article; its Halo copy stays",
        ),
        Binding(
            "R",
            "retry_failed",
            "Retry failed",
            id="retry-failed",
            tooltip="Try every failed article again now",
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            id="filter",
            tooltip="Filter the table as you type",
            priority=True,  # focus moves before the keys typed after it are routed
        ),
        Binding("p", "pause", "Pause", id="pause", tooltip="Pause automatic passes"),
        Binding("p", "resume", "Resume", id="resume", tooltip="Resume automatic passes"),
        Binding("1", "show_tab('synced')", "Synced tab", show=False, id="tab-synced"),
        Binding("2", "show_tab('pending')", "Pending tab", show=False, id="tab-pending"),
        Binding("3", "show_tab('skipped')", "Skipped tab", show=False, id="tab-skipped"),
        Binding("4", "show_tab('failed')", "Failed tab", show=False, id="tab-failed"),
        Binding("5,l", "show_tab('log')", "Log tab", show=False, id="tab-log"),
        Binding("left_square_bracket", "cycle_tab(-1)", "Previous tab", show=False),
        Binding("right_square_bracket", "cycle_tab(1)", "Next tab", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("question_mark,f1", "help", "Help", id="help", tooltip="Show every key"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Asks first if a pass is running"),
        Binding("ctrl+c", "force_quit", "Quit now", show=False, priority=True),
    ]

    def __init__(
        self,
        engine: EnginePort,
        *,
        clock: Clock | None = None,
        now: Callable[[], datetime] | None = None,
        settings: TuiSettings | None = None,
        autostart: bool = True,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.settings = settings or TuiSettings()
        self.clock = clock or Clock()
        self.now = now or datetime.now
        self.autostart = autostart
        self.model = ArticleModel()
        self.pending_events: deque[Event] = deque()
        self.events_applied = 0
        self._unsubscribe: Callable[[], None] | None = None
        self._pass_full = False
        self._rate_wait: tuple[str, str, datetime] | None = None
        self._stopped = ""
        self._filter_timer: Timer | None = None
        self._targets: dict[Worker[Any], int] = {}
        """The article each resync/unlink worker acts on, to name it in its result."""
        self.requests = PassRequests()
        self._worker_requests: dict[Worker[Any], str] = {}
        if not self.settings.animations:
            self.animation_level = "none"
        self.pass_status = PassStatus(clock=self.clock, id="pass-status")
        self.header_bar = SyncHeader(self._header_state(), id="header")
        self.filter_input = FilterInput(
            placeholder="words in title, scope, id or reason · enter keeps · esc clears",
            id="filter",
            compact=True,
        )
        self.filter_bar = Horizontal(id="filter-bar")
        self.tabbed = TabbedContent(id="tabs", initial="synced")
        self.status_tables = {s: ArticleTable(s, id=f"table-{s}") for s in STATUSES}
        self.empty_notes = {s: Static("", classes="empty-note") for s in STATUSES}
        self.failure_note = FailureNote(id="failure-note")
        self.log_view = RichLog(
            id="log-view",
            max_lines=self.settings.log_max_lines,
            wrap=True,
            min_width=20,
            markup=False,
            highlight=False,
        )
        # Until the Log tab is first shown, RichLog keeps every write unrendered in an unbounded
        # deque (private, textual is pinned): bound it like the log itself, so a dashboard left
        # open for days neither grows nor stalls when the tab is finally opened.
        self.log_view._deferred_renders = deque(maxlen=self.settings.log_max_lines)

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield self.header_bar
        with self.filter_bar:
            yield Label("Filter", id="filter-label")
            yield self.filter_input
        with self.tabbed:
            for status, table in self.status_tables.items():
                with TabPane(TAB_TITLES[status], id=str(status)):
                    yield table
                    yield self.empty_notes[status]
                    if status == Status.FAILED:
                        yield self.failure_note
            with TabPane("Log", id="log"):
                yield self.log_view
        yield self.pass_status
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.filter_input.cursor_blink = False
        self.model.load(self.engine.records())
        for table in self.tables():
            table.ensure_columns()
            table.rebuild(self.model.by_status[table.status].values())
        self._update_tab_labels()
        self._show_failure_note()
        if self.settings.freeze_gc:
            gc.freeze()
        if self.engine.last_pass is not None:
            self.pass_status.show_summary(pass_summary(self.engine.last_pass))
        self._unsubscribe = self.engine.subscribe(self._enqueue)
        self.set_interval(self.settings.tick_seconds, self.drain)
        self.focus_table()
        if self.autostart:
            self.call_after_refresh(self._run_scheduler)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    # ------------------------------------------------------------------ lookups
    def tables(self) -> list[ArticleTable]:
        return list(self.status_tables.values())

    def table(self, status: Status | str) -> ArticleTable:
        return self.status_tables[Status(status)]

    @property
    def active_tab(self) -> str:
        return self.tabbed.active or "synced"

    def current_table(self) -> ArticleTable | None:
        tab = self.active_tab
        return self.table(tab) if tab != "log" else None

    def selected_id(self) -> int | None:
        """The article the keys act on: the detail screen's, else the cursor row's."""
        if isinstance(self.screen, DetailScreen):
            return self.screen.hudu_id
        table = self.current_table()
        return table.cursor_id if table is not None else None

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own commands, minus the two this app has better versions of."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Keys", "Quit"):  # our Help (?) and Quit (asks first)
                yield command

    def palette_commands(self) -> list[tuple[str, str, str]]:
        commands: list[tuple[str, str, str]] = []
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            if binding.action in ("force_quit", "clear_filter"):
                continue
            action = binding.action
            name, _, _ = action.partition("(")
            if self.check_action(name, ()) is False:
                continue
            key = self.get_key_display(Binding(binding.key.split(",")[0], ""))
            help_text = f"{binding.tooltip} · {key}" if binding.tooltip else key
            commands.append((binding.description, help_text, action))
            if action == "unlink" and self.check_action("detail", ()) is not False:
                commands.append(("Detail", "Show everything about the article · enter", "detail"))
        return commands

    def help_sections(self) -> list[tuple[str, list[Binding]]]:
        """Every key, grouped: the app's, the table's, the filter bar's and the dialogs'."""
        app_bindings = [b for b in self.BINDINGS if isinstance(b, Binding)]
        table_bindings = [b for b in ArticleTable.BINDINGS if isinstance(b, Binding)]
        filter_bindings = [b for b in FilterInput.BINDINGS if isinstance(b, Binding)]

        def actions(*prefixes: str) -> list[Binding]:
            return [b for b in app_bindings if b.action.startswith(prefixes)]

        pause = [
            Binding("p", "pause", "Pause / Resume", tooltip="Stop or restart the automatic passes")
        ]
        moves = [
            Binding("up,k", "", "Move up"),
            Binding("down,j", "", "Move down"),
            Binding("pageup,pagedown", "", "Page"),
        ]
        return [
            ("Sync", actions("sync", "retry_failed") + pause),
            ("Article (selected row)", actions(*TABLE_ACTIONS) + table_bindings[:1]),
            ("Tabs", actions("show_tab", "cycle_tab")),
            ("Table", moves + table_bindings[1:3]),
            (
                "Filter",
                [
                    *actions("filter", "clear_filter"),
                    Binding("enter", "", "Keep the filter"),
                    *filter_bindings,
                ],
            ),
            (
                "Dialogs",
                [
                    Binding("y", "", "Confirm (unlink, quit)"),
                    Binding("n,escape", "", "Cancel"),
                    Binding("escape,enter,q", "", "Close details or help"),
                ],
            ),
            (
                "App",
                [
                    *actions("help", "quit", "force_quit"),
                    Binding("ctrl+p", "command_palette", "Command palette"),
                ],
            ),
        ]

    # ------------------------------------------------------------------ live updates
    def _enqueue(self, event: Event) -> None:
        """The engine listener: O(1), called on the engine's loop."""
        self.pending_events.append(event)

    def drain(self) -> None:
        """The tick: apply every buffered event at once."""
        if not self.is_running:
            return  # shutting down: the widgets are going, a late tick must not touch them
        pending = self.pending_events
        count = len(pending)
        if count:
            self.apply_batch(fold(pending.popleft() for _ in range(count)))
        if self._rate_wait is not None and self.now() >= self._rate_wait[2]:
            self._rate_wait = None
        self.pass_status.tick(self._rate_wait_text(short=True))
        self._refresh_header()

    def apply_batch(self, batch: TickBatch) -> None:
        with self.batch_update():
            failures = self._new_failures(batch.articles)
            diff = self.model.apply(batch.articles)
            if diff:
                for table in self.tables():
                    status = table.status
                    if diff.upserts[status] or diff.removals[status]:
                        table.apply(diff.upserts[status], diff.removals[status])
                self._update_tab_labels()
                self._refresh_detail(diff.changed_ids)
                if diff.upserts[Status.FAILED] or diff.removals[Status.FAILED]:
                    self._show_failure_note()
            for event in batch.passes:
                self._apply_pass_event(event)
            if any(not isinstance(e, PassProgressed) for e in batch.passes):
                self._update_tab_labels()
            if batch.rate_waits:
                wait = batch.rate_waits[-1]
                until = self.now() + timedelta(seconds=wait.seconds)
                self._rate_wait = (wait.service, wait.reason, until)
            self._write_journal(batch.journal, failures)
        self.events_applied += batch.events

    def _new_failures(self, changes: dict[int, ArticleRecord | None]) -> dict[int, ArticleRecord]:
        """Articles that fail this tick (newly, or again after another attempt)."""
        failures: dict[int, ArticleRecord] = {}
        for hudu_id, record in changes.items():
            if record is None or record.status != Status.FAILED:
                continue
            old = self.model.get(hudu_id)
            if old is None or old.status != Status.FAILED or old.attempts != record.attempts:
                failures[hudu_id] = record
        return failures

    def _write_journal(self, journal: list[Event], failures: dict[int, ArticleRecord]) -> None:
        for event in journal:
            if isinstance(event, EngineLogged):
                self._log(event.level, event.message, event.at)
            elif isinstance(event, ArticleChanged):
                record = failures.pop(event.record.hudu_id, None)
                if record is not None:
                    self._log_failure(record)
            elif isinstance(event, RateLimitWaited):
                self._log("INFO", f"{event.service}: {event.reason}, waiting {event.seconds:.0f}s")
            elif isinstance(event, PassStarted):
                kind = "Full pass" if event.full else "Pass"
                self._log("INFO", f"{kind} started", event.started_at)
            elif isinstance(event, PassFinished):
                level = "ERROR" if event.error else "WARNING" if event.failed else "INFO"
                self._log(level, pass_log_line(event), event.finished_at)

    def _log_failure(self, record: ArticleRecord) -> None:
        message = Text.assemble(
            ("“", ""),
            (record.title, "bold"),
            (f"” #{record.hudu_id} ({record.scope}) failed", ""),
        )
        error = record.error or record.reason or "no error recorded"
        status = f"HTTP {record.http_status}: " if record.http_status else ""
        message.append(f": {status}{error}")
        if record.hint:
            message.append("\nFix: ", "bold yellow")
            message.append(record.hint, "yellow")
        self._log("WARNING", message, parse_time(record.last_attempt_at) or None)

    def _apply_pass_event(self, event: PassStarted | PassProgressed | PassFinished) -> None:
        status = self.pass_status
        if isinstance(event, PassStarted):
            self.requests.started(event)
            self._pass_full = event.full
            self._stopped = ""
            status.started(event)
        elif isinstance(event, PassProgressed):
            status.progressed(event)
        else:
            status.finished(event)
            self._notify_pass_result(event)

    def _update_tab_labels(self) -> None:
        tabs = self.tabbed
        for table in self.tables():
            total = self.model.count(table.status)
            title = TAB_TITLES[table.status]
            if table.filter_text:
                label = f"{title} {table.row_count:,}/{total:,}"
            else:
                label = f"{title} {total:,}"
            tab = tabs.get_tab(str(table.status))
            if tab.label_text != label:
                tab.label = label
            note = self.empty_notes[table.status]
            note.display = table.row_count == 0
            if note.display:
                note.update(self._empty_text(table))

    def _empty_text(self, table: ArticleTable) -> str:
        if table.filter_text:
            return f"Nothing here matches “{table.filter_text}” · esc clears the filter"
        if table.status == Status.SYNCED and self.engine.running:
            return "Nothing synced yet: the pass is running, rows appear here as Halo takes them"
        return EMPTY_NOTES[table.status]

    def _show_failure_note(self) -> None:
        hudu_id = self.table(Status.FAILED).cursor_id
        self.failure_note.show(self.model.get(hudu_id) if hudu_id is not None else None)

    def _refresh_detail(self, changed: set[int]) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, DetailScreen) and screen.hudu_id in changed:
                record = self.model.get(screen.hudu_id)
                if record is not None:
                    screen.show(record, self._halo_url(record))

    def _header_state(self) -> HeaderState:
        engine = self.engine
        return HeaderState(
            hudu=engine.hudu_label,
            halo=engine.halo_label,
            running=engine.running,
            full=self._pass_full,
            paused=engine.paused,
            next_pass_at=engine.next_pass_at,
            last_pass_at=engine.last_pass.finished_at if engine.last_pass else None,
            percent=self.pass_status.percent,
            rate_wait=self._rate_wait_text(),
            stopped=self._stopped,
        )

    def _rate_wait_text(self, *, short: bool = False) -> str:
        if self._rate_wait is None:
            return ""
        service, reason, until = self._rate_wait
        left = max(0, round((until - self.now()).total_seconds()))
        return f"{service} {left}s" if short else f"{service} {reason} {left}s"

    def _refresh_header(self) -> None:
        self.header_bar.show(self._header_state())

    def _log(self, level: str, message: str | Text, at: datetime | None = None) -> None:
        """One log entry: time and level, then the message wrapped under itself."""
        level = level.upper()
        line = Table.grid(padding=(0, 1), expand=True)
        line.add_column(no_wrap=True, style="dim")
        line.add_column(no_wrap=True, width=7, style=LEVEL_STYLES.get(level, ""))
        line.add_column(ratio=1, overflow="fold")
        line.add_row(clock_time(at or self.now()), level, message)
        self.log_view.write(line, expand=True)

    def _halo_url(self, record: ArticleRecord) -> str:
        return self.engine.halo_article_url(record.halo_id) if record.halo_id is not None else ""

    # ------------------------------------------------------------------ workers
    @work(exit_on_error=False, group="engine", name="scheduler")
    async def _run_scheduler(self) -> None:
        await self.engine.run_scheduler()

    @work(exit_on_error=False, group="commands", name="sync")
    async def _sync(self, full: bool, command_id: str) -> None:
        await self.engine.sync_now(full=full, command_id=command_id)

    @work(exit_on_error=False, group="commands", name="resync")
    async def _resync(self, hudu_id: int) -> ArticleRecord:
        return await self.engine.resync(hudu_id)

    @work(exit_on_error=False, group="commands", name="unlink")
    async def _unlink(self, hudu_id: int) -> ArticleRecord:
        return await self.engine.unlink(hudu_id)

    @work(exit_on_error=False, group="commands", name="retry")
    async def _retry_failed(self, command_id: str) -> None:
        await self.engine.retry_failed(command_id=command_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR:
            self._worker_failed(worker)
        elif event.state == WorkerState.SUCCESS:
            self._worker_done(worker)

    def _command_running(self, *names: str) -> bool:
        return any(
            w.group == "commands" and w.name in names and not w.is_finished for w in self.workers
        )

    def _worker_failed(self, worker: Worker[Any]) -> None:
        error = worker.error
        target = self._targets.pop(worker, None)
        command_id = self._worker_requests.pop(worker, "")
        self.requests.failed(command_id)
        what = {"scheduler": "The scheduler", "sync": "Sync", "retry": "Retry"}.get(
            worker.name, worker.name.capitalize()
        )
        if target is not None:
            record = self.model.get(target)
            what += f" of “{record.title}”" if record is not None else f" of article {target}"
        if isinstance(error, HhsyncError):
            hint = error.hint
            message = str(error) + (f"\n{hint}" if hint else "")
        else:
            message = f"{type(error).__name__}: {error}"
        self._log("ERROR", f"{what} failed: {message}")
        if worker.name == "scheduler":
            self._stopped = "engine stopped"
            self._refresh_header()
        self.notify(message, title=f"{what} failed", severity="error", timeout=12)

    def _worker_done(self, worker: Worker[Any]) -> None:
        result = worker.result
        self._targets.pop(worker, None)
        self._worker_requests.pop(worker, None)
        if worker.name == "resync" and isinstance(result, ArticleRecord):
            if result.status == Status.FAILED:
                self.notify(
                    result.hint or result.error or "it failed again",
                    title=f"Resync of “{result.title}” failed",
                    severity="error",
                    timeout=10,
                )
            else:
                self.notify(f"“{result.title}” is {result.status}", title="Resynced")
        elif worker.name == "unlink" and isinstance(result, ArticleRecord):
            self.notify(
                f"“{result.title}” is no longer synced; its Halo copy stays (r relinks it)",
                title="Unlinked",
            )
        elif worker.name == "scheduler" and not self._stopped:
            self._stopped = "scheduler stopped"
            self._refresh_header()

    def _notify_pass_result(self, event: PassFinished) -> None:
        """After a pass: what it did, worded for the command that asked for it, if any."""
        owner = self.requests.finished()
        if event.error:
            self.notify(event.error, title="Pass stopped", severity="error", timeout=10)
            return
        if owner is not None and owner.command == PassCommand.RETRY:
            tried, still = owner.failed_before, self.model.count(Status.FAILED)
            if not still:
                self.notify(
                    f"All {tried:,} failed articles are in Halo now", title="Retry finished"
                )
            else:
                self.notify(
                    f"{max(0, tried - still):,} of {tried:,} fixed · {still:,} still failing\n"
                    "The Failed tab shows what to change in Halo",
                    title="Retry finished",
                    severity="warning",
                    timeout=10,
                )
            return
        title = "Pass finished"
        if owner is not None:
            title = "Full sync finished" if event.full else "Sync finished"
        if event.failed:
            self.notify(
                f"{pass_counts(event)}\nThe Failed tab shows the fix (R retries)",
                title=title,
                severity="warning",
            )
        elif event.created or event.updated or event.removed:
            self.notify(pass_counts(event), title=title)
        elif owner is not None:
            self.notify("Nothing to send: Halo is up to date", title=title)

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if isinstance(self.screen, ConfirmScreen | HelpScreen) and action != "force_quit":
            return False
        if action == "pause":
            return not self.engine.paused
        if action == "resume":
            return self.engine.paused
        if action in TABLE_ACTIONS:
            if isinstance(self.screen, DetailScreen):
                return True
            if self.active_tab == "log":
                return False
            return None if self.selected_id() is None else True
        if action == "filter":
            return (
                self.active_tab != "log"
                and len(self.screen_stack) == 1
                and self.focused is not self.filter_input
            )
        if action == "clear_filter":
            table = self.current_table()
            return table is not None and bool(table.filter_text)
        if action == "close_filter":
            return bool(self.filter_bar.display)
        return True

    def action_sync(self, full: bool = False) -> None:
        if self.engine.running:
            self.notify("A pass is already running", severity="warning")
            return
        request = self.requests.ask(PassCommand.SYNC)
        self._worker_requests[self._sync(full, request.command_id)] = request.command_id

    def action_resync(self) -> None:
        hudu_id = self.selected_id()
        if hudu_id is None:
            self.notify("Select an article first", severity="warning")
            return
        if self.engine.running:
            self.notify("Resync queued: it runs as soon as the current pass ends")
        self._targets[self._resync(hudu_id)] = hudu_id

    def action_unlink(self) -> None:
        hudu_id = self.selected_id()
        record = self.model.get(hudu_id) if hudu_id is not None else None
        if hudu_id is None or record is None:
            self.notify("Select an article first", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._targets[self._unlink(hudu_id)] = hudu_id

        self.push_screen(
            ConfirmScreen(
                f"Unlink “{record.title}”?",
                "hhsync stops syncing it. Its Halo copy stays and becomes Halo's to edit;"
                " r (resync) links it again.",
                yes="Unlink",
            ),
            answered,
        )

    def action_retry_failed(self) -> None:
        failed = self.model.count(Status.FAILED)
        if not failed:
            self.notify("No failed articles")
            return
        if self._command_running("retry"):
            self.notify("A retry is already running", severity="warning")
            return
        request = self.requests.ask(PassCommand.RETRY, failed_before=failed)
        if self.engine.running:
            self.notify(f"Retry of {failed:,} queued: it runs as soon as the current pass ends")
        self._worker_requests[self._retry_failed(request.command_id)] = request.command_id

    def action_pause(self) -> None:
        self.engine.pause()
        self.notify("Automatic passes paused · s still syncs now · p resumes")
        self._after_pause_toggle()

    def action_resume(self) -> None:
        self.engine.resume()
        self.notify("Automatic passes resumed")
        self._after_pause_toggle()

    def _after_pause_toggle(self) -> None:
        self._refresh_header()
        self.refresh_bindings()

    def action_show_tab(self, tab: str) -> None:
        if isinstance(self.screen, DetailScreen):
            self.screen.dismiss()
        self.tabbed.active = tab

    def action_cycle_tab(self, step: int) -> None:
        index = TAB_IDS.index(self.active_tab)
        self.action_show_tab(TAB_IDS[(index + step) % len(TAB_IDS)])

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        table = self.current_table()
        filter_input = self.filter_input
        if table is None:
            self.filter_bar.display = False
        else:
            if table.needs_sort:
                table.sort_rows()
                if table.status == Status.FAILED:
                    # the cursor stayed on its row, the article under it changed: no highlight
                    self._show_failure_note()
            with filter_input.prevent(Input.Changed):
                filter_input.value = table.filter_text
            self.filter_bar.display = bool(table.filter_text)
        self.focus_table()
        self.refresh_bindings()

    def action_focus_table(self) -> None:
        self.focus_table()

    def focus_table(self) -> None:
        table = self.current_table()
        if table is not None:
            table.focus()
        else:
            self.log_view.focus()

    def action_filter(self) -> None:
        table = self.current_table()
        if table is None:
            return
        self.filter_bar.display = True
        # Focus now, not on the next message: keys typed right after `/` (a paste, or a burst
        # over a slow SSH link) are already queued and must land in the filter, not run as keys.
        self.screen.set_focus(self.filter_input)

    def action_close_filter(self) -> None:
        """`esc` in the filter bar: clear it and go back to the table, even when empty."""
        self.action_clear_filter()

    def action_clear_filter(self) -> None:
        filter_input = self.filter_input
        table = self.current_table()
        with filter_input.prevent(Input.Changed):
            filter_input.value = ""
        self.filter_bar.display = False
        if table is not None and table.filter_text:
            self._apply_filter(table, "")
        self.focus_table()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(self.settings.filter_debounce_seconds, self._filter_now)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self._filter_now()
        table = self.current_table()
        if table is not None and not table.filter_text:
            self.filter_bar.display = False
        self.focus_table()

    def _filter_now(self) -> None:
        if not self.is_running:
            return
        table = self.current_table()
        if table is not None:
            text = self.filter_input.value
            if text != table.filter_text:
                self._apply_filter(table, text)

    def _apply_filter(self, table: ArticleTable, text: str) -> None:
        with self.batch_update():
            table.set_filter(text, self.model.by_status[table.status].values())
            self._update_tab_labels()
            if table.status == Status.FAILED:
                self._show_failure_note()
        self.refresh_bindings()

    @on(ArticleTable.RowSelected)
    def _row_selected(self, event: ArticleTable.RowSelected) -> None:
        self.action_detail()

    def action_detail(self) -> None:
        hudu_id = self.selected_id()
        record = self.model.get(hudu_id) if hudu_id is not None else None
        if record is not None and not isinstance(self.screen, DetailScreen):
            self.push_screen(DetailScreen(record, self._halo_url(record)))

    @on(ArticleTable.RowHighlighted)
    def _row_highlighted(self, event: ArticleTable.RowHighlighted) -> None:
        if event.data_table is self.table(Status.FAILED):
            self._show_failure_note()
        self.refresh_bindings()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_sections()))

    async def action_quit(self) -> None:
        if not self.engine.running:
            self.shutdown()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.shutdown()

        self.push_screen(
            ConfirmScreen(
                "A pass is running. Quit anyway?",
                "It stops between two articles; the next start picks up where it left off.",
                yes="Quit",
            ),
            answered,
        )

    def action_force_quit(self) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        self.engine.stop()
        self.exit(0)


def make_app(
    engine: EnginePort,
    *,
    clock: Clock | None = None,
    now: Callable[[], datetime] | None = None,
    settings: TuiSettings | None = None,
    autostart: bool = True,
) -> HhsyncApp:
    """The one factory, shared by `hhsync-tui` and the tests (posting's `make_posting`)."""
    return HhsyncApp(engine, clock=clock, now=now, settings=settings, autostart=autostart)
