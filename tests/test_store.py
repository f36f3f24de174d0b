"""The mapping store: one write per batch, atomic and crash-safe, one owner, honest errors."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.errors import StoreError, StoreLockedError
from core.models import ArticleRecord, SkippedFile, Status
from core.store import MAX_RUNS, SCHEMA_VERSION, AtomicJSONStorage, MappingStore

REPO = Path(__file__).resolve().parents[1]


def record(hudu_id: int, **changes: object) -> ArticleRecord:
    values: dict[str, object] = {
        "hudu_id": hudu_id,
        "title": f"Article {hudu_id} – ünïcode ✓",
        "scope": "Central KB" if hudu_id % 3 else "Acme Corp",
        "company_id": None if hudu_id % 3 else 7,
        "status": Status.SYNCED,
        "halo_id": 10_000 + hudu_id,
        "faqlist_id": 5,
        "content_hash": f"{hudu_id:064x}",
        "hudu_updated_at": "2024-05-01T10:00:00Z",
        "skipped_files": [SkippedFile(upload_id=hudu_id, filename="big.iso", size=1, reason="r")],
        "attachments": ["a.pdf"],
    }
    values.update(changes)
    return ArticleRecord(**values)  # type: ignore[arg-type]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "hhsync.json"


def child(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# ---------------------------------------------------------------- batching and round trips
def test_a_5000_record_batch_is_one_file_write_and_reloads_equal(db_path: Path) -> None:
    records = [record(i) for i in range(1, 5001)]
    with MappingStore(db_path) as store:
        before = store.write_count
        store.commit_batch(records, meta={"cursor": "2024-05-01T10:00:00Z"}, faqlists={"a": 1})
        assert store.write_count - before == 1

    reloaded = MappingStore.read_only(db_path)
    assert reloaded.records() == {r.hudu_id: r for r in records}
    assert reloaded.meta("cursor") == "2024-05-01T10:00:00Z"
    assert reloaded.meta("schema_version") == SCHEMA_VERSION
    assert reloaded.faqlists() == {"a": 1}


def test_each_write_method_is_one_write_and_empty_commits_write_nothing(db_path: Path) -> None:
    with MappingStore(db_path) as store:
        store.commit_batch([record(1), record(2)])
        count = store.write_count
        store.commit_batch([])
        store.remove_records([999])
        assert store.write_count == count
        store.remove_records([1, 999])
        store.add_run({"created": 1})
        store.set_meta(cursor="c", pass_count=3)
        store.commit_batch([], faqlists={"hudu:central": 4})
        assert store.write_count == count + 4
        assert set(store.records()) == {2}


def test_updates_replace_rows_and_queries_return_copies(db_path: Path) -> None:
    with MappingStore(db_path) as store:
        store.commit_batch([record(1), record(2)])
        copy = store.get(1)
        assert copy is not None
        copy.title = "changed locally"
        copy.skipped_files.clear()
        assert store.get(1) == record(1)

        store.commit_batch([record(1, status=Status.FAILED, error="boom", http_status=500)])
        got = store.get(1)
        assert got is not None and got.status is Status.FAILED and got.http_status == 500
        assert store.get(3) is None
        store.commit_batch([], faqlists={"hudu:central": 4, "hudu:company:7": 5})
        store.commit_batch([], faqlists={"hudu:central": 6})
        assert store.faqlists() == {"hudu:central": 6, "hudu:company:7": 5}


def test_runs_keep_the_last_hundred_oldest_first(db_path: Path) -> None:
    with MappingStore(db_path) as store:
        for n in range(MAX_RUNS + 20):
            store.add_run({"n": n})
        runs = store.runs()
    assert [r["n"] for r in runs] == list(range(20, MAX_RUNS + 20))
    assert [r["n"] for r in MappingStore.read_only(db_path).runs()] == [r["n"] for r in runs]


def test_a_record_with_a_wrong_type_is_refused_before_anything_changes(db_path: Path) -> None:
    with MappingStore(db_path) as store:
        store.commit_batch([record(1)])
        count = store.write_count
        with pytest.raises(TypeError, match="halo_id"):
            store.commit_batch([record(2), record(3, halo_id="12")])
        with pytest.raises(TypeError):
            store.set_meta(when=object())
        assert store.write_count == count
        assert set(store.records()) == {1}


def test_unknown_keys_are_tolerated_and_missing_keys_take_defaults(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_text(
        json.dumps(
            {
                "articles": {
                    "1": {**json.loads(json.dumps({"hudu_id": 1, "title": "T"})), "future": [1]},
                    "2": {"title": "no id, no status", "skipped_files": [{"upload_id": 3}]},
                },
                "meta": {"1": {"schema_version": SCHEMA_VERSION, "new_thing": True}},
                "extra_table": {"1": {"x": 1}},
            }
        )
    )
    with MappingStore(db_path) as store:
        one, two = store.get(1), store.get(2)
        assert one is not None and one.title == "T" and one.status is Status.PENDING
        assert two is not None and two.hudu_id == 2 and two.halo_id is None
        assert two.skipped_files == [SkippedFile(upload_id=3, filename="", size=0, reason="")]
        store.commit_batch([record(1)])
    saved = json.loads(db_path.read_text())
    assert saved["articles"]["1"]["future"] == [1]
    assert saved["extra_table"] == {"1": {"x": 1}}


# ---------------------------------------------------------------- atomic writes
def test_writes_leave_no_temp_files_a_backup_and_private_modes(db_path: Path) -> None:
    with MappingStore(db_path) as store:
        for n in range(5):
            store.commit_batch([record(n + 1)])
    names = sorted(p.name for p in db_path.parent.iterdir())
    assert not [n for n in names if n.endswith(".tmp")]
    assert "hhsync.json.bak" in names
    assert "hhsync.json.pid" not in names
    assert db_path.stat().st_mode & 0o777 == 0o600
    assert json.loads((db_path.parent / "hhsync.json.bak").read_text())["articles"].keys() == {
        "1",
        "2",
        "3",
        "4",
    }


def test_the_folder_is_created_and_stale_temp_files_are_swept(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "hhsync.json"
    with MappingStore(path) as store:
        store.commit_batch([record(1)])
    stale = path.parent / ".hhsync.json.abc123.tmp"
    stale.write_text("half a file")
    with MappingStore(path):
        assert not stale.exists()


CRASH_CHILD = """
    import sys
    from core.models import ArticleRecord, Status
    from core.store import MappingStore

    store = MappingStore(sys.argv[1]).open()
    gen = store.meta("gen", 0)
    print("ready", flush=True)
    while True:
        gen += 1
        size = 200 + (gen * 7919) % 1500
        store.commit_batch(
            [
                ArticleRecord(hudu_id=i, title=f"gen {gen}", scope="s", company_id=None,
                              status=Status.SYNCED, content_hash="h" * 64)
                for i in range(1, size + 1)
            ],
            meta={"gen": gen},
        )
