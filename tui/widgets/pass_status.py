"""The line above the footer: a progress bar during a pass, the last pass's summary otherwise."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.clock import Clock
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from core.events import PassFinished, PassProgressed, PassStarted
from tui.columns import clock_time


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def pass_summary(finished: PassFinished) -> str:
    kind = "full pass" if finished.full else "pass"
    took = duration((finished.finished_at - finished.started_at).total_seconds())
    head = f"Last {kind} {clock_time(finished.finished_at)}, {took}"
    counts = [
        f"{value:,} {name}"
        for name, value in (
            ("failed", finished.failed),
            ("created", finished.created),
            ("updated", finished.updated),
            ("removed", finished.removed),
            ("unchanged", finished.unchanged),
        )
        if value
    ]
    if finished.error:
        counts.insert(0, f"stopped: {finished.error}")
    return " · ".join([head, *(counts or ["nothing to do"])])


class PassStatus(Horizontal):
    """Either the live bar (`-running`) or a one-line summary of the last pass."""

    def __init__(self, *, clock: Clock | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock or Clock()
        self._started_at = 0.0
        self._done_at_start = 0
        self.summary_text = "Waiting for the first pass…"

    def compose(self) -> ComposeResult:
        yield Label("", id="pass-kind")
        yield ProgressBar(show_eta=True, clock=self._clock, id="pass-bar")
        yield Label("", id="pass-counts")
        yield Label(self.summary_text, id="pass-summary")

    def started(self, event: PassStarted) -> None:
        self.add_class("-running")
        self._started_at = self._clock.time
        self.query_one("#pass-kind", Label).update("Full pass" if event.full else "Pass")
        bar = self.query_one(ProgressBar)
        bar.update(total=max(event.total, 1) if event.total else None, progress=0)
        self.query_one("#pass-counts", Label).update(f"0/{event.total:,}")

    def progressed(self, event: PassProgressed) -> None:
        if not self.has_class("-running"):
            self.add_class("-running")
            self._started_at = self._clock.time
        self.query_one(ProgressBar).update(total=max(event.total, 1), progress=event.done)
        elapsed = self._clock.time - self._started_at
        rate = f" · {event.done / elapsed:,.1f}/s" if elapsed >= 1 and event.done else ""
        failed = f" · {event.failed:,} failed" if event.failed else ""
        self.query_one("#pass-counts", Label).update(
            f"{event.done:,}/{event.total:,}{rate}{failed}"
        )

    def finished(self, event: PassFinished) -> None:
        self.remove_class("-running")
        self.show_summary(pass_summary(event))

    def show_summary(self, text: str) -> None:
        self.summary_text = text
        self.query_one("#pass-summary", Label).update(text)

    @property
    def running(self) -> bool:
        return self.has_class("-running")
