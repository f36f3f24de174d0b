"""Async client for Hudu's REST API v1: the read side of the sync (articles, companies, files).

The Hudu facts it relies on (URL shapes, rate limit, page size) are in `core.hudu_facts`; all of
them (auth, rate limit, pagination, uploads, failures) are described, with what is confirmed and
what is only inferred, in docs/hudu-and-halo.md (section "Hudu").
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from core.errors import HuduAuthError, HuduError, HuduUnreachableError
from core.http import ServiceSpec
from core.hudu_facts import (
    API_PATH,
    MAX_REQUESTS,
    PAGE_SIZE,
    RESET_SECONDS,
    WINDOW_SECONDS,
    api_root,
    next_reset,
    query_time,
)
from core.models import (
    HuduArticle,
    HuduCompany,
    HuduFolder,
    HuduIntegration,
    HuduPublicPhoto,
    HuduUpload,
)
from core.ratelimit import Clock, Sleep, SlidingWindowLimiter, WaitHook
from core.serviceclient import ServiceClient

MAX_PAGES = 10_000
MAX_REDIRECTS = 5
STORAGE_HINT = "retry later; if it persists, open the file in Hudu to check it still exists"

T = TypeVar("T")


def hudu_hint(status: int | None, method: str, path: str, message: str) -> str:
    if status is None:
        return "check HUDU_BASE_URL and the network (DNS, proxy, firewall)"
    if status == 401:
        return "check HUDU_API_KEY (Hudu → Admin → API Keys); the key may have been revoked"
    if status == 403:
        return "use a Hudu API key that is not limited to one company and may read articles"
    if status == 404 and not path.rstrip("/").split("/")[-1].isdigit():
        return "check HUDU_BASE_URL: it should be the address of your Hudu instance"
    if status == 429:
        return (
            f"Hudu allows {MAX_REQUESTS} requests a minute and resets its window every "
            f"{RESET_SECONDS / 60:g} minutes: retry later"
        )
    if status == 500:
        return "a company-scoped Hudu API key breaks list endpoints: use an unscoped key"
    if status in (502, 503, 504):
        return "Hudu is overloaded or down: retry later"
    return ""


HUDU_SPEC = ServiceSpec(
    name="Hudu",
    error=HuduError,
    auth_error=HuduAuthError,
    unreachable_error=HuduUnreachableError,
    url_variable="HUDU_BASE_URL",
    hint_for=hudu_hint,
    max_requests=MAX_REQUESTS,
    window_seconds=WINDOW_SECONDS,
    rate_limit_wait=next_reset,
    rate_limit_attempts=4,
    max_total_wait=20 * 60.0,
)

KEEP_SLICE = 25
"""Articles kept (`list_articles(keep=…)`) between turns given back to the event loop."""


class HuduClient(ServiceClient):
    """Hudu's API for one instance. `base_url` is the instance root; `/api/v1` is added."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: SlidingWindowLimiter | None = None,
        timeout: float = 30.0,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        on_wait: WaitHook | None = None,
    ) -> None:
        self.api_url = api_root(base_url)
        self.instance_url = self.api_url.removesuffix(API_PATH)
        self._api_key = api_key
        self._connect(
            HUDU_SPEC,
            self.api_url,
            api_key,
            transport=transport,
            limiter=limiter,
            timeout=timeout,
            clock=clock,
            wall_clock=wall_clock,
            sleep=sleep,
            rng=rng,
            on_wait=on_wait,
        )

    def __repr__(self) -> str:
        return f"HuduClient({self.instance_url!r})"

    # ------------------------------------------------------------------ plumbing
    @property
    def _auth(self) -> dict[str, str]:
        return {"x-api-key": self._api_key}

    async def _get(
        self, path: str, params: Mapping[str, str | int] | None = None, accept: tuple[int, ...] = ()
    ) -> httpx.Response:
        return await self.session.send(
            "GET", path, params=params, headers=self._auth, accept=accept
        )

    async def _pages(
        self,
        path: str,
        key: str,
        parse: Callable[[Any], T],
        params: Mapping[str, str | int] | None = None,
        *,
        stop_on_repeat: bool = False,
    ) -> AsyncIterator[list[T]]:
        """Pages from 1 until a short page. A page that repeats the previous one means the
        endpoint ignores `page`: an error, or the end when `stop_on_repeat` (old /uploads)."""
        previous: list[int] | None = None
        for page in range(1, MAX_PAGES + 1):
            response = await self._get(
                path, {**(params or {}), "page": page, "page_size": PAGE_SIZE}
            )
            raw_items = self._records(response, key)
            ids = [item["id"] for item in raw_items]
            if raw_items and ids == previous:
                if stop_on_repeat:
                    return
                raise HuduError(
                    f"page {page} repeats page {page - 1}: the listing does not advance",
                    hint="Hudu ignored the page parameter; update Hudu or report it to Hudu",
                    method="GET",
                    path=response.request.url.path,
                )
            yield [self._parse(response, parse, raw) for raw in raw_items]
            if len(raw_items) < PAGE_SIZE:
                return
            previous = ids
        raise HuduError(f"more than {MAX_PAGES} pages", method="GET", path=path)

    # ------------------------------------------------------------------ API
    async def api_info(self) -> dict[str, Any]:
        """`{"version": "2.44.0", "date": …}`; also the cheapest credentials check."""
        response = await self._get("api_info")
        body = self.session.json(response)
        if not isinstance(body, dict):
            raise self.session.malformed(response, "api_info is not an object")
        return body

    async def list_articles(
        self,
        *,
        company_id: int | None = None,
        updated_since: datetime | None = None,
        keep: Callable[[HuduArticle], HuduArticle] | None = None,
    ) -> list[HuduArticle]:
        """Every article (drafts and archived ones included), each id once; with
        `updated_since`, only those Hudu says changed since then. `keep` is what is kept of
        each, as its page arrives (the planner spools the bodies)."""
        params: dict[str, str | int] = {}
        if company_id is not None:
            params["company_id"] = company_id
        if updated_since is not None:
            params["updated_at"] = f"{query_time(updated_since)},"  # "since": open-ended range
        articles: dict[int, HuduArticle] = {}
        async for page in self._pages("articles", "articles", parse_article, params):
            for n, article in enumerate(page, 1):
                if article.id not in articles:
                    articles[article.id] = keep(article) if keep else article
                if keep is not None and n % KEEP_SLICE == 0:
                    await asyncio.sleep(0)  # a page of bodies spooled holds the loop ~10 ms
        return list(articles.values())

    async def get_article(self, article_id: int) -> HuduArticle | None:
        """The article, or None when Hudu answers 404 (deleted)."""
        response = await self._get(f"articles/{int(article_id)}", accept=(404,))
        if response.status_code == 404:
            return None
        body = self.session.json(response)
        raw = body.get("article", body) if isinstance(body, dict) else body
        return self._parse(response, parse_article, raw)

    async def list_companies(self, *, updated_since: datetime | None = None) -> list[HuduCompany]:
        """Every company; with `updated_since`, only those Hudu says changed since then."""
        params: dict[str, str | int] = {}
        if updated_since is not None:
            params["updated_at"] = f"{query_time(updated_since)},"
        companies: dict[int, HuduCompany] = {}
        async for page in self._pages("companies", "companies", parse_company, params):
            for company in page:
                companies.setdefault(company.id, company)
        return list(companies.values())

    async def list_folders(self) -> dict[int, HuduFolder]:
        """Every article folder (Central and companies' ones), by id."""
        folders: dict[int, HuduFolder] = {}
        async for page in self._pages(
            "folders", "folders", parse_folder, {"folder_type": "article"}
        ):
            for folder in page:
                folders.setdefault(folder.id, folder)
        return folders

    async def uploads_by_article(self) -> dict[int, list[HuduUpload]]:
        """Every article's current (not archived) uploads, by article id, from one listing of
        all the account's uploads (Hudu has no filter by record)."""
        uploads: dict[int, HuduUpload] = {}
        async for page in self._pages("uploads", "uploads", parse_upload, stop_on_repeat=True):
            for upload in page:
                uploads.setdefault(upload.id, upload)
        by_article: dict[int, list[HuduUpload]] = {}
        for upload in uploads.values():
            if (
                upload.uploadable_type == "Article"
                and upload.uploadable_id is not None
                and not upload.archived
            ):
                by_article.setdefault(upload.uploadable_id, []).append(upload)
        return by_article

    async def download_upload(self, upload_id: int, *, max_bytes: int | None = None) -> bytes:
        """The file's bytes. Redirects to storage are followed; the API key only ever goes to
        Hudu's API itself, never to a redirect target (a signed storage URL needs none). Past
        `max_bytes`, the download stops with `TooLargeError`."""
        url = httpx.URL(f"{self.api_url}/uploads/{int(upload_id)}")
        return await self._download(url, {"download": "true"}, f"upload {upload_id}", max_bytes)

    async def download_public_photo(self, url: str, *, max_bytes: int | None = None) -> bytes:
        """An image embedded in an article (`/public_photo/<slug>` on Hudu's own host: public,
        so no API key is sent). Any other host is refused before a request."""
        target = httpx.URL(url)
        if not _same_origin(target, httpx.URL(self.instance_url + "/")):
            raise ValueError(f"not on Hudu's host: {url!r}")
        return await self._download(target, None, "a public photo", max_bytes)

    async def _download(
        self,
        url: httpx.URL,
        params: dict[str, str | int] | None,
        what: str,
        max_bytes: int | None,
    ) -> bytes:
        api = httpx.URL(self.api_url + "/")
        for hop in range(MAX_REDIRECTS + 1):
            to_api = _same_origin(url, api) and url.path.startswith(api.path)
            try:
                response = await self.session.send(
                    "GET",
                    str(url),
                    params=params,
                    headers=self._auth if to_api else None,
                    throttle=_same_origin(url, api),
                    max_bytes=max_bytes,
                )
            except HuduError as exc:
                if hop == 0 or isinstance(exc, HuduUnreachableError):
                    raise
                raise HuduError(
                    f"the file store Hudu redirected to refused {what}: {exc.message}",
                    status=exc.status,
                    hint=STORAGE_HINT,
                    method="GET",
                    path=exc.path,
                ) from None
            if not response.is_redirect:
                return response.content
            location = response.headers.get("location")
            if not location:
                raise self.session.malformed(response, "a redirect without a Location")
            url, params = response.url.join(location), None
        raise HuduError(
            f"more than {MAX_REDIRECTS} redirects downloading {what}",
            method="GET",
            path=url.path,
        )


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


