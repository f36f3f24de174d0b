"""Files of the writes to come, downloaded from Hudu ahead of their batches (`FilePrefetch`).

Halo takes 300 requests per rolling 5 minutes, so a large first sync writes in bursts: a
window's worth, then a wait for the window to slide. Downloading a write's files only when its
batch is packed puts every download inside those bursts, where Hudu's 300 a minute then sets
their pace, and leaves Hudu idle between them. The prefetcher downloads the files of the writes
in the order they will be sent, a few at a time, as far ahead as a budget of bytes allows; the
writer packs the writes that are ready (no files, or their files here) and passes over one
whose files are still on their way (`core.batching`).

What waits is kept in private temporary files in the mapping file's folder (in memory while
small), one per file, so the disk it takes is the budget's, not the pass's.
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from core.errors import AuthError
from core.hudu import HuduClient
from core.models import HuduUpload

PREFETCH_BYTES = 128 * 1024 * 1024
"""The most downloaded and not yet sent (Hudu's listed sizes; a file larger goes alone)."""
PREFETCH_FILES = 256
"""The most files waiting at once (each an open temporary file once past `IN_MEMORY_BYTES`)."""
PREFETCH_CONCURRENCY = 4
IN_MEMORY_BYTES = 64 * 1024
"""A file smaller waits in memory (at most `PREFETCH_FILES` of them: 16 MB), a larger on disk."""


@dataclass(slots=True)
class _Download:
    """One file, downloaded or failed."""

    size: int
    kept: IO[bytes] | None = None
    error: Exception | None = None

    def read(self) -> bytes:
        if self.error is not None:
            raise self.error
        assert self.kept is not None
        self.kept.seek(0)
        data = self.kept.read()
        self.kept.close()
        return data

    def discard(self) -> None:
        if self.kept is not None:
            self.kept.close()


class FilePrefetch:
    """Downloads the files of `uploads` (in send order) ahead of the writer asking for them."""

    def __init__(
        self,
        hudu: HuduClient,
        uploads: Iterable[HuduUpload],
        *,
        max_bytes: int,
        folder: Path | None = None,
        budget: int = PREFETCH_BYTES,
        most_files: int = PREFETCH_FILES,
    ) -> None:
        self.hudu = hudu
        self.max_bytes = max_bytes
        self.folder = str(folder) if folder is not None and folder.is_dir() else None
        self.budget = budget
        self.most_files = most_files
        self._order: deque[HuduUpload] = deque(uploads)
        self._started: dict[int, asyncio.Future[_Download]] = {}
        self._asked: set[int] = set()
        self._held = 0
        self._room = asyncio.Condition()
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._releases: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ the writer's side
    def start(self) -> None:
        if self._order and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def ready(self, uploads: Iterable[HuduUpload]) -> bool:
        """Whether every one of `uploads` is downloaded (or failed: the writer then learns why),
        or will not be (asked for already, or prefetching stopped): the writer downloads it."""
        stopped = self._task is None or self._task.done()
        for upload in uploads:
            started = self._started.get(upload.id)
            if started is None:
                if not (stopped or upload.id in self._asked):
                    return False
            elif not started.done():
                return False
        return True

    def coming(self) -> bool:
        """Whether a download is under way (so `arrival` will come)."""
        return any(not started.done() for started in self._started.values())

    async def arrival(self) -> None:
        """Wait until one more file is downloaded (at once when none is under way)."""
        if not self.coming():
            return
        self._arrived.clear()
        await self._arrived.wait()

    async def data(self, upload: HuduUpload) -> bytes:
        """The file's bytes: the prefetched ones once (then let go), else downloaded now.
        A download that failed raises here, as it would have in the writer."""
        self._asked.add(upload.id)
        started = self._started.pop(upload.id, None)
        if started is None:
            return await self.hudu.download_upload(upload.id, max_bytes=self.max_bytes)
        download = await asyncio.shield(started)
        await self._release(download.size)
        return download.read()

    def let_go(self, uploads: Iterable[HuduUpload]) -> None:
        """The files of writes that will not be sent (unlinked while they waited, an image that
        could not be copied): not downloaded now, and what was (or is on its way) is let go at
        once, not held against the budget until the pass ends."""
        for upload in uploads:
            self._asked.add(upload.id)
            started = self._started.pop(upload.id, None)
            if started is not None:
                started.add_done_callback(self._discard)

    def _discard(self, started: asyncio.Future[_Download]) -> None:
        if started.cancelled():
            return
        download = started.result()
        download.discard()
        release = asyncio.get_running_loop().create_task(self._release(download.size))
        self._releases.add(release)
        release.add_done_callback(self._releases.discard)

    async def close(self) -> None:
        """Stop downloading and let go of what was not asked for."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for started in self._started.values():
            if started.done() and not started.cancelled():
                started.result().discard()
        self._started.clear()
        self._order.clear()

    # ------------------------------------------------------------ downloading
    async def _run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(PREFETCH_CONCURRENCY):
                group.create_task(self._download_next())

    async def _download_next(self) -> None:
        while self._order:
            upload = self._order.popleft()
            if upload.id in self._started or upload.id in self._asked:
                continue
            size = min(max(upload.size, 0), self.max_bytes)
            async with self._room:
                await self._room.wait_for(functools.partial(self._fits, size))
                self._held += size
            started: asyncio.Future[_Download] = asyncio.get_running_loop().create_future()
            self._started[upload.id] = started
            download = _Download(size)
            try:
                download.kept = self._keep(
                    await self.hudu.download_upload(upload.id, max_bytes=self.max_bytes)
                )
            except asyncio.CancelledError:
                started.cancel()  # stopped mid-download (the writes ended)
                raise
            except AuthError as exc:  # every other download would be refused as well
                download.error = exc
                self._order.clear()
            except Exception as exc:  # raised again to the writer (`data`)
                download.error = exc
            started.set_result(download)
            self._arrived.set()

    def _fits(self, size: int) -> bool:
        waiting = sum(1 for s in self._started.values() if s.done())
        return self._held == 0 or (self._held + size <= self.budget and waiting < self.most_files)

    def _keep(self, data: bytes) -> IO[bytes]:
        kept = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES, dir=self.folder)  # noqa: SIM115
        kept.write(data)
        return kept

    async def _release(self, size: int) -> None:
        async with self._room:
            self._held -= size
            self._room.notify_all()
