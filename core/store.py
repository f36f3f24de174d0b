"""The mapping store: one TinyDB file that remembers which Hudu article became which Halo article.

Layout (TinyDB JSON, one file):

- ``articles``: one document per Hudu article, ``doc_id`` = Hudu id, fields of `ArticleRecord`;
- ``faqlists``: ``{"third_party_id": "hudu:central", "halo_id": 12}``;
- ``runs``: one document per pass, the last `MAX_RUNS` kept;
- ``meta``: a single document (``doc_id`` 1) with ``schema_version`` and the engine's values
  (the sync cursor, the pass count, ...).

Crash safety: `AtomicJSONStorage` writes a temp file in the same folder, fsyncs it, keeps the
previous file as ``<db>.bak`` (a hard link, so it costs no copy) and moves the new file in place
with `os.replace`, then fsyncs the folder. A SIGKILL at any moment leaves either the old or the
new file, never a torn one.

Cost: TinyDB rewrites the whole database on every table operation. `_WriteBackCache` keeps the
tables in memory and writes only when the store flushes, which it does once per public write
method, so a batch of 5,000 rows is one file write (rewriting the file per row would make a
first sync quadratic: 5,000 single inserts take about 50 s with TinyDB's own storage).

One process owns the file: an OS lock on ``<db>.lock`` (filelock) taken without waiting, and the
holder's pid in ``<db>.pid`` so the loser can say who holds it. The store never holds article
bodies or secrets: only ids, titles, hashes, statuses and timestamps.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import enum
import json
import os
import tempfile
import threading
import time
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Self

from filelock import FileLock, Timeout
from tinydb import Query, TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

from core.errors import StoreError, StoreLockedError
from core.models import ArticleRecord, Status

SCHEMA_VERSION = 1
MAX_RUNS = 100
ARTICLES, FAQLISTS, RUNS, META = "articles", "faqlists", "runs", "meta"
_META_DOC_ID = 1
META_SCHEMA_KEY = "schema_version"
_REBUILD = "move it aside and run `hhsync sync --full` to rebuild the mapping from the Halo markers"

Tables = dict[str, dict[str, Any]]


class _BadRow(ValueError):
    """A stored value does not have the type the code expects."""


# ---------------------------------------------------------------- storage
class AtomicJSONStorage(Storage):
    """TinyDB storage whose every `write` replaces the file atomically (temp, fsync, replace).

    `read` raises `StoreError` for a file that is not JSON; it never touches the file.

    Rows of the tables named in `row_cache` are serialised once and their JSON reused while
    the row is the same object, so a write costs O(changed rows) of encoding plus one join.
    Callers must therefore replace rows of those tables, never mutate them in place.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        read_only: bool = False,
        row_cache: Iterable[str] = (),
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.read_only = read_only
        self.write_count = 0
        self._row_cache: dict[str, dict[str, tuple[Any, str]]] = {name: {} for name in row_cache}

    @property
    def backup_path(self) -> Path:
        return self.path.with_name(self.path.name + ".bak")

    def read(self) -> Tables | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"{self.path} cannot be read: {exc.strerror or exc}") from None
        if not raw.strip():
            return None
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise StoreError(unreadable_message(self.path, "is not UTF-8 text")) from None
        except json.JSONDecodeError as exc:
            what = f"is not readable JSON (line {exc.lineno}, column {exc.colno})"
            raise StoreError(unreadable_message(self.path, what)) from None
        except RecursionError:
            raise StoreError(unreadable_message(self.path, "is nested too deeply")) from None
        if not isinstance(data, dict):
            raise StoreError(unreadable_message(self.path, "does not hold a TinyDB database"))
        return data

    def write(self, data: Tables) -> None:
        if self.read_only:
            raise StoreError(f"{self.path} was opened read-only (a snapshot); it cannot be written")
        body = self._serialise(data).encode("utf-8")
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            self._keep_backup()
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise StoreError(f"could not write {self.path}: {exc.strerror or exc}") from None
        _fsync_dir(folder)
        self.write_count += 1

    def _serialise(self, data: Tables) -> str:
        """The same text as ``json.dumps(data)`` (compact), reusing cached row JSON."""
        chunks = []
        for name, table in data.items():
            cache = self._row_cache.get(name)
            if cache is None or not isinstance(table, dict):
                chunks.append(f"{_dumps(name)}:{_dumps(table)}")
                continue
            fresh: dict[str, tuple[Any, str]] = {}
            rows = []
            for doc_id, row in table.items():
                hit = cache.get(doc_id)
                if hit is None or hit[0] is not row:
                    hit = (row, f"{_dumps(doc_id)}:{_dumps(row)}")
                fresh[doc_id] = hit
                rows.append(hit[1])
            self._row_cache[name] = fresh
            chunks.append(f"{_dumps(name)}:{{{','.join(rows)}}}")
        return "{" + ",".join(chunks) + "}"

    def _keep_backup(self) -> None:
        """Point ``<db>.bak`` at the current file (a hard link: no copy, replaced atomically)."""
        if not self.path.exists():
            return
        link = self.path.with_name(f".{self.path.name}.{os.getpid()}-{time.monotonic_ns()}.tmp")
        try:
            os.link(self.path, link)
            os.replace(link, self.backup_path)
        except OSError:
            with contextlib.suppress(OSError):
                link.unlink()

    def close(self) -> None:
        pass


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable across power loss (POSIX only; a no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _WriteBackCache(Storage):
    """The database in memory: reads never touch the file, and what TinyDB writes reaches
    `storage` only on `flush()` (a failed flush leaves the data dirty, so the next one retries)."""

    def __init__(self, storage: AtomicJSONStorage) -> None:
        self.storage = storage
        self.tables: Tables | None = None
        self.dirty = False

    def read(self) -> Tables | None:
        if self.tables is None:
            self.tables = self.storage.read()
        return self.tables

    def write(self, data: Tables) -> None:
        self.tables = data
        self.dirty = True

    def flush(self) -> None:
        if self.dirty and self.tables is not None:
            self.storage.write(self.tables)
            self.dirty = False

    def close(self) -> None:
        self.flush()


def unreadable_message(path: Path, what: str) -> str:
    """One line: where the file is, what is wrong, and what to do (mentions ``.bak`` if any)."""
    backup = path.with_name(path.name + ".bak")
    tail = f" (the previous version is kept in {backup})" if backup.exists() else ""
    return f"{path} {what}: {_REBUILD}{tail}"


# ---------------------------------------------------------------- (de)serialising rows
Checker = Callable[[Any], Any]


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint))


