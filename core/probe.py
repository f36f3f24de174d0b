"""`hhsync doctor --probe`: one disposable article tells what the user's Halo keeps.

The probe writes an article "hhsync probe <time>" carrying everything a synced article carries
(the body in the fields hhsync sends, the banner, the marker tag, a FAQ list, a small file, a
customer restriction when Halo has a customer), reads it back with details, looks it up the way
crash recovery does (by marker: one article, then the prefix for many), and removes it the way
removals do (DELETE, archive when refused). `core.probe_facts` turns what it saw into verdicts.

Nothing active is left behind: the article is removed in a `finally`, and before writing, the
probe marks itself in flight in the mapping file (meta `probe_in_flight`); a probe killed
before it could remove its article is tidied by the next probe or the next pass, which find
it by its name.

A first sync on a tenant never probed runs the read-only part (`read_only`): one search for
hhsync's marker prefix, which sees hhsync's articles already in Halo (their tags, their link).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.config import FolderLayout, ImageMode, Settings
from core.errors import (
    ApiError,
    AuthError,
    HaloError,
    MalformedResponseError,
    WriteUncertainError,
)
from core.faqlists import CENTRAL_SCOPE, CENTRAL_THIRD_PARTY_ID, FaqListDirectory, FaqListSpec
from core.folders import root_placement
from core.halo import HaloClient
from core.halo_facts import url_template_from_link
from core.halo_profile import BODY_FIELDS, META_KEY, HaloProfile, ProbeKind
from core.models import MARKER_PREFIX, HaloArticleRef, HaloCustomer, HuduArticle, HuduUpload
from core.probe_facts import Observations, full_profile, read_only_profile
from core.render import article_payload, render_article
from core.store import MappingStore

log = logging.getLogger("hhsync.probe")

IN_FLIGHT_KEY = "probe_in_flight"
NAME_PREFIX = "hhsync probe "
PROBE_HUDU_ID = 0
"""The probe article's marker is `hudu-article-0`: no Hudu article has id 0."""
PROBE_COMPANY_ID = 0
"""Rendered as a company article, so it carries a customer restriction like one."""
PROBE_LIST_KEY = "hudu:probe"
PROBE_LIST_NAME = "hhsync probe"
PROBE_FILE_NAME = "hhsync-probe.txt"
PROBE_FILE = b"hhsync checks whether Halo keeps a file sent inside the article POST.\n"
PROBE_IMAGE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
"""One pixel: what the probe stores with Halo's image endpoint (HHSYNC_IMAGES=copy)."""
LOOKUP_WAITS = (0.0, 1.0, 2.0, 4.0)
"""Seconds before each marker search: a search index may lag behind a write (inferred:
docs/hudu-and-halo.md#halo-probe)."""

NEVER_PROBED = (
    "this Halo was never probed: hhsync assumes what Halo's API documents and clients infer "
    "(tags, search, attachments, restrictions); run `hhsync doctor --probe` once to check (it "
    "writes and removes one test article)"
)

_PROBE_NAME = re.compile(r"^hhsync probe \d{4}-\d\d-\d\d")
_ARTICLE_MARKER = re.compile(rf"^{re.escape(MARKER_PREFIX)}[1-9]\d*$")

Sleep = Callable[[float], Awaitable[None]]


def is_probe_article(name: str) -> bool:
    return bool(_PROBE_NAME.match(name.strip()))


@dataclass(frozen=True, slots=True)
class ProbeReport:
    """What a probe found: the profile (its facts are the report's lines) and what it did."""

    profile: HaloProfile
    article_id: int | None = None
    leftovers_removed: int = 0
    notes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.profile.kind.value,
            "probed_at": self.profile.probed_at,
            "probe_article": self.article_id,
            "leftovers_removed": self.leftovers_removed,
            "crash_recovery_degraded": self.profile.crash_recovery_degraded,
            "facts": [fact.as_json() for fact in self.profile.facts],
            "notes": list(self.notes),
        }


