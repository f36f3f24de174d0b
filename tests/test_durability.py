"""The journal's fsyncs during a pass's writes run in a worker thread, not on the event loop, and
a create's intent is fsynced before its POST (core/durability.py)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.emulators.halo import HaloState
from core.emulators.seed import SeedSummary
from core.engine import Engine
from core.errors import StoreError
from core.models import ArticleRecord, Status
from core.store import MappingStore
from tests.conftest import halo_copies

Fsyncs = list[tuple[str, bool]]
"""(the file fsynced, on the main thread)"""


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Fsyncs]:
    seen: Fsyncs = []
    fsync = os.fsync

    def counted(fd: int) -> None:
        name = os.readlink(f"/proc/self/fd/{fd}")
        seen.append((Path(name).name, threading.current_thread() is threading.main_thread()))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", counted)
    yield seen


def row(hudu_id: int) -> ArticleRecord:
    return ArticleRecord(hudu_id, f"Article {hudu_id}", "Central KB", None, Status.PENDING)


def journal(fsyncs: Fsyncs) -> Fsyncs:
    return [(name, main) for name, main in fsyncs if name.endswith(".journal")]


def test_a_deferred_commit_is_written_at_once_and_fsynced_by_sync(
    tmp_path: Path, fsyncs: Fsyncs
) -> None:
    db = tmp_path / "hhsync.json"
    with MappingStore(db) as store:
        store.commit_batch([row(1)])  # a new file: its first commit is a snapshot
        store.commit_batch([row(1)])
        assert journal(fsyncs) == [("hhsync.json.journal", True)]
        store.defer_fsync = True
        store.commit_batch([row(2)])
        store.commit_batch([row(3)])
        assert len(journal(fsyncs)) == 1
        with MappingStore.read_only(db) as reader:  # written: a killed process loses nothing
            assert set(reader.records()) == {1, 2, 3}
        worker = threading.Thread(target=store.sync)
        worker.start()
        worker.join()
        store.sync()  # nothing new: no second fsync
        assert journal(fsyncs) == [("hhsync.json.journal", True), ("hhsync.json.journal", False)]
        store.commit_batch([row(4)])
    assert len(journal(fsyncs)) == 3  # closed with a line not yet fsynced: fsynced first
    with MappingStore(db) as store:
        assert set(store.records()) == {1, 2, 3, 4}


def test_a_failed_fsync_is_an_error_and_the_next_commit_rewrites_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "hhsync.json"
    with MappingStore(db) as store:
        store.commit_batch([row(1)])
        store.defer_fsync = True
        store.commit_batch([row(2)])
        fsync = os.fsync

        def failing(fd: int) -> None:
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(os, "fsync", failing)
        with pytest.raises(StoreError, match="Input/output error"):
            store.sync()
        monkeypatch.setattr(os, "fsync", fsync)
        snapshots = store.snapshot_count
        store.commit_batch([row(3)])
        assert store.snapshot_count == snapshots + 1  # the journal is not trusted: a snapshot
    with MappingStore(db) as store:
        assert set(store.records()) == {1, 2, 3}


async def test_a_pass_fsyncs_its_writes_off_the_event_loop_and_each_intent_before_its_post(
    engine: Engine,
    seeded: SeedSummary,
    halo: HaloState,
    fsyncs: Fsyncs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = engine.store
    intents: dict[object, int] = {}
    synced = [0]
    """How many journal lines are fsynced: those written when the last fsync began."""
    counted, mark_intents, upsert = os.fsync, engine.book.mark_intents, engine.halo.upsert_articles

    def fsync(fd: int) -> None:
        lines = store._journal.write_count
        counted(fd)
        synced[0] = max(synced[0], lines)

    def marked(hudu_ids: Any) -> None:
        mark_intents(hudu_ids)
        intents[asyncio.current_task()] = store._journal.write_count

    async def posted(payloads: Any) -> Any:
        assert synced[0] >= intents.pop(asyncio.current_task())  # this batch's intents
        return await upsert(payloads)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(engine.book, "mark_intents", marked)
    monkeypatch.setattr(engine.halo, "upsert_articles", posted)
    engine.writer.batch_size = 2
    before = len(journal(fsyncs))

    await engine.sync_now(full=True)

    assert all(len(halo_copies(halo, i)) == 1 for i in seeded.published_ids)
    assert not intents  # every batch was posted
    during = journal(fsyncs)[before:]
    assert len(during) >= 3

    assert [main for _name, main in during].count(True) <= 3  # a few a pass, none a batch
