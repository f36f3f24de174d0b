"""What the engine tells its listeners: small past-tense dataclasses.

The dashboard coalesces them on a tick; the headless CLI prints or counts them. Each article
event carries the whole `ArticleRecord` so a table row can be drawn without asking the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.models import ArticleRecord


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


@dataclass(frozen=True, slots=True)
class PassStarted(Event):
    full: bool
    total: int
    started_at: datetime
    trigger: str = ""  # "scheduled", "sync" (asked for) or "retry"


@dataclass(frozen=True, slots=True)
class PassProgressed(Event):
    done: int
    total: int
    synced: int
    failed: int
    skipped: int


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
class EngineLogged(Event):
    level: str
    message: str
    at: datetime = field(default_factory=datetime.now)
