"""The line above the footer: a progress bar during a pass, the last pass's summary otherwise."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.clock import Clock
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from core.events import PassFinished, PassProgressed, PassStarted
from tui.pass_text import pass_summary
from tui.untrusted import shown


class PassStatus(Horizontal):
    """Either the live bar (`-running`) or a one-line summary of the last pass."""

    def __init__(self, *, clock: Clock | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock or Clock()
        self._writes_started_at: float | None = None
        self._last: PassProgressed | None = None
        self._waiting = ""
        self.summary_text = "Waiting for the first pass…"
        """The line shown between passes (set it before mounting to start with another)."""

    def compose(self) -> ComposeResult:
        yield Label("", id="pass-kind")
        yield ProgressBar(show_eta=True, clock=self._clock, id="pass-bar")
        yield Label("", id="pass-counts", markup=False)
        yield Label(shown(self.summary_text), id="pass-summary", markup=False)  # may quote Halo

    @property
    def running(self) -> bool:
        return self.has_class("-running")

    @property
    def percent(self) -> int | None:
        last = self._last
        if not self.running or last is None or not last.total:
            return None
        return min(100, round(last.done * 100 / last.total))  # as the bar rounds it

    def started(self, event: PassStarted) -> None:
        self.add_class("-running")
        self._writes_started_at = None
        self._last = None
        self.query_one("#pass-kind", Label).update("Full pass" if event.full else "Pass")
        self.query_one(ProgressBar).update(total=None, progress=0)
        self._show_counts()

    def progressed(self, event: PassProgressed) -> None:
        self.add_class("-running")
        if self._writes_started_at is None and event.total:
            self._writes_started_at = self._clock.time
        self._last = event
        self.query_one(ProgressBar).update(total=max(event.total, 1), progress=event.done)
        self._show_counts()

    def tick(self, waiting: str) -> None:
        """Refresh the rate (it falls while Halo makes us wait) and the waiting note."""
        self._waiting = waiting
        if self.running:
            self._show_counts()

    def _show_counts(self) -> None:
        last = self._last
        if last is None or not last.total:
            text = "planning…" if last is None else "nothing to send"
        else:
            text = f"{last.done:,}/{last.total:,}"
            if self._writes_started_at is not None:
                elapsed = self._clock.time - self._writes_started_at
                if elapsed >= 1 and last.done:
                    text += f" · {last.done / elapsed:,.1f}/s"
            if last.failed:
                text += f" · {last.failed:,} failed"
        if self._waiting:
            text += f" · ⏳ {self._waiting}"
        self.query_one("#pass-counts", Label).update(shown(text))

    def finished(self, event: PassFinished) -> None:
        self.remove_class("-running")
        self._last = None
        self.show_summary(pass_summary(event))

    def interrupted(self, text: str) -> None:
        """The pass will not be heard of again (its service stopped): close the bar."""
        if self.running:
            self.remove_class("-running")
            self._last = None
            self.show_summary(text)

    def show_summary(self, text: str) -> None:
        """The line between passes; it may quote Halo (a pass's error), so it is shown inert."""
        self.summary_text = text
        self.query_one("#pass-summary", Label).update(shown(text))
