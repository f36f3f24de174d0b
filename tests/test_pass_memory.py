"""What a pass holds in memory (issue 10: peak RSS at 50,000 articles), counted, not timed."""

from __future__ import annotations

import gc
import sys
import threading
import tracemalloc
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from core import rowcodec
from core.emulators.halo import HaloState
from core.emulators.hudu import HuduState
from core.engine import Engine
from core.models import ArticleRecord, HaloArticleRef, HuduArticle, SkippedFile, Status
from core.plan import Write
from core.rowcodec import ARTICLE_ROWS
from core.store import MappingStore
from tests.conftest import EngineFactory

ARTICLES = 120
BATCH = 10


def live(*kinds: type) -> list[int]:
    """Instances of each of `kinds` alive now (planning freezes what it makes: counted too)."""
    gc.unfreeze()
    gc.collect()
    alive = Counter(map(type, gc.get_objects()))
    return [alive[kind] for kind in kinds]


def numbered(hudu: HuduState, count: int) -> list[int]:
    return [
        hudu.add_article(f"Procedure {n}", f"<p>Step {n}: restart the service.</p>", None)["id"]
        for n in range(count)
    ]


async def test_a_write_and_its_article_are_let_go_once_its_batch_is_answered(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState
) -> None:
    numbered(hudu, ARTICLES)
    engine: Engine = make_engine(hhsync_batch_size=BATCH)
    await engine.open()
    batches = 0
    held: list[list[int]] = []
    send = engine.halo.upsert_articles

    async def counted(payloads: Sequence[Mapping[str, Any]]) -> list[HaloArticleRef]:
        # Counted from the batch that is the last if all are full: a count walks every object
        # the worker holds (a second each under load, on each batch).
        nonlocal batches
        batches += 1
        if batches >= ARTICLES // BATCH:
            held.append(live(Write, HuduArticle))
        return await send(payloads)

    engine.halo.upsert_articles = counted  # type: ignore[method-assign]
    try:
        summary = await engine.sync_now()
    finally:
        gc.unfreeze()

    assert summary.created == ARTICLES
    assert batches >= ARTICLES // BATCH and held
    # Four batches in flight at most; the rest were sent and let go (all 120 were held, and
    # the articles read from Hudu besides).
    assert held[-1][0] <= 4 * BATCH
    assert held[-1][1] <= 4 * BATCH
    assert len(halo.articles) == ARTICLES


def test_the_store_holds_a_row_in_less_than_a_dict_of_it(tmp_path: Path) -> None:
    """The mapping of 50,000 articles was held three times (the book's rows, the store's
    dicts and their JSON): the store now keeps one tuple of values per row."""
    rows = [synced_row(n) for n in range(1, 2_001)]
    with MappingStore(tmp_path / "hhsync.json") as store:
        store.commit_batch(rows[:1])
        gc.collect()
        tracemalloc.start()
        try:
            store.commit_batch(rows[1:])
            held, _peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert store.get(2_000) == rows[-1]
    per_row = held / (len(rows) - 1)
    assert per_row < sys.getsizeof(ARTICLE_ROWS.encode(rows[0])) / 2
    assert MappingStore.read_only(tmp_path / "hhsync.json").records()[7] == rows[6]


def synced_row(n: int) -> ArticleRecord:
    return ArticleRecord(
        n,
        f"Procedure {n}",
        "Central KB",
        None,
        Status.SYNCED,
        hudu_url=f"https://hudu.example.com/kba/{n:012x}",
        slug=f"{n:012x}",
        halo_id=n + 100,
        content_hash=f"{n:064x}",
        last_synced_at="2026-01-01T00:00:00+00:00",
        halo_seen_hash=f"{n:032x}",
    )


async def test_the_mapping_file_is_loaded_off_the_event_loop(
    make_engine: EngineFactory, hudu: HuduState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50,000 rows took 3.4 s of CPU to load: the dashboard shares the loop (embedded)."""
    numbered(hudu, 30)
    first = make_engine()
    await first.open()
    await first.sync_now()
    await first.close()
    loaded_in: list[int] = []
    load = MappingStore._load

    def watched(store: MappingStore) -> None:
        loaded_in.append(threading.get_ident())
        load(store)

    monkeypatch.setattr(MappingStore, "_load", watched)
    again = make_engine()
    await again.open()

    assert loaded_in and threading.get_ident() not in loaded_in
    assert again.counts()["synced"] == len(again.records()) == 30


def test_loading_the_mapping_file_runs_no_garbage_collection(tmp_path: Path) -> None:
    """Each collection during a load walked every object the process held, for nothing: the
    rows a load makes are all kept."""
    path = tmp_path / "hhsync.json"
    with MappingStore(path) as store:
        store.commit_batch(synced_row(n) for n in range(1, 3_001))
    collections: list[int] = []

    def counted(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(counted)
    try:
        loaded = MappingStore.read_only(path).records()
    finally:
        gc.callbacks.remove(counted)

    assert len(loaded) == 3_000 and loaded[3_000] == synced_row(3_000)
    assert len(collections) <= 1 and 2 not in collections  # one of the young, on resuming
    assert gc.isenabled()


def test_a_row_is_encoded_without_a_call_per_plain_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each store write encodes its rows on the event loop (a batch's results: up to 1,000
    rows): 36 µs a row went to a conversion call for each of its 30 fields."""
    converted: list[object] = []
    to_json = rowcodec._to_json

    def counted(value: object) -> object:
        converted.append(value)
        return to_json(value)

    monkeypatch.setattr(rowcodec, "_to_json", counted)
    row = synced_row(7)
    with_file = synced_row(8)
    with_file.skipped_files = (SkippedFile(3, "big.pdf", 30_000_000, "over Halo's limit"),)

    encoded = ARTICLE_ROWS.encode(row)
    calls = len(converted)

    assert ARTICLE_ROWS.decode(encoded) == row
    assert encoded["status"] == "synced"
    assert calls <= 3  # the status and the two lists
    assert ARTICLE_ROWS.encode(with_file)["skipped_files"] == [
        {"upload_id": 3, "filename": "big.pdf", "size": 30_000_000, "reason": "over Halo's limit"}
    ]
    assert ARTICLE_ROWS.decode(ARTICLE_ROWS.encode(with_file)) == with_file


def test_a_row_is_decoded_without_a_check_call_per_plain_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every stored row is decoded (checked) once more before its write, and 50,000 at a load:
    each plain field (str, int, bool, None) cost a check call."""
    checked: list[str] = []
    for name, check in ARTICLE_ROWS.checks.items():

        def counted(value: Any, name: str = name, check: Any = check) -> Any:
            checked.append(name)
            return check(value)

        monkeypatch.setitem(ARTICLE_ROWS.checks, name, counted)
    row = ARTICLE_ROWS.encode(synced_row(7))

    assert ARTICLE_ROWS.decode(row) == synced_row(7)
    assert sorted(checked) == ["attachments", "skipped_files", "status"]
    for field, wrong in (("title", 7), ("halo_id", "12"), ("unlinked", 1), ("attempts", True)):
        with pytest.raises(rowcodec.BadRow, match=field):
            ARTICLE_ROWS.decode({**row, field: wrong})
