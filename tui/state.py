"""The dashboard's own state besides the articles: the header's facts, the service the engine
runs in (when attached), Halo's or Hudu's current rate-limit wait, and which pass answers which
key.

Plain Python (no Textual), so it can be tested without a terminal.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from core.events import PassStarted, RateLimitWaited, ServiceAttached
from tui.port import EnginePort


@dataclass(frozen=True, slots=True)
class HeaderState:
    """Everything the top line shows; the header redraws only when this changes."""

    hudu: str
    halo: str
    running: bool = False
    full: bool = False
    paused: bool = False
    pausing: bool = False
    """`p` was pressed and the engine has not answered yet."""
    next_pass_at: datetime | None = None
    last_pass_at: datetime | None = None
    percent: int | None = None
    rate_wait: str = ""
    stopped: str = ""
    service_pid: int | None = None
    """The pid of the service the dashboard is attached to; None when the engine is embedded."""
    service_lost: bool = False
    """The service stopped answering; the engine is reconnecting."""
    halo_notice: str = ""
    """What the engine says of the tenant ("crash recovery degraded …"), or ""."""


@dataclass(frozen=True, slots=True)
class AttachedService:
    """The service whose engine the dashboard shows (`hhsync run`), and whether it answers."""

    pid: int
    version: str
    socket: str
    answering: bool = True

    @classmethod
    def from_event(cls, event: ServiceAttached) -> AttachedService:
        return cls(event.pid, event.version, event.socket)


@dataclass(frozen=True, slots=True)
class RateLimitWait:
    """A wait the engine announced, counted down against the dashboard's clock."""

    service: str
    reason: str
    until: datetime

    @classmethod
    def from_event(cls, event: RateLimitWaited, now: datetime) -> RateLimitWait:
        return cls(event.service, event.reason, now + timedelta(seconds=event.seconds))

    def text(self, now: datetime, *, short: bool = False) -> str:
        """`Halo rate limit 12s` (header) or `Halo 12s` (the pass line)."""
        left = max(0, round((self.until - now).total_seconds()))
        return f"{self.service} {left}s" if short else f"{self.service} {self.reason} {left}s"


class PassCommand(StrEnum):
    """The keys that start a pass."""

    SYNC = "sync"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class PassRequest:
    """A sync or retry the user asked for, waiting for (or answered by) its pass."""

    command_id: str
    command: PassCommand
    failed_before: int = 0
    """For a retry: how many articles were failed when it was asked, to say how many it fixed."""


@dataclass(slots=True)
class PassRequests:
    """Which pass answers which key.

    Each sync or retry gets an id the engine repeats in `PassStarted.command_id`; a pass
    without a known id (scheduled, or started elsewhere) belongs to nobody.
    """

    waiting: dict[str, PassRequest] = field(default_factory=dict)
    current: PassRequest | None = None
    """The request the running pass answers, if any."""
    _ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(1), init=False, repr=False
    )

    def ask(self, command: PassCommand, *, failed_before: int = 0) -> PassRequest:
        request = PassRequest(f"tui-{next(self._ids)}", command, failed_before)
        self.waiting[request.command_id] = request
        return request

    def started(self, event: PassStarted) -> None:
        self.current = self.waiting.pop(event.command_id, None) if event.command_id else None

    def finished(self) -> PassRequest | None:
        """The request the pass that just finished answered; it is answered now."""
        request, self.current = self.current, None
        return request

    def failed(self, command_id: str) -> None:
        """The command raised: no pass of its will come."""
        self.waiting.pop(command_id, None)

    def interrupted(self) -> None:
        """The service stopped mid-pass: the request waits again, for the pass the service
        announces when it is back (or for its command to fail)."""
        if self.current is not None:
            self.waiting[self.current.command_id] = self.current
            self.current = None


@dataclass(slots=True)
class DashboardState:
    """What the header shows beyond the engine's own fields, updated by the tick."""

    requests: PassRequests = field(default_factory=PassRequests)
    pass_full: bool = False
    stopped: str = ""
    """Why no pass will come any more (`engine stopped`), empty while the scheduler runs."""
    rate_wait: RateLimitWait | None = None
    service: AttachedService | None = None
    """The service the engine runs in; None when the engine is embedded in the dashboard."""
    pause_asked: bool = False
    """`p` was pressed to pause; the header says so before the engine answers."""

    @property
    def service_answering(self) -> bool:
        """Commands can reach the engine: it is embedded, or its service answers."""
        return self.service is None or self.service.answering

    def service_attached(self, event: ServiceAttached) -> None:
        self.service = AttachedService.from_event(event)

    def service_lost(self) -> None:
        if self.service is not None:
            self.service = replace(self.service, answering=False)
        self.requests.interrupted()
        self.rate_wait = None

    def pass_started(self, event: PassStarted) -> None:
        self.requests.started(event)
        self.pass_full = event.full
        self.stopped = ""

    def rate_limited(self, event: RateLimitWaited, now: datetime) -> None:
        self.rate_wait = RateLimitWait.from_event(event, now)

    def rate_wait_text(self, now: datetime, *, short: bool = False) -> str:
        """The wait still running, or "" (a wait that is over is forgotten)."""
        if self.rate_wait is not None and now >= self.rate_wait.until:
            self.rate_wait = None
        return self.rate_wait.text(now, short=short) if self.rate_wait is not None else ""

    def header(self, engine: EnginePort, *, percent: int | None, now: datetime) -> HeaderState:
        last = engine.last_pass
        return HeaderState(
            hudu=engine.hudu_label,
            halo=engine.halo_label,
            running=engine.running,
            full=self.pass_full,
            paused=engine.paused,
            pausing=self.pause_asked and not engine.paused,
            next_pass_at=engine.next_pass_at,
            last_pass_at=last.finished_at if last is not None else None,
            percent=percent,
            rate_wait=self.rate_wait_text(now),
            stopped=self.stopped,
            service_pid=self.service.pid if self.service is not None else None,
            service_lost=not self.service_answering,
            halo_notice=engine.halo_notice,
        )
