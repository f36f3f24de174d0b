"""Adaptive batches (packed by bytes and by a count that follows Halo's answers) and the one
store write per batch that carries them."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import Any

import httpx

from core.batching import (
    INITIAL_BATCH,
    META_KEY,
    PROMPT_SECONDS,
    WAITING_AHEAD,
    BatchSizer,
    write_weight,
)
from core.build import build_engine
from core.emulators.halo import HaloState, create_halo_app
from core.emulators.hudu import HuduState, create_hudu_app
from core.engine import Engine
from core.halo_json import encoded_item
from core.models import Status
from core.plan import MAX_BATCH_JSON_BYTES, Write
from core.render import RenderedArticle, article_payload, render_article
from core.store import MappingStore
from tests.conftest import make_settings, no_wait
from tests.test_engine_failures import active_copies
from tests.test_render import article as hudu_article

KB_PATH = "/api/KBArticle"


def fake_write(n: int, body_bytes: int = 100) -> Write:
    rendered = RenderedArticle.__new__(RenderedArticle)
    object.__setattr__(rendered, "payload", {"name": f"A{n}", "description": "x" * body_bytes})
    object.__setattr__(rendered, "files_to_attach", ())
    object.__setattr__(rendered, "json_bytes", 0)
    return Write(article=None, rendered=rendered, action="create")  # type: ignore[arg-type]


def test_a_rendered_article_weighs_what_its_json_weighs_on_the_wire() -> None:
    content = "<p>Schlüssel: „grün“ " + "x" * 5_000 + "</p>"
    article = hudu_article(content, id=7, name="Zürich office — Wi-Fi", slug="zurich", url="")
    rendered = render_article(article, hudu_base_url="https://hudu.example", faqlist_id=3)
    sent = encoded_item(article_payload(rendered, halo_id=None))
    weight = write_weight(Write(article, rendered, "create"))

    assert abs(weight - len(sent.encode())) <= 80  # the hash's manifest and sorting aside


# ---------------------------------------------------------------- the sizer alone
def test_the_count_doubles_while_answers_are_prompt_then_grows_by_a_quarter() -> None:
    sizer = BatchSizer(1_000)
    assert sizer.size == INITIAL_BATCH
    queue = deque(fake_write(n) for n in range(10_000))
    batch = sizer.take(queue)
    assert len(batch) == INITIAL_BATCH
    sizer.answered(batch, 1.0)
    assert sizer.size == 100
    sizer.answered(sizer.take(queue), 1.0)
    assert sizer.size == 200
    sizer.overloaded(200)
    assert sizer.size == 100 and sizer.remembered() == 100
    sizer.answered(sizer.take(queue), 1.0)
    assert sizer.size == 125  # past the first overload, a quarter at a time


def test_never_above_the_ceiling_and_a_slow_or_partial_answer_does_not_grow() -> None:
    sizer = BatchSizer(80)
    queue = deque(fake_write(n) for n in range(1_000))
    sizer.answered(sizer.take(queue), 1.0)
    assert sizer.size == 80
    sizer.answered(sizer.take(queue), PROMPT_SECONDS + 1)
    assert sizer.size == 80
    small = BatchSizer(1_000)
    small.answered([fake_write(1)], 0.1)  # the last, partial batch says nothing about more
    assert small.size == INITIAL_BATCH and small.remembered() == 1


def test_batches_hold_at_most_4_mb_and_a_larger_write_goes_alone() -> None:
    sizer = BatchSizer(1_000, remembered=1_000)
    queue = deque(
        [fake_write(1, MAX_BATCH_JSON_BYTES + 10)] + [fake_write(n, 40_000) for n in range(300)]
    )
    assert len(sizer.take(queue)) == 1
    batch = sizer.take(queue)
    assert sum(len(json.dumps(w.rendered.payload)) for w in batch) <= MAX_BATCH_JSON_BYTES
    assert 90 <= len(batch) < 300
    assert sizer.full(batch)


def test_a_write_too_big_for_the_room_left_waits_while_smaller_ones_fill_it() -> None:
    sizer = BatchSizer(1_000, remembered=1_000)
    big = fake_write(0, MAX_BATCH_JSON_BYTES * 6 // 10)
    small = [fake_write(n, 100_000) for n in range(1, 40)]
    queue = deque([*small[:20], big, *small[20:], fake_write(99, MAX_BATCH_JSON_BYTES // 3)])

    batch = sizer.take(queue)

    assert [w.rendered.payload["name"] for w in batch] == [f"A{n}" for n in range(1, 40)]
    assert list(queue) == [big, queue[1]] and queue[1].rendered.payload["name"] == "A99"
    assert sum(len(json.dumps(w.rendered.payload)) for w in batch) <= MAX_BATCH_JSON_BYTES


def test_writes_whose_files_are_not_here_stay_at_the_front_while_ready_ones_go() -> None:
    sizer = BatchSizer(1_000, remembered=10)
    queue = deque(fake_write(n) for n in range(30))
    waiting = {0, 1, 5}

    batch = sizer.take(queue, ready=lambda w: int(w.rendered.payload["name"][1:]) not in waiting)

    assert [w.rendered.payload["name"] for w in batch] == [
        f"A{n}" for n in (2, 3, 4, *range(6, 13))
    ]
    assert [w.rendered.payload["name"] for w in queue][:4] == ["A0", "A1", "A5", "A13"]
    assert sizer.take(deque([fake_write(1)]), ready=lambda w: False) == []


def test_a_batch_passes_over_at_most_so_many_writes_waiting_for_files() -> None:
    sizer = BatchSizer(1_000, remembered=10)
    queue = deque(fake_write(n) for n in range(WAITING_AHEAD + 20))

    batch = sizer.take(queue, ready=lambda w: int(w.rendered.payload["name"][1:]) >= WAITING_AHEAD)

    assert batch == [] and len(queue) == WAITING_AHEAD + 20
    assert queue[0].rendered.payload["name"] == "A0"


def test_the_remembered_size_is_the_start_within_the_ceiling() -> None:
    assert BatchSizer(100, remembered=400).size == 100
    assert BatchSizer(100, remembered=7).size == 7
    assert BatchSizer(100, remembered=None).size == INITIAL_BATCH
    assert BatchSizer(10).size == 10


# ---------------------------------------------------------------- in the engine
def seed_articles(hudu: HuduState, count: int) -> list[int]:
    return [
        hudu.add_article(f"Article {n}", f"<p>Body of article {n}.</p>" * 20)["id"]
        for n in range(count)
    ]


def engine_with(tmp_path: Path, hudu: HuduState, halo_app: Any, batch: int = 100) -> Engine:
    return build_engine(
        make_settings(tmp_path / "db.json", hhsync_batch_size=batch),
        hudu_transport=httpx.ASGITransport(app=create_hudu_app(hudu)),
        halo_transport=httpx.ASGITransport(app=halo_app),
        sleep=no_wait,
    )


def kb_posts(halo: HaloState) -> list[int]:
    return [r.status for r in halo.log.entries if r.method == "POST" and r.path == KB_PATH]


async def test_batches_grow_to_the_ceiling_and_the_size_that_worked_is_remembered(
    tmp_path: Path, hudu: HuduState, halo: HaloState
) -> None:
    ids = seed_articles(hudu, 600)
    engine = engine_with(tmp_path, hudu, create_halo_app(halo), batch=100)
    await engine.open()
    await engine.sync_now()
    await engine.close()
    # Four batches of 50 in flight, then 100 a batch: fewer requests than 50 a batch.
    assert len(kb_posts(halo)) < 600 // INITIAL_BATCH
    assert MappingStore.read_only(tmp_path / "db.json").meta(META_KEY) == 100

    for hudu_id in ids:
        hudu.update_article(hudu_id, content="<p>edited</p>")
    halo.log.clear()
    engine = engine_with(tmp_path, hudu, create_halo_app(halo), batch=100)
    await engine.open()
    await engine.sync_now()
    await engine.close()
    # The next pass starts at the size that worked (the last 200 shared among four batches).
    assert len(kb_posts(halo)) <= 9 < 600 // INITIAL_BATCH


def refuse_bodies_over(app: Any, limit: int, refused: list[int]) -> Any:
    """Halo's host refusing request bodies over `limit` bytes with 413 (as IIS and Kestrel do);
    the sizes refused go to `refused`."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        length = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if scope["type"] == "http" and int(length) > limit:
            refused.append(int(length))
            await send({"type": "http.response.start", "status": 413, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)

    return wrapped


async def test_a_413_halves_the_batch_and_every_article_still_syncs(
    tmp_path: Path, hudu: HuduState, halo: HaloState
) -> None:
    ids = seed_articles(hudu, 400)
    refused: list[int] = []
    app = refuse_bodies_over(create_halo_app(halo), 40_000, refused)
    engine = engine_with(tmp_path, hudu, app, batch=100)
    await engine.open()
    summary = await engine.sync_now()
    remembered = engine.store.meta(META_KEY)
    await engine.close()

    assert summary.failed == 0 and summary.created == 400
    assert len(active_copies(halo)) == len(ids) and set(active_copies(halo).values()) == {1}
    assert refused
    assert remembered is not None and remembered < INITIAL_BATCH


async def test_a_timeout_halves_the_next_batches(
    tmp_path: Path, hudu: HuduState, halo: HaloState
) -> None:
    seed_articles(hudu, 200)
    inner = create_halo_app(halo)
    seen = {"posts": 0}

    async def times_out_once(scope: Any, receive: Any, send: Any) -> None:
        is_post = scope["type"] == "http" and scope["method"] == "POST"
        if is_post and scope["path"] == KB_PATH:
            seen["posts"] += 1
            if seen["posts"] == 1:
                raise httpx.ReadTimeout("timed out")
        await inner(scope, receive, send)

    engine = engine_with(tmp_path, hudu, times_out_once, batch=100)
    await engine.open()
    summary = await engine.sync_now()
    size = engine.writer.sizer.size
    await engine.close()
    assert summary.failed == 0
    assert set(active_copies(halo).values()) == {1} and len(active_copies(halo)) == 200
    assert size < 100


async def test_one_store_write_per_batch_and_each_intent_on_disk_before_its_create(
    tmp_path: Path, hudu: HuduState, halo: HaloState
) -> None:
    """The results of a batch go to the file with the intents of the next one: a pass of N
    creates in B batches costs about B writes, not 2 B; and whenever Halo receives a create,
    the mapping file on disk already marks it (what crash recovery relies on)."""
    seed_articles(hudu, 300)
    inner = create_halo_app(halo)
    db = tmp_path / "db.json"
    unmarked: list[str] = []

    async def checks_intents(scope: Any, receive: Any, send: Any) -> None:
        is_post = scope["type"] == "http" and scope["method"] == "POST"
        if not (is_post and scope["path"] == KB_PATH):
            await inner(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        on_disk = MappingStore.read_only(db).records()
        for article in json.loads(body):
            if "id" in article:
                continue
            hudu_id = int(article["tag_string"].split("hudu-article-")[1].split(",")[0])
            row = on_disk.get(hudu_id)
            if row is None or row.intent != "create":
                unmarked.append(article["name"])
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await inner(scope, replay, send)

    engine = engine_with(tmp_path, hudu, checks_intents, batch=50)
    await engine.open()
    before = engine.store.write_count
    summary = await engine.sync_now()
    writes = engine.store.write_count - before
    await engine.close()

    assert summary.created == 300 and not unmarked
    batches = len(kb_posts(halo))
    assert batches == 6
    assert writes <= batches + 6  # the lists, the last results, the cursor, the run
    rows = MappingStore.read_only(db).records()
    assert all(r.status is Status.SYNCED and not r.intent for r in rows.values())
