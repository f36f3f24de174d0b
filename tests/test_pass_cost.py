"""What a pass costs when little or nothing changed (issue 10): requests, renders, and the
event loop it shares with the dashboard."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser

import core.halo
import core.halo_json
import core.records
import core.render
import core.slices
from core.emulators.halo import HaloState
from core.emulators.hudu import HuduState
from core.emulators.seed import SeedSummary
from core.engine import Engine
from core.models import ArticleRecord, Status
from core.plan import Write
from core.render import article_payload, render_article
from core.spool import BodySpool
from tests.conftest import halo_copies
from tests.test_render import article as hudu_article


class LoopTurns:
    """Counts the turns another task gets on the event loop while the block runs."""

    def __init__(self) -> None:
        self.count = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopTurns:
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _tick(self) -> None:
        while True:
            self.count += 1
            await asyncio.sleep(0)


class CountingCleaner:
    """Stands in for the sanitiser, counting the bodies it is given."""

    def __init__(self, cleaner: Any) -> None:
        self.cleaner = cleaner
        self.bodies = 0

    def clean(self, html: str) -> str:
        self.bodies += 1
        return str(self.cleaner.clean(html))


@pytest.fixture
def cleaner(monkeypatch: pytest.MonkeyPatch) -> CountingCleaner:
    counting = CountingCleaner(core.render._CLEANER)
    monkeypatch.setattr(core.render, "_CLEANER", counting)
    return counting


async def test_an_incremental_pass_with_nothing_new_asks_only_for_what_changed(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    """Two requests however many companies Hudu has: articles and companies changed since the
    cursor (a renamed company renames its list, core.folders)."""
    now = hudu.clock
    hudu.clock = lambda: now() - timedelta(hours=1)
    for number in range(250):  # three pages of companies, added before the last pass's cursor
        hudu.add_company(f"Prospect {number}")
    hudu.clock = now
    await engine.sync_now()
    hudu.log.clear()
    halo.log.clear()

    summary = await engine.sync_now()

    assert not summary.full
    assert [(r.method, r.path) for r in hudu.log.entries] == [
        ("GET", "/api/v1/articles"),
        ("GET", "/api/v1/companies"),
    ]
    assert all(r.query["updated_at"].endswith(",") for r in hudu.log.entries)
    assert halo.log.entries == []
    assert engine.counts()["synced"] + engine.counts()["skipped"] == len(engine.records())


async def test_an_incremental_pass_after_an_edit_reads_what_the_edit_needs(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    target = seeded.published_ids[0]
    hudu.update_article(target, content="<p>Edited once more</p>")
    hudu.log.clear()

    summary = await engine.sync_now()

    assert summary.updated == 1
    paths = {r.path for r in hudu.log.entries}
    assert {"/api/v1/articles", "/api/v1/companies", "/api/v1/uploads"} <= paths
    (copy,) = halo_copies(halo, target)
    assert "Edited once more" in copy["description_html"]


async def test_a_full_pass_with_nothing_changed_renders_nothing(
    engine: Engine, halo: HaloState, seeded: SeedSummary, cleaner: CountingCleaner
) -> None:
    await engine.sync_now()
    assert cleaner.bodies >= len(seeded.published_ids)
    writes = len(halo.log.writes())
    cleaner.bodies = 0

    summary = await engine.sync_now(full=True)

    assert summary.full and summary.unchanged >= len(seeded.published_ids) - 1
    assert cleaner.bodies == 0
    assert len(halo.log.writes()) == writes


async def test_an_article_whose_file_changed_is_rendered_and_sent_again(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary, cleaner: CountingCleaner
) -> None:
    target = seeded.published_ids[1]
    await engine.sync_now()
    hudu.add_upload(target, "wiring-diagram.pdf", data=b"%PDF-1.4 diagram")  # no updated_at bump
    cleaner.bodies = 0

    summary = await engine.sync_now(full=True)

    assert cleaner.bodies == 1
    assert summary.updated == 1
    (copy,) = halo_copies(halo, target)
    assert [a["filename"] for a in copy.get("attachments") or ()] == ["wiring-diagram.pdf"]


async def test_a_link_is_pointed_at_its_target_once_the_target_has_a_halo_copy(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    target = hudu.add_article("Printer reset", "<p>Hold the button.</p>", draft=True)
    linking = hudu.add_article(
        "Front desk", f'<p>See <a href="/kba/{target["slug"]}">the printer</a>.</p>'
    )
    await engine.sync_now()
    (before,) = halo_copies(halo, linking["id"])
    assert f"/kba/{target['slug']}" in before["description_html"]
    hudu.update_article(target["id"], draft=False)
    await engine.sync_now(full=True)  # the target gets its copy

    await engine.sync_now(full=True)  # nothing changed in Hudu: only the link's target did

    (target_copy,) = halo_copies(halo, target["id"])
    (after,) = halo_copies(halo, linking["id"])
    assert engine.halo_article_url(target_copy["id"]) in after["description_html"]


async def _during_planning(engine: Engine, action: Callable[[], Awaitable[None]]) -> int:
    """Run a pass whose planning gives the loop back after every article, running `action`
    once planning has begun and counting the turns other tasks had meanwhile."""
    engine.planner.slice_seconds = 0.0
    planning = asyncio.Event()
    turns = 0
    plan = engine.planner.plan

    async def watched_plan(*args: Any, **kwargs: Any) -> Any:
        nonlocal turns
        planning.set()
        before = ticks
        result = await plan(*args, **kwargs)
        turns = ticks - before
        return result

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        await planning.wait()
        await action()
        while True:
            ticks += 1
            await asyncio.sleep(0)

    engine.planner.plan = watched_plan  # type: ignore[method-assign]
    other = asyncio.create_task(ticker())
    try:
        await engine.sync_now(full=True)
    finally:
        other.cancel()
    return turns


async def test_planning_gives_the_event_loop_back(engine: Engine, seeded: SeedSummary) -> None:
    async def nothing() -> None:
        return None

    turns = await _during_planning(engine, nothing)

    assert turns >= seeded.articles - 2


async def test_an_article_unlinked_while_the_pass_plans_stays_unlinked_and_unsent(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    target = min(seeded.article_ids)  # planned first: unlinked after its row was planned
    assert target in seeded.published_ids
    await engine.sync_now()
    hudu.update_article(target, content="<p>Changed while the user unlinks it</p>")
    (copy,) = halo_copies(halo, target)

    async def unlink() -> None:
        await engine.unlink(target)

    await _during_planning(engine, unlink)

    row = engine.record(target)
    assert row is not None and row.unlinked and row.status is Status.SKIPPED
    (still,) = halo_copies(halo, target)
    assert "Changed while" not in still["description_html"]
    assert still["description_html"] == copy["description_html"]


async def test_planned_writes_keep_their_bodies_in_the_spool_not_in_memory(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    seen: list[Write] = []
    write = engine.writer.write

    async def watched(writes: list[Write], state: Any) -> None:
        seen.extend(writes)
        await write(writes, state)

    engine.writer.write = watched  # type: ignore[method-assign]
    await engine.sync_now()

    assert seen
    for planned in seen:
        assert planned.rendered.spooled_body is not None
        assert {planned.rendered.payload[f] for f in planned.rendered.body_fields} == {""}
        assert planned.article.content == "" or planned.waiting_links
    sample = seen[0].article.id
    (copy,) = halo_copies(halo, sample)
    body = LexborHTMLParser(hudu.articles[sample].content, is_fragment=True).text().strip()
    assert body[:40] in LexborHTMLParser(copy["description_html"]).text()


def test_a_spooled_article_is_sent_as_it_was_rendered() -> None:
    article = hudu_article("<p>SSID „Büro“</p>", id=5, name="Wi-Fi", slug="wifi", url="")
    rendered = render_article(article, hudu_base_url="https://hudu.example", faqlist_id=2)
    spool = BodySpool()
    try:
        spooled = rendered.spooled(spool)
        assert "Büro" not in json.dumps(spooled.payload, ensure_ascii=False)
        assert article_payload(spooled, halo_id=9) == article_payload(rendered, halo_id=9)
    finally:
        spool.close()


async def test_a_plan_is_taken_a_slice_at_a_time(
    engine: Engine, seeded: SeedSummary, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core.records, "PLAN_SLICE_SECONDS", 0.0)
    monkeypatch.setattr(core.records, "FIRST_PLAN_SLICE", 1)
    rows = [
        ArticleRecord(n, f"Article {n}", "Central KB", None, Status.PENDING, slug=f"a-{n}")
        for n in range(1000, 1010)
    ]
    planned = {r.hudu_id: r for r in rows}

    async with LoopTurns() as turns:
        before = turns.count
        await engine.book.take_plan(planned, list(planned), [], {"a-1000": 1000})

    assert turns.count - before >= 9  # no time to spare: a row a slice
    assert all(engine.book.get(n) is planned[n] for n in planned)
    assert engine.book.slugs["a-1000"] == 1000


async def test_a_plan_taken_in_time_to_spare_reaches_the_store_in_few_writes(
    engine: Engine, seeded: SeedSummary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each slice takes twice the rows of the last one at most, each slice one store write."""
    monkeypatch.setattr(core.records, "PLAN_SLICE_SECONDS", 60.0)
    rows = [
        ArticleRecord(n, f"Article {n}", "Central KB", None, Status.SKIPPED, reason="draft")
        for n in range(1000, 2000)
    ]
    planned = {r.hudu_id: r for r in rows}
    writes = engine.store.write_count

    await engine.book.take_plan(planned, list(planned), [], {})

    assert engine.store.write_count - writes == 4  # 100, 200, 400, then the last 300
    assert {n: r.reason for n, r in engine.store.records().items() if n >= 1000} == {
        n: "draft" for n in planned
    }


