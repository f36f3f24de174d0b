"""The planner: reads Hudu and the mapping, and says what a pass will write, skip and remove.

Reading Hudu (`read_hudu`) is the only I/O; `plan` is pure and changes no row: it returns a
`Plan` whose rows are planned copies, so a dry run is simply a plan that is not run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from core.collector import set_aside
from core.company_listing import CompanyListing, shown_otherwise
from core.config import CustomerAccess, FolderLayout, Settings
from core.customers import CustomerDirectory
from core.events import Announcer
from core.faqlists import (
    CENTRAL_SCOPE,
    CENTRAL_THIRD_PARTY_ID,
    FaqListSpec,
    company_third_party_id,
)
from core.folders import Placement, place
from core.hudu import HuduClient
from core.hudu_facts import PAGE_SIZE
from core.images import mode_switched
from core.models import ArticleRecord, HuduArticle, HuduCompany, HuduFolder, Status
from core.plan import Action, Plan, Removal, Write
from core.planned_values import Audience, Scope, edited_at, shown_of
from core.planned_values import HuduView as HuduView  # where the engine finds it
from core.records import RecordBook, set_skipped
from core.render import LinkedRenderer
from core.slices import Slicer
from core.untracked import copied

CURSOR_OVERLAP = timedelta(minutes=5)
REMOVAL_SHARE = 0.2
REMOVAL_FLOOR = 50
OUT_OF_SCOPE = "out of scope (see HHSYNC_SYNC_CENTRAL / HHSYNC_COMPANIES)"
COPY_LEFT = "; the Halo copy is left as it is"
SLICE_SECONDS = 0.02
"""Planning gives the event loop back this often (the dashboard shares it)."""


class Planner:
    """Turns what Hudu holds and what the mapping says into a `Plan`."""

    def __init__(
        self,
        settings: Settings,
        hudu: HuduClient,
        book: RecordBook,
        renderer: LinkedRenderer,
        announcer: Announcer,
        clock: Callable[[], datetime],
        customers: CustomerDirectory | None = None,
    ) -> None:
        self.settings = settings
        self.hudu = hudu
        self.book = book
        self.renderer = renderer
        self.slice_seconds = SLICE_SECONDS
        self.announcer = announcer
        self.clock = clock
        self.customers = customers
        self.company_listing = CompanyListing(hudu, settings.company_filter, announcer)
        self.restrictions_kept: bool | None = None
        """Whether Halo keeps `kbentryclientaccess` (the probe's verdict; None: not checked)."""
        self.probed_on = ""
        self._planned: set[int] = set()
        self._unmatched_said: list[str] = []

    # ------------------------------------------------------------ reading Hudu
    async def read_hudu(self, *, full: bool, cursor: str | None) -> HuduView:
        """Every article (full pass) or those changed since the cursor, with the rows due for
        retry fetched by id; in a full pass, mapped articles missing from the listing are
        confirmed gone with a 404. An incremental pass that finds nothing new (only articles
        as they were synced, no row due for retry) reads no files and plans no article.
        What it reads is set aside from the garbage collector a page at a time
        (`core.collector`)."""
        now = self.clock()
        view = HuduView({}, {}, {}, spool_folder=self.settings.hhsync_db.parent)
        try:
            return await self._read_into(view, full=full, cursor=cursor, now=now)
        except BaseException:
            view.close()
            raise

    async def _read_into(
        self, view: HuduView, *, full: bool, cursor: str | None, now: datetime
    ) -> HuduView:
        since = None
        if full or not cursor or mode_switched(self.book, self.settings.hhsync_images):
            listed = await self.hudu.list_articles(keep=view.keep)
        else:
            since = datetime.fromisoformat(cursor) - CURSOR_OVERLAP
            listed = await self.hudu.list_articles(updated_since=since, keep=view.keep)
            listed = [a for a in listed if self._news(a)]
        needed = (a.company_id for a in listed)
        view.companies = await self.company_listing.read(since=since, needed=needed)
        if since is not None:
            rows = self.book.rows()
            for company_id in shown_otherwise(rows, view.companies, self.scope_for, OUT_OF_SCOPE):
                listed += await self.hudu.list_articles(company_id=company_id, keep=view.keep)
            if not listed and not any(_due_for_retry(r, now) and not r.unlinked for r in rows):
                view.close()  # the bodies of articles listed as they were planned
                view = HuduView({}, view.companies, {})
                view.folders = await self._folders()  # companies and folders, to follow a rename
                return view
        view.articles = {a.id: a for a in listed}
        view.uploads = await self.hudu.uploads_by_article()
        view.folders = await self._folders()
        for rec in self.book.rows():
            if rec.hudu_id in view.articles or rec.unlinked:
                continue
            if _due_for_retry(rec, now) or (full and rec.halo_id is not None and not rec.removed):
                fetched = await self.hudu.get_article(rec.hudu_id)
                if fetched is None:
                    view.gone.add(rec.hudu_id)
                else:
                    view.articles[fetched.id] = fetched
        return view

    def _news(self, article: HuduArticle) -> bool:
        """Whether an article listed by an incremental pass is not already as it was planned."""
        rec = self.book.get(article.id)
        return (
            rec is None
            or article.id not in self._planned  # not since this engine started (settings)
            or article.updated_at is None
            or rec.hudu_updated_at != edited_at(article)
            or rec.status not in (Status.SYNCED, Status.SKIPPED)
        )

    async def read_articles(self, hudu_ids: Sequence[int]) -> HuduView:
        """The articles of a resync that Hudu has: one request each, or the whole listing when
        that takes fewer requests (500 marked articles of 2,000 are 20 pages, not 500 reads)."""
        articles: dict[int, HuduArticle] = {}
        if len(hudu_ids) > max(1, math.ceil(len(self.book.rows()) / PAGE_SIZE)):
            wanted = set(hudu_ids)
            articles = {a.id: a for a in await self.hudu.list_articles() if a.id in wanted}
        else:
            for hudu_id in hudu_ids:
                article = await self.hudu.get_article(hudu_id)
                if article is not None:
                    articles[article.id] = article
        companies = await self.company_listing.read()
        view = HuduView(articles, companies, await self.hudu.uploads_by_article())
        view.folders = await self._folders()
        return view

    async def _folders(self) -> dict[int, HuduFolder]:
        if self.settings.hhsync_folders is FolderLayout.FLAT:
            return {}
        return await self.hudu.list_folders()

    # ------------------------------------------------------------ deciding
    def scope_of(self, article: HuduArticle, companies: Mapping[int, HuduCompany]) -> Scope:
        return self.scope_for(article.company_id, companies)

    def scope_for(self, company_id: int | None, companies: Mapping[int, HuduCompany]) -> Scope:
        if company_id is None:
            return Scope(CENTRAL_SCOPE, CENTRAL_THIRD_PARTY_ID, self.settings.hhsync_sync_central)
        company = companies.get(company_id)
        included = (
            company is not None
            and not company.archived
            and self.settings.company_filter.includes(company.id, company.name)
        )
        name = company.name if company else f"company {company_id}"
        return Scope(name, company_third_party_id(company_id), included)

    def included_companies(self, companies: Mapping[int, HuduCompany]) -> list[HuduCompany]:
        """The companies whose articles the sync's scope takes."""
        return [
            c
            for c in companies.values()
            if not c.archived and self.settings.company_filter.includes(c.id, c.name)
        ]

    def placement(self, article: HuduArticle, view: HuduView) -> Placement:
        """The FAQ list the article goes to (HHSYNC_FOLDERS), and the group above it."""
        scope = self.scope_of(article, view.companies)
        return place(
            self.settings.hhsync_folders,
            scope_name=scope.name,
            scope_key=scope.faqlist_key,
            company_id=article.company_id,
            folder_id=article.folder_id,
            folders=view.folders,
        )

    def faqlists_wanted(self, view: HuduView) -> dict[str, FaqListSpec]:
        """The FAQ lists the pass's articles go to, and their groups: third-party id → spec;
        and, to follow where they exist, every synced scope's and folder's (`follow`)."""
        wanted: dict[str, FaqListSpec] = {}
        by_place = {  # one article per place: its lists and audience are the place's
            (a.company_id, a.folder_id): a
            for a in view.articles.values()
            if not a.draft and not a.archived
        }
        for article in by_place.values():
            scope = self.scope_of(article, view.companies)
            if scope.included and not self.audience_of(article, view.companies).refusal:
                wanted.update(self.placement(article, view).lists)
        places: list[tuple[int | None, int | None]] = [(None, None)]
        places += [(c, None) for c in view.companies]
        places += [(f.company_id, f.id) for f in view.folders.values()]
        for company_id, folder_id in places:  # renamed or moved while their articles were not
            scope = self.scope_for(company_id, view.companies)
            if scope.included:
                placement = place(
                    self.settings.hhsync_folders,
                    scope_name=scope.name,
                    scope_key=scope.faqlist_key,
                    company_id=company_id,
                    folder_id=folder_id,
                    folders=view.folders,
                )
                for key, spec in placement.lists.items():
                    wanted.setdefault(key, dataclasses.replace(spec, follow=True))
        return wanted

    def audience_of(self, article: HuduArticle, companies: Mapping[int, HuduCompany]) -> Audience:
        """Who may see the article in Halo's portal. The Central KB is never restricted; a
        company article goes to its Halo customer (core.customers), and without one it is
        unrestricted (`matched`) or not synced (`strict`)."""
        access = self.settings.hhsync_customer_access
        company = companies.get(article.company_id) if article.company_id is not None else None
        if company is None or access is CustomerAccess.OFF or self.customers is None:
            return Audience()
        strict = access is CustomerAccess.STRICT
        if self.restrictions_kept is False:
            why = f"Halo does not keep customer restrictions (probe of {self.probed_on})"
            if strict:
                return Audience(refusal=f"{why}; HHSYNC_CUSTOMER_ACCESS=strict")
            return Audience(customer=f"unrestricted: {why}")
        match = self.customers.match(company)
        if match.client_id is not None:
            return Audience(match.client_id, match.describe())
        if strict:
            refusal = f"{match.why_not} (HHSYNC_CUSTOMER_ACCESS=strict)"
            return Audience(customer=match.why_not, refusal=refusal, leave_copy=match.unavailable)
        return Audience(customer=f"unrestricted: {match.why_not}")

    def say_unmatched(self, companies: Mapping[int, HuduCompany]) -> None:
        """Name, in the log, the synced companies whose articles have no Halo customer (once
        per engine, and again when the list changes)."""
        if (
            not companies  # none read this pass
            or self.customers is None
            or self.settings.hhsync_customer_access is CustomerAccess.OFF
        ):
            return
        unmatched = sorted(
            c.name
            for c in self.included_companies(companies)
            if not self.customers.match(c).matched
        )
        if unmatched and unmatched != self._unmatched_said:
            verb = (
                "are not synced"
                if self.settings.hhsync_customer_access is CustomerAccess.STRICT
                else "sync unrestricted"
            )
            self.announcer.say(
                logging.INFO,
                f"{len(unmatched)} companies have no Halo customer, so their articles {verb}: "
                + ", ".join(unmatched[:10])
                + (f" and {len(unmatched) - 10} more" if len(unmatched) > 10 else "")
                + " (hhsync doctor says why)",
            )
        self._unmatched_said = unmatched

    async def plan(
        self,
        view: HuduView,
        faqlist_ids: Mapping[str, int],
        *,
        full: bool,
        force: bool = False,
        forced: Iterable[int] = (),
    ) -> Plan:
        """What to write, skip, remove and forget. `forced` articles are written even when
        their Halo copy is up to date (a resync). Gives the loop back every `slice_seconds`:
        rows the user changes meanwhile are the record book's to keep (`apply_plan`)."""
        plan = Plan(full=full)
        plan.slugs = {a.slug: a.id for a in view.articles.values() if a.slug}
        for rec in self.book.rows():
            if rec.hudu_id in view.articles or rec.unlinked:
                continue
            if rec.hudu_id in view.gone:
                if rec.halo_id is not None and not rec.removed:
                    plan.removals.append(
                        Removal(rec.hudu_id, rec.title, rec.scope, "deleted in Hudu")
                    )
                else:
                    plan.forgotten.append(rec.hudu_id)
            elif full and rec.halo_id is None and not rec.removed:
                plan.forgotten.append(rec.hudu_id)
        forced = set(forced)
        slugs = {**self.book.slugs, **plan.slugs}
        await asyncio.sleep(0)
        slicer = Slicer(self.slice_seconds, before_pause=set_aside)
        for article in sorted(view.articles.values(), key=lambda a: a.id):
            self._plan_article(plan, view, article, faqlist_ids, slugs, forced=article.id in forced)
            await slicer.pause_if_due()
        await asyncio.sleep(0)  # the last slice ends here, not with what the engine does next
        if not force:
            self._cap_removals(plan)
        return plan

    def _plan_article(
        self,
        plan: Plan,
        view: HuduView,
        article: HuduArticle,
        faqlist_ids: Mapping[str, int],
        slugs: Mapping[str, int],
        *,
        forced: bool,
    ) -> None:
        scope = self.scope_of(article, view.companies)
        live = self.book.get(article.id)
        if live is None:
            rec = ArticleRecord(
                article.id, article.name, scope.name, article.company_id, Status.PENDING
            )
        else:
            rec = copied(live)
        rec.title, rec.scope, rec.company_id = article.name, scope.name, article.company_id
        rec.hudu_url, rec.slug = article.url, article.slug
        rec.hudu_updated_at = edited_at(article)
        plan.rows[article.id] = rec
        self._planned.add(article.id)
        if live is not None and shown_of(rec) != shown_of(live):  # a company renamed: the
            plan.touched.append(rec.hudu_id)  # mapping file and the screen follow Hudu
        if rec.unlinked:
            return
        live_copy = rec.halo_id is not None and not rec.removed
        reason = ""
        if not scope.included:
            reason = OUT_OF_SCOPE
        elif article.draft:
            reason = "draft in Hudu"
        elif article.archived:
            reason = "archived in Hudu"
        audience = Audience()
        if not reason:
            audience = self.audience_of(article, view.companies)
            if (rec.halo_client_id, rec.halo_customer) != (audience.client_id, audience.customer):
                rec.halo_client_id, rec.halo_customer = audience.client_id, audience.customer
                plan.touched.append(rec.hudu_id)
            reason = audience.refusal
        if reason:
            if live_copy and scope.included and not audience.leave_copy:
                plan.removals.append(Removal(rec.hudu_id, rec.title, rec.scope, reason))
                return
            if live_copy:
                reason = f"{reason}{COPY_LEFT}"
            if rec.status is not Status.SKIPPED or rec.reason != reason:
                set_skipped(rec, reason)
                plan.touched.append(rec.hudu_id)
            return
        placement = self.placement(article, view)
        faqlist_id = faqlist_ids.get(placement.key, 0)
        if rec.faqlist != placement.label:
            rec.faqlist = placement.label
            plan.touched.append(rec.hudu_id)
        files = view.uploads.get(article.id, ())
        rec.faqlist_id = faqlist_id or None
        client_id, halo_id_of = audience.client_id, self.book.live_halo_id
        up_to_date = not forced and live_copy and rec.status in (Status.SYNCED, Status.SKIPPED)
        spooled = view.bodies.get(article.id)
        if up_to_date and rec.content_hash == self.renderer.cache.content_hash(
            article,
            faqlist_id,
            files,
            client_id,
            slugs,
            halo_id_of,
            body_digest=spooled.digest if spooled else None,
        ):
            return self._unchanged(plan, rec)
        whole = view.whole(article)
        rendered, waiting = self.renderer.render(
            whole, faqlist_id, files, slugs=slugs, halo_id_of=halo_id_of, client_id=client_id
        )
        if up_to_date and rec.content_hash == rendered.content_hash:
            return self._unchanged(plan, rec)
        action: Action = "update" if rec.halo_id is not None else "create"
        if view.spool is not None:  # until its batch goes, the body waits in the spool
            rendered = rendered.spooled(view.spool)
            # Only an article with links still waiting for a target is rendered again.
            whole = whole if waiting else article
        plan.writes.append(Write(whole, rendered, action, files, waiting))
        if rec.status is not Status.PENDING:
            rec.status = Status.PENDING
            rec.reason = "changed in Hudu" if rec.content_hash else "new"
            plan.touched.append(rec.hudu_id)
        elif not rec.reason:
            rec.reason = "new"
            plan.touched.append(rec.hudu_id)

    def _unchanged(self, plan: Plan, rec: ArticleRecord) -> None:
        """The Halo copy is up to date; one left while the article was skipped is its own again."""
        plan.unchanged += 1
        if rec.status is Status.SKIPPED and rec.reason.endswith(COPY_LEFT):
            rec.status, rec.reason = Status.SYNCED, ""
            plan.touched.append(rec.hudu_id)

    def _cap_removals(self, plan: Plan) -> None:
        """Hold back a scope's removals when they exceed 20 % of its copies (at least 50)."""
        if not plan.removals:
            return
        per_scope: dict[str, int] = {}
        for rec in self.book.rows():
            if rec.halo_id is not None:
                per_scope[rec.scope] = per_scope.get(rec.scope, 0) + 1
        by_scope: dict[str, list[Removal]] = {}
        for removal in plan.removals:
            by_scope.setdefault(removal.scope, []).append(removal)
        kept: list[Removal] = []
        for scope, removals in by_scope.items():
            limit = max(REMOVAL_FLOOR, int(per_scope.get(scope, 0) * REMOVAL_SHARE))
            if len(removals) > limit:
                plan.removals_held += len(removals)
                self.announcer.say(
                    logging.WARNING,
                    f"{len(removals)} removals in {scope} exceed the cap of {limit}: "
                    "held back (run `hhsync sync --full --force` if they are intended)",
                )
            else:
                kept.extend(removals)
        plan.removals = kept


def _due_for_retry(rec: ArticleRecord, now: datetime) -> bool:
    if rec.status is Status.PENDING:
        return True
    if rec.status is not Status.FAILED:
        return False
    return not rec.next_retry_at or datetime.fromisoformat(rec.next_retry_at) <= now
