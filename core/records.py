"""The record book: the only code that changes article rows and writes the mapping store.

Every change is a named method (`mark_synced`, `mark_failed`, `unlink` …) that edits the row,
writes the changed rows in one store write and tells the listeners with `ArticleChanged`.
Other modules read rows (`get`, `rows`) and never assign to them.

Results of writes Halo took may be deferred (`mark_synced(defer=True)`): they go to the store
with the next write (the intents of the next batch), with `flush`, or once `DEFER_LIMIT` rows
wait, so a batch costs one store write. Losing them in a crash is safe: a create keeps its
intent on disk and is adopted by marker, an update is sent again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.durability import DeferredFsync
from core.errors import ApiError
from core.events import ArticleChanged, ArticleRemoved, Event
from core.models import ArticleRecord, SkippedFile, Status
from core.store import MappingStore
from core.untracked import copied, untracked

RETRY_BACKOFF_MAX = timedelta(hours=1)
DEFER_LIMIT = 1_000
"""Deferred rows written at the latest once this many wait (a pass of updates only)."""
PLAN_SLICE_SECONDS = 0.01
"""How long taking a plan holds the event loop before giving it back (`take_plan`): each slice
takes as many rows as the last one took in that time, and its rows in one store write."""
FIRST_PLAN_SLICE = 100

Emit = Callable[[Event], None]


@dataclass(frozen=True, slots=True)
class Synced:
    """A write Halo took: the row's new Halo id, hash and files."""

    hudu_id: int
    halo_id: int
    content_hash: str
    skipped_files: tuple[SkippedFile, ...] = ()
    attachments: tuple[str, ...] = ()
    halo_edited_at: str = ""
    halo_seen_hash: str = ""
    """What Halo answered of the copy (its `date_edited`, `HaloArticleRef.seen_hash`): the
    baseline drift repair compares with ("" when the answer did not say)."""


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def retry_backoff(attempts: int) -> timedelta:
    """2, 4, 8 … minutes after each failed attempt, at most an hour."""
    return min(timedelta(minutes=2 ** min(attempts, 10)), RETRY_BACKOFF_MAX)


