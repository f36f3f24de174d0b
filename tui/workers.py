"""The engine commands the dashboard starts, each in an async worker.

A worker only awaits the engine and posts one typed, past-tense message (`tui.messages`); the
app's handlers, which own every widget, show the result. No worker touches a widget.
"""

from __future__ import annotations

from textual import work
from textual.app import App

from tui.messages import (
    Command,
    CommandFailed,
    ManyResynced,
    ManyUnlinked,
    ResyncFinished,
    SchedulerPaused,
    SchedulerResumed,
    SchedulerStopped,
    UnlinkFinished,
)
from tui.port import EnginePort


class EngineWorkers(App[int]):
    """The app's workers; the app sets `engine` (embedded, or the service's)."""

    engine: EnginePort

    @work(exit_on_error=False, group="engine")
    async def start_scheduler(self) -> None:
        """Run the embedded engine's scheduler, or follow the service's events (its scheduler
        runs in the service), until the engine is stopped."""
        try:
            await self.engine.run_scheduler()
        except Exception as error:
            self.post_message(CommandFailed(Command.SCHEDULER, error))
        else:
            self.post_message(SchedulerStopped())

    @work(exit_on_error=False, group="commands")
    async def request_sync(self, full: bool, command_id: str) -> None:
        try:
            await self.engine.sync_now(full=full, command_id=command_id)
        except Exception as error:
            self.post_message(CommandFailed(Command.SYNC, error, command_id=command_id))

    @work(exit_on_error=False, group="commands")
    async def request_retry(self, command_id: str) -> None:
        try:
            await self.engine.retry_failed(command_id=command_id)
        except Exception as error:
            self.post_message(CommandFailed(Command.RETRY, error, command_id=command_id))

    @work(exit_on_error=False, group="commands")
    async def request_resync(self, hudu_id: int) -> None:
        try:
            record = await self.engine.resync(hudu_id)
        except Exception as error:
            self.post_message(CommandFailed(Command.RESYNC, error, target=hudu_id))
        else:
            self.post_message(ResyncFinished(record))

    @work(exit_on_error=False, group="commands")
    async def request_unlink(self, hudu_id: int) -> None:
        try:
            record = await self.engine.unlink(hudu_id)
        except Exception as error:
            self.post_message(CommandFailed(Command.UNLINK, error, target=hudu_id))
        else:
            self.post_message(UnlinkFinished(record))

    @work(exit_on_error=False, group="commands")
    async def request_resync_many(self, hudu_ids: list[int], *, undo: bool = False) -> None:
        try:
            records = await self.engine.resync_many(hudu_ids)
        except Exception as error:
            self.post_message(CommandFailed(Command.RESYNC, error))
        else:
            self.post_message(ManyResynced(records, len(hudu_ids), undo=undo))

    @work(exit_on_error=False, group="commands")
    async def request_unlink_many(self, hudu_ids: list[int]) -> None:
        try:
            records = await self.engine.unlink_many(hudu_ids)
        except Exception as error:
            self.post_message(CommandFailed(Command.UNLINK, error))
        else:
            self.post_message(ManyUnlinked(records))

    @work(exit_on_error=False, group="commands")
    async def request_pause(self) -> None:
        try:
            await self.engine.pause()
        except Exception as error:
            self.post_message(CommandFailed(Command.PAUSE, error))
        else:
            self.post_message(SchedulerPaused())

    @work(exit_on_error=False, group="commands")
    async def request_resume(self) -> None:
        try:
            await self.engine.resume()
        except Exception as error:
            self.post_message(CommandFailed(Command.RESUME, error))
        else:
            self.post_message(SchedulerResumed())