class HaloProbe:
    """Runs the probe (full or read-only) and tidies what an interrupted one left."""

    def __init__(
        self,
        *,
        halo: HaloClient,
        faqlists: FaqListDirectory,
        settings: Settings,
        store: MappingStore,
        clock: Callable[[], datetime],
        sleep: Sleep,
    ) -> None:
        self.halo = halo
        self.faqlists = faqlists
        self.settings = settings
        self.store = store
        self.clock = clock
        self.sleep = sleep

    def stored(self) -> HaloProfile:
        return HaloProfile.from_meta(self.store.meta(META_KEY))

    # ------------------------------------------------------------ before a pass
    async def before_pass(self, current: HaloProfile) -> HaloProfile | None:
        """Tidy what an interrupted probe left (only if one was), and on a tenant never probed,
        run the read-only part: its profile, or None. A failure here never stops the pass: it
        is logged and tried again by the next pass."""
        try:
            await self.tidy_interrupted()
            if current.kind is ProbeKind.NEVER:
                return (await self.read_only()).profile
        except AuthError:
            raise
        except ApiError as exc:
            log.warning("could not check Halo before the pass (tried again next pass): %s", exc)
        return None

    # ------------------------------------------------------------ leftovers
    async def tidy_interrupted(self) -> int:
        """When a probe was cut short (its mark is still in the mapping file), remove what it
        left in Halo; no request at all otherwise."""
        if not self.store.meta(IN_FLIGHT_KEY):
            return 0
        removed = await self.remove_leftovers()
        self.store.set_meta(**{IN_FLIGHT_KEY: None})
        return removed

    async def remove_leftovers(self) -> int:
        """Retire every active probe article Halo holds (found by name: its tags may not be
        kept); the number removed."""
        removed = 0
        for ref in await self.halo.search_articles(NAME_PREFIX.strip()):
            if not ref.inactive and is_probe_article(ref.name):
                log.warning("removing the probe article %s left by an interrupted probe", ref.id)
                await self.halo.retire_article(ref.id)
                removed += 1
        return removed

    # ------------------------------------------------------------ the read-only part
    async def read_only(self) -> ProbeReport:
        """What hhsync's own articles already in Halo show (one search). It writes nothing but
        the removal of a probe article a killed probe left, should the search show one."""
        refs = await self.halo.search_articles(MARKER_PREFIX)
        removed = 0
        for ref in refs:
            if not ref.inactive and is_probe_article(ref.name):
                await self.halo.retire_article(ref.id)
                removed += 1
        marked = [r for r in refs if any(_ARTICLE_MARKER.match(t) for t in r.tags)]
        seen = Observations(hhsync_articles_seen=len(marked))
        for ref in marked:
            template = url_template_from_link(ref.link, ref.id, self.halo.instance_url)
            if ref.link:
                seen.link, seen.url_template = ref.link, template
                break
        profile = read_only_profile(seen, self._stamp())
        self.store.set_meta(**{META_KEY: profile.to_meta()})
        return ProbeReport(profile, leftovers_removed=removed)

    # ------------------------------------------------------------ the full probe
    async def full(self) -> ProbeReport:
        """Write, read back, look up and remove one probe article; store the verdicts."""
        stamp = self._stamp()
        name = f"{NAME_PREFIX}{stamp[:19].replace('T', ' ')} UTC"
        self.store.set_meta(**{IN_FLIGHT_KEY: {"started": stamp, "name": name}})
        removed = await self.remove_leftovers()
        notes: list[str] = []
        seen = Observations()
        list_key, list_name = (
            (CENTRAL_THIRD_PARTY_ID, CENTRAL_SCOPE)
            if self.settings.hhsync_sync_central
            else (PROBE_LIST_KEY, PROBE_LIST_NAME)
        )
        known = list_key in self.faqlists.ids
        lists = (
            root_placement(self.settings.hhsync_folders, list_name, list_key).lists
            if self.settings.hhsync_sync_central
            else {list_key: FaqListSpec(list_name)}
        )
        await self.faqlists.ensure(lists, dry_run=False)
        list_id = self.faqlists.id_for(list_key)
        if not known:
            notes.append(f"FAQ list {list_name!r} (id {list_id}) is ready under the Hudu group")
        if self.settings.hhsync_folders is FolderLayout.LISTS:  # its list is in a nested group
            seen.faqlist_groups_nest = self.faqlists.groups_nest
        seen.faqlist_third_party_id = any(
            f.id == list_id and f.third_party_id == list_key
            for f in await self.halo.list_faqlists()
        )
        customer = await self._a_customer(seen)
        try:
            article_id = await self._create(name, list_id, customer, seen)
        except BaseException:  # its answer lost, an interruption: Halo may still have made it
            with contextlib.suppress(Exception):
                await self.remove_leftovers()
            raise
        removed_ours = False
        try:
            await self._read_back(article_id, name, list_id, customer, seen)
            await self._remove(article_id, name, seen)
            removed_ours = True
        finally:
            if not removed_ours:  # an error or an interruption: never leave it active
                with contextlib.suppress(Exception):
                    await self.halo.retire_article(article_id)
        if self.settings.hhsync_images is ImageMode.COPY:
            await self._store_image(seen)
        profile = full_profile(seen, stamp)
        self.store.set_meta(**{IN_FLIGHT_KEY: None, META_KEY: profile.to_meta()})
        return ProbeReport(profile, article_id, removed, tuple(notes))

    async def _a_customer(self, seen: Observations) -> HaloCustomer | None:
        try:
            if not await self.halo.can_read_customers():
                seen.client_unchecked_why = "the token lacks read:customers"
                return None
            chosen = await self.halo.a_customer()
        except HaloError as exc:
            seen.client_unchecked_why = f"Halo's client list could not be read ({exc})"
            return None
        if chosen is None:
            seen.client_unchecked_why = "Halo has no active customer"
            return None
        seen.client = f"{chosen.name} (Halo client {chosen.id})"
        return chosen

    async def _create(
        self, name: str, list_id: int, customer: HaloCustomer | None, seen: Observations
    ) -> int:
        article = HuduArticle(
            id=PROBE_HUDU_ID,
            name=name,
            content="<p>hhsync checks what Halo keeps of a synced article, then removes it.</p>",
            slug="",
            url=self.settings.hudu_base_url,
            company_id=PROBE_COMPANY_ID,
            folder_id=None,
            draft=False,
            archived=False,
            enable_sharing=False,
            share_url="",
            created_at=None,
            updated_at=None,
        )
        upload = HuduUpload(
            0, PROBE_FILE_NAME, "txt", "text/plain", len(PROBE_FILE), "", "Article", 0
        )
        rendered = render_article(
            article,
            hudu_base_url=self.settings.hudu_base_url,
            faqlist_id=list_id,
            files=[upload],
            client_id=None if customer is None else customer.id,
        )
        seen.sent_body = str(rendered.payload["description_html"])
        payload = article_payload(rendered, halo_id=None, files=[(PROBE_FILE_NAME, PROBE_FILE)])
        try:
            (ref,) = await self.halo.upsert_articles([payload])
            seen.answered_edited = ref.date_edited
        except (WriteUncertainError, MalformedResponseError):
            found = [r for r in await self.halo.search_articles(name) if r.name.strip() == name]
            if not found:
                raise
            ref = found[0]
        return ref.id

    async def _read_back(
        self,
        article_id: int,
        name: str,
        list_id: int,
        customer: HaloCustomer | None,
        seen: Observations,
    ) -> None:
        fields = await self.halo.get_article_fields(article_id) or {}
        seen.body_back = {f: _text(fields.get(f)) for f in BODY_FIELDS}
        listed = [r for r in await self.halo.newest_matches(name) if r.id == article_id]
        seen.listed_edited = listed[0].date_edited if listed else None
        marker = f"{MARKER_PREFIX}{PROBE_HUDU_ID}"
        seen.tag_string_kept = marker in _tags(fields)
        if not seen.tag_string_kept:
            tags = [{"text": "hudu"}, {"text": marker}]
            await self.halo.upsert_articles([{"id": article_id, "tags": tags}])
            seen.tags_kept = marker in _tags(await self.halo.get_article_fields(article_id) or {})
        if seen.tag_string_kept or seen.tags_kept:
            seen.marker_found_after = await self._find_by_marker(marker, article_id)
            if seen.marker_found_after is not None:
                seen.bulk_found = await self._found_by_prefix(article_id)
        if seen.marker_found_after is None:
            found = await self.halo.search_articles(name, faqlist_id=list_id)
            seen.name_found = any(r.id == article_id and r.name.strip() == name for r in found)
        attachments = fields.get("attachments")
        seen.file_kept = isinstance(attachments, list) and any(
            isinstance(a, dict) and a.get("filename") == PROBE_FILE_NAME for a in attachments
        )
        if customer is not None:
            access = fields.get("kbentryclientaccess")
            seen.client_kept = isinstance(access, list) and any(
                isinstance(e, dict) and e.get("client_id") == customer.id for e in access
            )
        seen.link = _text(fields.get("link"))
        seen.url_template = url_template_from_link(seen.link, article_id, self.halo.instance_url)

    async def _find_by_marker(self, marker: str, article_id: int) -> float | None:
        """Seconds until the marker search finds the article; None if it never does."""
        waited = 0.0
        for wait in LOOKUP_WAITS:
            if wait:
                await self.sleep(wait)
                waited += wait
            refs: list[HaloArticleRef] = await self.halo.find_articles_by_marker(marker)
            if any(r.id == article_id for r in refs):
                return waited
        return None

    async def _found_by_prefix(self, article_id: int) -> bool:
        """Whether one search for the marker prefix finds the article, as crash recovery's
        bulk lookup does: newest first costs one request; every page only when needed."""
        if any(r.id == article_id for r in await self.halo.newest_matches(MARKER_PREFIX)):
            return True
        return article_id in {r.id for r in await self.halo.search_articles(MARKER_PREFIX)}

    async def _remove(self, article_id: int, name: str, seen: Observations) -> None:
        """The way removals go: DELETE; refused (403, 405) → archive."""
        seen.delete_tried = True
        try:
            await self.halo.delete_article(article_id)
        except HaloError as exc:
            if exc.status not in (403, 405):
                raise
            seen.delete_status = exc.status
            await self.halo.archive_article(article_id)
            after = await self.halo.get_article_fields(article_id) or {}
            seen.saved_edited = _text(after.get("date_edited"))
            body = any(_text(after.get(f)) for f in BODY_FIELDS)
            seen.archive_kept_fields = _text(after.get("name")) == name and body
            return
        if await self.halo.get_article(article_id) is not None:  # "deleted" but still there
            seen.delete_status = 200
            await self.halo.archive_article(article_id)

    async def _store_image(self, seen: Observations) -> None:
        """Store one pixel through Halo's image endpoint, without a ticket, and fetch it back
        by its link. It stays in Halo (the endpoint has no documented delete): 70 bytes."""
        try:
            link = await self.halo.upload_image("hhsync-probe.png", PROBE_IMAGE, "image/png")
            back = await self.halo.image_bytes(link)
        except AuthError:
            raise
        except (HaloError, MalformedResponseError) as exc:
            seen.image_upload, seen.image_seen = False, f"refused ({exc})"
            return
        seen.image_upload = back == PROBE_IMAGE
        seen.image_seen = (
            "stored and served back"
            if seen.image_upload
            else "stored, but its link serves other bytes"
        )

    def _stamp(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="seconds")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _tags(fields: dict[str, Any]) -> set[str]:
    """The tags in an article's `tag_string` (comma, semicolon or space separated)."""
    return {t for t in re.split(r"[,;\s]+", _text(fields.get("tag_string"))) if t}
