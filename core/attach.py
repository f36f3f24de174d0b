"""Where a command runs: on the service when one holds the mapping file, else embedded.

Every `hhsync` command and the dashboard open their engine here, so each works the same with
or without a running service and none of them says "in use" while a service answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Protocol

from core.build import build_engine
from core.config import Settings
from core.events import Event, PassFinished
from core.history import PassRecord
from core.models import ArticleRecord
from core.plan import PassSummary
from core.remote import ControlClient, RemoteEngine, find_service
from core.socketpath import socket_path


class EnginePort(Protocol):
    """What a command or the dashboard needs of an engine, embedded or in the service."""

    hudu_label: str
    halo_label: str
    interval: float
    paused: bool
    running: bool
    next_pass_at: datetime | None
    last_pass: PassFinished | None

    @property
    def halo_notice(self) -> str: ...
    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]: ...
    def records(self) -> list[ArticleRecord]: ...
    def record(self, hudu_id: int) -> ArticleRecord | None: ...
    def counts(self) -> dict[str, int]: ...
    def halo_article_url(self, halo_id: int) -> str: ...
    async def run_scheduler(self) -> None: ...
    def stop(self) -> None: ...
    async def pause(self) -> None: ...
    async def resume(self) -> None: ...
    async def sync_now(
        self,
        *,
        full: bool = False,
        dry_run: bool = False,
        force: bool = False,
        command_id: str = "",
    ) -> PassSummary: ...
    async def retry_failed(self, *, command_id: str = "") -> PassSummary: ...
    async def resync(self, hudu_id: int) -> ArticleRecord: ...
    async def unlink(self, hudu_id: int) -> ArticleRecord: ...
    async def resync_many(self, hudu_ids: Sequence[int]) -> list[ArticleRecord]: ...
    async def unlink_many(self, hudu_ids: Sequence[int]) -> list[ArticleRecord]: ...
    async def reset(self) -> int: ...
    async def history(self, limit: int | None = None) -> list[PassRecord]: ...


def service_socket(settings: Settings) -> str:
    return str(socket_path(settings.hhsync_db, settings.hhsync_socket))


@contextlib.asynccontextmanager
async def open_engine(settings: Settings, *, follow: bool = True) -> AsyncIterator[EnginePort]:
    """The service's engine when one answers on the socket, else an embedded one (opened,
    holding the mapping file's lock). With `follow`, an attached engine already follows the
    service's events (for progress); without, the caller runs `run_scheduler` itself."""
    socket = socket_path(settings.hhsync_db, settings.hhsync_socket)
    if await find_service(socket) is None:
        engine = build_engine(settings)
        try:
            await engine.open()
            yield engine
        finally:
            await engine.close()
        return
    remote = RemoteEngine(ControlClient(socket))
    following: asyncio.Task[None] | None = None
    try:
        await remote.attach()
        if follow:
            following = asyncio.create_task(remote.run_scheduler())
        yield remote
    finally:
        remote.stop()
        if following is not None:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following
        await remote.close()
