"""What a pass intends to do, and what it did: the engine's plan and its summary."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from core.events import PassFinished
from core.models import ArticleRecord, HuduArticle, HuduUpload, SkippedFile
from core.render import RenderedArticle

MAX_BATCH_JSON_BYTES = 4 * 1024 * 1024

Action = Literal["create", "update"]


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """One line of a dry run: what would happen to one article, and why for a removal."""

    action: Literal["create", "update", "remove"]
    hudu_id: int
    title: str
    why: str = ""


@dataclass(frozen=True, slots=True)
class PassSummary:
    """The outcome of one pass; `as_json` is what `hhsync sync --json` prints."""

    full: bool
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    removed: int
    failed: int
    removals_held: int
    synced_total: int
    pending_total: int
    skipped_total: int
    failed_total: int
    duration_seconds: float
    plan: tuple[PlannedChange, ...] = ()
    restored: int = 0
    """Copies deleted, archived or edited in Halo, written again from Hudu (core.drift)."""

    @classmethod
    def of(
        cls,
        plan: Plan,
        tally: Tally,
        counts: Mapping[str, int],
        duration_seconds: float,
        *,
        dry_run: bool,
    ) -> PassSummary:
        """What a pass did; for a dry run, what it would do, with the plan's changes."""
        created, updated, removed = tally.created, tally.updated, tally.removed
        restored = tally.restored
        if dry_run:
            restored = sum(bool(w.restores) for w in plan.writes)
            created = sum(w.action == "create" and not w.restores for w in plan.writes)
            updated = sum(w.action == "update" and not w.restores for w in plan.writes)
            removed = len(plan.removals)
        return cls(
            full=plan.full,
            dry_run=dry_run,
            created=created,
            updated=updated,
            unchanged=plan.unchanged,
            removed=removed,
            failed=tally.failed,
            removals_held=plan.removals_held,
            synced_total=counts["synced"],
            pending_total=counts["pending"],
            skipped_total=counts["skipped"],
            failed_total=counts["failed"],
            duration_seconds=duration_seconds,
            plan=plan.changes() if dry_run else (),
            restored=restored,
        )

    def as_json(self) -> dict[str, object]:
        return {
            "synced": self.synced_total,
            "pending": self.pending_total,
            "skipped": self.skipped_total,
            "failed": self.failed_total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "restored": self.restored,
            "failed_this_pass": self.failed,
            "removals_held": self.removals_held,
            "full": self.full,
            "dry_run": self.dry_run,
            "duration_seconds": round(self.duration_seconds, 3),
        }


@dataclass(slots=True)
class Write:
    article: HuduArticle
    rendered: RenderedArticle
    action: Action
    files: Sequence[HuduUpload] = ()
    waiting_links: tuple[str, ...] = ()  # slugs of articles not yet in Halo when rendered
    restores: str = ""
    """Why the Halo copy is written again though Hudu did not change ("deleted in Halo" …)."""


@dataclass(frozen=True, slots=True)
class Removal:
    """A Halo copy to delete (or archive): its article left Hudu or the sync's scope."""

    hudu_id: int
    title: str
    scope: str
    why: str


@dataclass(slots=True)
class Plan:
    """What one pass will do. Planning changes nothing: `rows` are the planned versions of
    the rows of every article looked at, which the record book takes when the plan runs."""

    full: bool
    writes: list[Write] = field(default_factory=list)
    unchanged: int = 0
    removals: list[Removal] = field(default_factory=list)
    removals_held: int = 0
    rows: dict[int, ArticleRecord] = field(default_factory=dict)
    touched: list[int] = field(default_factory=list)
    forgotten: list[int] = field(default_factory=list)
    slugs: dict[str, int] = field(default_factory=dict)

    def changes(self) -> tuple[PlannedChange, ...]:
        """The dry-run view of the plan."""
        return tuple(
            [PlannedChange(w.action, w.article.id, w.article.name, w.restores) for w in self.writes]
            + [PlannedChange("remove", r.hudu_id, r.title, r.why) for r in self.removals]
        )


@dataclass(slots=True)
class Tally:
    created: int = 0
    updated: int = 0
    removed: int = 0
    restored: int = 0
    failed: int = 0
    done: int = 0
    total: int = 0


def _never() -> bool:
    return False


@dataclass(slots=True)
class PassState:
    """What one pass (or one resync, or retry) has done so far and must still check.

    Made fresh for each pass and passed down, so nothing of one pass leaks into the next.
    """

    started: datetime
    tally: Tally = field(default_factory=Tally)
    successes: int = 0
    """Batches Halo took: none, and several single articles refused, means tenant-wide."""
    single_rejections: int = 0
    uncertain_ids: set[int] = field(default_factory=set)
    """Articles whose write Halo may have applied: checked for a second copy at the end."""
    late_skips: dict[int, list[SkippedFile]] = field(default_factory=dict)
    """Files Hudu under-reported, found too large only after download."""
    faqlists_suspect: bool = False
    """Halo refused an article over its FAQ list: the next pass checks the lists exist."""
    stopping: Callable[[], bool] = _never
    reports_progress: bool = True
    """A pass tells its progress; a resync, which is no pass, does not."""

    def summary(
        self, plan: Plan, counts: Mapping[str, int], now: datetime, *, dry_run: bool
    ) -> PassSummary:
        duration = (now - self.started).total_seconds()
        return PassSummary.of(plan, self.tally, counts, duration, dry_run=dry_run)

    def finished(self, plan: Plan, now: datetime, error: str, *, dry_run: bool) -> PassFinished:
        tally = self.tally
        return PassFinished(
            plan.full,
            self.started,
            now,
            tally.created,
            tally.updated,
            plan.unchanged,
            tally.removed,
            tally.failed,
            error,
            dry_run,
            restored=tally.restored,
        )
