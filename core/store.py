"""The mapping store: one TinyDB file that remembers which Hudu article became which Halo article.

Layout (TinyDB JSON, one file):

- ``articles``: one document per Hudu article, ``doc_id`` = Hudu id, fields of `ArticleRecord`
  (decoded and type-checked by `core.rowcodec`);
- ``faqlists``: ``{"third_party_id": "hudu:central", "halo_id": 12}``;
- ``runs``: one document per pass, the last `MAX_RUNS` kept;
- ``meta``: a single document (``doc_id`` 1) with ``schema_version`` and the engine's values
  (the sync cursor, the pass count, ...).

The file is written atomically, once per public write method (`core.storage`), by the one
process that holds its lock (`core.ownerlock`). The store never holds article bodies or
secrets: only ids, titles, hashes, statuses and timestamps.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Self

from tinydb import Query, TinyDB
from tinydb.table import Document

from core.errors import StoreError
from core.models import ArticleRecord
from core.ownerlock import OwnerLock
from core.rowcodec import ARTICLE_ROWS, BadRow
from core.storage import (
    REBUILD_HINT,
    AtomicJSONStorage,
    Tables,
    WriteBackCache,
    unreadable_message,
)

SCHEMA_VERSION = 1
MAX_RUNS = 100
ARTICLES, FAQLISTS, RUNS, META = "articles", "faqlists", "runs", "meta"
_META_DOC_ID = 1
META_SCHEMA_KEY = "schema_version"


class MappingStore:
    """The mapping file, owned by one process at a time.

    `records()`, `get()`, `faqlists()`, `meta()` and `runs()` answer from memory and return
    copies: changing them changes nothing until the changed record is given to
    `commit_batch`. Each write method is one atomic file write (`write_count` counts them).
    If a write fails (disk full), the error is raised and memory stays ahead of the file; the
    next write retries with everything.

    Thread-safe within the process (one internal lock); not for sharing across processes.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._storage = AtomicJSONStorage(self.path, row_cache=(ARTICLES,))
        self._db: TinyDB | None = None
        self._cache: WriteBackCache | None = None
        self._owner: OwnerLock | None = None
        self._mutex = threading.RLock()
        self._read_only = False

    # ------------------------------------------------------------ life cycle
    @classmethod
    def read_only(cls, path: str | os.PathLike[str]) -> MappingStore:
        """A snapshot of the file, loaded without taking the lock (for `hhsync status`).

        It may be a moment behind a running sync; every write method raises `StoreError`.
        A missing file gives an empty snapshot.
        """
        store = cls(path)
        store._read_only = True
        store._storage.read_only = True
        store._load()
        return store

    def open(self) -> Self:
        """Take the lock (or raise `StoreLockedError` at once) and load the file."""
        with self._mutex:
            if self._db is not None:
                return self
            owner = OwnerLock(self.path)
            owner.acquire()
            try:
                self._storage.remove_stale_temp_files()  # only ever ours: we hold the lock
                self._load()
            except OSError as exc:
                self._db = None
                owner.release()
                raise StoreError(f"{self.path} cannot be opened: {exc.strerror or exc}") from None
            except BaseException:
                self._db = None
                owner.release()
                raise
            self._owner = owner
            return self

    def close(self) -> None:
        with self._mutex:
            try:
                if self._db is not None and not self._read_only:
                    self._flush()
            finally:
                self._db = None
                if self._owner is not None:
                    self._owner.release()
                    self._owner = None

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def write_count(self) -> int:
        """File writes since this object was created."""
        return self._storage.write_count

    # ------------------------------------------------------------ queries
    def records(self) -> dict[int, ArticleRecord]:
        """Every article row, keyed by Hudu id (fresh copies)."""
        with self._mutex:
            raw = self._raw(ARTICLES)
            return {int(doc_id): ARTICLE_ROWS.decode(row) for doc_id, row in raw.items()}

    def get(self, hudu_id: int) -> ArticleRecord | None:
        with self._mutex:
            row = self._raw(ARTICLES).get(str(hudu_id))
            return None if row is None else ARTICLE_ROWS.decode(row)

    def faqlists(self) -> dict[str, int]:
        """Halo FAQ list ids by third_party_id (``hudu:central``, ``hudu:company:<id>``)."""
        with self._mutex:
            return {row["third_party_id"]: row["halo_id"] for row in self._raw(FAQLISTS).values()}

    def meta(self, key: str, default: Any = None) -> Any:
        with self._mutex:
            row = self._raw(META).get(str(_META_DOC_ID), {})
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
    ) -> None:
        """Upsert records (by Hudu id), merge meta values and FAQ list ids: one file write.

        Nothing given, nothing written. A record whose fields have the wrong type raises
        `TypeError` before anything changes, so the file never holds a row it cannot load.
        """
        with self._mutex:
            db = self._writable()
            rows: dict[int, dict[str, Any]] = {}
            for record in records:
                row = ARTICLE_ROWS.encode(record)
                try:
                    ARTICLE_ROWS.decode(row)
                except BadRow as exc:
                    raise TypeError(f"ArticleRecord {record.hudu_id}: {exc}") from None
                rows[record.hudu_id] = row
            meta_values = _checked_json(dict(meta or {}), "meta")
            if META_SCHEMA_KEY in meta_values:
                raise ValueError("schema_version is managed by the store")
            lists = {str(k): int(v) for k, v in (faqlists or {}).items()}
            if not rows and not meta_values and not lists:
                return

            if rows:
                table = db.table(ARTICLES)
                existing = self._raw(ARTICLES)
                present = [hid for hid in rows if str(hid) in existing]
                for hid in present:
                    extra = {
                        k: v for k, v in existing[str(hid)].items() if k not in ARTICLE_ROWS.names
                    }
                    if extra:
                        rows[hid] = {**extra, **rows[hid]}
                if present:
                    table.remove(doc_ids=present)
                table.insert_multiple(Document(row, doc_id=hid) for hid, row in rows.items())
            if lists:
                table = db.table(FAQLISTS)
                for third_party_id, halo_id in lists.items():
                    table.upsert(
                        {"third_party_id": third_party_id, "halo_id": halo_id},
                        Query().third_party_id == third_party_id,
                    )
            if meta_values:
                db.table(META).upsert(Document(meta_values, doc_id=_META_DOC_ID))
            self._flush()

    def remove_records(self, hudu_ids: Iterable[int]) -> None:
        """Forget these articles (one write; ids not in the store are ignored)."""
        with self._mutex:
            db = self._writable()
            existing = self._raw(ARTICLES)
            present = sorted({int(h) for h in hudu_ids if str(int(h)) in existing})
            if not present:
                return
            db.table(ARTICLES).remove(doc_ids=present)
            self._flush()

    def add_run(self, run: Mapping[str, Any]) -> None:
        """Append one pass summary, keeping the last `MAX_RUNS` (one write)."""
        with self._mutex:
            db = self._writable()
            row = _checked_json(dict(run), "run")
            table = db.table(RUNS)
            table.insert(row)
            ids = sorted(int(k) for k in self._raw(RUNS))
            if len(ids) > MAX_RUNS:
                table.remove(doc_ids=ids[: len(ids) - MAX_RUNS])
            self._flush()

    def set_meta(self, **values: Any) -> None:
        """Merge values into the meta document (one write)."""
        self.commit_batch((), meta=values)

    # ------------------------------------------------------------ internals
    def _writable(self) -> TinyDB:
        if self._read_only:
            raise StoreError(f"{self.path} was opened read-only (a snapshot); it cannot be written")
        if self._db is None:
            raise StoreError(f"{self.path} is not open")
        return self._db

    def _raw(self, table: str) -> dict[str, Any]:
        """The cached JSON of one table (string doc ids); callers must not mutate it."""
        if self._db is None or self._cache is None:
            raise StoreError(f"{self.path} is not open")
        tables = self._cache.read() or {}
        return tables.get(table) or {}

    def _flush(self) -> None:
        if self._db is not None and self._cache is not None:
            self._cache.flush()

    def _load(self) -> None:
        cache = WriteBackCache(self._storage)
        data = cache.read()
        new_file = data is None
        if data is None:
            cache.tables = data = {}
        _validate(self.path, data)
        db = TinyDB(storage=lambda: cache)
        self._db, self._cache = db, cache
        if not self._read_only and self.meta(META_SCHEMA_KEY) != SCHEMA_VERSION:
            # Goes to disk with the next write, or on close for an older file; a new file is
            # not created until there is something to keep (`sync --dry-run` writes nothing).
            db.table(META).upsert(Document({META_SCHEMA_KEY: SCHEMA_VERSION}, doc_id=_META_DOC_ID))
            if new_file:
                cache.dirty = False


