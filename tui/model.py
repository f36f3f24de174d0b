"""The dashboard's in-memory picture of the articles, and how a tick's events fold into it.

Plain Python (no Textual): the tables are patched from the `ModelDiff` that `ArticleModel.apply`
returns, and tests can exercise the folding without a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from core.events import (
    ActionTaken,
    ArticleChanged,
    ArticleRemoved,
    EngineLogged,
    Event,
    PassFinished,
    PassProgressed,
    PassStarted,
    RateLimitWaited,
    ServiceAttached,
    ServiceLost,
)
from core.models import ArticleRecord, Status

STATUSES: tuple[Status, ...] = (Status.SYNCED, Status.PENDING, Status.SKIPPED, Status.FAILED)

TimelineEvent = PassStarted | PassProgressed | PassFinished | ServiceLost | ServiceAttached
"""What happens to passes and to the service, applied in the order it happened."""


@dataclass(slots=True)
class TickBatch:
    """One tick's worth of engine events, folded: per article the last event wins."""

    articles: dict[int, ArticleRecord | None] = field(default_factory=dict)
    """The last row of each article that changed; None when the engine forgot it."""
    timeline: list[TimelineEvent] = field(default_factory=list)
    """Pass events and the service leaving or coming back, in order; consecutive progress
    events are folded into the last."""
    rate_wait: RateLimitWaited | None = None
    """The last wait announced (the header shows one at a time)."""
    journal: list[Event] = field(default_factory=list)
    """What the Log tab shows, in the engine's order: log lines, waits, pass starts and ends,
    articles that failed, and the service leaving or coming back."""


def fold(events: Iterable[Event]) -> TickBatch:
    """Fold a tick's events. `WritesFailed` is left out: the summary of a rejected batch
    repeats what each failed article's own `ArticleChanged` already says in the log."""
    batch = TickBatch()
    for event in events:
        if isinstance(event, ArticleChanged):
            batch.articles[event.record.hudu_id] = event.record
            if event.record.status == Status.FAILED:
                batch.journal.append(event)
        elif isinstance(event, ArticleRemoved):
            batch.articles[event.hudu_id] = None
        elif isinstance(event, PassProgressed):
            if batch.timeline and isinstance(batch.timeline[-1], PassProgressed):
                batch.timeline[-1] = event
            else:
                batch.timeline.append(event)
        elif isinstance(event, PassStarted | PassFinished | ServiceLost | ServiceAttached):
            batch.timeline.append(event)
            batch.journal.append(event)
        elif isinstance(event, RateLimitWaited):
            batch.rate_wait = event
            batch.journal.append(event)
        elif isinstance(event, EngineLogged | ActionTaken):
            batch.journal.append(event)
    return batch


@dataclass(slots=True)
class ModelDiff:
    """What changed per status table: records to add or refresh, ids that left."""

    upserts: dict[Status, list[ArticleRecord]] = field(
        default_factory=lambda: {s: [] for s in STATUSES}
    )
    removals: dict[Status, set[int]] = field(default_factory=lambda: {s: set() for s in STATUSES})

    @property
    def changed_ids(self) -> set[int]:
        ids = {r.hudu_id for records in self.upserts.values() for r in records}
        for removed in self.removals.values():
            ids |= removed
        return ids

    def __bool__(self) -> bool:
        return any(self.upserts.values()) or any(self.removals.values())


class ArticleModel:
    """Every mapped article by Hudu id, and the same records split by status."""

    def __init__(self) -> None:
        self.records: dict[int, ArticleRecord] = {}
        self.by_status: dict[Status, dict[int, ArticleRecord]] = {s: {} for s in STATUSES}

    def load(self, records: Iterable[ArticleRecord]) -> None:
        self.records.clear()
        for status in STATUSES:
            self.by_status[status].clear()
        for record in records:
            self.records[record.hudu_id] = record
            self.by_status[record.status][record.hudu_id] = record

    def count(self, status: Status) -> int:
        return len(self.by_status[status])

    def get(self, hudu_id: int) -> ArticleRecord | None:
        return self.records.get(hudu_id)

    def new_failures(self, changes: dict[int, ArticleRecord | None]) -> dict[int, ArticleRecord]:
        """The articles of `changes` that fail anew (or again, after another attempt): the ones
        the log names. Call before `apply`."""
        failures: dict[int, ArticleRecord] = {}
        for hudu_id, record in changes.items():
            if record is None or record.status != Status.FAILED:
                continue
            old = self.records.get(hudu_id)
            if old is None or old.status != Status.FAILED or old.attempts != record.attempts:
                failures[hudu_id] = record
        return failures

    def apply(self, changes: dict[int, ArticleRecord | None]) -> ModelDiff:
        diff = ModelDiff()
        for hudu_id, record in changes.items():
            old = self.records.get(hudu_id)
            if old is not None and (record is None or old.status != record.status):
                del self.by_status[old.status][hudu_id]
                diff.removals[old.status].add(hudu_id)
            if record is None:
                self.records.pop(hudu_id, None)
                continue
            self.records[hudu_id] = record
            self.by_status[record.status][hudu_id] = record
            diff.upserts[record.status].append(record)
        return diff
