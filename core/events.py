"""What the engine tells its listeners: small past-tense dataclasses.

The dashboard coalesces them on a tick; the headless CLI prints or counts them. Each article
event carries the whole `ArticleRecord` so a table row can be drawn without asking the engine.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.models import ArticleRecord

log = logging.getLogger("hhsync.engine")
actions_log = logging.getLogger("hhsync.actions")


@dataclass(frozen=True, slots=True)
class Event:
    pass


@dataclass(frozen=True, slots=True)
class ArticleChanged(Event):
    """An article's row changed (any status). The record is a snapshot; do not mutate it."""

    record: ArticleRecord


@dataclass(frozen=True, slots=True)
class ArticleRemoved(Event):
    """The engine forgot an article entirely (it left Hudu and was never synced)."""

    hudu_id: int


class PassCause(StrEnum):
    """What started a pass."""

    SCHEDULED = "scheduled"
    SYNC = "sync"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class PassStarted(Event):
    """A pass began. `command_id` is the id the caller gave the command that started it
    (empty for a scheduled pass), so a client knows which pass answers its key."""

    full: bool
    started_at: datetime
    cause: PassCause = PassCause.SYNC
    command_id: str = ""


@dataclass(frozen=True, slots=True)
class PassProgressed(Event):
    done: int
    total: int
    synced: int
    failed: int


@dataclass(frozen=True, slots=True)
class PassFinished(Event):
    full: bool
    started_at: datetime
    finished_at: datetime
    created: int
    updated: int
    unchanged: int
    removed: int
    failed: int
    error: str = ""
    dry_run: bool = False
    restored: int = 0
    cause: PassCause = PassCause.SYNC
    halo_requests: int = 0
    hudu_requests: int = 0
    waits: int = 0
    waited_seconds: float = 0.0
    """What the pass cost: requests sent and rate-limit waits (core.history measures them)."""


@dataclass(frozen=True, slots=True)
class WritesFailed(Event):
    """Halo refused a group of writes with one error. Each article also gets its own
    `ArticleChanged` (status failed); this is the summary a plain log shows."""

    hudu_ids: tuple[int, ...]
    titles: tuple[str, ...]
    message: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class SchedulerChanged(Event):
    paused: bool
    next_pass_at: datetime | None


@dataclass(frozen=True, slots=True)
class RateLimitWaited(Event):
    service: str
    seconds: float
    reason: str = "rate limit"


@dataclass(frozen=True, slots=True)
class ServiceAttached(Event):
    """A dashboard or command following a service (re)gained it; the rows are current."""

    pid: int
    version: str
    socket: str


@dataclass(frozen=True, slots=True)
class ServiceLost(Event):
    """The service stopped answering; the client tries again until it is back."""

    reason: str


@dataclass(frozen=True, slots=True)
class EngineLogged(Event):
    level: str
    message: str
    at: datetime = field(default_factory=datetime.now)


class Origin(StrEnum):
    """Where a user's command came from, as the log names it."""

    DASHBOARD = "dashboard"
    COMMAND = "command"
    """The `hhsync` command line."""
    SERVICE_CLIENT = "service client"
    """A request to the service's socket that did not say (curl, a script)."""


class UserAction(StrEnum):
    """A user's command that changes what the engine does or holds."""

    RESYNC = "resync"
    UNLINK = "unlink"
    RETRY = "retry"
    RESET = "reset"
    PAUSE = "pause"
    RESUME = "resume"


@dataclass(frozen=True, slots=True)
class ActionTaken(Event):
    """The engine carried out a user's command: what, on which article, from where, when.
    `count` is how many articles a retry or reset concerned."""

    action: UserAction
    origin: Origin
    at: datetime
    hudu_id: int | None = None
    title: str = ""
    scope: str = ""
    count: int | None = None

    @classmethod
    def of(
        cls,
        action: UserAction,
        origin: Origin,
        at: datetime,
        record: ArticleRecord | None = None,
        *,
        count: int | None = None,
    ) -> ActionTaken:
        """The command as done on `record`, or on `count` articles, or on none."""
        if record is None:
            return cls(action, origin, at, count=count)
        return cls(action, origin, at, record.hudu_id, record.title, record.scope)

    def describe(self) -> str:
        """`unlink of “VPN setup” #12 (Acme) from the dashboard` (untrusted title: the log's
        filter and the dashboard make it displayable)."""
        if self.hudu_id is not None:
            what = f" of “{self.title}” #{self.hudu_id} ({self.scope})"
        elif self.count is not None:
            what = f" of {self.count:,} article{'' if self.count == 1 else 's'}"
        else:
            what = ""
        return f"{self.action}{what} from the {self.origin}"


Listener = Callable[[Event], None]


class Announcer:
    """Delivers events to every listener; a listener that raises never stops a sync."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._listeners: list[Listener] = []
        self._clock = clock

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed")

    def say(self, level: int, message: str) -> None:
        """A line for the log file and for every listener (the dashboard's Log tab)."""
        log.log(level, message)
        self.emit(EngineLogged(logging.getLevelName(level), message, self._clock()))

    def acted(
        self,
        action: UserAction,
        origin: Origin,
        record: ArticleRecord | None = None,
        *,
        count: int | None = None,
    ) -> None:
        """Record a user's command in the log file and tell every listener (the Log tab)."""
        event = ActionTaken.of(action, origin, self._clock(), record, count=count)
        actions_log.info(event.describe())
        self.emit(event)

    def acted_on(
        self, action: UserAction, origin: Origin, records: Iterable[ArticleRecord]
    ) -> None:
        """One record per article of a command that took several."""
        for record in records:
            self.acted(action, origin, record)