"""


@pytest.mark.slow
def test_sigkill_at_random_moments_never_leaves_an_unloadable_file(db_path: Path) -> None:
    rng = random.Random(1234)
    deadline = time.monotonic() + 20
    kills = 0
    while kills < 25 and time.monotonic() < deadline:
        proc = child(CRASH_CHILD, str(db_path))
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        time.sleep(rng.uniform(0.0, 0.08))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        kills += 1

        with MappingStore(db_path) as store:  # the OS dropped the dead child's lock
            gen = store.meta("gen", 0)
            records = store.records()
        if gen:
            size = 200 + (gen * 7919) % 1500
            current = sorted(i for i, r in records.items() if r.title == f"gen {gen}")
            assert current == list(range(1, size + 1)), "a batch was half written"
    assert kills >= 20


# ---------------------------------------------------------------- one owner
LOCK_HOLDER = """
    import sys
    from core.store import MappingStore

    with MappingStore(sys.argv[1]):
        print("locked", flush=True)
        sys.stdin.readline()
"""


def test_a_second_process_is_refused_with_the_holders_pid(db_path: Path) -> None:
    holder = child(LOCK_HOLDER, str(db_path))
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(StoreLockedError) as caught:
            MappingStore(db_path).open()
        assert time.monotonic() - started < 2
        assert caught.value.pid == holder.pid
        assert str(holder.pid) in str(caught.value) and str(db_path) in str(caught.value)
        assert MappingStore.read_only(db_path).records() == {}  # status still works
    finally:
        holder.communicate("\n", timeout=10)
    with MappingStore(db_path) as store:  # released on exit
        assert store.is_open


def test_a_second_store_in_the_same_process_is_refused_too(db_path: Path) -> None:
    with MappingStore(db_path), pytest.raises(StoreLockedError) as caught:
        MappingStore(db_path).open()
    assert caught.value.pid == os.getpid()


def test_a_snapshot_cannot_write(db_path: Path) -> None:
    with MappingStore(db_path) as store:
        store.commit_batch([record(1)])
    snapshot = MappingStore.read_only(db_path)
    with pytest.raises(StoreError, match="read-only"):
        snapshot.commit_batch([record(2)])
    assert MappingStore.read_only(db_path.parent / "missing.json").records() == {}


# ---------------------------------------------------------------- files it cannot load
@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"articles": {"1": {"title": "x",\n\n', "not readable JSON (line 3"),
        (b"\xff\xfe garbage", "not UTF-8"),
        (b"[1, 2, 3]", "does not hold a TinyDB database"),
        (b'{"articles": {"1": {"hudu_id": 1, "halo_id": "12"}}}', "halo_id"),
        (b'{"articles": {"1": {"hudu_id": 1, "status": "weird"}}}', "status"),
        (b'{"articles": {"x": {}}}', "malformed row"),
        (b'{"articles": []}', "not an object"),
        (b'{"meta": {"1": {"schema_version": "1"}}}', "schema_version"),
        (b'{"faqlists": {"1": {"third_party_id": 5}}}', "FAQ list"),
    ],
)
def test_a_file_that_fails_to_load_is_never_touched(
    db_path: Path, content: bytes, words: str
) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    with pytest.raises(StoreError) as caught:
        MappingStore(db_path).open()
    message = str(caught.value)
    assert words in message
    assert str(db_path) in message and "hhsync sync --full" in message
    assert "\n" not in message
    assert db_path.read_bytes() == content
    with pytest.raises(StoreError):
        MappingStore.read_only(db_path)
    with MappingStore(db_path.parent / "other.json"):  # the failed open released its lock
        pass
    with pytest.raises(StoreError):
        MappingStore(db_path).open()
    assert db_path.read_bytes() == content


def test_the_error_mentions_the_backup_when_there_is_one(db_path: Path) -> None:
    with MappingStore(db_path) as store:
        store.commit_batch([record(1)])
        store.commit_batch([record(2)])
    db_path.write_text("{oops")
    with pytest.raises(StoreError, match=r"hhsync\.json\.bak"):
        MappingStore(db_path).open()


def test_a_newer_schema_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    content = json.dumps({"meta": {"1": {"schema_version": SCHEMA_VERSION + 1}}}).encode()
    db_path.write_bytes(content)
    with pytest.raises(StoreError, match="newer hhsync") as caught:
        MappingStore(db_path).open()
    assert str(db_path) in str(caught.value)
    assert db_path.read_bytes() == content


def test_the_mapping_holds_no_article_bodies(db_path: Path) -> None:
    with MappingStore(db_path) as store:
        store.commit_batch([record(1)])
    row = json.loads(db_path.read_text())["articles"]["1"]
    assert not {"content", "body", "description", "description_html"} & row.keys()


def test_cached_row_serialisation_matches_plain_json(tmp_path: Path) -> None:
    storage = AtomicJSONStorage(tmp_path / "db.json", row_cache=("articles",))
    data = {
        "articles": {str(i): {"hudu_id": i, "title": f"é {i}"} for i in range(1, 50)},
        "meta": {"1": {"schema_version": 1}},
    }
    storage.write(data)
    data["articles"]["3"] = {"hudu_id": 3, "title": "replaced"}
    del data["articles"]["4"]
    storage.write(data)
    text = (tmp_path / "db.json").read_text()
    assert text == json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    assert storage.write_count == 2


def test_a_path_that_cannot_be_created_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot be opened"):
        MappingStore(blocker / "hhsync.json").open()


def test_opening_a_new_store_and_closing_it_writes_no_file(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "hhsync.json"

    with MappingStore(path):
        pass

    assert not path.exists()
    with MappingStore(path) as store:
        store.set_meta(cursor="2026-01-01T00:00:00+00:00")
    assert MappingStore.read_only(path).meta("schema_version") == 1
