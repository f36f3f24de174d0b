"""The values the planner works with: what one pass read from Hudu (its bodies spooled), and
an article's scope and audience."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

from core.models import ArticleRecord, HuduArticle, HuduCompany, HuduFolder, HuduUpload
from core.spool import BodySpool, Spooled
from core.untracked import untracked

if TYPE_CHECKING:
    from core.plan import Plan


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
    spool: BodySpool | None = None
    spool_folder: Path | None = None
    bodies: dict[int, Spooled] = field(default_factory=dict)
    """The bodies of the listed articles (whose `content` is empty here), in `spool`."""

    def keep(self, article: HuduArticle) -> HuduArticle:
        """The article with its body moved to the spool (made on first use); both kept out of
        the garbage collector's walks (50,000 articles read: 35 ms a full collection)."""
        if self.spool is None:
            self.spool = BodySpool(self.spool_folder)
        self.bodies[article.id] = untracked(self.spool.put(article.content))
        return untracked(dataclasses.replace(article, content=""))

    def whole(self, article: HuduArticle) -> HuduArticle:
        """The article with its body."""
        spooled = self.bodies.get(article.id)
        return article if spooled is None else dataclasses.replace(article, content=spooled.text())

    def handed_over(self, plan: Plan) -> Plan:
        """The plan made from this view, the articles read let go: its writes hold what they
        need (the bodies stay in the spool until `close`)."""
        self.articles, self.uploads, self.bodies = {}, {}, {}
        return plan

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()


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


def edited_at(article: HuduArticle) -> str:
    """Hudu's `updated_at` to the microsecond it gives (two edits a second apart differ)."""
    return article.updated_at.astimezone(UTC).isoformat() if article.updated_at else ""


def shown_of(rec: ArticleRecord) -> tuple[object, ...]:
    """What a row shows of its Hudu article (the mapping file and the screen follow it)."""
    return rec.title, rec.scope, rec.company_id, rec.hudu_url, rec.slug, rec.hudu_updated_at
