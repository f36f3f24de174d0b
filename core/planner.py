"""The planner: reads Hudu and the mapping, and says what a pass will write, skip and remove.

Reading Hudu (`read_hudu`) is the only I/O; `plan` is pure and changes no row: it returns a
`Plan` whose rows are planned copies, so a dry run is simply a plan that is not run.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.config import CustomerAccess, FolderLayout, Settings
from core.customers import CustomerDirectory
from core.errors import HhsyncError
from core.events import Announcer
from core.faqlists import (
    CENTRAL_SCOPE,
    CENTRAL_THIRD_PARTY_ID,
    FaqListSpec,
    company_third_party_id,
)
from core.folders import Placement, place
from core.hudu import HuduClient
from core.images import mode_switched
from core.models import ArticleRecord, HuduArticle, HuduCompany, HuduFolder, HuduUpload, Status
from core.plan import Action, Plan, Removal, Write
from core.records import RecordBook, iso, set_skipped
from core.render import LinkedRenderer

CURSOR_OVERLAP = timedelta(minutes=5)
REMOVAL_SHARE = 0.2
REMOVAL_FLOOR = 50
OUT_OF_SCOPE = "out of scope (see HHSYNC_SYNC_CENTRAL / HHSYNC_COMPANIES)"


@dataclass(slots=True)
class HuduView:
    """What one pass read from Hudu."""

    articles: dict[int, HuduArticle]
    companies: dict[int, HuduCompany]
    uploads: dict[int, list[HuduUpload]]
    gone: set[int] = field(default_factory=set)
    """Mapped articles Hudu answered 404 for."""
    folders: dict[int, HuduFolder] = field(default_factory=dict)
    """Hudu's folders, read only when HHSYNC_FOLDERS=lists."""


@dataclass(frozen=True, slots=True)
class Scope:
    name: str
    faqlist_key: str
    """Third-party id of the scope's FAQ list."""
    included: bool


@dataclass(frozen=True, slots=True)
class Audience:
    """Who may see an article in Halo's portal (HHSYNC_CUSTOMER_ACCESS)."""

    client_id: int | None = None
    """The Halo customer it is restricted to; None: unrestricted."""
    customer: str = ""
    """The same, in words, for the row (`ArticleRecord.halo_customer`)."""
    refusal: str = ""
    """Why it is not synced at all ("" when it is)."""
    leave_copy: bool = False
    """A refused article's live Halo copy stays (the refusal may pass: Halo's client list
    could not be read); otherwise it is removed like a draft's."""


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
        self.announcer = announcer
        self.clock = clock
        self.customers = customers
        self.restrictions_kept: bool | None = None
        """Whether Halo keeps `kbentryclientaccess` (the probe's verdict; None: not checked)."""
        self.probed_on = ""
        self._unknown_companies: list[str] = []
        self._unmatched_said: list[str] = []

    # ------------------------------------------------------------ reading Hudu
    async def companies(self) -> dict[int, HuduCompany]:
        """Every Hudu company; says once when HHSYNC_COMPANIES names one that does not exist."""
        companies = {c.id: c for c in await self.hudu.list_companies()}
        unknown = self.settings.company_filter.unmatched((c.id, c.name) for c in companies.values())
        if unknown and unknown != self._unknown_companies:
            self.announcer.say(
                logging.WARNING, f"HHSYNC_COMPANIES names no Hudu company: {', '.join(unknown)}"
            )
        self._unknown_companies = unknown
        return companies

    async def read_hudu(self, *, full: bool, cursor: str | None) -> HuduView:
        """Every article (full pass) or those changed since the cursor, with the rows due for
        retry fetched by id; in a full pass, mapped articles missing from the listing are
        confirmed gone with a 404."""
        companies = await self.companies()
        if full or not cursor or mode_switched(self.book, self.settings.hhsync_images):
            listed = await self.hudu.list_articles()
        else:
            since = datetime.fromisoformat(cursor) - CURSOR_OVERLAP
            listed = await self.hudu.list_articles(updated_since=since)
        view = HuduView({a.id: a for a in listed}, companies, await self.hudu.uploads_by_article())
        view.folders = await self._folders()
        now = self.clock()
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

    async def read_article(self, hudu_id: int) -> HuduView:
        """One article for a resync; an error when Hudu has none."""
        article = await self.hudu.get_article(hudu_id)
        if article is None:
            raise HhsyncError(
                f"Hudu has no article {hudu_id}",
                hint="it was deleted in Hudu: a full sync (S, or hhsync sync --full) "
                "removes its Halo copy",
            )
        articles = {article.id: article}
        view = HuduView(articles, await self.companies(), await self.hudu.uploads_by_article())
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
        for article in view.articles.values():
            scope = self.scope_of(article, view.companies)
            published = not article.draft and not article.archived
            if (
                scope.included
                and published
                and not self.audience_of(article, view.companies).refusal
            ):
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
        if self.customers is None or self.settings.hhsync_customer_access is CustomerAccess.OFF:
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

    def plan(
        self,
        view: HuduView,
        faqlist_ids: Mapping[str, int],
        *,
        full: bool,
        force: bool = False,
        forced: Iterable[int] = (),
    ) -> Plan:
        """What to write, skip, remove and forget. `forced` articles are written even when
        their Halo copy is up to date (a resync)."""
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
        for article in sorted(view.articles.values(), key=lambda a: a.id):
            self._plan_article(plan, view, article, faqlist_ids, slugs, forced=article.id in forced)
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
            rec = dataclasses.replace(live)
        rec.title, rec.scope, rec.company_id = article.name, scope.name, article.company_id
        rec.hudu_url, rec.slug = article.url, article.slug
        rec.hudu_updated_at = iso(article.updated_at) if article.updated_at else ""
        plan.rows[article.id] = rec
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
                reason = f"{reason}; the Halo copy is left as it is"
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
        rendered, waiting = self.renderer.render(
            article,
            faqlist_id,
            files,
            slugs=slugs,
            halo_id_of=self.book.live_halo_id,
            client_id=audience.client_id,
        )
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
        action: Action = "update" if rec.halo_id is not None else "create"
        plan.writes.append(Write(article, rendered, action, files, waiting))
        if rec.status is not Status.PENDING:
            rec.status = Status.PENDING
            rec.reason = "changed in Hudu" if rec.content_hash else "new"
            plan.touched.append(rec.hudu_id)
        elif not rec.reason:
            rec.reason = "new"
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
