"""HuduClient: exact requests over httpx.MockTransport, behaviour against the Hudu emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from core.emulators.hudu import HuduState, create_hudu_app
from core.errors import HuduAuthError, HuduError, HuduUnreachableError, MalformedResponseError
from core.hudu import KEEP_SLICE, HuduClient, parse_company
from core.hudu_facts import api_root
from core.models import HuduArticle
from tests.test_pass_cost import LoopTurns
from tests.test_ratelimit import FakeTime, LowJitter

KEY = "hudu-secret-key-0123456789"
Handler = Callable[[httpx.Request], httpx.Response]


def mock_client(
    handler: Handler, time: FakeTime | None = None, *, base_url: str = "https://acme.huducloud.com"
) -> HuduClient:
    time = time or FakeTime()
    return HuduClient(
        base_url,
        KEY,
        transport=httpx.MockTransport(handler),
        clock=time.clock,
        wall_clock=time.clock,
        sleep=time.sleep,
        rng=LowJitter(),
    )


def article(i: int, **fields: object) -> dict[str, object]:
    return {"id": i, "name": f"A{i}", "content": "<p>x</p>", "company_id": None} | fields


def pages_of(ids: list[int], seen: list[httpx.Request]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = int(request.url.params["page"])
        size = int(request.url.params["page_size"])
        chunk = ids[(page - 1) * size : page * size]
        return httpx.Response(200, json={"articles": [article(i) for i in chunk]})

    return handler


# ---------------------------------------------------------------- URLs and listing
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://acme.huducloud.com", "https://acme.huducloud.com/api/v1"),
        ("https://acme.huducloud.com/", "https://acme.huducloud.com/api/v1"),
        ("https://acme.huducloud.com/api/v1/", "https://acme.huducloud.com/api/v1"),
        ("http://127.0.0.1:8000/hudu", "http://127.0.0.1:8000/hudu/api/v1"),
    ],
)
def test_api_root(given: str, expected: str) -> None:
    assert api_root(given) == expected


async def test_pages_until_a_short_page_with_key_and_page_size() -> None:
    seen: list[httpx.Request] = []
    async with mock_client(pages_of(list(range(1, 251)), seen), base_url="http://h/x") as hudu:
        articles = await hudu.list_articles()
    assert [a.id for a in articles] == list(range(1, 251))
    assert [(r.url.path, r.url.params["page"]) for r in seen] == [
        ("/x/api/v1/articles", "1"),
        ("/x/api/v1/articles", "2"),
        ("/x/api/v1/articles", "3"),
    ]
    assert all(r.url.params["page_size"] == "100" for r in seen)
    assert all(r.headers["x-api-key"] == KEY for r in seen)


async def test_a_page_gives_the_loop_back_while_its_bodies_are_kept() -> None:
    turns_seen: list[int] = []

    def keep(kept: HuduArticle) -> HuduArticle:
        turns_seen.append(turns.count)
        return kept

    async with mock_client(pages_of(list(range(1, 101)), [])) as hudu, LoopTurns() as turns:
        await hudu.list_articles(keep=keep)

    assert len(turns_seen) == 100
    slices = [turns_seen[n : n + KEEP_SLICE] for n in range(0, 100, KEEP_SLICE)]
    assert all(len(set(part)) == 1 for part in slices)  # one slice, one turn of the loop
    assert len({part[0] for part in slices}) == 100 // KEEP_SLICE


async def test_a_full_last_page_asks_once_more() -> None:
    seen: list[httpx.Request] = []
    async with mock_client(pages_of(list(range(1, 201)), seen)) as hudu:
        assert len(await hudu.list_articles()) == 200
    assert len(seen) == 3


async def test_duplicate_ids_across_pages_are_dropped() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        ids = list(range(1, 101)) if page == 1 else [100, 101]
        return httpx.Response(200, json={"articles": [article(i) for i in ids]})

    async with mock_client(handler) as hudu:
        articles = await hudu.list_articles()
    assert [a.id for a in articles] == list(range(1, 102))


async def test_a_page_that_repeats_the_previous_one_is_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"articles": [article(i) for i in range(1, 101)]})

    async with mock_client(handler) as hudu:
        with pytest.raises(HuduError, match="page 2 repeats page 1"):
            await hudu.list_articles()


async def test_incremental_listing_query() -> None:
    seen: list[httpx.Request] = []
    since = datetime(2024, 1, 2, 5, 4, 5, 123456, tzinfo=timezone(timedelta(hours=2)))
    async with mock_client(pages_of([1], seen)) as hudu:
        await hudu.list_articles(company_id=7, updated_since=since)
    assert seen[0].url.params["updated_at"] == "2024-01-02T03:04:05Z,"
    assert seen[0].url.params["company_id"] == "7"
    assert b"updated_at=2024-01-02T03%3A04%3A05Z%2C" in seen[0].url.query


async def test_article_parsing_is_lenient() -> None:
    raw = article(
        5,
        draft=None,
        enable_sharing=None,
        share_url=None,
        folder_id=3,
        company_id=9,
        updated_at="2024-02-15T14:22:00.000Z",
        created_at="garbage",
        public_photos=[{"id": "a1b2", "numeric_id": 881, "url": "https://h/public_photo/a1b2"}],
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/articles/5"):
            return httpx.Response(200, json={"article": raw})
        return httpx.Response(404, json={"status": 404, "error": "Not Found"})

    async with mock_client(handler) as hudu:
        got = await hudu.get_article(5)
        assert await hudu.get_article(6) is None
    assert got is not None
    assert (got.draft, got.enable_sharing, got.share_url) == (False, False, "")
    assert got.updated_at == datetime(2024, 2, 15, 14, 22, tzinfo=UTC)
    assert got.created_at is None
    assert (got.company_id, got.folder_id, got.is_central) == (9, 3, False)
    assert got.public_photos[0].slug == "a1b2"
    assert got.public_photos[0].numeric_id == 881


async def test_uploads_accept_both_shapes_and_an_endpoint_that_ignores_page() -> None:
    uploads = [
        {"id": i, "name": f"f{i}.pdf", "ext": "pdf", "mime": "application/pdf", "size": "12"}
        | {"uploadable_type": "Article", "uploadable_id": 1 + i % 2, "archived_at": None}
        for i in range(1, 131)
    ]
    uploads[0] |= {"archived_at": "2024-03-01T10:00:00.000Z"}
    uploads[1] |= {"uploadable_type": "Company", "uploadable_id": 1}
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, json={"uploads": uploads})  # old Hudu: everything, every page

    async with mock_client(handler) as hudu:
        by_article = await hudu.uploads_by_article()
    assert calls == 2  # the second page repeats the first: the end of an unpaginated listing
    assert sorted(by_article) == [1, 2]
    mine = by_article[2]
    assert {u.uploadable_id for u in mine} == {2} and len(mine) == 64  # not the archived one
    assert mine[0].size == 12 and mine[0].is_pdf
    assert len(by_article[1]) == 64  # not the company's upload


async def test_uploads_as_a_bare_array_page_by_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        size = int(request.url.params["page_size"])
        ids = range((page - 1) * size + 1, min(page * size, 150) + 1)
        return httpx.Response(
            200,
            json=[
                {"id": i, "name": f"f{i}.png", "size": "1", "uploadable_type": "Article"}
                | {"uploadable_id": 7}
                for i in ids
            ],
        )

    async with mock_client(handler) as hudu:
        by_article = await hudu.uploads_by_article()
    assert [u.id for u in by_article[7]] == list(range(1, 151))


# ---------------------------------------------------------------- downloads
async def test_download_redirect_to_another_host_does_not_get_the_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "acme.huducloud.com":
            location = "https://bucket.s3.example.com/u/7/f.pdf?X-Amz-Signature=abc"
            return httpx.Response(302, headers={"location": location})
        return httpx.Response(200, content=b"%PDF-1.7")

    async with mock_client(handler) as hudu:
        assert await hudu.download_upload(7) == b"%PDF-1.7"
    first, second = seen
    assert first.url.params["download"] == "true"
    assert first.headers["x-api-key"] == KEY
    assert second.url.host == "bucket.s3.example.com"
    assert "x-api-key" not in second.headers
    assert second.url.params["X-Amz-Signature"] == "abc"


async def test_download_from_the_emulator_with_and_without_redirects() -> None:
    state = HuduState(api_key=KEY)
    a = state.add_article("With a file")
    upload = state.add_upload(a["id"], "manual.pdf", data=b"%PDF-bytes")
    async with emulator_client(state) as hudu:
        assert await hudu.download_upload(upload["id"]) == b"%PDF-bytes"
        state.redirect_downloads = True
        assert await hudu.download_upload(upload["id"]) == b"%PDF-bytes"
    assert state.log.count("GET", "/storage/uploads") == 1


# ---------------------------------------------------------------- retries and errors
async def test_429_without_retry_after_waits_for_the_next_five_minute_mark() -> None:
    time = FakeTime(1_000_000.0)  # 100 s past a 5-minute mark
    answers = iter([httpx.Response(429, text="Retry later"), httpx.Response(200, json={})])
    waits: list[tuple[float, str]] = []
    hudu = mock_client(lambda r: next(answers), time)
    hudu.on_wait = lambda s, why: waits.append((s, why))
    async with hudu:
        await hudu.api_info()
    assert time.sleeps == [201.0]  # 200 s to the mark + 1 s jitter (its lower bound)
    assert waits == [(201.0, "429 Too Many Requests")]


@pytest.mark.parametrize(
    ("header", "wait"),
    [("7", 7.0), ("Mon, 12 Jan 1970 13:46:50 GMT", 10.0), ("soon", 201.0)],
)
async def test_429_honours_retry_after(header: str, wait: float) -> None:
    time = FakeTime(1_000_000.0)  # = Mon, 12 Jan 1970 13:46:40 GMT
    limited = httpx.Response(429, text="Retry later", headers={"Retry-After": header})
    answers = iter([limited, httpx.Response(200, json={})])
    async with mock_client(lambda r: next(answers), time) as hudu:
        await hudu.api_info()
    assert time.sleeps == [wait]


async def test_429_forever_gives_up_with_a_hint() -> None:
    time = FakeTime()
    async with mock_client(lambda r: httpx.Response(429, text="Retry later"), time) as hudu:
        with pytest.raises(HuduError) as caught:
            await hudu.api_info()
    assert caught.value.status == 429
    assert "Retry later" in str(caught.value)
    assert "300 requests" in caught.value.hint
    assert len(time.sleeps) == 3


async def test_5xx_on_get_is_retried_with_backoff() -> None:
    time = FakeTime()
    answers = iter([httpx.Response(502), httpx.Response(503), httpx.Response(200, json={})])
    async with mock_client(lambda r: next(answers), time) as hudu:
        assert await hudu.api_info() == {}
    assert time.sleeps == [0.5, 1.0]  # exponential, jitter at its lower bound


async def test_connection_errors_are_retried_then_unreachable() -> None:
    time = FakeTime()
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("connection refused", request=request)

    async with mock_client(handler, time) as hudu:
        with pytest.raises(HuduUnreachableError) as caught:
            await hudu.list_companies()
    assert calls == 4
    assert "HUDU_BASE_URL" in caught.value.hint
    assert KEY not in str(caught.value)


async def test_401_is_an_auth_error_and_never_shows_the_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        echoed = f"Invalid API key {request.headers['x-api-key']}"
        return httpx.Response(401, json={"error": echoed})

    hudu = mock_client(handler)
    async with hudu:
        with pytest.raises(HuduAuthError) as caught:
            await hudu.list_articles()
    error = caught.value
    assert error.status == 401
    assert "HUDU_API_KEY" in error.hint
    for text in (
        str(error),
        repr(error),
        error.message,
        error.hint,
        repr(hudu),
        repr(hudu.session),
    ):
        assert KEY not in text


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(500, json={"status": 500, "error": "Internal Server Error"}), "Internal"),
        (httpx.Response(422, json={"message": "Unable to process"}), "Unable to process"),
        (httpx.Response(400, text="page_size is not a valid filter parameter."), "page_size is"),
    ],
)
async def test_error_messages_come_from_the_body(response: httpx.Response, message: str) -> None:
    async with mock_client(lambda r: response) as hudu:
        with pytest.raises(HuduError) as caught:
            await hudu.list_companies()
    assert message in caught.value.message
    assert caught.value.status == response.status_code


async def test_not_json_is_malformed() -> None:
    async with mock_client(lambda r: httpx.Response(200, text="hello")) as hudu:
        with pytest.raises(MalformedResponseError, match="not JSON"):
            await hudu.list_companies()
    body = {"articles": [{"name": "no id"}]}
    async with mock_client(lambda r: httpx.Response(200, json=body)) as hudu:
        with pytest.raises(MalformedResponseError):
            await hudu.list_articles()


# ---------------------------------------------------------------- against the emulator
def emulator_client(state: HuduState, time: FakeTime | None = None) -> HuduClient:
    time = time or FakeTime()
    return HuduClient(
        state.base_url,
        state.api_key,
        transport=httpx.ASGITransport(app=create_hudu_app(state)),
        clock=time.clock,
        wall_clock=time.clock,
        sleep=time.sleep,
        rng=LowJitter(),
    )


def seeded() -> HuduState:
    state = HuduState(api_key=KEY)
    acme = state.add_company("Acme")
    for i in range(230):
        state.add_article(
            f"Article {i}",
            company_id=acme["id"] if i % 3 == 0 else None,
            draft=None if i % 7 == 0 else False,
            updated_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=i),
        )
    folder = state.add_folder("Network")
    state.add_article("In a folder", folder_id=folder["id"])
    return state


async def test_emulator_listing_and_lookups() -> None:
    state = seeded()
    async with emulator_client(state) as hudu:
        info = await hudu.api_info()
        articles = await hudu.list_articles()
        acme = await hudu.list_articles(company_id=1)
        recent = await hudu.list_articles(updated_since=datetime(2024, 1, 10, 0, 0, tzinfo=UTC))
        companies = await hudu.list_companies()
        state.delete_article(3)
        gone = await hudu.get_article(3)
        kept = await hudu.get_article(4)
    assert info["version"]
    assert len(articles) == 231 and len({a.id for a in articles}) == 231
    assert not any(a.draft for a in articles)
    assert len(acme) == 77 and all(a.company_id == 1 for a in acme)
    assert len(recent) == 230 - 9 * 24 + 1  # the folder article is new too
    assert [c.name for c in companies] == ["Acme"]
    assert gone is None and kept is not None and kept.id == 4
    assert state.log.count("GET", "/api/v1/articles") >= 3 + 1 + 1


async def test_emulator_photos_and_uploads() -> None:
    state = HuduState(api_key=KEY)
    a = state.add_article("Pictures")
    state.add_public_photo(a["id"], "diagram.png")
    state.add_upload(a["id"], "guide.pdf", size=2048)
    async with emulator_client(state) as hudu:
        got = await hudu.get_article(a["id"])
        files = (await hudu.uploads_by_article())[a["id"]]
    assert got is not None and got.public_photos[0].file_name == "diagram.png"
    assert got.public_photos[0].numeric_id == 1
    assert files[0].size == 2048 and files[0].is_pdf


async def test_emulator_rate_limit_waits_for_the_window() -> None:
    time = FakeTime(1_000_000.0)
    state = HuduState(api_key=KEY, clock=lambda: datetime.fromtimestamp(time.now, UTC))
    state.rate_limit = 2
    async with emulator_client(state, time) as hudu:
        for _ in range(3):
            await hudu.api_info()
    assert time.sleeps == [201.0]
    assert [e.status for e in state.log.entries] == [200, 200, 429, 200]


async def test_emulator_5xx_then_recovery() -> None:
    state = seeded()
    state.switches.fail_next = 2
    async with emulator_client(state) as hudu:
        assert len(await hudu.list_companies()) == 1
    assert [e.status for e in state.log.entries] == [503, 503, 200]


async def test_emulator_html_instead_of_json() -> None:
    state = seeded()
    state.html_instead_of_json = True
    async with emulator_client(state) as hudu:
        with pytest.raises(MalformedResponseError) as caught:
            await hudu.list_articles()
    assert caught.value.hint == "the URL points at a web page, not the API: check HUDU_BASE_URL"
    assert "HTML" in str(caught.value)


async def test_emulator_wrong_key() -> None:
    state = seeded()
    client = emulator_client(state)
    client._api_key = "wrong-key-but-still-secret"
    async with client as hudu:
        with pytest.raises(HuduAuthError) as caught:
            await hudu.list_articles()
    assert caught.value.status == 401
    assert "Invalid API key" in str(caught.value)
    assert "wrong-key" not in json.dumps(vars(caught.value))


async def test_companies_carry_their_halo_integration() -> None:
    state = HuduState(api_key="key")
    acme = state.add_company("Acme")["id"]
    state.add_integration(acme, "halo", 42, "42")
    state.add_integration(acme, "cw_manage", 7)

    async with emulator_client(state) as client:
        (company,) = await client.list_companies()

    assert [(i.integrator_name, i.sync_id, i.identifier) for i in company.integrations] == [
        ("halo", 42, "42"),
        ("cw_manage", 7, ""),
    ]


def test_odd_integration_records_do_not_stop_a_pass() -> None:
    company = parse_company(
        {
            "id": 1,
            "name": "Acme",
            "integrations": [
                {"integrator_name": "halo", "sync_id": "17"},
                {"integrator_name": "halo", "sync_id": None, "identifier": "23"},
                {"integrator_name": "halo", "sync_id": True},
                "not an object",
            ],
        }
    )
    assert [(i.sync_id, i.identifier) for i in company.integrations] == [
        (17, ""),
        (None, "23"),
        (None, ""),
    ]
