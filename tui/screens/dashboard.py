"""The main screen: the header, one tab per status plus the Log and History, the line under the
tables (the filter and the cursor's position), the pass line and the footer. It lays them out,
switches tabs, filters the tables and patches them from the model; the app decides when (the
tick) and with what (the engine's events)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.clock import Clock
from textual.content import Content
from textual.events import Resize
from textual.reactive import Reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static, TabbedContent, TabPane

from core.events import PassFinished
from core.models import ArticleRecord, Status
from tui import notices
from tui.model import STATUSES, ArticleModel, ModelDiff
from tui.pass_text import pass_summary
from tui.settings import TuiSettings
from tui.state import HeaderState
from tui.textual_private import relabel
from tui.untrusted import shown
from tui.widgets.article_table import ArticleTable
from tui.widgets.event_log import EventLog
from tui.widgets.failure_note import FailureNote
from tui.widgets.filter_input import FilterInput
from tui.widgets.header import SyncHeader
from tui.widgets.history_view import HistoryView
from tui.widgets.key_footer import KeyFooter
from tui.widgets.log_search import LogSearch
from tui.widgets.pass_status import PassStatus
from tui.widgets.table_status import TableStatus

LOG_TAB = "log"
HISTORY_TAB = "history"
TAB_IDS: tuple[str, ...] = (*(str(s) for s in STATUSES), LOG_TAB, HISTORY_TAB)
AGES_EVERY_SECONDS = 30
"""How often the tables' ages ("3m") are counted again."""
TAB_TITLES: dict[str, str] = {
    "synced": "1 Synced",
    "pending": "2 Pending",
    "skipped": "3 Skipped",
    "failed": "4 Failed",
    LOG_TAB: "5 Log",
    HISTORY_TAB: "6 History",
}
"""Each with the number key that shows it."""
EMPTY_NOTES: dict[Status, str] = {
    Status.SYNCED: "Nothing synced yet · s starts a pass",
    Status.PENDING: "Nothing waiting: every change is in Halo",
    Status.SKIPPED: "Nothing skipped",
    Status.FAILED: "No failures",
}


