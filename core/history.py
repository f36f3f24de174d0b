"""Pass history: what each pass did and cost, the last `MAX_RUNS` kept in the mapping file's
`runs` table (`hhsync history`, the dashboard's History tab)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import HhsyncError
from core.events import Announcer, Event, PassCause, PassFinished, PassStarted, RateLimitWaited
from core.records import RecordBook, iso
from core.rowcodec import BadRow, RowCodec
from core.serviceclient import ServiceClient
from core.tables import MAX_RUNS


@dataclass(frozen=True, slots=True)
class PassRecord:
    """One pass, as the history keeps it. Rows written by an older hhsync lack the later
    fields: they read as 0 or ""."""

    started_at: str
    finished_at: str
    cause: str = PassCause.SYNC.value
    full: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    restored: int = 0
    failed: int = 0
    synced_total: int = 0
    pending_total: int = 0
    skipped_total: int = 0
    failed_total: int = 0
    halo_requests: int = 0
    hudu_requests: int = 0
    waits: int = 0
    waited_seconds: float = 0.0
    error: str = ""

    @classmethod
    def of(cls, finished: PassFinished, counts: Mapping[str, int]) -> PassRecord:
        """A finished pass and the totals of the rows after it."""
        return cls(
            started_at=iso(finished.started_at),
            finished_at=iso(finished.finished_at),
            cause=finished.cause.value,
            full=finished.full,
            created=finished.created,
            updated=finished.updated,
            unchanged=finished.unchanged,
            removed=finished.removed,
            restored=finished.restored,
            failed=finished.failed,
            synced_total=counts.get("synced", 0),
            pending_total=counts.get("pending", 0),
            skipped_total=counts.get("skipped", 0),
            failed_total=counts.get("failed", 0),
            halo_requests=finished.halo_requests,
            hudu_requests=finished.hudu_requests,
            waits=finished.waits,
            waited_seconds=round(finished.waited_seconds, 3),
            error=finished.error,
        )


RUN_ROWS = RowCodec(PassRecord)
"""The codec of the `runs` table."""


def run_row(finished: PassFinished, counts: Mapping[str, int]) -> dict[str, Any]:
    """The `runs` row of a finished pass."""
    return RUN_ROWS.encode(PassRecord.of(finished, counts))


def read_history(rows: list[dict[str, Any]], limit: int = MAX_RUNS) -> list[PassRecord]:
    """The last `limit` passes, newest first; a row this version cannot read is left out."""
    passes: list[PassRecord] = []
    for row in reversed(rows):
        if len(passes) >= limit:
            break
        if not isinstance(row.get("started_at"), str):
            continue
        try:
            passes.append(RUN_ROWS.decode(row))
        except BadRow:
            continue
    return passes


class PassMeter:
    """Measures the pass in flight from the engine's events and the clients' request counts:
    the cause (from `PassStarted`), the requests sent to each service, the rate-limit waits."""

    def __init__(self, halo_requests: Callable[[], int], hudu_requests: Callable[[], int]) -> None:
        self._halo_requests = halo_requests
        self._hudu_requests = hudu_requests
        self._cause = PassCause.SYNC
        self._at_start = (0, 0)
        self._waits = 0
        self._waited = 0.0

    def saw(self, event: Event) -> None:
        if isinstance(event, PassStarted):
            self._cause = event.cause
            self._at_start = (self._halo_requests(), self._hudu_requests())
            self._waits, self._waited = 0, 0.0
        elif isinstance(event, RateLimitWaited):
            self._waits += 1
            self._waited += event.seconds

    def measured(self, finished: PassFinished) -> PassFinished:
        """The finished pass with what it cost."""
        return dataclasses.replace(
            finished,
            cause=self._cause,
            halo_requests=self._halo_requests() - self._at_start[0],
            hudu_requests=self._hudu_requests() - self._at_start[1],
            waits=self._waits,
            waited_seconds=self._waited,
        )


class PassHistory:
    """Measures each pass and keeps it in the `runs` table."""

    def __init__(
        self, book: RecordBook, announcer: Announcer, *, halo: ServiceClient, hudu: ServiceClient
    ) -> None:
        self.book = book
        self.meter = PassMeter(lambda: halo.limiter.acquired, lambda: hudu.limiter.acquired)
        announcer.subscribe(self.meter.saw)

    def finished(self, finished: PassFinished) -> PassFinished:
        """The pass with what it cost, kept (unless a dry run; a store that fails to keep it
        does not fail the pass)."""
        measured = self.meter.measured(finished)
        if not finished.dry_run:
            with contextlib.suppress(HhsyncError):
                self.book.add_run(run_row(measured, self.book.counts()))
        return measured

    def read(self, limit: int | None = None) -> list[PassRecord]:
        """The last `limit` passes (all that are kept when None), newest first."""
        return read_history(self.book.store.runs(), limit or MAX_RUNS)
