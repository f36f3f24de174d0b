"""The mapping store: one file that remembers which Hudu article became which Halo article.

Layout (TinyDB JSON, one snapshot file, `core.storage`):

- ``articles``: one document per Hudu article, ``doc_id`` = Hudu id, fields of `ArticleRecord`
  (decoded and type-checked by `core.rowcodec`);
- ``faqlists``: ``{"third_party_id": "hudu:central", "halo_id": 12}``;
- ``runs``: one document per pass, the last `MAX_RUNS` kept;
- ``meta``: a single document (``doc_id`` 1) with ``schema_version``, ``journal_seq`` (the last
  journal line the snapshot holds) and the engine's values (the sync cursor, the pass count ...).

Each public write method is one write of what it changed: a line appended to the journal beside the
snapshot (``<db>.journal``), fsynced before the method returns unless `defer_fsync` leaves that to
`sync` (`core.durability`). The journal is folded into a new snapshot by a background thread once
it outgrows the snapshot (and at least `COMPACT_FROM_BYTES`), and on close; so a write costs O(rows
changed), and the event loop never waits for the whole file to be serialised. Version 2 of the
schema (this layout) is refused by older hhsync, which would not read the journal. Only the process
that holds the lock (`core.ownerlock`) writes. The store never holds article bodies or secrets:
only ids, titles, hashes, statuses and timestamps.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Self

from core.errors import StoreError
from core.models import ArticleRecord
from core.ownerlock import OwnerLock
from core.rowcodec import ARTICLE_ROWS, BadRow
from core.storage import (
    AtomicJSONStorage,
    Journal,
    Tables,
    journal_line,
    row_text,
    unreadable_message,
)
from core.tables import (
    ARTICLES,
    FAQLISTS,
    META,
    META_DOC_ID,
    META_JOURNAL_KEY,
    META_SCHEMA_KEY,
    RUNS,
    SCHEMA_VERSION,
    append_run,
    article_json,
    checked_json,
    collector_paused,
    merge_faqlists,
    replay,
    schema_of,
    stored_articles,
    validate,
    validate_layout,
)

_MANAGED_META = frozenset({META_SCHEMA_KEY, META_JOURNAL_KEY})
COMPACT_FROM_BYTES = 8 * 1024 * 1024
"""The journal is folded into the snapshot once it is larger than this and than the snapshot."""
READ_ATTEMPTS = 20
"""A snapshot read while the owner compacts may miss lines it just folded: read again."""


class _Gap(Exception):
    """The journal does not continue the snapshot (read while the owner was compacting)."""


class MappingStore:
    """The mapping file, owned by one process at a time.

    `records()`, `get()`, `faqlists()`, `meta()` and `runs()` answer from memory and return
    copies: changing them changes nothing until the changed record is given to
    `commit_batch`. Each write method is one durable write (`write_count` counts the file
    writes: journal lines and snapshots). If a write fails (disk full), the error is raised
    and memory stays ahead of the file; the next write retries with everything.

    Thread-safe within the process (one internal lock); not for sharing across processes.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        compact_from_bytes: int = COMPACT_FROM_BYTES,
        compact_in_background: bool = True,
    ) -> None:
        self.path = Path(path).expanduser()
        self.compact_from_bytes = compact_from_bytes
        self.compact_in_background = compact_in_background
        self._storage = AtomicJSONStorage(self.path, row_forms={ARTICLES: article_json})
        self._journal = Journal(self.path)
        self._tables: Tables | None = None
        self._owner: OwnerLock | None = None
        self._mutex = threading.RLock()
        self._read_only = False
        self._seq = 0
        self._snapshot_bytes = 0
        self._fold_needed = False
        self._unsaved = False
        self._compactor: threading.Thread | None = None
        self.compaction_error: StoreError | None = None
        self.defer_fsync = False
        """Commits write their line and leave its fsync to `sync` (core.durability)."""
        self._extras: dict[str, dict[str, Any]] = {}
        """Fields of article rows this version does not know (kept as a newer hhsync wrote)."""
        self._loaded: dict[int, ArticleRecord] | None = None
        """The rows decoded at load, handed to the first `records()` (no second decode)."""

    # ------------------------------------------------------------ life cycle
    @classmethod
    def read_only(cls, path: str | os.PathLike[str]) -> MappingStore:
        """A snapshot of the file loaded without the lock (`hhsync status`), maybe a moment
        behind a running sync; every write method raises `StoreError`; no file: empty."""
        store = cls(path)
        store._read_only = True
        store._storage.read_only = True
        for attempt in range(READ_ATTEMPTS):
            try:
                store._load()
                break
            except _Gap:
                if attempt == READ_ATTEMPTS - 1:
                    raise StoreError(
                        unreadable_message(store.path, "has a journal that skips lines")
                    ) from None
                time.sleep(0.01)
        return store

    def open(self) -> Self:
        """Take the lock (or raise `StoreLockedError` at once) and load the file. A journal
        left by a process that did not close the store is folded into the snapshot."""
        with self._mutex:
            if self._tables is not None:
                return self
            owner = OwnerLock(self.path)
            owner.acquire()
            try:
                self._storage.remove_stale_temp_files()  # only ever ours: we hold the lock
                try:
                    self._load()
                except _Gap:
                    raise StoreError(
                        unreadable_message(self.path, "has a journal that skips lines")
                    ) from None
                if self._journal.exists():
                    self._fold()
            except OSError as exc:
                self._tables = None
                owner.release()
                raise StoreError(f"{self.path} cannot be opened: {exc.strerror or exc}") from None
            except BaseException:
                self._tables = None
                owner.release()
                raise
            self._owner = owner
            return self

    def close(self) -> None:
        """Fold the journal into the snapshot and release the lock."""
        with self._mutex:
            try:
                if self._tables is not None and not self._read_only:
                    self._wait_for_compaction()
                    if self._unsaved or self._journal.exists():
                        self._fold()
            finally:
                self._journal.close()
                self._tables = None
                if self._owner is not None:
                    self._owner.release()
                    self._owner = None

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def write_count(self) -> int:
        """File writes since this object was created: journal lines and snapshots."""
        return self._storage.write_count + self._journal.write_count

    @property
    def snapshot_count(self) -> int:
        """Whole snapshots written since this object was created (compactions, folds)."""
        return self._storage.write_count

    @property
    def bytes_written(self) -> int:
        return self._storage.bytes_written + self._journal.bytes_written

    def wait_for_compaction(self) -> None:
        """Until a background compaction in progress is done (tests, benchmarks)."""
        self._wait_for_compaction()

    # ------------------------------------------------------------ queries
    def records(self) -> dict[int, ArticleRecord]:
        """Every article row, keyed by Hudu id (fresh copies)."""
        with self._mutex:
            loaded, self._loaded = self._loaded, None
            if loaded is not None:
                return loaded
            raw = self._raw(ARTICLES)
            return {int(doc_id): ARTICLE_ROWS.from_stored(row) for doc_id, row in raw.items()}

    def get(self, hudu_id: int) -> ArticleRecord | None:
        with self._mutex:
            row = self._raw(ARTICLES).get(str(hudu_id))
            return None if row is None else ARTICLE_ROWS.from_stored(row)

    def faqlists(self) -> dict[str, int]:
        """Halo FAQ list ids by third_party_id (``hudu:central``, ``hudu:company:<id>``)."""
        with self._mutex:
            return {row["third_party_id"]: row["halo_id"] for row in self._raw(FAQLISTS).values()}

    def meta(self, key: str, default: Any = None) -> Any:
        with self._mutex:
            row = self._raw(META).get(META_DOC_ID, {})
            return copy.deepcopy(row[key]) if key in row else default

    def runs(self) -> list[dict[str, Any]]:
        """The last `MAX_RUNS` passes, oldest first."""
        with self._mutex:
            raw = self._raw(RUNS)
            return [copy.deepcopy(raw[k]) for k in sorted(raw, key=int)]

    # ------------------------------------------------------------ writes
    def commit_batch(
        self,
        records: Iterable[ArticleRecord],
        *,
        meta: Mapping[str, Any] | None = None,
        faqlists: Mapping[str, int] | None = None,
        run: Mapping[str, Any] | None = None,
        removed: Iterable[int] = (),
    ) -> None:
        """Upsert records (by Hudu id), forget the `removed` ids, merge meta values and FAQ
        list ids, append a run: one durable write.

        Nothing given, nothing written. A record whose fields have the wrong type raises
        `TypeError` before anything changes, so the file never holds a row it cannot load.
        """
        with self._mutex:
            tables = self._writable()
            rows: dict[str, dict[str, Any]] = {}
            for record in records:
                row = ARTICLE_ROWS.encode(record)
                try:
                    ARTICLE_ROWS.decode(row)
                except BadRow as exc:
                    raise TypeError(f"ArticleRecord {record.hudu_id}: {exc}") from None
                rows[str(record.hudu_id)] = row
            meta_values = checked_json(dict(meta or {}), "meta")
            if _MANAGED_META & meta_values.keys():
                raise ValueError(f"{', '.join(sorted(_MANAGED_META))} are managed by the store")
            lists = {str(k): int(v) for k, v in (faqlists or {}).items()}
            run_row = None if run is None else checked_json(dict(run), "run")
            articles = tables.setdefault(ARTICLES, {})
            gone = sorted(
                {int(h) for h in removed if str(int(h)) in articles} - set(map(int, rows))
            )
            if not rows and not gone and not meta_values and not lists and run_row is None:
                return

            self._loaded = None
            line_rows: dict[str, str] = {}
            for key, row in rows.items():
                extra = self._extras.get(key)
                line_rows[key] = row_text(key, {**extra, **row} if extra else row)
                articles[key] = ARTICLE_ROWS.stored_json(row)
            for hudu_id in gone:
                articles.pop(str(hudu_id), None)
                self._extras.pop(str(hudu_id), None)
            if meta_values:
                self._merge_meta(meta_values)
            if lists:
                merge_faqlists(tables, lists)
            if run_row is not None:
                append_run(tables, run_row)
            self._seq += 1
            self._persist(
                journal_line(
                    self._seq,
                    line_rows,
                    removed=gone,
                    meta=meta_values,
                    faqlists=lists,
                    run=run_row,
                )
            )

    def sync(self) -> None:
        """Make every commit so far durable (`defer_fsync`); any thread, commits going on."""
        try:
            self._journal.sync()
        except StoreError:
            self._fold_needed = self._unsaved = True
            raise

    def remove_records(self, hudu_ids: Iterable[int]) -> None:
        """Forget these articles (one write; ids not in the store are ignored)."""
        self.commit_batch((), removed=hudu_ids)

    def add_run(self, run: Mapping[str, Any]) -> None:
        """Append one pass summary, keeping the last `MAX_RUNS` (one write)."""
        self.commit_batch((), run=run)

    def set_meta(self, **values: Any) -> None:
        """Merge values into the meta document (one write)."""
        self.commit_batch((), meta=values)

    # ------------------------------------------------------------ internals
    def _writable(self) -> Tables:
        if self._read_only:
            raise StoreError(f"{self.path} was opened read-only (a snapshot); it cannot be written")
        if self._tables is None:
            raise StoreError(f"{self.path} is not open")
        return self._tables

    def _raw(self, table: str) -> dict[str, Any]:
        """The JSON of one table (string doc ids); callers must not mutate it."""
        if self._tables is None:
            raise StoreError(f"{self.path} is not open")
        return self._tables.get(table) or {}

    def _merge_meta(self, values: Mapping[str, Any]) -> None:
        """A new meta document (never changed in place: a snapshot may be reading it)."""
        assert self._tables is not None
        table = self._tables.setdefault(META, {})
        table[META_DOC_ID] = {**table.get(META_DOC_ID, {}), **values}

    def _persist(self, line: str) -> None:
        """Append the line; a snapshot of everything instead when the journal cannot be
        trusted to follow the snapshot (a new or older file, a failed append)."""
        if self._fold_needed:
            self._fold()
            return
        try:
            self._journal.append(line, sync=not self.defer_fsync)
        except StoreError:
            self._fold_needed = self._unsaved = True
            raise
        if self._compactor is None and self._journal.size() > max(
            self.compact_from_bytes, self._snapshot_bytes
        ):
            self._start_compaction()

    def _snapshot_tables(self) -> Tables:
        """A copy of the tables to serialise (rows are replaced, never changed in place, so
        copying the tables is enough), its meta saying which journal lines it holds."""
        assert self._tables is not None
        tables = {name: dict(table) for name, table in self._tables.items()}
        articles = tables.get(ARTICLES, {})
        for key, extra in self._extras.items():
            if key in articles:
                articles[key] = {**extra, **ARTICLE_ROWS.json_of(articles[key])}
        meta = tables.setdefault(META, {})
        meta[META_DOC_ID] = {
            **meta.get(META_DOC_ID, {}),
            META_SCHEMA_KEY: SCHEMA_VERSION,
            META_JOURNAL_KEY: self._seq,
        }
        return tables

    def _fold(self) -> None:
        """Write everything as the snapshot, then drop the journal (the caller holds the lock)."""
        self._wait_for_compaction()
        try:
            self._snapshot_bytes = self._storage.write(self._snapshot_tables())
        except StoreError:
            self._fold_needed = self._unsaved = True
            raise
        self._journal.remove_all()
        self._fold_needed = self._unsaved = False
        self.compaction_error = None

    def _start_compaction(self) -> None:
        """Rotate the journal and write the snapshot of what it held (in a thread unless
        `compact_in_background` is off); lines appended meanwhile go to the new journal."""
        if self._journal.old_path.exists():  # an earlier compaction failed: close folds
            return
        self._journal.rotate()
        tables = self._snapshot_tables()
        if not self.compact_in_background:
            self._compact(tables)
            return
        self._compactor = threading.Thread(
            target=self._compact, args=(tables,), name="hhsync-store-compaction", daemon=True
        )
        self._compactor.start()

    def _compact(self, tables: Tables) -> None:
        try:
            size = self._storage.write(tables)
            self._journal.remove_old()
        except (StoreError, OSError) as exc:
            self.compaction_error = StoreError(f"could not compact {self.path}: {exc}")
            return
        self._snapshot_bytes = size

    def _wait_for_compaction(self) -> None:
        compactor = self._compactor
        if compactor is not None:
            compactor.join()
            self._compactor = None

    def _load(self) -> None:
        with collector_paused():
            self._load_tables()

    def _load_tables(self) -> None:
        data = self._storage.read()
        snapshot_schema = None if data is None else schema_of(data)
        tables: Tables = {} if data is None else data
        validate_layout(self.path, tables)
        meta = (tables.get(META) or {}).get(META_DOC_ID, {})
        base = meta.get(META_JOURNAL_KEY, 0)
        if type(base) is not int:
            raise StoreError(
                unreadable_message(self.path, "has a journal_seq that is not a number")
            )
        seq = base
        for entry in self._journal.read_all(self.path):
            if entry["seq"] <= base:
                continue
            if entry["seq"] != seq + 1:
                raise _Gap
            replay(self.path, tables, entry)
            seq += 1
        records = validate(self.path, tables)
        self._extras = stored_articles(tables, records)
        self._loaded = {int(key): rec for key, rec in records.items()}
        self._tables, self._seq = tables, seq
        self._snapshot_bytes = self.path.stat().st_size if data is not None else 0
        if not self._read_only:
            # Goes to disk with the next write (a whole snapshot, so that an older hhsync
            # never reads a snapshot a journal continues), or on close; a new file is not
            # created until there is something to keep (`sync --dry-run` writes nothing).
            self._merge_meta({META_SCHEMA_KEY: SCHEMA_VERSION})
            self._fold_needed = snapshot_schema != SCHEMA_VERSION
