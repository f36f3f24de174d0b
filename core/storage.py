"""The mapping file on disk: an atomic JSON snapshot and an append-only journal beside it.

Snapshot (``<db>``): the TinyDB JSON layout, replaced atomically by `AtomicJSONStorage`: a temp
file in the same folder, fsynced, the previous file kept as ``<db>.bak`` (a hard link, so it
costs no copy), moved in place with `os.replace`, then the folder fsynced. A SIGKILL at any
moment leaves either the old or the new snapshot, never a torn one.

Journal (``<db>.journal``): one JSON line per store write, holding only what that write changed
(rows, removals, meta, FAQ lists, a run), with a sequence number; appended and fsynced before
the write returns, so a write costs what it changes, not the size of the file (a whole-file
rewrite at 50,000 rows is 35 MB and half a second). A line a SIGKILL cut short has no newline
and was never acknowledged: it is ignored, and cut off before anything is appended after it.
Any other bad line makes the file fail to load (it is then never overwritten).

Compaction folds the journal into a new snapshot that records the last sequence it holds
(``journal_seq`` in meta); the journal is rotated to ``<db>.journal.old`` first so writes go on
meanwhile, and removed once the snapshot is in place. Loading replays every line of
``.journal.old`` then ``.journal`` whose sequence is above the snapshot's.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import StoreError

REBUILD_HINT = (
    "move it aside and run `hhsync sync --full` to rebuild the mapping from the Halo markers"
)
CHUNK_ROWS = 2_000
"""Rows serialised per chunk of a snapshot: each C call (join, encode, write) stays short, so a
snapshot written by a background thread never holds the interpreter lock for long."""

Tables = dict[str, dict[str, Any]]
RowForm = Callable[[Any], Any]
"""A table's row as held in memory → its JSON object."""


def unreadable_message(path: Path, what: str) -> str:
    """One line: where the file is, what is wrong, and what to do (mentions ``.bak`` if any)."""
    backup = path.with_name(path.name + ".bak")
    tail = f" (the previous version is kept in {backup})" if backup.exists() else ""
    return f"{path} {what}: {REBUILD_HINT}{tail}"


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept: the one encoding of the snapshot and the journal."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def row_text(doc_id: str, row: Any) -> str:
    return f"{dumps(doc_id)}:{dumps(row)}"


