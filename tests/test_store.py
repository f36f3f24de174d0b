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
from typing import Any

import pytest

from core.errors import StoreError, StoreLockedError
from core.models import ArticleRecord, SkippedFile, Status
from core.storage import AtomicJSONStorage
from core.store import MappingStore
from core.tables import MAX_RUNS, SCHEMA_VERSION
from tests.forked_child import ForkedChild

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
        "skipped_files": (SkippedFile(upload_id=hudu_id, filename="big.iso", size=1, reason="r"),),
        "attachments": ("a.pdf",),
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
        copy.skipped_files = ()
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
        assert two.skipped_files == (SkippedFile(upload_id=3, filename="", size=0, reason=""),)
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
    assert "hhsync.json.journal" not in names  # closing folds the journal into the file
    # The backup is the snapshot before the last one: the first write's (a new file is
    # written whole), the next four having gone to the journal until close.
    assert json.loads((db_path.parent / "hhsync.json.bak").read_text())["articles"].keys() == {"1"}
    assert json.loads(db_path.read_text())["articles"].keys() == {"1", "2", "3", "4", "5"}


def test_the_folder_is_created_and_stale_temp_files_are_swept(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "hhsync.json"
    with MappingStore(path) as store:
        store.commit_batch([record(1)])
    stale = path.parent / ".hhsync.json.abc123.tmp"
    stale.write_text("half a file")
    with MappingStore(path):
        assert not stale.exists()


CRASH_CHILD = """
    import os, stat, sys
    from core.models import ArticleRecord, Status
    from core.store import MappingStore

    path, pause_at, rows, compact_from = sys.argv[1], *map(int, sys.argv[2:5])
    background = compact_from > 0
    store = MappingStore(
        path, compact_from_bytes=abs(compact_from), compact_in_background=background
    ).open()
    gen = store.meta("gen", 0)
    journal = path + ".journal"
    steps = 0

    def step(name):
        # With pause_at > 0, announce the pause_at-th step of a file write and wait there for
        # the parent's SIGKILL (stdin is never written to).
        global steps
        steps += 1
        if steps == pause_at:
            print("paused", name, flush=True)
            sys.stdin.readline()
            raise SystemExit("not killed")

    def spy(name, real):
        def call(*args, **kwargs):
            step(name(*args))
            return real(*args, **kwargs)
        return call

    def fsync_name(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            new = os.path.exists(journal) and os.path.getsize(journal) == 0
            return "fsync-new-journal" if new else "fsync-folder"
        target = os.readlink(f"/proc/self/fd/{fd}")
        return "fsync-journal" if target.endswith(".journal") else "fsync-temp"

    class HalfWritten:
        # The temp file's handle: each chunk goes out in two halves with a step in between.
        def __init__(self, handle):
            self.handle = handle
        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            step("write-temp")
            return self.handle.write(data[len(data) // 2 :])
        def __getattr__(self, name):
            return getattr(self.handle, name)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return self.handle.__exit__(*exc)

    if pause_at:
        fdopen, write = os.fdopen, os.write
        os.fdopen = lambda *args, **kwargs: HalfWritten(fdopen(*args, **kwargs))

        def half_write(fd, data):
            # A journal line: half of it reaches the file, then the step.
            half = len(data) // 2
            write(fd, data[:half])
            step("write-journal")
            return half + write(fd, data[half:])

        os.write = half_write
        os.fsync = spy(fsync_name, os.fsync)
        os.link = spy(lambda src, dst: "link-backup", os.link)
        os.replace = spy(
            lambda src, dst: "replace-backup" if str(dst).endswith(".bak")
            else "rotate-journal" if str(src).endswith(".journal") else "replace-file",
            os.replace,
        )
        os.unlink = spy(
            lambda path, *a, **k: "remove-journal" if ".journal" in str(path) else "remove-link",
            os.unlink,
        )
    print("ready", gen, flush=True)
    while True:
        gen += 1
        size = rows // 8 + (gen * 7919) % rows  # batches of varying sizes
        store.commit_batch(
            [
                ArticleRecord(hudu_id=i, title=f"gen {gen}", scope="s", company_id=None,
                              status=Status.SYNCED, content_hash="h" * 64)
                for i in range(1, size + 1)
            ],
            meta={"gen": gen, "size": size},
        )
        print("committed", gen, flush=True)
"""
BEFORE_LINE = {"fsync-new-journal", "write-journal"}
"""Steps before the journal line of the commit in progress is whole: the file holds the last
commit reported."""
AFTER_LINE = {"fsync-journal", "rotate-journal", "fsync-folder"} | {
    "write-temp",
    "fsync-temp",
    "link-backup",
    "replace-backup",
    "replace-file",
    "remove-link",
    "remove-journal",
}
"""Steps once the line is whole (its fsync, then a compaction): the commit in progress is kept."""


def saved_generation(db_path: Path) -> int:
    """The generation in the file, after checking its whole batch is there (the OS dropped the
    killed child's lock; opening also sweeps its temp files and folds its journal)."""
    with MappingStore(db_path) as store:
        gen: int = store.meta("gen", 0)
        size: int = store.meta("size", 0)
        records = store.records()
    assert not list(db_path.parent.glob("*.tmp"))
    assert not list(db_path.parent.glob("*.journal*"))
    if gen:
        current = sorted(i for i, r in records.items() if r.title == f"gen {gen}")
        assert current == list(range(1, size + 1)), "a batch was half written"
    return gen


def kill_child(
    db_path: Path,
    pause_at: int = 0,
    commits: int = 0,
    rows: int = 1500,
    compact_from: int = -1,
) -> tuple[str, int]:
    """Start a writer of batches of up to about `rows` rows (a forked child: tests.forked_child)
    and SIGKILL it where it paused
    (`pause_at`), or as soon as it reports `commits` commits; the step it was killed at (""
    if not paused) and the last generation it reported committed. The journal is compacted
    once over `abs(compact_from)` bytes (and the snapshot), in a thread if `compact_from` > 0."""
    proc = ForkedChild(CRASH_CHILD, str(db_path), str(pause_at), str(rows), str(compact_from))
    step = ""
    try:
        first = proc.readline().split()
        assert first[:1] == ["ready"], "the writer ended before it was ready (see its stderr)"
        start = committed = int(first[1])
        while not step and not (commits and committed - start >= commits):
            words = proc.readline().split()
            assert words, "the writer ended before it was killed (see its stderr)"
            if words[0] == "paused":
                step = words[1]
            else:
                committed = int(words[1])
    finally:
        returncode = proc.kill()
    assert returncode == -signal.SIGKILL
    return step, committed


@pytest.mark.slow
def test_sigkill_at_every_step_of_a_write_leaves_the_old_or_the_new_file(db_path: Path) -> None:
    """Each step of a write is a SIGKILL point: half a journal line written, its fsync, and
    each step of a compaction (the journal rotated, half the temp snapshot written, its fsync,
    the backup link, the replace, the folder fsync, the old journal removed). The file then
    loads and holds exactly the last complete batch: the one in progress once its journal line
    is whole, else the one before."""
    with MappingStore(db_path) as store:
        store.set_meta(gen=0, size=0)
    seen: list[str] = []
    for pause_at in range(1, 30):
        step, committed = kill_child(db_path, pause_at, rows=200)
        assert step in BEFORE_LINE | AFTER_LINE, step
        seen.append(step)
        expected = committed + 1 if step in AFTER_LINE else committed
        assert saved_generation(db_path) == expected, (pause_at, step)
        if set(seen) == BEFORE_LINE | AFTER_LINE:
            break
    assert set(seen) == BEFORE_LINE | AFTER_LINE


@pytest.mark.slow
def test_sigkill_at_random_moments_never_leaves_an_unloadable_file(db_path: Path) -> None:
    """Killed as soon as it reports a random number of commits, somewhere in a later write or
    a background compaction: the file loads, holds one whole batch, and keeps every commit the
    writer reported."""
    rng = random.Random(1234)
    for _ in range(10):
        _step, committed = kill_child(
            db_path, commits=rng.randint(1, 6), rows=600, compact_from=20_000
        )
        assert saved_generation(db_path) >= committed


# ---------------------------------------------------------------- one owner
LOCK_HOLDER = """
    import sys
    from core.store import MappingStore

    with MappingStore(sys.argv[1]):
        print("locked", flush=True)
        sys.stdin.readline()
"""


def refuse_to_wait(seconds: float) -> None:
    raise AssertionError(f"waited {seconds} s for the lock instead of refusing at once")


def test_a_second_process_is_refused_at_once_with_the_holders_pid(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = child(LOCK_HOLDER, str(db_path))
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with monkeypatch.context() as patch, pytest.raises(StoreLockedError) as caught:
            # one attempt, no polling: the lock (and the holder's pid file) are never waited for
            patch.setattr(time, "sleep", refuse_to_wait)
            MappingStore(db_path).open()
        assert caught.value.pid == holder.pid
        assert str(holder.pid) in str(caught.value) and str(db_path) in str(caught.value)
        assert MappingStore.read_only(db_path).records() == {}  # status still works
    finally:
        holder.communicate("\n", timeout=10)
    with MappingStore(db_path) as store:  # released on exit: this process now owns the file
        store.set_meta(owner="parent")
    assert MappingStore.read_only(db_path).meta("owner") == "parent"


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


def test_rows_held_in_another_form_are_written_as_plain_json(tmp_path: Path) -> None:
    storage = AtomicJSONStorage(tmp_path / "db.json", row_forms={"articles": dict})
    data: dict[str, dict[str, Any]] = {
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
    assert MappingStore.read_only(path).meta("schema_version") == SCHEMA_VERSION


# ---------------------------------------------------------------- the journal
def test_a_write_costs_what_it_changes_not_the_size_of_the_file(db_path: Path) -> None:
    """At 5,000 rows, a batch of 50 is one journal line of about 50 rows, not a 3.5 MB file."""
    with MappingStore(db_path) as store:
        store.commit_batch(record(i) for i in range(1, 5_001))
        whole = db_path.stat().st_size
        before_bytes, before_writes = store.bytes_written, store.write_count
        store.commit_batch(record(i, title="changed") for i in range(100, 150))
        assert store.write_count - before_writes == 1
        assert store.bytes_written - before_bytes < whole / 50
        assert MappingStore.read_only(db_path).get(120) == record(120, title="changed")
    assert MappingStore.read_only(db_path).records() == {
        **{i: record(i) for i in range(1, 5_001)},
        **{i: record(i, title="changed") for i in range(100, 150)},
    }


def test_a_snapshot_reads_the_journal_of_a_running_owner(db_path: Path) -> None:
    with MappingStore(db_path) as store:
        store.commit_batch([record(1)])
        store.commit_batch([record(2)], meta={"cursor": "c"}, faqlists={"hudu:central": 3})
        store.add_run({"n": 1})
        store.remove_records([1])
        assert (db_path.parent / "hhsync.json.journal").exists()
        seen = MappingStore.read_only(db_path)
        assert set(seen.records()) == {2}
        assert seen.meta("cursor") == "c" and seen.faqlists() == {"hudu:central": 3}
        assert [r["n"] for r in seen.runs()] == [1]


def test_a_torn_last_journal_line_is_left_out_and_cut_off(db_path: Path) -> None:
    """A line a SIGKILL cut short was never acknowledged: the file loads without it, and the
    owner folds the journal so the next line never follows half a line."""
    with MappingStore(db_path) as store:
        store.commit_batch([record(1)])
        store.commit_batch([record(2)])
        journal = db_path.parent / "hhsync.json.journal"
        whole = journal.read_bytes()
        store._journal.close()
        journal.write_bytes(whole + b'{"seq":3,"articles":{"3":{"hudu_id":3,')
        assert set(MappingStore.read_only(db_path).records()) == {1, 2}
        store._tables = None
        store._owner.release()  # type: ignore[union-attr]
        store._owner = None
    with MappingStore(db_path) as store:
        assert set(store.records()) == {1, 2}
        assert not journal.exists()
        store.commit_batch([record(3)])
    assert set(MappingStore.read_only(db_path).records()) == {1, 2, 3}


@pytest.mark.parametrize(
    "line",
    [b"not json\n", b'{"articles": {}}\n', b'{"seq": 9, "articles": []}\n', b'{"seq": 7}\n'],
)
def test_a_bad_journal_line_fails_to_load_and_nothing_is_touched(
    db_path: Path, line: bytes
) -> None:
    """A bad whole line, or one that skips a number, is not a torn write: the mapping file
    fails to load and neither the snapshot nor the journal is ever rewritten."""
    with MappingStore(db_path) as store:
        store.commit_batch([record(1)])
    journal = db_path.parent / "hhsync.json.journal"
    seq = json.loads(db_path.read_text())["meta"]["1"]["journal_seq"]
    journal.write_bytes(b'{"seq": %d}\n' % (seq + 1) + line)
    snapshot = db_path.read_bytes()
    with pytest.raises(StoreError, match="journal") as caught:
        MappingStore(db_path).open()
    assert "hhsync sync --full" in str(caught.value)
    with pytest.raises(StoreError):
        MappingStore.read_only(db_path)
    assert db_path.read_bytes() == snapshot
    assert journal.read_bytes() == b'{"seq": %d}\n' % (seq + 1) + line


def test_the_journal_is_compacted_in_the_background_while_writes_go_on(db_path: Path) -> None:
    with MappingStore(db_path, compact_from_bytes=20_000) as store:
        for n in range(1, 201):
            store.commit_batch([record(n)], meta={"n": n})
        store.wait_for_compaction()
        assert store.snapshot_count >= 2
        assert store.compaction_error is None
        seen = MappingStore.read_only(db_path)
        assert set(seen.records()) == set(range(1, 201)) and seen.meta("n") == 200
    assert not list(db_path.parent.glob("*.journal*"))
    assert set(MappingStore.read_only(db_path).records()) == set(range(1, 201))


def test_a_failed_journal_write_keeps_memory_ahead_and_the_next_write_saves_everything(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with MappingStore(db_path) as store:
        store.commit_batch([record(1)])
        real_write = os.write

        def disk_full(fd: int, data: bytes) -> int:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "write", disk_full)
        with pytest.raises(StoreError, match="No space left"):
            store.commit_batch([record(2)])
        assert set(store.records()) == {1, 2}
        monkeypatch.setattr(os, "write", real_write)
        store.commit_batch([record(3)])
        assert set(MappingStore.read_only(db_path).records()) == {1, 2, 3}
        assert not (db_path.parent / "hhsync.json.journal").exists()  # a whole snapshot


def test_an_older_file_is_upgraded_by_a_whole_snapshot_before_any_journal(db_path: Path) -> None:
    """hhsync before the journal would read a schema-1 snapshot without its journal: the first
    write rewrites the snapshot as schema 2 (which it refuses) before any line is appended."""
    db_path.parent.mkdir(parents=True)
    db_path.write_text(json.dumps({"articles": {"1": {"hudu_id": 1, "title": "old"}}}))
    with MappingStore(db_path) as store:
        store.commit_batch([record(2)])
        assert json.loads(db_path.read_text())["meta"]["1"]["schema_version"] == SCHEMA_VERSION
        assert not (db_path.parent / "hhsync.json.journal").exists()
        store.commit_batch([record(3)])
        assert (db_path.parent / "hhsync.json.journal").exists()
