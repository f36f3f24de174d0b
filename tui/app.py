"""The dashboard app: it loads the engine's articles, applies the engine's events on a tick, runs
engine commands in workers and owns the key actions. `make_app` is the one factory.

The engine is embedded (the dashboard runs the scheduler, and syncing stops when it quits) or
the service's (`hhsync run`; the dashboard follows it, `q` leaves at once, and while the service
does not answer the keys that need it are refused with a notice until it is back).

Threading rule: engine commands run in async workers that only await the engine and post a
typed message (`tui.messages`); the app's handlers, which own every widget, show the result.
Engine events are buffered by an O(1) listener and applied on a short tick, folded per article
(`tui.model.fold`), inside one `batch_update()`, so a pass of thousands of articles costs a few
repaints a second instead of one per event.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.binding import BindingType
from textual.clock import Clock
from textual.command import Provider
from textual.screen import Screen
from textual.worker import Worker

from core.events import Event, PassProgressed, PassStarted, ServiceAttached, ServiceLost
from core.models import Status
from tui import notices
from tui.bindings import APP_BINDINGS, TABLE_ACTIONS, help_sections
from tui.collector import QuietCollector
from tui.commands import HhsyncCommands
from tui.guards import needs_the_engine
from tui.messages import (
    Command,
    CommandFailed,
    ResyncFinished,
    SchedulerPaused,
    SchedulerResumed,
    SchedulerStopped,
    UnlinkFinished,
)
from tui.model import ArticleModel, TickBatch, TimelineEvent, fold
from tui.pass_text import pass_summary
from tui.port import EnginePort
from tui.screens.confirm import ConfirmScreen
from tui.screens.dashboard import LOG_TAB, DashboardScreen
from tui.screens.detail import DetailScreen
from tui.screens.help import HelpScreen
from tui.settings import TuiSettings
from tui.state import DashboardState, HeaderState, PassCommand
from tui.table_actions import DIALOGS, TableActions
from tui.theme_once import ThemeOnce
from tui.untrusted import shown
from tui.widgets.article_table import ArticleTable


class HhsyncApp(ThemeOnce, TableActions):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: a subclass elsewhere finds it
    TITLE = "hhsync"
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {HhsyncCommands}
    """Not Textual's own: its Screenshot writes a file on the host hhsync runs on."""
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [*APP_BINDINGS]

    def __init__(
        self,
        engine: EnginePort,
        *,
        clock: Clock | None = None,
        now: Callable[[], datetime] | None = None,
        settings: TuiSettings | None = None,
        autostart: bool = True,
        service: ServiceAttached | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.settings = settings or TuiSettings()
        self.clock = clock or Clock()
        self.now = now or datetime.now
        self.autostart = autostart
        """Start the engine's scheduler (the first pass at once) when the dashboard is shown."""
        self.model = ArticleModel()
        self.state = DashboardState()
        if service is not None:
            self.state.service_attached(service)
        self.farewell = ""
        """What the command line prints once the dashboard is gone (set when quitting)."""
        self.pending_events: deque[Event] = deque()
        """Engine events not yet applied; the tick empties it."""
        self._unsubscribe: Callable[[], None] | None = None
        self._retry: Worker[None] | None = None
        self._queued_sync: Worker[None] | None = None
        if not self.settings.animations:
            self.animation_level = "none"
        self.collector = QuietCollector()
        self.dashboard = DashboardScreen(
            self.model,
            self._header_state(percent=None),
            settings=self.settings,
            clock=self.clock,
            now=self.now,
            last_pass=engine.last_pass,
        )

    # ------------------------------------------------------------------ start and stop
    def on_load(self) -> None:
        """Before the dashboard is built: the articles, and the engine's events from now on."""
        if self.settings.freeze_gc:
            self.collector.hold()  # until the tables are filled: see `TuiSettings.freeze_gc`
        self.model.load(self.engine.records())
        self._unsubscribe = self.engine.subscribe(self._enqueue)

    def get_default_screen(self) -> Screen[Any]:
        return self.dashboard

    async def on_mount(self) -> None:
        # Textual mounts the default screen after the app: wait for its tables, so the app is
        # ready (for a pilot, too) only once they are filled.
        try:
            await self.dashboard.filled.wait()
        finally:
            if self.settings.freeze_gc:
                self.collector.start()
                self.call_after_refresh(self.collector.freeze)  # what the first paint made
                self.set_interval(self.settings.collect_seconds, self.collector.collect_when_due)
        attached = self.state.service
        if attached is not None:
            event = ServiceAttached(attached.pid, attached.version, attached.socket)
            self.dashboard.event_log.write_journal([event], {})
        self.set_interval(self.settings.tick_seconds, self.drain)
        if self.autostart:
            self.call_after_refresh(self.start_scheduler)

    def on_unmount(self) -> None:
        self.collector.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def shutdown(self) -> None:
        """Leave: an attached dashboard stops following (the service goes on); an embedded one
        stops the engine, and with it the automatic passes."""
        self.farewell = notices.farewell(self.state.service)
        self.engine.stop()
        self.exit(0)

    # ------------------------------------------------------------------ the tick
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
        self.dashboard.pass_status.tick(self.state.rate_wait_text(self.now(), short=True))
        self._refresh_header()

    def apply_batch(self, batch: TickBatch) -> None:
        dashboard = self.dashboard
        with self.batch_update():
            failures = self.model.new_failures(batch.articles)
            diff = self.model.apply(batch.articles)
            if diff:
                dashboard.show_changes(diff)
                self._refresh_detail(diff.changed_ids)
            for event in batch.timeline:
                self._apply_timeline_event(event)
            if any(not isinstance(e, PassProgressed) for e in batch.timeline):
                dashboard.update_tab_labels()  # an empty table's note depends on a pass running
            if batch.rate_wait is not None:
                self.state.rate_limited(batch.rate_wait, self.now())
            dashboard.event_log.write_journal(batch.journal, failures)

    def _apply_timeline_event(self, event: TimelineEvent) -> None:
        status = self.dashboard.pass_status
        if isinstance(event, ServiceLost):
            self.state.service_lost()
            status.interrupted(notices.PASS_INTERRUPTED)
            self.tell(notices.SERVICE_LOST)
        elif isinstance(event, ServiceAttached):
            was_answering = self.state.service_answering
            self.state.service_attached(event)
            last = self.engine.last_pass
            if last is not None and not self.engine.running:
                status.show_summary(pass_summary(last))  # it may have passed while away
            if not was_answering:
                self.tell(notices.service_back(event.pid))
            self.refresh_bindings()  # `p` says Pause or Resume as the service has it
        elif isinstance(event, PassStarted):
            self.state.pass_started(event)
            status.started(event)
        elif isinstance(event, PassProgressed):
            # Progress belongs to a pass: one started, or one already running when the
            # dashboard opened. A resync reports its batch too, but opens no pass to close.
            if status.running or self.engine.running:
                status.progressed(event)
        else:
            status.finished(event)
            request = self.state.requests.finished()
            failed_now = self.model.count(Status.FAILED)
            self.tell(notices.pass_finished(event, request, failed_now))

    def _refresh_detail(self, changed: set[int]) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, DetailScreen) and screen.hudu_id in changed:
                record = self.model.get(screen.hudu_id)
                if record is not None:
                    screen.show(record, self._halo_url(record.halo_id))

    def _header_state(self, *, percent: int | None) -> HeaderState:
        return self.state.header(self.engine, percent=percent, now=self.now())

    def _refresh_header(self) -> None:
        dashboard = self.dashboard
        dashboard.header_bar.show(self._header_state(percent=dashboard.pass_status.percent))

    # ------------------------------------------------------------------ worker results
    def on_resync_finished(self, message: ResyncFinished) -> None:
        self.tell(notices.resynced(message.record))

    def on_unlink_finished(self, message: UnlinkFinished) -> None:
        """The cursor follows the article to Skipped, so `r` relinks it (applied now: its event
        may come on a later tick), not the row now in its place."""
        record = message.record
        self.apply_unlinked([record])
        followed = not isinstance(self.screen, DetailScreen) and self.dashboard.follow(record)
        self.tell(notices.unlinked(record, followed=followed))

    def on_scheduler_paused(self, message: SchedulerPaused) -> None:
        self.state.pause_asked = False
        self.tell(notices.PAUSED_AFTER_THIS_PASS if self.engine.running else notices.PAUSED)
        self._after_pause_toggle()

    def on_scheduler_resumed(self, message: SchedulerResumed) -> None:
        self.tell(notices.RESUMED)
        self._after_pause_toggle()

    def _after_pause_toggle(self) -> None:
        self._refresh_header()
        self.refresh_bindings()  # `p` says Pause or Resume

    def on_scheduler_stopped(self, message: SchedulerStopped) -> None:
        if not self.state.stopped:
            self.state.stopped = "scheduler stopped"
            self._refresh_header()

    def on_command_failed(self, message: CommandFailed) -> None:
        self.state.requests.failed(message.command_id)
        target = message.target
        record = self.model.get(target) if target is not None else None
        notice = notices.command_failed(message.command.label, message.error, target, record)
        self.dashboard.event_log.write_entry("ERROR", f"{notice.title}: {notice.message}")
        if message.command is Command.PAUSE:
            self.state.pause_asked = False
            self._refresh_header()
        if message.command is Command.SCHEDULER:
            self.state.stopped = "engine stopped"
            self._refresh_header()
        self.tell(notice)

    def tell(self, notice: notices.Notice | None) -> None:
        """Show a notice as written and inert: titles and errors come from Hudu and Halo; `[/b]`
        in one must not be read as markup (Textual would raise), nor ESC reach the terminal."""
        if notice is not None:
            self.notify(
                shown(notice.message, one_line=False),
                title=shown(notice.title),
                severity=notice.severity,
                timeout=notice.timeout,
                markup=False,
            )

    def ask(self, question: notices.Question, answered: Callable[[], object]) -> None:
        """A yes/no dialog; `answered` runs only on yes."""

        def on_answer(yes: bool | None) -> None:
            if yes:
                answered()

        self.push_screen(
            ConfirmScreen(question.question, question.detail, yes=question.yes), on_answer
        )

    # ------------------------------------------------------------------ lookups
    def selected_id(self) -> int | None:
        """The article the keys act on: the detail screen's, else the cursor row's."""
        if isinstance(self.screen, DetailScreen):
            return self.screen.hudu_id
        table = self.dashboard.current_table()
        return table.cursor_id if table is not None else None

    def _halo_url(self, halo_id: int | None) -> str:
        return self.engine.halo_article_url(halo_id) if halo_id is not None else ""

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        dashboard = self.dashboard
        if isinstance(self.screen, DIALOGS) and action != "force_quit":
            return False
        if action == "pause":
            return not self.engine.paused
        if action == "resume":
            return self.engine.paused
        if action in TABLE_ACTIONS:
            if isinstance(self.screen, DetailScreen):
                return True
            return dashboard.current_table() is not None  # an empty one's keys say why not
        if action == "filter":
            return (
                dashboard.active_tab != LOG_TAB
                and len(self.screen_stack) == 1
                and self.focused is not dashboard.filter_input
            )
        if action == "clear_filter":
            return dashboard.filtering
        if action == "close_filter":
            return dashboard.filter_open
        return self.table_action_allowed(action)

    @needs_the_engine
    def action_sync(self, full: bool = False) -> None:
        """During a pass, a full sync is queued (it runs next); an incremental one is not
        needed: the next pass starts from where the running one began."""
        queued = self._queued_sync is not None and not self._queued_sync.is_finished
        if self.engine.running and (queued or not full or self.state.pass_full):
            self.tell(notices.sync_refused(full=full, queued=queued))
            return
        request = self.state.requests.ask(PassCommand.SYNC)
        if self.engine.running:
            self.tell(notices.FULL_SYNC_QUEUED)
            self._queued_sync = self.request_sync(full, request.command_id)
            return
        self.request_sync(full, request.command_id)

    @needs_the_engine
    def action_retry_failed(self) -> None:
        failed = self.model.count(Status.FAILED)
        if not failed:
            self.tell(notices.NO_FAILED_ARTICLES)
            return
        if self._retry is not None and not self._retry.is_finished:
            self.tell(notices.RETRY_ALREADY_RUNNING)
            return
        request = self.state.requests.ask(PassCommand.RETRY, failed_before=failed)
        if self.engine.running:
            self.tell(notices.retry_queued(failed))
        self._retry = self.request_retry(request.command_id)

    @needs_the_engine
    def action_resync(self) -> None:
        if self.resync_marked():
            return
        hudu_id = self.selected_id()
        if hudu_id is None:
            self.tell(self.dashboard.why_no_row())
            return
        if self.engine.running:
            self.tell(notices.RESYNC_QUEUED)
        self.request_resync(hudu_id)

    @needs_the_engine
    def action_unlink(self) -> None:
        if self.unlink_marked():
            return
        hudu_id = self.selected_id()
        record = self.model.get(hudu_id) if hudu_id is not None else None
        refused = self.dashboard.why_no_row() if record is None else notices.unlink_refused(record)
        if refused is not None or record is None:
            self.tell(refused)
            return

        self.ask(notices.unlink_question(record), lambda: self.request_unlink(record.hudu_id))

    def action_detail(self) -> None:
        hudu_id = self.selected_id()
        record = self.model.get(hudu_id) if hudu_id is not None else None
        if record is None:
            self.tell(self.dashboard.why_no_row())
        elif not isinstance(self.screen, DetailScreen):
            self.push_screen(DetailScreen(record, self._halo_url(record.halo_id)))

    @on(ArticleTable.RowSelected)
    def _row_selected(self, event: ArticleTable.RowSelected) -> None:
        self.action_detail()

    @needs_the_engine
    def action_pause(self) -> None:
        self.state.pause_asked = True
        self._refresh_header()  # at once: a pass in flight finishes first
        self.request_pause()

    @needs_the_engine
    def action_resume(self) -> None:
        self.request_resume()

    def action_show_tab(self, tab: str) -> None:
        if isinstance(self.screen, DetailScreen):
            self.screen.dismiss()
        self.dashboard.show_tab(tab)

    def action_filter(self) -> None:
        self.dashboard.open_filter()

    def action_clear_filter(self) -> None:
        self.dashboard.clear_filter()

    def action_close_filter(self) -> None:
        """`esc` in the filter: clear it and go back to the table, even when empty."""
        self.dashboard.clear_filter()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(help_sections()))

    async def action_quit(self) -> None:
        """Attached, leave at once: the service keeps syncing. Embedded, ask first while a pass
        runs (the farewell line says that automatic syncing stopped)."""
        if self.state.service is None and self.engine.running:
            self.ask(notices.QUIT_WHILE_RUNNING, self.shutdown)
        else:
            self.shutdown()

    def action_force_quit(self) -> None:
        self.shutdown()


def make_app(
    engine: EnginePort,
    *,
    clock: Clock | None = None,
    now: Callable[[], datetime] | None = None,
    settings: TuiSettings | None = None,
    autostart: bool = True,
    service: ServiceAttached | None = None,
) -> HhsyncApp:
    """The one factory, shared by `hhsync-tui`, the tests and the benchmark. `service` is the
    service the engine runs in (`core.remote.RemoteEngine`); None for an embedded engine."""
    return HhsyncApp(
        engine, clock=clock, now=now, settings=settings, autostart=autostart, service=service
    )
