"""Async client for HaloPSA's REST API: the write side of the sync (KB articles, FAQ lists).

The Halo facts it relies on (URL shapes, scopes, rate limit, page size) are in
`core.halo_facts`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import httpx

from core.errors import HaloAuthError, HaloError, HaloUnreachableError
from core.halo_auth import HaloAuthorized
from core.halo_facts import (
    API_PATH,
    DEFAULT_SCOPE,
    MAX_REQUESTS,
    PAGE_SIZE,
    TOKEN_PATH,
    WINDOW_SECONDS,
    agent_article_url,
    api_root,
    default_auth_url,
    exponential_to_sixty,
    has_scope,
    on_instance,
)
from core.halo_hints import halo_hint
from core.halo_json import (
    answer_mismatch,
    encoded_item,
    faqlist_payload,
    parse_article_ref,
    parse_customer,
    parse_faqlist,
)
from core.http import EncodedJson, ServiceSpec
from core.models import HaloArticleRef, HaloCustomer, HaloFaqList, NewFaqList
from core.ratelimit import Clock, Sleep, SlidingWindowLimiter, WaitHook
from core.slices import sliced


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


_Item = TypeVar("_Item", bound=_HasId)

SEARCH_CONCURRENCY = 4
MAX_PAGES = 1_000


HALO_SPEC = ServiceSpec(
    name="Halo",
    error=HaloError,
    auth_error=HaloAuthError,
    unreachable_error=HaloUnreachableError,
    url_variable="HALO_BASE_URL",
    hint_for=halo_hint,
    max_requests=MAX_REQUESTS,
    window_seconds=WINDOW_SECONDS,
    rate_limit_wait=exponential_to_sixty,
    rate_limit_attempts=10,  # 5+10+20+40+60×5 s outlasts the rolling 5-minute window
    max_total_wait=15 * 60.0,
)


class HaloClient(HaloAuthorized):
    """Halo's API for one tenant, authenticated with an application's client credentials."""

    def __init__(
        self,
        base_url: str,
        auth_url: str,
        client_id: str,
        client_secret: str,
        *,
        tenant: str = "",
        scope: str = DEFAULT_SCOPE,
        optional_scopes: Sequence[str] = (),
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: SlidingWindowLimiter | None = None,
        timeout: float = 60.0,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        on_wait: WaitHook | None = None,
    ) -> None:
        self.api_url = api_root(base_url)
        self.instance_url = self.api_url.removesuffix(API_PATH)
        auth_root = auth_url.strip().rstrip("/") or default_auth_url(self.instance_url)
        self.token_url = auth_root + TOKEN_PATH
        self.tenant = tenant
        self.scope = scope
        granted_anyway = set(scope.split())
        self.optional_scopes = tuple(o for o in optional_scopes if not has_scope(granted_anyway, o))
        self.article_url_template = ""
        """The article URL the probe read from `link` (`{id}` for the id); "" for the guess."""
        self.delete_refused = False
        """The probe saw DELETE refused: removals archive without trying it first."""
        self._client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        self._connect(
            HALO_SPEC,
            self.api_url,
            client_secret,
            transport=transport,
            limiter=limiter,
            timeout=timeout,
            clock=clock,
            wall_clock=wall_clock,
            sleep=sleep,
            rng=rng,
            on_wait=on_wait,
        )
        self._start_tokens()

    def __repr__(self) -> str:
        return f"HaloClient({self.api_url!r}, tenant={self.tenant!r})"

    def article_url(self, article_id: int) -> str:
        """Where an agent opens an article on this instance."""
        return agent_article_url(self.instance_url, article_id, self.article_url_template)

    def requests_left(self) -> int:
        """Requests the limiter allows right now before it makes a caller wait."""
        return self.limiter.max_requests - self.limiter.in_window

    @staticmethod
    def search_requests(results: int) -> int:
        """Requests a search returning `results` articles takes (one per page)."""
        return 1 + results // PAGE_SIZE

    # ------------------------------------------------------------------ API
    async def authinfo(self) -> dict[str, Any]:
        """Public discovery document (`auth_url`, sometimes `tenant_id`); needs no token."""
        response = await self.session.send("GET", "AuthInfo")
        body = self.session.json(response)
        if not isinstance(body, dict):
            raise self.session.malformed(response, "AuthInfo is not an object")
        return body

    async def list_faqlists(self) -> list[HaloFaqList]:
        response = await self._request("GET", "FAQLists")
        records = self._records(response, "FAQLists", single=True)
        return [self._parse(response, parse_faqlist, r) for r in records]

    async def create_faqlist(
        self,
        name: str,
        *,
        is_group: bool,
        group_id: int | None,
        showforall: bool,
        third_party_id: str,
    ) -> HaloFaqList:
        (created,) = await self.save_faqlists(
            [NewFaqList(name, is_group, group_id, showforall, third_party_id)]
        )
        return created

    async def save_faqlists(self, lists: Sequence[NewFaqList]) -> list[HaloFaqList]:
        """Create (or, with an id, rename or move) several FAQ lists in ONE request; the
        answer is checked by position, id and name."""
        if not lists:
            return []
        payloads = [faqlist_payload(new) for new in lists]
        response = await self._request("POST", "FAQLists", json_body=payloads)
        records = self._records(response, "FAQLists", single=True)
        if len(records) != len(lists):
            raise self.session.malformed(
                response, f"sent {len(lists)} FAQ lists, Halo answered {len(records)}"
            )
        created = [self._parse(response, parse_faqlist, r) for r in records]
        for new, got in zip(lists, created, strict=True):
            if got.name.strip() != new.name.strip() or new.id not in (None, got.id):
                raise self.session.malformed(
                    response, f"saving FAQ list {new.name!r} returned {got.name!r} ({got.id})"
                )
        return created

    async def upsert_articles(self, payloads: Sequence[Mapping[str, Any]]) -> list[HaloArticleRef]:
        """Create (no `id`) or update (`id`) articles in ONE request; refs in request order.

        Halo does not document the answer's order: every ref is checked against its request by
        id, name and marker tag, and any mismatch is a MalformedResponseError (the write did
        happen; the engine reconciles by marker).
        """
        if not payloads:
            return []
        body = await encoded_in_slices(payloads)
        response = await self._request("POST", "KBArticle", json_body=body)
        records = self._records(response, single=True)
        if len(records) != len(payloads):
            raise self.session.malformed(
                response, f"sent {len(payloads)} articles, Halo answered {len(records)}"
            )
        refs = [self._parse(response, parse_article_ref, r) async for r in sliced(records)]
        for index, (sent, ref) in enumerate(zip(payloads, refs, strict=True)):
            problem = answer_mismatch(sent, ref)
            if problem:
                raise self.session.malformed(response, f"article {index} of the answer: {problem}")
        return refs

    async def find_articles_by_marker(self, marker: str) -> list[HaloArticleRef]:
        """Articles (active or not) whose tags include exactly `marker`."""
        return [ref for ref in await self.search_articles(marker) if ref.has_marker(marker)]

    async def search_articles(
        self, text: str, *, faqlist_id: int | None = None
    ) -> list[HaloArticleRef]:
        """Every article (active or not) Halo's search matches `text` with, all pages.

        One search for the marker prefix finds all of hhsync's articles in a few requests,
        which is how a large crash recovery avoids one lookup per article.
        """
        params = self._search_params(text, faqlist_id)
        return await self._every_page("KBArticle", "articles", parse_article_ref, params)

    async def list_articles(self) -> list[HaloArticleRef]:
        """Every article, active or not, in one paged listing: what drift repair compares with
        the mapping (core.drift)."""
        params = {"includeinactive": "true"}
        return await self._every_page("KBArticle", "articles", parse_article_ref, params)

    async def newest_matches(self, text: str) -> list[HaloArticleRef]:
        """One page of what the search matches, newest first (`order=id`, `orderdesc`): where
        a just-written article is found at the cost of one request whatever the tenant holds
        (a tenant ignoring the order gives some page: look further when it is not there)."""
        params = {**self._search_params(text, None), "order": "id", "orderdesc": "true"}
        return (await self._page("KBArticle", "articles", parse_article_ref, params, 1))[0]

    @staticmethod
    def _search_params(text: str, faqlist_id: int | None) -> dict[str, str | int]:
        params: dict[str, str | int] = {"search": text, "includeinactive": "true"}
        if faqlist_id is not None:
            params["faqlists"] = str(int(faqlist_id))
        return params

    async def _every_page(
        self, path: str, key: str, parse: Callable[[Any], _Item], params: Mapping[str, str | int]
    ) -> list[_Item]:
        """Every page of a listing, each item once. Once the first page gives
        `record_count`, the other pages are fetched a few at a time."""
        first, total = await self._page(path, key, parse, params, 1)
        pages = [first]
        if len(first) >= PAGE_SIZE and total is not None:
            gate = asyncio.Semaphore(SEARCH_CONCURRENCY)

            async def page(number: int) -> list[_Item]:
                async with gate:
                    return (await self._page(path, key, parse, params, number))[0]

            last = min(MAX_PAGES, -(-total // PAGE_SIZE))
            pages += await asyncio.gather(*(page(n) for n in range(2, last + 1)))
        elif len(first) >= PAGE_SIZE:
            for number in range(2, MAX_PAGES + 1):
                pages.append((await self._page(path, key, parse, params, number))[0])
                if len(pages[-1]) < PAGE_SIZE:
                    break
        unique: dict[int, _Item] = {}
        for items in pages:
            for item in items:
                unique.setdefault(item.id, item)
        return list(unique.values())

    async def _page(
        self,
        path: str,
        key: str,
        parse: Callable[[Any], _Item],
        params: Mapping[str, str | int],
        page_no: int,
    ) -> tuple[list[_Item], int | None]:
        query = {**params, "pageinate": "true", "page_size": PAGE_SIZE, "page_no": page_no}
        response = await self._request("GET", path, params=query)
        body = self.session.json(response)
        records = self._records(response, key, single=True)
        total = body.get("record_count") if isinstance(body, dict) else None
        items = [self._parse(response, parse, record) for record in records]
        return items, total if isinstance(total, int) else None

    async def get_article(self, article_id: int) -> HaloArticleRef | None:
        fields = await self.get_article_fields(article_id)
        return None if fields is None else parse_article_ref(fields)

    async def get_article_fields(self, article_id: int) -> dict[str, Any] | None:
        """The whole article as Halo answers it with details (None when Halo has no such
        article): what the probe compares field by field with what it sent."""
        response = await self._request(
            "GET", f"KBArticle/{int(article_id)}", params={"includedetails": "true"}, accept=(404,)
        )
        if response.status_code == 404:
            return None
        records = self._records(response, single=True)
        if len(records) != 1:
            raise self.session.malformed(response, "expected one article")
        self._parse(response, parse_article_ref, records[0])  # the shape a ref needs
        return records[0]

    # ------------------------------------------------------------------ images
    async def upload_image(self, filename: str, data: bytes, content_type: str) -> str:
        """Store an image with Halo's editor endpoint (`POST /Attachment/image`, multipart,
        no ticket): the absolute URL Halo serves it at. A link that is not on this Halo is a
        MalformedResponseError (it would go into articles as it is)."""
        response = await self._request(
            "POST", "Attachment/image", files={"file": (filename, data, content_type)}
        )
        body = self.session.json(response)
        link = body.get("link") if isinstance(body, dict) else None
        url = on_instance(link, self.instance_url) if isinstance(link, str) else ""
        if not url:
            raise self.session.malformed(response, "the image upload answered no link on Halo")
        return url

    async def image_bytes(self, url: str) -> bytes:
        """What an image link on this Halo serves (a capability URL: no bearer token)."""
        if not on_instance(url, self.instance_url):
            raise ValueError("not a link on this Halo")
        return (await self.session.send("GET", url)).content

    # ------------------------------------------------------------------ customers
    async def list_customers(self) -> list[HaloCustomer]:
        """Every active Halo client, in one paged listing (docs/hudu-and-halo.md#halo-customers)."""
        return await self._every_page("Client", "clients", parse_customer, {})

    async def a_customer(self) -> HaloCustomer | None:
        """Some active Halo client, in one request (the probe restricts its article to it)."""
        response = await self._request("GET", "Client", params={"count": 1})
        records = self._records(response, "clients")
        found = [self._parse(response, parse_customer, record) for record in records]
        return next((c for c in found if not c.inactive), None)

    async def get_customer(self, client_id: int) -> HaloCustomer | None:
        """One Halo client by id (inactive ones too), or None when Halo has none."""
        response = await self._request("GET", f"Client/{int(client_id)}", accept=(404,))
        if response.status_code == 404:
            return None
        records = self._records(response, single=True)
        if len(records) != 1:
            raise self.session.malformed(response, "expected one client")
        return self._parse(response, parse_customer, records[0])

    async def delete_article(self, article_id: int) -> None:
        """Delete; already gone (404) counts as done. A refusal raises HaloError status 403."""
        await self._request("DELETE", f"KBArticle/{int(article_id)}", accept=(404,))

    async def archive_article(self, article_id: int) -> HaloArticleRef:
        """Make the article inactive: the fallback when Halo refuses to delete it."""
        (ref,) = await self.upsert_articles([{"id": int(article_id), "inactive": True}])
        return ref

    async def retire_article(self, article_id: int) -> int | None:
        """Delete the article, or archive it where Halo refuses deletes (403, 405).

        Returns None when deleted, else the status of the refused delete. Once the probe saw
        deletes refused (`delete_refused`), the article is archived without trying (403).
        """
        if self.delete_refused:
            await self.archive_article(article_id)
            return 403
        try:
            await self.delete_article(article_id)
        except HaloError as exc:
            if exc.status not in (403, 405):
                raise
            await self.archive_article(article_id)
            return exc.status
        return None


async def encoded_in_slices(items: Sequence[Any]) -> EncodedJson:
    """A JSON array as httpx would encode it, an item at a time, giving the event loop back
    every few milliseconds (a batch of articles is megabytes of JSON)."""
    parts: list[bytes] = [b"["]
    async for item in sliced(items):
        if len(parts) > 1:
            parts.append(b",")
        parts.append(encoded_item(item).encode("utf-8"))
    parts.append(b"]")
    return EncodedJson(b"".join(parts))
