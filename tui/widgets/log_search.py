"""The Log tab's search bar: shows the entries holding every word typed; `enter` keeps the
search and goes back to the log, `esc` clears it."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Input

from tui.widgets.event_log import EventLog

DEBOUNCE_SECONDS = 0.15


class LogSearch(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear the search"),
        Binding("down", "back", "Back to the log", show=False),
    ]

    def __init__(self, log: EventLog, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="search the log · enter keeps · esc clears", id=id, compact=True
        )
        self.log_view = log
        self.display = False
        self._timer: Timer | None = None

    def open(self) -> None:
        self.display = True
        self.screen.set_focus(self)  # now: keys typed right after `/` land here

    def action_clear(self) -> None:
        self.value = ""
        self.log_view.search("")
        self.display = False
        self.log_view.focus()

    def action_back(self) -> None:
        self.log_view.search(self.value)
        self.display = bool(self.value)
        self.log_view.focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self._search_now)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_back()

    def _search_now(self) -> None:
        if self.is_mounted:
            self.log_view.search(self.value)
