"""The reconciler: settles what Halo may have applied without saying so.

A create is marked on disk (its intent) before it is sent. After a crash, a timeout or an
answer that does not match the request, the article is looked up by its marker tag and the
copy Halo made is adopted instead of being created again. At the end of a pass, the tidy step
retires any second copy a late write made.

How it looks up follows the probe's verdicts (core.halo_profile): one search for the marker
prefix settles many lookups unless the tenant's search only matches whole tags; where no marker
lookup works at all, copies are looked up by name within their FAQ list if the probe saw that
work (crash recovery degraded), else not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from core.events import Announcer
from core.halo import HaloClient
from core.models import MARKER_PREFIX, HaloArticleRef, marker_for
from core.records import RecordBook
from core.render import halo_title

BULK_LOOKUP_FROM = 3
"""More lookups than this are one search for every marked article instead of one each."""
TIDY_RESERVE = 20
"""Requests the tidy step leaves in Halo's window for the user's next command."""


class Reconciler:
    """Looks articles up by marker, adopts what Halo made, retires second copies."""

    def __init__(self, halo: HaloClient, book: RecordBook, announcer: Announcer) -> None:
        self.halo = halo
        self.book = book
        self.announcer = announcer
        self.marker_lookup = True
        self.bulk_lookup = True
        self.name_lookup = False

    async def settle_intents(self) -> None:
        """Adopt the Halo copies of creates a crash left in flight, or clear them to retry."""
        in_flight = [r.hudu_id for r in self.book.rows() if r.intent == "create"]
        if not in_flight:
            return
        self.announcer.say(logging.INFO, f"settling {len(in_flight)} create(s) left in flight")
        copies = await self.copies_of(in_flight)
        self.book.adopt({i: min((r.id for r in copies[i]), default=None) for i in in_flight})
        for hudu_id in in_flight:
            await self._retire_extra_copies(hudu_id, copies[hudu_id])

    async def find_copies(self, hudu_ids: list[int]) -> dict[int, int]:
        """The Halo copy (lowest id) of each article that has one."""
        return {
            i: min(r.id for r in refs)
            for i, refs in (await self.copies_of(hudu_ids)).items()
            if refs
        }

    async def find_copy(self, hudu_id: int) -> int | None:
        """The article's Halo copy: the mapped one if Halo still has it, else one by marker."""
        rec = self.book.get(hudu_id)
        mapped = None if rec is None else rec.halo_id
        if mapped is not None and await self.halo.get_article(mapped) is not None:
            return mapped
        found = (await self.copies_of([hudu_id]))[hudu_id]
        return min((ref.id for ref in found), default=None)

    async def copies_to_relink(self, hudu_ids: list[int]) -> dict[int, int | None]:
        """`find_copy` for many articles, without a request per article: a mapped copy is kept
        (if Halo lost it, the write says so and the writer makes it again); the others are
        looked up by marker, in one search when many."""
        if len(hudu_ids) <= BULK_LOOKUP_FROM:
            return {i: await self.find_copy(i) for i in hudu_ids}
        copies: dict[int, int | None] = {}
        for hudu_id in hudu_ids:
            rec = self.book.get(hudu_id)
            copies[hudu_id] = None if rec is None else rec.halo_id
        unmapped = [i for i, halo_id in copies.items() if halo_id is None]
        if unmapped:
            copies.update(await self.find_copies(unmapped))
        return copies

    async def copies_of(self, hudu_ids: list[int]) -> dict[int, list[HaloArticleRef]]:
        """The Halo articles carrying each article's marker: one search each, or one in all."""
        if not hudu_ids:
            return {}
        if not self.marker_lookup:
            return {i: await self._copies_by_name(i) for i in hudu_ids}
        if len(hudu_ids) > BULK_LOOKUP_FROM and self.bulk_lookup:
            by_marker = await self._marked_articles()
            return {i: by_marker.get(marker_for(i), []) for i in hudu_ids}
        return {i: await self.halo.find_articles_by_marker(marker_for(i)) for i in hudu_ids}

    async def _copies_by_name(self, hudu_id: int) -> list[HaloArticleRef]:
        """Crash recovery's fallback where no marker lookup works (and the probe saw a name
        search work): the articles of the row's FAQ list with exactly its Halo name, not
        mapped to another article (hhsync's choice: docs/hudu-and-halo.md#halo-marker)."""
        rec = self.book.get(hudu_id)
        if not self.name_lookup or rec is None or rec.faqlist_id is None:
            return []
        title = halo_title(hudu_id, rec.title).strip()
        taken = {r.halo_id for r in self.book.rows() if r.hudu_id != hudu_id and r.halo_id}
        refs = await self.halo.search_articles(title, faqlist_id=rec.faqlist_id)
        return [r for r in refs if r.name.strip() == title and r.id not in taken]

    async def tidy(self, hudu_ids: Iterable[int]) -> set[int]:
        """After writes Halo may have applied twice, keep one copy of each (the mapped one).

        Lookups only use what is left of Halo's request budget; the rest waits for the next
        pass (returned), so a pass never stalls on the rate limit for a safety check.
        """
        known = {i for i in hudu_ids if i in self.book}
        if not known:
            return set()
        bulk = self.marker_lookup and self.bulk_lookup
        needed = self.halo.search_requests(self.book.live_copies()) if bulk else len(known)
        if needed > self.halo.requests_left() - TIDY_RESERVE:
            return known
        self.announcer.say(
            logging.INFO, f"checking Halo for second copies of {len(known)} article(s)"
        )
        if not bulk:
            for hudu_id, refs in (await self.copies_of(sorted(known))).items():
                if len([ref for ref in refs if not ref.inactive]) > 1:
                    await self._retire_extra_copies(hudu_id, refs)
            return set()
        by_marker = await self._marked_articles()
        for hudu_id in sorted(known):
            refs = by_marker.get(marker_for(hudu_id), [])
            if len([ref for ref in refs if not ref.inactive]) > 1:
                await self._retire_extra_copies(hudu_id, refs)
        return set()

    async def _marked_articles(self) -> dict[str, list[HaloArticleRef]]:
        """Every Halo article carrying a marker tag, by marker: one search, a few pages."""
        by_marker: dict[str, list[HaloArticleRef]] = {}
        for ref in await self.halo.search_articles(MARKER_PREFIX):
            for tag in ref.tags:
                if tag.startswith(MARKER_PREFIX):
                    by_marker.setdefault(tag, []).append(ref)
        return by_marker

    async def _retire_extra_copies(self, hudu_id: int, refs: list[HaloArticleRef]) -> None:
        if len(refs) < 2:
            return
        mapped = self.book[hudu_id].halo_id
        keep = mapped if mapped is not None else min(ref.id for ref in refs)
        for ref in refs:
            if ref.id == keep or ref.inactive:
                continue
            self.announcer.say(
                logging.WARNING,
                f"article {hudu_id} had a second Halo copy ({ref.id}); removing it",
            )
            await self.halo.retire_article(ref.id)