class DashboardScreen(Screen[None]):
    """Shows `model`; the app keeps the model current and calls `show_changes` each tick.
    `now` stamps log entries that carry no time of their own."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """The stock screen paints itself whole when the focus moves (`/`, esc: ~30 ms at
    50,000 rows); the widgets that gain or lose it restyle and paint themselves."""

    def __init__(
        self,
        model: ArticleModel,
        header: HeaderState,
        *,
        settings: TuiSettings,
        clock: Clock,
        now: Callable[[], datetime],
        last_pass: PassFinished | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.settings = settings
        self.filled = asyncio.Event()
        """Set once the tables hold the model as it was when the screen was mounted."""
        self._filter_timer: Timer | None = None
        self._tab_taken = "synced"
        """The tab whose filter and focus were last set up (`_took_tab`)."""
        self._labels: dict[Status, tuple[str, str, bool]] = {}
        """Each status tab's label as last set: title, count, filtered."""
        self.header_bar = SyncHeader(header, id="header")
        self.filter_input = FilterInput(id="filter", compact=True)
        self.table_status = TableStatus(self.filter_input, id="table-status")
        self.tabbed = TabbedContent(id="tabs", initial="synced")
        self.status_tables = {s: ArticleTable(s, now=now, id=f"table-{s}") for s in STATUSES}
        self.empty_notes = {
            s: Static("", classes="empty-note", markup=False) for s in STATUSES
        }  # a note may quote the filter text
        self.failure_note = FailureNote(now=now, id="failure-note")
        self.event_log = EventLog(max_lines=settings.log_max_lines, now=now, id="log-view")
        self.log_search = LogSearch(self.event_log, id="log-search")
        self.pass_status = PassStatus(clock=clock, id="pass-status")
        self.history_view = HistoryView(id="history-view")
        if last_pass is not None:
            self.pass_status.summary_text = pass_summary(last_pass)

    def compose(self) -> ComposeResult:
        yield self.header_bar
        with self.tabbed:
            for status, table in self.status_tables.items():
                with TabPane(TAB_TITLES[status], id=str(status)):
                    yield table
                    yield self.empty_notes[status]
                    if status == Status.FAILED:
                        yield self.failure_note
            with TabPane(TAB_TITLES[LOG_TAB], id=LOG_TAB):
                yield self.log_search
                yield self.event_log
            with TabPane(TAB_TITLES[HISTORY_TAB], id=HISTORY_TAB):
                yield self.history_view
        yield self.table_status
        yield self.pass_status
        yield KeyFooter()

    def on_mount(self) -> None:
        try:
            self.filter_input.cursor_blink = False
            for table in self.tables():
                table.ensure_columns()
                table.rebuild(self.model.by_status[table.status].values())
                self.watch(table, "position", self._position_moved)
            self.update_tab_labels()
            self.show_failure_note()
            self.focus_table()
            self.set_interval(AGES_EVERY_SECONDS, self.refresh_ages)
        finally:
            self.filled.set()  # also on an error, so the app does not wait forever

    def on_resize(self, event: Resize) -> None:
        """A short terminal gives the Failed table's rows the room, the note under it less."""
        self.failure_note.styles.max_height = max(3, min(6, event.size.height // 4))

    # ------------------------------------------------------------------ lookups
    def tables(self) -> list[ArticleTable]:
        return list(self.status_tables.values())

    def table(self, status: Status | str) -> ArticleTable:
        return self.status_tables[Status(status)]

    @property
    def active_tab(self) -> str:
        return self.tabbed.active or "synced"

    def current_table(self) -> ArticleTable | None:
        """The table of the tab shown; None on the Log and History tabs."""
        tab = self.active_tab
        return self.table(tab) if tab not in (LOG_TAB, HISTORY_TAB) else None

    @property
    def filter_open(self) -> bool:
        return self.table_status.filter_open

    @property
    def filtering(self) -> bool:
        """The table shown is filtered."""
        table = self.current_table()
        return table is not None and bool(table.filter_text)

    # ------------------------------------------------------------------ live updates
    def show_changes(self, diff: ModelDiff) -> None:
        """Patch the tables with what one tick changed in the model."""
        for table in self.tables():
            status = table.status
            if diff.upserts[status] or diff.removals[status]:
                table.apply(diff.upserts[status], diff.removals[status])
        self.update_tab_labels()
        if diff.upserts[Status.FAILED] or diff.removals[Status.FAILED]:
            self.show_failure_note()

    def refresh_ages(self) -> None:
        with self.app.batch_update():
            for table in self.tables():
                table.refresh_ages()
        self.failure_note.refresh_age()

    def update_tab_labels(self) -> None:
        """`1 Synced 1,204`, the count underlined while the table is filtered (the line under
        it says how many match), and the note of an empty table. A filter keystroke leaves the
        label as wide as it was, so it is painted again without a layout pass."""
        tabs = self.tabbed
        for table in self.tables():
            count = f"{self.model.count(table.status):,}"
            label = (TAB_TITLES[table.status], count, bool(table.filter_text))
            if self._labels.get(table.status) != label:
                self._labels[table.status] = label
                style = "underline" if table.filter_text else ""
                relabel(
                    tabs.get_tab(str(table.status)),
                    Content.assemble(f"{label[0]} ", (count, style)),
                )
            note = self.empty_notes[table.status]
            note.display = table.row_count == 0
            if note.display:
                note.update(shown(self._empty_text(table)))  # it may quote a pasted filter

    def _empty_text(self, table: ArticleTable) -> str:
        if table.filter_text:
            return f"Nothing here matches “{table.filter_text}” · esc clears the filter"
        if table.status == Status.SYNCED and self.pass_status.running:
            return "Nothing synced yet: the pass is running, rows appear here as Halo takes them"
        return EMPTY_NOTES[table.status]

    def why_no_row(self) -> notices.Notice:
        """Why a key for the selected article cannot act here."""
        table = self.current_table()
        if table is None:
            return notices.SELECT_AN_ARTICLE
        return notices.empty_table(str(table.status), table.filter_text)

    def show_failure_note(self) -> None:
        """Under the Failed table: the error and fix of the article under its cursor."""
        hudu_id = self.table(Status.FAILED).cursor_id
        self.failure_note.show(self.model.get(hudu_id) if hudu_id is not None else None)

    def follow(self, record: ArticleRecord) -> bool:
        """Show the tab of `record` with the cursor on its row; False if its table does not
        show it (its filter hides it)."""
        table = self.table(record.status)
        key = str(record.hudu_id)
        if key not in table.rows:
            return False
        table.move_cursor(row=table.get_row_index(key))
        self.show_tab(str(record.status))
        return True

    def _position_moved(self) -> None:
        table = self.current_table()
        if table is not None:
            self.table_status.show_position(table.position)

    # ------------------------------------------------------------------ tabs
    def show_tab(self, tab: str) -> None:
        """Show `tab` with its filter, its table focused, at once: keys that come with the tab's
        in one burst (`2/vpn` over a slow link) act on it, not on the tab they were typed on."""
        self.tabbed.active = tab
        self._took_tab()

    def cycle_tab(self, step: int) -> None:
        index = TAB_IDS.index(self.active_tab)
        self.show_tab(TAB_IDS[(index + step) % len(TAB_IDS)])

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if self.active_tab != self._tab_taken:  # a click on the tab, not `show_tab`
            self._took_tab()

    def _took_tab(self) -> None:
        self._tab_taken = self.active_tab
        table = self.current_table()
        filter_input = self.filter_input
        self.table_status.display = table is not None
        if table is not None:
            if table.status == Status.FAILED:
                # The rows may have moved under the cursor while the tab was hidden: Textual
                # posts no highlight for that, so the note would name the article that was there.
                self.show_failure_note()
            with filter_input.prevent(Input.Changed):
                filter_input.value = table.filter_text
            self.table_status.filter_open = bool(table.filter_text)
            self.table_status.show_position(table.position)
        self.focus_table()
        self.refresh_bindings()

    def focus_table(self) -> None:
        """Now, not on a later message (`Widget.focus`): a key already queued goes to it."""
        table = self.current_table()
        if table is not None:
            self.set_focus(table)
        else:
            self.set_focus(self.history_view if self.active_tab == HISTORY_TAB else self.event_log)

    @on(ArticleTable.RowHighlighted)
    def _row_highlighted(self, event: ArticleTable.RowHighlighted) -> None:
        if event.data_table is self.table(Status.FAILED):
            self.show_failure_note()
        self.refresh_bindings()

    # ------------------------------------------------------------------ filter
    def open_filter(self) -> None:
        if self.current_table() is None:
            return
        self.table_status.filter_open = True
        # Focus now, not on the next message: keys typed right after `/` (a paste, or a burst
        # over a slow SSH link) are already queued and must land in the filter, not run as keys.
        self.set_focus(self.filter_input)

    def clear_filter(self) -> None:
        """Empty the filter, close its bar and go back to the table."""
        filter_input = self.filter_input
        table = self.current_table()
        with filter_input.prevent(Input.Changed):
            filter_input.value = ""
        self.table_status.filter_open = False
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
            self.table_status.filter_open = False
        self.focus_table()

    def _filter_now(self) -> None:
        if not self.app.is_running:
            return
        table = self.current_table()
        if table is not None:
            text = self.filter_input.value
            if text != table.filter_text:
                self._apply_filter(table, text)

    def _apply_filter(self, table: ArticleTable, text: str) -> None:
        keys_shown = (bool(table.filter_text), bool(table.row_count))
        with self.app.batch_update():
            table.set_filter(text)
            self.update_tab_labels()
            if table.status == Status.FAILED:
                self.show_failure_note()
        if (bool(table.filter_text), bool(table.row_count)) != keys_shown:
            self.refresh_bindings()  # the footer is made again: only when its keys change
