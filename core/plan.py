"""What a pass intends to do, and what it did: the engine's plan and its summary."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from core.models import ArticleRecord, HuduArticle, HuduUpload
from core.render import RenderedArticle

MAX_BATCH_JSON_BYTES = 4 * 1024 * 1024

Action = Literal["create", "update"]


@dataclass(frozen=True, slots=True)
class PassSummary:
    """The outcome of one pass; `as_json` is the `--json` summary of design.md."""

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
    plan: tuple[str, ...] = ()

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


@dataclass(slots=True)
class Removal:
    record: ArticleRecord
    why: str


@dataclass(slots=True)
class Plan:
    full: bool
    writes: list[Write] = field(default_factory=list)
    unchanged: int = 0
    removals: list[Removal] = field(default_factory=list)
    removals_held: int = 0
    touched: list[ArticleRecord] = field(default_factory=list)
    forgotten: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Tally:
    created: int = 0
    updated: int = 0
    removed: int = 0
    failed: int = 0
    done: int = 0
    total: int = 0


def batches(writes: list[Write], size_limit: int) -> list[list[Write]]:
    """Group writes by count and by JSON size, attachments (base64) included."""
    grouped: list[list[Write]] = []
    current: list[Write] = []
    current_bytes = 0
    for write in writes:
        weight = len(json.dumps(write.rendered.payload)) + sum(
            upload.size * 4 // 3 + 256 for upload in write.rendered.files_to_attach
        )
        if current and (
            len(current) >= size_limit or current_bytes + weight > MAX_BATCH_JSON_BYTES
        ):
            grouped.append(current)
            current, current_bytes = [], 0
        current.append(write)
        current_bytes += weight
    if current:
        grouped.append(current)
    return grouped
