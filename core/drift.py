"""Drift repair: on a full pass, Halo copies deleted, archived or edited in Halo are written
again from Hudu (the sync is one-way).

One paged listing of Halo's articles, archived ones included, is compared with the mapping
(docs/hudu-and-halo.md#halo-drift): a linked copy missing from it was deleted, one listed
inactive was archived, and one whose `date_edited` is later than what Halo answered to hhsync's
last write was edited (where Halo gives no `date_edited`: one whose name and body differ). The
listing costs one request per 100 articles Halo holds, never one per article. A copy missing
from the listing is written as an update, not a create: if Halo does hold it (a listing that
shifted while it was read), the update simply restores it; if not, Halo refuses the id and the
writer creates it again after looking it up (core.writer), so a listing never makes a second
copy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from core.events import Announcer
from core.halo import HaloClient
from core.halo_json import edited_later
from core.models import ArticleRecord, HaloArticleRef, Status
from core.plan import Plan
from core.planner import HuduView, Planner
from core.records import RecordBook

NAMED_IN_LOG = 10
"""Restored copies named one by one in the log; the rest are counted."""


class DriftCheck:
    """Finds linked Halo copies that no longer hold what hhsync wrote."""

    def __init__(
        self, halo: HaloClient, book: RecordBook, announcer: Announcer, planner: Planner
    ) -> None:
        self.halo = halo
        self.book = book
        self.announcer = announcer
        self.planner = planner

    async def planned(
        self,
        view: HuduView,
        faqlist_ids: Mapping[str, int],
        *,
        full: bool,
        force: bool,
        forced: Iterable[int],
        dry_run: bool,
    ) -> Plan:
        """The planner's plan; on a full pass, with the copies changed in Halo written again."""
        drifted = await self.find(dry_run=dry_run) if full else {}
        plan = await self.planner.plan(
            view, faqlist_ids, full=full, force=force, forced=[*forced, *drifted]
        )
        return self.marked(plan, drifted, dry_run=dry_run)

    async def find(self, *, dry_run: bool) -> dict[int, str]:
        """Why each drifted copy is to be restored, by Hudu id. Copies whose last write answer
        said nothing of their state take the listing's as their baseline (not in a dry run)."""
        rows = [r for r in self.book.rows() if _checked(r)]
        if not rows:
            return {}
        listed = {ref.id: ref for ref in await self.halo.list_articles()}
        drifted: dict[int, str] = {}
        baselines: dict[int, tuple[str, str]] = {}
        for rec in rows:
            ref = listed.get(rec.halo_id) if rec.halo_id is not None else None
            why = drift_of(rec, ref)
            if why:
                drifted[rec.hudu_id] = why
            elif ref is not None:
                baseline = (
                    rec.halo_edited_at or ref.date_edited,
                    rec.halo_seen_hash or ref.seen_hash,
                )
                if baseline != (rec.halo_edited_at, rec.halo_seen_hash):
                    baselines[rec.hudu_id] = baseline
        if baselines and not dry_run:
            self.book.note_halo_baselines(baselines)
        return drifted

    def marked(self, plan: Plan, drifted: Mapping[int, str], *, dry_run: bool) -> Plan:
        """The plan with its writes of drifted copies marked as restores (and said in the log),
        their rows saying why they are pending. A drifted copy the plan does not write (its
        article left the sync's scope, say) is left to what the plan does with it."""
        restores: dict[int, str] = {}
        for write in plan.writes:
            why = drifted.get(write.article.id)
            if why:
                write.restores = restores[write.article.id] = why
                plan.rows[write.article.id].reason = f"{why}: restoring from Hudu"
        self._say(restores, dry_run=dry_run)
        return plan

    def _say(self, drifted: Mapping[int, str], *, dry_run: bool) -> None:
        verb = "would restore" if dry_run else "restoring"
        for hudu_id, why in list(drifted.items())[:NAMED_IN_LOG]:
            rec = self.book[hudu_id]
            self.announcer.say(
                logging.WARNING,
                f"article {hudu_id} {rec.title!r}: Halo copy {rec.halo_id} {why}; "
                f"{verb} it from Hudu",
            )
        if len(drifted) > NAMED_IN_LOG:
            self.announcer.say(
                logging.WARNING,
                f"{len(drifted) - NAMED_IN_LOG} more Halo copies changed in Halo; {verb} them",
            )


def _checked(rec: ArticleRecord) -> bool:
    """A linked copy hhsync considers up to date (the rest is written or removed anyway)."""
    return (
        rec.halo_id is not None
        and not (rec.removed or rec.unlinked or rec.intent)
        and rec.status in (Status.SYNCED, Status.SKIPPED)
    )


def drift_of(rec: ArticleRecord, ref: HaloArticleRef | None) -> str:
    """How a copy changed in Halo since hhsync's last write ("" when it did not). An edit is
    told by `date_edited` where Halo gives it, else by the name and body digest: a listing may
    show a body Halo shortened or normalised, which must not look like an edit."""
    if ref is None:
        return "deleted in Halo"
    if ref.inactive:
        return "archived in Halo"
    if ref.date_edited and rec.halo_edited_at:
        return "edited in Halo" if edited_later(ref.date_edited, rec.halo_edited_at) else ""
    if ref.seen_hash and rec.halo_seen_hash and ref.seen_hash != rec.halo_seen_hash:
        return "edited in Halo"
    return ""