async def test_the_end_of_planning_and_taking_the_plan_are_apart_on_the_loop(
    engine: Engine, seeded: SeedSummary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 50,000 articles the last slice of planning, dropping what was read and the first
    slice of taking the plan ran as one 47 ms callback."""
    engine.planner.slice_seconds = 60.0
    monkeypatch.setattr(core.records, "PLAN_SLICE_SECONDS", 60.0)
    marks: list[int] = []
    plan_article, apply_plan = engine.planner._plan_article, engine.book.apply_plan

    def last_planned(*args: Any, **kwargs: Any) -> None:
        marks[:] = [turns.count]
        plan_article(*args, **kwargs)

    def taken(*args: Any, **kwargs: Any) -> None:
        marks.append(turns.count)
        apply_plan(*args, **kwargs)

    monkeypatch.setattr(engine.planner, "_plan_article", last_planned)
    monkeypatch.setattr(engine.book, "apply_plan", taken)
    async with LoopTurns() as turns:
        await engine.sync_now(full=True)

    assert marks[1] - marks[0] >= 2  # planning's end, then taking the plan's start


async def test_a_batch_is_encoded_as_httpx_would_and_gives_the_loop_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(core.slices, "SLICE_SECONDS", 0.0)
    items = [{"name": f"Über {n}", "description": "x" * 1000, "id": n} for n in range(5)]

    async with LoopTurns() as turns:
        encoded = await core.halo.encoded_in_slices(items)

    assert bytes(encoded) == httpx.Request("POST", "https://h", json=items).read()
    assert turns.count >= 4


async def test_a_batch_gives_the_loop_back_between_its_articles(
    engine: Engine, seeded: SeedSummary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 50,000 articles, a batch's 100 bodies read from the spool, and the 100 articles of
    Halo's answer parsed and hashed, each held the loop 40-60 ms at once."""
    monkeypatch.setattr(core.slices, "SLICE_SECONDS", 0.0)
    payloads: dict[object, list[int]] = {}
    answers: dict[object, list[int]] = {}
    payload, parse = engine.writer._payload, core.halo_json.parse_article_ref

    async def counted_payload(*args: Any) -> Any:
        payloads.setdefault(asyncio.current_task(), []).append(turns.count)
        return await payload(*args)

    def counted_parse(raw: Any) -> Any:
        answers.setdefault(asyncio.current_task(), []).append(turns.count)
        return parse(raw)

    monkeypatch.setattr(engine.writer, "_payload", counted_payload)
    monkeypatch.setattr(core.halo, "parse_article_ref", counted_parse)
    async with LoopTurns() as turns:
        await engine.sync_now(full=True)

    assert sum(map(len, payloads.values())) >= len(seeded.published_ids)
    for marks in (*payloads.values(), *answers.values()):  # each batch's task, article by article
        assert all(later > earlier for earlier, later in pairwise(marks))


async def test_what_planning_made_is_set_aside_from_full_collections(
    engine: Engine, seeded: SeedSummary
) -> None:
    """Until the scheduler collects after a full pass (tests/test_collector.py)."""
    engine.planner.slice_seconds = 0.0
    gc.unfreeze()
    await engine.sync_now(full=True)

    assert gc.get_freeze_count() > len(seeded.published_ids)  # planned rows and writes


def test_the_spool_lives_beside_the_mapping_file_unseen(tmp_path: Path) -> None:
    spool = BodySpool(tmp_path)
    try:
        kept = spool.put("<p>Zürich</p>")
        assert kept.text() == "<p>Zürich</p>"
        assert list(tmp_path.iterdir()) == []  # created unlinked: no name to find it by
    finally:
        spool.close()
    missing = BodySpool(tmp_path / "not yet made")  # a dry run before the first write
    missing.close()


def test_a_big_spool_is_let_go_by_another_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Freeing the file of a full pass over 50,000 articles (~2 GB) held the event loop ~1.8 s;
    a small spool is closed at once, where it is."""
    closed_on: list[str] = []
    for size, threshold in ((10, 1_000), (2_000, 1_000)):
        spool = BodySpool()
        monkeypatch.setattr(spool, "closed_by_a_thread", threshold)
        spool.put("x" * size)
        file = spool._file
        close = file.close

        def noted(close: Callable[[], None] = close) -> None:
            closed_on.append(threading.current_thread().name)
            close()

        monkeypatch.setattr(file, "close", noted)
        spool.close()
        for thread in threading.enumerate():
            if thread.name == "spool-close":
                thread.join(timeout=5)
        assert file.closed
    assert closed_on == [threading.main_thread().name, "spool-close"]