def _checked_json(values: dict[str, Any], what: str) -> dict[str, Any]:
    try:
        checked: dict[str, Any] = json.loads(json.dumps(values))
        return checked
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} values must be plain JSON: {exc}") from None


def _validate(path: Path, data: Tables) -> None:
    """Refuse (with a one-line `StoreError`) anything this version cannot load faithfully."""

    def bad(what: str) -> StoreError:
        return StoreError(unreadable_message(path, what))

    for name in (ARTICLES, FAQLISTS, RUNS, META):
        table = data.get(name)
        if table is None:
            continue
        if not isinstance(table, dict):
            raise bad(f"has a {name!r} table that is not an object")
        for doc_id, row in table.items():
            if not doc_id.isdigit() or not isinstance(row, dict):
                raise bad(f"has a malformed row {doc_id!r} in the {name!r} table")

    meta = (data.get(META) or {}).get(str(_META_DOC_ID), {})
    version = meta.get(META_SCHEMA_KEY, SCHEMA_VERSION)
    if type(version) is not int:
        raise bad(f"has a schema_version that is not a number ({version!r})")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by a newer hhsync (schema {version}; this one knows "
            f"{SCHEMA_VERSION}): upgrade hhsync, or {REBUILD_HINT}"
        )

    for doc_id, row in (data.get(ARTICLES) or {}).items():
        try:
            record = ARTICLE_ROWS.decode(row)
        except BadRow as exc:
            raise bad(f"has a bad article row {doc_id}: {exc}") from None
        if "hudu_id" in row and record.hudu_id != int(doc_id):
            raise bad(f"has article row {doc_id} with hudu_id {record.hudu_id}")
        if "hudu_id" not in row:
            row["hudu_id"] = int(doc_id)
    for doc_id, row in (data.get(FAQLISTS) or {}).items():
        if not isinstance(row.get("third_party_id"), str) or type(row.get("halo_id")) is not int:
            raise bad(f"has a bad FAQ list row {doc_id}")
