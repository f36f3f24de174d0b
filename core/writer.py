"""The writer: sends a plan's writes to Halo in batches and carries out its removals.

Batches are packed by bytes and by a count that adapts to Halo's answers (`core.batching`).
It isolates what Halo refuses (the items a 400 names, else by halves), settles writes Halo may
have applied by looking their creates up by marker, turns updates of copies deleted in Halo
into creates, fills in `/kba/` links once their targets exist, and records every outcome in
the record book: one store write per batch (its intents, with the results of the batches
before it), the last results when the writes end.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from itertools import chain

from core.batching import META_KEY, BatchSizer
from core.config import Settings
from core.errors import (
    ApiError,
    AuthError,
    MalformedResponseError,
    TooLargeError,
    WriteUncertainError,
)
from core.events import Announcer, PassProgressed, WritesFailed
from core.halo import HaloClient
from core.halo_facts import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENT_MB
from core.hudu import HuduClient
from core.images import ImageCopier
from core.models import HaloArticleRef, SkippedFile, Status
from core.plan import PassState, Removal, Write
from core.prefetch import FilePrefetch
from core.reconciler import Reconciler
from core.records import RecordBook, Synced
from core.removals import retire_copies
from core.render import LinkedRenderer, article_payload
from core.slices import sliced

log = logging.getLogger("hhsync.engine")

BATCH_CONCURRENCY = 4
UNCERTAIN_WRITE_ATTEMPTS = 5
UNCERTAIN_SETTLE_SECONDS = 0.5
TENANT_WIDE_AFTER = 3
"""Single articles refused, with no batch taken, before a rejection counts as tenant-wide."""

OVERLOAD_STATUSES = frozenset({413, 502, 503, 504})
"""Answers that say the batch was too much for Halo (a timeout or a dropped connection too)."""

Sleep = Callable[[float], Awaitable[None]]


@dataclass(slots=True)
class _Outcome:
    """How Halo answered one batch, through its retries and halves."""

    clean: bool = True
    """Taken at the first attempt."""
    overloaded: bool = False
    server_error: bool = False
    """A 500 whose halves found no article at fault is a sign of overload too."""
    article_refused: bool = False


class Writer:
    """Sends writes and removals to Halo; the record book learns each outcome."""

    def __init__(
        self,
        *,
        halo: HaloClient,
        hudu: HuduClient,
        book: RecordBook,
        reconciler: Reconciler,
        renderer: LinkedRenderer,
        announcer: Announcer,
        settings: Settings,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.halo = halo
        self.hudu = hudu
        self.book = book
        self.reconciler = reconciler
        self.renderer = renderer
        self.announcer = announcer
        self.batch_size = settings.hhsync_batch_size
        self.sleep = sleep
        self.sizer = BatchSizer(self.batch_size)
        self.images = ImageCopier(
            settings.hhsync_images, hudu=hudu, halo=halo, book=book, announcer=announcer
        )
        self.one_create_per_request = False
        """Set where no marker lookup works (core.adapt): a lost answer risks one article."""
        self.spool_folder = settings.hhsync_db.parent
        self._files = FilePrefetch(hudu, (), max_bytes=MAX_ATTACHMENT_BYTES)

    # ------------------------------------------------------------ writes
    async def write(self, writes: list[Write], state: PassState) -> None:
        """Send every write, then re-send those whose links now have a Halo target. The
        results wait in the record book for the next store write; the last are written here
        however the writes end, with the batch size that worked.

        The list is emptied: each write is let go once its batch is answered, so a pass of
        50,000 articles does not hold what it sent until the end."""
        await asyncio.sleep(0)  # apart on the loop from the end of taking the plan
        remembered = self.book.meta(META_KEY)
        self.sizer = BatchSizer(self.batch_size, remembered if type(remembered) is int else None)
        linked = [w async for w in sliced(writes) if w.waiting_links]
        async with self.book.fsync.writes():
            try:
                await self._send_all(writes, state)
                if not state.stopping():
                    await self._fill_in_links(linked, state)
            finally:
                worked = self.sizer.remembered()
                if worked is not None and worked != remembered:
                    self.book.remember(**{META_KEY: worked})
                self.book.flush()
                self.images.say_what_was_done()

    async def _send_all(self, writes: list[Write], state: PassState) -> None:
        """Send the writes in batches, a few in flight at once, each batch packed when a
        slot frees up, with the count Halo's answers so far allow (the list is emptied into
        the queue). Where no marker lookup works (`one_create_per_request`), creates go one
        per request first."""
        semaphore = asyncio.Semaphore(BATCH_CONCURRENCY)
        tally = state.tally
        queue = deque(writes)
        singles: deque[Write] = deque()
        if self.one_create_per_request:
            singles = deque(w for w in writes if w.action == "create")
            queue = deque(w for w in writes if w.action != "create")
        writes.clear()
        uploads = [
            u async for w in sliced(chain(singles, queue)) for u in w.rendered.files_to_attach
        ]
        files = FilePrefetch(
            self.hudu,
            uploads,
            max_bytes=MAX_ATTACHMENT_BYTES,
            folder=self.spool_folder,
        )

        async def run(batch: list[Write]) -> None:
            try:
                await self._send_sized(batch, state)
                if state.reports_progress:
                    self.announcer.emit(
                        PassProgressed(
                            tally.done,
                            tally.total,
                            tally.created + tally.updated + tally.restored,
                            tally.failed,
                        )
                    )
            finally:
                semaphore.release()

        self._files = files
        files.start()
        await asyncio.sleep(0)  # the queue made (50,000 writes at a first sync), then batches
        try:
            async with asyncio.TaskGroup() as group:
                while singles or queue:
                    await semaphore.acquire()
                    if state.stopping():
                        semaphore.release()
                        break
                    batch = [singles.popleft()] if singles else await self._ready_batch(queue)
                    group.create_task(run(batch))
        except BaseExceptionGroup as failures:
            raise failures.exceptions[0] from None
        finally:
            await files.close()

    async def _ready_batch(self, queue: deque[Write]) -> list[Write]:
        """The next batch of writes whose files are here: a full one, waiting for files to
        arrive if need be, or what is ready once no download is under way."""
        files = self._files
        while True:
            batch = self.sizer.take(
                queue, BATCH_CONCURRENCY, lambda w: files.ready(w.rendered.files_to_attach)
            )
            coming = files.coming()
            if batch and (self.sizer.full(batch) or not coming):
                return batch
            queue.extendleft(reversed(batch))
            if not coming:  # nothing here yet and no download under way: the writer fetches
                return self.sizer.take(queue, BATCH_CONCURRENCY)
            await files.arrival()

    async def _send_sized(self, batch: list[Write], state: PassState) -> None:
        """Send one batch and tell the sizer how Halo answered it."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        outcome = _Outcome()
        await self._send_batch(batch, state, outcome=outcome)
        if outcome.article_refused:
            return  # the article's fault, not the batch's size
        if outcome.server_error and not outcome.overloaded:
            self.sizer.overloaded(len(batch))
        elif outcome.clean:
            self.sizer.answered(batch, loop.time() - started)

    async def _fill_in_links(self, writes: list[Write], state: PassState) -> None:
        """Stub then fill: re-send articles whose links point at articles created just now."""
        again: list[Write] = []
        for write in writes:
            rec = self.book[write.article.id]
            if not write.waiting_links or rec.halo_id is None or rec.status is Status.FAILED:
                continue
            rendered, waiting = self.renderer.render(
                write.article,
                rec.faqlist_id or 0,
                write.files,
                slugs=self.book.slugs,
                halo_id_of=self.book.live_halo_id,
            )
            if rendered.content_hash != rec.content_hash:
                again.append(Write(write.article, rendered, "update", write.files, waiting))
        if again:
            state.tally.total += len(again)
            await self._send_all(again, state)

    async def _send_batch(
        self,
        batch: list[Write],
        state: PassState,
        *,
        attempt: int = 1,
        outcome: _Outcome | None = None,
    ) -> None:
        outcome = outcome or _Outcome()
        batch = await self._with_images(self._without_unlinked(batch, state), state)
        if not batch:
            return
        self.book.mark_intents(w.article.id for w in batch)
        await self.book.fsync.made_durable()  # on disk before the POST
        try:
            payloads = [await self._payload(w, state) async for w in sliced(batch)]
            refs = await self.halo.upsert_articles(payloads)
        except (WriteUncertainError, MalformedResponseError) as exc:
            outcome.clean = False
            if isinstance(exc, WriteUncertainError) and not outcome.overloaded:
                # A timeout, a dropped connection or a gateway error: smaller batches from now.
                outcome.overloaded = True
                self.sizer.overloaded(len(batch))
            state.uncertain_ids.update(w.article.id for w in batch)
            # Halo may have applied it: wait, look the creates up by marker, send only the rest.
            await self.sleep(UNCERTAIN_SETTLE_SECONDS * attempt)
            leftover = await self._settle_uncertain(batch, state)
            if leftover and attempt < UNCERTAIN_WRITE_ATTEMPTS:
                size = max(1, self.sizer.size)
                for first in range(0, len(leftover), size):
                    chunk = leftover[first : first + size]
                    await self._send_batch(chunk, state, attempt=attempt + 1, outcome=outcome)
            elif leftover:
                self._fail(leftover, exc, state, maybe_applied=True)
            return
        except AuthError:
            raise
        except ApiError as exc:
            outcome.clean = False
            await self._rejected(batch, exc, state, outcome)
            return
        state.successes += 1
        self._synced(list(zip(batch, refs, strict=True)), state)

    async def _payload(self, write: Write, state: PassState) -> dict[str, object]:
        """The article's KBArticle object, with its files from Hudu (`core.prefetch`)."""
        files: list[tuple[str, bytes]] = []
        state.late_skips.pop(write.article.id, None)
        for upload in write.rendered.files_to_attach:
            try:  # Hudu listed a smaller size than it serves: stop reading at Halo's limit
                data = await self._files.data(upload)
            except TooLargeError as exc:
                limit = f"Halo's {MAX_ATTACHMENT_MB} MB attachment limit"
                reason = f"larger than {limit} (more than {exc.limit:,} bytes)"
                skipped = SkippedFile(upload.id, upload.name, exc.size, reason)
                state.late_skips.setdefault(write.article.id, []).append(skipped)
                continue
            files.append((upload.name, data))
        halo_id = self.book[write.article.id].halo_id
        return article_payload(write.rendered, halo_id=halo_id, files=files)

    async def _rejected(
        self, batch: list[Write], exc: ApiError, state: PassState, outcome: _Outcome
    ) -> None:
        """Isolate what Halo refused: the items a 400 names, else by halves; the rest syncs.
        A 413 (the body too large for Halo's host) halves the batch and the sizes after it."""
        named = [batch[i] for i in exc.items if i < len(batch)]
        if exc.status == 400 and named:
            lost = await self._lost_copies(named)
            refused = [w for w in named if w not in lost]
            if refused:
                outcome.article_refused = True
                self._fail(refused, exc, state)
                # A FAQ list deleted in Halo looks like this: check the lists next pass.
                state.faqlists_suspect |= "faqlists" in exc.message.lower()
            rest = [w for w in batch if w not in refused]
            if rest:
                await self._send_batch(rest, state, outcome=outcome)
            return
        if exc.status in OVERLOAD_STATUSES and not outcome.overloaded:
            outcome.overloaded = True
            self.sizer.overloaded(len(batch))
        if exc.status == 413 and len(batch) > 1:
            middle = len(batch) // 2
            await self._send_batch(batch[:middle], state, outcome=outcome)
            await self._send_batch(batch[middle:], state, outcome=outcome)
            return
        maybe_applied = exc.status is None or exc.status >= 500
        if maybe_applied:
            # Halo answered, so the save most likely rolled back; should it not have, the
            # halves sent next make a second copy that the tidy step at the end retires.
            state.uncertain_ids.update(w.article.id for w in batch)
        tenant_wide = state.successes == 0 and state.single_rejections >= TENANT_WIDE_AFTER
        if exc.status in (400, 500) and len(batch) > 1 and not tenant_wide:
            outcome.server_error |= exc.status == 500
            middle = len(batch) // 2
            await self._send_batch(batch[:middle], state, outcome=outcome)
            await self._send_batch(batch[middle:], state, outcome=outcome)
            return
        if len(batch) == 1:
            state.single_rejections += 1
        outcome.article_refused = True
        self._fail(batch, exc, state, maybe_applied=maybe_applied)

    async def _with_images(self, batch: list[Write], state: PassState) -> list[Write]:
        """The writes with their images copied into Halo (HHSYNC_IMAGES=copy); an article
        whose image could not be copied this time (Hudu or Halo unreachable) fails alone."""
        ready: list[Write] = []
        for write in batch:
            try:
                names = {p.slug: p.file_name for p in write.article.public_photos}
                rendered = await self.images.localize(write.rendered, names)
            except AuthError:
                raise
            except ApiError as exc:
                self._fail([write], exc, state)
                self._files.let_go(write.files)
                continue
            if rendered is not write.rendered:
                write = dataclasses.replace(write, rendered=rendered)
            ready.append(write)
        return ready

    def _without_unlinked(self, batch: list[Write], state: PassState) -> list[Write]:
        """An article unlinked while its batch waited is not sent."""
        kept = []
        for write in batch:
            if self.book[write.article.id].unlinked:
                self._files.let_go(write.files)
            else:
                kept.append(write)
        state.tally.done += len(batch) - len(kept)
        return kept

    async def _lost_copies(self, writes: list[Write]) -> list[Write]:
        """Updates whose Halo copy was deleted in Halo: turned into creates, sent again."""
        lost = []
        for write in writes:
            halo_id = self.book[write.article.id].halo_id
            if halo_id is not None and await self.halo.get_article(halo_id) is None:
                self.announcer.say(
                    logging.WARNING,
                    f"article {write.article.id}: Halo copy {halo_id} is gone; creating it again",
                )
                lost.append(write)
        self.book.mark_copy_lost([w.article.id for w in lost])
        return lost

    async def _settle_uncertain(self, batch: list[Write], state: PassState) -> list[Write]:
        """Adopt the creates Halo did commit; return the writes still to do."""
        creates = [w.article.id for w in batch if self.book[w.article.id].halo_id is None]
        found = await self.reconciler.find_copies(creates)
        self._synced([(w, found[w.article.id]) for w in batch if w.article.id in found], state)
        return [w for w in batch if w.article.id not in found]

    def _synced(self, done: Sequence[tuple[Write, HaloArticleRef | int]], state: PassState) -> None:
        """Record writes Halo took, with what its answer said of each copy (a ref), or only
        the id of a copy found by marker."""
        results = []
        for write, answer in done:
            ref = answer if isinstance(answer, HaloArticleRef) else None
            results.append(
                Synced(
                    write.article.id,
                    answer.id if isinstance(answer, HaloArticleRef) else answer,
                    write.rendered.content_hash,
                    (*write.rendered.skipped_files, *state.late_skips.pop(write.article.id, [])),
                    tuple(u.name for u in write.rendered.files_to_attach),
                    ref.date_edited if ref else "",
                    ref.seen_hash if ref else "",
                )
            )
        restored = sum(bool(write.restores) for write, _ in done)
        new = sum(self.book[w.article.id].halo_id is None for w, _ in done if not w.restores)
        self.book.mark_synced(results, defer=True)
        state.tally.created += new
        state.tally.updated += len(results) - restored - new
        state.tally.restored += restored
        state.tally.done += len(results)

    def _fail(
        self,
        batch: Sequence[Write],
        exc: ApiError,
        state: PassState,
        *,
        maybe_applied: bool = False,
    ) -> None:
        """Record a failed write. A create Halo may have applied keeps its intent, so the next
        attempt looks for the marker before creating again."""
        self.book.mark_failed(
            (w.article.id for w in batch), exc, "failed", keep_intent=maybe_applied
        )
        state.tally.failed += len(batch)
        state.tally.done += len(batch)
        names = ", ".join(f"{w.article.name!r} (#{w.article.id})" for w in batch[:3])
        more = f" and {len(batch) - 3} more" if len(batch) > 3 else ""
        hint = f" — {exc.hint}" if exc.hint else ""
        log.warning("%d article(s) failed: %s%s [%s%s]", len(batch), exc, hint, names, more)
        self.announcer.emit(
            WritesFailed(
                tuple(w.article.id for w in batch),
                tuple(w.article.name for w in batch),
                str(exc),
                exc.hint,
            )
        )

    # ------------------------------------------------------------ removals
    async def remove(self, removals: list[Removal], state: PassState) -> None:
        """Delete the Halo copies of articles that left Hudu or scope (archive on 403)."""
        await retire_copies(self.halo, self.book, self.announcer, removals, state)
