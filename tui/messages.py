"""What the app's workers report when an engine command ends: typed, past-tense messages.

A worker only awaits the engine and posts one of these; the app's handlers (which own the
widgets) show the result.
"""

from __future__ import annotations

from enum import StrEnum

from textual.message import Message

from core.models import ArticleRecord


class Command(StrEnum):
    """An engine command a worker runs."""

    SCHEDULER = "scheduler"
    SYNC = "sync"
    RETRY = "retry"
    RESYNC = "resync"
    UNLINK = "unlink"
    PAUSE = "pause"
    RESUME = "resume"

    @property
    def label(self) -> str:
        """How a notice names it: `Sync failed`, `The scheduler failed`."""
        return "The scheduler" if self is Command.SCHEDULER else self.value.capitalize()


class ResyncFinished(Message):
    """The engine pushed one article again; `record` is its row afterwards."""

    def __init__(self, record: ArticleRecord) -> None:
        super().__init__()
        self.record = record


class UnlinkFinished(Message):
    """The engine stopped syncing one article; `record` is its row afterwards."""

    def __init__(self, record: ArticleRecord) -> None:
        super().__init__()
        self.record = record


class ManyResynced(Message):
    """The engine pushed many articles again in one command (marked rows, or the undo of an
    unlink); `records` are those Hudu still had, afterwards."""

    def __init__(self, records: list[ArticleRecord], asked_for: int, *, undo: bool) -> None:
        super().__init__()
        self.records = records
        self.asked_for = asked_for
        self.undo = undo


class ManyUnlinked(Message):
    """The engine stopped syncing many articles in one command; `records` are their rows."""

    def __init__(self, records: list[ArticleRecord]) -> None:
        super().__init__()
        self.records = records


class SchedulerPaused(Message):
    """No automatic pass until resumed (the engine keeps this across restarts)."""


class SchedulerResumed(Message):
    """Automatic passes again, the next one now."""


class SchedulerStopped(Message):
    """The engine's scheduler returned: no automatic pass will come."""


class CommandFailed(Message):
    """An engine command raised.

    `target` is the article a resync or unlink acted on; `command_id` the id a sync or retry
    gave the engine (its pass will not come).
    """

    def __init__(
        self,
        command: Command,
        error: Exception,
        *,
        target: int | None = None,
        command_id: str = "",
    ) -> None:
        super().__init__()
        self.command = command
        self.error = error
        self.target = target
        self.command_id = command_id
