"""The engine when Halo misbehaves in the ways that could duplicate, misfile or lose articles."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from core.build import build_engine
from core.emulators.halo import HaloState, create_halo_app
from core.emulators.hudu import HuduState, create_hudu_app
from core.emulators.seed import SeedSummary
from core.engine import Engine
from core.events import Event, PassProgressed
from core.models import Status
from tests.conftest import EngineFactory, make_settings, no_wait

Asgi = Callable[..., Any]


def active_copies(halo: HaloState) -> dict[str, int]:
    counts: dict[str, int] = {}
    for article in halo.articles.values():
        for tag in article["tag_string"].split(","):
            if tag.startswith("hudu-article-") and not article.get("inactive"):
                counts[tag] = counts.get(tag, 0) + 1
    return counts


def engine_on(tmp_path: Path, hudu: HuduState, halo_transport: httpx.AsyncBaseTransport) -> Engine:
    return build_engine(
        make_settings(tmp_path / "db.json"),
        hudu_transport=httpx.ASGITransport(app=create_hudu_app(hudu)),
        halo_transport=halo_transport,
        sleep=no_wait,
    )


def first_kb_post(app: Asgi, answer: Callable[[int, bytes], tuple[int, bytes]]) -> Asgi:
    """Let Halo apply the first KBArticle POST, then replace its answer with `answer(...)`."""
    seen = {"posts": 0}

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        is_post = scope["type"] == "http" and scope["method"] == "POST"
        if not (is_post and scope["path"].lower().endswith("/kbarticle")) or seen["posts"]:
            await app(scope, receive, send)
            return
        seen["posts"] += 1
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await app(scope, receive, capture)
        status, body = answer(start["status"], b"".join(chunks))
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped


async def test_commit_then_500_does_not_duplicate(
    tmp_path: Path, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    fault = {"ClassName": "System.Exception", "Message": "AI duplicate detection failed"}
    app = first_kb_post(create_halo_app(halo), lambda _s, _b: (500, json.dumps(fault).encode()))
    engine = engine_on(tmp_path, hudu, httpx.ASGITransport(app=app))
    await engine.open()

    summary = await engine.sync_now()
    await engine.close()

    assert summary.failed == 0
    assert set(active_copies(halo).values()) == {1}
    assert len(active_copies(halo)) == len(seeded.published_ids)


async def test_an_answer_that_does_not_match_the_request_is_settled_by_marker(
    tmp_path: Path, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    def first_object_only(status: int, body: bytes) -> tuple[int, bytes]:
        return status, json.dumps(json.loads(body)[0]).encode()

    app = first_kb_post(create_halo_app(halo), first_object_only)
    engine = engine_on(tmp_path, hudu, httpx.ASGITransport(app=app))
    await engine.open()

    await engine.sync_now()
    await engine.retry_failed()
    await engine.close()

    assert set(active_copies(halo).values()) == {1}
    assert len(active_copies(halo)) == len(seeded.published_ids)


class CommitsLate(httpx.AsyncBaseTransport):
    """The first KBArticle POST times out on the client; Halo holds it and applies it when the
    test says (`apply_held`), after the pass that sent it has ended."""

    def __init__(self, app: Asgi) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.held: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/KBArticle") and not self.held:
            content = await request.aread()
            self.held.append(
                httpx.Request(request.method, request.url, headers=request.headers, content=content)
            )
            raise httpx.ReadTimeout("timed out", request=request)
        return await self.inner.handle_async_request(request)

    async def apply_held(self) -> None:
        for request in self.held:
            await self.inner.handle_async_request(request)


async def test_a_write_halo_applies_after_the_timeout_is_tidied_next_pass(
    tmp_path: Path, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    transport = CommitsLate(create_halo_app(halo))
    engine = engine_on(tmp_path, hudu, transport)
    await engine.open()
    await engine.sync_now()
    await transport.apply_held()
    assert max(active_copies(halo).values()) == 2  # the late write made second copies

    await engine.sync_now()
    await engine.close()

    assert set(active_copies(halo).values()) == {1}
    assert len(active_copies(halo)) == len(seeded.published_ids)


class AppliesOnResend(httpx.AsyncBaseTransport):
    """Once armed, the next KBArticle POST times out on the client and Halo holds it; Halo
    applies it just before the next KBArticle POST (the resend), making a second copy."""

    def __init__(self, app: Asgi) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.armed = False
        self.held: httpx.Request | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/KBArticle"):
            if self.held is not None:
                held, self.held = self.held, None
                await self.inner.handle_async_request(held)
            elif self.armed:
                self.armed = False
                content = await request.aread()
                self.held = httpx.Request(
                    request.method, request.url, headers=request.headers, content=content
                )
                raise httpx.ReadTimeout("timed out", request=request)
        return await self.inner.handle_async_request(request)


async def test_a_second_copy_made_by_a_resync_is_tidied(
    tmp_path: Path, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    transport = AppliesOnResend(create_halo_app(halo))
    engine = engine_on(tmp_path, hudu, transport)
    await engine.open()
    await engine.sync_now()
    target = hudu.add_article("Written twice by Halo")["id"]

    transport.armed = True
    await engine.resync(target)
    await engine.sync_now()
    await engine.close()

    assert active_copies(halo)[f"hudu-article-{target}"] == 1
    assert set(active_copies(halo).values()) == {1}


async def test_only_the_rejected_article_fails_wherever_it_sits(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    bad = seeded.published_ids[0]
    halo.reject_article_names = {hudu.articles[bad].name: 500}
    engine = make_engine()
    await engine.open()

    await engine.sync_now()

    failed = [r.hudu_id for r in engine.records() if r.status is Status.FAILED]
    assert failed == [bad]


async def test_companies_with_the_same_name_get_a_list_each(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState
) -> None:
    first = hudu.add_company("Acme")["id"]
    second = hudu.add_company("ACME")["id"]
    hudu.add_article("One", company_id=first)
    hudu.add_article("Two", company_id=second)
    engine = make_engine()
    await engine.open()

    await engine.sync_now()

    lists = engine.store.faqlists()
    assert lists[f"hudu:company:{first}"] != lists[f"hudu:company:{second}"]


async def test_a_faq_list_deleted_in_halo_is_made_again(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    central = next(f for f in halo.faqlists.values() if f["third_party_id"] == "hudu:central")
    del halo.faqlists[central["id"]]

    summary = await engine.sync_now(full=True)

    assert summary.failed_total == 0
    remade = next(f for f in halo.faqlists.values() if f["third_party_id"] == "hudu:central")
    central_ids = [i for i in seeded.published_ids if hudu.articles[i].company_id is None]
    for hudu_id in central_ids:
        (copy,) = halo.articles_with_tag(f"hudu-article-{hudu_id}")
        assert [f["id"] for f in copy["faqlists"]] == [remade["id"]]


async def test_a_removal_halo_refuses_is_failed_and_retried(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    target = seeded.published_ids[0]
    hudu.update_article(target, archived=True)
    halo.ai_duplicate_detection = True  # the archive fallback POST is refused too

    await engine.sync_now()
    record = engine.record(target)
    assert record is not None and record.status is Status.FAILED
    assert record.reason.startswith("could not remove") and record.next_retry_at

    halo.ai_duplicate_detection = False
    await engine.retry_failed()
    record = engine.record(target)
    assert record is not None and record.status is Status.SKIPPED and record.removed


async def test_unlinking_while_a_pass_runs_keeps_the_halo_copy_as_it_is(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    target = seeded.published_ids[2]
    hudu.update_article(target, content="<p>edited while being unlinked</p>")
    halo.switches.latency = 0.02
    unlinking: list[asyncio.Task[Any]] = []

    def unlink_when_the_pass_starts(event: Event) -> None:
        if isinstance(event, PassProgressed) and not unlinking:
            unlinking.append(asyncio.get_running_loop().create_task(engine.unlink(target)))

    engine.subscribe(unlink_when_the_pass_starts)
    await engine.sync_now()
    await asyncio.gather(*unlinking)

    (copy,) = halo.articles_with_tag(f"hudu-article-{target}")
    assert "edited while being unlinked" not in copy["description_html"]
    record = engine.record(target)
    assert record is not None and record.unlinked and record.reason == "unlinked"


async def test_a_file_bigger_than_hudu_said_is_linked_not_sent(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState
) -> None:
    target = hudu.add_article("Big scan", "<p>see the file</p>")["id"]
    scan = b"%PDF-" + bytes(26 * 1024 * 1024)
    upload = hudu.add_upload(target, "scan.pdf", data=scan, mime="application/pdf")
    hudu.uploads[upload["id"]].size = 1000  # what the listing says; the download is 26 MB
    engine = make_engine()
    await engine.open()

    await engine.sync_now()

    (copy,) = halo.articles_with_tag(f"hudu-article-{target}")
    assert copy["attachments"] == []
    record = engine.record(target)
    assert record is not None and record.status is Status.SKIPPED
    assert record.skipped_files and "25 MB" in record.skipped_files[0].reason


async def test_a_deleted_faq_list_is_named_in_the_hint(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    central = next(f for f in halo.faqlists.values() if f["third_party_id"] == "hudu:central")
    del halo.faqlists[central["id"]]
    target = next(i for i in seeded.published_ids if hudu.articles[i].company_id is None)
    hudu.update_article(target, content="<p>edited after the list was deleted</p>")

    await engine.sync_now()
    record = engine.record(target)
    assert record is not None and record.status is Status.FAILED
    assert "deleted in Halo" in record.hint

    await engine.retry_failed()
    record = engine.record(target)
    assert record is not None and record.status is Status.SYNCED
