"""What the dashboard needs from the sync engine: an embedded `core.engine.Engine`, or the
service's, seen through `core.remote.RemoteEngine` (both from `core.attach.open_engine`).

The dashboard is written against this protocol, not a class, so tests and the benchmark can
drive it with a small fake. `command_id` is repeated in the `PassStarted` of the pass a command
starts, so the dashboard knows which pass answers which key; `origin` is where the log says a
command came from (the dashboard passes `Origin.DASHBOARD`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from core.events import Event, Origin, PassFinished
from core.history import PassRecord
from core.models import ArticleRecord


class EnginePort(Protocol):
    hudu_label: str
    halo_label: str
    paused: bool
    running: bool
    next_pass_at: datetime | None
    last_pass: PassFinished | None

    @property
    def halo_notice(self) -> str:
        """What the engine says of the tenant ("crash recovery degraded …"), or ""."""
        ...

    def records(self) -> list[ArticleRecord]: ...
    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]: ...
    def halo_article_url(self, halo_id: int) -> str: ...
    async def run_scheduler(self) -> None: ...
    def stop(self) -> None: ...
    async def pause(self, origin: Origin = ...) -> None: ...
    async def resume(self, origin: Origin = ...) -> None: ...
    async def sync_now(self, *, full: bool = False, command_id: str = "") -> object: ...
    async def resync(self, hudu_id: int, origin: Origin = ...) -> ArticleRecord: ...
    async def unlink(self, hudu_id: int, origin: Origin = ...) -> ArticleRecord: ...
    async def retry_failed(self, *, command_id: str = "", origin: Origin = ...) -> object: ...
    async def history(self, limit: int | None = None) -> list[PassRecord]: ...