class AtomicJSONStorage:
    """The snapshot file: `read` it (a `StoreError` for a file that is not a JSON object; it
    never touches the file) or replace it atomically with `write`.

    Rows of the tables named in `row_forms` are held in another form (the store's compact
    article rows) and written as the JSON object their form gives.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        read_only: bool = False,
        row_forms: Mapping[str, RowForm] | None = None,
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.write_count = 0
        self.bytes_written = 0
        self.row_forms = dict(row_forms or {})

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

    def write(self, data: Tables) -> int:
        """Replace the file with `data` (temp, fsync, backup link, replace, folder fsync);
        the bytes written."""
        if self.read_only:
            raise StoreError(f"{self.path} was opened read-only (a snapshot); it cannot be written")
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        tmp = Path(tmp_name)
        size = 0
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in self._serialise(data):
                    body = chunk.encode("utf-8")
                    handle.write(body)
                    size += len(body)
                handle.flush()
                os.fsync(handle.fileno())
            self._keep_backup()
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise StoreError(f"could not write {self.path}: {exc.strerror or exc}") from None
        fsync_dir(folder)
        self.write_count += 1
        self.bytes_written += size
        return size

    def remove_stale_temp_files(self) -> None:
        """Temp files a killed writer left behind; only for the process that owns the file."""
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()

    def _serialise(self, data: Tables) -> Iterator[str]:
        """The text of ``json.dumps(data)`` (compact) in chunks, rows of `row_forms` tables
        as their JSON objects."""
        yield "{"
        for number, (name, table) in enumerate(data.items()):
            comma = "," if number else ""
            form = self.row_forms.get(name)
            if form is None or not isinstance(table, dict):
                yield f"{comma}{dumps(name)}:{dumps(table)}"
                continue
            yield f"{comma}{dumps(name)}:{{"
            rows: list[str] = []
            first = True
            for doc_id, row in table.items():
                rows.append(row_text(doc_id, form(row)))
                if len(rows) >= CHUNK_ROWS:
                    yield ("" if first else ",") + ",".join(rows)
                    rows, first = [], False
            if rows:
                yield ("" if first else ",") + ",".join(rows)
            yield "}"
        yield "}"

    def _keep_backup(self) -> None:
        """Point ``<db>.bak`` at the current file (a hard link: no copy, replaced atomically)."""
        if not self.path.exists():
            return
        link = self.path.with_name(f".{self.path.name}.{os.getpid()}-{time.monotonic_ns()}.tmp")
        try:
            os.link(self.path, link)
            os.replace(link, self.backup_path)
        except OSError:
            pass
        # Left when the backup already was this file (a rename between two links of one
        # file does nothing), or when the replace failed.
        with contextlib.suppress(OSError):
            link.unlink()


def fsync_dir(folder: Path) -> None:
    """Make a rename durable across power loss (POSIX only; a no-op where unsupported)."""
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


@dataclass(slots=True)
class JournalRead:
    """The lines of one journal file: decoded entries, the length of the whole lines, and
    whether a torn (unacknowledged) last line follows them."""

    entries: list[dict[str, Any]]
    good_bytes: int
    torn: bool


class Journal:
    """The append-only file of store writes (`path`, and `old_path` while being compacted).

    An append is fsynced at once, or (`sync=False`) by the next `sync`, which may run in
    another thread: a slow disk's fsync (seconds, seen here) then holds that thread, not the
    caller's event loop. A file is never let go with lines not yet fsynced."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".journal")
        self.old_path = db_path.with_name(db_path.name + ".journal.old")
        self._fd: int | None = None
        self._unsynced = False
        self._sync_lock = threading.Lock()
        """Held while the file is fsynced or let go, so that neither meets a closed file."""
        self.write_count = 0
        self.bytes_written = 0

    def exists(self) -> bool:
        return self.path.exists() or self.old_path.exists()

    def size(self) -> int:
        total = 0
        for path in (self.old_path, self.path):
            with contextlib.suppress(OSError):
                total += path.stat().st_size
        return total

    def read_all(self, db_path: Path) -> list[dict[str, Any]]:
        """The entries of ``.journal.old`` then ``.journal``, torn last lines left out."""
        entries: list[dict[str, Any]] = []
        for path in (self.old_path, self.path):
            entries += read_journal(path, db_path).entries
        return entries

    def append(self, line: str, *, sync: bool = True) -> int:
        """Append one line (ending in a newline) and fsync it (or leave that to `sync`); the
        bytes written."""
        data = line.encode("utf-8")
        try:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                existed = self.path.exists()
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                if not existed:
                    fsync_dir(self.path.parent)
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            self._unsynced = True
            if sync:
                with self._sync_lock:
                    self._sync_held()
        except OSError as exc:
            self.close()
            raise StoreError(f"could not write {self.path}: {exc.strerror or exc}") from None
        self.write_count += 1
        self.bytes_written += len(data)
        return len(data)

    def sync(self) -> None:
        """fsync what was appended since the last time (any thread)."""
        try:
            with self._sync_lock:
                self._sync_held()
        except OSError as exc:
            raise StoreError(f"could not write {self.path}: {exc.strerror or exc}") from None

    def _sync_held(self) -> None:
        if self._fd is None or not self._unsynced:
            return
        self._unsynced = False  # an append from now on is fsynced by this or the next time
        try:
            os.fsync(self._fd)
        except OSError:
            self._unsynced = True
            raise

    def cut_torn_tail(self, db_path: Path) -> None:
        """Drop an unacknowledged last line, so that what is appended next starts a line."""
        found = read_journal(self.path, db_path)
        if found.torn:
            with open(self.path, "r+b") as handle:
                handle.truncate(found.good_bytes)
                handle.flush()
                os.fsync(handle.fileno())

    def rotate(self) -> None:
        """The current journal becomes ``.journal.old``; the next append starts a new one."""
        self.close()
        if self.path.exists():
            os.replace(self.path, self.old_path)
            fsync_dir(self.path.parent)

    def remove_old(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.old_path.unlink()

    def remove_all(self) -> None:
        self.close()
        for path in (self.path, self.old_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        fsync_dir(self.path.parent)

    def close(self) -> None:
        with self._sync_lock:
            if self._fd is None:
                return
            with contextlib.suppress(OSError):
                self._sync_held()
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
            self._unsynced = False


def read_journal(path: Path, db_path: Path) -> JournalRead:
    """Decode a journal file. A last line without its newline is torn (never acknowledged) and
    left out; any other line that is not a JSON object with a whole-number ``seq`` makes the
    mapping file fail to load."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return JournalRead([], 0, False)
    except OSError as exc:
        raise StoreError(f"{path} cannot be read: {exc.strerror or exc}") from None
    end = raw.rfind(b"\n") + 1
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(raw[:end].splitlines(), start=1):
        try:
            entry = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            entry = None
        if not isinstance(entry, dict) or type(entry.get("seq")) is not int:
            raise StoreError(unreadable_message(db_path, f"has a bad journal line {number}"))
        entries.append(entry)
    return JournalRead(entries, end, end < len(raw))


def journal_line(
    seq: int,
    rows: Mapping[str, str],
    *,
    removed: Iterable[int] = (),
    meta: Mapping[str, Any] | None = None,
    faqlists: Mapping[str, int] | None = None,
    run: Mapping[str, Any] | None = None,
) -> str:
    """One journal line; `rows` are ready ``"id":{...}`` texts (reused by snapshots)."""
    parts = [f'"seq":{seq}']
    if rows:
        parts.append('"articles":{' + ",".join(rows.values()) + "}")
    removed = list(removed)
    if removed:
        parts.append(f'"removed":{dumps(removed)}')
    if meta:
        parts.append(f'"meta":{dumps(dict(meta))}')
    if faqlists:
        parts.append(f'"faqlists":{dumps(dict(faqlists))}')
    if run is not None:
        parts.append(f'"run":{dumps(dict(run))}')
    return "{" + ",".join(parts) + "}\n"
