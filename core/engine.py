"""The sync engine: plans and executes passes, owns the mapping, tells listeners what happened.

One asyncio object and the single writer of the mapping store. The dashboard and the headless
CLI drive it through the same commands (`sync_now`, `resync`, `unlink`, `retry_failed`,
`reset`) and watch it through `subscribe`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from core.config import Settings
from core.errors import (
    ApiError,
    AuthError,
    HaloError,
    HhsyncError,
    MalformedResponseError,
    WriteUncertainError,
)
from core.events import (
    ArticleChanged,
    ArticleRemoved,
    EngineLogged,
    Event,
    PassFinished,
    PassProgressed,
    PassStarted,
    RateLimitWaited,
    SchedulerChanged,
)
from core.faqlists import (
    CENTRAL_SCOPE,
    CENTRAL_THIRD_PARTY_ID,
    FaqListDirectory,
    company_third_party_id,
)
from core.halo import HaloClient
from core.hudu import HuduClient
from core.models import (
    MARKER_PREFIX,
    ArticleRecord,
    HaloArticleRef,
    HuduArticle,
    HuduCompany,
    HuduUpload,
    SkippedFile,
    Status,
    marker_for,
)
from core.plan import Action, PassSummary, Plan, Removal, Tally, Write, batches
from core.render import MAX_FILE_BYTES, RenderedArticle, render_article
from core.store import MappingStore

log = logging.getLogger("hhsync.engine")

FULL_PASS_EVERY = 12
CURSOR_OVERLAP = timedelta(minutes=5)
REMOVAL_SHARE = 0.2
REMOVAL_FLOOR = 50
BATCH_CONCURRENCY = 4
RETRY_BACKOFF_MAX = timedelta(hours=1)
BULK_LOOKUP_FROM = 3
UNCERTAIN_WRITE_ATTEMPTS = 5
UNCERTAIN_SETTLE_SECONDS = 0.5
TIDY_RESERVE = 20  # requests left for the user's next command

Listener = Callable[[Event], None]


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class Engine:
    """Plans and runs sync passes between one Hudu and one Halo, persisting in one store."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: MappingStore,
        hudu: HuduClient,
        halo: HaloClient,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.settings = settings
        self.store = store
        self.hudu = hudu
        self.halo = halo
        self.clock = clock
        self.interval = settings.hhsync_interval
        self.hudu_label = httpx.URL(settings.hudu_base_url).host or settings.hudu_base_url
        self.halo_label = httpx.URL(settings.halo_base_url).host or settings.halo_base_url
        self.paused = False
        self.running = False
        self.next_pass_at: datetime | None = None
        self.last_pass: PassFinished | None = None
        self._listeners: list[Listener] = []
        self._records: dict[int, ArticleRecord] = {}
        self._pass_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        self._opened = False
        self.faqlists = FaqListDirectory(halo, store, showforall=settings.hhsync_show_for_all_users)
        self._slugs: dict[str, int] = {}
        self._pass_successes = 0
        self._pass_single_rejections = 0
        self._uncertain_ids: set[int] = set()
        self._faqlists_suspect = False
        self._unknown_companies: list[str] = []
        self._late_skips: dict[int, list[SkippedFile]] = {}

    # ------------------------------------------------------------ listeners and state
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not stop a sync
                log.exception("event listener failed")

    def _say(self, level: int, message: str) -> None:
        log.log(level, message)
        self._emit(EngineLogged(logging.getLevelName(level), message, self.clock()))

    def records(self) -> list[ArticleRecord]:
        return [dataclasses.replace(r) for r in self._records.values()]

    def record(self, hudu_id: int) -> ArticleRecord | None:
        found = self._records.get(hudu_id)
        return dataclasses.replace(found) if found else None

    def counts(self) -> dict[str, int]:
        tally = dict.fromkeys((s.value for s in Status), 0)
        for rec in self._records.values():
            tally[rec.status.value] += 1
        return tally

    def halo_article_url(self, halo_id: int) -> str:
        return f"{self.settings.halo_base_url}/kb?id={halo_id}"

    # ------------------------------------------------------------ life cycle
    async def open(self) -> None:
        """Take the store and load the mapping (creates a crash left in flight are settled at
        the start of the next pass, so a dry run still writes nothing)."""
        if self._opened:
            return
        self.store.open()
        self._opened = True
        self._records = self.store.records()
        self._slugs = {r.slug: r.hudu_id for r in self._records.values() if r.slug}
        self.faqlists.load()

    async def close(self) -> None:
        self.stop()
        for client in (self.hudu, self.halo):
            with contextlib.suppress(Exception):
                await client.aclose()
        if self._opened:
            self.store.close()
            self._opened = False

    async def __aenter__(self) -> Engine:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------ scheduler
    async def run_scheduler(self) -> None:
        """Run a pass now, then one every `interval` seconds, never two at once."""
        self._stopping = False
        while not self._stopping:
            if not self.paused:
                try:
                    await self.sync_now(trigger="scheduled")
                except AuthError as exc:
                    self._say(logging.ERROR, f"{exc} — {exc.hint}")
                except HhsyncError as exc:
                    self._say(logging.ERROR, f"pass failed: {exc}")
            if self._stopping:
                break
            self.next_pass_at = (
                None if self.paused else self.clock() + timedelta(seconds=self.interval)
            )
            self._emit(SchedulerChanged(self.paused, self.next_pass_at))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
        self.next_pass_at = None

    def stop(self) -> None:
        """Ask the scheduler and any pass to stop after the batch in flight."""
        self._stopping = True
        self._wake.set()

    def pause(self) -> None:
        self.paused = True
        self.next_pass_at = None
        self._emit(SchedulerChanged(True, None))

    def resume(self) -> None:
        self.paused = False
        self._wake.set()

    # ------------------------------------------------------------ commands
    async def sync_now(
        self,
        *,
        full: bool = False,
        dry_run: bool = False,
        force: bool = False,
        trigger: str = "sync",
    ) -> PassSummary:
        """One pass: incremental by default, full on demand, on the first run and every 12th."""
        async with self._pass_lock:
            pass_count = int(self.store.meta("pass_count", 0) or 0)
            has_cursor = bool(self.store.meta("cursor"))
            full = full or not has_cursor or pass_count % FULL_PASS_EVERY == FULL_PASS_EVERY - 1
            return await self._run_pass(full=full, dry_run=dry_run, force=force, trigger=trigger)

    async def retry_failed(self) -> PassSummary:
        """Retry every failed article now, whatever its back-off says."""
        async with self._pass_lock:
            for rec in self._records.values():
                if rec.status is Status.FAILED:
                    rec.next_retry_at = ""
            return await self._run_pass(full=False, dry_run=False, force=False, trigger="retry")

    async def resync(self, hudu_id: int) -> ArticleRecord:
        """Push one article even if unchanged, relinking it and re-adopting its Halo copy."""
        async with self._pass_lock:
            article = await self.hudu.get_article(hudu_id)
            if article is None:
                raise HhsyncError(
                    f"Hudu has no article {hudu_id}",
                    hint="it was deleted in Hudu: a full sync (S, or hhsync sync --full) "
                    "removes its Halo copy",
                )
            rec = self._records.get(hudu_id)
            if rec is not None:
                rec.unlinked = False
                rec.content_hash = ""
                if rec.halo_id is not None and await self.halo.get_article(rec.halo_id) is None:
                    rec.halo_id = None
                if rec.halo_id is None:
                    found = await self.halo.find_articles_by_marker(marker_for(hudu_id))
                    if found:
                        rec.halo_id = min(ref.id for ref in found)
            companies = await self._companies()
            uploads = await self.hudu.uploads_by_article()
            await self._ensure_faqlists([article], companies, dry_run=False)
            plan = Plan(full=False)
            self._plan_article(plan, article, companies, uploads, dry_run=False, forced=True)
            self._commit(plan.touched)
            await self._execute(plan, Tally())
            final = self._records.get(hudu_id)
            assert final is not None
            return dataclasses.replace(final)

    async def unlink(self, hudu_id: int) -> ArticleRecord:
        """Stop syncing one article; its Halo copy stays and becomes Halo's to edit."""
        rec = self._records.get(hudu_id)
        if rec is None:
            raise HhsyncError(f"article {hudu_id} is not in the mapping")
        self._unlink(rec)
        self._commit([rec])
        return dataclasses.replace(rec)

    async def reset(self) -> int:
        """Unlink every article (design.md: with confirmation, which the caller asks)."""
        async with self._pass_lock:
            changed = []
            for rec in self._records.values():
                if rec.halo_id is not None and not rec.unlinked and not rec.removed:
                    self._unlink(rec)
                    changed.append(rec)
            self._commit(changed)
            return len(changed)

    # ------------------------------------------------------------ one pass
    async def _run_pass(
        self, *, full: bool, dry_run: bool, force: bool, trigger: str
    ) -> PassSummary:
        started = self.clock()
        self.running = True
        self._emit(PassStarted(full, 0, started, trigger))
        tally = Tally()
        error = ""
        plan = Plan(full=full)
        self._pass_successes = self._pass_single_rejections = 0
        self._uncertain_ids: set[int] = set()
        try:
            in_flight = [r for r in self._records.values() if r.intent == "create"]
            if in_flight and not dry_run:
                self._say(logging.INFO, f"settling {len(in_flight)} create(s) left in flight")
                await self._reconcile_creates(in_flight)
            plan = await self._plan(full=full, dry_run=dry_run, force=force)
            tally.total = len(plan.writes) + len(plan.removals)
            self._emit(PassProgressed(0, tally.total, 0, 0, 0))
            if dry_run:
                return self._summary(plan, tally, started, dry_run=True)
            # Rows waiting for their write are shown now and stored with their batch: a crash
            # before then loses nothing, as the next pass plans them again.
            self._commit(r for r in plan.touched if r.status is not Status.PENDING)
            self._commit((r for r in plan.touched if r.status is Status.PENDING), persist=False)
            self._forget(plan.forgotten)
            await self._execute(plan, tally)
            if not self._stopping:
                await self._remove(plan.removals, tally)
                # A write Halo answered late may land after this pass: check again next pass.
                late = {int(i) for i in self.store.meta("verify_copies") or []}
                unchecked = await self._tidy(late | self._uncertain_ids)
                pass_count = int(self.store.meta("pass_count", 0) or 0) + 1
                self.store.set_meta(
                    cursor=_iso(started),
                    pass_count=pass_count,
                    verify_copies=sorted(unchecked | self._uncertain_ids),
                )
            return self._summary(plan, tally, started, dry_run=False)
        except HhsyncError as exc:
            error = str(exc)
            raise
        finally:
            self.running = False
            finished = self.clock()
            event = PassFinished(
                full,
                started,
                finished,
                tally.created,
                tally.updated,
                plan.unchanged,
                tally.removed,
                tally.failed,
                error,
            )
            if not dry_run:
                self.last_pass = event
                with contextlib.suppress(HhsyncError):
                    self.store.add_run(
                        {
                            "started_at": _iso(started),
                            "finished_at": _iso(finished),
                            "full": full,
                            "created": tally.created,
                            "updated": tally.updated,
                            "unchanged": plan.unchanged,
                            "removed": tally.removed,
                            "failed": tally.failed,
                            "error": error,
                        }
                    )
            self._emit(event)

    def _summary(
        self, plan: Plan, tally: Tally, started: datetime, *, dry_run: bool
    ) -> PassSummary:
        counts = self.counts()
        lines: tuple[str, ...] = ()
        if dry_run:
            lines = tuple(
                [f"{w.action} {w.article.id} {w.article.name!r}" for w in plan.writes]
                + [f"remove {r.record.hudu_id} {r.record.title!r} ({r.why})" for r in plan.removals]
            )
        if dry_run:
            tally = Tally(
                created=sum(w.action == "create" for w in plan.writes),
                updated=sum(w.action == "update" for w in plan.writes),
                removed=len(plan.removals),
            )
        return PassSummary(
            full=plan.full,
            dry_run=dry_run,
            created=tally.created,
            updated=tally.updated,
            unchanged=plan.unchanged,
            removed=tally.removed,
            failed=tally.failed,
            removals_held=plan.removals_held,
            synced_total=counts["synced"],
            pending_total=counts["pending"],
            skipped_total=counts["skipped"],
            failed_total=counts["failed"],
            duration_seconds=(self.clock() - started).total_seconds(),
            plan=lines,
        )

    async def _companies(self) -> dict[int, HuduCompany]:
        companies = {c.id: c for c in await self.hudu.list_companies()}
        unknown = self.settings.company_filter.unmatched((c.id, c.name) for c in companies.values())
        if unknown and unknown != self._unknown_companies:
            self._say(
                logging.WARNING, f"HHSYNC_COMPANIES names no Hudu company: {', '.join(unknown)}"
            )
        self._unknown_companies = unknown
        return companies

    async def _plan(self, *, full: bool, dry_run: bool, force: bool) -> Plan:
        plan = Plan(full=full)
        companies = await self._companies()
        cursor = self.store.meta("cursor")
        if full or not cursor:
            listed = await self.hudu.list_articles()
        else:
            since = datetime.fromisoformat(str(cursor)) - CURSOR_OVERLAP
            listed = await self.hudu.list_articles(updated_since=since)
        articles = {a.id: a for a in listed}
        self._slugs.update((a.slug, a.id) for a in listed)
        uploads = await self.hudu.uploads_by_article()
        now = self.clock()
        for rec in list(self._records.values()):
            if rec.hudu_id in articles or rec.unlinked:
                continue
            if self._needs_retry(rec, now) or (
                full and rec.halo_id is not None and not rec.removed
            ):
                fetched = await self.hudu.get_article(rec.hudu_id)
                if fetched is not None:
                    articles[fetched.id] = fetched
                elif rec.halo_id is not None and not rec.removed:
                    plan.removals.append(Removal(rec, "deleted in Hudu"))
                else:
                    plan.forgotten.append(rec.hudu_id)
            elif full and rec.halo_id is None and not rec.removed:
                plan.forgotten.append(rec.hudu_id)
        await self._ensure_faqlists(
            articles.values(), companies, dry_run=dry_run, verify=full or self._faqlists_suspect
        )
        self._faqlists_suspect = False
        for article in sorted(articles.values(), key=lambda a: a.id):
            self._plan_article(plan, article, companies, uploads, dry_run=dry_run)
        self._cap_removals(plan, force=force)
        return plan

    def _needs_retry(self, rec: ArticleRecord, now: datetime) -> bool:
        if rec.status is Status.PENDING:
            return True
        if rec.status is not Status.FAILED:
            return False
        return not rec.next_retry_at or datetime.fromisoformat(rec.next_retry_at) <= now

    def _scope_of(
        self, article: HuduArticle, companies: dict[int, HuduCompany]
    ) -> tuple[str, str, bool]:
        """(scope name, FAQ list third-party id, in scope) of an article."""
        if article.company_id is None:
            return CENTRAL_SCOPE, CENTRAL_THIRD_PARTY_ID, self.settings.hhsync_sync_central
        company = companies.get(article.company_id)
        name = company.name if company else f"company {article.company_id}"
        in_scope = (
            company is not None
            and not company.archived
            and self.settings.company_filter.includes(company.id, company.name)
        )
        return name, company_third_party_id(article.company_id), in_scope

    def _plan_article(
        self,
        plan: Plan,
        article: HuduArticle,
        companies: dict[int, HuduCompany],
        uploads: dict[int, list[HuduUpload]],
        *,
        dry_run: bool,
        forced: bool = False,
    ) -> None:
        scope, list_key, in_scope = self._scope_of(article, companies)
        rec = self._records.get(article.id)
        if rec is None:
            rec = ArticleRecord(
                hudu_id=article.id,
                title=article.name,
                scope=scope,
                company_id=article.company_id,
                status=Status.PENDING,
            )
            if not dry_run:
                self._records[article.id] = rec
        elif dry_run:
            rec = dataclasses.replace(rec)
        rec.title, rec.scope, rec.company_id = article.name, scope, article.company_id
        rec.hudu_url, rec.slug = article.url, article.slug
        rec.hudu_updated_at = _iso(article.updated_at) if article.updated_at else ""
        if rec.unlinked:
            return
        live_copy = rec.halo_id is not None and not rec.removed
        reason = ""
        if not in_scope:
            reason = "out of scope (see HHSYNC_SYNC_CENTRAL / HHSYNC_COMPANIES)"
        elif article.draft:
            reason = "draft in Hudu"
        elif article.archived:
            reason = "archived in Hudu"
        if reason:
            if live_copy and in_scope:
                plan.removals.append(Removal(rec, reason))
                return
            if live_copy:
                reason = f"{reason}; the Halo copy is left as it is"
            if rec.status is not Status.SKIPPED or rec.reason != reason:
                self._set_skipped(rec, reason)
                plan.touched.append(rec)
            return
        faqlist_id = self.faqlists.id_for(list_key)
        files = uploads.get(article.id, ())
        rendered, waiting = self._render(article, faqlist_id, files)
        rec.faqlist_id = faqlist_id or None
        unchanged = (
            not forced
            and live_copy
            and rec.content_hash == rendered.content_hash
            and rec.status in (Status.SYNCED, Status.SKIPPED)
        )
        if unchanged:
            plan.unchanged += 1
            return
        action: Action = "update" if live_copy or rec.halo_id is not None else "create"
        plan.writes.append(Write(article, rendered, action, files, waiting))
        if rec.status is not Status.PENDING:
            rec.status = Status.PENDING
            rec.reason = "changed in Hudu" if rec.content_hash else "new"
            plan.touched.append(rec)
        elif not rec.reason:
            rec.reason = "new"
            plan.touched.append(rec)

    def _render(
        self, article: HuduArticle, faqlist_id: int, files: Sequence[HuduUpload]
    ) -> tuple[RenderedArticle, tuple[str, ...]]:
        """Render one article; also say which linked articles have no Halo copy yet."""
        waiting: list[str] = []

        def link_for_slug(slug: str) -> str | None:
            if slug not in self._slugs:
                return None
            target = self._records.get(self._slugs[slug])
            if target is None or target.halo_id is None or target.removed:
                waiting.append(slug)
                return None
            return self.halo_article_url(target.halo_id)

        rendered = render_article(
            article,
            hudu_base_url=self.settings.hudu_base_url,
            faqlist_id=faqlist_id,
            files=files,
            link_for_slug=link_for_slug,
        )
        return rendered, tuple(waiting)

    async def _relink(self, writes: list[Write], tally: Tally) -> None:
        """Stub then fill: re-send articles whose links point at articles created just now."""
        again: list[Write] = []
        for write in writes:
            rec = self._records[write.article.id]
            if not write.waiting_links or rec.halo_id is None or rec.status is Status.FAILED:
                continue
            rendered, waiting = self._render(write.article, rec.faqlist_id or 0, write.files)
            if rendered.content_hash != rec.content_hash:
                again.append(Write(write.article, rendered, "update", write.files, waiting))
        if again:
            tally.total += len(again)
            await self._send_all(again, tally)

    def _cap_removals(self, plan: Plan, *, force: bool) -> None:
        if force or not plan.removals:
            return
        per_scope: dict[str, int] = {}
        for rec in self._records.values():
            if rec.halo_id is not None:
                per_scope[rec.scope] = per_scope.get(rec.scope, 0) + 1
        kept: list[Removal] = []
        by_scope: dict[str, list[Removal]] = {}
        for removal in plan.removals:
            by_scope.setdefault(removal.record.scope, []).append(removal)
        for scope, removals in by_scope.items():
            limit = max(REMOVAL_FLOOR, int(per_scope.get(scope, 0) * REMOVAL_SHARE))
            if len(removals) > limit:
                plan.removals_held += len(removals)
                self._say(
                    logging.WARNING,
                    f"{len(removals)} removals in {scope} exceed the cap of {limit}: "
                    "held back (run `hhsync sync --full --force` if they are intended)",
                )
            else:
                kept.extend(removals)
        plan.removals = kept

    # ------------------------------------------------------------ FAQ lists
    async def _ensure_faqlists(
        self,
        articles: Iterable[HuduArticle],
        companies: dict[int, HuduCompany],
        *,
        dry_run: bool,
        verify: bool = False,
    ) -> None:
        wanted: dict[str, str] = {}
        for article in articles:
            scope, key, in_scope = self._scope_of(article, companies)
            if in_scope and not article.draft and not article.archived:
                wanted[key] = scope
        await self.faqlists.ensure(wanted, dry_run=dry_run, verify=verify)

    # ------------------------------------------------------------ execution
    async def _execute(self, plan: Plan, tally: Tally) -> None:
        await self._send_all(plan.writes, tally)
        if not self._stopping:
            await self._relink(plan.writes, tally)

    async def _send_all(self, writes: list[Write], tally: Tally) -> None:
        """Send the writes in batches, a few in flight at once."""
        semaphore = asyncio.Semaphore(BATCH_CONCURRENCY)

        async def run(batch: list[Write]) -> None:
            async with semaphore:
                if self._stopping:
                    return
                await self._send_batch(batch, tally)
                self._emit(
                    PassProgressed(
                        tally.done, tally.total, tally.created + tally.updated, tally.failed, 0
                    )
                )

        try:
            async with asyncio.TaskGroup() as group:
                for batch in batches(writes, self.settings.hhsync_batch_size):
                    group.create_task(run(batch))
        except BaseExceptionGroup as failures:
            raise failures.exceptions[0] from None

    async def _payload(self, write: Write) -> dict[str, object]:
        payload: dict[str, object] = dict(write.rendered.payload)
        rec = self._records[write.article.id]
        if rec.halo_id is not None:
            payload["id"] = rec.halo_id
        if write.rendered.files_to_attach:
            attachments = []
            self._late_skips.pop(write.article.id, None)
            for upload in write.rendered.files_to_attach:
                data = await self.hudu.download_upload(upload.id)
                if len(data) > MAX_FILE_BYTES:  # Hudu reported a smaller size than it served
                    reason = f"larger than Halo's 25 MB attachment limit ({len(data):,} bytes)"
                    skipped = SkippedFile(upload.id, upload.name, len(data), reason)
                    self._late_skips.setdefault(write.article.id, []).append(skipped)
                    continue
                attachments.append(
                    {
                        "filename": upload.name,
                        "data_base64": base64.b64encode(data).decode("ascii"),
                        "isimage": False,
                    }
                )
            payload["attachments"] = attachments
        return payload

    async def _send_batch(self, batch: list[Write], tally: Tally, *, attempt: int = 1) -> None:
        batch = self._without_unlinked(batch, tally)
        if not batch:
            return
        self._commit_intents(batch)
        try:
            payloads = [await self._payload(w) for w in batch]
            refs = await self.halo.upsert_articles(payloads)
        except (WriteUncertainError, MalformedResponseError) as exc:
            self._uncertain_ids.update(w.article.id for w in batch)
            # Halo may have applied it: wait, look the creates up by marker, send only the rest.
            await asyncio.sleep(UNCERTAIN_SETTLE_SECONDS * attempt)
            leftover = await self._settle_uncertain(batch, tally)
            if leftover and attempt < UNCERTAIN_WRITE_ATTEMPTS:
                await self._send_batch(leftover, tally, attempt=attempt + 1)
            elif leftover:
                self._fail(leftover, exc, tally, maybe_applied=True)
            return
        except AuthError:
            raise
        except ApiError as exc:
            await self._rejected(batch, exc, tally)
            return
        self._pass_successes += 1
        done = []
        for write, ref in zip(batch, refs, strict=True):
            done.append(self._synced(write, ref.id, tally))
        self._commit(done)

    async def _rejected(self, batch: list[Write], exc: ApiError, tally: Tally) -> None:
        """Isolate what Halo refused: the items a 400 names, else by halves; the rest syncs."""
        named = [batch[i] for i in exc.items if i < len(batch)]
        if exc.status == 400 and named:
            lost = await self._lost_copies(named)
            refused = [w for w in named if w not in lost]
            if refused:
                self._fail(refused, exc, tally)
                # A FAQ list deleted in Halo looks like this: check the lists next pass.
                self._faqlists_suspect |= "faqlists" in exc.message.lower()
            rest = [w for w in batch if w not in refused]
            if rest:
                await self._send_batch(rest, tally)
            return
        maybe_applied = exc.status is None or exc.status >= 500
        if maybe_applied:
            # Halo answered, so the save most likely rolled back; should it not have, the
            # halves sent next make a second copy that the tidy step at the end retires.
            self._uncertain_ids.update(w.article.id for w in batch)
        tenant_wide = self._pass_successes == 0 and self._pass_single_rejections >= 3
        if exc.status in (400, 500) and len(batch) > 1 and not tenant_wide:
            middle = len(batch) // 2
            await self._send_batch(batch[:middle], tally)
            await self._send_batch(batch[middle:], tally)
            return
        if len(batch) == 1:
            self._pass_single_rejections += 1
        self._fail(batch, exc, tally, maybe_applied=maybe_applied)

    def _without_unlinked(self, batch: list[Write], tally: Tally) -> list[Write]:
        """An article unlinked while its batch waited is not sent."""
        kept = [w for w in batch if not self._records[w.article.id].unlinked]
        tally.done += len(batch) - len(kept)
        return kept

    async def _lost_copies(self, writes: list[Write]) -> list[Write]:
        """Updates whose Halo copy was deleted in Halo: turned into creates, sent again."""
        lost = []
        for write in writes:
            rec = self._records[write.article.id]
            if rec.halo_id is not None and await self.halo.get_article(rec.halo_id) is None:
                self._say(
                    logging.WARNING,
                    f"article {rec.hudu_id}: Halo copy {rec.halo_id} is gone; creating it again",
                )
                rec.halo_id, rec.content_hash, rec.intent = None, "", "create"
                lost.append(write)
        self._commit(self._records[w.article.id] for w in lost)
        return lost

    async def _settle_uncertain(self, batch: list[Write], tally: Tally) -> list[Write]:
        """Adopt the creates Halo did commit; return the writes still to do."""
        creates = [w for w in batch if self._records[w.article.id].halo_id is None]
        copies = await self._copies_of([w.article.id for w in creates])
        leftover: list[Write] = []
        adopted: list[ArticleRecord] = []
        for write in batch:
            found = copies.get(write.article.id)
            if found:
                adopted.append(self._synced(write, min(ref.id for ref in found), tally))
            else:
                leftover.append(write)
        self._commit(adopted)
        return leftover

    async def _copies_of(self, hudu_ids: list[int]) -> dict[int, list[HaloArticleRef]]:
        """The Halo articles carrying each article's marker: one search each, or one in all."""
        if not hudu_ids:
            return {}
        if len(hudu_ids) > BULK_LOOKUP_FROM:
            by_marker = await self._marked_articles()
            return {i: by_marker.get(marker_for(i), []) for i in hudu_ids}
        return {i: await self.halo.find_articles_by_marker(marker_for(i)) for i in hudu_ids}

    def _synced(self, write: Write, halo_id: int, tally: Tally) -> ArticleRecord:
        rec = self._records[write.article.id]
        now = _iso(self.clock())
        created = rec.halo_id is None
        rec.halo_id = halo_id
        rec.removed = False
        rec.intent = ""
        rec.content_hash = write.rendered.content_hash
        rec.attempts = 0
        rec.error = rec.hint = rec.next_retry_at = ""
        rec.http_status = None
        rec.first_synced_at = rec.first_synced_at or now
        rec.last_synced_at = rec.last_attempt_at = now
        rec.skipped_files = [
            *write.rendered.skipped_files,
            *self._late_skips.pop(write.article.id, []),
        ]
        rec.attachments = [u.name for u in write.rendered.files_to_attach]
        if rec.unlinked:
            pass
        elif rec.skipped_files:
            names = ", ".join(f.filename for f in rec.skipped_files)
            rec.status = Status.SKIPPED
            rec.reason = f"synced without {names}: {rec.skipped_files[0].reason}"
        else:
            rec.status = Status.SYNCED
            rec.reason = ""
        if created:
            tally.created += 1
        else:
            tally.updated += 1
        tally.done += 1
        return rec

    def _fail(
        self, batch: Sequence[Write], exc: ApiError, tally: Tally, *, maybe_applied: bool = False
    ) -> None:
        """Record a failed write. A create Halo may have applied keeps its intent, so the next
        attempt looks for the marker before creating again."""
        failed = []
        for write in batch:
            rec = self._records[write.article.id]
            if not (maybe_applied and rec.intent == "create"):
                rec.intent = ""
            self._mark_failed(rec, exc, "failed", tally)
            failed.append(rec)
        self._commit(failed)
        names = ", ".join(f"{w.article.name!r} (#{w.article.id})" for w in batch[:3])
        more = f" and {len(batch) - 3} more" if len(batch) > 3 else ""
        hint = f" — {exc.hint}" if exc.hint else ""
        self._say(logging.WARNING, f"{len(batch)} article(s) failed: {exc}{hint} [{names}{more}]")

    def _mark_failed(self, rec: ArticleRecord, exc: ApiError, reason: str, tally: Tally) -> None:
        """The row keeps the error, status, hint and attempts; retries back off up to an hour."""
        now = self.clock()
        rec.status = Status.FAILED
        rec.reason = reason
        rec.error, rec.http_status, rec.hint = exc.message, exc.status, exc.hint
        rec.attempts += 1
        rec.last_attempt_at = _iso(now)
        backoff = min(timedelta(minutes=2 ** min(rec.attempts, 10)), RETRY_BACKOFF_MAX)
        rec.next_retry_at = _iso(now + backoff)
        tally.failed += 1
        tally.done += 1

    async def _remove(self, removals: list[Removal], tally: Tally) -> None:
        for removal in removals:
            rec = removal.record
            if rec.halo_id is None or rec.unlinked or self._stopping:
                continue
            try:
                try:
                    await self.halo.delete_article(rec.halo_id)
                    reason = f"{removal.why}; deleted from Halo"
                    rec.halo_id = None
                except HaloError as exc:
                    if exc.status not in (403, 405):
                        raise
                    await self.halo.archive_article(rec.halo_id)
                    reason = (
                        f"{removal.why}; archived in Halo (Halo refused the delete: {exc.status})"
                    )
            except AuthError:
                raise
            except ApiError as exc:
                self._mark_failed(rec, exc, f"could not remove from Halo ({removal.why})", tally)
                self._commit([rec])
                self._say(logging.WARNING, f"could not remove article {rec.hudu_id}: {exc}")
                continue
            rec.removed = True
            rec.content_hash = ""
            self._set_skipped(rec, f"unlinked; {reason}" if rec.unlinked else reason)
            tally.removed += 1
            tally.done += 1
            self._commit([rec])

    async def _marked_articles(self) -> dict[str, list[HaloArticleRef]]:
        """Every Halo article carrying a marker tag, by marker: one search, a few pages."""
        by_marker: dict[str, list[HaloArticleRef]] = {}
        for ref in await self.halo.search_articles(MARKER_PREFIX):
            for tag in ref.tags:
                if tag.startswith(MARKER_PREFIX):
                    by_marker.setdefault(tag, []).append(ref)
        return by_marker

    async def _reconcile_creates(self, records: list[ArticleRecord]) -> None:
        """Adopt the Halo copies of creates that may have been applied, or clear them to retry."""
        copies = await self._copies_of([rec.hudu_id for rec in records])
        for rec in records:
            found = copies[rec.hudu_id]
            if found:
                rec.halo_id = min(ref.id for ref in found)
                rec.content_hash = ""
            rec.intent = ""
        self._commit(records)
        for rec in records:
            await self._retire_extra_copies(rec, copies[rec.hudu_id])

    async def _tidy(self, hudu_ids: set[int]) -> set[int]:
        """After writes Halo may have applied twice, keep one copy of each (the mapped one).

        Lookups only use what is left of Halo's request budget; the rest waits for the next
        pass (returned), so a pass never stalls on the rate limit for a safety check.
        """
        known = {i for i in hudu_ids if i in self._records}
        if not known:
            return set()
        limiter = self.halo.limiter
        budget = limiter.max_requests - limiter.in_window - TIDY_RESERVE
        if self._search_pages() > budget:
            return known
        self._say(logging.INFO, f"checking Halo for second copies of {len(known)} article(s)")
        by_marker = await self._marked_articles()
        for hudu_id in sorted(known):
            refs = by_marker.get(marker_for(hudu_id), [])
            if len([ref for ref in refs if not ref.inactive]) > 1:
                await self._retire_extra_copies(self._records[hudu_id], refs)
        return set()

    def _search_pages(self) -> int:
        """Requests one search over every marked article takes (100 to a page)."""
        return 1 + sum(r.halo_id is not None for r in self._records.values()) // 100

    async def _retire_extra_copies(self, rec: ArticleRecord, refs: list[HaloArticleRef]) -> None:
        if len(refs) < 2:
            return
        keep = rec.halo_id if rec.halo_id is not None else min(ref.id for ref in refs)
        for ref in refs:
            if ref.id == keep or ref.inactive:
                continue
            self._say(
                logging.WARNING,
                f"article {rec.hudu_id} had a second Halo copy ({ref.id}); removing it",
            )
            try:
                await self.halo.delete_article(ref.id)
            except HaloError as exc:
                if exc.status not in (403, 405):
                    raise
                await self.halo.archive_article(ref.id)

    # ------------------------------------------------------------ record changes
    def _unlink(self, rec: ArticleRecord) -> None:
        rec.unlinked = True
        self._set_skipped(rec, "unlinked")

    def _set_skipped(self, rec: ArticleRecord, reason: str) -> None:
        rec.status = Status.SKIPPED
        rec.reason = reason
        rec.error = rec.hint = rec.next_retry_at = ""
        rec.http_status = None
        rec.intent = ""

    def _commit_intents(self, batch: list[Write]) -> None:
        """Before a create is sent, its row says so on disk (design.md, Halo §4)."""
        fresh = [
            rec
            for rec in (self._records[w.article.id] for w in batch)
            if rec.halo_id is None and rec.intent != "create"
        ]
        for rec in fresh:
            rec.intent = "create"
        self._commit(fresh)

    def _commit(self, records: Iterable[ArticleRecord], *, persist: bool = True) -> None:
        """Persist a batch of changed rows in one write, then tell the listeners."""
        batch = list({r.hudu_id: r for r in records}.values())
        if not batch:
            return
        if persist:
            self.store.commit_batch(batch)
        for rec in batch:
            self._emit(ArticleChanged(dataclasses.replace(rec)))

    def _forget(self, hudu_ids: list[int]) -> None:
        if not hudu_ids:
            return
        self.store.remove_records(hudu_ids)
        for hudu_id in hudu_ids:
            self._records.pop(hudu_id, None)
            self._emit(ArticleRemoved(hudu_id))


def build_engine(
    settings: Settings,
    db_path: Path | None = None,
    *,
    hudu_transport: httpx.AsyncBaseTransport | None = None,
    halo_transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], datetime] = _now,
) -> Engine:
    """The one way to build an engine, shared by the CLI, the dashboard, the demo and tests."""
    engine: Engine | None = None

    def on_wait(service: str) -> Callable[[float, str], None]:
        def report(seconds: float, reason: str) -> None:
            if engine is not None and seconds > 0:
                engine._emit(RateLimitWaited(service, seconds, reason))

        return report

    hudu = HuduClient(
        settings.hudu_base_url,
        settings.hudu_api_key.get_secret_value(),
        transport=hudu_transport,
        on_wait=on_wait("Hudu"),
    )
    halo = HaloClient(
        settings.halo_base_url,
        settings.halo_auth_url,
        settings.halo_client_id,
        settings.halo_client_secret.get_secret_value(),
        tenant=settings.halo_tenant,
        scope=settings.halo_scope,
        transport=halo_transport,
        on_wait=on_wait("Halo"),
    )
    store = MappingStore(db_path or settings.hhsync_db)
    engine = Engine(settings, store=store, hudu=hudu, halo=halo, clock=clock)
    return engine