class RecordBook:
    """The article rows in memory, the store they persist in, and the events they raise."""

    def __init__(self, store: MappingStore, emit: Emit, clock: Callable[[], datetime]) -> None:
        self.store = store
        self._emit = emit
        self._clock = clock
        self._rows: dict[int, ArticleRecord] = {}
        self._slugs: dict[str, int] = {}
        self._deferred: dict[int, ArticleRecord] = {}
        self._deferred_meta: dict[str, Any] = {}
        self.settled_meta: dict[str, Any] = {}
        """Meta values that hold once a pass completes (written by `finish_pass`)."""
        self.fsync = DeferredFsync(store)

    def open(self) -> None:
        """Take the store (its lock) and its rows; the engine runs this in a thread."""
        self.store.open()
        self._rows = {i: untracked(row) for i, row in self.store.records().items()}
        self._slugs = {r.slug: r.hudu_id for r in self._rows.values() if r.slug}

    # ------------------------------------------------------------ reading
    def get(self, hudu_id: int) -> ArticleRecord | None:
        """The live row (read it; change it only through this class)."""
        return self._rows.get(hudu_id)

    def __getitem__(self, hudu_id: int) -> ArticleRecord:
        return self._rows[hudu_id]

    def __contains__(self, hudu_id: object) -> bool:
        return hudu_id in self._rows

    def rows(self) -> list[ArticleRecord]:
        return list(self._rows.values())

    def snapshot(self, hudu_id: int) -> ArticleRecord | None:
        found = self._rows.get(hudu_id)
        return copied(found) if found else None

    def snapshots(self) -> list[ArticleRecord]:
        return [copied(r) for r in self._rows.values()]

    def counts(self) -> dict[str, int]:
        tally = dict.fromkeys((s.value for s in Status), 0)
        for rec in self._rows.values():
            tally[rec.status.value] += 1
        return tally

    @property
    def slugs(self) -> Mapping[str, int]:
        """Hudu slug → Hudu id of every article seen, for rewriting `/kba/` links."""
        return self._slugs

    def halo_client_of(self, hudu_id: int) -> int | None:
        """The Halo customer the article is restricted to, as last planned."""
        rec = self._rows.get(hudu_id)
        return None if rec is None else rec.halo_client_id

    def live_halo_id(self, hudu_id: int) -> int | None:
        """The Halo id of the article's copy, unless it has none or it was removed."""
        rec = self._rows.get(hudu_id)
        return None if rec is None or rec.removed else rec.halo_id

    def live_copies(self) -> int:
        return sum(r.halo_id is not None for r in self._rows.values())

    def meta(self, key: str, default: Any = None) -> Any:
        if key in self._deferred_meta:
            return self._deferred_meta[key]
        return self.store.meta(key, default)

    # ------------------------------------------------------------ a plan
    def apply_plan(
        self,
        planned: Mapping[int, ArticleRecord],
        touched: Iterable[int],
        forgotten: Sequence[int],
        slugs: Mapping[str, int],
        *,
        store_pending: bool = False,
    ) -> None:
        """Take the planner's rows. Rows that changed status are stored, except pending ones
        unless `store_pending`: those are stored with their batch (a crash before then loses
        nothing, as the next pass plans them again). A row the user unlinked while the pass
        planned stays as the user left it (planning gives the event loop back)."""
        unlinked = {
            i
            for i in (*planned, *forgotten)
            if (live := self._rows.get(i)) is not None
            and live.unlinked
            and not (i in planned and planned[i].unlinked)
        }
        self._rows.update((i, untracked(rec)) for i, rec in planned.items() if i not in unlinked)
        self._slugs.update(slugs)
        changed = [self._rows[i] for i in touched if i not in unlinked]
        if store_pending:
            self._commit(changed)
        else:
            self._commit(r for r in changed if r.status is not Status.PENDING)
            self._commit((r for r in changed if r.status is Status.PENDING), persist=False)
        self.forget([i for i in forgotten if i not in unlinked])

    async def take_plan(
        self,
        planned: Mapping[int, ArticleRecord],
        touched: Sequence[int],
        forgotten: Sequence[int],
        slugs: Mapping[str, int],
    ) -> None:
        """`apply_plan` a slice at a time, giving the event loop back in between (a first sync
        plans a row per article, and each changed row is told to listeners)."""
        await asyncio.sleep(0)  # a slice to itself, not with the end of planning before it
        ids = list(planned)
        touched_ids = set(touched)
        start, size = 0, FIRST_PLAN_SLICE
        async with self.fsync.writes():
            while True:
                began = time.perf_counter()
                chunk = ids[start : start + size]
                last = start + size >= len(ids)
                self.apply_plan(
                    {i: planned[i] for i in chunk},
                    [i for i in chunk if i in touched_ids],
                    forgotten if last else (),
                    slugs if start == 0 else {},
                )
                if last:
                    break
                start += size
                spent = max(time.perf_counter() - began, 1e-6)
                size = max(1, min(2 * size, int(size * PLAN_SLICE_SECONDS / spent)))
                await asyncio.sleep(0)

    def forget(self, hudu_ids: Sequence[int]) -> None:
        if not hudu_ids:
            return
        for hudu_id in hudu_ids:
            self._deferred.pop(hudu_id, None)
        self._write((), removed=hudu_ids)
        for hudu_id in hudu_ids:
            self._rows.pop(hudu_id, None)
            self._emit(ArticleRemoved(hudu_id))

    # ------------------------------------------------------------ writes to Halo
    def mark_intents(self, hudu_ids: Iterable[int]) -> None:
        """Before a create is sent, its row says so on disk, so that after a crash the next
        pass looks the article up by its marker instead of creating it again."""
        fresh = [
            rec
            for rec in (self._rows[i] for i in hudu_ids)
            if rec.halo_id is None and rec.intent != "create"
        ]
        for rec in fresh:
            rec.intent = "create"
        self._commit(fresh)

    def mark_synced(self, results: Sequence[Synced], *, defer: bool = False) -> int:
        """Rows whose write Halo took; returns how many of them created their Halo copy.
        With `defer`, the rows reach the store with the next write (see the module)."""
        now = iso(self._clock())
        created = 0
        changed = []
        for result in results:
            rec = self._rows[result.hudu_id]
            created += rec.halo_id is None
            rec.halo_id = result.halo_id
            rec.removed = False
            rec.intent = ""
            rec.content_hash = result.content_hash
            rec.attempts = 0
            rec.error = rec.hint = rec.next_retry_at = ""
            rec.http_status = None
            rec.first_synced_at = rec.first_synced_at or now
            rec.last_synced_at = rec.last_attempt_at = now
            rec.skipped_files = result.skipped_files
            rec.attachments = result.attachments
            rec.halo_edited_at, rec.halo_seen_hash = result.halo_edited_at, result.halo_seen_hash
            if rec.unlinked:
                pass
            elif rec.skipped_files:
                names = ", ".join(f.filename for f in rec.skipped_files)
                rec.status = Status.SKIPPED
                rec.reason = f"synced without {names}: {rec.skipped_files[0].reason}"
            else:
                rec.status = Status.SYNCED
                rec.reason = ""
            changed.append(rec)
        self._commit(changed, defer=defer)
        return created

    def mark_failed(
        self, hudu_ids: Iterable[int], exc: ApiError, reason: str, *, keep_intent: bool = False
    ) -> None:
        """The rows keep the error, status, hint and attempts; retries back off up to an hour.

        With `keep_intent`, a create Halo may have applied stays marked, so the next attempt
        looks for its marker before creating again."""
        now = self._clock()
        changed = []
        for hudu_id in hudu_ids:
            rec = self._rows[hudu_id]
            if not (keep_intent and rec.intent == "create"):
                rec.intent = ""
            rec.status = Status.FAILED
            rec.reason = reason
            rec.error, rec.http_status, rec.hint = exc.message, exc.status, exc.hint
            rec.attempts += 1
            rec.last_attempt_at = iso(now)
            rec.next_retry_at = iso(now + retry_backoff(rec.attempts))
            changed.append(rec)
        self._commit(changed)

    def mark_copy_lost(self, hudu_ids: Sequence[int]) -> None:
        """Halo copies deleted in Halo: the next write of each is a create."""
        for hudu_id in hudu_ids:
            rec = self._rows[hudu_id]
            rec.halo_id, rec.content_hash, rec.intent = None, "", "create"
        self._commit(self._rows[i] for i in hudu_ids)

    def mark_removed(self, hudu_id: int, reason: str, *, deleted: bool) -> None:
        """The Halo copy of an article that left Hudu (or scope) was deleted or archived."""
        rec = self._rows[hudu_id]
        if deleted:
            rec.halo_id = None
        rec.removed = True
        rec.content_hash = ""
        set_skipped(rec, f"unlinked; {reason}" if rec.unlinked else reason)
        self._commit([rec])

    def note_halo_baselines(self, seen: Mapping[int, tuple[str, str]]) -> None:
        """Copies whose write answer said nothing of their state take what a listing shows
        (hudu id → `date_edited`, `seen_hash`) as the baseline for drift repair."""
        changed = []
        for hudu_id, (edited_at, seen_hash) in seen.items():
            rec = self._rows[hudu_id]
            rec.halo_edited_at, rec.halo_seen_hash = edited_at, seen_hash
            changed.append(rec)
        self._commit(changed)

    # ------------------------------------------------------------ reconciliation
    def adopt(self, found: Mapping[int, int | None]) -> None:
        """Creates that may have been applied: adopt the Halo copy found (hudu id → halo id),
        or clear the intent so the article is planned again."""
        changed = []
        for hudu_id, halo_id in found.items():
            rec = self._rows[hudu_id]
            if halo_id is not None:
                rec.halo_id = halo_id
                rec.content_hash = ""
            rec.intent = ""
            changed.append(rec)
        self._commit(changed)

    def prepare_resync(self, hudu_id: int, halo_id: int | None) -> None:
        """Relink an article and forget its hash, so the next write sends it whatever it holds."""
        rec = self._rows.get(hudu_id)
        if rec is None:
            return
        rec.unlinked = False
        rec.content_hash = ""
        rec.halo_id = halo_id

    def clear_backoff(self) -> int:
        """Every failed article is due for retry now; returns how many there are."""
        failed = 0
        for rec in self._rows.values():
            if rec.status is Status.FAILED:
                rec.next_retry_at = ""
                failed += 1
        return failed

    # ------------------------------------------------------------ user commands
    def linked_ids(self) -> list[int]:
        """The articles with a live Halo copy that hhsync keeps in sync."""
        return [
            r.hudu_id
            for r in self._rows.values()
            if r.halo_id is not None and not r.unlinked and not r.removed
        ]

    def unlink(self, hudu_ids: Iterable[int]) -> list[ArticleRecord]:
        """A skipped article keeps its reason (`unlinked; draft in Hudu`): it says why the
        article would not be written even once relinked."""
        changed = []
        for hudu_id in hudu_ids:
            rec = self._rows[hudu_id]
            rec.unlinked = True
            reason = rec.reason if rec.status is Status.SKIPPED else ""
            if not reason.startswith("unlinked"):
                reason = f"unlinked; {reason}" if reason else "unlinked"
            set_skipped(rec, reason)
            changed.append(rec)
        self._commit(changed)
        return changed

    # ------------------------------------------------------------ bookkeeping
    def commit_faqlists(self, ids: Mapping[str, int]) -> None:
        self._write((), faqlists=dict(ids))

    def finish_pass(self, started: datetime, verify_copies: Iterable[int]) -> None:
        """Move the cursor to the pass's start and count it (only after a pass completes)."""
        self._write(
            (),
            meta={
                "cursor": iso(started),
                "pass_count": int(self.store.meta("pass_count", 0) or 0) + 1,
                "verify_copies": sorted(verify_copies),
                **self.settled_meta,
            },
        )

    def set_verify_copies(self, hudu_ids: Iterable[int]) -> None:
        self._write((), meta={"verify_copies": sorted(hudu_ids)})

    def remember(self, **values: Any) -> None:
        """Meta values kept with the next store write (e.g. the batch size that worked)."""
        self._deferred_meta.update(values)

    def flush(self) -> None:
        """Write the deferred rows and meta values now (one store write, if any wait)."""
        if self._deferred or self._deferred_meta:
            self._write(())

    def verify_copies(self) -> set[int]:
        """Articles whose write Halo may have applied late: checked for a second copy."""
        return {int(i) for i in self.store.meta("verify_copies") or []}

    def add_run(self, run: Mapping[str, Any]) -> None:
        """Keep what a pass did in the mapping file's history of runs (core.history)."""
        self._write((), run=run)

    # ------------------------------------------------------------ internals
    def _commit(
        self, records: Iterable[ArticleRecord], *, persist: bool = True, defer: bool = False
    ) -> None:
        """Persist a batch of changed rows in one write (or defer it), then tell the
        listeners."""
        batch = list({r.hudu_id: r for r in records}.values())
        if not batch:
            return
        if persist and defer:
            self._deferred.update((r.hudu_id, r) for r in batch)
            if len(self._deferred) >= DEFER_LIMIT:
                self.flush()
        elif persist:
            self._write(batch)
        for rec in batch:
            self._emit(ArticleChanged(copied(rec)))

    def _write(
        self,
        records: Iterable[ArticleRecord],
        *,
        meta: Mapping[str, Any] | None = None,
        faqlists: Mapping[str, int] | None = None,
        run: Mapping[str, Any] | None = None,
        removed: Sequence[int] = (),
    ) -> None:
        """One store write of these rows and values, with everything deferred so far."""
        rows = {**self._deferred, **{r.hudu_id: r for r in records}}
        values = {**self._deferred_meta, **(meta or {})}
        self.store.commit_batch(
            rows.values(), meta=values, faqlists=faqlists, run=run, removed=removed
        )
        self._deferred.clear()
        self._deferred_meta.clear()


def set_skipped(rec: ArticleRecord, reason: str) -> None:
    """Skipped, with the reason; the error of an earlier attempt is cleared. Used by the book
    on its rows and by the planner on the copies it plans with."""
    rec.status = Status.SKIPPED
    rec.reason = reason
    rec.error = rec.hint = rec.next_retry_at = ""
    rec.http_status = None
    rec.intent = ""
