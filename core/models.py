"""Typed values that cross module boundaries: what the clients return and what the engine tracks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


# ---------------------------------------------------------------- Hudu (read side)
@dataclass(frozen=True, slots=True)
class HuduPublicPhoto:
    slug: str
    numeric_id: int
    url: str
    file_name: str = ""


@dataclass(frozen=True, slots=True)
class HuduArticle:
    id: int
    name: str
    content: str
    slug: str
    url: str
    company_id: int | None
    folder_id: int | None
    draft: bool
    archived: bool
    enable_sharing: bool
    share_url: str
    created_at: datetime | None
    updated_at: datetime | None
    public_photos: tuple[HuduPublicPhoto, ...] = ()

    @property
    def is_central(self) -> bool:
        return self.company_id is None


@dataclass(frozen=True, slots=True)
class HuduFolder:
    """A folder of articles in a knowledge base (Central when `company_id` is None)."""

    id: int
    name: str
    company_id: int | None
    parent_folder_id: int | None


@dataclass(frozen=True, slots=True)
class HuduIntegration:
    """One of a company's links to another system (`Company_Integration` in Hudu's spec)."""

    integrator_name: str
    sync_id: int | None
    identifier: str = ""


@dataclass(frozen=True, slots=True)
class HuduCompany:
    id: int
    name: str
    archived: bool = False
    integrations: tuple[HuduIntegration, ...] = ()


@dataclass(frozen=True, slots=True)
class HuduUpload:
    id: int
    name: str
    ext: str
    mime: str
    size: int
    url: str
    uploadable_type: str
    uploadable_id: int | None
    archived: bool = False

    @property
    def is_pdf(self) -> bool:
        return self.ext.lower().lstrip(".") == "pdf" or self.mime.lower() == "application/pdf"


# ---------------------------------------------------------------- Halo (write side)
@dataclass(frozen=True, slots=True)
class HaloFaqList:
    id: int
    name: str
    is_group: bool
    group_id: int | None
    third_party_id: str
    showforall: bool = False


@dataclass(frozen=True, slots=True)
class HaloCustomer:
    """A Halo client (customer): what matching a Hudu company to it needs."""

    id: int
    name: str
    inactive: bool = False


@dataclass(frozen=True, slots=True)
class NewFaqList:
    """A FAQ list to create, or with `id` to rename or move (`HaloClient.save_faqlists`
    sends several in one POST)."""

    name: str
    is_group: bool
    group_id: int | None
    showforall: bool
    third_party_id: str
    id: int | None = None


@dataclass(frozen=True, slots=True)
class HaloArticleRef:
    """What Halo says about one article: enough to adopt or check it."""

    id: int
    name: str
    tag_string: str
    inactive: bool = False
    faqlist_ids: tuple[int, ...] = ()
    link: str = ""
    date_edited: str = ""
    seen_hash: str = ""
    """A digest of the name and body Halo holds (`core.drift`): "" when the answer has no body."""

    @property
    def tags(self) -> list[str]:
        return [tag.strip() for tag in self.tag_string.split(",") if tag.strip()]

    def has_marker(self, marker: str) -> bool:
        return marker in self.tags


# ---------------------------------------------------------------- the mapping
class Status(StrEnum):
    SYNCED = "synced"
    PENDING = "pending"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(slots=True)
class SkippedFile:
    upload_id: int
    filename: str
    size: int
    reason: str


@dataclass(slots=True)
class ArticleRecord:
    """One row of the `articles` table: everything the dashboard shows about a Hudu article."""

    hudu_id: int
    title: str
    scope: str  # "Central KB" or the company name
    company_id: int | None
    status: Status
    hudu_url: str = ""
    slug: str = ""
    hudu_updated_at: str = ""
    halo_id: int | None = None
    faqlist_id: int | None = None
    faqlist: str = ""
    """The FAQ list's name, after its group's when that is not `Hudu` ("Acme / Procedures")."""
    content_hash: str = ""
    reason: str = ""
    error: str = ""
    http_status: int | None = None
    hint: str = ""
    attempts: int = 0
    intent: str = ""  # "create" while a create may be in flight (crash safety)
    unlinked: bool = False
    removed: bool = False  # removed in Hudu and deleted or archived in Halo
    first_synced_at: str = ""
    last_synced_at: str = ""
    last_attempt_at: str = ""
    next_retry_at: str = ""
    skipped_files: tuple[SkippedFile, ...] = ()
    attachments: tuple[str, ...] = ()
    """Tuples, not lists: the garbage collector stops tracking a tuple of strings (or an empty
    one), so a full collection walks one object per row, not three."""
    halo_client_id: int | None = None
    """The Halo customer a company article is restricted to (`kbentryclientaccess`)."""
    halo_customer: str = ""
    """Who may see a company article in Halo's portal, in words: the customer and how it was
    matched, or why the article is unrestricted ("" for the Central KB, or with the setting off).
    For the Scope column and the detail pane."""
    halo_edited_at: str = ""
    """Halo's `date_edited` of the copy after hhsync's last write ("" when Halo did not say)."""
    halo_seen_hash: str = ""
    """`HaloArticleRef.seen_hash` of the copy after hhsync's last write: a later difference is
    an edit made in Halo (core.drift)."""


MARKER_PREFIX = "hudu-article-"


def marker_for(hudu_id: int) -> str:
    """The tag that identifies a Hudu article's copy in Halo: crash recovery and the tidy
    step find copies by it (docs/hudu-and-halo.md, the marker tag)."""
    return f"{MARKER_PREFIX}{hudu_id}"
