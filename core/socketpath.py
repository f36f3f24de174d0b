"""Where the service's control socket lives: derived from the mapping file, so every hhsync
command using the same HHSYNC_DB finds it with no other setting (HHSYNC_SOCKET overrides)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def socket_path(db_path: Path, override: Path | str | None = None) -> Path:
    if override:
        return Path(override)
    digest = hashlib.sha256(str(Path(db_path).expanduser().resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"hhsync-{os.getuid()}" / f"{digest}.sock"
