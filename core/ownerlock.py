"""One process owns the mapping file: an OS lock that names its holder.

The lock is ``<db>.lock`` (filelock), taken without waiting; the holder's pid goes in
``<db>.pid`` so the process that is refused can say who holds it. The OS drops the lock when
the holder dies, however it dies.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

from filelock import FileLock, Timeout

from core.errors import StoreError, StoreLockedError


class OwnerLock:
    """The lock of the file at `path` (the lock and pid files sit next to it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self.pid_path = path.with_name(path.name + ".pid")
        self._lock: FileLock | None = None

    def acquire(self) -> None:
        """Take the lock and write our pid, or raise at once: `StoreLockedError` naming the
        holder, `StoreError` when the folder or the lock cannot be made."""
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
        self._lock = lock
        try:
            self._write_pid()
        except OSError as exc:
            self.release()
            raise StoreError(f"{self.path} cannot be opened: {exc.strerror or exc}") from None
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """Remove our pid file and release the lock (nothing if not held)."""
        if self._lock is None:
            return
        with contextlib.suppress(OSError, ValueError):
            if int(self.pid_path.read_text().strip()) == os.getpid():
                self.pid_path.unlink()
        self._lock.release()
        self._lock = None

    def _write_pid(self) -> None:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{os.getpid()}\n")
        os.replace(tmp, self.pid_path)

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
