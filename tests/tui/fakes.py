"""A fake engine with the real engine's interface: fixed records, emitted events, a call log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from core.errors import HaloError
from core.events import (
    ActionTaken,
    ArticleChanged,
    Event,
    Origin,
    PassCause,
    PassFinished,
    PassProgressed,
    PassStarted,
    SchedulerChanged,
    ServiceAttached,
    ServiceLost,
    UserAction,
)
from core.history import PassRecord
from core.models import ArticleRecord, SkippedFile, Status
from core.remote import ServiceUnavailable

SCOPES = ["Central KB", "Acme Corp", "Globex", "Initech", "Umbrella Health", "Wayne Enterprises"]
TOPICS = [
    "Reset a user's password",
    "VPN setup for remote staff",
    "Printer driver install (HP LaserJet)",
    "Onboarding checklist",
    "Backup rotation and offsite copies",
    "Firewall change procedure",
    "Microsoft 365 licence assignment",
    "Wi-Fi guest network",
]
FIXED = datetime(2026, 6, 30, 14, 2, 11)


def make_record(hudu_id: int, status: Status = Status.SYNCED, **changes: Any) -> ArticleRecord:
    scope = SCOPES[hudu_id % len(SCOPES)]
    record = ArticleRecord(
        hudu_id=hudu_id,
        title=f"{TOPICS[hudu_id % len(TOPICS)]} #{hudu_id}",
        scope=scope,
        company_id=None if scope == "Central KB" else 100 + hudu_id % len(SCOPES),
        status=status,
        hudu_url=f"https://acme.huducloud.com/kba/article-{hudu_id}",
        hudu_updated_at="2026-06-29T09:15:00",
        halo_id=5000 + hudu_id if status == Status.SYNCED else None,
        faqlist_id=12 if status == Status.SYNCED else None,
        attempts=1 if status == Status.SYNCED else 0,
        first_synced_at="2026-06-29T09:20:00" if status == Status.SYNCED else "",
        last_synced_at="2026-06-30T14:01:30" if status == Status.SYNCED else "",
        last_attempt_at="2026-06-30T14:01:30",
    )
    return replace(record, **changes)


def sample_records() -> list[ArticleRecord]:
    """Fixed data for pilot and snapshot tests: every status, a hint, a skipped file."""
    records = [make_record(i) for i in range(1, 13)]
    records += [make_record(i, Status.PENDING, reason="edited in Hudu") for i in range(20, 24)]
    records += [
        make_record(30, Status.SKIPPED, reason="draft"),
        make_record(31, Status.SKIPPED, reason="unlinked", halo_id=5031),
        make_record(32, Status.SKIPPED, reason="archived in Hudu; archived in Halo (403)"),
    ]
    records.append(
        make_record(
            40,
            Status.FAILED,
            error="Halo 400 Bad Request (POST /api/KBArticle)",
            http_status=400,
            hint='In Halo, enable "Allow Articles to be added to FAQ Lists"',
            attempts=3,
            next_retry_at="2026-06-30T14:30:00",
        )
    )
    records.append(
        make_record(
            41,
            Status.FAILED,
            error="Halo 500 Internal Server Error (POST /api/KBArticle)",
            http_status=500,
            hint="Disable AI duplicate detection for KB articles in Halo",
            attempts=2,
        )
    )
    records.append(
        make_record(
            9,
            Status.SYNCED,
            skipped_files=(SkippedFile(77, "network-diagram.vsdx", 31_457_280, "over 25 MB"),),
        )
    )
    return records


class FakeEngine:
    hudu_label = "acme.huducloud.com"
    halo_label = "acme.halopsa.com"
    halo_notice = ""
    interval = 300

    def __init__(self, records: list[ArticleRecord] | None = None) -> None:
        seed = records if records is not None else sample_records()
        self._records = {r.hudu_id: r for r in seed}
        self.listeners: list[Callable[[Event], None]] = []
        self.calls: list[tuple[Any, ...]] = []
        self.paused = False
        self.running = False
        self.next_pass_at: datetime | None = datetime(2026, 6, 30, 14, 7, 11)
        self.last_pass: PassFinished | None = PassFinished(
            full=True,
            started_at=datetime(2026, 6, 30, 14, 0, 0),
            finished_at=FIXED,
            created=12,
            updated=3,
            unchanged=0,
            removed=0,
            failed=2,
        )
        self.fail_with: Exception | None = None
        self.passes: list[PassRecord] = []
        """What `history` answers, newest first."""
        self.still_failing: set[int] = set()
        """Failed articles that `retry_failed` leaves failed."""
        self.stopped = asyncio.Event()
        self.gate: asyncio.Event | None = None

    # ---- the Engine interface
    def records(self) -> list[ArticleRecord]:
        return list(self._records.values())

    def record(self, hudu_id: int) -> ArticleRecord | None:
        return self._records.get(hudu_id)

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def halo_article_url(self, halo_id: int) -> str:
        return f"https://acme.halopsa.com/kb?id={halo_id}"

    async def run_scheduler(self) -> None:
        self.calls.append(("run_scheduler",))
        await self.stopped.wait()

    def stop(self) -> None:
        self.calls.append(("stop",))
        self.stopped.set()

    async def pause(self, origin: Origin = Origin.COMMAND) -> None:
        self.calls.append(("pause",))
        self.paused = True
        self.acted(UserAction.PAUSE, origin)
        self.emit(SchedulerChanged(True, None))

    async def resume(self, origin: Origin = Origin.COMMAND) -> None:
        self.calls.append(("resume",))
        self.paused = False
        self.acted(UserAction.RESUME, origin)
        self.emit(SchedulerChanged(False, self.next_pass_at))

    async def sync_now(self, *, full: bool = False, command_id: str = "") -> None:
        self.calls.append(("sync_now", full))
        await self._maybe_fail()
        self.start_pass(full=full, command_id=command_id)
        self.finish_pass(full=full)

    async def resync(self, hudu_id: int, origin: Origin = Origin.COMMAND) -> ArticleRecord:
        self.calls.append(("resync", hudu_id))
        await self._maybe_fail()
        record = self.change(hudu_id, status=Status.SYNCED, reason="", halo_id=5000 + hudu_id)
        self.progress(1, 1)  # the engine's writer reports its batch, though no pass runs
        self.acted(UserAction.RESYNC, origin, record)
        return record

    async def unlink(self, hudu_id: int, origin: Origin = Origin.COMMAND) -> ArticleRecord:
        self.calls.append(("unlink", hudu_id))
        await self._maybe_fail()
        before = self._records[hudu_id]
        kept = before.reason if before.status == Status.SKIPPED else ""
        reason = f"unlinked; {kept}" if kept else "unlinked"  # as `RecordBook.unlink`
        record = self.change(hudu_id, status=Status.SKIPPED, reason=reason, unlinked=True)
        self.acted(UserAction.UNLINK, origin, record)
        return record

    async def resync_many(
        self, hudu_ids: Sequence[int], origin: Origin = Origin.COMMAND
    ) -> list[ArticleRecord]:
        self.calls.append(("resync_many", tuple(hudu_ids)))
        await self._maybe_fail()
        records = [
            self.change(i, status=Status.SYNCED, reason="", unlinked=False, halo_id=5000 + i)
            for i in hudu_ids
        ]
        self.progress(len(records), len(records))
        for record in records:
            self.acted(UserAction.RESYNC, origin, record)
        return records

    async def unlink_many(
        self, hudu_ids: Sequence[int], origin: Origin = Origin.COMMAND
    ) -> list[ArticleRecord]:
        self.calls.append(("unlink_many", tuple(hudu_ids)))
        await self._maybe_fail()
        records = [
            self.change(i, status=Status.SKIPPED, reason="unlinked", unlinked=True)
            for i in hudu_ids
        ]
        for record in records:
            self.acted(UserAction.UNLINK, origin, record)
        return records

    async def retry_failed(self, *, command_id: str = "", origin: Origin = Origin.COMMAND) -> None:
        self.calls.append(("retry_failed",))
        await self._maybe_fail()
        failed = sum(r.status == Status.FAILED for r in self._records.values())
        self.acted(UserAction.RETRY, origin, count=failed)
        self.start_pass(cause=PassCause.RETRY, command_id=command_id)
        fixed = 0
        for record in list(self._records.values()):
            if record.status == Status.FAILED and record.hudu_id not in self.still_failing:
                self.change(record.hudu_id, status=Status.SYNCED, error="", hint="")
                fixed += 1
        self.finish_pass(updated=fixed, failed=len(self.still_failing))

    async def history(self, limit: int | None = None) -> list[PassRecord]:
        return list(self.passes[: limit or len(self.passes)])

    async def close(self) -> None:
        self.calls.append(("close",))

    # ---- test helpers
    async def _maybe_fail(self) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with

    def acted(
        self,
        action: UserAction,
        origin: Origin,
        record: ArticleRecord | None = None,
        *,
        count: int | None = None,
    ) -> None:
        """As `core.events.Announcer.acted`, at the fixed time."""
        self.emit(ActionTaken.of(action, origin, FIXED, record, count=count))

    def emit(self, event: Event) -> None:
        for listener in list(self.listeners):
            listener(event)

    def change(self, hudu_id: int, **changes: Any) -> ArticleRecord:
        record = replace(self._records[hudu_id], **changes)
        self._records[hudu_id] = record
        self.emit(ArticleChanged(replace(record)))
        return record

    def add(self, record: ArticleRecord) -> None:
        self._records[record.hudu_id] = record
        self.emit(ArticleChanged(replace(record)))

    def start_pass(
        self, *, full: bool = False, cause: PassCause = PassCause.SYNC, command_id: str = ""
    ) -> None:
        self.running = True
        self.emit(PassStarted(full=full, started_at=FIXED, cause=cause, command_id=command_id))

    def progress(self, done: int, total: int, failed: int = 0) -> None:
        self.emit(PassProgressed(done=done, total=total, synced=done, failed=failed))

    def finish_pass(self, *, full: bool = False, **counts: int) -> None:
        self.running = False
        finished = PassFinished(
            full=full,
            started_at=FIXED,
            finished_at=FIXED,
            created=counts.get("created", 0),
            updated=counts.get("updated", 0),
            unchanged=counts.get("unchanged", 0),
            removed=counts.get("removed", 0),
            failed=counts.get("failed", 0),
        )
        self.last_pass = finished
        self.emit(finished)


SERVICE = ServiceAttached(4242, "1.4.0", "/tmp/hhsync-1000/3f2a9c.sock")
"""The service a `FakeRemoteEngine` follows when the dashboard opens."""


class FakeRemoteEngine(FakeEngine):
    """The service's engine as `core.remote.RemoteEngine` shows it to the dashboard: the same
    commands, and the service stopping and coming back (while it is gone, every command raises
    `ServiceUnavailable`)."""

    def __init__(self, records: list[ArticleRecord] | None = None) -> None:
        super().__init__(records)
        self.answering = True

    def lose_service(self) -> None:
        self.answering = False
        self.running = False
        self.emit(ServiceLost("the service closed the event stream"))

    def service_back(self, pid: int, *changed: ArticleRecord) -> None:
        """The service answers again; rows that changed meanwhile come first (as after the new
        snapshot), then the announcement."""
        self.answering = True
        for record in changed:
            self.add(record)
        self.emit(ServiceAttached(pid, SERVICE.version, SERVICE.socket))

    async def _maybe_fail(self) -> None:
        await super()._maybe_fail()
        if not self.answering:
            raise ServiceUnavailable(f"no hhsync service answers on {SERVICE.socket}")


def halo_error() -> HaloError:
    return HaloError("Forbidden", status=403, hint="Give the API application the edit:kb scope")
