"""The sync engine: its life cycle, the scheduler, the user's commands and the order of a pass.

One asyncio object, driven by the same commands from the dashboard, the CLI and the service,
watched through `subscribe`. The planner, writer, reconciler and record book do the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import httpx

from core.adapt import adapt_to
from core.bulk import mapped_ids, read_for_resync
from core.collector import collect_set_aside
from core.config import Settings
from core.customers import CustomerDirectory
from core.drift import DriftCheck
from core.errors import AuthError, HhsyncError
from core.events import (
    Announcer,
    Event,
    Origin,
    PassCause,
    PassFinished,
    PassProgressed,
    PassStarted,
    SchedulerChanged,
    UserAction,
)
from core.faqlists import FaqListDirectory
from core.halo import HaloClient
from core.halo_profile import HaloProfile
from core.history import PassHistory, PassRecord
from core.hudu import HuduClient
from core.models import ArticleRecord
from core.plan import PassState, PassSummary, Plan
from core.planner import HuduView, Planner
from core.probe import HaloProbe, ProbeReport
from core.reconciler import Reconciler
from core.records import RecordBook, now_utc
from core.render import LinkedRenderer
from core.store import MappingStore
from core.tenant import HaloKnowledge
from core.writer import Sleep, Writer

FULL_PASS_EVERY = 12


class Engine:
    """Runs sync passes between one Hudu and one Halo, persisting in one mapping store."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: MappingStore,
        hudu: HuduClient,
        halo: HaloClient,
        clock: Callable[[], datetime] = now_utc,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.store = store
        self.hudu = hudu
        self.halo = halo
        self.clock = clock
        self.interval: float = settings.hhsync_interval
        self.hudu_label = httpx.URL(settings.hudu_base_url).host or settings.hudu_base_url
        self.halo_label = httpx.URL(settings.halo_base_url).host or settings.halo_base_url
        self.paused = False
        self.running = False
        self.next_pass_at: datetime | None = None
        self.last_pass: PassFinished | None = None
        self.announcer = Announcer(clock)
        self.book = RecordBook(store, self.announcer.emit, clock)
        self.faqlists = FaqListDirectory.for_settings(halo, self.book, settings)
        renderer = self.renderer = LinkedRenderer(settings.hudu_base_url, halo.article_url)
        renderer.client_of = self.book.halo_client_of
        self.customers = CustomerDirectory.kept_in(store, halo, settings, clock)
        self.planner = Planner(
            settings, hudu, self.book, renderer, self.announcer, clock, self.customers
        )
        self.reconciler = Reconciler(halo, self.book, self.announcer)
        self.drift = DriftCheck(halo, self.book, self.announcer, self.planner)
        self.passes = PassHistory(self.book, self.announcer, halo=halo, hudu=hudu)
        self.writer = Writer(
            halo=halo,
            hudu=hudu,
            book=self.book,
            reconciler=self.reconciler,
            renderer=renderer,
            announcer=self.announcer,
            settings=settings,
            sleep=sleep,
        )
        prober = HaloProbe(
            halo=halo,
            faqlists=self.faqlists,
            settings=settings,
            store=store,
            clock=clock,
            sleep=sleep,
        )
        self.tenant = HaloKnowledge(prober, self.announcer, self._adapt)
        self._pass_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        self._opened = False

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        return self.announcer.subscribe(listener)

    def records(self) -> list[ArticleRecord]:
        return self.book.snapshots()

    def record(self, hudu_id: int) -> ArticleRecord | None:
        return self.book.snapshot(hudu_id)

    def counts(self) -> dict[str, int]:
        return self.book.counts()

    def halo_article_url(self, halo_id: int) -> str:
        return self.halo.article_url(halo_id)

    async def history(self, limit: int | None = None) -> list[PassRecord]:
        return self.passes.read(limit)

    async def open(self) -> None:
        """Take the store and load the mapping; only reads (the next pass settles a crash)."""
        if self._opened:
            return
        await asyncio.to_thread(self.book.open)  # 50,000 rows take seconds: off the loop
        self._opened = True
        self.faqlists.load(self.store.faqlists())
        self.paused = bool(self.store.meta("paused", False))
        self.customers.load()
        self.tenant.load()

    def _adapt(self, profile: HaloProfile) -> None:
        adapt_to(profile, self.halo, self.writer, self.reconciler, self.planner, self.renderer)

    @property
    def halo_notice(self) -> str:
        """One line for the header when the tenant needs saying ("crash recovery degraded")."""
        return self.tenant.notice

    async def probe(self) -> ProbeReport:
        """`hhsync doctor --probe`, between passes (core.tenant)."""
        async with self._pass_lock:
            return await self.tenant.probe()

    async def close(self) -> None:
        self.stop()
        for client in (self.hudu, self.halo):
            with contextlib.suppress(Exception):
                await client.aclose()
        if self._opened:
            self.store.close()
            self._opened = False

    async def run_scheduler(self) -> None:
        """Run a pass now, then one every `interval` seconds, never two at once."""
        self._stopping = False
        while not self._stopping:
            if not self.paused:
                try:
                    await self.sync_now(cause=PassCause.SCHEDULED)
                except AuthError as exc:
                    self.announcer.say(logging.ERROR, f"{exc} — {exc.hint}")
                except HhsyncError as exc:
                    self.announcer.say(logging.ERROR, f"pass failed: {exc}")
            if self.last_pass is not None and self.last_pass.full:
                collect_set_aside()  # between passes: core.collector
            if self._stopping:
                break
            wait = timedelta(seconds=self.interval)
            self.next_pass_at = None if self.paused else self.clock() + wait
            self.announcer.emit(SchedulerChanged(self.paused, self.next_pass_at))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
        self.next_pass_at = None

    def stop(self) -> None:
        """Ask the scheduler and any pass to stop after the batch in flight."""
        self._stopping = True
        self._wake.set()

    async def pause(self, origin: Origin = Origin.COMMAND) -> None:
        """No scheduled pass until `resume`, across restarts; a pass in flight finishes."""
        self.paused = True
        self.next_pass_at = None
        self.store.set_meta(paused=True)
        self.announcer.acted(UserAction.PAUSE, origin)
        self.announcer.emit(SchedulerChanged(True, None))

    async def resume(self, origin: Origin = Origin.COMMAND) -> None:
        """Scheduled passes again, the next one now."""
        self.paused = False
        self.store.set_meta(paused=False)
        self._wake.set()
        self.announcer.acted(UserAction.RESUME, origin)
        self.announcer.emit(SchedulerChanged(False, self.next_pass_at))

    async def sync_now(
        self,
        *,
        full: bool = False,
        dry_run: bool = False,
        force: bool = False,
        command_id: str = "",
        cause: PassCause = PassCause.SYNC,
    ) -> PassSummary:
        """One pass: incremental by default, full on demand, on the first run and every 12th."""
        async with self._pass_lock:
            pass_count = int(self.store.meta("pass_count", 0) or 0)
            first = not self.store.meta("cursor")
            full = full or first or pass_count % FULL_PASS_EVERY == FULL_PASS_EVERY - 1
            full = full or self.faqlists.layout_changed()  # HHSYNC_FOLDERS: every article moves
            return await self._run_pass(
                full=full, dry_run=dry_run, force=force, cause=cause, command_id=command_id
            )

    async def retry_failed(
        self, *, command_id: str = "", origin: Origin = Origin.COMMAND
    ) -> PassSummary:
        """Retry every failed article now, whatever its back-off says."""
        async with self._pass_lock:
            self.announcer.acted(UserAction.RETRY, origin, count=self.book.clear_backoff())
            return await self._run_pass(
                full=False, dry_run=False, force=False, cause=PassCause.RETRY, command_id=command_id
            )

    async def resync(self, hudu_id: int, origin: Origin = Origin.COMMAND) -> ArticleRecord:
        (record,) = await self.resync_many([hudu_id], origin)
        return record

    async def resync_many(
        self, hudu_ids: Sequence[int], origin: Origin = Origin.COMMAND
    ) -> list[ArticleRecord]:
        """Push articles even if unchanged, relinking them and re-adopting their Halo copies:
        one read of Hudu, one marker search and batched writes for any number (core.bulk)."""
        async with self._pass_lock:
            view, found = await read_for_resync(
                hudu_ids, self.planner, self.reconciler, self.book, self.announcer
            )
            plan = await self._plan(view, full=False, dry_run=False, forced=found)
            state = PassState(self.clock(), stopping=lambda: self._stopping, reports_progress=False)
            self.book.apply_plan(plan.rows, plan.touched, (), plan.slugs, store_pending=True)
            to_verify = await self._write(plan, state)
            if to_verify is not None and to_verify != self.book.verify_copies():
                self.book.set_verify_copies(to_verify)
            records = [r for i in found if (r := self.book.snapshot(i)) is not None]
            self.announcer.acted_on(UserAction.RESYNC, origin, records)
            return records

    async def unlink(self, hudu_id: int, origin: Origin = Origin.COMMAND) -> ArticleRecord:
        (record,) = await self.unlink_many([hudu_id], origin)
        return record

    async def unlink_many(
        self, hudu_ids: Sequence[int], origin: Origin = Origin.COMMAND
    ) -> list[ArticleRecord]:
        """Stop syncing articles (one store write); their Halo copies stay, Halo's to edit."""
        records = self.book.unlink(mapped_ids(hudu_ids, self.book))
        self.announcer.acted_on(UserAction.UNLINK, origin, records)
        return records

    async def reset(self, origin: Origin = Origin.COMMAND) -> int:
        """Unlink every article with a Halo copy (the caller asks the user to confirm)."""
        async with self._pass_lock:
            unlinked = len(self.book.unlink(self.book.linked_ids()))
            self.announcer.acted(UserAction.RESET, origin, count=unlinked)
            return unlinked

    async def _run_pass(
        self, *, full: bool, dry_run: bool, force: bool, cause: PassCause, command_id: str
    ) -> PassSummary:
        state = PassState(self.clock(), stopping=lambda: self._stopping)
        self.running = True
        self.announcer.emit(PassStarted(full, state.started, cause, command_id))
        plan, view = Plan(full=full), HuduView({}, {}, {})
        error = ""
        try:
            if not dry_run:
                await self.tenant.before_pass()
                await self.reconciler.settle_intents()
            view = await self.planner.read_hudu(full=full, cursor=self.store.meta("cursor"))
            plan = await self._plan(view, full=full, dry_run=dry_run, force=force)
            state.tally.total = len(plan.writes) + len(plan.removals)
            self.announcer.emit(PassProgressed(0, state.tally.total, 0, 0))
            if dry_run:
                return state.summary(plan, self.book.counts(), self.clock(), dry_run=True)
            await self.book.take_plan(plan.rows, plan.touched, plan.forgotten, plan.slugs)
            to_verify = await self._write(plan, state, removals=True)
            if to_verify is not None:
                self.book.finish_pass(state.started, to_verify)
            return state.summary(plan, self.book.counts(), self.clock(), dry_run=False)
        except HhsyncError as exc:
            error = str(exc)
            raise
        finally:
            view.close()
            self.running = False
            self._finish(plan, state, error, dry_run=dry_run)

    async def _plan(
        self,
        view: HuduView,
        *,
        full: bool,
        dry_run: bool,
        force: bool = False,
        forced: list[int] | None = None,
    ) -> Plan:
        companies = self.planner.included_companies(view.companies)
        await self.customers.refresh(companies, full=full, persist=not dry_run)
        self.planner.say_unmatched(view.companies)
        await self.faqlists.ensure(self.planner.faqlists_wanted(view), dry_run=dry_run, verify=full)
        plan = await self.drift.planned(
            view, self.faqlists.ids, full=full, force=force, forced=forced or (), dry_run=dry_run
        )
        return view.handed_over(plan)

    async def _write(
        self, plan: Plan, state: PassState, *, removals: bool = False
    ) -> set[int] | None:
        """Send the plan's writes (and removals), then check for second copies: those of this
        run's uncertain writes and those kept from earlier runs, as a write Halo answered
        late may land after the run that made it. Returns the articles to check next time
        (None when stopped before the check)."""
        await self.writer.write(plan.writes, state)
        if removals and not self._stopping:
            await self.writer.remove(plan.removals, state)
            await self.faqlists.retire()
        self.faqlists.suspect |= state.faqlists_suspect
        if self._stopping:
            return None
        unchecked = await self.reconciler.tidy(self.book.verify_copies() | state.uncertain_ids)
        return unchecked | state.uncertain_ids

    def _finish(self, plan: Plan, state: PassState, error: str, *, dry_run: bool) -> None:
        event = self.passes.finished(state.finished(plan, self.clock(), error, dry_run=dry_run))
        self.last_pass = self.last_pass if dry_run else event
        self.announcer.emit(event)
