"""The app's keys for the table shown, beyond one article: sort by a column, mark rows and
resync or unlink the marked ones with one question, undo the last unlink, copy a link or id,
and half pages. A base class of the app (which keeps the keys on one article)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from textual import on
from textual.widgets import Input

from core.models import ArticleRecord
from tui import bulk_text
from tui.clipboard import CopyChoice, safe_to_copy
from tui.guards import needs_the_engine
from tui.messages import ManyResynced, ManyUnlinked
from tui.model import ArticleModel, TickBatch
from tui.notices import RESYNC_QUEUED, Notice, Question, unlink_refused
from tui.screens.confirm import ConfirmScreen
from tui.screens.copy import CopyScreen
from tui.screens.dashboard import LOG_TAB, DashboardScreen
from tui.screens.detail import DetailScreen
from tui.screens.help import HelpScreen
from tui.state import DashboardState
from tui.widgets.article_table import ArticleTable
from tui.workers import EngineWorkers

DIALOGS = (ConfirmScreen, HelpScreen, CopyScreen)
"""Screens over which the app's keys do nothing (but `ctrl+c`)."""
ON_THE_TABLE = ("mark", "mark_all", "sort_column", "sort_reverse", "half_page")
"""Actions that need a status table shown, with no dialog over it."""


class TableActions(EngineWorkers):
    model: ArticleModel
    dashboard: DashboardScreen
    state: DashboardState
    last_unlinked: tuple[ArticleRecord, ...] = ()
    """The articles of this session's last unlink (`z` links them again)."""

    if TYPE_CHECKING:

        def tell(self, notice: Notice | None) -> None: ...
        def ask(self, question: Question, answered: Callable[[], object]) -> None: ...
        def selected_id(self) -> int | None: ...
        def apply_batch(self, batch: TickBatch) -> None: ...

    def table_action_allowed(self, action: str) -> bool | None:
        """`check_action` for this class's actions (None: shown, but not now)."""
        if action in ON_THE_TABLE:
            return len(self.screen_stack) == 1 and self.dashboard.current_table() is not None
        if action == "copy":
            return None if self.selected_id() is None else True
        if action in ("show_tab", "cycle_tab"):
            return not isinstance(self.focused, Input)  # a tab's key typed in a text field
        if action in ("log_search", "log_level"):
            dashboard = self.dashboard
            return (
                len(self.screen_stack) == 1
                and dashboard.active_tab == LOG_TAB
                and self.focused is not dashboard.log_search
            )
        return True

    def _table(self) -> ArticleTable | None:
        return self.dashboard.current_table() if len(self.screen_stack) == 1 else None

    # ------------------------------------------------------------------ sorting, moving
    def action_sort_column(self, step: int) -> None:
        table = self._table()
        if table is not None:
            table.sort_by(table.order.moved(table.specs, step))

    def action_sort_reverse(self) -> None:
        table = self._table()
        if table is not None:
            table.sort_by(table.order.flipped())

    @on(ArticleTable.HeaderSelected)
    def _header_clicked(self, event: ArticleTable.HeaderSelected) -> None:
        """A click on a column's header sorts by it; a second click reverses the order."""
        table = event.data_table
        if isinstance(table, ArticleTable):
            order, column = table.order, str(event.column_key.value)
            chosen = order.flipped() if order.column == column else replace(order, column=column)
            table.sort_by(chosen)

    def action_cycle_tab(self, step: int) -> None:
        self.dashboard.cycle_tab(step)

    def action_focus_table(self) -> None:
        self.dashboard.focus_table()

    def action_half_page(self, step: int) -> None:
        table = self._table()
        if table is not None:
            table.half_page(step)

    # ------------------------------------------------------------------ marks
    def action_mark(self) -> None:
        table = self._table()
        hudu_id = table.cursor_id if table is not None else None
        record = self.model.get(hudu_id) if hudu_id is not None else None
        if table is None or record is None:
            return
        table.toggle_mark(record)
        table.action_cursor_down()

    def action_mark_all(self) -> None:
        """Mark every row shown (after a filter, what it matched); if all are, clear the marks."""
        table = self._table()
        if table is None:
            return
        shown = set(table.shown_rows.records)
        table.set_marks(set() if shown <= table.marked else shown)

    def _marked(self, table: ArticleTable) -> list[ArticleRecord]:
        """The marked rows, in the table's order."""
        marked = table.marked
        rows = table.shown_rows.in_order()
        return [r for i in rows if i in marked and (r := self.model.get(i)) is not None]

    def _marks_in_play(self) -> ArticleTable | None:
        """The table whose marks `r` and `u` act on (not while an article's detail is shown)."""
        if isinstance(self.screen, DetailScreen):
            return None
        table = self._table()
        return table if table is not None and table.marked else None

    def resync_marked(self) -> bool:
        """`r` with rows marked: one question, then one command for all. False if none are."""
        table = self._marks_in_play()
        if table is None:
            return False
        records = self._marked(table)

        def resync() -> None:
            if self.engine.running:
                self.tell(RESYNC_QUEUED)
            table.set_marks(set())
            self.request_resync_many([r.hudu_id for r in records])

        self.ask(bulk_text.resync_question(records), resync)
        return True

    def unlink_marked(self) -> bool:
        """`u` with rows marked: the ones that can be unlinked, with one question."""
        table = self._marks_in_play()
        if table is None:
            return False
        marked = self._marked(table)
        records = [r for r in marked if unlink_refused(r) is None]
        if not records:
            self.tell(bulk_text.none_to_unlink(len(marked)))
            return True

        def unlink() -> None:
            table.set_marks(set())
            self.request_unlink_many([r.hudu_id for r in records])

        self.ask(bulk_text.unlink_question(records, len(marked) - len(records)), unlink)
        return True

    def on_many_resynced(self, message: ManyResynced) -> None:
        self.tell(bulk_text.resynced(message.records, message.asked_for, undo=message.undo))

    def on_many_unlinked(self, message: ManyUnlinked) -> None:
        records = message.records
        self.apply_unlinked(records)
        self.tell(bulk_text.unlinked(records))

    def apply_unlinked(self, records: list[ArticleRecord]) -> None:
        """Show unlinked rows now (their events may come on a later tick) and keep them for `z`."""
        self.last_unlinked = tuple(records)
        self.apply_batch(TickBatch(articles={r.hudu_id: r for r in records}))

    @needs_the_engine
    def action_undo_unlink(self) -> None:
        records = list(self.last_unlinked)
        if not records:
            self.tell(bulk_text.NOTHING_TO_UNDO)
            return
        self.last_unlinked = ()
        self.request_resync_many([r.hudu_id for r in records], undo=True)

    # ------------------------------------------------------------------ the Log tab
    def action_log_search(self) -> None:
        self.dashboard.log_search.open()

    def action_log_level(self) -> None:
        self.tell(Notice(f"The Log tab shows {self.dashboard.event_log.cycle_level()}"))

    # ------------------------------------------------------------------ clipboard
    def action_copy(self) -> None:
        hudu_id = self.selected_id()
        record = self.model.get(hudu_id) if hudu_id is not None else None
        if record is None:
            return
        halo_id = record.halo_id
        halo_url = self.engine.halo_article_url(halo_id) if halo_id is not None else ""

        def picked(choice: CopyChoice | None) -> None:
            if choice is None or record is None:
                return
            if not safe_to_copy(choice.value):
                self.tell(bulk_text.not_copied(choice.what, record))
                return
            self.copy_to_clipboard(choice.value)
            self.tell(bulk_text.copied(choice.what, choice.value, record))

        self.push_screen(CopyScreen(record, halo_url), picked)