# ---------------------------------------------------------------- parsing


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 in whatever form Hudu sends (`…Z`, `.000Z`, an offset); None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _opt_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse_photo(raw: Any) -> HuduPublicPhoto:
    """Articles list photos as objects (the spec says strings; accept both)."""
    if isinstance(raw, str):
        return HuduPublicPhoto(slug=raw.rstrip("/").rsplit("/", 1)[-1], numeric_id=0, url=raw)
    return HuduPublicPhoto(
        slug=str(raw.get("id", "")),
        numeric_id=_opt_int(raw.get("numeric_id")) or 0,
        url=_text(raw.get("url")),
        file_name=_text(raw.get("file_name")),
    )


def parse_article(raw: Mapping[str, Any]) -> HuduArticle:
    return HuduArticle(
        id=int(raw["id"]),
        name=_text(raw.get("name")),
        content=_text(raw.get("content")),
        slug=_text(raw.get("slug")),
        url=_text(raw.get("url")),
        company_id=_opt_int(raw.get("company_id")),
        folder_id=_opt_int(raw.get("folder_id")),
        draft=bool(raw.get("draft")),  # null means published
        archived=bool(raw.get("archived")),
        enable_sharing=bool(raw.get("enable_sharing")),
        share_url=_text(raw.get("share_url")),
        created_at=parse_time(raw.get("created_at")),
        updated_at=parse_time(raw.get("updated_at")),
        public_photos=tuple(parse_photo(p) for p in raw.get("public_photos") or ()),
    )


