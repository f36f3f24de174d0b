"""Article bodies kept in a temporary file between reading Hudu and writing to Halo, so a pass
over 50,000 articles does not hold a gigabyte of HTML (twice: Hudu's, then the rendered one).

The file is private (created unlinked, mode 0600) in the mapping file's folder (disk, not a
RAM-backed /tmp), and lives as long as the pass; reading one body back is a read from the page
cache. A full pass over 50,000 articles of 20 KB spools about 2 GB.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CLOSED_BY_A_THREAD = 64 * 1024 * 1024
"""A spool this big is let go by a thread: the file system freeing the ~2 GB of a full pass over
50,000 articles held the event loop (and an embedded dashboard) ~1.8 s at the end of the pass."""


class BodySpool:
    """An append-only file of UTF-8 texts, each read back by its `Spooled` handle."""

    closed_by_a_thread = CLOSED_BY_A_THREAD

    def __init__(self, folder: Path | None = None) -> None:
        """In `folder` if it exists (a dry run on a new install has none yet), else the
        system's temporary folder."""
        where = folder if folder is not None and folder.is_dir() else None
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=where)  # noqa: SIM115 (the pass's)
        self._end = 0

    def put(self, text: str) -> Spooled:
        data = text.encode("utf-8", "surrogatepass")
        self._file.seek(self._end)
        self._file.write(data)
        digest = hashlib.blake2b(data, digest_size=16).digest()
        spooled = Spooled(self, self._end, len(data), digest)
        self._end += len(data)
        return spooled

    def read(self, offset: int, length: int) -> str:
        self._file.seek(offset)
        return self._file.read(length).decode("utf-8", "surrogatepass")

    def close(self) -> None:
        if self._end < self.closed_by_a_thread:
            self._file.close()
        else:  # nothing reads it any more: the pass is over
            threading.Thread(target=self._file.close, name="spool-close", daemon=True).start()


@dataclass(frozen=True, slots=True)
class Spooled:
    """Where one text is in a spool."""

    spool: BodySpool
    offset: int
    length: int
    digest: bytes
    """blake2b-128 of the text's UTF-8 (`core.render_cache.digest`)."""

    def text(self) -> str:
        return self.spool.read(self.offset, self.length)