def _checker(hint: Any) -> Checker:
    """Build a function that validates a JSON value against a type hint and decodes it."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        optional = type(None) in args
        inner = [_checker(a) for a in args if a is not type(None)]

        def check_union(value: Any) -> Any:
            if value is None and optional:
                return None
            for check in inner:
                try:
                    return check(value)
                except _BadRow:
                    continue
            raise _BadRow(f"expected {hint}, got {type(value).__name__}")

        return check_union
    if origin is list:
        (item_hint,) = typing.get_args(hint) or (Any,)
        item = _checker(item_hint)

        def check_list(value: Any) -> list[Any]:
            if not isinstance(value, list):
                raise _BadRow(f"expected a list, got {type(value).__name__}")
            return [item(v) for v in value]

        return check_list
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        choices = {m.value: m for m in hint}

        def check_enum(value: Any) -> Any:
            try:
                return choices[value]
            except (KeyError, TypeError):
                raise _BadRow(f"{value!r} is not a {_type_name(hint)}") from None

        return check_enum
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _RowCodec(hint).decode
    if hint is bool:
        return _exact(bool)
    if hint is int:
        return _exact(int)
    if hint is float:

        def check_float(value: Any) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _BadRow(f"expected a number, got {type(value).__name__}")
            return float(value)

        return check_float
    if hint is str:
        return _exact(str)
    return lambda value: value


def _exact(kind: type) -> Checker:
    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise _BadRow(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return check


_FALLBACKS: dict[Any, Any] = {str: "", int: 0, bool: False}


class _RowCodec:
    """Dataclass <-> plain JSON dict. Unknown keys are ignored, missing keys take defaults."""

    def __init__(self, cls: type[Any]) -> None:
        self.cls = cls
        hints = typing.get_type_hints(cls)
        self.fields = [f for f in dataclasses.fields(cls) if f.init]
        self.names = frozenset(f.name for f in self.fields)
        self.checks = {f.name: _checker(hints[f.name]) for f in self.fields}
        self.defaults: dict[str, Callable[[], Any]] = {}
        for f in self.fields:
            if f.default is not dataclasses.MISSING:
                self.defaults[f.name] = _constant(f.default)
            elif f.default_factory is not dataclasses.MISSING:
                self.defaults[f.name] = f.default_factory
            else:
                self.defaults[f.name] = _required_fallback(hints[f.name])

    def decode(self, row: Any) -> Any:
        if not isinstance(row, dict):
            raise _BadRow(f"expected an object, got {type(row).__name__}")
        values: dict[str, Any] = {}
        for name, check in self.checks.items():
            if name in row:
                try:
                    values[name] = check(row[name])
                except _BadRow as exc:
                    raise _BadRow(f"field {name!r}: {exc}") from None
            else:
                values[name] = self.defaults[name]()
        return self.cls(**values)

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: _to_json(getattr(obj, f.name)) for f in self.fields}


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def _required_fallback(hint: Any) -> Callable[[], Any]:
    """A default for a required field missing from an old row (forward/backward compatibility)."""
    if hint is Status:
        return lambda: Status.PENDING
    if hint in _FALLBACKS:
        return lambda: _FALLBACKS[hint]
    if type(None) in typing.get_args(hint):
        return lambda: None

    def missing() -> Any:
        raise _BadRow(f"a required field of type {_type_name(hint)} is missing")

    return missing


def _to_json(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


_RECORDS = _RowCodec(ArticleRecord)


# ---------------------------------------------------------------- the store
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
        self._cache: _WriteBackCache | None = None
        self._file_lock: FileLock | None = None
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
            lock = FileLock(self.lock_path, timeout=0, mode=0o600, thread_local=False)
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                lock.acquire()
            except Timeout:
                raise StoreLockedError(str(self.path), self._holder_pid()) from None
            except OSError as exc:
                raise StoreError(
                    f"{self.path} cannot be opened: {exc.strerror or exc} "
                    "(check the folder's permissions, or point HHSYNC_DB elsewhere)"
                ) from None
            try:
                self._write_pid()
                self._remove_stale_temp_files()
                self._load()
            except OSError as exc:
                self._db = None
                self._remove_pid()
                lock.release()
                raise StoreError(f"{self.path} cannot be opened: {exc.strerror or exc}") from None
            except BaseException:
                self._db = None
                self._remove_pid()
                lock.release()
                raise
            self._file_lock = lock
            return self

    def close(self) -> None:
        with self._mutex:
            try:
                if self._db is not None and not self._read_only:
                    self._flush()
            finally:
                self._db = None
                if self._file_lock is not None:
                    self._remove_pid()
                    self._file_lock.release()
                    self._file_lock = None

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def pid_path(self) -> Path:
        return self.path.with_name(self.path.name + ".pid")

    @property
    def backup_path(self) -> Path:
        return self._storage.backup_path

    @property
    def write_count(self) -> int:
        """File writes since this object was created."""
        return self._storage.write_count

    @property
    def is_open(self) -> bool:
        return self._db is not None

    # ------------------------------------------------------------ queries
    def records(self) -> dict[int, ArticleRecord]:
        """Every article row, keyed by Hudu id (fresh copies)."""
        with self._mutex:
            raw = self._raw(ARTICLES)
            return {int(doc_id): _RECORDS.decode(row) for doc_id, row in raw.items()}

    def get(self, hudu_id: int) -> ArticleRecord | None:
        with self._mutex:
            row = self._raw(ARTICLES).get(str(hudu_id))
            return None if row is None else _RECORDS.decode(row)

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
                row = _RECORDS.encode(record)
                try:
                    _RECORDS.decode(row)
                except _BadRow as exc:
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
                    extra = {k: v for k, v in existing[str(hid)].items() if k not in _RECORDS.names}
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
        cache = _WriteBackCache(self._storage)
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

    def _write_pid(self) -> None:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{os.getpid()}\n")
        os.replace(tmp, self.pid_path)

    def _remove_pid(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            if int(self.pid_path.read_text().strip()) == os.getpid():
                self.pid_path.unlink()

    def _holder_pid(self, wait: float = 1.0) -> int | None:
        """The pid in ``<db>.pid`` if that process is alive (the holder writes it just after
        locking, so give it a moment)."""
        deadline = time.monotonic() + wait
        while True:
            pid = _read_pid(self.pid_path)
            if pid is not None and _alive(pid):
                return pid
            if time.monotonic() >= deadline:
                return pid
            time.sleep(0.02)

    def _remove_stale_temp_files(self) -> None:
        """Temp files a killed writer left behind (only ever ours: we hold the lock)."""
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


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
            f"{SCHEMA_VERSION}): upgrade hhsync, or {_REBUILD}"
        )

    for doc_id, row in (data.get(ARTICLES) or {}).items():
        try:
            record = _RECORDS.decode(row)
        except _BadRow as exc:
            raise bad(f"has a bad article row {doc_id}: {exc}") from None
        if "hudu_id" in row and record.hudu_id != int(doc_id):
            raise bad(f"has article row {doc_id} with hudu_id {record.hudu_id}")
        if "hudu_id" not in row:
            row["hudu_id"] = int(doc_id)
    for doc_id, row in (data.get(FAQLISTS) or {}).items():
        if not isinstance(row.get("third_party_id"), str) or type(row.get("halo_id")) is not int:
            raise bad(f"has a bad FAQ list row {doc_id}")