def parse_company(raw: Mapping[str, Any]) -> HuduCompany:
    return HuduCompany(
        id=int(raw["id"]),
        name=_text(raw.get("name")),
        archived=bool(raw.get("archived")),
        integrations=tuple(
            parse_integration(i) for i in raw.get("integrations") or () if isinstance(i, dict)
        ),
    )


def parse_folder(raw: Mapping[str, Any]) -> HuduFolder:
    return HuduFolder(
        id=int(raw["id"]),
        name=_text(raw.get("name")),
        company_id=_opt_int(raw.get("company_id")),
        parent_folder_id=_opt_int(raw.get("parent_folder_id")),
    )


def parse_integration(raw: Mapping[str, Any]) -> HuduIntegration:
    """One `Company_Integration`; a `sync_id` that is not a whole number reads as None (the
    spec says integer, but nothing here may stop a pass over one odd record)."""
    sync_id = raw.get("sync_id")
    if isinstance(sync_id, str) and sync_id.strip().isdigit():
        sync_id = int(sync_id)
    return HuduIntegration(
        integrator_name=_text(raw.get("integrator_name")),
        sync_id=sync_id if isinstance(sync_id, int) and not isinstance(sync_id, bool) else None,
        identifier=str(raw.get("identifier") or ""),
    )


def parse_upload(raw: Mapping[str, Any]) -> HuduUpload:
    size = raw.get("size")
    try:
        size_bytes = int(float(size)) if size not in (None, "") else 0
    except (TypeError, ValueError):
        size_bytes = 0
    return HuduUpload(
        id=int(raw["id"]),
        name=_text(raw.get("name")),
        ext=_text(raw.get("ext")),
        mime=_text(raw.get("mime")),
        size=size_bytes,
        url=_text(raw.get("url")),
        uploadable_type=_text(raw.get("uploadable_type")),
        uploadable_id=_opt_int(raw.get("uploadable_id")),
        archived=raw.get("archived_at") not in (None, ""),
    )
