"""The mapping file on disk: a TinyDB storage that replaces the file atomically, and a
write-back cache in front of it.

Crash safety: `AtomicJSONStorage` writes a temp file in the same folder, fsyncs it, keeps the
previous file as ``<db>.bak`` (a hard link, so it costs no copy) and moves the new file in place
with `os.replace`, then fsyncs the folder. A SIGKILL at any moment leaves either the old or the
new file, never a torn one.

Cost: TinyDB rewrites the whole database on every table operation. `WriteBackCache` keeps the
tables in memory and writes only when flushed, so a batch of 5,000 rows is one file write
(rewriting the file per row would make a first sync quadratic: 5,000 single inserts take about
50 s with TinyDB's own storage).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from core.errors import StoreError

REBUILD_HINT = (
    "move it aside and run `hhsync sync --full` to rebuild the mapping from the Halo markers"
)

Tables = dict[str, dict[str, Any]]


def unreadable_message(path: Path, what: str) -> str:
    """One line: where the file is, what is wrong, and what to do (mentions ``.bak`` if any)."""
    backup = path.with_name(path.name + ".bak")
    tail = f" (the previous version is kept in {backup})" if backup.exists() else ""
    return f"{path} {what}: {REBUILD_HINT}{tail}"


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

    def remove_stale_temp_files(self) -> None:
        """Temp files a killed writer left behind; only for the process that owns the file."""
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()

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


class WriteBackCache(Storage):
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
